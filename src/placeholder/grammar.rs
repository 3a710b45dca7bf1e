//! The placeholder grammar: finds argocd-vault-plugin placeholders in one string.
//!
//! - Inline, in every mode: `<path:PATH#KEY>` or `<path:PATH#KEY#VERSION>`, from `<path:` to the
//!   first `>` after it. Parts are trimmed, and spaces around `/` in the path are dropped.
//! - Generic, only in [`Mode::InlineAndGeneric`]: `<KEY>` where the trimmed text before the first
//!   `|` matches `[A-Za-z0-9_][A-Za-z0-9_.-]*` and no `<` comes before the `>`. Anything else in
//!   angle brackets (`<a href="x">`, `</b>`, `<two words>`, `<>`) is literal text.
//! - Both take modifiers before the `>`: `<KEY | base64decode | indent 4>`.
//! - Escape: `\<` before something that would be a placeholder in this mode drops the backslash
//!   and keeps the placeholder text literally. A backslash before any other `<` stays.
//!
//! One pass over the string, linear in its length; a string without `<` returns at once.

use std::ops::Range;

use crate::placeholder::modifier::Modifier;

/// Which placeholder forms count in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only `<path:PATH#KEY[#VERSION][ | modifier ...]>` (manifests without the path annotation).
    InlineOnly,
    /// Inline placeholders and generic `<KEY[ | modifier ...]>` (annotated manifests).
    InlineAndGeneric,
}

/// What a placeholder refers to in Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `<path:PATH#KEY#VERSION>`: an explicit path, key and optional version (all trimmed).
    Inline {
        /// The raw Vault logical path, e.g. `secret/data/app`.
        path: String,
        /// The key inside the secret.
        key: String,
        /// The KV v2 version, when given.
        version: Option<u64>,
    },
    /// `<KEY>`: a key of the secret named by the manifest's `avp.kubernetes.io/path` annotation.
    Generic {
        /// The key inside the secret.
        key: String,
    },
}

/// One placeholder found in a string.
#[derive(Debug, Clone)]
pub struct Placeholder {
    /// Byte range of the whole placeholder, `<` to `>` inclusive, in the scanned string.
    pub span: Range<usize>,
    /// What to look up.
    pub reference: Reference,
    /// Modifiers in the order written, already validated.
    pub modifiers: Vec<Modifier>,
}

/// A piece of a scanned string.
#[derive(Debug, Clone)]
pub enum Segment {
    /// Literal text (escapes already resolved: `\<` that protected a placeholder is now `<`).
    Text(String),
    /// A placeholder to fill.
    Placeholder(Placeholder),
}

/// Why a placeholder could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Byte range of the offending placeholder in the scanned string.
    pub span: Range<usize>,
    /// What is wrong, without repeating the placeholder text.
    pub message: String,
}

/// Splits `text` into literal text and placeholders.
///
/// Returns `Ok(None)` when the string holds no placeholder and no escape, so it stays as is.
/// Otherwise the segments, with adjacent literal text merged. Every bad placeholder of the
/// string yields one error, and any error makes the result `Err` with all of them.
pub fn parse(text: &str, mode: Mode) -> Result<Option<Vec<Segment>>, Vec<ParseError>> {
    let Some(first) = text.find('<') else {
        return Ok(None);
    };
    let mut out = Output {
        text,
        segments: Vec::new(),
        literal: String::new(),
        literal_from: 0,
        changed: false,
        errors: Vec::new(),
    };
    let mut at = first;
    loop {
        let next_from = match candidate(text, at, mode) {
            None => at + 1,
            Some(found) if at > out.literal_from && text.as_bytes()[at - 1] == b'\\' => {
                out.escape(at);
                found.end
            }
            Some(found) => {
                out.placeholder(at, &found);
                found.end
            }
        };
        match text.get(next_from..).and_then(|rest| rest.find('<')) {
            Some(offset) => at = next_from + offset,
            None => break,
        }
    }
    out.finish()
}

/// Where a placeholder candidate starting at a `<` ends, and what it holds.
struct Candidate {
    /// Byte offset just past the closing `>` (or the end of the text when unclosed).
    end: usize,
    kind: CandidateKind,
}

enum CandidateKind {
    /// `<path:` with no `>` after it.
    Unclosed,
    /// `<path:` ... `>`: the text between `path:` and `>`.
    Inline(Range<usize>),
    /// `<KEY ...>`: the text between `<` and `>`.
    Generic(Range<usize>),
}

