//! Small byte-level scans of YAML text around the positions the parser reports.

const BOM: &str = "\u{feff}";

/// A space or a tab.
pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A line break character.
pub(super) fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

/// Skips spaces, tabs, line breaks, byte order marks and comments from `pos`.
pub(super) fn skip_separation(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'#' => pos = line_end(text, pos),
            _ if text[pos..].starts_with(BOM) => pos += BOM.len(),
            _ => break,
        }
    }
    pos
}

/// Skips separation and the block indicators `-`, `?` and `:` (each followed by a blank, a line
/// break or the end): the position where the next node's properties or content begin.
pub(super) fn skip_to_node(text: &str, mut pos: usize) -> usize {
    loop {
        pos = skip_separation(text, pos);
        match indicator_end(text, pos) {
            Some(next) => pos = next,
            None => return pos,
        }
    }
}

/// The position after a block indicator `-`, `?` or `:` at `pos`, if there is one.
pub(super) fn indicator_end(text: &str, pos: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let is_indicator = matches!(bytes.get(pos), Some(b'-' | b'?' | b':'));
    let ends = bytes
        .get(pos + 1)
        .is_none_or(|&b| is_blank(b) || is_break(b));
    (is_indicator && ends).then_some(pos + 1)
}

/// A node's anchor and tag as written, and where they end.
#[derive(Debug, Default)]
pub(super) struct Properties {
    /// The anchor's name, without `&`.
    pub(super) anchor: Option<String>,
    /// The tag as written, e.g. `!!binary`.
    pub(super) tag: Option<String>,
    /// End of the last property.
    pub(super) end: usize,
    /// Where the node's content starts (after the properties and any separation).
    pub(super) content: usize,
}

/// Reads at most one anchor and one tag (in either order) starting at `pos`, stopping at
/// `limit`: properties never start at or after the position the parser reports for the content.
pub(super) fn read_properties(text: &str, pos: usize, limit: usize) -> Properties {
    let bytes = text.as_bytes();
    let mut props = Properties {
        end: pos,
        content: pos,
        ..Properties::default()
    };
    let mut at = pos;
    loop {
        at = skip_separation(text, at);
        if at >= limit {
            break;
        }
        match bytes.get(at) {
            Some(b'&') if props.anchor.is_none() => {
                let end = token_end(bytes, at + 1);
                props.anchor = Some(text[at + 1..end].to_owned());
                props.end = end;
            }
            Some(b'!') if props.tag.is_none() => {
                let end = if bytes.get(at + 1) == Some(&b'<') {
                    bytes[at..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map_or(bytes.len(), |i| at + i + 1)
                } else {
                    token_end(bytes, at + 1)
                };
                props.tag = Some(text[at..end].to_owned());
                props.end = end;
            }
            _ => break,
        }
        at = props.end;
    }
    props.content = skip_separation(text, props.end).min(limit.max(props.end));
    props
}

fn token_end(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && !is_blank(bytes[pos]) && !is_break(bytes[pos]) {
        if is_flow_indicator(bytes[pos]) {
            break;
        }
        pos += 1;
    }
    pos
}

/// The end of the quoted scalar whose opening quote is at `start` (after its closing quote).
pub(super) fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(start)?;
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quote == b'"' => at += 2,
            b'\'' if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 2,
            b if b == quote => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// Start of the line holding `pos`, but not before `floor`.
pub(super) fn line_start(text: &str, pos: usize, floor: usize) -> usize {
    text.as_bytes()[floor..pos]
        .iter()
        .rposition(|&b| is_break(b))
        .map_or(floor, |i| floor + i + 1)
}

/// What precedes `pos` on its line, a byte order mark (which may start any document) left out:
/// the indentation of a node starting at `pos`, when it is only spaces.
pub(crate) fn indentation(text: &str, pos: usize) -> &str {
    text[line_start(text, pos, 0)..pos].trim_start_matches('\u{feff}')
}

/// Position of the line break ending the line that holds `pos` (or the end of the text).
pub(super) fn line_end(text: &str, pos: usize) -> usize {
    text.as_bytes()[pos..]
        .iter()
        .position(|&b| is_break(b))
        .map_or(text.len(), |i| pos + i)
}

/// The position after the line break at `pos` (`\r\n`, `\n` or `\r`), if there is one.
pub(super) fn after_break(text: &str, pos: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.get(pos) {
        Some(b'\r') if bytes.get(pos + 1) == Some(&b'\n') => Some(pos + 2),
        Some(b'\r' | b'\n') => Some(pos + 1),
        _ => None,
    }
}

/// The position after the line holding `pos`, its line break included.
pub(crate) fn next_line(text: &str, pos: usize) -> usize {
    let end = line_end(text, pos);
    after_break(text, end).unwrap_or(end)
}

/// Where a document's own text starts after its `---` marker ending at `pos`: at content on the
/// marker's line, otherwise at the next line.
pub(super) fn after_marker(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = pos;
    while at < bytes.len() && is_blank(bytes[at]) {
        at += 1;
    }
    after_break(text, at).unwrap_or(at)
}

/// The position after any document end markers (`...` lines) from `pos` on, with the blank
/// lines and comments around them; `pos` itself when none comes next. A stream may start with
/// one, and the parser reports no document for it.
pub(super) fn skip_document_ends(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        let at = skip_separation(text, pos);
        // A byte order mark may start any document of a stream.
        let before = text[..at].trim_end_matches(BOM);
        let at_line_start = before.is_empty() || before.ends_with(['\n', '\r']);
        let ends = bytes
            .get(at + 3)
            .is_none_or(|&b| is_blank(b) || is_break(b));
        if !(at_line_start && text[at..].starts_with("...") && ends) {
            return pos;
        }
        pos = after_marker(text, at + 3);
    }
}

