//! `vaultplate generate`: the whole substitution run, stage by stage.

use std::collections::BTreeMap;
use std::io::Read;

use crate::config::Config;
use crate::engine::fill::Filler;
use crate::engine::manifest::{self, ParsedInput, PieceOutlines};
use crate::engine::mode::FillMode;
use crate::engine::output::Output;
use crate::engine::problem::Problem;
use crate::engine::scan::ScanOptions;
use crate::engine::{source, templates};
use crate::secrets::SecretReader;
use crate::yaml;

/// What to generate from.
#[derive(Debug, Clone)]
pub(crate) struct GenerateRequest<'a> {
    /// A file, a directory, or `-` for standard input.
    pub path: &'a str,
    /// The size of standard input when it is a regular file (see
    /// [`source::regular_file_size`]).
    pub stdin_size: Option<u64>,
    /// Succeed even when there is no manifest at all.
    pub allow_empty: bool,
    /// The environment Argo CD gives (`ARGOCD_APP_*`): the templates' context.
    pub env: &'a BTreeMap<String, String>,
}

/// Runs the stages in order and returns the complete output, or every problem found.
///
/// Nothing is sent to Vault until every input has been parsed and every placeholder checked,
/// and nothing is returned unless every manifest was filled.
pub(crate) fn generate(
    request: &GenerateRequest<'_>,
    config: &Config,
    stdin: &mut dyn Read,
    reader: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Output, Vec<Problem>> {
    // A template named alone is rendered, not read as a manifest.
    let template = request.path.ends_with(templates::files::SUFFIX)
        && std::path::Path::new(request.path).is_file();
    let mut inputs = if template {
        Vec::new()
    } else {
        source::load(request.path, stdin, request.stdin_size).map_err(|p| vec![p])?
    };
    if request.path != "-" {
        inputs = templates::with_inputs(request.path, inputs, request.env, config, reader, mode)?;
    }
    let name = if request.path == "-" {
        "<stdin>"
    } else {
        request.path
    };
    fill_inputs(inputs, name, request.allow_empty, config, reader, mode)
}

/// Fills the placeholders of `inputs` (already read or built) and returns the whole output.
/// `name` says what they are in the message about an empty result; `mode` what the
/// placeholders become.
pub(crate) fn fill_inputs(
    inputs: Vec<source::Input>,
    name: &str,
    allow_empty: bool,
    config: &Config,
    reader: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Output, Vec<Problem>> {
    let options = ScanOptions::of(config);
    let (parsed, mut problems) = parse(inputs, options);
    let (inputs, manifests, select_problems) = manifest::select(parsed);
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
    let secrets = manifest::plan(&manifests);
    tracing::debug!(
        manifests = manifests.len(),
        sites = manifests
            .iter()
            .filter_map(|m| m.filling.as_deref())
            .map(|f| f.sites.len())
            .sum::<usize>(),
        secrets = secrets.len(),
        "scanned"
    );
    if !mode.reads() {
        // `--no-resolve`: every placeholder stays as written, and Vault is never contacted.
        return Output::assemble(inputs, manifests, |_, _| Vec::new()).map_err(|p| vec![p]);
    }
    reader
        .read(&secrets)
        .map_err(|e| vec![Problem::general(e)])?;
    let mut filler = Filler::new(&*reader, mode);
    let output = Output::assemble(inputs, manifests, |filling, text| {
        filler.manifest(filling, text)
    });
    let problems = filler.finish();
    if !problems.is_empty() {
        return Err(problems);
    }
    output.map_err(|p| vec![p])
}

/// Parses every input and outlines each document as it is parsed (see [`manifest::outline`]),
/// so that no more than a document's tree per thread is held at a time; the sites of each
/// piece parsed on one thread go to one table. The syntax errors of all inputs are collected,
/// and the inputs that parsed are still checked, so that one run reports every problem.
fn parse(inputs: Vec<source::Input>, options: ScanOptions<'_>) -> (Vec<ParsedInput>, Vec<Problem>) {
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut problems = Vec::new();
    for input in inputs {
        let pieces =
            yaml::parse_stream_in_pieces(&input.text, PieceOutlines::default, |piece, d| {
                manifest::outline(d, &input.text, options, piece)
            });
        match pieces {
            Ok(pieces) => {
                let pieces = pieces
                    .into_iter()
                    .map(|(piece, documents)| (piece.seal(), documents))
                    .collect();
                parsed.push(ParsedInput { input, pieces });
            }
            Err(e) => problems.push(Problem::at(input.name, format!("invalid YAML at {e}"))),
        }
    }
    (parsed, problems)
}
