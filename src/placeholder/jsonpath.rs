//! Kubernetes JSONPath templates for the `jsonPath` modifier, evaluated as client-go's
//! `k8s.io/client-go/util/jsonpath` does (argocd-vault-plugin uses it, missing keys not
//! allowed, the result printed as text). Parsed once, evaluated per value.
//!
//! A template is literal text with `{...}` blocks: `{.a.b}`, `{.items[*].name}`,
//! `{.a}:{.b}`, `{range .items[*]}{.name},{end}`, `{'['}` (quoted text, Go escapes).
//! Inside a block: `.name` (`\.` escapes a dot), `.*`/`[*]`, `..` (recursive descent), `[N]`
//! (negative from the end), `[start:end:step]`, `[a,b]` and `['a','b']` (unions; a quoted key
//! is read as a path, `['a.b']` is `.a.b`), filters `[?(@.x == "y")]` with `==`, `!=`, `<`,
//! `<=`, `>`, `>=` or alone (exists), `@`/`$` (the current value), numbers and `true`/`false`.
//! Results of one block are separated by a space; maps and lists print as compact JSON
//! (sorted keys, `<>&` escaped), text as is, numbers and booleans as written, null as `null`.
//! A missing key, an index out of range or indexing a map is an error, as in client-go.
//!
//! Where this differs from client-go, on purpose: a template without any `{...}` block, a
//! `{range}` without `{end}` and an unknown word are refused when parsed (client-go prints the
//! text, repeats the template or fails at run time); a filter compares numbers as numbers
//! whatever their origin; numbers print as written (client-go prints numbers parsed from JSON
//! text in Go's `%v`, `1e+06`). Caps: [`MAX_EXPRESSION_CHARS`], [`MAX_STEPS`],
//! [`MAX_OUTPUT_BYTES`].

mod eval;
mod parse;

use std::fmt;

use serde_json::Value;

/// Longest accepted template, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 8192;
/// Most values one evaluation may visit or produce (ranges, unions, `..` multiply them).
pub const MAX_STEPS: usize = 1_000_000;
/// Longest result, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// A parsed JSONPath template.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    /// The template as written, trimmed (for messages).
    source: String,
    segments: Vec<parse::Segment>,
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", at_character(*.position))]
pub struct JsonPathError {
    /// 0-based character position in the trimmed template; none when the fault is the whole
    /// template (no `{...}` block).
    pub position: Option<usize>,
    /// What is wrong.
    pub message: String,
}

fn at_character(position: Option<usize>) -> String {
    position.map_or_else(String::new, |p| format!(" at character {}", p + 1))
}

/// Why a template could not be evaluated on a value. Messages name kinds and keys of the
/// template, never content of the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// `{.x}` where no input value has the key `x`.
    #[error("{}", key_not_found(.0))]
    KeyNotFound(String),
    /// `[0]` or `[?(...)]` on something other than a list.
    #[error("{} needs a list, found {kind}", if *.filter { "a filter [?(...)]" } else { "an index [...]" })]
    NotAList {
        /// What was found.
        kind: &'static str,
        /// Whether a filter (rather than an index) asked.
        filter: bool,
    },
    /// `[5]` on a list of 3.
    #[error("index {index} is out of range for a list of {len}")]
    OutOfBounds {
        /// The index, negative ones resolved.
        index: i64,
        /// The list's length.
        len: i64,
    },
    /// `[3:1]`.
    #[error("slice start {start} is after its end {end}")]
    StartAfterEnd {
        /// Resolved start.
        start: i64,
        /// Resolved end.
        end: i64,
    },
    /// A filter side that selects several values.
    #[error("a filter compares one value at a time, but a side selected {0}")]
    CompareMany(usize),
    /// `[?(@.a < true)]`, or a map compared.
    #[error("a filter cannot compare {0} (only text, numbers and booleans)")]
    NotComparable(&'static str),
    /// `[?(@.name == true)]` where `name` is text.
    #[error("a filter cannot compare {0} with {1}")]
    IncompatibleTypes(&'static str, &'static str),
    /// More than [`MAX_STEPS`] values visited.
    #[error("the template visits more than {MAX_STEPS} values; select less")]
    TooMuchWork,
    /// A result longer than [`MAX_OUTPUT_BYTES`].
    #[error("the result is longer than {MAX_OUTPUT_BYTES} bytes")]
    OutputTooLarge,
    /// A value too deeply nested to print.
    #[error("a selected value is nested too deeply to print")]
    TooDeep,
}

impl JsonPath {
    /// Parses `expression` (see the module documentation for the accepted syntax).
    pub fn parse(expression: &str) -> Result<Self, JsonPathError> {
        let source = expression.trim();
        let chars: Vec<char> = source.chars().collect();
        if chars.len() > MAX_EXPRESSION_CHARS {
            return Err(JsonPathError {
                position: Some(MAX_EXPRESSION_CHARS),
                message: format!("template longer than {MAX_EXPRESSION_CHARS} characters"),
            });
        }
        if !chars.contains(&'{') {
            return Err(JsonPathError {
                position: None,
                message: format!(
                    "no {{...}} block: write the path in braces, e.g. {{{}}}",
                    if source.is_empty() { ".key" } else { source }
                ),
            });
        }
        let segments = parse::template(&chars)?;
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// The template as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Evaluates the template on `root` and returns the text client-go would print.
    pub fn render(&self, root: &Value) -> Result<String, EvalError> {
        eval::render(&self.segments, root)
    }
}

fn key_not_found(key: &str) -> String {
    if key.is_empty() {
        // client-go reads `.[0]` as the empty key, then `[0]`.
        "key \"\" not found (a \".\" right before \"[\" selects the empty key: write {[0]}, not {.[0]})"
            .to_owned()
    } else {
        format!("key {key:?} not found")
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests;
