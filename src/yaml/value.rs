//! YAML nodes as JSON values (YAML 1.2 core schema), for `yamlParse` and config files.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde_json::{Map, Number, Value};

use super::lexical::line_column;
use super::{Node, NodeKind, ScalarStyle, SyntaxError, parse_stream};

/// How many nodes aliases may copy in one conversion: enough for any real manifest, and a stop
/// for "billion laughs" documents whose aliases nest into exponential size.
pub const MAX_ALIAS_EXPANSION: usize = 1_000_000;

/// Converts a node tree to a JSON value (plain scalars resolved as null, bool, int, float or
/// string; quoted and block scalars are strings; aliases resolved).
///
/// Plain scalars follow the YAML 1.2 core schema: `null`/`Null`/`NULL`/`~`/empty are null,
/// `true`/`false` in three casings are bools, decimal, `0o` and `0x` integers and decimal floats
/// are numbers (integers beyond 64 bits, `.inf` and `.nan` stay strings, as JSON has no such
/// numbers). Explicit tags `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` are honoured;
/// other tags (`!!binary`, custom ones) give strings.
///
/// An alias takes the value of the last node with its anchor seen before it in document order
/// (null when there is none); merge keys `<<` bring in the entries of the mapping(s) they name
/// that the mapping does not have. Should aliases copy more than [`MAX_ALIAS_EXPANSION`] nodes,
/// the rest become null ([`parse_value`] reports that as an error instead).
pub fn to_json(node: &Node) -> Value {
    Converter::default().value(node).0
}

/// Parses a single-document YAML (or JSON) text into a JSON value; an empty text is `null`.
///
/// Documents without content (`---` alone, comments) do not count.
///
/// # Errors
///
/// [`SyntaxError`] for invalid YAML, for a text with more than one document, and for aliases
/// expanding beyond [`MAX_ALIAS_EXPANSION`] nodes.
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    let documents = parse_stream(text)?;
    let mut roots = documents
        .iter()
        .filter_map(|doc| doc.root.as_ref().map(|root| (doc, root)));
    let Some((_, root)) = roots.next() else {
        return Ok(Value::Null);
    };
    if let Some((second, _)) = roots.next() {
        return Err(error_at(
            text,
            second.range.start,
            "expected a single YAML document, found more than one".to_owned(),
        ));
    }
    let mut converter = Converter::default();
    let (value, _) = converter.value(root);
    match converter.overflow {
        Some(alias) => Err(error_at(
            text,
            alias.start,
            format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
        )),
        None => Ok(value),
    }
}

fn error_at(text: &str, at: usize, message: String) -> SyntaxError {
    let (line, column) = line_column(text, at);
    SyntaxError {
        line,
        column,
        message,
    }
}

#[derive(Default)]
struct Converter {
    /// Anchor name → its node's value and how many nodes that value holds.
    anchors: HashMap<String, (Value, usize)>,
    /// Nodes copied through aliases so far.
    expanded: usize,
    /// The first alias that would have gone over the limit.
    overflow: Option<Range<usize>>,
}

impl Converter {
    /// The value of `node` and the number of nodes it holds.
    fn value(&mut self, node: &Node) -> (Value, usize) {
        let (value, size) = match &node.kind {
            NodeKind::Scalar { value, style, tag } => (scalar(value, *style, tag.as_deref()), 1),
            NodeKind::Alias(name) => self.alias(name, &node.span),
            NodeKind::Sequence(items) => {
                let mut size = 1;
                let values = items
                    .iter()
                    .map(|item| {
                        let (value, n) = self.value(item);
                        size += n;
                        value
                    })
                    .collect();
                (Value::Array(values), size)
            }
            NodeKind::Mapping(entries) => self.mapping(entries),
        };
        if let Some(anchor) = &node.anchor {
            self.anchors.insert(anchor.clone(), (value.clone(), size));
        }
        (value, size)
    }

    fn alias(&mut self, name: &str, span: &Range<usize>) -> (Value, usize) {
        let Some((value, size)) = self.anchors.get(name) else {
            return (Value::Null, 1);
        };
        if self.overflow.is_some() || self.expanded + size > MAX_ALIAS_EXPANSION {
            self.overflow.get_or_insert_with(|| span.clone());
            return (Value::Null, 1);
        }
        self.expanded += size;
        (value.clone(), *size)
    }

