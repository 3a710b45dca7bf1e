//! Assembles the output stream: every manifest's text, edited where needed, as `---` documents.

use crate::manifest::{Manifest, ParsedInput};
use crate::problem::Problem;
use crate::yaml::edit::{self, Edit};

/// The whole output, built in memory so that nothing is printed unless everything succeeded.
pub fn render(
    inputs: &[ParsedInput],
    manifests: &[Manifest<'_>],
    edits: Vec<Vec<Edit>>,
) -> Result<String, Problem> {
    // About the input's size: growing a string of many megabytes by doubling would copy it
    // and keep up to twice what it holds.
    let documents: usize = manifests.iter().map(|m| m.document.range.len() + 5).sum();
    let mut out = String::with_capacity(documents + documents / 16);
    for (manifest, edits) in manifests.iter().zip(edits) {
        let text = &inputs[manifest.input].input.text;
        let range = manifest.document.range.clone();
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
