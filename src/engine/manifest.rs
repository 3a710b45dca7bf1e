//! Outlines each parsed document (what it is, its `avp.kubernetes.io/*` annotations, its
//! placeholders) and picks the Kubernetes objects out of the outlines.

use std::collections::{BTreeSet, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::engine::problem::Problem;
use crate::engine::scan::{self, Scan, ScanOptions, Target};
use crate::engine::sites::{Sites, SitesBuilder, SitesTable};
use crate::engine::source::{Input, InputKind};
use crate::placeholder::secret_ref::{KvVersion, SecretRef};
use crate::yaml::{Document, Node, NodeKind};

/// The annotation prefix shared with argocd-vault-plugin.
pub(crate) const ANNOTATION_PREFIX: &str = "avp.kubernetes.io/";

/// An input with what was kept of each of its documents.
#[derive(Debug)]
pub(crate) struct ParsedInput {
    /// The input.
    pub input: Input,
    /// Its documents, in order, piece by piece (see [`crate::yaml::parse_stream_in_pieces`]),
    /// each piece with the table its documents' sites were built into.
    pub pieces: Vec<(Arc<SitesTable>, Vec<Outline>)>,
}

impl ParsedInput {
    /// Its documents, in order.
    fn documents(&self) -> impl Iterator<Item = &Outline> {
        self.pieces.iter().flat_map(|(_, documents)| documents)
    }
}

/// What is kept of one document once its tree is gone: where it is, what it is, and the
/// placeholders it holds. A tree weighs many times its text, so each document is outlined
/// while the stream is parsed (see [`crate::yaml::parse_stream_with`]) and its tree dropped.
#[derive(Debug)]
pub(crate) struct Outline {
    /// Byte range of the document's text in its input.
    pub range: Range<usize>,
    /// What the document is.
    pub shape: Shape,
}

/// What a document is, as far as selection cares.
#[derive(Debug)]
pub(crate) enum Shape {
    /// Empty or only comments.
    Empty,
    /// Content that is not a mapping with a `kind`.
    NoKind {
        /// It has an `apiVersion` and inline placeholders: it looks like a manifest whose
        /// `kind` is missing, so skipping it deserves a warning.
        lost_placeholders: bool,
    },
    /// kustomize's own configuration (`Kustomization`, `Component`, `kustomize.config.k8s.io/*`).
    KustomizeConfig,
    /// A Kubernetes object without placeholders (or ignored) whose annotations are fine: it is
    /// printed as it is, and nothing else about it is kept, so that a large stream costs little
    /// more than its text.
    Plain {
        /// It has a non-empty `apiVersion`.
        has_api_version: bool,
    },
    /// A Kubernetes object.
    Object(Box<Object>),
}

/// What is kept of a document that is a Kubernetes object.
#[derive(Debug)]
pub(crate) struct Object {
    /// It has a non-empty `apiVersion`.
    has_api_version: bool,
    /// `kind`, one copy per kind and piece.
    kind: Arc<str>,
    /// `metadata.name`.
    name: Option<Box<str>>,
    /// Whether its `kv-version` annotation is set, and what the scan found (nothing when it
    /// is ignored), or what is wrong with its annotations.
    scanned: Result<(bool, Scan), String>,
}

/// What the documents of one piece of a stream (see [`crate::yaml::parse_stream_in_pieces`])
/// share while they are outlined: the table their sites go to, and one copy of each kind.
#[derive(Debug, Default)]
pub(crate) struct PieceOutlines {
    sites: SitesBuilder,
    kinds: HashSet<Arc<str>>,
}

impl PieceOutlines {
    /// The table of the piece's sites, once every document is outlined.
    pub(crate) fn seal(self) -> Arc<SitesTable> {
        self.sites.seal()
    }
}

/// Outlines one document of `stream`: reads what selection needs and scans an object's
/// placeholders (unless it is ignored) into the table of `piece`, its piece of the stream, so
/// that the tree can be dropped right after.
pub(crate) fn outline(
    document: Document,
    stream: &str,
    options: ScanOptions<'_>,
    piece: &mut PieceOutlines,
) -> Outline {
    let range = document.range;
    let Some(root) = document.root else {
        return Outline {
            range,
            shape: Shape::Empty,
        };
    };
    let kind = root
        .get("kind")
        .and_then(Node::as_scalar)
        .filter(|k| !k.is_empty());
    let shape = match kind.filter(|_| matches!(root.kind, NodeKind::Mapping(_))) {
        None => Shape::NoKind {
            lost_placeholders: root.get("apiVersion").is_some() && {
                let annotations = Annotations::default();
                let target = Target {
                    kind: "",
                    annotations: &annotations,
                    api_version: "",
                    stream,
                };
                // Only whether it holds any: its sites are not kept.
                let scan =
                    scan::scan_document(&root, target, options, &mut SitesBuilder::default());
                !scan.sites.is_empty() || !scan.problems.is_empty()
            },
        },
        Some(_) if is_kustomize_config(&root) => Shape::KustomizeConfig,
        Some(kind) => {
            let has_api_version = root
                .get("apiVersion")
                .and_then(Node::as_scalar)
                .is_some_and(|v| !v.is_empty());
            let annotations = read_annotations(&root).and_then(|a| check_kind(kind, a));
            let scanned = annotations.map(|annotations| {
                let kv_version_annotated = annotations.kv_version.is_some();
                if annotations.ignore {
                    return (kv_version_annotated, Scan::default());
                }
                let target = Target {
                    kind,
                    annotations: &annotations,
                    api_version: root
                        .get("apiVersion")
                        .and_then(Node::as_scalar)
                        .unwrap_or_default(),
                    stream,
                };
                let scan = scan::scan_document(&root, target, options, &mut piece.sites);
                (kv_version_annotated, scan)
            });
            if let Ok((_, scan)) = &scanned
                && scan.sites.is_empty()
                && scan.problems.is_empty()
            {
                return Outline {
                    range,
                    shape: Shape::Plain { has_api_version },
                };
            }
            Shape::Object(Box::new(Object {
                has_api_version,
                kind: share(&mut piece.kinds, kind),
                name: root
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_scalar)
                    .map(Box::from),
                scanned,
            }))
        }
    };
    Outline { range, shape }
}