    fn mapping(&mut self, entries: &[(Node, Node)]) -> (Value, usize) {
        let explicit: HashSet<String> = entries
            .iter()
            .filter(|(key, _)| !is_merge_key(key))
            .filter_map(|(key, _)| key.as_scalar().map(str::to_owned))
            .collect();
        let mut map = Map::new();
        let mut size = 1;
        for (key, value) in entries {
            if is_merge_key(key) {
                let (merged, n) = self.value(value);
                let sources = match merged {
                    Value::Object(source) => vec![source],
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|item| match item {
                            Value::Object(source) => Some(source),
                            _ => None,
                        })
                        .collect(),
                    other => {
                        map.insert("<<".to_owned(), other);
                        size += n;
                        continue;
                    }
                };
                size += n;
                for (name, item) in sources.into_iter().flatten() {
                    if !explicit.contains(&name) && !map.contains_key(&name) {
                        map.insert(name, item);
                    }
                }
            } else {
                let (name, n) = self.key(key);
                let (item, m) = self.value(value);
                size += n + m;
                map.insert(name, item);
            }
        }
        (Value::Object(map), size)
    }

    /// A mapping key as a JSON object key: a scalar's text, anything else as JSON text.
    fn key(&mut self, key: &Node) -> (String, usize) {
        if let Some(text) = key.as_scalar() {
            let (_, n) = self.value(key);
            return (text.to_owned(), n);
        }
        match self.value(key) {
            (Value::String(text), n) => (text, n),
            (value, n) => (value.to_string(), n),
        }
    }
}

fn is_merge_key(key: &Node) -> bool {
    matches!(&key.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain, tag } if value == "<<" && tag.as_deref().is_none_or(|tag| tag == "!!merge"))
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    let tag = tag.map(|tag| {
        tag.strip_prefix("!<tag:yaml.org,2002:")
            .and_then(|rest| rest.strip_suffix('>'))
            .or_else(|| tag.strip_prefix("!!"))
            .unwrap_or("")
    });
    let string = || Value::String(text.to_owned());
    match tag {
        None if style == ScalarStyle::Plain => null(text)
            .or_else(|| bool(text))
            .or_else(|| int(text))
            .or_else(|| float(text)),
        Some("null") => null(text),
        Some("bool") => bool(text),
        Some("int") => int(text),
        Some("float") => float(text).or_else(|| {
            int(text)
                .and_then(|n| n.as_f64())
                .and_then(Number::from_f64)
                .map(Value::Number)
        }),
        _ => None,
    }
    .unwrap_or_else(string)
}

fn null(text: &str) -> Option<Value> {
    matches!(text, "" | "~" | "null" | "Null" | "NULL").then_some(Value::Null)
}

