//! Placeholder modifiers (`| base64encode`, `| jsonPath {.a}`, `| indent 4`, ...) as one table.
//!
//! [`table`] is the single source for parsing (names, arguments) and for the documentation.
//! Arguments are validated and compiled when the placeholder is parsed, so applying a modifier
//! can only fail because of the value it is given. Error messages name the modifier and may
//! describe the value's type, but never contain the value itself.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::placeholder::jsonpath::JsonPath;

/// What a modifier expects after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentKind {
    /// Nothing: `| base64encode`.
    None,
    /// A whole number: `| indent 4`.
    Count,
    /// A JSONPath expression: `| jsonPath {.a.b}`.
    JsonPath,
}

/// One entry of the modifier table.
#[derive(Debug)]
pub struct ModifierSpec {
    /// The name written after `|`.
    pub name: &'static str,
    /// How to write it, with a placeholder for the argument, e.g. `indent N`.
    pub usage: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    function: Function,
}

/// A modifier's implementation, typed by the argument it takes. Messages are prefixed with the
/// modifier's name by [`Modifier::apply`].
#[derive(Debug, Clone, Copy)]
enum Function {
    Plain(fn(Value) -> Result<Value, String>),
    Count(fn(usize, Value) -> Result<Value, String>),
    Path(fn(&JsonPath, Value) -> Result<Value, String>),
}

static TABLE: &[ModifierSpec] = &[
    ModifierSpec {
        name: "base64encode",
        usage: "base64encode",
        doc: "Encodes text (or a number or boolean, as text) as standard padded base64.",
        function: Function::Plain(base64_encode),
    },
    ModifierSpec {
        name: "base64decode",
        usage: "base64decode",
        doc: "Decodes standard base64 (line breaks ignored) that holds UTF-8 text.",
        function: Function::Plain(base64_decode),
    },
    ModifierSpec {
        name: "jsonParse",
        usage: "jsonParse",
        doc: "Parses text as JSON; the placeholder becomes the typed value.",
        function: Function::Plain(json_parse),
    },
    ModifierSpec {
        name: "yamlParse",
        usage: "yamlParse",
        doc: "Parses text as a YAML document; the placeholder becomes the typed value.",
        function: Function::Plain(yaml_parse),
    },
    ModifierSpec {
        name: "jsonPath",
        usage: "jsonPath EXPR",
        doc: "Selects from a map, list or JSON text with a Kubernetes JSONPath; the result is text.",
        function: Function::Path(json_path),
    },
    ModifierSpec {
        name: "sha256sum",
        usage: "sha256sum",
        doc: "Replaces text with its SHA-256 digest in lowercase hex.",
        function: Function::Plain(sha256_sum),
    },
    ModifierSpec {
        name: "indent",
        usage: "indent N",
        doc: "Indents every line after the first by N spaces, keeping blank lines blank.",
        function: Function::Count(indent),
    },
];

/// Every modifier, in documentation order.
pub fn table() -> &'static [ModifierSpec] {
    TABLE
}

impl ModifierSpec {
    /// What the modifier expects after its name.
    pub fn argument(&self) -> ArgumentKind {
        match self.function {
            Function::Plain(_) => ArgumentKind::None,
            Function::Count(_) => ArgumentKind::Count,
            Function::Path(_) => ArgumentKind::JsonPath,
        }
    }
}

/// A parsed, validated modifier with its argument.
#[derive(Debug, Clone)]
pub struct Modifier {
    /// The modifier's name as written in the table.
    pub name: &'static str,
    call: Call,
}

/// A table function bound to its compiled argument.
#[derive(Debug, Clone)]
enum Call {
    Plain(fn(Value) -> Result<Value, String>),
    Count(fn(usize, Value) -> Result<Value, String>, usize),
    Path(fn(&JsonPath, Value) -> Result<Value, String>, JsonPath),
}

/// Why a modifier could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModifierError(pub String);

