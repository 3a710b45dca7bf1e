//! Picks the Kubernetes objects out of parsed inputs and reads their `avp.kubernetes.io/*`
//! annotations.

use crate::problem::Problem;
use crate::source::{Input, Origin};
use crate::vault::KvVersion;
use crate::yaml::{Document, Node, NodeKind};

/// The annotation prefix shared with argocd-vault-plugin.
pub const ANNOTATION_PREFIX: &str = "avp.kubernetes.io/";

/// An input with its documents.
#[derive(Debug)]
pub struct ParsedInput {
    /// The input.
    pub input: Input,
    /// Its documents, in order.
    pub documents: Vec<Document>,
}

/// The `avp.kubernetes.io/*` annotations of one manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// `path`: the secret of generic `<key>` placeholders.
    pub path: Option<String>,
    /// `ignore`: print untouched, fetch nothing.
    pub ignore: bool,
    /// `kv-version`: KV version of every placeholder of this manifest.
    pub kv_version: Option<KvVersion>,
    /// `secret-version`: version of the `path` secret.
    pub secret_version: Option<u64>,
    /// `remove-missing`: drop Secret/ConfigMap entries whose value is missing.
    pub remove_missing: bool,
}

/// A Kubernetes object to print, with what the later stages need to know about it.
#[derive(Debug)]
pub struct Manifest<'a> {
    /// Index of its input in the run's inputs.
    pub input: usize,
    /// Its document.
    pub document: &'a Document,
    /// The document's root mapping.
    pub root: &'a Node,
    /// `kind`.
    pub kind: &'a str,
    /// Its annotations.
    pub annotations: Annotations,
    /// How messages name it: `app/s.yaml: document 2 (Secret/db)`.
    pub place: String,
}

/// Selects the manifests of every input, in input and document order.
///
/// A file none of whose documents is an object (no `apiVersion` and `kind`, or only kustomize's
/// own `Kustomization`/`Component`) is skipped whole: values files, `Chart.yaml` and the like.
/// Within a file that holds objects, and on standard input, a non-empty document that is not an
/// object is a problem.
pub fn select(inputs: &[ParsedInput]) -> (Vec<Manifest<'_>>, Vec<Problem>) {
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    for (index, parsed) in inputs.iter().enumerate() {
        let input = &parsed.input;
        let has_object = parsed
            .documents
            .iter()
            .any(|d| d.root.as_ref().is_some_and(is_object));
        if input.origin == Origin::File && !has_object {
            tracing::debug!(file = %input.name, "skipped: holds no Kubernetes object");
            continue;
        }
        let numbered = input.origin == Origin::Stdin || parsed.documents.len() > 1;
        for (n, document) in parsed.documents.iter().enumerate() {
            let Some(root) = &document.root else { continue };
            let at = if numbered {
                format!("{}: document {}", input.name, n + 1)
            } else {
                input.name.clone()
            };
            let kind = root
                .get("kind")
                .and_then(Node::as_scalar)
                .filter(|k| !k.is_empty());
            let Some(kind) = kind.filter(|_| matches!(root.kind, NodeKind::Mapping(_))) else {
                problems.push(Problem::at(at, "not a Kubernetes object: it has no kind"));
                continue;
            };
            if is_kustomize_config(root) {
                continue;
            }
            let name = root
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Node::as_scalar);
            let place = format!("{at} ({kind}/{})", name.unwrap_or("?"));
            match read_annotations(root) {
                Ok(annotations) => manifests.push(Manifest {
                    input: index,
                    document,
                    root,
                    kind,
                    annotations,
                    place,
                }),
                Err(message) => problems.push(Problem::at(place, message)),
            }
        }
    }
    (manifests, problems)
}

fn is_object(root: &Node) -> bool {
    let has = |key| {
        root.get(key)
            .and_then(Node::as_scalar)
            .is_some_and(|v| !v.is_empty())
    };
    has("apiVersion") && has("kind") && !is_kustomize_config(root)
}

fn is_kustomize_config(root: &Node) -> bool {
    let api = root
        .get("apiVersion")
        .and_then(Node::as_scalar)
        .unwrap_or("");
    let kind = root.get("kind").and_then(Node::as_scalar).unwrap_or("");
    api.starts_with("kustomize.config.k8s.io/") || matches!(kind, "Kustomization" | "Component")
}

fn read_annotations(root: &Node) -> Result<Annotations, String> {
    let mut annotations = Annotations::default();
    let Some(NodeKind::Mapping(entries)) = root
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .map(|a| &a.kind)
    else {
        return Ok(annotations);
    };
    for (key, value) in entries {
        let Some(name) = key
            .as_scalar()
            .and_then(|k| k.strip_prefix(ANNOTATION_PREFIX))
        else {
            continue;
        };
        let text = value.as_scalar().ok_or_else(|| {
            format!("annotation {ANNOTATION_PREFIX}{name} must be a single value")
        })?;
        let bad = |expected: &str| {
            format!("annotation {ANNOTATION_PREFIX}{name}: {text:?} is not {expected}")
        };
        match name {
            "path" => annotations.path = Some(text.trim().to_owned()).filter(|p| !p.is_empty()),
            "ignore" => {
                annotations.ignore =
                    crate::config::parse_bool(text.trim()).map_err(|_| bad("true or false"))?
            }
            "remove-missing" => {
                annotations.remove_missing =
                    crate::config::parse_bool(text.trim()).map_err(|_| bad("true or false"))?;
            }
            "kv-version" => {
                annotations.kv_version = Some(KvVersion::parse(text).ok_or_else(|| bad("1 or 2"))?)
            }
            "secret-version" => {
                annotations.secret_version =
                    Some(text.trim().parse().map_err(|_| bad("a version number"))?);
            }
            _ => tracing::debug!(
                annotation = name,
                "unknown avp.kubernetes.io annotation ignored"
            ),
        }
    }
    Ok(annotations)
}
