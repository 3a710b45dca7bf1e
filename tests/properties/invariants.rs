//! The invariants checked by the property tests (this folder): each `check_*` function takes
//! any input and panics when vaultplate breaks an invariant on it. Panics, aborts and runaway
//! allocations inside vaultplate are findings too. The functions depend only on the public
//! library, so cargo-fuzz targets can include this file by path (`#[path]`) and drive them
//! with raw bytes.

use std::collections::HashMap;
use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use vaultplate::placeholder::modifier::Modifier;
use vaultplate::placeholder::{self, Mode, ParseError, Reference, Segment};
use vaultplate::render::kustomize;
use vaultplate::render::kustomize::params::{Image, KustomizeParams};
use vaultplate::yaml::edit::{self, Edit, Replacement};
use vaultplate::yaml::value::{MAX_ALIAS_EXPANSION, to_json};
use vaultplate::yaml::{self, Node, NodeKind, ScalarStyle};

// ---------------------------------------------------------------------------------------------
// (a) The placeholder grammar

/// `placeholder::parse` in both modes:
///
/// - a string without `<` is left as is;
/// - placeholders lie in the text in order, each from a `<` to a `>` on character boundaries,
///   and the literal segments plus the placeholders' own text give back the input with only
///   escaping backslashes (each right before a `<`) removed;
/// - references are trimmed and well-formed (non-empty path and key, no `#`, `|` or `>` in
///   them, generic keys `[A-Za-z0-9_][A-Za-z0-9_.-]*`, only inline ones in inline mode);
/// - every modifier prints as text that parses back to the same modifier;
/// - errors are positioned on a `<` of the input, with a message;
/// - generic mode only adds forms: inline placeholders and errors are the same in both modes.
pub(crate) fn check_placeholder_grammar(text: &str) {
    let inline = placeholder::parse(text, Mode::InlineOnly);
    let generic = placeholder::parse(text, Mode::InlineAndGeneric);
    check_parse_outcome(text, Mode::InlineOnly, &inline);
    check_parse_outcome(text, Mode::InlineAndGeneric, &generic);
    match (&inline, &generic) {
        (Ok(i), Ok(g)) => assert_eq!(
            inline_placeholders(i.as_deref()),
            inline_placeholders(g.as_deref()),
            "inline placeholders differ between the modes in {text:?}"
        ),
        (Err(i), Err(g)) => {
            for error in i {
                assert!(
                    g.contains(error),
                    "inline-mode error {error:?} missing in generic mode for {text:?}"
                );
            }
        }
        (Err(i), Ok(_)) => panic!("only inline mode fails ({i:?}) on {text:?}"),
        (Ok(_), Err(_)) => {} // a bad generic placeholder
    }
}

type Outcome = Result<Option<Vec<Segment>>, Vec<ParseError>>;

fn check_parse_outcome(text: &str, mode: Mode, outcome: &Outcome) {
    let context = format!("{mode:?} {text:?}");
    if !text.contains('<') {
        assert!(
            matches!(outcome, Ok(None)),
            "{context}: no `<` but {outcome:?}"
        );
    }
    match outcome {
        Ok(None) => {}
        Ok(Some(segments)) => check_segments(text, mode, segments, &context),
        Err(errors) => {
            assert!(
                !errors.is_empty(),
                "{context}: an error list without errors"
            );
            let mut previous_end = 0;
            for error in errors {
                check_span(text, &error.span, previous_end, &context);
                previous_end = error.span.end;
                assert!(!error.message.is_empty(), "{context}: empty message");
            }
        }
    }
}

fn check_span(text: &str, span: &Range<usize>, previous_end: usize, context: &str) {
    assert!(
        previous_end <= span.start && span.start < span.end && span.end <= text.len(),
        "{context}: span {span:?} out of order or out of bounds"
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{context}: span {span:?} not on character boundaries"
    );
    assert!(
        text[span.start..].starts_with('<'),
        "{context}: span {span:?} does not start at a `<`"
    );
}

