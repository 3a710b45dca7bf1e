//! Finds every placeholder of the selected manifests and resolves what each one refers to, so
//! that all syntax, annotation and path problems are known before Vault is contacted.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use regex::Regex;

use crate::config::policy::Decision;
use crate::engine::check::{Refused, Status};
use crate::engine::manifest::Annotations;
use crate::engine::problem::Problem;
use crate::engine::sites::{Encoding, NewLookup, PendingSites, SiteFacts, SitesBuilder};
use crate::placeholder::modifier::Modifier;
use crate::placeholder::secret_path;
use crate::placeholder::secret_ref::{KvVersion, SecretRef};
use crate::placeholder::{self, Mode, Placeholder, Reference, Segment};
use crate::yaml::{Node, NodeKind, ScalarStyle};

/// A piece of a scanned string, while the scan reads it.
#[derive(Debug, Clone)]
enum Part {
    /// Literal text.
    Text(String),
    /// A placeholder, resolved.
    Lookup(Lookup),
}

/// A placeholder with the secret it reads, while the scan reads it (see [`crate::engine::sites::Resolved`]).
#[derive(Debug, Clone)]
struct Lookup {
    /// Byte range of the placeholder, `<` to `>`, in the scanned string.
    span: Range<usize>,
    /// The key inside the secret.
    key: String,
    /// Modifiers in the order written.
    modifiers: Vec<Modifier>,
    /// The secret.
    secret: SecretRef,
    /// A generic `<key>`.
    generic: bool,
    /// A version given for a KV v1 path, which has none: ignored, as argocd-vault-plugin does.
    ignored_version: Option<u64>,
}

/// What the scan needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanOptions<'r> {
    /// KV version when no annotation says otherwise.
    pub kv_version: KvVersion,
    /// `AVP_PATH_VALIDATION`, matched against the normalised path.
    pub path_validation: Option<&'r Regex>,
    /// The operator's policy for this render: its paths, and whether values may go only into
    /// Secret `data`/`stringData`.
    pub policy: Option<&'r Decision>,
    /// Check the policy's `secretsOnly` here, on each placeholder's place (off for Helm values,
    /// whose output is checked once rendered instead: see `render::secrets_only`).
    pub check_secrets_only: bool,
}

impl<'r> ScanOptions<'r> {
    /// The options `config` sets.
    pub(crate) fn of(config: &'r crate::config::Config) -> Self {
        ScanOptions {
            kv_version: config.kv_version,
            path_validation: config.path_validation.as_ref(),
            policy: config.policy.as_ref(),
            check_secrets_only: true,
        }
    }
}

/// What one document is to the scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'d> {
    /// Its `kind` (Secret and ConfigMap data maps are treated apart); empty for Helm values.
    pub kind: &'d str,
    /// Its `avp.kubernetes.io/*` annotations.
    pub annotations: &'d Annotations,
    /// Its `apiVersion` (a core Secret is `v1`); empty for Helm values.
    pub api_version: &'d str,
    /// The text the document was parsed from, whose byte ranges its nodes' spans are.
    pub stream: &'d str,
}

/// What the scan found in one document.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The scalars that hold placeholders, in document order, and the secrets they read, in
    /// the table of the document's piece.
    pub sites: PendingSites,
    /// Every problem with a placeholder, placed within the document (`field: placeholder`);
    /// the caller adds the document's own place.
    pub problems: Vec<Problem>,
}

/// Scans the document at `root` for placeholders and resolves each one; its sites go to
/// `sites`, the table of the document's piece of the stream.
pub(crate) fn scan_document(
    root: &Node,
    target: Target<'_>,
    options: ScanOptions<'_>,
    sites: &mut SitesBuilder,
) -> Scan {
    let mut scanner = Scanner {
        options,
        target,
        sites,
        problems: Vec::new(),
        path: Vec::new(),
        generic_path: target
            .annotations
            .path
            .as_deref()
            .map(|path| checked_path(path, options)),
    };
    scanner.document(root);
    Scan {
        sites: scanner.sites.end_document(),
        problems: scanner.problems,
    }
}

