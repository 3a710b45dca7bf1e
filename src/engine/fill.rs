//! Computes the edit of every site from the fetched secrets: applies modifiers, splices text,
//! keeps typed values typed, re-encodes base64 data, and drops entries under `remove-missing`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::engine::check::{Entry, Status};
use crate::engine::manifest::Filling;
use crate::engine::mode::{FillMode, Resolution};
use crate::engine::problem::Problem;
use crate::engine::redact::RedactKey;
use crate::engine::sites::{Encoding, Resolved, Site};
use crate::placeholder::secret_ref::SecretRef;
use crate::secrets::{SecretAnswer, SecretReader};
use crate::yaml::edit::{Edit, Replacement};

/// Turns sites into edits, manifest by manifest, and keeps every problem for the end, so that
/// one run reports all of them. Each manifest's sites are consumed as its edits are made: the
/// caller can apply them and write the manifest's output before the next one is filled.
pub(crate) struct Filler<'s> {
    reader: &'s dyn SecretReader,
    secrets: &'s HashMap<SecretRef, SecretAnswer>,
    mode: &'s FillMode,
    /// Note outcomes in the mode's ledger (off for a repeated fill).
    noting: bool,
    problems: Vec<Problem>,
    /// A failed read is reported once, at its first placeholder, with a count of the others.
    failed_reads: BTreeMap<SecretRef, (String, usize)>,
}

impl<'s> Filler<'s> {
    /// A filler that takes values from the answers of `reader` (every secret the sites read
    /// must be there) and writes them, or their masks, as `mode` says; it notes every
    /// placeholder's outcome in the mode's ledger, if any.
    pub(crate) fn new(reader: &'s dyn SecretReader, mode: &'s FillMode) -> Self {
        Filler {
            reader,
            secrets: reader.answers(),
            mode,
            noting: true,
            problems: Vec::new(),
            failed_reads: BTreeMap::new(),
        }
    }

    /// The same filler, noting outcomes in the mode's ledger only when `noting`.
    pub(crate) fn noting(mut self, noting: bool) -> Self {
        self.noting = noting;
        self
    }

    /// The edits of a manifest's sites (the sites that have a problem get none); `stream` is
    /// the text it was scanned in.
    pub(crate) fn manifest(&mut self, filling: &Filling, stream: &str) -> Vec<Edit> {
        let mut edits = Vec::with_capacity(filling.sites.len());
        for site in filling.sites.iter(stream) {
            if let Some(edit) = self.site(filling, site) {
                edits.push(edit);
            }
        }
        edits
    }

    /// Every problem found, in the order found, failed reads last.
    pub(crate) fn finish(self) -> Vec<Problem> {
        let mut problems = self.problems;
        for (place, uses) in self.failed_reads.into_values() {
            let others = match uses {
                1 => String::new(),
                2 => " (and 1 more placeholder)".to_owned(),
                n => format!(" (and {} more placeholders)", n - 1),
            };
            problems.push(Problem::general(format!("{place}{others}")));
        }
        problems
    }

    /// Notes the outcome of one placeholder in the mode's ledger (`check`), if any.
    fn note(
        &self,
        filling: &Filling,
        site: Site<'_>,
        lookup: &Resolved<'_>,
        status: Status,
        message: &str,
    ) {
        if let Some(ledger) = self.ledger() {
            let version = self.reader.version_read(lookup.secret());
            ledger.note(Entry::new(filling, site, lookup, version, status, message));
        }
    }

