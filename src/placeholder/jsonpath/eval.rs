//! Evaluates parsed templates as client-go's `util/jsonpath/jsonpath.go` does, with a budget of
//! steps and of output bytes, and prints results as it does (maps and lists as compact JSON with
//! sorted keys and `<`, `>`, `&` escaped; text as is; numbers and booleans as written).

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::Value;

use super::parse::{Comparison, End, Filter, Node, Segment, Slice};
use super::{EvalError, MAX_OUTPUT_BYTES, MAX_STEPS};

/// Deepest value printed as JSON.
const MAX_PRINT_DEPTH: usize = 256;

/// One value in flight.
#[derive(Debug, Clone)]
enum Item<'a> {
    /// A value of the input.
    Ref(&'a Value),
    /// A literal of the expression, or a byte of a text (as client-go's wildcard yields).
    Owned(Value),
    /// What a `{range}` over no items evaluates its body on (client-go's nil).
    Absent,
}

impl Item<'_> {
    fn value(&self) -> Option<&Value> {
        match self {
            Item::Ref(v) => Some(v),
            Item::Owned(v) => Some(v),
            Item::Absent => None,
        }
    }
}

/// Names a value's kind for messages, never its content.
fn kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "text",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "a map",
    }
}

/// Renders `segments` on `root`.
pub(super) fn render(segments: &[Segment], root: &Value) -> Result<String, EvalError> {
    let mut evaluator = Evaluator {
        steps: 0,
        out: String::new(),
    };
    evaluator.segments(segments, Item::Ref(root), true)?;
    Ok(evaluator.out)
}

struct Evaluator {
    steps: usize,
    out: String,
}

impl Evaluator {
    fn spend(&mut self, n: usize) -> Result<(), EvalError> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_STEPS {
            return Err(EvalError::TooMuchWork);
        }
        Ok(())
    }

    fn segments<'a>(
        &mut self,
        segments: &[Segment],
        current: Item<'a>,
        print: bool,
    ) -> Result<(), EvalError> {
        for segment in segments {
            self.spend(1)?;
            match segment {
                Segment::Text(text) => {
                    if print {
                        self.write(text)?;
                    }
                }
                Segment::Action(nodes) => {
                    let results = self.list(vec![current.clone()], nodes)?;
                    if print {
                        self.print(&results)?;
                    }
                }
                Segment::Range { selector, body } => {
                    let items = self.list(vec![current.clone()], selector)?;
                    if items.is_empty() {
                        self.segments(body, Item::Absent, false)?;
                    }
                    for item in items {
                        self.segments(body, item, print)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn write(&mut self, text: &str) -> Result<(), EvalError> {
        if self.out.len() + text.len() > MAX_OUTPUT_BYTES {
            return Err(EvalError::OutputTooLarge);
        }
        self.out.push_str(text);
        Ok(())
    }

    /// client-go's `PrintResults`: items separated by one space.
    fn print(&mut self, results: &[Item<'_>]) -> Result<(), EvalError> {
        for (i, item) in results.iter().enumerate() {
            if i > 0 {
                self.write(" ")?;
            }
            let mut text = String::new();
            match item.value() {
                None => text.push_str("<no value>"),
                Some(Value::String(s)) => text.push_str(s),
                Some(value @ (Value::Object(_) | Value::Array(_))) => {
                    go_json(value, &mut text, 0)?;
                }
                Some(value) => text.push_str(&value.to_string()),
            }
            self.write(&text)?;
        }
        Ok(())
    }

    fn list<'a>(
        &mut self,
        input: Vec<Item<'a>>,
        nodes: &[Node],
    ) -> Result<Vec<Item<'a>>, EvalError> {
        let mut current = input;
        for node in nodes {
            current = self.node(current, node)?;
            self.spend(current.len())?;
        }
        Ok(current)
    }

    fn node<'a>(&mut self, input: Vec<Item<'a>>, node: &Node) -> Result<Vec<Item<'a>>, EvalError> {
        match node {
            Node::Text(text) => Ok(vec![Item::Owned(Value::String(text.clone()))]),
            Node::Scalar(value) => Ok(vec![Item::Owned(value.clone()); input.len()]),
            Node::Field(name) => field(&input, name),
            Node::Wildcard => Ok(input.iter().flat_map(children).collect()),
            Node::Recursive => self.recursive(&input),
            Node::Array(slice) => array(&input, *slice),
            Node::Union(branches) => {
                let mut results = Vec::new();
                for branch in branches {
                    results.extend(self.list(input.clone(), branch)?);
                    self.spend(results.len())?;
                }
                Ok(results)
            }
            Node::Filter(filter) => self.filter(&input, filter),
        }
    }

    /// Every map, list and non-empty text at or below each input, depth first.
    fn recursive<'a>(&mut self, input: &[Item<'a>]) -> Result<Vec<Item<'a>>, EvalError> {
        let mut results = Vec::new();
        let mut stack: Vec<Item<'a>> = input.iter().rev().cloned().collect();
        while let Some(item) = stack.pop() {
            let below = children(&item);
            if below.is_empty() {
                continue;
            }
            self.spend(below.len())?;
            results.push(item);
            stack.extend(below.into_iter().rev());
        }
        Ok(results)
    }

    fn filter<'a>(
        &mut self,
        input: &[Item<'a>],
        filter: &Filter,
    ) -> Result<Vec<Item<'a>>, EvalError> {
        let mut results = Vec::new();
        for item in input {
            let items = match item {
                Item::Ref(Value::Array(items)) => items,
                other => {
                    return Err(EvalError::NotAList {
                        kind: kind(other.value()),
                        filter: true,
                    });
                }
            };
            for element in items {
                let lefts = self.list(vec![Item::Ref(element)], &filter.left);
                let Some((comparison, right)) = &filter.comparison else {
                    if lefts.is_ok_and(|l| !l.is_empty()) {
                        results.push(Item::Ref(element));
                    }
                    continue;
                };
                let Some(left) = single(lefts?)? else {
                    continue;
                };
                let Some(right) = single(self.list(vec![Item::Ref(element)], right)?)? else {
                    continue;
                };
                if compare(left.value(), *comparison, right.value())? {
                    results.push(Item::Ref(element));
                }
            }
        }
        Ok(results)
    }
}