/// The `avp.kubernetes.io/*` annotations of one manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Annotations {
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

/// A Kubernetes object to print. Most have no placeholders and are printed as they are: they
/// cost a few words each, however large the stream.
#[derive(Debug)]
pub struct Manifest {
    /// Index of its input in the run's inputs.
    pub input: usize,
    /// Byte range of its document's text in its input.
    pub range: Range<usize>,
    /// What filling it takes; `None` when it is printed as it is.
    pub filling: Option<Box<Filling>>,
}

/// The placeholders of a manifest and what messages about them need.
#[derive(Debug)]
pub struct Filling {
    /// Its `avp.kubernetes.io/kv-version` annotation set the KV version its sites were read
    /// with (rather than `AVP_KV_VERSION`): messages say which to change.
    pub kv_version_annotated: bool,
    /// Its placeholders and the secrets they read.
    pub sites: Sites,
    /// What `check` reports it as, and messages name it by (see [`Subject::place`]).
    pub subject: Subject,
}

/// A manifest (or a Helm values text) as `check` names it, in parts.
#[derive(Debug, Default, Clone)]
pub struct Subject {
    /// The file, or what the text is (`helm output`, `<stdin>`, `Application parameter values`):
    /// one text shared by every manifest of the file.
    pub file: Arc<str>,
    /// The document's number in its file (from 1), when the file has several.
    pub document: Option<usize>,
    /// The object's `kind`; empty for Helm values. Shared by the manifests of a kind.
    pub kind: Arc<str>,
    /// The object's `metadata.name`.
    pub name: Option<Box<str>>,
    /// The chart template the document was built from, as helm's `# Source:` comment names
    /// it in a built stream. Shared by the documents of a template.
    pub template: Option<Arc<str>>,
}