fn check_segments(text: &str, mode: Mode, segments: &[Segment], context: &str) {
    assert!(!segments.is_empty(), "{context}: Some(empty segments)");
    let mut rebuilt = String::new();
    let mut previous_end = 0;
    let mut previous_was_text = false;
    let mut placeholders = 0;
    for segment in segments {
        match segment {
            Segment::Text(literal) => {
                assert!(!literal.is_empty(), "{context}: an empty text segment");
                assert!(!previous_was_text, "{context}: adjacent text segments");
                previous_was_text = true;
                rebuilt.push_str(literal);
            }
            Segment::Placeholder(p) => {
                previous_was_text = false;
                placeholders += 1;
                check_span(text, &p.span, previous_end, context);
                previous_end = p.span.end;
                let written = &text[p.span.clone()];
                assert!(
                    written.ends_with('>'),
                    "{context}: {written:?} is not closed"
                );
                rebuilt.push_str(written);
                check_reference(&p.reference, mode, context);
                for modifier in &p.modifiers {
                    let printed = modifier.to_string();
                    let again = Modifier::parse(&printed).unwrap_or_else(|e| {
                        panic!("{context}: {printed:?} does not re-parse: {e}")
                    });
                    assert_eq!(
                        again.to_string(),
                        printed,
                        "{context}: modifier text unstable"
                    );
                }
            }
        }
    }
    assert!(
        removes_only_escapes(text, &rebuilt),
        "{context}: segments {rebuilt:?} are not the input with escapes removed"
    );
    if placeholders == 0 {
        assert_ne!(rebuilt, text, "{context}: Some(segments) without a change");
    }
}

