//! Stand-ins for secret values, for the `secretsOnly` check of Helm charts: every ASCII letter
//! and digit turned into another of its kind (`a`→`b`, `z`→`a`, `0`→`1`, `9`→`0`), every other
//! character kept, so that a stand-in has the value's length and shape (a number stays a number,
//! base64 stays base64) and differs from it wherever the value holds a letter or a digit. A
//! chart rendered once with the values and once with their stand-ins shows, by what differs,
//! where the values went.

use serde_json::Value;

/// `text` with each ASCII letter and digit replaced by the next of its kind, wrapping around.
pub(crate) fn text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            other => other,
        })
        .collect()
}

/// `value` with every string and number disguised as [`text`] does, and booleans flipped;
/// map keys stay (a template looks them up by name).
pub(crate) fn value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Number(n) => serde_json::from_str(&text(&n.to_string())).unwrap_or(Value::Null),
        Value::Bool(b) => Value::Bool(!b),
        Value::Null => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(self::value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), self::value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn every_letter_and_digit_changes_and_the_shape_stays() {
        assert_eq!(super::text("hunter2-Zz9 ü=="), "ivoufs3-Aa0 ü==");
        assert_eq!(
            super::value(&json!({"n": 19, "b": true, "s": ["ab"], "x": null})),
            json!({"n": 20, "b": false, "s": ["bc"], "x": null})
        );
    }
}
