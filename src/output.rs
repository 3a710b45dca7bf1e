//! Assembles the output stream: every manifest's text, edited where needed, as `---` documents.

use crate::manifest::Manifest;
use crate::problem::Problem;
use crate::scan::Site;
use crate::source::Input;
use crate::yaml::edit::{self, Edit};

/// The whole output, built in memory so that nothing is printed unless everything succeeded.
/// `edits_of` turns each manifest's sites (given its place) into its edits just before the
/// manifest is written, so that the sites of the manifests already written are freed while the
/// output grows.
pub fn render(
    inputs: &[Input],
    manifests: Vec<Manifest>,
    mut edits_of: impl FnMut(&str, Vec<Site>) -> Vec<Edit>,
) -> Result<String, Problem> {
    // About the input's size: growing a string of many megabytes by doubling would copy it
    // and keep up to twice what it holds.
    let documents: usize = manifests.iter().map(|m| m.range.len() + 5).sum();
    let mut out = String::with_capacity(documents + documents / 16);
    for manifest in manifests {
        let edits = edits_of(&manifest.place, manifest.sites);
        let text = &inputs[manifest.input].text;
        let range = manifest.range.clone();
        out.push_str("---\n");
        if edits.is_empty() {
            out.push_str(&text[range]);
        } else {
            let edited =
                edit::apply(text, range, edits).map_err(|e| Problem::at(&manifest.place, e))?;
            out.push_str(&edited);
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}