impl Modifier {
    /// Parses one `| name args` segment (the text between two `|` or `|` and `>`, untrimmed).
    ///
    /// The first word is the name, the trimmed rest the argument.
    pub fn parse(segment: &str) -> Result<Self, ModifierError> {
        let segment = segment.trim();
        let (name, argument) = segment
            .split_once(char::is_whitespace)
            .map_or((segment, ""), |(name, rest)| (name, rest.trim()));
        if name.is_empty() {
            return Err(ModifierError("empty modifier after \"|\"".to_owned()));
        }
        let Some(spec) = TABLE.iter().find(|spec| spec.name == name) else {
            return Err(unknown(name));
        };
        let fail = |message: String| Err(ModifierError(message));
        if argument.is_empty() && spec.argument() != ArgumentKind::None {
            return fail(format!(
                "modifier \"{}\" needs an argument: {}",
                spec.name, spec.usage
            ));
        }
        let call = match spec.function {
            Function::Plain(_) if !argument.is_empty() => {
                return fail(format!("modifier \"{}\" takes no argument", spec.name));
            }
            Function::Plain(f) => Call::Plain(f),
            Function::Count(f) => match parse_count(argument) {
                Count::Within(n) => Call::Count(f, n),
                Count::TooLarge => {
                    return fail(format!(
                        "modifier \"{}\": {argument:?} is too large (at most {MAX_COUNT})",
                        spec.name
                    ));
                }
                Count::NotANumber => {
                    return fail(format!(
                        "modifier \"{}\": {argument:?} is not a whole number",
                        spec.name
                    ));
                }
            },
            // As argocd-vault-plugin: split on whitespace, rejoined with single spaces.
            Function::Path(f) => {
                match JsonPath::parse(&argument.split_whitespace().collect::<Vec<_>>().join(" ")) {
                    Ok(path) => Call::Path(f, path),
                    Err(e) => {
                        return fail(format!(
                            "modifier \"{}\": invalid expression {argument:?}: {e}",
                            spec.name
                        ));
                    }
                }
            }
        };
        Ok(Self {
            name: spec.name,
            call,
        })
    }

    /// Applies the modifier. Error messages never contain the value.
    pub fn apply(&self, value: Value) -> Result<Value, ModifierError> {
        let result = match &self.call {
            Call::Plain(f) => f(value),
            Call::Count(f, n) => f(*n, value),
            Call::Path(f, path) => f(path, value),
        };
        result.map_err(|message| ModifierError(format!("{}: {message}", self.name)))
    }
}

impl fmt::Display for Modifier {
    /// The modifier as it would be written: `indent 4`, `jsonPath {.a}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match &self.call {
            Call::Plain(_) => Ok(()),
            Call::Count(_, n) => write!(f, " {n}"),
            Call::Path(_, path) => write!(f, " {path}"),
        }
    }
}

fn unknown(name: &str) -> ModifierError {
    if let Some(spec) = TABLE.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
        return ModifierError(format!(
            "unknown modifier {name:?} (did you mean \"{}\"?)",
            spec.name
        ));
    }
    let known: Vec<&str> = TABLE.iter().map(|s| s.name).collect();
    ModifierError(format!(
        "unknown modifier {name:?} (known: {})",
        known.join(", ")
    ))
}

/// The largest count a modifier takes (`indent 1000`). Manifests nest a few dozen levels at
/// most, so a real indent stays far below it; above it the argument can only be a mistake or
/// an attack (`indent 18446744073709551615` asked for an allocation that aborted the process).
/// Each line of an indented value then grows by at most 1000 bytes, and
/// [`MAX_INDENTED_BYTES`] bounds the whole.
pub const MAX_COUNT: usize = 1000;

/// The largest text `indent` produces: far above any real value, and still a bounded
/// allocation when a huge value of many short lines is indented by [`MAX_COUNT`].
pub const MAX_INDENTED_BYTES: usize = 64 << 20;

/// What a count argument is.
enum Count {
    /// A whole number up to [`MAX_COUNT`].
    Within(usize),
    /// A whole number above [`MAX_COUNT`], however many digits it has.
    TooLarge,
    /// Not written with ASCII digits only (a sign, a fraction, a word, several words).
    NotANumber,
}