/// One step of the way from a manifest's root to a node.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    /// A mapping entry, by its key (`?` when the key is not a scalar).
    Key(&'a str),
    /// A sequence item, by its index.
    Index(usize),
}

struct Scanner<'a, 'r> {
    options: ScanOptions<'r>,
    target: Target<'r>,
    sites: &'r mut SitesBuilder,
    /// The secret of generic placeholders (the `path` annotation), checked once.
    generic_path: Option<Result<String, PathError>>,
    problems: Vec<Problem>,
    /// The way to the node being scanned. Field names are written out only for the scalars
    /// that hold placeholders: building one per node visited cost more than the whole scan.
    path: Vec<Step<'a>>,
}

impl<'a> Scanner<'a, '_> {
    fn document(&mut self, root: &'a Node) {
        let NodeKind::Mapping(entries) = &root.kind else {
            return;
        };
        let kind = self.target.kind;
        let data_maps: &[&str] = match kind {
            "Secret" => &["data", "stringData"],
            "ConfigMap" => &["data", "binaryData"],
            _ => &[],
        };
        for (key, value) in entries {
            let name = key.as_scalar().unwrap_or("?");
            self.path.push(Step::Key(name));
            match &value.kind {
                NodeKind::Mapping(data) if data_maps.contains(&name) => {
                    for (entry_key, entry_value) in data {
                        self.path
                            .push(Step::Key(entry_key.as_scalar().unwrap_or("?")));
                        let removable = self.target.annotations.remove_missing.then_some(entry_key);
                        let base64_data = kind == "Secret" && name == "data";
                        self.entry(entry_value, removable, base64_data);
                        self.path.pop();
                    }
                }
                _ => self.walk(value),
            }
            self.path.pop();
        }
    }

    /// The field name of the node at [`Scanner::path`]:
    /// `spec.template.spec.containers[0].env[1].value`.
    fn field(&self) -> String {
        let mut field = String::new();
        for (n, step) in self.path.iter().enumerate() {
            match step {
                Step::Key(name) if n == 0 => field.push_str(name),
                Step::Key(name) => push_field_segment(&mut field, name),
                Step::Index(i) => {
                    let _ = write!(field, "[{i}]");
                }
            }
        }
        field
    }

    /// A direct value of a Secret or ConfigMap data map.
    fn entry(&mut self, node: &'a Node, removable_key: Option<&Node>, base64_data: bool) {
        let Some(value) = node.as_scalar() else {
            return self.walk(node);
        };
        let removable_key = removable_key.map(|key| key.span.clone());
        if base64_data
            && !value.contains('<')
            && let Some(decoded) = decode_base64_text(value).filter(|d| d.contains('<'))
        {
            let site = SiteStart {
                node,
                removable_key,
                encoding: Encoding::Base64,
                string_only: true,
                base64_field: true,
            };
            return self.scalar(site, Cow::Owned(decoded));
        }
        let site = SiteStart {
            node,
            removable_key,
            encoding: Encoding::AsIs,
            string_only: true,
            base64_field: base64_data,
        };
        self.scalar(site, Cow::Borrowed(value));
    }

    fn walk(&mut self, node: &'a Node) {
        match &node.kind {
            NodeKind::Scalar { value, .. } => {
                let site = SiteStart {
                    node,
                    removable_key: None,
                    encoding: Encoding::AsIs,
                    string_only: false,
                    base64_field: false,
                };
                self.scalar(site, Cow::Borrowed(value));
            }
            NodeKind::Mapping(entries) => {
                for (key, value) in entries {
                    self.path.push(Step::Key(key.as_scalar().unwrap_or("?")));
                    self.walk(value);
                    self.path.pop();
                }
            }
            NodeKind::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.walk(item);
                    self.path.pop();
                }
            }
            NodeKind::Alias(_) => {}
        }
    }

    fn scalar(&mut self, start: SiteStart<'_>, scanned: Cow<'_, str>) {
        if !scanned.contains('<') {
            return;
        }
        let NodeKind::Scalar { style, .. } = start.node.kind else {
            return;
        };
        let parts = match read_parts(
            &scanned,
            self.target.annotations,
            self.generic_path.as_ref(),
            self.options,
        ) {
            Ok(Some(parts)) => parts,
            Ok(None) => return,
            Err(errors) => {
                let field = self.field();
                self.problems
                    .extend(errors.into_iter().map(|(span, failure)| {
                        let placeholder = scanned.get(span.clone()).unwrap_or("<?>");
                        let refused =
                            failure.outside_policy.as_ref().map(|(path, key, version)| {
                                Refused {
                                    field: &field,
                                    placeholder,
                                    path,
                                    key,
                                    version: *version,
                                }
                                .entry(Status::OutsidePolicy, &failure.message)
                            });
                        Problem::at(field_place(&field, &scanned, span), &failure.message)
                            .refusing(refused.into_iter().collect())
                    }));
                return;
            }
        };
        let field = self.field();
        if let Some(policy) = self.options.policy.filter(|p| p.secrets_only)
            && self.options.check_secrets_only
            && !(start.string_only
                && self.target.kind == "Secret"
                && self.target.api_version == "v1")
        {
            let message = format!(
                "the policy lets values go only into a Secret's data or stringData \
                 (secretsOnly; {}): move this placeholder into a Secret (apiVersion v1)",
                policy.who()
            );
            let refused = parts
                .iter()
                .filter_map(|part| match part {
                    Part::Lookup(lookup) => Some(
                        Refused {
                            field: &field,
                            placeholder: scanned.get(lookup.span.clone()).unwrap_or("<?>"),
                            path: &lookup.secret.path,
                            key: &lookup.key,
                            version: lookup.secret.version,
                        }
                        .entry(Status::SecretsOnly, &message),
                    ),
                    Part::Text(_) => None,
                })
                .collect();
            self.problems
                .push(Problem::at(field, message).refusing(refused));
            return;
        }
        let mut lookups = Vec::with_capacity(parts.len() / 2 + 1);
        let mut text = String::new();
        let mut raw_start = 0;
        for part in parts {
            let lookup = match part {
                Part::Text(piece) => {
                    text.push_str(&piece);
                    continue;
                }
                Part::Lookup(lookup) => lookup,
            };
            if let Some(version) = lookup.ignored_version {
                tracing::debug!(
                    "{}: version {version} ignored: {} is read as KV v1, which has no \
                     versions (argocd-vault-plugin ignores it too)",
                    field_place(&field, &scanned, lookup.span.clone()),
                    lookup.secret.path
                );
            }
            let escaped = scanned.get(raw_start..lookup.span.start) != Some(text.as_str());
            let before = std::mem::take(&mut text);
            raw_start = lookup.span.end;
            lookups.push(NewLookup {
                span: lookup.span,
                before: escaped.then_some(before),
                key: lookup.key,
                modifiers: lookup.modifiers,
                secret: lookup.secret,
                generic: lookup.generic,
            });
        }
        let escaped = scanned.get(raw_start..) != Some(text.as_str());
        let scanned_at = verbatim_at(self.target.stream, start.node, style, &scanned);
        let facts = SiteFacts {
            span: start.node.span.clone(),
            style,
            removable_key: start.removable_key,
            encoding: start.encoding,
            string_only: start.string_only,
            base64_field: start.base64_field,
        };
        let added = self.sites.site(
            facts,
            &field,
            &scanned,
            scanned_at,
            lookups,
            escaped.then_some(text),
        );
        if added.is_err() {
            self.problems.push(Problem::at(
                field,
                "this placeholder lies more than 4 GiB into the stream, or the placeholders \
                 around it add up to more than 2 GiB; split the input",
            ));
        }
    }
}

