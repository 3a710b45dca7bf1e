//! The Kubernetes JSONPath subset used by the `jsonPath` modifier: parsed once, evaluated many times.
//!
//! Supported, with or without surrounding `{}` and an optional leading `$`:
//!
//! | syntax                      | selects                                                  |
//! |-----------------------------|----------------------------------------------------------|
//! | `.name`                     | the member `name` of a map (letters, digits, `_`, `-`)   |
//! | `['any key']`, `["any key"]`| the member with that exact key (dots, spaces, `/` allowed; no escapes) |
//! | `[2]`, `[-1]`               | a list item; negative indexes count from the end         |
//! | `[1:3]`, `[:2]`, `[1:]`, `[::2]` | a slice of a list (end exclusive, negative bounds count from the end, positive step) |
//! | `.*`, `[*]`                 | every value of a map or every item of a list             |
//! | `$` or `.` alone            | the whole input                                          |
//!
//! Not supported, rejected with an error naming the construct: recursive descent (`..`),
//! filters (`[?(...)]`), unions (`[0,1]`), the current-node `@`, and templates with several
//! `{...}` blocks (`range`/`end`, literal text between blocks).
//!
//! A step that does not apply (a name on a list, an index out of range) selects nothing rather
//! than failing; the caller decides what an empty result means.

use std::fmt;

use serde_json::Value;

/// A parsed JSONPath expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    /// The expression as written, trimmed (for messages).
    source: String,
    steps: Vec<Step>,
}

/// One selection step.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A map member.
    Member(String),
    /// A list item; negative counts from the end.
    Index(i64),
    /// A list slice with optional bounds and a step of at least 1.
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: u64,
    },
    /// Every value of a map or item of a list.
    Wildcard,
}

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at character {}", .position + 1)]
pub struct JsonPathError {
    /// 0-based character position in the trimmed expression.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl JsonPath {
    /// Parses `expression` (see the module documentation for the accepted syntax).
    pub fn parse(expression: &str) -> Result<Self, JsonPathError> {
        let source = expression.trim();
        let chars: Vec<char> = source.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
        };
        let steps = parser.expression()?;
        Ok(Self {
            source: source.to_owned(),
            steps,
        })
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Every value the expression selects in `root`, in document order.
    pub fn eval<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for value in current {
                step.select(value, &mut next);
            }
            current = next;
        }
        current
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Step {
    fn select<'a>(&self, value: &'a Value, out: &mut Vec<&'a Value>) {
        match (self, value) {
            (Self::Member(name), Value::Object(map)) => out.extend(map.get(name)),
            (Self::Index(index), Value::Array(items)) => {
                out.extend(resolve_index(*index, items.len()).and_then(|i| items.get(i)));
            }
            (Self::Slice { start, end, step }, Value::Array(items)) => {
                let len = items.len();
                let start = start.map_or(0, |s| clamp_bound(s, len));
                let end = end.map_or(len, |e| clamp_bound(e, len));
                let step = usize::try_from(*step).unwrap_or(usize::MAX);
                if start < end {
                    out.extend(items[start..end].iter().step_by(step));
                }
            }
            (Self::Wildcard, Value::Object(map)) => out.extend(map.values()),
            (Self::Wildcard, Value::Array(items)) => out.extend(items),
            _ => {}
        }
    }
}

/// Turns a possibly negative index into a position, `None` when out of range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let resolved = if index < 0 { len + index } else { index };
    if (0..len).contains(&resolved) {
        usize::try_from(resolved).ok()
    } else {
        None
    }
}

/// Turns a possibly negative slice bound into a position within `0..=len`.
fn clamp_bound(bound: i64, len: usize) -> usize {
    let Ok(signed_len) = i64::try_from(len) else {
        return len;
    };
    let resolved = if bound < 0 { signed_len + bound } else { bound };
    usize::try_from(resolved.clamp(0, signed_len)).unwrap_or(len)
}

/// A single-pass parser over the characters of an expression.
struct Parser<'c> {
    chars: &'c [char],
    pos: usize,
}

