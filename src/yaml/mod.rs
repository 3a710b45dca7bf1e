//! YAML streams as documents of nodes with byte spans, and in-place edits of their text.
//!
//! Manifests are never re-emitted from a value tree: [`parse_stream`] records where every node
//! was written (byte ranges into the stream) and [`edit::apply`] rewrites only those ranges, so
//! comments, quoting, key order and everything else not replaced stay byte for byte.

use std::ops::Range;

pub(crate) use lexical::{indentation, next_line};
pub(crate) use tree::nodes;

pub mod edit;
pub mod ending;
mod lexical;
mod offsets;
mod stream;
mod tree;
pub mod value;
mod write;

/// A YAML syntax error, positioned in the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's description (never the offending text itself).
    pub message: String,
}

/// One document of a stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// Byte range of the document's own text in the stream: without its `---` marker line and
    /// without a trailing `...` line, but with its comments. When content follows `--- ` on the
    /// marker's line, the range starts at that content.
    pub range: Range<usize>,
    /// The root node; `None` for an empty or comment-only document.
    pub root: Option<Node>,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// A node of the tree, with the byte range of its text in the stream.
#[derive(Debug, Clone)]
pub struct Node {
    /// Byte range in the stream text (for a scalar: exactly the characters that make it up,
    /// quotes included; for a block scalar the `|`/`>` header included).
    ///
    /// Anchors and tags lie before the span. A block scalar's span ends with its last content
    /// line, before that line's break (with `+` chomping, after the empty lines it keeps); an
    /// empty scalar's span is empty, right after the `:` or `-` that introduced it (after its
    /// anchor or tag, if written). A block collection runs from its first key (or dash) to the
    /// end of its last node, a flow collection from its opening to its closing bracket.
    pub span: Range<usize>,
    /// The anchor (`&name`) defined on this node, if any.
    pub anchor: Option<String>,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The content of a node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A scalar with its decoded value.
    Scalar {
        /// The value after YAML unescaping and folding.
        value: String,
        /// How it was written.
        style: ScalarStyle,
        /// An explicit tag such as `!!binary`, as written (`!!str`, `!custom`, `!<tag:…>`).
        tag: Option<String>,
    },
    /// A mapping: key and value nodes in document order.
    Mapping(Vec<(Node, Node)>),
    /// A sequence.
    Sequence(Vec<Node>),
    /// An alias `*name` (the anchored node is edited at its anchor, never through an alias).
    Alias(String),
}

impl Node {
    /// The value of a scalar node.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value node stored under the scalar key `key`, for a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses a multi-document stream. Byte offsets in the result index into `text`.
///
/// Every document of the stream comes back in order, with the byte range of its own text (see
/// [`Document::range`]). A stream holding only comments yields one document without a root, so
/// the comments have a place to live; an empty or blank stream yields none. Text outside every
/// document's range (`---` and `...` lines, directives, a byte order mark) is not part of any
/// document: a caller that rebuilds the stream copies it as it is.
///
/// Large streams are cut at their `---` lines (which no YAML scalar may contain) and the pieces
/// parsed on several threads; the result is the same as parsing them one after the other.
///
/// # Errors
///
/// [`SyntaxError`] for the first syntax error in the stream, or for nesting deeper than
/// [`MAX_DEPTH`] collections.
pub fn parse_stream(text: &str) -> Result<Vec<Document>, SyntaxError> {
    parse_stream_with(text, |document| document)
}

/// Parses a multi-document stream like [`parse_stream`], but hands each document to `each` as
/// soon as it is complete and keeps only what `each` returns, in stream order.
///
/// A caller that needs only a few facts of each document holds one tree per parsing thread
/// instead of the whole stream's: a tree weighs many times the text it was read from. `each`
/// may run on several threads at once and must not rely on the order of its calls.
///
/// # Errors
///
/// As [`parse_stream`]. Documents before the error may already have been handed to `each`.
pub fn parse_stream_with<T: Send>(
    text: &str,
    each: impl Fn(Document) -> T + Sync,
) -> Result<Vec<T>, SyntaxError> {
    let mut pieces = stream::parse(text, &|| (), &|_, document| each(document))?.into_iter();
    let Some((_, mut documents)) = pieces.next() else {
        return Ok(Vec::new());
    };
    for (_, more) in pieces {
        documents.extend(more);
    }
    Ok(documents)
}

/// Parses like [`parse_stream_with`], giving each piece of the stream parsed on one thread a
/// state of its own (from `start`) that `each` gets with the piece's documents; returns every
/// piece's state with what `each` returned for its documents, in stream order. A caller keeps
/// what it learns of many documents in a few large buffers per piece instead of allocations per
/// document.
///
/// # Errors
///
/// As [`parse_stream`].
pub fn parse_stream_in_pieces<S: Send, T: Send>(
    text: &str,
    start: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, Document) -> T + Sync,
) -> Result<Vec<(S, Vec<T>)>, SyntaxError> {
    stream::parse(text, &start, &each)
}

/// `value` as one line of flow YAML (JSON, with YAML's line breaks and controls escaped) that
/// YAML 1.1 and 1.2 readers read back as exactly that value.
pub fn to_flow(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write::flow(value, &mut out);
    out
}

/// How deeply collections may nest before [`parse_stream`] gives up (Kubernetes manifests stay
/// far below; the limit keeps hostile input from exhausting the stack in recursive walks).
pub const MAX_DEPTH: usize = 1000;

#[cfg(test)]
mod edit_tests;
#[cfg(test)]
mod parse_tests;
