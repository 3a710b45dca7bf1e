//! In-place edits of a document's text: everything not edited stays byte for byte.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::Value;

use super::lexical::{self, is_break};
use super::tree::{self, Starts, nodes};
use super::write;
use super::{Node, NodeKind, ScalarStyle, SyntaxError};

/// What a scalar becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Replacement {
    /// A string: written double-quoted (JSON string syntax), or as a literal block scalar where
    /// the original was a block scalar.
    Str(String),
    /// A typed value (number, bool, null, map, list): written as a plain or flow (JSON) scalar or
    /// collection, read back by a YAML 1.1 reader as exactly that type.
    Typed(Value),
}

/// One edit of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Replace the scalar at `span` (a [`super::Node::span`]) written in `style`.
    Scalar {
        /// The scalar node's span.
        span: Range<usize>,
        /// The scalar node's style.
        style: ScalarStyle,
        /// Its new value.
        with: Replacement,
    },
    /// Remove a whole mapping entry (key and value, its line(s) in block style, its comma in
    /// flow style).
    RemoveEntry {
        /// The key node's span.
        key: Range<usize>,
        /// The value node's span.
        value: Range<usize>,
    },
}

/// Why edits could not be applied (overlapping edits are a bug in the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EditError(pub String);

/// Applies `edits` (any order, non-overlapping) to the document at `range` of the stream `text`
/// and returns the document's new text.
///
/// - [`Edit::Scalar`] with [`Replacement::Str`] writes a JSON string (a YAML double-quoted
///   scalar) over a plain or quoted scalar, and a literal block scalar (`|-`, `|` or `|+` by the
///   string's trailing line breaks, at the original indentation) over a literal or folded one;
///   strings a block scalar cannot carry (`\r`, control characters, only line breaks, empty)
///   become JSON strings there too. [`Replacement::Typed`] writes one line of flow YAML.
/// - [`Edit::RemoveEntry`] removes a block mapping entry's whole lines (an entry right after a
///   `- ` is cut up to the next entry, which moves onto the dash's line), a flow mapping entry
///   with one adjacent comma; when every entry of a mapping goes, the mapping becomes `{}`.
///
/// Removals and block scalars written with an indentation indicator re-read the document's
/// text, so it must parse on its own.
///
/// # Errors
///
/// [`EditError`] for a range or span outside the text or not on character boundaries, a
/// scalar not written in the style the edit names, an empty scalar with no `:` or `-` before it
/// (`{key}`), an entry that is not a mapping entry of the document (or removed twice),
/// overlapping edits, or a document that cannot be re-read for a removal. All of these are bugs
/// in the caller: spans must come from [`super::parse_stream`] of the same text.
pub fn apply(text: &str, range: Range<usize>, edits: Vec<Edit>) -> Result<String, EditError> {
    let changes = changes(text, range.clone(), edits)?;
    Ok(splice(text, range, &changes))
}

/// What [`apply`] writes, before it is written: the byte ranges of `text` to replace, in order
/// and not overlapping, each with its new text. Everything else of `range` stays as it is, so
/// a caller can write the document piece by piece (see [`pieces`]) without copying it.
///
/// # Errors
///
/// As [`apply`].
pub fn changes(
    text: &str,
    range: Range<usize>,
    edits: Vec<Edit>,
) -> Result<Box<[Change]>, EditError> {
    if range.start > range.end
        || range.end > text.len()
        || !text.is_char_boundary(range.start)
        || !text.is_char_boundary(range.end)
    {
        return Err(EditError(format!(
            "document range {}..{} does not fit the text ({} bytes)",
            range.start,
            range.end,
            text.len()
        )));
    }
    let mut document = Reread::new(text, range.clone());
    let mut changes = Vec::with_capacity(edits.len());
    let mut removals = Vec::new();
    for edit in edits {
        match edit {
            Edit::Scalar { span, style, with } => {
                check_span(text, &range, &span)?;
                changes.push(scalar_change(&mut document, span, style, with)?);
            }
            Edit::RemoveEntry { key, value } => {
                check_span(text, &range, &key)?;
                check_span(text, &range, &value)?;
                removals.push((key, value));
            }
        }
    }
    if !removals.is_empty() {
        changes.extend(removal_changes(&mut document, &removals)?);
    }
    ordered(changes)
}

/// A replacement of a byte range by new text.
pub type Change = (Range<usize>, String);

/// The text of `range` of `text` with `changes` (from [`changes`]) made, piece by piece.
pub fn pieces<'a>(
    text: &'a str,
    range: Range<usize>,
    changes: &'a [Change],
) -> impl Iterator<Item = &'a str> + 'a {
    let mut at = range.start;
    changes
        .iter()
        .flat_map(move |(span, new)| {
            let before = &text[at..span.start];
            at = span.end;
            [before, new.as_str()]
        })
        .chain(std::iter::once_with(move || {
            let end = changes.last().map_or(range.start, |(span, _)| span.end);
            &text[end..range.end]
        }))
}