/// Recognises the placeholder starting at the `<` at byte `at`, if any.
fn candidate(text: &str, at: usize, mode: Mode) -> Option<Candidate> {
    let after = at + 1;
    let rest = &text[after..];
    let lead = rest.len() - rest.trim_start().len();
    if rest[lead..].starts_with("path:") {
        let inner_start = after + lead + "path:".len();
        return Some(match text[inner_start..].find('>') {
            Some(offset) => Candidate {
                end: inner_start + offset + 1,
                kind: CandidateKind::Inline(inner_start..inner_start + offset),
            },
            None => Candidate {
                end: text.len(),
                kind: CandidateKind::Unclosed,
            },
        });
    }
    if mode != Mode::InlineAndGeneric {
        return None;
    }
    let close = after + rest.find(['<', '>'])?;
    if text.as_bytes()[close] != b'>' {
        return None;
    }
    let inner = &text[after..close];
    let key = inner.split('|').next().unwrap_or_default();
    is_key(key.trim()).then_some(Candidate {
        end: close + 1,
        kind: CandidateKind::Generic(after..close),
    })
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]*`
fn is_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The segments and errors built so far.
struct Output<'t> {
    text: &'t str,
    segments: Vec<Segment>,
    /// Literal text not yet pushed as a segment (up to `literal_from`).
    literal: String,
    /// Start of literal text in `text` not yet copied into `literal`.
    literal_from: usize,
    /// Whether an escape was resolved.
    changed: bool,
    errors: Vec<ParseError>,
}

impl Output<'_> {
    /// Drops the backslash before the `<` at `at`; the placeholder text stays literal.
    fn escape(&mut self, at: usize) {
        self.literal.push_str(&self.text[self.literal_from..at - 1]);
        self.literal_from = at;
        self.changed = true;
    }

    fn placeholder(&mut self, at: usize, found: &Candidate) {
        let span = at..found.end;
        let parsed = match &found.kind {
            CandidateKind::Unclosed => Err(UNCLOSED.to_owned()),
            CandidateKind::Inline(inner) => parse_inline(&self.text[inner.clone()]),
            CandidateKind::Generic(inner) => parse_generic(&self.text[inner.clone()]),
        };
        match parsed {
            Ok((reference, modifiers)) => {
                self.literal.push_str(&self.text[self.literal_from..at]);
                if !self.literal.is_empty() {
                    self.segments
                        .push(Segment::Text(std::mem::take(&mut self.literal)));
                }
                self.segments.push(Segment::Placeholder(Placeholder {
                    span,
                    reference,
                    modifiers,
                }));
            }
            Err(message) => self.errors.push(ParseError { span, message }),
        }
        self.literal_from = found.end;
    }

    fn finish(mut self) -> Result<Option<Vec<Segment>>, Vec<ParseError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        if self.segments.is_empty() && !self.changed {
            return Ok(None);
        }
        self.literal.push_str(&self.text[self.literal_from..]);
        if !self.literal.is_empty() {
            self.segments.push(Segment::Text(self.literal));
        }
        Ok(Some(self.segments))
    }
}

const UNCLOSED: &str = "unclosed placeholder: missing \">\"";
const INLINE_FORM: &str = "(expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)";

/// Parses the text between `path:` and `>`.
fn parse_inline(inner: &str) -> Result<(Reference, Vec<Modifier>), String> {
    let (reference, modifiers) = inner
        .split_once('|')
        .map_or((inner, None), |(r, m)| (r, Some(m)));
    let parts: Vec<&str> = reference.split('#').map(str::trim).collect();
    let (path, key, version) = match parts[..] {
        [_] => return Err(format!("missing key {INLINE_FORM}")),
        [path, key] => (path, key, None),
        [path, key, version] => (path, key, Some(version)),
        _ => return Err(format!("too many \"#\" {INLINE_FORM}")),
    };
    if path.is_empty() {
        return Err(format!("empty path {INLINE_FORM}"));
    }
    if key.is_empty() {
        return Err(format!("empty key {INLINE_FORM}"));
    }
    let version = match version {
        None => None,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            Some(v.parse().map_err(|_| "version is too large".to_owned())?)
        }
        Some(_) => return Err("version must be a non-negative integer".to_owned()),
    };
    let path = path.split('/').map(str::trim).collect::<Vec<_>>().join("/");
    let reference = Reference::Inline {
        path,
        key: key.to_owned(),
        version,
    };
    Ok((reference, parse_modifiers(modifiers)?))
}

/// Parses the text between `<` and `>` of a generic placeholder whose key is already checked.
fn parse_generic(inner: &str) -> Result<(Reference, Vec<Modifier>), String> {
    let (key, modifiers) = inner
        .split_once('|')
        .map_or((inner, None), |(k, m)| (k, Some(m)));
    let reference = Reference::Generic {
        key: key.trim().to_owned(),
    };
    Ok((reference, parse_modifiers(modifiers)?))
}

/// Parses the `|`-separated modifiers after the first `|`, stopping at the first bad one.
fn parse_modifiers(modifiers: Option<&str>) -> Result<Vec<Modifier>, String> {
    modifiers.map_or(Ok(Vec::new()), |text| {
        text.split('|')
            .map(|segment| Modifier::parse(segment).map_err(|e| e.0))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Mode = Mode::InlineOnly;
    const G: Mode = Mode::InlineAndGeneric;

    /// Renders the outcome on one line: `=` for unchanged, literal text as a Rust string,
    /// placeholders as `[span reference | modifiers]`, errors as `error span: message`.
    fn show(text: &str, mode: Mode) -> String {
        match parse(text, mode) {
            Ok(None) => "=".to_owned(),
            Ok(Some(segments)) => segments
                .iter()
                .map(|segment| match segment {
                    Segment::Text(text) => format!("{text:?}"),
                    Segment::Placeholder(p) => {
                        let reference = match &p.reference {
                            Reference::Inline {
                                path,
                                key,
                                version: None,
                            } => format!("path:{path}#{key}"),
                            Reference::Inline {
                                path,
                                key,
                                version: Some(v),
                            } => format!("path:{path}#{key}#{v}"),
                            Reference::Generic { key } => key.clone(),
                        };
                        let modifiers: String =
                            p.modifiers.iter().map(|m| format!(" | {m}")).collect();
                        format!("[{:?} {reference}{modifiers}]", p.span)
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(errors) => errors
                .iter()
                .map(|e| format!("error {:?}: {}", e.span, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    fn check(cases: &[(Mode, &str, &str)]) {
        for &(mode, text, expected) in cases {
            assert_eq!(show(text, mode), expected, "{mode:?} {text:?}");
        }
    }

    #[test]
    fn leaves_text_without_placeholders() {
        #[rustfmt::skip]
        check(&[
            (G, "", "="),
            (G, "plain text", "="),
            (G, "a > b", "="),
            (G, "x <key", "="),
            (G, r#"<a href="x">link</a>"#, "="),
            (G, "</b>", "="),
            (G, "<br/>", "="),
            (G, "<no spaces allowed>", "="),
            (G, "<>", "="),
            (G, "< >", "="),
            (G, "a < b and c > d", "="),
            (G, "<key:x>", "="),
            (G, "<-key>", "="),
            (G, "<.key>", "="),
            (G, "<ké>", "="),
            (G, "<!-- comment -->", "="),
            (I, "List<String>", "="),
            (G, "<<a b>>", "="),
            (G, "<path :a#b>", "="),
            (G, "<PATH:a#b>", "="),
            (I, "<key>", "="),
            (I, "<key | base64encode>", "="),
            (I, "<path>", "="),
            (I, "<a href=\"x\">", "="),
        ]);
    }

    #[test]
    fn finds_inline_placeholders() {
        #[rustfmt::skip]
        check(&[
            (I, "<path:secret/data/app#key>", "[0..26 path:secret/data/app#key]"),
            (G, "<path:secret/data/app#key>", "[0..26 path:secret/data/app#key]"),
            (I, "<path:a#b#2>", "[0..12 path:a#b#2]"),
            (I, "<path:a#b#0>", "[0..12 path:a#b#0]"),
            (I, "<path:a#b#007>", "[0..14 path:a#b#7]"),
            (I, "< path: secret / data/app # key # 2 | base64encode >", "[0..52 path:secret/data/app#key#2 | base64encode]"),
            (I, "<path:secret/ data /app#k>", "[0..26 path:secret/data/app#k]"),
            (I, "<path:my app/x#my key>", "[0..22 path:my app/x#my key]"),
            (I, "<path:a#b|base64encode|indent 2>", "[0..32 path:a#b | base64encode | indent 2]"),
            (I, "<path:a#b | base64decode | jsonPath {.x} | indent 4>", "[0..52 path:a#b | base64decode | jsonPath {.x} | indent 4]"),
            (I, "<path:a#b | jsonPath {.items[0]['k.x']}>", "[0..40 path:a#b | jsonPath {.items[0]['k.x']}]"),
            (I, "pre <path:a#b> mid <path:c#d|indent 2> post", r#""pre " [4..14 path:a#b] " mid " [19..38 path:c#d | indent 2] " post""#),
            (I, "<path:a#b><path:c#d>", "[0..10 path:a#b] [10..20 path:c#d]"),
            (I, "é<path:a#b>", r#""é" [2..12 path:a#b]"#),
            (I, "<key> <path:a#b>", r#""<key> " [6..16 path:a#b]"#),
            (I, "<<path:a#b>>", r#""<" [1..11 path:a#b] ">""#),
            (I, "<path:a#<b>", "[0..11 path:a#<b]"),
            (I, "postgres://u:<path:db#pw>@host", r#""postgres://u:" [13..25 path:db#pw] "@host""#),
        ]);
    }

    #[test]
    fn finds_generic_placeholders() {
        #[rustfmt::skip]
        check(&[
            (G, "<key>", "[0..5 key]"),
            (G, "<  key  >", "[0..9 key]"),
            (G, "< key | base64encode >", "[0..22 key | base64encode]"),
            (G, "<key|indent 2|sha256sum>", "[0..24 key | indent 2 | sha256sum]"),
            (G, "<my-key.v2_x>", "[0..13 my-key.v2_x]"),
            (G, "<_x>", "[0..4 _x]"),
            (G, "<9>", "[0..3 9]"),
            (G, "<path>", "[0..6 path]"),
            (G, "<key\n>", "[0..6 key]"),
            (G, "user: <user>, pass: <pass>", r#""user: " [6..12 user] ", pass: " [20..26 pass]"#),
            (G, "<a><b>", "[0..3 a] [3..6 b]"),
            (G, "List<String>", r#""List" [4..12 String]"#),
            (G, "<<key>", r#""<" [1..6 key]"#),
            (G, "<a <key>", r#""<a " [3..8 key]"#),
            (G, "<b>bold</b>", r#"[0..3 b] "bold</b>""#),
            (G, "<key> <path:p#k>", "[0..5 key] \" \" [6..16 path:p#k]"),
            (G, r#"<a href="x"><key></a>"#, r#""<a href=\"x\">" [12..17 key] "</a>""#),
        ]);
    }

    #[test]
    fn resolves_escapes() {
        #[rustfmt::skip]
        check(&[
            (G, r"\<username>", r#""<username>""#),
            (I, r"\<path:a#b>", r#""<path:a#b>""#),
            (G, r"\<path:a#b>", r#""<path:a#b>""#),
            (G, r"a \<key> b <key>", r#""a <key> b " [11..16 key]"#),
            (G, r"\<key | foo>", r#""<key | foo>""#),
            (I, r"\<path:a>", r#""<path:a>""#),
            (I, r"\<path:a#b", r#""<path:a#b""#),
            (I, r"\<path:a#b <path:c#d>", r#""<path:a#b <path:c#d>""#),
            (G, r"\\<key>", r#""\\<key>""#),
            (G, r"\<b>text\</b>", r#""<b>text\\</b>""#),
            (G, r"<key>\<key>", r#"[0..5 key] "<key>""#),
            (I, r"\<username>", "="),
            (G, r"\<word\>", "="),
            (G, r"List\<String>", r#""List<String>""#),
            (G, r"C:\<dir name>", "="),
            (G, r"\<>", "="),
        ]);
    }

    #[test]
    fn reports_bad_placeholders() {
        #[rustfmt::skip]
        check(&[
            (I, "x <path:a#b", r#"error 2..11: unclosed placeholder: missing ">""#),
            (I, "<path:", r#"error 0..6: unclosed placeholder: missing ">""#),
            (I, "<path:>", "error 0..7: missing key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a>", "error 0..8: missing key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a | base64encode>", "error 0..23: missing key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:#k>", "error 0..9: empty path (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:  #k>", "error 0..11: empty path (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a#>", "error 0..9: empty key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a#  #1>", "error 0..13: empty key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a#b#>", "error 0..11: version must be a non-negative integer"),
            (I, "<path:a#b#v2>", "error 0..13: version must be a non-negative integer"),
            (I, "<path:a#b#-1>", "error 0..13: version must be a non-negative integer"),
            (I, "<path:a#b#+1>", "error 0..13: version must be a non-negative integer"),
            (I, "<path:a#b#1.5>", "error 0..14: version must be a non-negative integer"),
            (I, "<path:a#b#1 2>", "error 0..14: version must be a non-negative integer"),
            (I, "<path:a#b#99999999999999999999>", "error 0..31: version is too large"),
            (I, "<path:a#b#1#2>", r##"error 0..14: too many "#" (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"##),
            (I, "<path:#|foo>", "error 0..12: empty path (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a#b|>", r#"error 0..11: empty modifier after "|""#),
            (I, "<path:a#b | base64encode | >", r#"error 0..28: empty modifier after "|""#),
            (I, "<path:a#b | foo>", r#"error 0..16: unknown modifier "foo" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#),
            (I, "<path:a#b | indent>", r#"error 0..19: modifier "indent" needs an argument: indent N"#),
            (I, "<path:a#b | jsonPath {!x}>", r#"error 0..26: modifier "jsonPath": invalid expression "{!x}": unexpected character '!' at character 2"#),
            (I, "<path:a#b | foo | bar>", r#"error 0..22: unknown modifier "foo" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#),
            (G, "<key | >", r#"error 0..8: empty modifier after "|""#),
            (G, "<key|>", r#"error 0..6: empty modifier after "|""#),
            (G, "x <key | foo>", r#"error 2..13: unknown modifier "foo" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#),
            (G, "<key | base64encode 2>", r#"error 0..22: modifier "base64encode" takes no argument"#),
            (G, "<key | indent x>", r#"error 0..16: modifier "indent": "x" is not a whole number"#),
            (G, "<a | b>", r#"error 0..7: unknown modifier "b" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#),
            (G, "<path:a>", "error 0..8: missing key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
        ]);
    }

    #[test]
    fn collects_every_error_of_a_string() {
        #[rustfmt::skip]
        check(&[
            (I, "<path:a> and <path:#b> ok <path:c#d>", "error 0..8: missing key (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>); error 13..22: empty path (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)"),
            (I, "<path:a#b> <path:c", r#"error 11..18: unclosed placeholder: missing ">""#),
            (G, "<a|x> <b> <c|>", r#"error 0..5: unknown modifier "x" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent); error 10..14: empty modifier after "|""#),
            (G, r"\<a|x> <b|y>", r#"error 7..12: unknown modifier "y" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#),
        ]);
    }

    /// <https://github.com/argoproj-labs/argocd-vault-plugin/issues/130>: upstream CRD
    /// descriptions mention `<KEY>`; without the path annotation they must stay untouched.
    #[test]
    fn avp_130_crd_description_without_annotation() {
        let description = "supports `metadata.labels['<KEY>']`, `metadata.annotations['<KEY>']`";
        assert_eq!(show(description, I), "=");
        assert_eq!(show(r"labels['\<KEY>']", G), r#""labels['<KEY>']""#);
    }

    /// <https://github.com/argoproj-labs/argocd-vault-plugin/issues/103>: a PromQL comparison
    /// is not a placeholder, even in an annotated manifest.
    #[test]
    fn avp_103_promql_comparison() {
        let expr = r#"((sum(container_memory{image!=""}) / sum(limit)) * 100 ) < +Inf ) > 75"#;
        assert_eq!(show(expr, G), "=");
    }

    #[test]
    fn stays_linear_on_pathological_input() {
        // Quadratic scanning would take minutes on these; linear takes milliseconds.
        let n = 200_000;
        for text in [
            "<".repeat(n),
            "<a ".repeat(n),
            "< ".repeat(n),
            format!("{}>", "<a ".repeat(n)),
            format!("{}>", "<path:".repeat(n)),
            "<path:a".repeat(n),
            r"\<".repeat(n),
            "<a>".repeat(n),
        ] {
            let started = std::time::Instant::now();
            let _ = parse(&text, G);
            let _ = parse(&text, I);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "slow on {:?}...",
                &text[..12]
            );
        }
    }
}