    /// The ledger to note outcomes in, if any.
    fn ledger(&self) -> Option<&'s crate::engine::check::Ledger> {
        self.mode.ledger.as_ref().filter(|_| self.noting)
    }

    fn site(&mut self, filling: &Filling, site: Site<'_>) -> Option<Edit> {
        if let Some(ledger) = self.ledger() {
            ledger.begin_site();
        }
        self.site_edit(filling, site)
    }

    fn site_edit(&mut self, filling: &Filling, site: Site<'_>) -> Option<Edit> {
        let mut pieces = Vec::with_capacity(2 * site.lookups().len() + 1);
        let mut missing = Vec::new();
        let mut failed = false;
        for lookup in site.lookups() {
            pieces.push(Value::String(lookup.text_before().to_owned()));
            match look_up(&lookup, self.secrets) {
                Ok(value) => {
                    self.note(filling, site, &lookup, Status::Ok, "");
                    pieces.push(value);
                }
                Err(Failure::MissingKey(message)) => {
                    let status = if site.removable_key().is_some() {
                        Status::Removed
                    } else {
                        Status::MissingKey
                    };
                    self.note(filling, site, &lookup, status, &message);
                    missing.push((lookup, message));
                }
                Err(Failure::MissingSecret(message)) => {
                    let status = if lookup.secret().version.is_some() {
                        Status::MissingVersion
                    } else {
                        Status::MissingSecret
                    };
                    self.note(filling, site, &lookup, status, &message);
                    // `remove-missing` is for keys a secret lacks: a secret that is not there at
                    // all (a mistyped path, a KV v2 path without `data/`) must never empty the
                    // manifest.
                    failed = true;
                    let message = if site.removable_key().is_some() {
                        format!(
                            "{message} (remove-missing drops only keys missing from a secret that exists)"
                        )
                    } else {
                        message
                    };
                    self.problems.push(Problem::at(
                        site.place(&filling.subject.place(), &lookup),
                        message,
                    ));
                }
                Err(Failure::Modifier(message)) => {
                    self.note(filling, site, &lookup, Status::Modifier, &message);
                    failed = true;
                    self.problems.push(Problem::at(
                        site.place(&filling.subject.place(), &lookup),
                        message,
                    ));
                }
                Err(Failure::Read(error)) => {
                    failed = true;
                    let why = kv_version_cause(&error, filling.kv_version_annotated);
                    self.note(
                        filling,
                        site,
                        &lookup,
                        Status::of_read(&error),
                        &format!("reading {}: {error}{why}", lookup.secret().path),
                    );
                    let entry = self
                        .failed_reads
                        .entry(lookup.secret().clone())
                        .or_insert_with(|| {
                            (
                                format!(
                                    "{}: reading {}: {error}{why}",
                                    site.place(&filling.subject.place(), &lookup),
                                    lookup.secret().path
                                ),
                                0,
                            )
                        });
                    entry.1 += 1;
                }
            }
        }
        if failed {
            return None;
        }
        if !missing.is_empty() {
            return match site.removable_key() {
                Some(key) => Some(Edit::RemoveEntry {
                    key,
                    value: site.span(),
                }),
                None => {
                    self.problems
                        .extend(missing.into_iter().map(|(lookup, message)| {
                            let message = match literal_hint(&lookup) {
                                Some(hint) => format!("{message} ({hint})"),
                                None => message,
                            };
                            Problem::at(site.place(&filling.subject.place(), &lookup), message)
                        }));
                    None
                }
            };
        }
        pieces.push(Value::String(site.text_after().to_owned()));
        let masks = match &self.mode.resolution {
            Resolution::Masks(key) => Some(masked_pieces(key, &pieces)),
            Resolution::Values | Resolution::AsWritten => None,
        };
        // The real value is checked against its field even when its mask is written, so
        // that a redacted render fails exactly when the real one would.
        match replacement(site, pieces) {
            Ok(with) => Some(Edit::Scalar {
                span: site.span(),
                style: site.style(),
                with: match masks {
                    Some(masks) => masked_replacement(site, masks),
                    None => with,
                },
            }),
            Err(message) => {
                if let Some(ledger) = self.ledger() {
                    ledger.unfit(&message);
                }
                self.problems.push(Problem::at(
                    format!("{}: {}", filling.subject.place(), site.field()),
                    message,
                ));
                None
            }
        }
    }
}

/// For a KV v2 secret read as KV v1, what made it KV v1 and what to change: this manifest's
/// `kv-version` annotation, or else `AVP_KV_VERSION`. Empty for any other error.
fn kv_version_cause(error: &crate::secrets::vault::VaultError, annotated: bool) -> &'static str {
    if !matches!(
        error,
        crate::secrets::vault::VaultError::KvV2ReadAsV1 { .. }
    ) {
        return "";
    }
    if annotated {
        " because of this manifest's avp.kubernetes.io/kv-version: \"1\" annotation; remove \
         the annotation or set it to \"2\""
    } else {
        " because of AVP_KV_VERSION=1; set it to 2, or give this manifest the annotation \
         avp.kubernetes.io/kv-version: \"2\""
    }
}

/// How a generic `<word>` that is not a key of the secret can be kept as text; `None` for
/// other placeholders, which cannot have been meant literally.
fn literal_hint(lookup: &Resolved<'_>) -> Option<String> {
    if !lookup.generic() || !lookup.modifiers().is_empty() {
        return None;
    }
    let text = lookup.written();
    Some(format!(
        "if {text:?} is meant as text, write it as \"\\{text}\""
    ))
}

/// Why a placeholder has no value.
enum Failure {
    /// The secret exists without this key: under `remove-missing`, its entry is dropped.
    MissingKey(String),
    /// There is no secret at the path (or no such version): always a problem.
    MissingSecret(String),
    /// A modifier refused the value.
    Modifier(String),
    /// Vault's answer to the read was an error.
    Read(std::sync::Arc<crate::secrets::vault::VaultError>),
}