/// Whether `rebuilt` is `original` with some backslashes that stand right before a `<` removed.
fn removes_only_escapes(original: &str, rebuilt: &str) -> bool {
    let (original, rebuilt) = (original.as_bytes(), rebuilt.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < original.len() {
        if j < rebuilt.len() && original[i] == rebuilt[j] {
            j += 1;
        } else if !(original[i] == b'\\' && original.get(i + 1) == Some(&b'<')) {
            return false;
        }
        i += 1;
    }
    j == rebuilt.len()
}

fn check_reference(reference: &Reference, mode: Mode, context: &str) {
    let well_formed =
        |part: &str| !part.is_empty() && part.trim() == part && !part.contains(['#', '|', '>']);
    match reference {
        Reference::Inline { path, key, .. } => {
            assert!(
                well_formed(path) && !path.contains(" /") && !path.contains("/ "),
                "{context}: path {path:?}"
            );
            assert!(well_formed(key), "{context}: key {key:?}");
        }
        Reference::Generic { key } => {
            assert_eq!(
                mode,
                Mode::InlineAndGeneric,
                "{context}: generic key in inline mode"
            );
            let mut bytes = key.bytes();
            assert!(
                bytes
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')),
                "{context}: generic key {key:?}"
            );
        }
    }
}

/// The inline placeholders of a parse, comparable across modes.
fn inline_placeholders(segments: Option<&[Segment]>) -> Vec<String> {
    segments
        .unwrap_or_default()
        .iter()
        .filter_map(|segment| match segment {
            Segment::Placeholder(p) if matches!(p.reference, Reference::Inline { .. }) => {
                let modifiers: Vec<String> = p.modifiers.iter().map(ToString::to_string).collect();
                Some(format!("{:?} {:?} {modifiers:?}", p.span, p.reference))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// (b) The modifiers

/// Parses a modifier chain and applies it to a value, as a placeholder does.
///
/// `input` is `CHAIN` or `CHAIN\0VALUE`: the chain is `|`-separated modifiers; the value is text,
/// or a typed JSON value when it starts with `=`. Invariants: no panic; every step's result
/// stays within a bound of its input's size; no error message holds the value, nor any
/// intermediate value, nor their base64.
pub(crate) fn check_modifier_chain(input: &str) {
    let (chain, value) = input.split_once('\0').unwrap_or((input, ""));
    let value = match value.strip_prefix('=') {
        Some(json) => match serde_json::from_str(json) {
            Ok(typed) => typed,
            Err(_) => return,
        },
        None => Value::String(value.to_owned()),
    };
    let Ok(modifiers) = chain
        .split('|')
        .map(Modifier::parse)
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    for modifier in &modifiers {
        assert!(
            indent_count(modifier) <= vaultplate::placeholder::modifier::MAX_COUNT,
            "`{modifier}` parsed with a count above the cap"
        );
    }
    let mut seen = Vec::new();
    let mut value = value;
    for modifier in &modifiers {
        if let Value::String(text) = &value {
            seen.push(text.clone());
        }
        let before = value.clone();
        match modifier.apply(value) {
            Ok(after) => {
                let (size, limit) = (size_of(&after), size_limit(modifier, &before));
                assert!(
                    size <= limit,
                    "`{modifier}` made {size} bytes of a {}-byte value (limit {limit})",
                    size_of(&before)
                );
                value = after;
            }
            Err(error) => {
                let message = error.to_string();
                for text in seen.iter().filter(|text| secret_like(text, chain)) {
                    assert!(
                        !message.contains(text.as_str()) && !message.contains(&BASE64.encode(text)),
                        "`{modifier}`'s error {message:?} shows the value {text:?}"
                    );
                }
                return;
            }
        }
    }
}

/// The N of an `indent N` modifier (0 for other modifiers).
fn indent_count(modifier: &Modifier) -> usize {
    modifier
        .to_string()
        .strip_prefix("indent ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A value whose appearance in a message could not be a coincidence: long enough, with a
/// character messages do not use, and not part of what the chain itself says.
fn secret_like(text: &str, chain: &str) -> bool {
    text.chars().count() >= 8
        && text
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == ' '))
        && !chain.contains(text)
}

/// The size of a value: its text, or its JSON.
fn size_of(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        other => other.to_string().len(),
    }
}

/// How large the result of `modifier` on `before` may be.
fn size_limit(modifier: &Modifier, before: &Value) -> usize {
    let size = size_of(before);
    match modifier.name {
        "base64encode" => size.div_ceil(3) * 4,
        "base64decode" => size,
        "sha256sum" => 64,
        "indent" => size + indent_count(modifier) * size,
        // Numbers may print longer than written (`1e15` is `1000000000000000.0`).
        "jsonParse" => 20 * size + 32,
        // Aliases may copy up to MAX_ALIAS_EXPANSION nodes: allow a small line for each.
        "yamlParse" => 20 * size + 32 * MAX_ALIAS_EXPANSION,
        // A template's literal text may repeat once per element a `{range}` visits: the
        // evaluator's output cap is the bound.
        _ => vaultplate::placeholder::jsonpath::MAX_OUTPUT_BYTES,
    }
}

// ---------------------------------------------------------------------------------------------
// (c) YAML parse and edit

/// [`check_yaml_edit`] on raw bytes, as the `yaml_edit` fuzz target gets them: the first eight
/// (little-endian) choose the edits, the rest is the text (inputs that are not UTF-8 are
/// skipped).
pub(crate) fn check_yaml_edit_bytes(data: &[u8]) {
    let (choice, text) = data.split_at(data.len().min(8));
    let mut bytes = [0u8; 8];
    bytes[..choice.len()].copy_from_slice(choice);
    if let Ok(text) = std::str::from_utf8(text) {
        check_yaml_edit(u64::from_le_bytes(bytes), text);
    }
}

/// Parses `text` as a YAML stream, replaces value scalars (those that hold a placeholder, and
/// others chosen by `choice`) with strings and typed values chosen by `choice`, and checks that:
///
/// - every edit of a scalar the parser reported is accepted;
/// - the new stream parses, into the same number of documents of the same shape, where every
///   replaced scalar reads back as its new value, and every other node (keys included) reads as
///   before and is written with the same bytes;
/// - the bytes between the replaced scalars are identical (after a block scalar, up to the
///   blank lines right after it, which the new block may keep or drop).
pub(crate) fn check_yaml_edit(choice: u64, text: &str) {
    let Ok(documents) = yaml::parse_stream(text) else {
        return;
    };
    let mut previous_end = 0;
    for document in &documents {
        let range = &document.range;
        assert!(
            previous_end <= range.start
                && range.start <= range.end
                && range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end),
            "document range {range:?} out of order, bounds or character boundaries in {text:?}"
        );
        previous_end = range.end;
    }
    let mut picker = Picker(choice);
    let mut output = String::new();
    let mut replaced: HashMap<(usize, usize), Replacement> = HashMap::new();
    let mut at = 0;
    for document in &documents {
        let mut scalars = Vec::new();
        if let Some(root) = &document.root {
            value_scalars(root, &mut scalars);
        }
        let mut edits = Vec::new();
        for node in scalars {
            let NodeKind::Scalar { value, style, .. } = &node.kind else {
                continue;
            };
            let holds_placeholder = matches!(
                placeholder::parse(value, Mode::InlineAndGeneric),
                Ok(Some(_))
            );
            if node.span.is_empty() || !(holds_placeholder || picker.next().is_multiple_of(3)) {
                continue;
            }
            let with = picker.replacement(value);
            replaced.insert((node.span.start, node.span.end), with.clone());
            edits.push(Edit::Scalar {
                span: node.span.clone(),
                style: *style,
                with,
            });
        }
        let new = if edits.is_empty() {
            text[document.range.clone()].to_owned()
        } else {
            edit::apply(text, document.range.clone(), edits)
                .unwrap_or_else(|e| panic!("edit refused: {e} in {text:?}"))
        };
        output.push_str(&text[at..document.range.start]);
        output.push_str(&new);
        at = document.range.end;
    }
    output.push_str(&text[at..]);
    if replaced.is_empty() {
        assert_eq!(output, text);
        return;
    }
    let context = format!("{text:?} edited to {output:?}");
    let again = yaml::parse_stream(&output)
        .unwrap_or_else(|e| panic!("the edited stream does not parse ({e}): {context}"));
    assert_eq!(
        again.len(),
        documents.len(),
        "document count changed: {context}"
    );
    let mut pairs = Pairs {
        old: text,
        new: &output,
        replaced: &replaced,
        edited: Vec::new(),
        context: &context,
    };
    for (old, new) in documents.iter().zip(&again) {
        match (&old.root, &new.root) {
            (Some(old), Some(new)) => pairs.compare(old, new),
            (None, None) => {}
            _ => panic!("a document gained or lost its content: {context}"),
        }
    }
    check_gaps(pairs.edited, text, &output, &context);
}

/// The scalars a placeholder can be in: mapping values and sequence items, at any depth.
fn value_scalars<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    match &node.kind {
        NodeKind::Scalar { .. } => out.push(node),
        NodeKind::Mapping(entries) => entries.iter().for_each(|(_, v)| value_scalars(v, out)),
        NodeKind::Sequence(items) => items.iter().for_each(|item| value_scalars(item, out)),
        NodeKind::Alias(_) => {}
    }
}

/// Choices driven by one number (a small xorshift generator).
struct Picker(u64);

impl Picker {
    fn next(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x >> 8
    }

    fn replacement(&mut self, old: &str) -> Replacement {
        const STRINGS: &[&str] = &[
            "",
            "s3cr3t",
            "yes",
            "0644",
            "~",
            "- a",
            "a: b",
            "#x",
            " lead",
            "trail ",
            "two\nlines",
            "two\nlines\n",
            "kept\n\n\n",
            "\n\nlead",
            "  indented\n  lines\n",
            "\ttab\n",
            "crlf\r\nline",
            "é😀\u{85}\u{2028}",
            "---\n...\n",
            "a\0b\u{1b}",
            "\"'\\",
            "-----BEGIN X-----\nAAAA\n-----END X-----\n",
        ];
        let n = self.next();
        match n % 8 {
            0 => Replacement::Typed(self.typed()),
            1 => Replacement::Str(old.replace('<', "«")),
            2 => Replacement::Str(format!("{old}\n{old}\n")),
            _ => Replacement::Str(STRINGS[(n / 8) as usize % STRINGS.len()].to_owned()),
        }
    }

    fn typed(&mut self) -> Value {
        let n = self.next();
        match n % 9 {
            0 => json!(42),
            1 => json!(-1.5),
            2 => json!(1e20),
            3 => json!(true),
            4 => Value::Null,
            5 => json!({"a": [1, "x: y"], "b": {}}),
            6 => json!([]),
            7 => json!(u64::MAX),
            _ => json!("on"),
        }
    }
}

/// A walk over a document before and after editing, in step.
struct Pairs<'a> {
    old: &'a str,
    new: &'a str,
    replaced: &'a HashMap<(usize, usize), Replacement>,
    /// Each replaced scalar's span before and after, and whether it was a block scalar.
    edited: Vec<(Range<usize>, Range<usize>, bool)>,
    context: &'a str,
}

impl Pairs<'_> {
    fn compare(&mut self, old: &Node, new: &Node) {
        let context = self.context;
        assert_eq!(old.anchor, new.anchor, "anchor changed: {context}");
        if let Some(with) = self.replaced.get(&(old.span.start, old.span.end)) {
            self.check_replaced(old, new, with);
            return;
        }
        if !matches!(old.kind, NodeKind::Mapping(_) | NodeKind::Sequence(_)) {
            assert_eq!(
                &self.old[old.span.clone()],
                &self.new[new.span.clone()],
                "an unedited node is written differently: {context}"
            );
        }
        match (&old.kind, &new.kind) {
            (
                NodeKind::Scalar { value, style, tag },
                NodeKind::Scalar {
                    value: v,
                    style: s,
                    tag: t,
                },
            ) => assert!(
                value == v && style == s && tag == t,
                "an unedited scalar changed ({value:?} to {v:?}): {context}"
            ),
            (NodeKind::Mapping(old), NodeKind::Mapping(new)) if old.len() == new.len() => {
                for ((ok, ov), (nk, nv)) in old.iter().zip(new) {
                    self.compare(ok, nk);
                    self.compare(ov, nv);
                }
            }
            (NodeKind::Sequence(old), NodeKind::Sequence(new)) if old.len() == new.len() => {
                for (o, n) in old.iter().zip(new) {
                    self.compare(o, n);
                }
            }
            (NodeKind::Alias(old), NodeKind::Alias(new)) if old == new => {}
            _ => panic!("a node changed its shape: {context}"),
        }
    }

    fn check_replaced(&mut self, old: &Node, new: &Node, with: &Replacement) {
        let context = self.context;
        let NodeKind::Scalar { style, tag, .. } = &old.kind else {
            unreachable!("only scalars are replaced")
        };
        match with {
            Replacement::Str(s) => assert_eq!(
                new.as_scalar(),
                Some(s.as_str()),
                "a replaced scalar reads back differently: {context}"
            ),
            // A tag (`!!str`) decides the type, not the replacement.
            Replacement::Typed(value) if tag.is_none() => assert_eq!(
                &to_json(new),
                value,
                "a typed replacement reads back differently: {context}"
            ),
            Replacement::Typed(_) => {}
        }
        let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
        self.edited
            .push((old.span.clone(), new.span.clone(), block));
    }
}

