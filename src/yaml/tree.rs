//! Builds documents of nodes with byte spans from saphyr-parser's events for one piece of text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle as ParserStyle, Span};

use super::lexical::{self, Properties};
use super::offsets::ByteOffsets;
use super::{Document, MAX_DEPTH, Node, NodeKind, ScalarStyle, SyntaxError};

/// Node span → where the node's text starts when that is before the span (at its anchor or tag,
/// or at its `?` as an explicit key).
pub(super) type Starts = HashMap<(usize, usize), usize>;

/// The documents of a piece of a stream.
pub(super) struct Parsed {
    pub(super) documents: Vec<Document>,
    /// For nodes written with an anchor or tag, or as an explicit key: node span → where the
    /// node's text starts, at its anchor, tag or `?` (filled only on request).
    pub(super) starts: Starts,
}

/// saphyr-parser rejects a tab after a mapping's `:` when a letter, digit or `-` follows
/// (`key:\tvalue`), which YAML allows and go-yaml reads.
const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// Parses `text`, a piece of a stream that starts at byte `base` and after `lines` line breaks,
/// and keeps every document.
pub(super) fn parse_piece(
    text: &str,
    base: usize,
    lines: usize,
    record_starts: bool,
) -> Result<Parsed, SyntaxError> {
    let mut documents = Vec::new();
    let built = build(text, base, lines, record_starts, &mut |d| documents.push(d));
    match built {
        Ok(starts) => Ok(Parsed { documents, starts }),
        Err(error) if error.message == TAB_AFTER_COLON => {
            parse_with_spaces_after_colons(text, base, lines, record_starts, error)
        }
        Err(error) => Err(error),
    }
}

/// Parses `text` like [`parse_piece`], but hands each document to `each` as soon as it is
/// complete and keeps only what `each` returns, so that no more than one document's tree is
/// held at a time.
pub(super) fn parse_piece_with<S, T>(
    text: &str,
    base: usize,
    lines: usize,
    state: &mut S,
    start: &(dyn Fn() -> S + Sync),
    each: &(dyn Fn(&mut S, Document) -> T + Sync),
) -> Result<Vec<T>, SyntaxError> {
    let mut kept = Vec::new();
    let built = build(text, base, lines, false, &mut |d| kept.push(each(state, d)));
    match built {
        Ok(_) => Ok(kept),
        Err(error) if error.message == TAB_AFTER_COLON => {
            drop(kept);
            // What the first attempt left in the state is thrown away with its documents.
            *state = start();
            let parsed = parse_with_spaces_after_colons(text, base, lines, false, error)?;
            Ok(parsed
                .documents
                .into_iter()
                .map(|d| each(state, d))
                .collect())
        }
        Err(error) => Err(error),
    }
}

/// Parses again with every `:` + tab written as `:` + space. Both have the same length, so spans
/// stay exact; a replaced tab that turns out to sit inside a quoted or block scalar (where it is
/// content, not separation) is put back and the piece parsed once more.
fn parse_with_spaces_after_colons(
    text: &str,
    base: usize,
    lines: usize,
    record_starts: bool,
    first_error: SyntaxError,
) -> Result<Parsed, SyntaxError> {
    let bytes = text.as_bytes();
    let mut patched: Vec<usize> = bytes
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair == b":\t")
        .map(|(i, _)| i + 1)
        .collect();
    for _ in 0..4 {
        let mut copy = bytes.to_vec();
        for &at in &patched {
            copy[at] = b' ';
        }
        let Ok(copy) = String::from_utf8(copy) else {
            break;
        };
        let mut documents = Vec::new();
        let starts = build(&copy, base, lines, record_starts, &mut |d| {
            documents.push(d)
        })?;
        let written = written_scalars(&documents);
        let inside_scalars: Vec<usize> = patched
            .iter()
            .copied()
            .filter(|&at| {
                let at = base + at;
                let after = written.partition_point(|span| span.start <= at);
                after > 0 && written[after - 1].contains(&at)
            })
            .collect();
        if inside_scalars.is_empty() {
            return Ok(Parsed { documents, starts });
        }
        patched.retain(|at| inside_scalars.binary_search(at).is_err());
    }
    Err(first_error)
}

