//! Parses a JSONPath template into segments and nodes, following the grammar of client-go's
//! `util/jsonpath/parser.go` (quoted keys re-read as field paths, unions split on `,`, filters
//! split at the first comparison operator).

use serde_json::Value;

use super::JsonPathError;

/// Deepest nesting of sub-expressions (unions, quoted keys, filter sides) and of `{range}`.
const MAX_NESTING: usize = 32;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Segment {
    /// Literal text between blocks.
    Text(String),
    /// A `{...}` block: its nodes, evaluated left to right.
    Action(Vec<Node>),
    /// `{range SELECTOR}BODY{end}`.
    Range {
        selector: Vec<Node>,
        body: Vec<Segment>,
    },
}

/// One step inside a block.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// `.name` (backslashes removed).
    Field(String),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..`: every map, list and non-empty text below, the input included.
    Recursive,
    /// `[start:end:step]` or `[index]`.
    Array(Slice),
    /// `[a,b]`: each branch applied to the same input.
    Union(Vec<Vec<Node>>),
    /// `[?(...)]`.
    Filter(Box<Filter>),
    /// A quoted text: one result whatever the input.
    Text(String),
    /// A number or boolean: one result per input item.
    Scalar(Value),
}

/// A slice end as client-go keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// `[a:]`: the length.
    Unknown,
    /// `[a:b]`.
    Known(i64),
    /// `[a]`: `a + 1`, wrapping to the length when it is 0.
    Derived(i64),
}

/// `[start:end:step]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slice {
    pub(super) start: Option<i64>,
    pub(super) end: End,
    pub(super) step: Option<i64>,
}

/// A comparison operator of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `[?(LEFT)]` (exists) or `[?(LEFT OP RIGHT)]`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub(super) left: Vec<Node>,
    pub(super) comparison: Option<(Comparison, Vec<Node>)>,
}

/// What a top-level block was.
enum Block {
    Nodes(Vec<Node>),
    Range(Vec<Node>),
    End,
}

/// Parses a whole template.
pub(super) fn template(chars: &[char]) -> Result<Vec<Segment>, JsonPathError> {
    let mut parser = Parser {
        chars,
        pos: 0,
        depth: 0,
    };
    // Stack of open ranges: (selector, segments before, position of the `{range`).
    let mut open: Vec<(Vec<Node>, Vec<Segment>, usize)> = Vec::new();
    let mut segments = Vec::new();
    let mut text = String::new();
    while let Some(c) = parser.peek() {
        if c != '{' {
            text.push(c);
            parser.pos += 1;
            continue;
        }
        if !text.is_empty() {
            segments.push(Segment::Text(std::mem::take(&mut text)));
        }
        let at = parser.pos;
        parser.pos += 1;
        match parser.block(true)? {
            Block::Nodes(nodes) => segments.push(Segment::Action(nodes)),
            Block::Range(selector) => {
                if open.len() >= MAX_NESTING {
                    return error(at, format!("ranges nested more than {MAX_NESTING} deep"));
                }
                open.push((selector, std::mem::take(&mut segments), at));
            }
            Block::End => {
                let Some((selector, before, _)) = open.pop() else {
                    return error(at, "{end} without a {range} to close");
                };
                let body = std::mem::replace(&mut segments, before);
                segments.push(Segment::Range { selector, body });
            }
        }
    }
    if let Some((_, _, at)) = open.pop() {
        return error(at, "{range ...} without its {end}");
    }
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    Ok(segments)
}

fn error<T>(position: usize, message: impl Into<String>) -> Result<T, JsonPathError> {
    Err(JsonPathError {
        position: Some(position),
        message: message.into(),
    })
}

/// client-go's terminators after a name.
fn is_terminator(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
    )
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

