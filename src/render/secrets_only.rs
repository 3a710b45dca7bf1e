//! The policy's `secretsOnly` for values filled into Helm values: they count as the manifests
//! they become. Templates may copy, quote, encode, hash or cut a value, so searching the output
//! for it would miss most of what a chart can do with it. Instead the chart is rendered twice,
//! once with the values and once with their [`disguise`](crate::engine::disguise)d stand-ins;
//! outside a v1 Secret's `data` and `stringData` values the two outputs must be byte for byte
//! the same. Whatever a template did with a value, if it reached anything else, that thing
//! differs. Nothing of either output is printed: a difference is named by its object.
//!
//! Limits, documented in the README: a value without letters or digits has no stand-in that
//! differs from it; a chart whose output differs between two renders anyway (`randAlphaNum`,
//! `uuidv4`, `now`) is refused; a template that branches on a value is refused when the branch
//! changes the output outside Secret data.

use std::ops::Range;

use crate::config::policy::Decision;
use crate::engine::problem::Problem;
use crate::yaml::{self, Node, NodeKind};

/// Checks that `real` and `disguised`, the chart's output with the values and with their
/// stand-ins, differ only inside v1 Secrets' `data` and `stringData` values.
pub(super) fn check(real: &str, disguised: &str, decision: &Decision) -> Result<(), Vec<Problem>> {
    let why = |what: &str| {
        format!(
            "{what} a value filled into the Helm values reaches it outside a Secret's data or \
             stringData (secretsOnly; {}): use the value only in a Secret (apiVersion v1) \
             template's data or stringData",
            decision.who()
        )
    };
    let (Ok(real_docs), Ok(disguised_docs)) =
        (yaml::parse_stream(real), yaml::parse_stream(disguised))
    else {
        return Err(vec![Problem::at(
            "helm output",
            why("does not parse the same way with other values:"),
        )]);
    };
    if real_docs.len() != disguised_docs.len() {
        return Err(vec![Problem::at(
            "helm output",
            why("has a different number of documents with other values:"),
        )]);
    }
    let mut problems = Vec::new();
    for (n, (r, d)) in real_docs.iter().zip(&disguised_docs).enumerate() {
        if outside_secret_data(real, r) != outside_secret_data(disguised, d) {
            problems.push(Problem::at(
                format!("helm output: document {} ({})", n + 1, object_name(r)),
                why("changes with other values:"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The document's text with the values of a v1 Secret's `data` and `stringData` entries cut
/// out (each replaced by nothing, so that a value's length does not count either).
fn outside_secret_data(text: &str, document: &yaml::Document) -> String {
    let range = document.range.clone();
    let mut cuts: Vec<Range<usize>> = Vec::new();
    if let Some(root) = &document.root
        && scalar(root, "kind") == Some("Secret")
        && scalar(root, "apiVersion") == Some("v1")
    {
        for map in ["data", "stringData"] {
            if let Some(Node {
                kind: NodeKind::Mapping(entries),
                ..
            }) = root.get(map)
            {
                cuts.extend(entries.iter().map(|(_, value)| value.span.clone()));
            }
        }
    }
    cuts.sort_by_key(|c| c.start);
    let mut out = String::with_capacity(range.len());
    let mut at = range.start;
    for cut in cuts {
        if cut.start < at {
            continue;
        }
        out.push_str(&text[at..cut.start]);
        at = cut.end;
    }
    out.push_str(&text[at..range.end]);
    out
}

fn scalar<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key).and_then(Node::as_scalar)
}

/// `Kind/name` of a document, as other messages name objects.
fn object_name(document: &yaml::Document) -> String {
    let Some(root) = &document.root else {
        return "empty".to_owned();
    };
    let kind = scalar(root, "kind").unwrap_or("?");
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("?");
    format!("{kind}/{name}")
}