/// A whole number written with ASCII digits only (no sign), at most [`MAX_COUNT`].
fn parse_count(argument: &str) -> Count {
    if argument.is_empty() || !argument.bytes().all(|b| b.is_ascii_digit()) {
        return Count::NotANumber;
    }
    match argument.parse::<usize>() {
        Ok(n) if n <= MAX_COUNT => Count::Within(n),
        _ => Count::TooLarge,
    }
}

/// Names the kind of a value for messages, never its content.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// The text of a scalar; numbers and booleans as written in JSON.
fn scalar_text(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected text, got {}", describe(&other))),
    }
}

fn base64_encode(value: Value) -> Result<Value, String> {
    Ok(Value::String(STANDARD.encode(scalar_text(value)?)))
}

fn base64_decode(value: Value) -> Result<Value, String> {
    let text = scalar_text(value)?;
    // Like Go's decoder (and so argocd-vault-plugin), ignore line breaks from `base64` wrapping.
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| "value is not valid base64".to_owned())?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "value decodes to binary data, not UTF-8 text".to_owned())
}

fn json_parse(value: Value) -> Result<Value, String> {
    let text = scalar_text(value)?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "value is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })
}

fn yaml_parse(value: Value) -> Result<Value, String> {
    let text = scalar_text(value)?;
    crate::yaml::value::parse_value(&text).map_err(|e| format!("value is not valid YAML ({e})"))
}

/// Renders a JSONPath template on a map, a list or JSON text. An empty result is an error
/// (client-go returns empty text): an empty secret is never what a manifest asked for.
fn json_path(path: &JsonPath, value: Value) -> Result<Value, String> {
    let root = match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "value is text but not JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?,
        other => other,
    };
    let text = path.render(&root).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Err(format!(
            "{path} selected nothing (the result would be empty text)"
        ));
    }
    Ok(Value::String(text))
}

fn sha256_sum(value: Value) -> Result<Value, String> {
    // A digest prints as lowercase hex.
    let digest = Sha256::digest(scalar_text(value)?.as_bytes());
    Ok(Value::String(format!("{digest:x}")))
}

