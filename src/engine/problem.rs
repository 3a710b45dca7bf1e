//! A problem found in a run, with the place it concerns, rendered as one line of stderr.
//!
//! Problems carry names (file, document, object, field, placeholder text from the manifest) and
//! descriptions, never secret values.

use std::fmt;

/// One thing that went wrong. A run collects all of them before it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `app/s.yaml: document 2 (Secret/db): data.password: <path:secret/data/db#pass>`.
    pub place: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem that concerns the run as a whole (settings, login).
    pub fn general(message: impl fmt::Display) -> Self {
        Problem {
            place: None,
            message: message.to_string(),
        }
    }

    /// A problem at a described place.
    pub fn at(place: impl Into<String>, message: impl fmt::Display) -> Self {
        Problem {
            place: Some(place.into()),
            message: message.to_string(),
        }
    }
}

impl Problem {
    /// The same problem placed inside `outer`, for problems found before their place was
    /// known in full: `outer: place: message`.
    pub fn within(self, outer: &str) -> Self {
        let place = match self.place {
            Some(inner) => format!("{outer}: {inner}"),
            None => outer.to_owned(),
        };
        Problem {
            place: Some(place),
            message: self.message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{place}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