fn look_up(
    lookup: &Resolved<'_>,
    secrets: &HashMap<SecretRef, SecretAnswer>,
) -> Result<Value, Failure> {
    let (key, modifiers, secret) = (lookup.key(), lookup.modifiers(), lookup.secret());
    // Named only in messages: not built for the many lookups that find their value.
    let at = || match secret.version {
        Some(v) => format!("{} version {v}", secret.path),
        None => secret.path.clone(),
    };
    let map = match secrets.get(secret) {
        Some(Ok(Some(map))) => map,
        Some(Ok(None)) => return Err(Failure::MissingSecret(format!("no secret at {}", at()))),
        Some(Err(error)) => return Err(Failure::Read(error.clone())),
        None => return Err(Failure::MissingSecret(format!("{} was not read", at()))),
    };
    let mut value = map
        .get(key)
        .cloned()
        .ok_or_else(|| Failure::MissingKey(format!("key {key:?} not found in {}", at())))?;
    for modifier in modifiers.iter() {
        value = modifier
            .apply(value)
            .map_err(|e| Failure::Modifier(e.to_string()))?;
    }
    Ok(value)
}

/// The new value of `site`, checked against what its field takes.
fn replacement(site: Site<'_>, pieces: Vec<Value>) -> Result<Replacement, String> {
    let with = combine(site, pieces)?;
    if site.base64_field()
        && site.encoding() == Encoding::AsIs
        && let Replacement::Str(text) = &with
        && !is_base64(text)
    {
        return Err(
            "the value is not base64, which Secret data must be (add | base64encode to the \
                    placeholder, or move the entry to stringData)"
                .to_owned(),
        );
    }
    Ok(with)
}

/// `pieces` (text, value, text, ..., value, text) with every value replaced by its mask.
fn masked_pieces(key: &RedactKey, pieces: &[Value]) -> Vec<Value> {
    pieces
        .iter()
        .enumerate()
        .map(|(n, piece)| {
            if n % 2 == 0 {
                piece.clone()
            } else {
                Value::String(key.mask(&spliced_text(piece)))
            }
        })
        .collect()
}

/// The new value of `site` made of masks: always text (a typed field gets a string mask), and
/// base64 wherever the field takes base64, so that the object stays valid.
fn masked_replacement(site: Site<'_>, masks: Vec<Value>) -> Replacement {
    let text = match combine(site, masks) {
        Ok(Replacement::Str(text)) => text,
        // Masks are strings, which every field takes as text.
        Ok(Replacement::Typed(value)) => spliced_text(&value),
        Err(_) => String::new(),
    };
    if site.base64_field() && site.encoding() == Encoding::AsIs {
        Replacement::Str(BASE64.encode(text))
    } else {
        Replacement::Str(text)
    }
}

/// Whether Kubernetes reads `text` as base64, as Go's standard decoder does (line breaks
/// ignored, padding required).
fn is_base64(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    BASE64.decode(compact).is_ok()
}

/// The value of `site`: one placeholder's value, typed where the field allows it, or the text
/// of all its parts.
fn combine(site: Site<'_>, mut pieces: Vec<Value>) -> Result<Replacement, String> {
    // pieces: text, value, text, ..., value, text.
    let whole =
        pieces.len() == 3 && pieces[0].as_str() == Some("") && pieces[2].as_str() == Some("");
    if whole && site.encoding() == Encoding::AsIs {
        let value = pieces.swap_remove(1);
        return match value {
            Value::String(s) => Ok(Replacement::Str(s)),
            Value::Number(_) | Value::Bool(_) | Value::Null if site.string_only() => {
                Ok(Replacement::Str(spliced_text(&value)))
            }
            Value::Array(_) | Value::Object(_) if site.string_only() => {
                let what = if value.is_array() { "a list" } else { "a map" };
                Err(format!(
                    "the value is {what}, but this field only takes text (add | jsonPath or keep it a string in Vault)"
                ))
            }
            typed => Ok(Replacement::Typed(typed)),
        };
    }
    let mut text = String::new();
    for piece in &pieces {
        splice_into(&mut text, piece);
    }
    Ok(Replacement::Str(match site.encoding() {
        Encoding::AsIs => text,
        Encoding::Base64 => BASE64.encode(text),
    }))
}

/// How a value reads when spliced into text.
fn spliced_text(value: &Value) -> String {
    let mut text = String::new();
    splice_into(&mut text, value);
    text
}

/// [`spliced_text`] of `value`, written at the end of `out`.
fn splice_into(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Null => {}
        other => {
            use std::fmt::Write as _;
            let _ = write!(out, "{other}");
        }
    }
}