fn indent(spaces: usize, value: Value) -> Result<Value, String> {
    let text = scalar_text(value)?;
    let size = spaces
        .checked_mul(text.matches('\n').count())
        .and_then(|padding| padding.checked_add(text.len()))
        .filter(|size| *size <= MAX_INDENTED_BYTES)
        .ok_or_else(|| {
            format!(
                "the indented value would be larger than {} MiB",
                MAX_INDENTED_BYTES >> 20
            )
        })?;
    let pad = " ".repeat(spaces);
    let mut out = String::with_capacity(size);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() && line != "\r" {
                out.push_str(&pad);
            }
        }
        out.push_str(line);
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Parses `|`-separated modifiers and applies them left to right, rendering the outcome.
    fn run(chain: &str, input: Value) -> Result<Value, String> {
        let mut value = input;
        for segment in chain.split('|') {
            let modifier = Modifier::parse(segment).map_err(|e| format!("parse: {e}"))?;
            value = modifier.apply(value).map_err(|e| e.to_string())?;
        }
        Ok(value)
    }

    fn parsed(segment: &str) -> Result<String, String> {
        Modifier::parse(segment)
            .map(|m| m.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses() {
        #[rustfmt::skip]
        let cases = [
            ("base64encode", Ok("base64encode")),
            ("  base64decode ", Ok("base64decode")),
            ("jsonParse", Ok("jsonParse")),
            ("yamlParse", Ok("yamlParse")),
            ("sha256sum", Ok("sha256sum")),
            (" indent   4 ", Ok("indent 4")),
            ("indent\t0", Ok("indent 0")),
            ("jsonPath {.a.b}", Ok("jsonPath {.a.b}")),
            ("jsonPath   {$['k']} ", Ok("jsonPath {$['k']}")),
            ("jsonPath {'['}\n  {range .a[*]}\t{@},{end}", Ok("jsonPath {'['} {range .a[*]} {@},{end}")),
            ("", Err(r#"empty modifier after "|""#)),
            ("   ", Err(r#"empty modifier after "|""#)),
            ("foo", Err(r#"unknown modifier "foo" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#)),
            ("foo bar", Err(r#"unknown modifier "foo" (known: base64encode, base64decode, jsonParse, yamlParse, jsonPath, sha256sum, indent)"#)),
            ("Base64Encode", Err(r#"unknown modifier "Base64Encode" (did you mean "base64encode"?)"#)),
            ("jsonpath {.a}", Err(r#"unknown modifier "jsonpath" (did you mean "jsonPath"?)"#)),
            ("indent", Err(r#"modifier "indent" needs an argument: indent N"#)),
            ("indent  ", Err(r#"modifier "indent" needs an argument: indent N"#)),
            ("jsonPath", Err(r#"modifier "jsonPath" needs an argument: jsonPath EXPR"#)),
            ("base64encode x", Err(r#"modifier "base64encode" takes no argument"#)),
            ("sha256sum 256", Err(r#"modifier "sha256sum" takes no argument"#)),
            ("indent x", Err(r#"modifier "indent": "x" is not a whole number"#)),
            ("indent -1", Err(r#"modifier "indent": "-1" is not a whole number"#)),
            ("indent +1", Err(r#"modifier "indent": "+1" is not a whole number"#)),
            ("indent 1.5", Err(r#"modifier "indent": "1.5" is not a whole number"#)),
            ("indent 1 2", Err(r#"modifier "indent": "1 2" is not a whole number"#)),
            ("indent 99999999999999999999999", Err(r#"modifier "indent": "99999999999999999999999" is too large (at most 1000)"#)),
            ("jsonPath {!a}", Err(r#"modifier "jsonPath": invalid expression "{!a}": unexpected character '!' at character 2"#)),
            ("jsonPath .a.b", Err(r#"modifier "jsonPath": invalid expression ".a.b": no {...} block: write the path in braces, e.g. {.a.b}"#)),
        ];
        for (segment, expected) in cases {
            let expected = expected.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(parsed(segment), expected, "segment {segment:?}");
        }
    }

    /// Issue 11: `indent 18446744073709551615` panicked or aborted on its allocation.
    #[test]
    fn caps_indent() {
        let too_large = |n: &str| {
            Err(format!(
                r#"modifier "indent": "{n}" is too large (at most 1000)"#
            ))
        };
        assert_eq!(parsed("indent 1000"), Ok("indent 1000".to_owned()));
        for n in ["1001", "18446744073709551615", "18446744073709551616"] {
            assert_eq!(parsed(&format!("indent {n}")), too_large(n));
        }
        let many_lines = json!("\n".repeat(70_000));
        assert_eq!(
            run("indent 1000", many_lines),
            Err("indent: the indented value would be larger than 64 MiB".to_owned())
        );
        assert_eq!(
            run("indent 900", json!("\n".repeat(70_000))).map(|v| v.as_str().map(str::len)),
            Ok(Some(70_000))
        );
    }

    #[test]
    fn applies() {
        let sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        #[rustfmt::skip]
        let cases: Vec<(&str, Value, Result<Value, &str>)> = vec![
            ("base64encode", json!("hello"), Ok(json!("aGVsbG8="))),
            ("base64encode", json!(""), Ok(json!(""))),
            ("base64encode", json!("é"), Ok(json!("w6k="))),
            ("base64encode", json!(42), Ok(json!("NDI="))),
            ("base64encode", json!(true), Ok(json!("dHJ1ZQ=="))),
            ("base64encode", json!({"a": 1}), Err("base64encode: expected text, got a map")),
            ("base64encode", json!([1]), Err("base64encode: expected text, got a list")),
            ("base64encode", json!(null), Err("base64encode: expected text, got null")),
            ("base64decode", json!("aGVsbG8="), Ok(json!("hello"))),
            ("base64decode", json!("aGVs\nbG8=\r\n"), Ok(json!("hello"))),
            ("base64decode", json!("aGVsbG8"), Err("base64decode: value is not valid base64")),
            ("base64decode", json!("not base64!"), Err("base64decode: value is not valid base64")),
            ("base64decode", json!("//79"), Err("base64decode: value decodes to binary data, not UTF-8 text")),
            ("base64decode", json!({}), Err("base64decode: expected text, got a map")),
            ("base64encode | base64decode", json!("round\ntrip"), Ok(json!("round\ntrip"))),
            ("jsonParse", json!(r#"{"a": [1, "x", null]}"#), Ok(json!({"a": [1, "x", null]}))),
            ("jsonParse", json!("12"), Ok(json!(12))),
            ("jsonParse", json!(r#""s""#), Ok(json!("s"))),
            ("jsonParse", json!("{\"a\":\n tru}"), Err("jsonParse: value is not valid JSON (line 2, column 5)")),
            ("jsonParse", json!(""), Err("jsonParse: value is not valid JSON (line 1, column 0)")),
            ("jsonParse", json!([]), Err("jsonParse: expected text, got a list")),
            ("jsonPath {.a.b}", json!({"a": {"b": "x"}}), Ok(json!("x"))),
            ("jsonPath {.a.b}", json!(r#"{"a": {"b": "x"}}"#), Ok(json!("x"))),
            ("jsonPath {.a}", json!({"a": {"b": 1}}), Ok(json!(r#"{"b":1}"#))),
            ("jsonPath {.a}", json!({"a": 5}), Ok(json!("5"))),
            ("jsonPath {.a}", json!({"a": true}), Ok(json!("true"))),
            ("jsonPath {.a}", json!({"a": null}), Ok(json!("null"))),
            ("jsonPath {[*]}", json!(["x", 1, {"k": "v"}]), Ok(json!(r#"x 1 {"k":"v"}"#))),
            ("jsonPath {.items[*].name}", json!({"items": [{"name": "a"}, {"name": "b"}]}), Ok(json!("a b"))),
            ("jsonPath {[0]}", json!("[\"first\"]"), Ok(json!("first"))),
            ("jsonPath {$}", json!(7), Ok(json!("7"))),
            ("jsonPath {.a}:{.b}", json!({"a": "u", "b": "p"}), Ok(json!("u:p"))),
            ("jsonPath {.a[?(@.k=='x')].v}", json!({"a": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}), Ok(json!("1"))),
            ("jsonPath {.a.c}", json!({"a": {"b": "x"}}), Err(r#"jsonPath: key "c" not found"#)),
            ("jsonPath {.a[*]}", json!({"a": []}), Err("jsonPath: {.a[*]} selected nothing (the result would be empty text)")),
            ("jsonPath {.a}", json!("not json"), Err("jsonPath: value is text but not JSON (line 1, column 2)")),
            ("jsonParse | jsonPath {.user}", json!(r#"{"user": "admin"}"#), Ok(json!("admin"))),
            ("sha256sum", json!("abc"), Ok(json!(sha_abc))),
            ("sha256sum", json!(""), Ok(json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))),
            ("sha256sum", json!({}), Err("sha256sum: expected text, got a map")),
            ("indent 2", json!("a\nb"), Ok(json!("a\n  b"))),
            ("indent 0", json!("a\nb"), Ok(json!("a\nb"))),
            ("indent 4", json!("single"), Ok(json!("single"))),
            ("indent 4", json!(""), Ok(json!(""))),
            ("indent 2", json!("a\n\nb\n"), Ok(json!("a\n\n  b\n"))),
            ("indent 2", json!("a\r\n\r\nb"), Ok(json!("a\r\n\r\n  b"))),
            ("indent 2", json!("a\n  b\n    c"), Ok(json!("a\n    b\n      c"))),
            ("indent 2", json!("a\n \nb"), Ok(json!("a\n   \n  b"))),
            ("indent 2", json!(5), Ok(json!("5"))),
            ("indent 2", json!(["a"]), Err("indent: expected text, got a list")),
            ("base64decode | indent 2", json!("YQpi"), Ok(json!("a\n  b"))),
        ];
        for (chain, input, expected) in cases {
            let expected = expected.map_err(str::to_owned);
            assert_eq!(run(chain, input.clone()), expected, "{chain} on {input}");
        }
    }

    #[test]
    fn indents_pem_and_yaml_values() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
        let want =
            "-----BEGIN CERTIFICATE-----\n    MIIB\n    AAAA\n    -----END CERTIFICATE-----\n";
        assert_eq!(run("indent 4", json!(pem)), Ok(json!(want)));

        let yaml = "server:\n  port: 80\n\n  hosts:\n    - a\n\nend: true";
        let want = "server:\n      port: 80\n\n      hosts:\n        - a\n\n    end: true";
        assert_eq!(run("indent 4", json!(yaml)), Ok(json!(want)));
    }

    /// <https://github.com/argoproj-labs/argocd-vault-plugin/issues/633>: AVP strips each
    /// line's own indentation, breaking indented JSON.
    #[test]
    fn avp_633_indent_keeps_own_indentation() {
        let json = "{\n  \"json_field1\": \"value\",\n  \"json_field2\": \"value\"\n}";
        let want = "{\n      \"json_field1\": \"value\",\n      \"json_field2\": \"value\"\n    }";
        assert_eq!(run("indent 4", json!(json)), Ok(json!(want)));
    }

    /// <https://github.com/argoproj-labs/argocd-vault-plugin/issues/650>: AVP drops blank lines,
    /// and a PGP armor block needs the one after its header.
    #[test]
    fn avp_650_indent_keeps_blank_lines() {
        let pgp =
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nTmV2ZXI=\n-----END PGP PUBLIC KEY BLOCK-----";
        let want = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n  TmV2ZXI=\n  -----END PGP PUBLIC KEY BLOCK-----";
        assert_eq!(run("indent 2", json!(pgp)), Ok(json!(want)));
    }

    /// Depends on `crate::yaml::value::parse_value` (the yaml module).
    #[test]
    fn parses_yaml() {
        let input = json!("a: 1\nb: [x, true]\nc: \"2\"\n");
        assert_eq!(
            run("yamlParse", input),
            Ok(json!({"a": 1, "b": ["x", true], "c": "2"}))
        );
        let error = run("yamlParse", json!("key: [s3cr3t-value")).expect_err("unclosed flow");
        assert!(
            error.starts_with("yamlParse: value is not valid YAML (line "),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"), "{error}");
    }

    #[test]
    fn errors_never_contain_the_value() {
        let secret = "s3cr3t-p4ss";
        #[rustfmt::skip]
        let cases = [
            ("base64decode", json!(format!("{secret}!"))),
            ("base64decode", json!(STANDARD.encode([0xff, 0xfe, b's', b'3']))),
            ("jsonParse", json!(format!("{{\"k\": {secret}}}"))),
            ("jsonParse", json!(format!("\"{secret}"))),
            ("jsonParse", json!(format!("[\"{secret}\" \"x\"]"))),
            ("jsonPath {.missing}", json!({"k": secret})),
            ("jsonPath {.k}", json!(format!("{secret} plain text"))),
            ("base64encode", json!({"k": secret})),
            ("sha256sum", json!([secret])),
            ("indent 2", json!({"k": secret})),
        ];
        for (chain, input) in cases {
            let error = run(chain, input).expect_err(chain);
            assert!(!error.contains("s3cr3t"), "{chain}: {error}");
            assert!(!error.contains("cr3t-p4"), "{chain}: {error}");
        }
    }

    #[test]
    fn table_is_consistent() {
        for (i, spec) in table().iter().enumerate() {
            assert!(
                table()[..i].iter().all(|other| other.name != spec.name),
                "{} is listed twice",
                spec.name
            );
            let (name, argument) = spec
                .usage
                .split_once(' ')
                .map_or((spec.usage, None), |(n, a)| (n, Some(a)));
            assert_eq!(name, spec.name);
            assert_eq!(
                argument.is_some(),
                spec.argument() != ArgumentKind::None,
                "{}",
                spec.name
            );
            assert!(
                !spec.doc.is_empty() && !spec.doc.contains('\n'),
                "{}",
                spec.name
            );
        }
    }
}