fn bool(text: &str) -> Option<Value> {
    match text {
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`, when it fits 64 bits.
fn int(text: &str) -> Option<Value> {
    let radix = |prefix: &str, radix: u32| {
        let digits = text.strip_prefix(prefix)?;
        u64::from_str_radix(digits, radix)
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let number = if let Some(n) = radix("0o", 8).or_else(|| radix("0x", 16)) {
        Number::from(n)
    } else {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        match unsigned.parse::<i64>() {
            Ok(n) => Number::from(n),
            Err(_) => Number::from(unsigned.parse::<u64>().ok()?),
        }
    };
    Some(Value::Number(number))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` with a `.` or an exponent (digits alone
/// are integers, and stay strings when too long for one), when finite.
fn float(text: &str) -> Option<Value> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => exponent.is_some() && !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    let parsed: f64 = text.parse().ok()?;
    Number::from_f64(parsed).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{MAX_ALIAS_EXPANSION, parse_value, to_json};
    use crate::yaml::{SyntaxError, parse_stream};

    fn value(text: &str) -> Value {
        parse_value(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn plain_scalars_follow_the_yaml_1_2_core_schema() {
        let cases = [
            ("~", json!(null)),
            ("null", json!(null)),
            ("Null", json!(null)),
            ("NULL", json!(null)),
            ("nULL", json!("nULL")),
            ("true", json!(true)),
            ("True", json!(true)),
            ("FALSE", json!(false)),
            ("tRue", json!("tRue")),
            ("yes", json!("yes")),
            ("on", json!("on")),
            ("0644", json!(644)),
            ("0o17", json!(15)),
            ("0x1F", json!(31)),
            ("0x", json!("0x")),
            ("0o8", json!("0o8")),
            ("-12", json!(-12)),
            ("+12", json!(12)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("18446744073709551615", json!(u64::MAX)),
            ("99999999999999999999", json!("99999999999999999999")),
            ("1_000", json!("1_000")),
            ("1.5", json!(1.5)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("-1.5E-2", json!(-0.015)),
            ("1e3", json!(1000.0)),
            ("1e400", json!("1e400")),
            (".", json!(".")),
            ("1.0e+20", json!(1e20)),
            (".inf", json!(".inf")),
            ("-.Inf", json!("-.Inf")),
            (".nan", json!(".nan")),
            ("12:30", json!("12:30")),
            ("two words", json!("two words")),
        ];
        for (plain, expected) in cases {
            assert_eq!(value(&format!("k: {plain}"))["k"], expected, "{plain}");
        }
        assert_eq!(value("k:"), json!({"k": null}));
    }

    #[test]
    fn quoted_block_and_tagged_scalars() {
        let text = "q: \"12\"\ns: 'true'\nb: |\n  1\nf: >-\n  null\nstr: !!str 12\nint: !!int \"42\"\nfloat: !!float 1\nbool: !!bool 'true'\nnul: !!null ''\nverbatim: !<tag:yaml.org,2002:int> '7'\nbin: !!binary aGk=\ncustom: !thing 5\nbad: !!int x\n";
        assert_eq!(
            value(text),
            json!({"q": "12", "s": "true", "b": "1\n", "f": "null", "str": "12", "int": 42,
                "float": 1.0, "bool": true, "nul": null, "verbatim": 7, "bin": "aGk=",
                "custom": "5", "bad": "x"})
        );
    }

    #[test]
    fn aliases_and_merge_keys() {
        let text = "base: &b {x: 1, y: 2}\nlist: &l [a, *b]\ncopy: *l\nd:\n  y: 3\n  <<: *b\n  z: 4\nmulti:\n  <<: [{p: 1, q: 1}, {q: 2, r: 2}]\n  r: 3\nquoted:\n  \"<<\": *b\nagain: &b 7\nlater: *b\nmissing: *b\n";
        let text = text.replace("missing: *b\n", "");
        assert_eq!(
            value(&text),
            json!({
                "base": {"x": 1, "y": 2},
                "list": ["a", {"x": 1, "y": 2}],
                "copy": ["a", {"x": 1, "y": 2}],
                "d": {"y": 3, "x": 1, "z": 4},
                "multi": {"p": 1, "q": 1, "r": 3},
                "quoted": {"<<": {"x": 1, "y": 2}},
                "again": 7,
                "later": 7,
            })
        );
        // Keys that are not strings.
        assert_eq!(
            value("1: a\n? [x, 2]\n: b\n~: c\n"),
            json!({"1": "a", "[\"x\",2]": "b", "~": "c"})
        );
        // An alias-free tree needs no context.
        let docs = parse_stream("a: [1, {b: c}]").unwrap_or_default();
        let root = docs[0].root.as_ref().unwrap_or_else(|| panic!("root"));
        assert_eq!(to_json(root), json!({"a": [1, {"b": "c"}]}));
    }

    #[test]
    fn parse_value_takes_one_document() {
        assert_eq!(value(""), Value::Null);
        assert_eq!(value("# only a comment\n"), Value::Null);
        assert_eq!(value("---\n"), Value::Null);
        assert_eq!(value("---\na: 1\n---\n"), json!({"a": 1}));
        assert_eq!(
            value("{\"a\": [1, 2.5, \"x\", null, true]}"),
            json!({"a": [1, 2.5, "x", null, true]})
        );
        assert_eq!(value("\t{\n\t\"k\":\t\"v\"\n}\n"), json!({"k": "v"}));
        assert_eq!(
            parse_value("a: 1\n---\nb: 2\n"),
            Err(SyntaxError {
                line: 3,
                column: 1,
                message: "expected a single YAML document, found more than one".to_owned()
            })
        );
        assert_eq!(
            parse_value("a: [").err().map(|e| e.message),
            Some("while parsing a node, did not find expected node content".to_owned())
        );
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = format!("*l{}", i - 1);
            text.push_str(&format!("l{i}: &l{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let error = parse_value(&text).err();
        assert_eq!(
            error,
            Some(SyntaxError {
                line: 6,
                column: 45,
                message: format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
            })
        );
        let docs = parse_stream(&text).unwrap_or_default();
        let root = docs[0].root.as_ref().unwrap_or_else(|| panic!("root"));
        assert_eq!(to_json(root)["l7"][9], Value::Null);
    }
}
