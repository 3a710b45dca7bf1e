//! How a run fills placeholders: with the secrets' values (a render), with masks of them
//! (`--redact`), or not at all (`--no-resolve`); and whether it notes each placeholder's
//! outcome for `check`.

use crate::engine::check::Ledger;
use crate::engine::redact::RedactKey;

/// What a filled placeholder becomes.
#[derive(Debug, Default)]
pub enum Resolution {
    /// Its value: what Argo CD applies.
    #[default]
    Values,
    /// A mask of its value (`--redact`): secrets are read, and no value is printed or given
    /// to helm.
    Masks(RedactKey),
    /// Nothing: placeholders stay as written and no secret is read (`--no-resolve`).
    AsWritten,
}

/// How a run fills placeholders.
#[derive(Debug, Default)]
pub struct FillMode {
    /// What a filled placeholder becomes.
    pub resolution: Resolution,
    /// Where `check` collects the outcome of every placeholder.
    pub ledger: Option<Ledger>,
}

impl FillMode {
    /// Whether secrets are read at all.
    pub(crate) fn reads(&self) -> bool {
        !matches!(self.resolution, Resolution::AsWritten)
    }
}
