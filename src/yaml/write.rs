//! Writes values as YAML text that YAML 1.1 readers (go-yaml: kubectl, Argo CD) and YAML 1.2
//! readers read back as exactly those values.

use std::fmt::Write as _;

use serde_json::Value;

/// `s` as a JSON string: a YAML double-quoted scalar never read back as a bool or number.
///
/// Beyond what JSON must escape, characters YAML does not allow raw (DEL, C1 controls) or that
/// YAML 1.1 reads as line breaks (NEL, U+2028, U+2029) or a byte order mark are written as
/// `\uXXXX`, which both JSON and YAML decode.
pub(super) fn json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters written as `\uXXXX` in a JSON string (besides the ones with short escapes).
fn needs_escape(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether a literal block scalar can carry `s` unchanged: no characters that YAML forbids or
/// reads as line breaks (tabs and `\n` are fine), and at least one character besides `\n`.
pub(super) fn fits_literal_block(s: &str) -> bool {
    s.chars().any(|c| c != '\n') && !s.chars().any(|c| c != '\t' && c != '\n' && needs_escape(c))
}

/// `value` as one line of flow YAML: numbers, `true`/`false`, `null`, JSON strings, and JSON-like
/// flow collections with the same rules inside.
pub(super) fn flow(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                let _ = write!(out, "{n}");
            } else {
                float(&n.to_string(), out);
            }
        }
        Value::String(s) => json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(key, out);
                out.push_str(": ");
                flow(item, out);
            }
            out.push('}');
        }
    }
}

/// A float as YAML 1.1 reads floats: with a `.` in the mantissa and a signed exponent
/// (`1.0e+20`; `1e20` would be a string there).
fn float(shortest: &str, out: &mut String) {
    let (mantissa, exponent) = match shortest.find(['e', 'E']) {
        Some(at) => (&shortest[..at], Some(&shortest[at + 1..])),
        None => (shortest, None),
    };
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    if let Some(exponent) = exponent {
        out.push('e');
        if !exponent.starts_with(['-', '+']) {
            out.push('+');
        }
        out.push_str(exponent);
    }
}

/// A literal block scalar for `s` (which must pass [`fits_literal_block`]): its header (`|`,
/// `|-` or `|+` by the number of trailing line breaks, with `indicator` as indentation
/// indicator when given), then each line indented by `indent` spaces, lines joined by `eol`.
///
/// The last line's own break is left out when `break_follows`: the text after the replaced
/// range supplies it.
pub(super) fn literal_block(
    s: &str,
    indent: usize,
    indicator: Option<usize>,
    eol: &str,
    break_follows: bool,
) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let mut out = String::with_capacity(s.len() + 16);
    out.push('|');
    if let Some(indicator) = indicator {
        let _ = write!(out, "{indicator}");
    }
    out.push_str(match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    });
    let body = if trailing > 0 { &s[..s.len() - 1] } else { s };
    for line in body.split('\n') {
        out.push_str(eol);
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    if trailing > 0 && !break_follows {
        out.push_str(eol);
    }
    out
}

/// Whether the first line of `s` with any characters starts with a space (a literal block then
/// needs an indentation indicator).
pub(super) fn starts_with_space(s: &str) -> bool {
    s.split('\n')
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with(' '))
}

/// Whether the literal block [`literal_block`] writes for `s` keeps the empty lines that follow
/// it as content (`|+`).
pub(super) fn keeps_trailing_lines(s: &str) -> bool {
    s.ends_with("\n\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn flow_text(value: &Value) -> String {
        let mut out = String::new();
        flow(value, &mut out);
        out
    }

    #[test]
    fn flow_values_keep_their_type_for_yaml_1_1() {
        let cases = [
            (json!(42), "42"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(1.5), "1.5"),
            (json!(3.0), "3.0"),
            (json!(1e20), "1.0e+20"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(-2.5e300), "-2.5e+300"),
            (json!(true), "true"),
            (json!(null), "null"),
            (json!("yes"), "\"yes\""),
            (
                json!({"b": [1, "x"], "a": {}}),
                "{\"b\": [1, \"x\"], \"a\": {}}",
            ),
            (json!([]), "[]"),
        ];
        for (value, expected) in cases {
            assert_eq!(flow_text(&value), expected, "{value}");
        }
    }

    #[test]
    fn json_strings_match_serde_json_and_escape_yaml_breaks() {
        for s in [
            "plain",
            "quote \" back \\ slash",
            "tab\tnl\ncr\r",
            "\u{1}\u{8}\u{c}",
            "é😀",
        ] {
            let mut out = String::new();
            json_string(s, &mut out);
            assert_eq!(out, serde_json::to_string(s).unwrap_or_default(), "{s:?}");
        }
        let mut out = String::new();
        json_string("a\u{85}b\u{2028}\u{feff}\u{7f}", &mut out);
        assert_eq!(out, r#""a\u0085b\u2028\ufeff\u007f""#);
        assert_eq!(
            serde_json::from_str::<String>(&out).ok().as_deref(),
            Some("a\u{85}b\u{2028}\u{feff}\u{7f}")
        );
    }

    #[test]
    fn literal_blocks_by_trailing_breaks() {
        let cases = [
            ("a\nb", true, "|-\n  a\n  b"),
            ("a\n", true, "|\n  a"),
            ("a\n", false, "|\n  a\n"),
            ("a\n\n", true, "|+\n  a\n"),
            ("a\n\n", false, "|+\n  a\n\n"),
            ("\nx\n\ty", true, "|-\n\n  x\n  \ty"),
        ];
        for (s, break_follows, expected) in cases {
            assert_eq!(
                literal_block(s, 2, None, "\n", break_follows),
                expected,
                "{s:?}"
            );
        }
        assert_eq!(
            literal_block(" a", 4, Some(2), "\r\n", true),
            "|2-\r\n     a"
        );
        assert!(
            !fits_literal_block("a\rb") && !fits_literal_block("\n\n") && !fits_literal_block("")
        );
        assert!(fits_literal_block("a\tb\n") && fits_literal_block("é"));
        assert!(starts_with_space("\n\n  x") && !starts_with_space("x\n y"));
    }
}