struct Parser<'c> {
    chars: &'c [char],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts_with(&self, prefix: &str) -> bool {
        prefix
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn text(&self, range: std::ops::Range<usize>) -> String {
        self.chars[range].iter().collect()
    }

    /// The inside of a block, the cursor just after its `{`; consumes the closing `}`.
    fn block(&mut self, top_level: bool) -> Result<Block, JsonPathError> {
        let open = self.pos.saturating_sub(1);
        let mut nodes: Vec<Node> = Vec::new();
        let mut control: Option<Block> = None;
        loop {
            if self.peek() == Some('}') {
                self.pos += 1;
                break;
            }
            if self.starts_with("[?(") {
                nodes.push(self.filter()?);
                continue;
            }
            if self.starts_with("..") {
                if nodes.last() == Some(&Node::Recursive) {
                    return error(self.pos, "\"..\" cannot follow \"..\"");
                }
                self.pos += 2;
                nodes.push(Node::Recursive);
                if self.peek().is_some_and(is_alphanumeric) {
                    nodes.push(self.field());
                }
                continue;
            }
            let at = self.pos;
            let Some(c) = self.peek() else {
                return error(open, "missing \"}\" to close this block");
            };
            match c {
                '\r' | '\n' => return error(open, "missing \"}\" to close this block"),
                ' ' | '@' | '$' => self.pos += 1,
                '[' => nodes.push(self.array()?),
                '"' | '\'' => nodes.push(self.quoted(c)?),
                '.' => {
                    self.pos += 1;
                    nodes.push(self.field());
                }
                '+' | '-' => nodes.push(self.number()?),
                c if c.is_ascii_digit() => nodes.push(self.number()?),
                c if is_alphanumeric(c) => {
                    while !is_terminator(self.peek()) {
                        self.pos += 1;
                    }
                    let word = self.text(at..self.pos);
                    match word.as_str() {
                        "true" => nodes.push(Node::Scalar(Value::Bool(true))),
                        "false" => nodes.push(Node::Scalar(Value::Bool(false))),
                        "range" if top_level && nodes.is_empty() && control.is_none() => {
                            control = Some(Block::Range(Vec::new()));
                        }
                        "end" if top_level && nodes.is_empty() && control.is_none() => {
                            control = Some(Block::End);
                        }
                        "range" | "end" => {
                            return error(
                                at,
                                format!(
                                    "\"{word}\" must open its own block: {{{word}{}}}",
                                    if word == "range" { " ..." } else { "" }
                                ),
                            );
                        }
                        _ => {
                            return error(
                                at,
                                format!("unknown word {word:?} (a key is written \".{word}\")"),
                            );
                        }
                    }
                }
                other => {
                    return error(at, format!("unexpected character {other:?}"));
                }
            }
        }
        Ok(match control {
            None => Block::Nodes(nodes),
            Some(Block::Range(_)) => Block::Range(nodes),
            Some(Block::End) if nodes.is_empty() => Block::End,
            Some(_) => return error(open, "{end} takes nothing else"),
        })
    }

    /// A name after `.`, up to a terminator; `\` escapes the next character.
    fn field(&mut self) -> Node {
        let start = self.pos;
        loop {
            match self.peek() {
                Some('\\') => self.pos = (self.pos + 2).min(self.chars.len()),
                c if is_terminator(c) => break,
                _ => self.pos += 1,
            }
        }
        let raw = self.text(start..self.pos);
        if raw == "*" {
            Node::Wildcard
        } else {
            Node::Field(raw.replace('\\', ""))
        }
    }

    fn number(&mut self) -> Result<Node, JsonPathError> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c == '.' || c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text = self.text(start..self.pos);
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Node::Scalar(Value::from(n)));
        }
        match text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => Ok(Node::Scalar(Value::Number(n))),
            None => error(start, format!("{text:?} is not a number")),
        }
    }

    /// A quoted text; the cursor is on the opening quote.
    fn quoted(&mut self, quote: char) -> Result<Node, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some('\n') => return error(open, format!("missing closing {quote}")),
                Some(c) if c == quote && self.chars[self.pos - 1] != '\\' => break,
                Some(_) => self.pos += 1,
            }
        }
        let inner = &self.chars[open + 1..self.pos];
        self.pos += 1;
        match unquote(inner, quote) {
            Some(text) => Ok(Node::Text(text)),
            None => error(open, "invalid escape in quoted text"),
        }
    }

    /// `[...]`; the cursor is on the `[`.
    fn array(&mut self) -> Result<Node, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some('\n') => return error(open, "missing \"]\""),
                Some(']') => break,
                Some(_) => self.pos += 1,
            }
        }
        let mut text = self.text(start..self.pos);
        self.pos += 1;
        if text == "*" {
            text = ":".to_owned();
        }
        if text.contains(',') {
            let mut branches = Vec::new();
            for part in text.split(',') {
                branches.push(self.sub(open, &format!("[{}]", part.trim_matches(' ')))?);
            }
            return Ok(Node::Union(branches));
        }
        if let Some(key) = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .filter(|key| text.len() >= 2 && !key.contains('\''))
        {
            let nodes = self.sub(open, &format!(".{key}"))?;
            return Ok(match <[Node; 1]>::try_from(nodes) {
                Ok([node]) => node,
                Err(nodes) => Node::Union(vec![nodes]),
            });
        }
        slice(&text)
            .map(Node::Array)
            .or_else(|message| error(open + 1, message))
    }

    /// `[?(...)]`; the cursor is on the `[`.
    fn filter(&mut self) -> Result<Node, JsonPathError> {
        let open = self.pos;
        self.pos += 3;
        let start = self.pos;
        let (mut begin, mut end, mut pair) = (false, false, '"');
        loop {
            let Some(c) = self.peek() else {
                return error(open, "missing \")]\" to close the filter");
            };
            self.pos += 1;
            match c {
                '\n' => return error(open, "missing \")]\" to close the filter"),
                '"' | '\'' if !begin => {
                    begin = true;
                    pair = c;
                }
                '"' | '\'' if self.chars[self.pos - 2] != '\\' && c == pair => end = true,
                ')' if begin == end => break,
                _ => {}
            }
        }
        let text = self.text(start..self.pos - 1);
        if self.peek() != Some(']') {
            return error(self.pos, "expected \"]\" after the filter's \")\"");
        }
        self.pos += 1;
        let operator = |c: char| matches!(c, '!' | '<' | '>' | '=');
        let split = text.find(operator).filter(|&at| at > 0).and_then(|at| {
            let rest = &text[at..];
            let len = rest.find(|c| !operator(c)).unwrap_or(rest.len());
            let right = &rest[len..];
            (!right.is_empty()).then(|| (&text[..at], &rest[..len], right))
        });
        let filter = match split {
            None => Filter {
                left: self.sub(open, &text)?,
                comparison: None,
            },
            Some((left, op, right)) => {
                let comparison = match op {
                    "==" => Comparison::Eq,
                    "!=" => Comparison::Ne,
                    "<" => Comparison::Lt,
                    "<=" => Comparison::Le,
                    ">" => Comparison::Gt,
                    ">=" => Comparison::Ge,
                    _ => {
                        return error(
                            open,
                            format!("unknown filter operator {op:?} (use ==, !=, <, <=, > or >=)"),
                        );
                    }
                };
                Filter {
                    left: self.sub(open, left)?,
                    comparison: Some((comparison, self.sub(open, right)?)),
                }
            }
        };
        Ok(Node::Filter(Box::new(filter)))
    }

    /// Parses `text` as the inside of a block (as client-go re-parses union branches, quoted
    /// keys and filter sides); errors point at `at`.
    fn sub(&self, at: usize, text: &str) -> Result<Vec<Node>, JsonPathError> {
        if self.depth >= MAX_NESTING {
            return error(at, format!("nested more than {MAX_NESTING} deep"));
        }
        let mut chars: Vec<char> = text.chars().collect();
        chars.push('}');
        let mut inner = Parser {
            chars: &chars,
            pos: 0,
            depth: self.depth + 1,
        };
        match inner.block(false) {
            Ok(Block::Nodes(nodes)) => Ok(nodes),
            Ok(_) => error(at, "range/end inside brackets"),
            Err(e) => error(at, format!("in {text:?}: {}", e.message)),
        }
    }
}