fn single(mut items: Vec<Item<'_>>) -> Result<Option<Item<'_>>, EvalError> {
    match items.len() {
        0 => Ok(None),
        1 => Ok(items.pop()),
        n => Err(EvalError::CompareMany(n)),
    }
}

/// client-go's `evalWildcard`: map values, list items, the bytes of a text (as numbers).
fn children<'a>(item: &Item<'a>) -> Vec<Item<'a>> {
    match item {
        Item::Ref(Value::Object(map)) => map.values().map(Item::Ref).collect(),
        Item::Ref(Value::Array(items)) => items.iter().map(Item::Ref).collect(),
        Item::Ref(Value::String(text)) => bytes(text),
        Item::Owned(Value::String(text)) => bytes(text),
        _ => Vec::new(),
    }
}

fn bytes<'a>(text: &str) -> Vec<Item<'a>> {
    text.bytes().map(|b| Item::Owned(Value::from(b))).collect()
}

fn field<'a>(input: &[Item<'a>], name: &str) -> Result<Vec<Item<'a>>, EvalError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let results: Vec<Item<'a>> = input
        .iter()
        .filter_map(|item| match item {
            Item::Ref(Value::Object(map)) => map.get(name).map(Item::Ref),
            _ => None,
        })
        .collect();
    if results.is_empty() {
        return Err(EvalError::KeyNotFound(name.to_owned()));
    }
    Ok(results)
}