impl Subject {
    /// How messages name it: `app/s.yaml: document 2 (Secret/db)`, with `from <template>`
    /// after a document of helm's output. Built only for a message: a large stream holds
    /// thousands of manifests, and messages are few.
    pub fn place(&self) -> String {
        let mut place = match self.document {
            Some(n) => format!("{}: document {n}", self.file),
            None => self.file.to_string(),
        };
        if !self.kind.is_empty() {
            let name = self.name.as_deref().unwrap_or("?");
            place = format!("{place} ({}/{name})", &*self.kind);
        }
        if let Some(template) = &self.template {
            place = format!("{place} from {template}");
        }
        place
    }
}

impl Filling {
    /// What filling the document `scan` found takes (`None` when it found no placeholder), its
    /// messages naming it as `subject` does; the scan's problems, placed so, go to `problems`.
    pub(crate) fn of(
        scan: Scan,
        table: &Arc<SitesTable>,
        kv_version_annotated: bool,
        subject: Subject,
        problems: &mut Vec<Problem>,
    ) -> Option<Box<Filling>> {
        if !scan.problems.is_empty() {
            let place = subject.place();
            problems.extend(
                scan.problems
                    .into_iter()
                    .map(|p| p.within(&place).about(&subject)),
            );
        }
        (!scan.sites.is_empty()).then(|| {
            Box::new(Filling {
                kv_version_annotated,
                sites: scan.sites.within(table),
                subject,
            })
        })
    }
}

/// The distinct secrets that `manifests` read, in a stable order: what one run asks Vault
/// for.
pub(crate) fn plan(manifests: &[Manifest]) -> Vec<SecretRef> {
    let distinct: BTreeSet<&SecretRef> = manifests
        .iter()
        .filter_map(|m| m.filling.as_deref())
        .flat_map(|filling| filling.sites.secrets())
        .collect();
    distinct.into_iter().cloned().collect()
}

/// Selects the manifests of every input, in input and document order, and returns the inputs
/// (whose texts the manifests' ranges point into).
///
/// A file none of whose documents is an object (no `apiVersion` and `kind`, or only kustomize's
/// own `Kustomization`/`Component`) is skipped whole: values files, `Chart.yaml` and the like.
/// Within a file that holds objects, and on standard input, a non-empty document that is not an
/// object is a problem. Problems of selection come before those of the placeholders.
pub(crate) fn select(parsed: Vec<ParsedInput>) -> (Vec<Input>, Vec<Manifest>, Vec<Problem>) {
    let mut inputs = Vec::with_capacity(parsed.len());
    // At most one manifest per document: sized once, as a stream can hold many thousands.
    let mut manifests = Vec::with_capacity(parsed.iter().map(|p| p.documents().count()).sum());
    let mut problems = Vec::new();
    let mut scan_problems = Vec::new();
    // Templates repeat over thousands of documents: one copy of each.
    let mut shared = HashSet::new();
    for (index, parsed) in parsed.into_iter().enumerate() {
        let has_object = parsed.documents().any(|d| match &d.shape {
            Shape::Object(object) => object.has_api_version,
            Shape::Plain { has_api_version } => *has_api_version,
            _ => false,
        });
        let numbered =
            parsed.input.origin == InputKind::Stdin || parsed.documents().nth(1).is_some();
        if parsed.input.origin == InputKind::File && !has_object {
            if parsed.documents().any(|d| d.shape.lost_placeholders()) {
                tracing::warn!(
                    "{}: skipped, although it holds placeholders: a Kubernetes manifest needs \
                     both apiVersion and kind",
                    parsed.input.name
                );
            } else {
                tracing::debug!(file = %parsed.input.name, "skipped: holds no Kubernetes object");
            }
            inputs.push(parsed.input);
            continue;
        }
        let ParsedInput { input, pieces } = parsed;
        let file: Arc<str> = Arc::from(input.name.as_str());
        let (tables, pieces): (Vec<_>, Vec<_>) = pieces.into_iter().unzip();
        let documents = pieces
            .into_iter()
            .enumerate()
            .flat_map(|(piece, documents)| documents.into_iter().map(move |d| (d, piece)));
        for (n, (Outline { range, shape }, piece)) in documents.enumerate() {
            let at = || {
                if numbered {
                    format!("{}: document {}", input.name, n + 1)
                } else {
                    input.name.clone()
                }
            };
            let object = match shape {
                Shape::Empty | Shape::KustomizeConfig => continue,
                Shape::NoKind { .. } => {
                    problems.push(Problem::at(at(), "not a Kubernetes object: it has no kind"));
                    continue;
                }
                Shape::Plain { .. } => {
                    // Printed as it is: no place, annotations or sites to keep.
                    manifests.push(Manifest {
                        input: index,
                        range,
                        filling: None,
                    });
                    continue;
                }
                Shape::Object(object) => object,
            };
            let subject = Subject {
                file: Arc::clone(&file),
                document: numbered.then_some(n + 1),
                kind: object.kind,
                name: object.name,
                // Built output (helm's, or a stream on standard input) has no file per
                // document; helm names each document's template in a comment.
                template: (input.origin == InputKind::Stdin)
                    .then(|| helm_source(&input.text[range.clone()]))
                    .flatten()
                    .map(|template| share(&mut shared, template)),
            };
            match object.scanned {
                Ok((kv_version_annotated, scan)) => {
                    let filling = Filling::of(
                        scan,
                        &tables[piece],
                        kv_version_annotated,
                        subject,
                        &mut scan_problems,
                    );
                    manifests.push(Manifest {
                        input: index,
                        range,
                        filling,
                    });
                }
                Err(message) => problems.push(Problem::at(subject.place(), message)),
            }
        }
        inputs.push(input);
    }
    problems.extend(scan_problems);
    (inputs, manifests, problems)
}