/// The spans of all quoted and block scalars, in order (scalars never nest).
fn written_scalars(documents: &[Document]) -> Vec<Range<usize>> {
    documents
        .iter()
        .filter_map(|doc| doc.root.as_ref())
        .flat_map(nodes)
        .filter(|node| {
            matches!(&node.kind, NodeKind::Scalar { style, .. } if *style != ScalarStyle::Plain)
        })
        .map(|node| node.span.clone())
        .collect()
}

/// Every node of the tree under `root` (itself included), parents before children.
pub(crate) fn nodes(root: &Node) -> impl Iterator<Item = &Node> {
    let mut pending = vec![root];
    std::iter::from_fn(move || {
        let node = pending.pop()?;
        match &node.kind {
            NodeKind::Mapping(entries) => {
                for (key, value) in entries.iter().rev() {
                    pending.push(value);
                    pending.push(key);
                }
            }
            NodeKind::Sequence(items) => pending.extend(items.iter().rev()),
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
        Some(node)
    })
}

/// Builds the documents of `text` and hands each to `each` when it ends; returns the starts
/// recorded on request.
fn build(
    text: &str,
    base: usize,
    lines: usize,
    record_starts: bool,
    each: &mut dyn FnMut(Document),
) -> Result<Starts, SyntaxError> {
    let mut builder = Builder::new(text, base, record_starts, each);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| SyntaxError {
            line: lines + error.marker().line(),
            column: error.marker().col() + 1,
            message: error.info().to_owned(),
        })?;
        builder.event(event, span).map_err(|error| SyntaxError {
            line: lines + error.line,
            ..error
        })?;
    }
    Ok(builder.starts.unwrap_or_default())
}

/// A collection whose end has not been seen yet. Its children wait on the builder's shared
/// `children` stack from index `first_child` on (keys and values alternating for a mapping),
/// so each collection gets one exactly sized vector when it closes.
struct Open {
    start: usize,
    anchor: Option<String>,
    flow: bool,
    mapping: bool,
    /// Where it starts before its span: at its anchor or tag, or at its `?` as an explicit key.
    props_start: Option<usize>,
    first_child: usize,
    /// End of the last child so far (piece-relative).
    end: usize,
}

/// Positions inside the builder are relative to the piece; nodes get `base` added.
struct Builder<'t, 'e> {
    text: &'t str,
    base: usize,
    offsets: ByteOffsets<'t>,
    open: Vec<Open>,
    children: Vec<Node>,
    /// Takes each document when it ends.
    each: &'e mut dyn FnMut(Document),
    root: Option<Node>,
    doc_start: usize,
    /// Where an implicit document (one without `---`) starts.
    boundary: usize,
    /// End of the last thing read: block scalar headers are searched from here.
    last_end: usize,
    starts: Option<Starts>,
}

impl<'t, 'e> Builder<'t, 'e> {
    fn new(
        text: &'t str,
        base: usize,
        record_starts: bool,
        each: &'e mut dyn FnMut(Document),
    ) -> Self {
        let boundary = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Builder {
            text,
            base,
            offsets: ByteOffsets::new(text),
            open: Vec::new(),
            children: Vec::new(),
            each,
            root: None,
            doc_start: boundary,
            boundary,
            last_end: boundary,
            starts: record_starts.then(HashMap::new),
        }
    }

    fn bytes(&mut self, span: Span) -> (usize, usize) {
        let start = self.offsets.byte(span.start.index());
        (start, self.offsets.byte(span.end.index()))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(explicit) => {
                let start = if explicit {
                    // The parser miscounts the characters of a `%` directive line that holds
                    // non-ASCII text, and every position after it is off: refuse, rather than
                    // edit the wrong bytes (found by fuzzing).
                    let (marker_start, marker_end) = self.bytes(span);
                    if self.text.get(marker_start..marker_end) != Some("---") {
                        return Err(SyntaxError {
                            line: span.start.line(),
                            column: span.start.col() + 1,
                            message: "a directive line (starting with %) holds characters outside \
                                      ASCII before this document; write directives in ASCII"
                                .to_owned(),
                        });
                    }
                    lexical::after_marker(self.text, marker_end)
                } else {
                    lexical::skip_document_ends(self.text, self.boundary)
                };
                self.doc_start = start;
                self.last_end = start;
            }
            Event::DocumentEnd => self.end_document(span),
            Event::Alias(_) => {
                let (start, end) = self.bytes(span);
                let name = self.text[start..end].trim_start_matches('*').to_owned();
                self.record_start(start..end, None);
                self.last_end = self.last_end.max(end);
                self.add(
                    Node {
                        span: self.base + start..self.base + end,
                        anchor: None,
                        kind: NodeKind::Alias(name),
                    },
                    end,
                );
            }
            Event::Scalar(value, style, anchor_id, tag) => {
                self.scalar(value, style, anchor_id != 0 || tag.is_some(), span)?;
            }
            Event::SequenceStart(anchor_id, tag) => {
                self.open(false, anchor_id != 0 || tag.is_some(), span)?;
            }
            Event::MappingStart(anchor_id, tag) => {
                self.open(true, anchor_id != 0 || tag.is_some(), span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span),
        }
        Ok(())
    }