fn array<'a>(input: &[Item<'a>], slice: Slice) -> Result<Vec<Item<'a>>, EvalError> {
    let mut results = Vec::new();
    for item in input {
        let items = match item {
            Item::Ref(Value::Null) => continue,
            Item::Ref(Value::Array(items)) => items,
            other => {
                return Err(EvalError::NotAList {
                    kind: kind(other.value()),
                    filter: false,
                });
            }
        };
        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let mut start = slice.start.unwrap_or(0);
        if start < 0 {
            start = start.saturating_add(len);
        }
        let mut end = match slice.end {
            End::Unknown => len,
            End::Known(e) | End::Derived(e) => e,
        };
        if end < 0 || (end == 0 && matches!(slice.end, End::Derived(_))) {
            end = end.saturating_add(len);
        }
        if start == end {
            return Ok(results);
        }
        if start >= len || start < 0 {
            return Err(EvalError::OutOfBounds { index: start, len });
        }
        if end > len || end < 0 {
            return Err(EvalError::OutOfBounds {
                index: end.saturating_sub(1),
                len,
            });
        }
        if start > end {
            return Err(EvalError::StartAfterEnd { start, end });
        }
        let step = usize::try_from(slice.step.unwrap_or(1)).unwrap_or(usize::MAX);
        let (start, end) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(end).unwrap_or(0),
        );
        results.extend(items[start..end].iter().step_by(step).map(Item::Ref));
    }
    Ok(results)
}

/// A filter's comparison. Numbers compare as numbers (client-go refuses a literal integer
/// against a number read from JSON text), text byte by byte, booleans only for (in)equality; a
/// number against text compares the number as written (as client-go does with numbers read
/// from Vault).
fn compare(
    left: Option<&Value>,
    comparison: Comparison,
    right: Option<&Value>,
) -> Result<bool, EvalError> {
    let ordering = match (left, right) {
        (Some(Value::String(a)), Some(Value::String(b))) => a.as_bytes().cmp(b.as_bytes()),
        (Some(Value::Number(a)), Some(Value::Number(b))) => compare_numbers(a, b),
        (Some(Value::Number(a)), Some(Value::String(b))) => {
            a.to_string().as_bytes().cmp(b.as_bytes())
        }
        (Some(Value::String(a)), Some(Value::Number(b))) => {
            a.as_bytes().cmp(b.to_string().as_bytes())
        }
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => {
            return match comparison {
                Comparison::Eq => Ok(a == b),
                Comparison::Ne => Ok(a != b),
                _ => Err(EvalError::NotComparable("a boolean")),
            };
        }
        (
            Some(a @ (Value::String(_) | Value::Number(_) | Value::Bool(_))),
            Some(b @ (Value::String(_) | Value::Number(_) | Value::Bool(_))),
        ) => {
            return Err(EvalError::IncompatibleTypes(kind(Some(a)), kind(Some(b))));
        }
        (Some(Value::String(_) | Value::Number(_) | Value::Bool(_)), other) | (other, _) => {
            return Err(EvalError::NotComparable(kind(other)));
        }
    };
    Ok(match comparison {
        Comparison::Eq => ordering == Ordering::Equal,
        Comparison::Ne => ordering != Ordering::Equal,
        Comparison::Lt => ordering == Ordering::Less,
        Comparison::Le => ordering != Ordering::Greater,
        Comparison::Gt => ordering == Ordering::Greater,
        Comparison::Ge => ordering != Ordering::Less,
    })
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Ordering {
    let exact = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

/// Go's `json.Marshal` of a decoded JSON value: compact, map keys sorted, HTML characters
/// escaped.
fn go_json(value: &Value, out: &mut String, depth: usize) -> Result<(), EvalError> {
    if depth > MAX_PRINT_DEPTH || out.len() > MAX_OUTPUT_BYTES {
        return Err(if depth > MAX_PRINT_DEPTH {
            EvalError::TooDeep
        } else {
            EvalError::OutputTooLarge
        });
    }
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(key, out);
                out.push(':');
                go_json(&map[key.as_str()], out, depth + 1)?;
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::String(text) => go_string(text, out),
        other => {
            let _ = write!(out, "{other}");
        }
    }
    Ok(())
}

fn go_string(text: &str, out: &mut String) {
    let json = Value::from(text).to_string();
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}
