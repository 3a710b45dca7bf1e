//! Helm values: YAML texts that are not manifests, whose placeholders are checked before helm
//! starts ([`scan_values`]) and filled, all secrets read at once, into the texts helm reads
//! through pipes ([`fill_values`]).

use std::collections::BTreeSet;

use crate::config::Config;
use crate::engine::disguise;
use crate::engine::fill::Filler;
use crate::engine::manifest::{self, Annotations, Filling, Manifest, Subject};
use crate::engine::mode::FillMode;
use crate::engine::problem::Problem;
use crate::engine::scan::{self, ScanOptions, Target};
use crate::engine::sites::SitesBuilder;
use crate::placeholder::secret_ref::SecretRef;
use crate::secrets::SecretReader;
use crate::secrets::mask::Masker;
use crate::yaml;
use crate::yaml::edit::{Edit, Replacement};

/// A YAML text that is not a manifest (Helm values) whose placeholders are checked and not yet
/// filled: see [`scan_values`] and [`fill_values`].
#[derive(Debug)]
pub(crate) struct ScannedValues {
    text: String,
    manifests: Vec<Manifest>,
    secrets: Vec<SecretRef>,
}

/// Parses the values `text` named `name` and checks its inline placeholders; `None` when it
/// holds none. Nothing is read from Vault.
pub(crate) fn scan_values(
    name: &str,
    text: &str,
    config: &Config,
) -> Result<Option<ScannedValues>, Vec<Problem>> {
    let options = ScanOptions {
        check_secrets_only: false,
        ..ScanOptions::of(config)
    };
    let no_annotations = Annotations::default();
    let target = Target {
        kind: "",
        annotations: &no_annotations,
        api_version: "",
        stream: text,
    };
    let pieces = yaml::parse_stream_in_pieces(text, SitesBuilder::default, |sites, document| {
        let root = document.root?;
        Some((
            document.range,
            scan::scan_document(&root, target, options, sites),
        ))
    })
    .map_err(|e| vec![Problem::at(name, format!("invalid YAML at {e}"))])?;
    let numbered = pieces.iter().map(|(_, d)| d.len()).sum::<usize>() > 1;
    let mut problems = Vec::new();
    let mut manifests = Vec::new();
    let (tables, pieces): (Vec<_>, Vec<_>) = pieces
        .into_iter()
        .map(|(sites, documents)| (sites.seal(), documents))
        .unzip();
    let documents = pieces
        .into_iter()
        .enumerate()
        .flat_map(|(piece, documents)| documents.into_iter().map(move |d| (d, piece)));
    for (n, (document, piece)) in documents.enumerate() {
        let Some((range, scan)) = document else {
            continue;
        };
        let subject = Subject {
            file: name.into(),
            document: numbered.then_some(n + 1),
            ..Subject::default()
        };
        let filling = Filling::of(scan, &tables[piece], false, subject, &mut problems);
        manifests.push(Manifest {
            input: 0,
            range,
            filling,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if manifests.iter().all(|m| m.filling.is_none()) {
        return Ok(None);
    }
    let secrets = manifest::plan(&manifests);
    Ok(Some(ScannedValues {
        text: text.to_owned(),
        manifests,
        secrets,
    }))
}

/// Reads the secrets of every scanned values text at once (each distinct secret once, all
/// concurrently) and returns the filled texts, in order. Every value written is added to
/// `masker`, so that a child's messages about it can be masked. With `disguised`, each value
/// is written as its [`disguise`] stand-in instead.
///
/// Under `--no-resolve` the texts come back as they are, and nothing is read.
pub(crate) fn fill_values(
    scanned: Vec<ScannedValues>,
    reader: &mut dyn SecretReader,
    masker: &mut Masker,
    mode: &FillMode,
    disguised: bool,
) -> Result<Vec<String>, Vec<Problem>> {
    if !mode.reads() {
        return Ok(scanned.into_iter().map(|s| s.text).collect());
    }
    let secrets: BTreeSet<SecretRef> = scanned
        .iter()
        .flat_map(|s| s.secrets.iter().cloned())
        .collect();
    reader
        .read(&secrets.into_iter().collect::<Vec<_>>())
        .map_err(|e| vec![Problem::general(e)])?;
    // The stand-ins' render repeats the real one: `check` notes each placeholder once.
    let mut filler = Filler::new(&*reader, mode).noting(!disguised);
    let mut filled = Vec::with_capacity(scanned.len());
    let mut problems = Vec::new();
    for values in scanned {
        match fill_text(values, &mut filler, masker, disguised) {
            Ok(text) => filled.push(text),
            Err(found) => problems.extend(found),
        }
    }
    problems.extend(filler.finish());
    if problems.is_empty() {
        Ok(filled)
    } else {
        Err(problems)
    }
}

/// One scanned values text with its placeholders replaced.
fn fill_text(
    values: ScannedValues,
    filler: &mut Filler<'_>,
    masker: &mut Masker,
    disguised: bool,
) -> Result<String, Vec<Problem>> {
    let mut out = String::new();
    for manifest in values.manifests {
        let Some(filling) = manifest.filling else {
            if !out.is_empty() {
                out.push_str("---\n");
            }
            out.push_str(&values.text[manifest.range]);
            continue;
        };
        let mut edits = filler.manifest(&filling, &values.text);
        if disguised {
            for edit in &mut edits {
                if let Edit::Scalar { with, .. } = edit {
                    *with = match with {
                        Replacement::Str(s) => Replacement::Str(disguise::text(s)),
                        Replacement::Typed(v) => Replacement::Typed(disguise::value(v)),
                    };
                }
            }
        }
        for edit in &edits {
            match edit {
                Edit::Scalar {
                    with: Replacement::Str(s),
                    ..
                } => masker.add(s),
                Edit::Scalar {
                    with: Replacement::Typed(v),
                    ..
                } => masker.add_value(v),
                Edit::RemoveEntry { .. } => {}
            }
        }
        let filled = yaml::edit::apply(&values.text, manifest.range.clone(), edits)
            .map_err(|e| vec![Problem::at(filling.subject.place(), e)])?;
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&filled);
    }
    Ok(out)
}
