//! `vaultplate generate`: the whole substitution run, stage by stage.

use std::collections::BTreeSet;
use std::io::Read;

use crate::config::Config;
use crate::engine::fill::Filler;
use crate::engine::manifest::{self, Annotations, Manifest, ParsedInput};
use crate::engine::output::Output;
use crate::engine::problem::Problem;
use crate::engine::scan::{self, ScanOptions, Target};
use crate::engine::source;
use crate::placeholder::secret_ref::SecretRef;
use crate::secrets::SecretReader;
use crate::secrets::mask::Masker;
use crate::yaml;
use crate::yaml::edit::{Edit, Replacement};

/// What to generate from.
#[derive(Debug, Clone)]
pub struct GenerateRequest<'a> {
    /// A file, a directory, or `-` for standard input.
    pub path: &'a str,
    /// The size of standard input when it is a regular file (see
    /// [`source::regular_file_size`]).
    pub stdin_size: Option<u64>,
    /// Succeed even when there is no manifest at all.
    pub allow_empty: bool,
}

/// Runs the stages in order and returns the complete output, or every problem found.
///
/// Nothing is sent to Vault until every input has been parsed and every placeholder checked,
/// and nothing is returned unless every manifest was filled.
pub fn generate(
    request: &GenerateRequest<'_>,
    config: &Config,
    stdin: &mut dyn Read,
    reader: &mut dyn SecretReader,
) -> Result<Output, Vec<Problem>> {
    let inputs = source::load(request.path, stdin, request.stdin_size).map_err(|p| vec![p])?;
    let name = if request.path == "-" {
        "<stdin>"
    } else {
        request.path
    };
    fill_inputs(inputs, name, request.allow_empty, config, reader)
}

/// Fills the placeholders of `inputs` (already read or built) and returns the whole output.
/// `name` says what they are in the message about an empty result.
pub fn fill_inputs(
    inputs: Vec<source::Input>,
    name: &str,
    allow_empty: bool,
    config: &Config,
    reader: &mut dyn SecretReader,
) -> Result<Output, Vec<Problem>> {
    let options = ScanOptions::of(config);
    let (parsed, mut problems) = parse(inputs, options);
    let (inputs, mut manifests, select_problems) = manifest::select(parsed);
    problems.extend(select_problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    if manifests.is_empty() && !allow_empty {
        return Err(vec![Problem::at(
            name,
            "holds no Kubernetes manifests; printing nothing would make Argo CD delete the application's \
             resources (pass --allow-empty if an empty result is intended)",
        )]);
    }
    let secrets = manifest::plan(&mut manifests);
    tracing::debug!(
        manifests = manifests.len(),
        sites = manifests.iter().map(|m| m.sites.len()).sum::<usize>(),
        secrets = secrets.len(),
        "scanned"
    );
    reader
        .read(&secrets)
        .map_err(|e| vec![Problem::general(e)])?;
    let mut filler = Filler::new(reader.answers(), options);
    let output = Output::assemble(inputs, manifests, |manifest, sites| {
        filler.manifest(manifest, sites)
    });
    let problems = filler.finish();
    if !problems.is_empty() {
        return Err(problems);
    }
    output.map_err(|p| vec![p])
}

/// Parses every input and outlines each document as it is parsed (see [`manifest::outline`]),
/// so that no more than a document's tree per thread is held at a time. The syntax errors of
/// all inputs are collected, and the inputs that parsed are still checked, so that one run
/// reports every problem.
fn parse(inputs: Vec<source::Input>, options: ScanOptions<'_>) -> (Vec<ParsedInput>, Vec<Problem>) {
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut problems = Vec::new();
    for input in inputs {
        match yaml::parse_stream_with(&input.text, |d| manifest::outline(d, options)) {
            Ok(documents) => parsed.push(ParsedInput { input, documents }),
            Err(e) => problems.push(Problem::at(input.name, format!("invalid YAML at {e}"))),
        }
    }
    (parsed, problems)
}

/// A YAML text that is not a manifest (Helm values) whose placeholders are checked and not yet
/// filled: see [`scan_values`] and [`fill_values`].
#[derive(Debug)]
pub struct ScannedValues {
    text: String,
    manifests: Vec<Manifest>,
    secrets: Vec<SecretRef>,
}

/// Parses the values `text` named `name` and checks its inline placeholders; `None` when it
/// holds none. Nothing is read from Vault.
pub fn scan_values(
    name: &str,
    text: &str,
    config: &Config,
) -> Result<Option<ScannedValues>, Vec<Problem>> {
    let options = ScanOptions::of(config);
    let no_annotations = Annotations::default();
    let target = Target {
        kind: "",
        annotations: &no_annotations,
    };
    let documents = yaml::parse_stream_with(text, |document| {
        let root = document.root?;
        Some((document.range, scan::scan_document(&root, target, options)))
    })
    .map_err(|e| vec![Problem::at(name, format!("invalid YAML at {e}"))])?;
    let numbered = documents.len() > 1;
    let mut problems = Vec::new();
    let mut manifests = Vec::new();
    for (n, document) in documents.into_iter().enumerate() {
        let Some((range, scan)) = document else {
            continue;
        };
        let place = if numbered {
            format!("{name}: document {}", n + 1)
        } else {
            name.to_owned()
        };
        problems.extend(scan.problems.into_iter().map(|p| p.within(&place)));
        manifests.push(Manifest {
            input: 0,
            range,
            place,
            annotations: no_annotations.clone(),
            secrets: scan.secrets,
            sites: scan.sites,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if manifests.iter().all(|m| m.sites.is_empty()) {
        return Ok(None);
    }
    let secrets = manifest::plan(&mut manifests);
    Ok(Some(ScannedValues {
        text: text.to_owned(),
        manifests,
        secrets,
    }))
}

/// Reads the secrets of every scanned values text at once (each distinct secret once, all
/// concurrently) and returns the filled texts, in order. Every value written is added to
/// `masker`, so that a child's messages about it can be masked.
pub fn fill_values(
    scanned: Vec<ScannedValues>,
    config: &Config,
    reader: &mut dyn SecretReader,
    masker: &mut Masker,
) -> Result<Vec<String>, Vec<Problem>> {
    let secrets: BTreeSet<SecretRef> = scanned
        .iter()
        .flat_map(|s| s.secrets.iter().cloned())
        .collect();
    reader
        .read(&secrets.into_iter().collect::<Vec<_>>())
        .map_err(|e| vec![Problem::general(e)])?;
    let mut filler = Filler::new(reader.answers(), ScanOptions::of(config));
    let mut filled = Vec::with_capacity(scanned.len());
    let mut problems = Vec::new();
    for values in scanned {
        match fill_text(values, &mut filler, masker) {
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
    filler: &mut Filler<'_, '_>,
    masker: &mut Masker,
) -> Result<String, Vec<Problem>> {
    let mut out = String::new();
    for mut manifest in values.manifests {
        let sites = std::mem::take(&mut manifest.sites);
        let edits = filler.manifest(&manifest, sites);
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
            .map_err(|e| vec![Problem::at(&manifest.place, e)])?;
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&filled);
    }
    Ok(out)
}
