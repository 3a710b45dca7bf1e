//! Placeholder modifiers (`| base64encode`, `| jsonPath {.a}`, `| indent 4`, ...) as one table.
//!
//! OWNER: helper A. Interface fixed; implementation and unit tests to be written.

use serde_json::Value;

/// A parsed, validated modifier with its argument.
#[derive(Debug, Clone)]
pub struct Modifier {
    /// The modifier's name as written in the table.
    pub name: &'static str,
}

/// Why a modifier could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModifierError(pub String);

impl Modifier {
    /// Parses one `| name args` segment (the text between two `|` or `|` and `>`, untrimmed).
    pub fn parse(segment: &str) -> Result<Self, ModifierError> {
        let _ = segment;
        unimplemented!("helper A")
    }

    /// Applies the modifier. Error messages never contain the value.
    pub fn apply(&self, value: Value) -> Result<Value, ModifierError> {
        let _ = value;
        unimplemented!("helper A")
    }
}
