//! A problem found in a run, with the place it concerns, rendered as one line of stderr.
//!
//! Problems carry names (file, document, object, field, placeholder text from the manifest) and
//! descriptions, never secret values.

use std::fmt;

use crate::engine::check::Entry;
use crate::engine::manifest::Subject;

/// One thing that went wrong. A run collects all of them before it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `app/s.yaml: document 2 (Secret/db): data.password: <path:secret/data/db#pass>`.
    pub place: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The placeholders it refuses, as `check --format json` lists them: set for refusals found
    /// before Vault is contacted (the operator's policy), empty for other problems.
    pub(crate) refused: Vec<Entry>,
}

impl Problem {
    /// A problem that concerns the run as a whole (settings, login).
    pub fn general(message: impl fmt::Display) -> Self {
        Problem {
            place: None,
            message: message.to_string(),
            refused: Vec::new(),
        }
    }

    /// A problem at a described place.
    pub fn at(place: impl Into<String>, message: impl fmt::Display) -> Self {
        Problem {
            place: Some(place.into()),
            message: message.to_string(),
            refused: Vec::new(),
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
            refused: self.refused,
        }
    }

    /// The same problem with the placeholders it refuses (see [`Problem::refused`]).
    pub(crate) fn refusing(mut self, entries: Vec<Entry>) -> Self {
        self.refused = entries;
        self
    }

    /// The same problem with its refused placeholders named as parts of `subject`.
    pub(crate) fn about(mut self, subject: &Subject) -> Self {
        for entry in &mut self.refused {
            entry.file = subject.file.to_string();
            entry.document = subject.document;
            entry.kind = subject.kind.to_string();
            entry.name = subject.name.as_deref().map(str::to_owned);
        }
        self
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
