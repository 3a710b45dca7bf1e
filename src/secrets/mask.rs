//! Masks secret values in text that vaultplate did not write itself (a child's stderr): helm
//! can echo a value it failed on, and that text reaches Argo CD's UI, logs and Redis.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

/// What a masked value is shown as.
pub(crate) const MASK: &str = "<redacted>";

/// Values shorter than this are not masked: they would turn every message into noise, and
/// they are not secrets worth the name.
const SHORTEST: usize = 3;

/// Lines of a multi-line value shorter than this (after trimming) are not masked on their own:
/// masking `}` or `---` would blank every message.
const SHORTEST_LINE: usize = 8;

/// The values to hide (and their base64 forms).
#[derive(Debug, Default, Clone)]
pub(crate) struct Masker {
    needles: Vec<String>,
}

impl Masker {
    /// Adds a value, its base64 form, its JSON-escaped forms (`toJson`), and each line of a
    /// multi-line value (trimmed, so that a re-indented `toYaml` form is hidden line by line)
    /// with the line's own escaped forms.
    pub(crate) fn add(&mut self, value: &str) {
        if value.chars().count() < SHORTEST {
            return;
        }
        self.needles.push(value.to_owned());
        self.needles.push(BASE64.encode(value));
        self.add_escaped(value);
        if value.contains('\n') {
            for line in value.lines().map(str::trim) {
                if line.chars().count() >= SHORTEST_LINE {
                    self.needles.push(line.to_owned());
                    self.add_escaped(line);
                }
            }
        }
    }

    /// The forms helm's `toJson` (Go's encoder escapes `<`, `>`, `&` too) and a YAML single
    /// quoted scalar give `text`, where they differ from it.
    fn add_escaped(&mut self, text: &str) {
        let json = Value::String(text.to_owned()).to_string();
        let json = &json[1..json.len() - 1];
        let go = json
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        let single_quoted = text.replace('\'', "''");
        for form in [json.to_owned(), go, single_quoted] {
            if form != text {
                self.needles.push(form);
            }
        }
    }

    /// Adds every string (and the text of every number and bool) inside a JSON value.
    pub(crate) fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Number(n) => self.add(&n.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// `text` with every known value replaced by [`MASK`].
    pub(crate) fn mask(&self, text: &str) -> String {
        // Longest first, so that a value containing another is hidden whole.
        let mut needles: Vec<&str> = self.needles.iter().map(String::as_str).collect();
        needles.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        needles.dedup();
        needles
            .into_iter()
            .fold(text.to_owned(), |text, needle| text.replace(needle, MASK))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_and_their_base64_are_hidden() {
        let mut masker = Masker::default();
        masker.add_value(&json!({"password": "hunter2", "nested": {"list": ["tok-abc"]}, "port": 5432, "x": "ab"}));
        let text = "bad password hunter2 (aHVudGVyMg==) token tok-abc port 5432 ab";
        assert_eq!(
            masker.mask(text),
            "bad password <redacted> (<redacted>) token <redacted> port <redacted> ab"
        );
    }

    #[test]
    fn lines_of_a_multi_line_value_and_its_json_form_are_hidden() {
        let mut masker = Masker::default();
        masker.add("{\n  \"key\": \"s3cr3t-<line>\"\n}\n");
        assert_eq!(
            masker.mask("yaml: |\n    \"key\": \"s3cr3t-<line>\"\n  }\njson: \"{\\n  \\\"key\\\": \\\"s3cr3t-\\u003cline\\u003e\\\"\\n}\\n\""),
            "yaml: |\n    <redacted>\n  }\njson: \"<redacted>\""
        );
    }

    #[test]
    fn a_value_containing_another_is_hidden_whole() {
        let mut masker = Masker::default();
        masker.add("abc");
        masker.add("abcdef");
        assert_eq!(masker.mask("x abcdef y abc"), "x <redacted> y <redacted>");
    }
}