/// Checks that the text between replaced scalars is the same before and after.
fn check_gaps(
    mut edited: Vec<(Range<usize>, Range<usize>, bool)>,
    old: &str,
    new: &str,
    context: &str,
) {
    edited.sort_by_key(|(old, _, _)| old.start);
    let (mut old_at, mut new_at, mut after_block) = (0, 0, false);
    let compare = |old_gap: &str, new_gap: &str, after_block: bool| {
        let trim = |gap: &'_ str| -> String {
            if after_block {
                gap.trim_start_matches([' ', '\t', '\r', '\n']).to_owned()
            } else {
                gap.to_owned()
            }
        };
        assert_eq!(
            trim(old_gap),
            trim(new_gap),
            "bytes outside the edited scalars changed: {context}"
        );
    };
    for (old_span, new_span, block) in edited {
        assert!(
            new_at <= new_span.start,
            "replaced scalars out of order: {context}"
        );
        compare(
            &old[old_at..old_span.start],
            &new[new_at..new_span.start],
            after_block,
        );
        (old_at, new_at, after_block) = (old_span.end, new_span.end, block);
    }
    compare(&old[old_at..], &new[new_at..], after_block);
}

// ---------------------------------------------------------------------------------------------
// (e) The kustomization editor

/// `render::kustomize::edit::edit` on any kustomization text (a repository author's) with any
/// parameters (an Application author's) either refuses, or gives a text that parses to the
/// same mapping with exactly the edited fields changed:
///
/// - the original fields keep their keys, order and values (the first of a repeated key
///   aside, which is the one edited);
/// - the only new fields are the edited ones, after the original ones (before them when the
///   text ends in a block scalar without a line break, which a line after it would change);
/// - every text a parameter gave reads back as that text, in the field it was meant for:
///   no value reaches the structure of the kustomization.
pub(crate) fn check_kustomization_edit(
    text: &str,
    params: &KustomizeParams,
    components: &[String],
) {
    let edited = kustomize::edit::edit(text, params, components);
    let Ok(original) = yaml::parse_stream(text) else {
        assert!(edited.is_err(), "edited text that does not parse: {text:?}");
        return;
    };
    let Ok(out) = edited else {
        return;
    };
    let context =
        format!("{text:?} with {params:?} and components {components:?} edited to {out:?}");
    let fields = edited_fields(params, components);
    if fields.is_empty() {
        assert_eq!(
            out, text,
            "nothing to edit, yet the text changed: {context}"
        );
        return;
    }
    let again = yaml::parse_stream(&out)
        .unwrap_or_else(|e| panic!("the edited kustomization does not parse ({e}): {context}"));
    let root = |documents: &[yaml::Document]| -> Vec<(Option<String>, Value)> {
        let mut with_content = documents.iter().filter_map(|d| d.root.as_ref());
        let root = with_content.next();
        assert!(
            with_content.next().is_none(),
            "more than one document: {context}"
        );
        match root.map(|r| &r.kind) {
            None => Vec::new(),
            Some(NodeKind::Mapping(entries)) => entries
                .iter()
                .map(|(k, v)| (k.as_scalar().map(str::to_owned), to_json(v)))
                .collect(),
            Some(_) => panic!("the edit was accepted on a root that is not a mapping: {context}"),
        }
    };
    let before = root(&original);
    let after = root(&again);
    assert!(after.len() >= before.len(), "fields were lost: {context}");
    // New fields go after the others, or before them when the text ends in a block scalar.
    let keys = |entries: &[(Option<String>, Value)]| {
        entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
    };
    let first_old = if keys(&after[..before.len()]) == keys(&before) {
        0
    } else {
        after.len() - before.len()
    };
    let (kept, added) = if first_old == 0 {
        (&after[..before.len()], &after[before.len()..])
    } else {
        (&after[first_old..], &after[..first_old])
    };
    let mut seen = Vec::new();
    for (old, new) in before.iter().zip(kept) {
        assert_eq!(old.0, new.0, "a field's key changed: {context}");
        let first = old.0.as_deref().is_some_and(|k| !seen.contains(&k));
        if let Some(key) = old.0.as_deref() {
            seen.push(key);
        }
        if !(first && old.0.as_deref().is_some_and(|k| fields.contains(&k))) {
            assert_eq!(
                old.1, new.1,
                "field {:?} changed though no parameter sets it: {context}",
                old.0
            );
        }
    }
    let added: Vec<&str> = added
        .iter()
        .map(|(k, _)| {
            k.as_deref()
                .unwrap_or_else(|| panic!("a field without a plain key was added: {context}"))
        })
        .collect();
    for key in &added {
        assert!(
            fields.contains(key) && !seen.contains(key),
            "field {key} was added: {context}"
        );
    }
    let value = |key: &str| {
        after
            .iter()
            .find(|(k, _)| k.as_deref() == Some(key))
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("field {key} is missing: {context}"))
    };
    for (key, given) in [
        ("namePrefix", &params.name_prefix),
        ("nameSuffix", &params.name_suffix),
        ("namespace", &params.namespace),
    ] {
        if let Some(given) = given {
            assert_eq!(value(key), &json!(given), "field {key}: {context}");
        }
    }
    let has_pairs = |map: &Value, pairs: &[(String, String)]| {
        pairs.iter().enumerate().all(|(i, (k, v))| {
            let last = pairs[i + 1..].iter().all(|(later, _)| later != k);
            !last || map.get(k) == Some(&json!(v))
        })
    };
    if !params.common_labels.is_empty() {
        if params.label_without_selector {
            let labels = value("labels")
                .as_array()
                .unwrap_or_else(|| panic!("labels: {context}"));
            assert!(
                labels.iter().any(|e| e
                    .get("pairs")
                    .is_some_and(|p| has_pairs(p, &params.common_labels))),
                "labels: {context}"
            );
        } else {
            assert!(
                has_pairs(value("commonLabels"), &params.common_labels),
                "commonLabels: {context}"
            );
        }
    }
    if !params.common_annotations.is_empty() {
        assert!(
            has_pairs(value("commonAnnotations"), &params.common_annotations),
            "commonAnnotations: {context}"
        );
    }
    let list = |key: &str| {
        value(key)
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{key} is not a list: {context}"))
    };
    if !components.is_empty() {
        let list = list("components");
        assert!(
            components.iter().all(|c| list.contains(&json!(c))),
            "components: {context}"
        );
    }
    if !params.patches.is_empty() {
        let list = list("patches");
        assert!(list.ends_with(&params.patches), "patches: {context}");
    }
    if !params.images.is_empty() {
        let list = list("images");
        for image in &params.images {
            assert!(
                list.iter()
                    .any(|e| e.get("name") == Some(&json!(image.name))),
                "image {:?}: {context}",
                image.name
            );
        }
    }
    if !params.replicas.is_empty() {
        let list = list("replicas");
        for (i, (name, count)) in params.replicas.iter().enumerate() {
            if params.replicas[i + 1..]
                .iter()
                .all(|(later, _)| later != name)
            {
                assert!(
                    list.iter().any(|e| e.get("name") == Some(&json!(name))
                        && e.get("count") == Some(&json!(count))),
                    "replicas {name:?}: {context}"
                );
            }
        }
    }
}

