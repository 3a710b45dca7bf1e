//! `vaultplate check`: the outcome of every placeholder of a run (noted by the filler in a
//! [`Ledger`]), as a summary line or JSON for tools. Never a value: only names, paths, keys
//! and the problems' messages.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use crate::engine::manifest::Filling;
use crate::engine::sites::{Resolved, Site};
use crate::secrets::vault::VaultError;

/// How one placeholder fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Status {
    /// It has a value that fits its field.
    Ok,
    /// The key is missing, and `remove-missing` drops the entry: the render succeeds.
    Removed,
    /// The secret exists without this key.
    MissingKey,
    /// There is no secret at the path.
    MissingSecret,
    /// The secret has no such version.
    MissingVersion,
    /// The identity may not read the path.
    Denied,
    /// Vault's answer to the read was another error.
    ReadError,
    /// A modifier refused the value.
    Modifier,
    /// The value does not fit the field (base64 in Secret `data`, text in a text field).
    Field,
    /// The operator's policy (`VAULTPLATE_POLICY`) does not let this project's rule read the
    /// path: nothing was read.
    OutsidePolicy,
    /// The rule is `secretsOnly` and the value would land outside a Secret's `data` or
    /// `stringData` (directly, or through the Helm values it fills): nothing was read, or for
    /// Helm values the chart's output was refused.
    SecretsOnly,
}

impl Status {
    /// The status of a read that failed with `error`.
    pub(crate) fn of_read(error: &Arc<VaultError>) -> Self {
        match **error {
            VaultError::ReadDenied { .. } | VaultError::TokenRefused { .. } => Status::Denied,
            _ => Status::ReadError,
        }
    }

    /// Whether a render would succeed with this placeholder.
    pub(crate) fn resolved(self) -> bool {
        matches!(self, Status::Ok | Status::Removed)
    }
}

/// One placeholder as `check --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Entry {
    /// The file (or built output) holding it.
    pub file: String,
    /// Its document's number in the file, when the file has several.
    pub document: Option<usize>,
    /// The object's kind; empty for Helm values.
    pub kind: String,
    /// The object's name.
    pub name: Option<String>,
    /// The field, as a path in the object.
    pub field: String,
    /// The placeholder as written.
    pub placeholder: String,
    /// The secret's path.
    pub path: String,
    /// The secret's key.
    pub key: String,
    /// The KV v2 version read (also for a placeholder that asks for the latest); when nothing
    /// was read, the version asked for; `None` for KV v1 and for the latest not read.
    pub version: Option<u64>,
    /// `ok`, or the kind of problem.
    pub status: Status,
    /// What is wrong, empty when it resolved.
    pub message: String,
}

impl Entry {
    /// The entry of `lookup`, one placeholder of `site` in `filling`'s manifest, whose read
    /// returned `version_read` (see [`Entry::version`]).
    pub(crate) fn new(
        filling: &Filling,
        site: Site<'_>,
        lookup: &Resolved<'_>,
        version_read: Option<u64>,
        status: Status,
        message: &str,
    ) -> Self {
        let subject = &filling.subject;
        Entry {
            file: subject.file.to_string(),
            document: subject.document,
            kind: subject.kind.to_string(),
            name: subject.name.as_deref().map(str::to_owned),
            field: site.field().to_owned(),
            placeholder: lookup.written().to_owned(),
            path: lookup.secret().path.clone(),
            key: lookup.key().to_owned(),
            version: version_read.or(lookup.secret().version),
            status,
            message: message.to_owned(),
        }
    }
}

/// What the scan knows of a placeholder it refuses: its place in the document, secret and
/// key. The file and object are added where the document is placed ([`Problem::about`]).
///
/// [`Problem::about`]: crate::engine::problem::Problem::about
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused<'a> {
    pub field: &'a str,
    pub placeholder: &'a str,
    pub path: &'a str,
    pub key: &'a str,
    pub version: Option<u64>,
}

impl Refused<'_> {
    /// The entry of this placeholder with `status`, outside any file yet.
    pub(crate) fn entry(self, status: Status, message: &str) -> Entry {
        Entry {
            file: String::new(),
            document: None,
            kind: String::new(),
            name: None,
            field: self.field.to_owned(),
            placeholder: self.placeholder.to_owned(),
            path: self.path.to_owned(),
            key: self.key.to_owned(),
            version: self.version,
            status,
            message: message.to_owned(),
        }
    }
}

/// Every placeholder's outcome, in the order the filler met them.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: RefCell<Vec<Entry>>,
    /// Where the site being filled starts in `entries`.
    site_start: RefCell<usize>,
}

impl Ledger {
    /// Notes one placeholder's outcome.
    pub(crate) fn note(&self, entry: Entry) {
        self.entries.borrow_mut().push(entry);
    }

    /// Marks the start of a site's placeholders.
    pub(crate) fn begin_site(&self) {
        *self.site_start.borrow_mut() = self.entries.borrow().len();
    }

    /// The value of the current site does not fit its field: its placeholders that resolved
    /// take the blame.
    pub(crate) fn unfit(&self, message: &str) {
        let start = *self.site_start.borrow();
        for entry in &mut self.entries.borrow_mut()[start..] {
            if entry.status == Status::Ok {
                entry.status = Status::Field;
                message.clone_into(&mut entry.message);
            }
        }
    }

    /// How many entries there are: where the next one will go.
    pub(crate) fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// The entries from `start` on that resolved are refused after all, with `status`.
    pub(crate) fn refuse_from(&self, start: usize, status: Status, message: &str) {
        for entry in self.entries.borrow_mut().iter_mut().skip(start) {
            if entry.status == Status::Ok {
                entry.status = status;
                message.clone_into(&mut entry.message);
            }
        }
    }

    /// Every entry, in order.
    pub(crate) fn into_entries(self) -> Vec<Entry> {
        self.entries.into_inner()
    }
}

/// `12 placeholders over 4 secrets in 3 manifests: all resolved` (or how many did not).
pub(crate) fn summary(entries: &[Entry]) -> String {
    let secrets: BTreeSet<(&str, Option<u64>)> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.version))
        .collect();
    let manifests: BTreeSet<(&str, Option<usize>)> = entries
        .iter()
        .map(|e| (e.file.as_str(), e.document))
        .collect();
    let failed = entries.iter().filter(|e| !e.status.resolved()).count();
    let outcome = match failed {
        0 => "all resolved".to_owned(),
        1 => "1 did not resolve".to_owned(),
        n => format!("{n} did not resolve"),
    };
    format!(
        "{} over {} in {}: {outcome}",
        count(entries.len(), "placeholder"),
        count(secrets.len(), "secret"),
        count(manifests.len(), "manifest"),
    )
}

/// `1 secret`, `2 secrets`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