fn check_span(text: &str, range: &Range<usize>, span: &Range<usize>) -> Result<(), EditError> {
    if span.start < range.start
        || span.end > range.end
        || span.start > span.end
        || !text.is_char_boundary(span.start)
        || !text.is_char_boundary(span.end)
    {
        return Err(EditError(format!(
            "edit at bytes {}..{} lies outside the document's bytes {}..{}",
            span.start, span.end, range.start, range.end
        )));
    }
    Ok(())
}

/// `changes` sorted, once they are known not to overlap.
fn ordered(mut changes: Vec<Change>) -> Result<Box<[Change]>, EditError> {
    changes.sort_by_key(|(span, _)| (span.start, span.end));
    for pair in changes.windows(2) {
        let (a, b) = (&pair[0].0, &pair[1].0);
        if a.end > b.start || a == b {
            return Err(EditError(format!(
                "edits overlap: bytes {}..{} and {}..{}",
                a.start, a.end, b.start, b.end
            )));
        }
    }
    Ok(changes.into_boxed_slice())
}

fn splice(text: &str, range: Range<usize>, changes: &[Change]) -> String {
    let added: usize = changes.iter().map(|(_, new)| new.len()).sum();
    let mut out = String::with_capacity(range.len() + added);
    for piece in pieces(text, range, changes) {
        out.push_str(piece);
    }
    out
}

fn scalar_change(
    document: &mut Reread<'_>,
    span: Range<usize>,
    style: ScalarStyle,
    with: Replacement,
) -> Result<Change, EditError> {
    let text = document.text;
    let first = text
        .as_bytes()
        .get(span.start)
        .copied()
        .filter(|_| !span.is_empty());
    let fits = match style {
        ScalarStyle::Literal | ScalarStyle::Folded => matches!(first, Some(b'|' | b'>')),
        ScalarStyle::SingleQuoted => first == Some(b'\''),
        ScalarStyle::DoubleQuoted => first == Some(b'"'),
        ScalarStyle::Plain => !matches!(first, Some(b'|' | b'>' | b'\'' | b'"')),
    };
    if !fits {
        return Err(EditError(format!(
            "the scalar at bytes {}..{} is not written in the style the edit names ({style:?})",
            span.start, span.end
        )));
    }
    let mut new = String::new();
    if span.is_empty() {
        // An empty scalar: after an indicator (`:`, or `-`/`?` after a blank) a space goes
        // first; after a key without `:` (`{key}`) nothing can go.
        let bytes = text.as_bytes();
        let before = span.start.checked_sub(1).map(|at| bytes[at]);
        let blank_before =
            |at: usize| at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'\r');
        match before {
            Some(b':') => new.push(' '),
            Some(b'-' | b'?') if blank_before(span.start - 1) => new.push(' '),
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',') => {}
            Some(_) => {
                return Err(EditError(format!(
                    "the empty scalar at byte {} follows no `:` or `-`: nothing can be written there",
                    span.start
                )));
            }
        }
    }
    match (style, with) {
        (ScalarStyle::Literal | ScalarStyle::Folded, Replacement::Str(s))
            if write::fits_literal_block(&s) =>
        {
            if let Some(change) = literal_change(document, &span, &s) {
                return Ok(change);
            }
            write::json_string(&s, &mut new);
        }
        (_, Replacement::Str(s)) => write::json_string(&s, &mut new),
        (_, Replacement::Typed(value)) => write::flow(&value, &mut new),
    }
    Ok((span, new))
}

/// A literal block scalar over the block scalar at `span`, at the indentation of its content;
/// `None` when that indentation cannot be told (then a JSON string serves).
fn literal_change(document: &mut Reread<'_>, span: &Range<usize>, s: &str) -> Option<Change> {
    let text = document.text;
    let doc_end = document.range.end;
    let written = &text[span.clone()];
    let eol = if written.contains("\r\n") || text[span.end..doc_end].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let needs_indicator = write::starts_with_space(s);
    let written_indent = content_indent(written).filter(|&indent| indent > 0);
    let (indent, indicator) = match written_indent {
        Some(indent) if !needs_indicator => (indent, None),
        _ => {
            // Keep the written indentation; without one, two columns right of the parent
            // collection (column 2 at the root). An indentation indicator counts from the
            // parent's column (from column 0 at the root).
            let parent = document.parent_column(span)?;
            let indent = written_indent.unwrap_or(parent.map_or(2, |column| column + 2));
            let indicator = indent - parent.unwrap_or(0);
            if needs_indicator && !(1..=9).contains(&indicator) {
                return None;
            }
            (indent, needs_indicator.then_some(indicator))
        }
    };
    // Blanks after a header without content lines go with it.
    let bytes = text.as_bytes();
    let mut end = span.end;
    while end < doc_end && lexical::is_blank(bytes[end]) {
        end += 1;
    }
    if end < doc_end && !is_break(bytes[end]) {
        end = span.end;
    }
    // Blank lines after the scalar stay, unless the new block would read them as content:
    // `|+` keeps them, and lines with more blanks than its indentation are content lines.
    let blank = blank_lines_after(text, end, doc_end);
    let content = |line: &Range<usize>| {
        let spaces = bytes[line.clone()]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        spaces >= indent && line.len() > indent
    };
    if write::keeps_trailing_lines(s) || blank.iter().any(content) {
        end = blank.last().map_or(end, |line| line.end);
    }
    let break_follows = end < doc_end && is_break(bytes[end]);
    let new = write::literal_block(s, indent, indicator, eol, break_follows);
    Some((span.start..end, new))
}