/// 1-based line and column (in characters) of byte `pos`.
pub(super) fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// How a block scalar's header treats its final line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chomping {
    /// `|`, `>`: one final line break.
    Clip,
    /// `|-`, `>-`: none.
    Strip,
    /// `|+`, `>+`: all of them.
    Keep,
}

/// The chomping of the block scalar whose header (`|`, `>2-`, ...) starts at `start`.
pub(super) fn block_chomping(text: &str, start: usize) -> Chomping {
    let header = text.as_bytes().get(start + 1..).unwrap_or_default();
    for &b in header.iter().take(2) {
        match b {
            b'-' => return Chomping::Strip,
            b'+' => return Chomping::Keep,
            b'0'..=b'9' => {}
            _ => break,
        }
    }
    Chomping::Clip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_as_written() {
        let text = "&a !!str # c\n  value";
        let props = read_properties(text, 0, text.len());
        assert_eq!(props.anchor.as_deref(), Some("a"));
        assert_eq!(props.tag.as_deref(), Some("!!str"));
        assert_eq!((props.end, props.content), (8, 15));

        let text = "!<tag:yaml.org,2002:str> &x, y";
        let props = read_properties(text, 0, text.len());
        assert_eq!(props.tag.as_deref(), Some("!<tag:yaml.org,2002:str>"));
        assert_eq!(props.anchor.as_deref(), Some("x"));
        assert_eq!(props.end, 27);

        // The second anchor belongs to the next node.
        let text = "&m\n&k key: v";
        let props = read_properties(text, 0, 3);
        assert_eq!(
            (props.anchor.as_deref(), props.end, props.content),
            (Some("m"), 2, 3)
        );
    }

    #[test]
    fn lines_and_markers() {
        let text = "ab\r\ncd\n\nx";
        assert_eq!(line_start(text, 5, 0), 4);
        assert_eq!(line_start(text, 5, 5), 5);
        assert_eq!(line_end(text, 4), 6);
        assert_eq!(next_line(text, 0), 4);
        assert_eq!(next_line(text, 9), 9);
        assert_eq!(after_marker("---  \nx", 3), 6);
        assert_eq!(after_marker("--- |\n", 3), 4);
        assert_eq!(after_marker("---", 3), 3);
        assert_eq!(skip_to_node("- ? # c\n  : |", 0), 12);
        assert_eq!(skip_to_node("-1", 0), 0);
        assert_eq!(quoted_end(r#"'it''s' # x'"#, 0), Some(7));
        assert_eq!(quoted_end(r#""a\"b\\" # x""#, 0), Some(8));
        assert_eq!(quoted_end("'open", 0), None);
        assert_eq!(line_column("a\néé: x", 6), (2, 3));
    }
}