/// `start:end:step` as client-go's `^(-?\d*)(:-?\d*)?(:-?\d*)?$`.
fn slice(text: &str) -> Result<Slice, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let well_formed = parts.len() <= 3
        && parts.iter().all(|part| {
            let digits = part.strip_prefix('-').unwrap_or(part);
            digits.bytes().all(|b| b.is_ascii_digit())
        });
    if !well_formed {
        return Err(format!(
            "invalid index {text:?} (use [N], [start:end:step], [*], ['key'] or [a,b])"
        ));
    }
    let number = |part: &str| {
        part.parse::<i64>()
            .map_err(|_| format!("index {part:?} is not a number"))
    };
    let start = match parts[0] {
        "" => None,
        part => Some(number(part)?),
    };
    let end = match parts.get(1) {
        None => End::Derived(start.unwrap_or(0).wrapping_add(1)),
        Some(&"") => End::Unknown,
        Some(part) => End::Known(number(part)?),
    };
    let step = match parts.get(2) {
        None | Some(&"") => None,
        Some(part) => match number(part)? {
            n if n > 0 => Some(n),
            _ => return Err("slice step must be a positive integer".to_owned()),
        },
    };
    Ok(Slice { start, end, step })
}

/// Go's `strconv.UnquoteChar` loop over the inside of a quoted text.
fn unquote(inner: &[char], quote: char) -> Option<String> {
    if !inner.contains(&'\\') && !inner.contains(&quote) {
        return Some(inner.iter().collect());
    }
    let mut bytes = Vec::new();
    let mut chars = inner.iter().copied();
    let push = |bytes: &mut Vec<u8>, c: char| {
        let mut buf = [0; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            push(&mut bytes, c);
            continue;
        }
        let escaped = chars.next()?;
        let mut hex = |n: usize| -> Option<u32> {
            let mut value = 0;
            for _ in 0..n {
                value = value * 16 + chars.next()?.to_digit(16)?;
            }
            Some(value)
        };
        match escaped {
            'a' => bytes.push(7),
            'b' => bytes.push(8),
            'f' => bytes.push(12),
            'n' => bytes.push(b'\n'),
            'r' => bytes.push(b'\r'),
            't' => bytes.push(b'\t'),
            'v' => bytes.push(11),
            '\\' => bytes.push(b'\\'),
            '\'' | '"' if escaped == quote => push(&mut bytes, escaped),
            'x' => bytes.push(u8::try_from(hex(2)?).ok()?),
            'u' => push(&mut bytes, char::from_u32(hex(4)?)?),
            'U' => push(&mut bytes, char::from_u32(hex(8)?)?),
            '0'..='7' => {
                let mut value = escaped.to_digit(8)?;
                for _ in 0..2 {
                    value = value * 8 + chars.next()?.to_digit(8)?;
                }
                bytes.push(u8::try_from(value).ok()?);
            }
            _ => return None,
        }
    }
    String::from_utf8(bytes).ok()
}