    fn end_document(&mut self, span: Span) {
        let at = self.offsets.byte(span.start.index());
        let rest = &self.text[at..];
        let end = if rest.starts_with("...") {
            self.boundary = lexical::next_line(self.text, at);
            at
        } else if rest.starts_with("---") {
            at
        } else {
            self.text.len()
        };
        let root = self.root.take().filter(|root| !is_empty_null(root));
        (self.each)(Document {
            range: self.base + self.doc_start..self.base + end.max(self.doc_start),
            root,
        });
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ParserStyle,
        has_props: bool,
        span: Span,
    ) -> Result<(), SyntaxError> {
        let (start, end) = self.bytes(span);
        let props = if has_props {
            lexical::read_properties(self.text, start, end)
        } else {
            Properties {
                end: start,
                content: start,
                ..Properties::default()
            }
        };
        let style = match style {
            ParserStyle::Plain => ScalarStyle::Plain,
            ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            ParserStyle::Literal => ScalarStyle::Literal,
            ParserStyle::Folded => ScalarStyle::Folded,
        };
        let range = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                self.block_scalar_span(start, end, &props, has_props)
            }
            ScalarStyle::Plain if value.is_empty() => {
                let at = if has_props {
                    props.end
                } else {
                    self.empty_position(start)
                };
                at..at
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                // The parser's span runs on over blanks and a comment after the closing quote.
                let start = props.content.min(end);
                start..lexical::quoted_end(self.text, start).map_or(end, |close| close.min(end))
            }
            ScalarStyle::Plain => props.content.min(end)..end,
        };
        // YAML's indicators cannot start a plain scalar; the parser lets `|` and `>` do so in a
        // flow collection (`[|+]`), where an edit would take them for a block scalar's header
        // (found by fuzzing).
        if style == ScalarStyle::Plain
            && !value.is_empty()
            && matches!(self.text.as_bytes().get(range.start), Some(b'|' | b'>'))
        {
            return Err(SyntaxError {
                line: span.start.line(),
                column: span.start.col() + 1,
                message: "a plain scalar cannot start with | or >: quote it".to_owned(),
            });
        }
        self.record_start(range.clone(), has_props.then_some(start));
        self.last_end = self.last_end.max(range.end);
        let mut value = value.into_owned();
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            chomp(&mut value, lexical::block_chomping(self.text, range.start));
        }
        // The parser gives a block scalar whose last line ends the text without a line break
        // the break it did not have (`s: |` + `echo hi` is "echo hi", not "echo hi\n").
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            && range.end == self.text.len()
            && !self.text.ends_with(['\n', '\r'])
            && value.ends_with('\n')
        {
            value.pop();
        }
        let node = Node {
            span: self.base + range.start..self.base + range.end,
            anchor: props.anchor,
            kind: NodeKind::Scalar {
                value,
                style,
                tag: props.tag,
            },
        };
        self.add(node, range.end);
        Ok(())
    }

    /// Notes where the node at `span` starts when that is not its span's start: at its anchor
    /// or tag (`props_start`), or at the `?` when it is an explicit key. Only when asked to.
    fn record_start(&mut self, span: Range<usize>, props_start: Option<usize>) {
        if self.starts.is_none() {
            return;
        }
        let start = self.key_indicator().or(props_start);
        if let (Some(starts), Some(start)) = (&mut self.starts, start) {
            starts.insert(
                (self.base + span.start, self.base + span.end),
                self.base + start,
            );
        }
    }

    /// The position of the `?` before the node about to be added, when it is a mapping key
    /// written as an explicit key.
    fn key_indicator(&self) -> Option<usize> {
        let open = self.open.last()?;
        if !open.mapping || !(self.children.len() - open.first_child).is_multiple_of(2) {
            return None;
        }
        let at = lexical::skip_separation(self.text, self.last_end);
        let question = self.text.as_bytes().get(at) == Some(&b'?');
        lexical::indicator_end(self.text, at)
            .filter(|_| question)
            .map(|_| at)
    }

    /// Where an empty scalar without starts sits: right after the indicator that introduced
    /// it (`?` for a key, `:` for a value, `-` for a sequence item); a key without `?` where the
    /// parser says (before its `:`), a value without `:` right after its key.
    fn empty_position(&self, parser_start: usize) -> usize {
        let at = lexical::skip_separation(self.text, self.last_end);
        let indicator = self.text.as_bytes().get(at).copied();
        let after = lexical::indicator_end(self.text, at);
        match self.open.last() {
            Some(open)
                if open.mapping && (self.children.len() - open.first_child).is_multiple_of(2) =>
            {
                return after
                    .filter(|_| indicator == Some(b'?'))
                    .unwrap_or(parser_start);
            }
            // After a key, the next `:` is its value indicator, also when `,` or `}` follows.
            Some(open) if open.mapping => (indicator == Some(b':')).then_some(at + 1),
            Some(_) => after.filter(|_| indicator == Some(b'-')),
            None => None,
        }
        .unwrap_or(self.last_end)
    }

    /// The span of a literal or folded scalar: from its `|`/`>` header through the end of its
    /// last line (before that line's break). Trailing empty lines count only with `+` chomping,
    /// where they are content. The parser's own span starts at the content (or at the
    /// starts) and ends after the indentation of the line that follows.
    fn block_scalar_span(
        &self,
        start: usize,
        end: usize,
        props: &Properties,
        has_props: bool,
    ) -> Range<usize> {
        let text = self.text;
        let bytes = text.as_bytes();
        let header = if has_props {
            props.content
        } else {
            lexical::skip_to_node(text, self.last_end)
        };
        if header > end || !matches!(bytes.get(header), Some(b'|' | b'>')) {
            return start..end;
        }
        let mut indicators_end = header + 1;
        let mut keep = false;
        while indicators_end < bytes.len()
            && indicators_end < header + 3
            && matches!(bytes[indicators_end], b'+' | b'-' | b'1'..=b'9')
        {
            keep |= bytes[indicators_end] == b'+';
            indicators_end += 1;
        }
        // Without content lines, the header line (with any comment on it) is the whole scalar.
        let header_line_end = lexical::line_end(text, header);
        let header_end = header
            + text[header..header_line_end]
                .trim_end_matches([' ', '\t'])
                .len();
        let Some(first_line) = lexical::after_break(text, header_line_end) else {
            return header..header_end;
        };
        let mut lines: Vec<Range<usize>> = Vec::new();
        let mut at = first_line;
        while at < end {
            let line_end = lexical::line_end(text, at);
            if line_end >= end {
                // Either the indentation of the line after the scalar, or a last line without a
                // line break at the end of the text.
                if end == text.len() && at < end {
                    lines.push(at..end);
                }
                break;
            }
            lines.push(at..line_end);
            at = lexical::after_break(text, line_end).unwrap_or(line_end);
        }
        let has_text = |line: &Range<usize>| bytes[line.clone()].iter().any(|&b| b != b' ');
        let indent = if !has_props && start >= first_line {
            start - lexical::line_start(text, start, first_line)
        } else {
            lines
                .iter()
                .filter(|line| has_text(line))
                .map(|line| {
                    bytes[line.clone()]
                        .iter()
                        .take_while(|&&b| b == b' ')
                        .count()
                })
                .min()
                .unwrap_or(usize::MAX)
        };
        let last = if keep {
            lines.last()
        } else {
            lines
                .iter()
                .rev()
                .find(|line| has_text(line) || line.len() > indent)
        };
        match last {
            Some(line) => header..line.end,
            None => header..header_end,
        }
    }

    fn open(&mut self, mapping: bool, has_props: bool, span: Span) -> Result<(), SyntaxError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                line: span.start.line(),
                column: span.start.col() + 1,
                message: format!("collections nest deeper than {MAX_DEPTH} levels"),
            });
        }
        let (start, end) = self.bytes(span);
        let props = if has_props {
            lexical::read_properties(self.text, start, end.max(start + 1))
        } else {
            Properties {
                end: start,
                content: start,
                ..Properties::default()
            }
        };
        let content = props.content;
        // The parser's span of a flow collection's start holds its bracket (and any blanks
        // after it); that of a block collection is empty (or holds only starts), and may
        // point at the first item, which can be a flow collection.
        let bytes = self.text.as_bytes();
        let bracket = if mapping { b'{' } else { b'[' };
        let flow = end > content && bytes.get(content) == Some(&bracket);
        let node_start = if flow || mapping {
            content
        } else {
            dash_before(self.text, content)
        };
        self.last_end = self
            .last_end
            .max(if flow { node_start + 1 } else { node_start });
        self.open.push(Open {
            start: node_start,
            anchor: props.anchor,
            flow,
            mapping,
            props_start: self
                .starts
                .as_ref()
                .and_then(|_| self.key_indicator().or(has_props.then_some(start))),
            first_child: self.children.len(),
            end: if flow { node_start + 1 } else { node_start },
        });
        Ok(())
    }

    fn close(&mut self, span: Span) {
        let Some(open) = self.open.pop() else {
            return;
        };
        let end = if open.flow {
            // The parser's span of the closing bracket may start at a trailing comma and run on
            // over a comment after the bracket.
            let (mut close, end) = self.bytes(span);
            let bytes = self.text.as_bytes();
            loop {
                close = lexical::skip_separation(self.text, close);
                if bytes.get(close) != Some(&b',') {
                    break;
                }
                close += 1;
            }
            match bytes.get(close) {
                Some(b']' | b'}') => close + 1,
                _ => end,
            }
        } else {
            open.end
        };
        self.last_end = self.last_end.max(end);
        if let (Some(starts), Some(props_start)) = (&mut self.starts, open.props_start) {
            starts.insert(
                (self.base + open.start, self.base + end),
                self.base + props_start,
            );
        }
        let children = self.children.drain(open.first_child..);
        let kind = if open.mapping {
            let mut entries = Vec::with_capacity(children.len() / 2);
            let mut children = children;
            while let (Some(key), Some(value)) = (children.next(), children.next()) {
                entries.push((key, value));
            }
            NodeKind::Mapping(entries)
        } else {
            NodeKind::Sequence(children.collect())
        };
        let node = Node {
            span: self.base + open.start..self.base + end,
            anchor: open.anchor,
            kind,
        };
        self.add(node, end);
    }

    fn add(&mut self, node: Node, end: usize) {
        let Some(open) = self.open.last_mut() else {
            self.root = Some(node);
            return;
        };
        open.end = open.end.max(end);
        self.children.push(node);
    }
}

