//! Computes the edit of every site from the fetched secrets: applies modifiers, splices text,
//! keeps typed values typed, re-encodes base64 data, and drops entries under `remove-missing`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::fetch::SecretAnswer;
use crate::manifest::Manifest;
use crate::placeholder::{Placeholder, Reference};
use crate::problem::Problem;
use crate::scan::{Encoding, Part, SecretRef, Site};
use crate::yaml::NodeKind;
use crate::yaml::edit::{Edit, Replacement};

/// The edits of every manifest (indexed like the manifests), or every problem found.
pub fn fill(
    manifests: &[Manifest<'_>],
    sites: &[Site<'_>],
    secrets: &HashMap<SecretRef, SecretAnswer>,
) -> Result<Vec<Vec<Edit>>, Vec<Problem>> {
    let mut edits = vec![Vec::new(); manifests.len()];
    let mut problems = Vec::new();
    // A failed read is reported once, at its first placeholder, with a count of the others.
    let mut failed_reads: BTreeMap<&SecretRef, (String, usize)> = BTreeMap::new();
    for site in sites {
        let mut pieces = Vec::with_capacity(site.parts.len());
        let mut missing = Vec::new();
        let mut failed = false;
        for part in &site.parts {
            let (placeholder, secret) = match part {
                Part::Text(text) => {
                    pieces.push(Value::String(text.clone()));
                    continue;
                }
                Part::Lookup {
                    placeholder,
                    secret,
                } => (placeholder, secret),
            };
            match look_up(placeholder, secret, secrets) {
                Ok(value) => pieces.push(value),
                Err(Failure::Missing(message)) => missing.push((placeholder, message)),
                Err(Failure::Modifier(message)) => {
                    failed = true;
                    problems.push(Problem::at(site.place(manifests, placeholder), message));
                }
                Err(Failure::Read(error)) => {
                    failed = true;
                    let entry = failed_reads.entry(secret).or_insert_with(|| {
                        (
                            format!(
                                "{}: reading {}: {error}",
                                site.place(manifests, placeholder),
                                secret.path
                            ),
                            0,
                        )
                    });
                    entry.1 += 1;
                }
            }
        }
        if failed {
            continue;
        }
        if !missing.is_empty() {
            match site.removable_key {
                Some(key) => edits[site.manifest].push(Edit::RemoveEntry {
                    key: key.span.clone(),
                    value: site.node.span.clone(),
                }),
                None => problems.extend(
                    missing
                        .into_iter()
                        .map(|(p, m)| Problem::at(site.place(manifests, p), m)),
                ),
            }
            continue;
        }
        match replacement(site, pieces) {
            Ok(with) => {
                let NodeKind::Scalar { style, .. } = &site.node.kind else {
                    continue;
                };
                edits[site.manifest].push(Edit::Scalar {
                    span: site.node.span.clone(),
                    style: *style,
                    with,
                });
            }
            Err(message) => problems.push(Problem::at(
                format!("{}: {}", manifests[site.manifest].place, site.field),
                message,
            )),
        }
    }
    for (place, uses) in failed_reads.into_values() {
        let others = match uses {
            1 => String::new(),
            2 => " (and 1 more placeholder)".to_owned(),
            n => format!(" (and {} more placeholders)", n - 1),
        };
        problems.push(Problem::general(format!("{place}{others}")));
    }
    if problems.is_empty() {
        Ok(edits)
    } else {
        Err(problems)
    }
}

enum Failure {
    Missing(String),
    Modifier(String),
    Read(std::sync::Arc<crate::vault::VaultError>),
}

fn look_up(
    placeholder: &Placeholder,
    secret: &SecretRef,
    secrets: &HashMap<SecretRef, SecretAnswer>,
) -> Result<Value, Failure> {
    let key = match &placeholder.reference {
        Reference::Inline { key, .. } | Reference::Generic { key } => key,
    };
    let at = match secret.version {
        Some(v) => format!("{} version {v}", secret.path),
        None => secret.path.clone(),
    };
    let map = match secrets.get(secret) {
        Some(Ok(Some(map))) => map,
        Some(Ok(None)) => return Err(Failure::Missing(format!("no secret at {at}"))),
        Some(Err(error)) => return Err(Failure::Read(error.clone())),
        None => return Err(Failure::Missing(format!("{at} was not read"))),
    };
    let mut value = map
        .get(key)
        .cloned()
        .ok_or_else(|| Failure::Missing(format!("key {key:?} not found in {at}")))?;
    for modifier in &placeholder.modifiers {
        value = modifier
            .apply(value)
            .map_err(|e| Failure::Modifier(e.to_string()))?;
    }
    Ok(value)
}

fn replacement(site: &Site<'_>, mut pieces: Vec<Value>) -> Result<Replacement, String> {
    let whole = site.parts.len() == 1 && matches!(site.parts[0], Part::Lookup { .. });
    if whole && site.encoding == Encoding::AsIs {
        let value = pieces.pop().unwrap_or(Value::Null);
        return match value {
            Value::String(s) => Ok(Replacement::Str(s)),
            Value::Number(_) | Value::Bool(_) | Value::Null if site.string_only => {
                Ok(Replacement::Str(text_of(&value)))
            }
            Value::Array(_) | Value::Object(_) if site.string_only => {
                let what = if value.is_array() { "a list" } else { "a map" };
                Err(format!(
                    "the value is {what}, but this field only takes text (add | jsonPath or keep it a string in Vault)"
                ))
            }
            typed => Ok(Replacement::Typed(typed)),
        };
    }
    let text: String = pieces.iter().map(text_of).collect();
    Ok(Replacement::Str(match site.encoding {
        Encoding::AsIs => text,
        Encoding::Base64 => BASE64.encode(text),
    }))
}

/// How a value reads when spliced into text.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