/// A problem with a placeholder: its span in the scanned string, and the message.
type PartError = (Range<usize>, PartFailure);

/// Why a placeholder cannot be read.
#[derive(Debug, Clone)]
struct PartFailure {
    message: String,
    /// The policy refuses its path: the path, key and version it would have read.
    outside_policy: Option<(String, String, Option<u64>)>,
}

impl From<String> for PartFailure {
    fn from(message: String) -> Self {
        PartFailure {
            message,
            outside_policy: None,
        }
    }
}

/// Why a written path cannot be read.
#[derive(Debug, Clone)]
pub(crate) struct PathError {
    /// What is wrong and what to change.
    pub(crate) message: String,
    /// The policy refuses it: the normalised path.
    outside_policy: Option<String>,
}

impl PathError {
    /// The failure of a placeholder reading `key` (at `version`) from this path.
    fn of(self, key: &str, version: Option<u64>) -> PartFailure {
        PartFailure {
            message: self.message,
            outside_policy: self
                .outside_policy
                .map(|path| (path, key.to_owned(), version)),
        }
    }
}

/// The text and lookups of a string, or every problem with its placeholders (each with its
/// span in the string); `None` when it holds no placeholder.
fn read_parts(
    scanned: &str,
    annotations: &Annotations,
    generic_path: Option<&Result<String, PathError>>,
    options: ScanOptions<'_>,
) -> Result<Option<Vec<Part>>, Vec<PartError>> {
    let mode = if annotations.path.is_some() {
        Mode::InlineAndGeneric
    } else {
        Mode::InlineOnly
    };
    let segments = match placeholder::parse(scanned, mode) {
        Ok(Some(segments)) => segments,
        Ok(None) => return Ok(None),
        Err(errors) => {
            return Err(errors
                .into_iter()
                .map(|e| (e.span, PartFailure::from(e.message)))
                .collect());
        }
    };
    let mut parts = Vec::with_capacity(segments.len());
    let mut errors = Vec::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => parts.push(Part::Text(text)),
            Segment::Placeholder(placeholder) => {
                let span = placeholder.span.clone();
                match resolve(placeholder, annotations, generic_path, options) {
                    Ok(lookup) => parts.push(Part::Lookup(lookup)),
                    Err(failure) => errors.push((span, failure)),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Some(parts))
    } else {
        Err(errors)
    }
}