/// A block sequence starts at its first `-`; the parser reports either that dash or, for a
/// sequence as indented as its parent mapping, the end of the dash's line after blanks and a
/// comment. Such a dash is the first thing on its line.
/// A `-` is that dash only when a blank, a line break or the end follows it: an item such as
/// `-1` or `--flag` starts with a dash of its own.
fn dash_before(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let is_indicator = |i: usize| lexical::indicator_end(text, i).is_some() && bytes[i] == b'-';
    if is_indicator(at) {
        return at;
    }
    let mut dash = lexical::line_start(text, at, 0);
    while dash < at && lexical::is_blank(bytes[dash]) {
        dash += 1;
    }
    if dash < at && is_indicator(dash) {
        dash
    } else {
        at
    }
}

/// The empty plain scalar the parser reports for a document without content.
fn is_empty_null(node: &Node) -> bool {
    node.anchor.is_none()
        && matches!(&node.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain, tag: None } if value.is_empty())
}

/// Applies a block scalar's chomping to the parser's value, which at the end of the text can
/// carry a break too many: clipping keeps at most one final line break, stripping none.
fn chomp(value: &mut String, chomping: lexical::Chomping) {
    let breaks = value.len() - value.trim_end_matches('\n').len();
    let keep = match chomping {
        lexical::Chomping::Keep => return,
        lexical::Chomping::Clip => breaks.min(1),
        lexical::Chomping::Strip => 0,
    };
    value.truncate(value.len() - breaks + keep);
}