/// The lines of only spaces and tabs right after `end` (each without its line break).
fn blank_lines_after(text: &str, mut end: usize, doc_end: usize) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    while let Some(line) = lexical::after_break(text, end).filter(|&line| line < doc_end) {
        let line_end = lexical::line_end(text, line).min(doc_end);
        if !text.as_bytes()[line..line_end]
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
        {
            break;
        }
        lines.push(line..line_end);
        end = line_end;
    }
    lines
}

/// The indentation of the least indented content line of a written block scalar.
fn content_indent(written: &str) -> Option<usize> {
    written
        .split('\n')
        .skip(1)
        .filter(|line| line.bytes().any(|b| b != b' ' && b != b'\r'))
        .map(|line| line.bytes().take_while(|&b| b == b' ').count())
        .min()
}

fn removal_changes(
    document: &mut Reread<'_>,
    removals: &[(Range<usize>, Range<usize>)],
) -> Result<Vec<Change>, EditError> {
    let (text, range) = (document.text, document.range.clone());
    let (root, starts) = document.tree()?;
    let mappings: Vec<&Node> = root
        .iter()
        .flat_map(|root| nodes(root))
        .filter(|node| matches!(node.kind, NodeKind::Mapping(_)))
        .collect();
    let mut by_key = HashMap::new();
    for (m, mapping) in mappings.iter().enumerate() {
        for (e, (key, _)) in entries(mapping).iter().enumerate() {
            by_key.insert((key.span.start, key.span.end), (m, e));
        }
    }
    let mut removed: HashMap<usize, Vec<bool>> = HashMap::new();
    for (key, value) in removals {
        let found = by_key
            .get(&(key.start, key.end))
            .filter(|&&(m, e)| entries(mappings[m])[e].1.span == *value);
        let Some(&(m, e)) = found else {
            return Err(EditError(format!(
                "no mapping entry of the document has its key at bytes {}..{} and its value at {}..{}",
                key.start, key.end, value.start, value.end
            )));
        };
        let flags = removed
            .entry(m)
            .or_insert_with(|| vec![false; entries(mappings[m]).len()]);
        if std::mem::replace(&mut flags[e], true) {
            return Err(EditError(format!(
                "the entry with its key at bytes {}..{} is removed twice",
                key.start, key.end
            )));
        }
    }
    let mut changes = Vec::new();
    for (m, flags) in removed {
        mapping_removals(text, &range, mappings[m], &flags, starts, &mut changes);
    }
    Ok(changes)
}

fn entries(mapping: &Node) -> &[(Node, Node)] {
    match &mapping.kind {
        NodeKind::Mapping(entries) => entries,
        _ => &[],
    }
}