/// What secret a placeholder reads, checked against the rules for paths.
fn resolve(
    placeholder: Placeholder,
    annotations: &Annotations,
    generic_path: Option<&Result<String, PathError>>,
    options: ScanOptions<'_>,
) -> Result<Lookup, PartFailure> {
    let kv = annotations.kv_version.unwrap_or(options.kv_version);
    let (path, key, version, generic) = match placeholder.reference {
        Reference::Inline { path, key, version } => {
            let path = checked_path(&path, options).map_err(|e| e.of(&key, version))?;
            (path, key, version, false)
        }
        Reference::Generic { key } => {
            let version = annotations.secret_version;
            let path = match generic_path {
                Some(checked) => checked.clone(),
                None => checked_path("", options),
            }
            .map_err(|e| e.of(&key, version))?;
            (path, key, version, true)
        }
    };
    let (version, ignored_version) = match kv {
        KvVersion::V1 => (None, version),
        KvVersion::V2 => (version, None),
    };
    Ok(Lookup {
        span: placeholder.span,
        key,
        modifiers: placeholder.modifiers,
        secret: SecretRef { path, version, kv },
        generic,
        ignored_version,
    })
}

/// `written` as a path to read: normalised, and allowed by `AVP_PATH_VALIDATION`.
pub(crate) fn checked_path(written: &str, options: ScanOptions<'_>) -> Result<String, PathError> {
    let plain = |message: String| PathError {
        message,
        outside_policy: None,
    };
    let path = secret_path::normalise(written).map_err(|e| plain(e.to_string()))?;
    if let Some(rule) = options.path_validation
        && !rule.is_match(&path)
    {
        return Err(plain(format!(
            "path {path:?} does not match AVP_PATH_VALIDATION"
        )));
    }
    if let Some(policy) = options.policy
        && !policy.allows_path(&path)
    {
        let allowed: Vec<&str> = policy.paths.iter().map(|g| g.as_str()).collect();
        return Err(PathError {
            message: format!(
                "path {path:?} is outside the paths the policy allows ({}: {})",
                policy.who(),
                allowed.join(", ")
            ),
            outside_policy: Some(path),
        });
    }
    Ok(path)
}