/// [`check_kustomization_edit`] on bytes, in the fuzz target's layout: the kustomization, a
/// 0xFF byte, then one parameter per line, its first character saying which: `p`, `s`, `n` and
/// the text (name prefix, suffix, namespace); `l` or `a` and `key=value` (a common label or
/// annotation); `i` and `name|newName|newTag|digest` (an empty part is unset); `r` and
/// `name=count`; `c` and a component; `t` and a patch's path; `f` and any of `L`, `A`, `S`, `T`
/// (force labels, force annotations, labels without selector, labels in templates).
pub(crate) fn check_kustomization_edit_bytes(data: &[u8]) {
    let (text, spec) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let spec = String::from_utf8_lossy(spec);
    let pair = |s: &str| {
        let (key, value) = s.split_once('=').unwrap_or((s, ""));
        (key.to_owned(), value.to_owned())
    };
    let mut params = KustomizeParams::default();
    let mut components = Vec::new();
    for line in spec.split('\n') {
        let mut chars = line.chars();
        let Some(kind) = chars.next() else {
            continue;
        };
        let rest = chars.as_str();
        match kind {
            'p' => params.name_prefix = Some(rest.to_owned()),
            's' => params.name_suffix = Some(rest.to_owned()),
            'n' => params.namespace = Some(rest.to_owned()),
            'l' => params.common_labels.push(pair(rest)),
            'a' => params.common_annotations.push(pair(rest)),
            'i' => {
                let mut parts = rest
                    .split('|')
                    .map(|p| (!p.is_empty()).then(|| p.to_owned()));
                let mut next = || parts.next().flatten();
                params.images.push(Image {
                    name: next().unwrap_or_default(),
                    new_name: next(),
                    new_tag: next(),
                    digest: next(),
                });
            }
            'r' => {
                let (name, count) = pair(rest);
                params
                    .replicas
                    .push((name, count.trim().parse().unwrap_or(1)));
            }
            'c' => components.push(rest.to_owned()),
            't' => params.patches.push(json!({"path": rest})),
            'f' => {
                params.force_common_labels |= rest.contains('L');
                params.force_common_annotations |= rest.contains('A');
                params.label_without_selector |= rest.contains('S');
                params.label_include_templates |= rest.contains('T');
            }
            _ => {}
        }
    }
    check_kustomization_edit(&text, &params, &components);
}

/// The fields the parameters set.
fn edited_fields(params: &KustomizeParams, components: &[String]) -> Vec<&'static str> {
    let labels = if params.label_without_selector {
        "labels"
    } else {
        "commonLabels"
    };
    [
        ("namePrefix", params.name_prefix.is_some()),
        ("nameSuffix", params.name_suffix.is_some()),
        ("images", !params.images.is_empty()),
        ("replicas", !params.replicas.is_empty()),
        (labels, !params.common_labels.is_empty()),
        ("commonAnnotations", !params.common_annotations.is_empty()),
        ("namespace", params.namespace.is_some()),
        ("patches", !params.patches.is_empty()),
        ("components", !components.is_empty()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect()
}