impl Parser<'_> {
    fn error<T>(&self, position: usize, message: impl Into<String>) -> Result<T, JsonPathError> {
        Err(JsonPathError {
            position,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// `{ path }` or `path`, where path is `$`? followed by steps.
    fn expression(&mut self) -> Result<Vec<Step>, JsonPathError> {
        let mut end = self.chars.len();
        if self.peek() == Some('{') {
            if self.chars.last() != Some(&'}') || self.chars.len() < 2 {
                return self.error(self.chars.len(), "missing closing \"}\"");
            }
            end -= 1;
            self.pos = 1;
            if let Some(inner) = self.chars[1..end]
                .iter()
                .position(|&c| c == '{' || c == '}')
            {
                return self.error(
                    inner + 1,
                    "templates with several {...} blocks (range, end, text) are not supported",
                );
            }
        }
        let body = Parser {
            chars: &self.chars[..end],
            pos: self.pos,
        };
        body.path()
    }

    fn path(mut self) -> Result<Vec<Step>, JsonPathError> {
        self.skip_spaces();
        let start = self.pos;
        if self.peek() == Some('$') {
            self.pos += 1;
        } else if self.peek() == Some('.') && self.rest_is_blank(1) {
            // `.` alone: the whole input.
            return Ok(Vec::new());
        }
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(c) if c.is_whitespace() => {
                    if self.rest_is_blank(0) {
                        break;
                    }
                    return self.error(self.pos, "unexpected space");
                }
                Some('.') => steps.push(self.dot()?),
                Some('[') => steps.push(self.bracket()?),
                Some('@') => {
                    return self.error(self.pos, "the current node \"@\" is not supported");
                }
                Some(c) => {
                    return self.error(self.pos, format!("expected \".\" or \"[\", found {c:?}"));
                }
            }
        }
        if steps.is_empty() && self.pos == start {
            return self.error(start, "empty expression");
        }
        Ok(steps)
    }

    fn rest_is_blank(&self, from: usize) -> bool {
        self.chars
            .get(self.pos + from..)
            .is_none_or(|rest| rest.iter().all(|c| c.is_whitespace()))
    }

    /// `.name` or `.*`; the cursor is on the dot.
    fn dot(&mut self) -> Result<Step, JsonPathError> {
        let dot = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('.') => self.error(dot, "recursive descent (\"..\") is not supported"),
            Some('*') => {
                self.pos += 1;
                Ok(Step::Wildcard)
            }
            Some('[') => self.bracket(),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return match self.peek() {
                        None => self.error(start, "expected a name after \".\""),
                        Some(c) => self.error(
                            start,
                            format!(
                                "expected a name after \".\", found {c:?} (use ['...'] for other keys)"
                            ),
                        ),
                    };
                }
                Ok(Step::Member(self.chars[start..self.pos].iter().collect()))
            }
        }
    }

    /// `[...]`; the cursor is on the `[`.
    fn bracket(&mut self) -> Result<Step, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_spaces();
        let step = match self.peek() {
            None => return self.error(open, "missing closing \"]\""),
            Some(quote @ ('\'' | '"')) => self.quoted(quote)?,
            Some('*') => {
                self.pos += 1;
                Step::Wildcard
            }
            Some('?') => return self.error(self.pos, "filters (\"[?(...)]\") are not supported"),
            Some('(') => return self.error(self.pos, "script expressions are not supported"),
            Some(_) => self.index_or_slice()?,
        };
        self.skip_spaces();
        match self.peek() {
            Some(']') => {
                self.pos += 1;
                Ok(step)
            }
            Some(',') => self.error(self.pos, "unions (\"[a,b]\") are not supported"),
            None => self.error(open, "missing closing \"]\""),
            Some(c) => self.error(self.pos, format!("expected \"]\", found {c:?}")),
        }
    }

    fn quoted(&mut self, quote: char) -> Result<Step, JsonPathError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != quote) {
            self.pos += 1;
        }
        if self.peek().is_none() {
            return self.error(open, format!("missing closing {quote}"));
        }
        let name = self.chars[start..self.pos].iter().collect();
        self.pos += 1;
        Ok(Step::Member(name))
    }

    /// `n`, `a:b`, `a:b:c` with every part optional except in a plain index.
    fn index_or_slice(&mut self) -> Result<Step, JsonPathError> {
        let first = self.integer()?;
        self.skip_spaces();
        if self.peek() != Some(':') {
            return match first {
                Some(index) => Ok(Step::Index(index)),
                None => match self.peek() {
                    Some(c) => self.error(self.pos, format!("unexpected {c:?} inside [...]")),
                    None => self.error(self.pos, "missing closing \"]\""),
                },
            };
        }
        self.pos += 1;
        let end = self.integer()?;
        self.skip_spaces();
        let mut step = 1;
        if self.peek() == Some(':') {
            self.pos += 1;
            let at = self.pos;
            match self.integer()? {
                None => {}
                Some(n) if n > 0 => step = n.unsigned_abs(),
                Some(_) => return self.error(at, "slice step must be a positive integer"),
            }
        }
        Ok(Step::Slice {
            start: first,
            end,
            step,
        })
    }

    /// An optional signed decimal integer, after optional spaces.
    fn integer(&mut self) -> Result<Option<i64>, JsonPathError> {
        self.skip_spaces();
        let start = self.pos;
        if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.parse() {
            Ok(n) => Ok(Some(n)),
            Err(_) => self.error(start, "number out of range"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({
            "a": {"b": "deep", "n": 7},
            "dash-key": 1,
            "key.with.dots": "dotted",
            "list": ["x", "y", "z", "w"],
            "items": [{"name": "one", "v": 1}, {"name": "two"}, {"name": "three", "v": 3}],
            "empty": {},
        })
    }

    /// Evaluates `expression` on [`doc`] and renders the results as compact JSON joined by spaces.
    fn eval(expression: &str) -> String {
        let path = JsonPath::parse(expression).expect("test expression parses");
        let root = doc();
        path.eval(&root)
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn error(expression: &str) -> String {
        match JsonPath::parse(expression) {
            Ok(path) => panic!("{expression:?} parsed as {path:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn selects() {
        #[rustfmt::skip]
        let cases = [
            ("{.a.b}", r#""deep""#),
            (".a.b", r#""deep""#),
            ("$.a.b", r#""deep""#),
            ("{$.a.b}", r#""deep""#),
            ("  { .a.n }  ", "7"),
            (".dash-key", "1"),
            ("['key.with.dots']", r#""dotted""#),
            (r#"["key.with.dots"]"#, r#""dotted""#),
            (".a['b']", r#""deep""#),
            (".a.['b']", r#""deep""#),
            ("$['a'][\"n\"]", "7"),
            (".list[0]", r#""x""#),
            (".list[ 1 ]", r#""y""#),
            (".list[-1]", r#""w""#),
            (".list[-4]", r#""x""#),
            (".list[4]", ""),
            (".list[-5]", ""),
            (".list[*]", r#""x" "y" "z" "w""#),
            (".list.*", r#""x" "y" "z" "w""#),
            (".list[1:3]", r#""y" "z""#),
            (".list[:2]", r#""x" "y""#),
            (".list[2:]", r#""z" "w""#),
            (".list[-2:]", r#""z" "w""#),
            (".list[:-3]", r#""x""#),
            (".list[::2]", r#""x" "z""#),
            (".list[1::2]", r#""y" "w""#),
            (".list[3:1]", ""),
            (".list[0:100]", r#""x" "y" "z" "w""#),
            (".a.*", r#""deep" 7"#),
            (".a[*]", r#""deep" 7"#),
            (".items[*].name", r#""one" "two" "three""#),
            (".items[*].v", "1 3"),
            (".items[1:].name", r#""two" "three""#),
            (".empty.*", ""),
            (".missing", ""),
            (".a.b.c", ""),
            (".list.a", ""),
            (".a[0]", ""),
            ("$", &doc().to_string()),
            ("{.}", &doc().to_string()),
            ("{$}", &doc().to_string()),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression), expected, "expression {expression:?}");
        }
    }

    #[test]
    fn rejects() {
        #[rustfmt::skip]
        let cases = [
            ("", "empty expression at character 1"),
            ("{}", "empty expression at character 2"),
            ("{.a", r#"missing closing "}" at character 4"#),
            ("{.a}{.b}", "templates with several {...} blocks (range, end, text) are not supported at character 4"),
            ("{range .items[*]}{.name}{end}", "templates with several {...} blocks (range, end, text) are not supported at character 17"),
            ("..a", r#"recursive descent ("..") is not supported at character 1"#),
            ("{$..a}", r#"recursive descent ("..") is not supported at character 3"#),
            (".items[?(@.v==1)]", r#"filters ("[?(...)]") are not supported at character 8"#),
            (".items[(@.length-1)]", "script expressions are not supported at character 8"),
            (".list[0,1]", r#"unions ("[a,b]") are not supported at character 8"#),
            ("@.a", r#"the current node "@" is not supported at character 1"#),
            ("a.b", r#"expected "." or "[", found 'a' at character 1"#),
            (".a b", "unexpected space at character 3"),
            ("$.", r#"expected a name after "." at character 3"#),
            (".a.", r#"expected a name after "." at character 4"#),
            (".a/b", r#"expected "." or "[", found '/' at character 3"#),
            (".'a'", r#"expected a name after ".", found '\'' (use ['...'] for other keys) at character 2"#),
            (".list[", r#"missing closing "]" at character 6"#),
            (".list[0", r#"missing closing "]" at character 6"#),
            (".list[x]", "unexpected 'x' inside [...] at character 7"),
            (".list[0 x]", r#"expected "]", found 'x' at character 9"#),
            ("['a", "missing closing ' at character 2"),
            (".list[::0]", "slice step must be a positive integer at character 9"),
            (".list[::-1]", "slice step must be a positive integer at character 9"),
            (".list[99999999999999999999]", "number out of range at character 7"),
        ];
        for (expression, expected) in cases {
            assert_eq!(error(expression), expected, "expression {expression:?}");
        }
    }

    #[test]
    fn keeps_source_for_messages() {
        let path = JsonPath::parse("  {.a.b} ").expect("parses");
        assert_eq!(path.as_str(), "{.a.b}");
        assert_eq!(path.to_string(), "{.a.b}");
    }
}
