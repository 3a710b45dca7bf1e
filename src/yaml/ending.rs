//! A document that does not end with a line break (the end of a file without one) and is
//! followed by one: where that break would change what the document says (a `|` or `|+` block
//! scalar whose last line had no break gains a trailing `\n`), an equivalent text is written.

use serde_json::Value;

use super::value::to_json;
use super::{Node, NodeKind, ScalarStyle, parse_stream};

/// A text that says what `document` says and ends with a line break, when appending a plain
/// `\n` to `document` would change its value; `None` when appending one changes nothing (or
/// when no equivalent could be found or `document` does not parse on its own: a caller then
/// appends the break as it always did).
///
/// The equivalents tried, each checked by reading it back: the text without the blanks of a
/// last line that holds nothing else, and the text with the last block scalar's header chomping
/// the value (`|-`, `>-`), which keeps a value that had no final line break without one.
pub fn terminated(document: &str) -> Option<String> {
    if document.is_empty() || document.ends_with('\n') {
        return None;
    }
    let original = reading(document)?;
    if reading(&format!("{document}\n")).as_ref() == Some(&original) {
        return None;
    }
    let trimmed = document.trim_end_matches([' ', '\t']);
    let blank_last_line = trimmed.ends_with('\n').then(|| trimmed.to_owned());
    blank_last_line
        .into_iter()
        .chain(stripping_last_block(document))
        .find(|candidate| reading(candidate).as_ref() == Some(&original))
}

/// The value of a text holding one document, if it parses and has a root.
fn reading(text: &str) -> Option<Value> {
    let documents = parse_stream(text).ok()?;
    match documents.as_slice() {
        [document] => document.root.as_ref().map(to_json),
        _ => None,
    }
}

/// `document` with the header of its last block scalar made to strip (`|`, `|+`, `|2+` become
/// `|-`, `|-`, `|2-`), and a line break after it.
fn stripping_last_block(document: &str) -> Option<String> {
    let documents = parse_stream(document).ok()?;
    let start = last_block_scalar(documents.first()?.root.as_ref()?)?;
    let bytes = document.as_bytes();
    if !matches!(bytes.get(start), Some(b'|' | b'>')) {
        return None;
    }
    let mut end = start + 1;
    while end < bytes.len() && matches!(bytes[end], b'0'..=b'9' | b'+' | b'-') {
        end += 1;
    }
    let digits: String = document[start + 1..end]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    Some(format!(
        "{}{digits}-{}\n",
        &document[..=start],
        &document[end..]
    ))
}

/// Where the last scalar written in `node` starts, if it is a literal or folded block scalar.
fn last_block_scalar(mut node: &Node) -> Option<usize> {
    loop {
        match &node.kind {
            NodeKind::Mapping(entries) => node = &entries.last()?.1,
            NodeKind::Sequence(items) => node = items.last()?,
            NodeKind::Scalar { style, .. } => {
                return matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    .then_some(node.span.start);
            }
            NodeKind::Alias(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_is_added_only_where_it_changes_nothing() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a: 1\n", None),
            ("a: 1", None),
            ("a: 'x'", None),
            ("a: [1, 2]", None),
            ("s: |\n  echo hi\n", None),
            ("s: |-\n  echo hi", None),
            ("s: |\n  a\n# end", None),
            ("s: |\n  echo hi", Some("s: |-\n  echo hi\n")),
            ("s: >\n  echo\n  hi", Some("s: >-\n  echo\n  hi\n")),
            ("s: |+\n  a\n\n  b", Some("s: |-\n  a\n\n  b\n")),
            ("s: |2\n   a", Some("s: |2-\n   a\n")),
            ("s: |+2\n   a", Some("s: |2-\n   a\n")),
            ("s: |  # c\n  a", Some("s: |-  # c\n  a\n")),
            ("l:\n- x\n- |\n  y", Some("l:\n- x\n- |-\n  y\n")),
        ];
        for (document, expected) in cases {
            assert_eq!(terminated(document).as_deref(), *expected, "{document:?}");
            if let Some(text) = terminated(document) {
                assert_eq!(reading(&text), reading(document), "{document:?}");
            }
        }
    }

    #[test]
    fn block_scalars_at_the_end_without_a_break_have_no_final_break() {
        assert_eq!(
            reading("s: |\n  echo hi"),
            Some(serde_json::json!({"s": "echo hi"}))
        );
        assert_eq!(
            reading("s: |\n  echo hi\n"),
            Some(serde_json::json!({"s": "echo hi\n"}))
        );
    }
}