/// The changes that remove the flagged entries of `mapping`.
fn mapping_removals(
    text: &str,
    range: &Range<usize>,
    mapping: &Node,
    flags: &[bool],
    starts: &Starts,
    changes: &mut Vec<Change>,
) {
    if flags.iter().all(|&removed| removed) {
        changes.push((mapping.span.clone(), "{}".to_owned()));
        return;
    }
    let entries = entries(mapping);
    let start = |e: usize| {
        let key = &entries[e].0.span;
        starts
            .get(&(key.start, key.end))
            .copied()
            .unwrap_or(key.start)
    };
    let end = |e: usize| entries[e].0.span.end.max(entries[e].1.span.end);
    let flow = text.as_bytes().get(mapping.span.start) == Some(&b'{');
    let mut first = 0;
    while first < flags.len() {
        if !flags[first] {
            first += 1;
            continue;
        }
        let mut last = first;
        while last + 1 < flags.len() && flags[last + 1] {
            last += 1;
        }
        let next = last + 1;
        let span = if flow {
            // Remove each entry with the comma after it, or the last ones with the comma before.
            if next < flags.len() {
                start(first)..start(next)
            } else {
                end(first - 1)..end(last)
            }
        } else {
            let line = lexical::line_start(text, start(first), range.start);
            match own_start(&text[line..start(first)]) {
                // Something else (a sequence's `- `) leads the line: keep it and pull the next
                // kept entry up to where the first removed one started.
                Some(own) if next < flags.len() => {
                    let next_line = lexical::line_start(text, start(next), range.start);
                    line + own..first_non_blank(text, next_line)
                }
                _ => {
                    let mut after = lexical::next_line(text, end(last)).min(range.end);
                    // Blank lines that move up behind a block scalar could join its content.
                    if first > 0 && ends_in_block_scalar(&entries[first - 1].1) {
                        while after < range.end {
                            let line_end = lexical::line_end(text, after).min(range.end);
                            if !text.as_bytes()[after..line_end]
                                .iter()
                                .all(|&b| lexical::is_blank(b))
                            {
                                break;
                            }
                            after = lexical::next_line(text, after).min(range.end);
                        }
                    }
                    line..after
                }
            }
        };
        changes.push((span, String::new()));
        first = next;
    }
}

/// Whether the last scalar written in `node` is a literal or folded block scalar.
fn ends_in_block_scalar(mut node: &Node) -> bool {
    loop {
        match &node.kind {
            NodeKind::Mapping(entries) => match entries.last() {
                Some((_, value)) => node = value,
                None => return false,
            },
            NodeKind::Sequence(items) => match items.last() {
                Some(item) => node = item,
                None => return false,
            },
            NodeKind::Scalar { style, .. } => {
                return matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
            }
            NodeKind::Alias(_) => return false,
        }
    }
}

/// Where an entry's own text starts in the part of its line before it (its anchor, tag or `?`
/// already excluded), when that part holds more than indentation: after the last indicator of
/// an enclosing node (`- ` of a sequence, `? `/`: ` of an explicit key or its value).
fn own_start(prefix: &str) -> Option<usize> {
    let bytes = prefix.as_bytes();
    let dash = (0..bytes.len()).rev().find(|&i| {
        matches!(bytes[i], b'-' | b'?' | b':')
            && (i == 0 || lexical::is_blank(bytes[i - 1]))
            && bytes.get(i + 1).is_none_or(|&b| lexical::is_blank(b))
    })?;
    let mut own = dash + 1;
    while own < bytes.len() && lexical::is_blank(bytes[own]) {
        own += 1;
    }
    Some(own)
}

fn first_non_blank(text: &str, mut at: usize) -> usize {
    while at < text.len() && lexical::is_blank(text.as_bytes()[at]) {
        at += 1;
    }
    at
}

/// The document's text parsed again on its own, on first need: removals and indentation
/// indicators depend on the surrounding structure.
struct Reread<'t> {
    text: &'t str,
    range: Range<usize>,
    parsed: Option<Result<Tree, SyntaxError>>,
}

/// A document's root and where nodes with properties or a `?` start.
type Tree = (Option<Node>, Starts);

impl<'t> Reread<'t> {
    fn new(text: &'t str, range: Range<usize>) -> Self {
        Reread {
            text,
            range,
            parsed: None,
        }
    }

    fn tree(&mut self) -> Result<(Option<&Node>, &Starts), EditError> {
        let (text, range) = (self.text, self.range.clone());
        let parsed = self.parsed.get_or_insert_with(|| {
            tree::parse_piece(&text[range.clone()], range.start, 0, true).map(|parsed| {
                let root = parsed.documents.into_iter().find_map(|doc| doc.root);
                (root, parsed.starts)
            })
        });
        match parsed {
            Ok((root, starts)) => Ok((root.as_ref(), starts)),
            Err(error) => {
                let lines = text.as_bytes()[..range.start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                Err(EditError(format!(
                    "cannot re-read the document to edit it: line {}, column {}: {}",
                    error.line + lines,
                    error.column,
                    error.message
                )))
            }
        }
    }

    /// The column of the collection holding the node at `span`: `Some(None)` for the root,
    /// `None` when the document cannot be re-read or holds no such node.
    fn parent_column(&mut self, span: &Range<usize>) -> Option<Option<usize>> {
        let text = self.text;
        let (root, _) = self.tree().ok()?;
        let root = root?;
        if root.span == *span {
            return Some(None);
        }
        let parent = nodes(root).find(|node| match &node.kind {
            NodeKind::Mapping(entries) => entries
                .iter()
                .any(|(key, value)| key.span == *span || value.span == *span),
            NodeKind::Sequence(items) => items.iter().any(|item| item.span == *span),
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => false,
        })?;
        Some(Some(lexical::indentation(text, parent.span.start).len()))
    }
}