/// How messages name a placeholder within its document: field, placeholder text.
fn field_place(field: &str, scanned: &str, span: Range<usize>) -> String {
    format!("{field}: {}", scanned.get(span).unwrap_or("<?>"))
}

/// What a site is before its placeholders are parsed.
struct SiteStart<'n> {
    node: &'n Node,
    removable_key: Option<Range<usize>>,
    encoding: Encoding,
    string_only: bool,
    base64_field: bool,
}

/// Where `stream` holds the scanned string of the scalar `node` exactly as it reads: a plain
/// scalar on one line, or a quoted one without escapes. `None` for the others (and for a
/// decoded Secret `data` value, which the stream holds encoded).
fn verbatim_at(stream: &str, node: &Node, style: ScalarStyle, scanned: &str) -> Option<usize> {
    let raw = stream.get(node.span.clone())?;
    let quotes = match style {
        ScalarStyle::Plain => 0,
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => 1,
        ScalarStyle::Literal | ScalarStyle::Folded => return None,
    };
    let inner = raw.get(quotes..raw.len().checked_sub(quotes)?)?;
    (inner == scanned).then_some(node.span.start + quotes)
}

/// The UTF-8 text a Secret `data` value encodes, if it is valid base64 of text.
fn decode_base64_text(value: &str) -> Option<String> {
    let compact: String = value.split_whitespace().collect();
    BASE64
        .decode(compact)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// `.name`, or `["name.with.dots"]` when the name is not a plain identifier.
fn push_field_segment(field: &mut String, name: &str) {
    if !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        field.push('.');
        field.push_str(name);
    } else {
        let _ = write!(field, "[{name:?}]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_strings_are_found_in_the_stream_only_as_written() {
        let stream = "a: x<k>\nb: \"x<k>\"\nc: 'x<k>'\nd: \"x\\u003ck>\"\ne: 'x<k>''s'\nf: |\n  x<k>\ng: x\n  <k>\n";
        let documents = crate::yaml::parse_stream(stream).expect("parses");
        let root = documents[0].root.as_ref().expect("a root");
        let at = |key: &str| {
            let node = root.get(key).expect("the key");
            let NodeKind::Scalar { style, value, .. } = &node.kind else {
                panic!("{key} is a scalar")
            };
            verbatim_at(stream, node, *style, value).map(|at| &stream[at..at + value.len()])
        };
        assert_eq!(at("a"), Some("x<k>"));
        assert_eq!(at("b"), Some("x<k>"));
        assert_eq!(at("c"), Some("x<k>"));
        assert_eq!(at("d"), None, "an escape");
        assert_eq!(at("e"), None, "a quote written twice");
        assert_eq!(at("f"), None, "a block scalar");
        assert_eq!(at("g"), None, "a plain scalar over two lines");
    }

    #[test]
    fn field_segments() {
        let segment = |name| {
            let mut field = String::new();
            push_field_segment(&mut field, name);
            field
        };
        assert_eq!(segment("password"), ".password");
        assert_eq!(segment("tls.crt"), r#"["tls.crt"]"#);
    }

    #[test]
    fn base64_text() {
        assert_eq!(
            decode_base64_text("PHBhc3N3b3JkPg==").as_deref(),
            Some("<password>")
        );
        assert_eq!(decode_base64_text("not base64!"), None);
        assert_eq!(decode_base64_text("//79"), None, "binary is not text");
    }
}