/// The one copy in `shared` of `text`.
fn share(shared: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
    if let Some(known) = shared.get(text) {
        return Arc::clone(known);
    }
    let new: Arc<str> = Arc::from(text);
    shared.insert(Arc::clone(&new));
    new
}

impl Shape {
    /// Whether skipping the document would leave placeholders unfilled without a word: a
    /// document that looks like a manifest (an `apiVersion` without `kind`, or a `kind` without
    /// `apiVersion`) and holds placeholders.
    fn lost_placeholders(&self) -> bool {
        match self {
            Shape::NoKind { lost_placeholders } => *lost_placeholders,
            Shape::Object(object) => {
                !object.has_api_version
                    && object
                        .scanned
                        .as_ref()
                        .is_ok_and(|(_, scan)| !scan.sites.is_empty() || !scan.problems.is_empty())
            }
            Shape::Empty | Shape::KustomizeConfig | Shape::Plain { .. } => false,
        }
    }
}

/// The template named by helm's `# Source: chart/templates/x.yaml` comment at the top of a
/// document of its output, if it is there and fits on a message's line.
fn helm_source(document: &str) -> Option<&str> {
    for line in document.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix('#')?;
        if let Some(template) = comment.trim_start().strip_prefix("Source:") {
            let template = template.trim();
            return (!template.is_empty() && !template.chars().any(char::is_control))
                .then_some(template);
        }
    }
    None
}

/// Refuses annotations that do not apply to `kind`: `remove-missing` drops entries of the data
/// maps of a Secret or ConfigMap, which other kinds do not have (argocd-vault-plugin refuses it
/// too).
fn check_kind(kind: &str, annotations: Annotations) -> Result<Annotations, String> {
    if annotations.remove_missing && !matches!(kind, "Secret" | "ConfigMap") {
        return Err(format!(
            "annotation {ANNOTATION_PREFIX}remove-missing applies only to a Secret or a ConfigMap \
             (remove it from this {kind})"
        ));
    }
    Ok(annotations)
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
