//! The Application's kustomize parameters: what Argo CD's `spec.source.kustomize` offers, read
//! from `ARGOCD_APP_PARAMETERS`/`PARAM_*` and checked before anything runs.
//!
//! Argo CD applies them with `kustomize edit` on its copy of the repository before the build
//! (argo-cd `util/kustomize/kustomize.go`, `Build`); [`super::edit`] writes the same fields into
//! a private copy. Here each value is parsed the way `kustomize edit` parses its arguments,
//! and whatever could be read as something else (a flag, a second `key:value`) is refused.

use std::collections::BTreeMap;

use serde_json::Value;

use super::envsubst::{build_vars, envsubst};
use crate::render::app_params::{PARAMS, ParamError, Source};

/// Most entries one array or map parameter may hold.
const MAX_ENTRIES: usize = 1000;
/// Largest `patches` text.
const MAX_PATCHES_BYTES: usize = 1 << 20;

/// One `images` entry, as `kustomize edit set image` parses `name=newName:newTag@digest`.
/// A `*` keeps what the kustomization already has for that part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// The image name to match.
    pub name: String,
    /// Its replacement name.
    pub new_name: Option<String>,
    /// Its new tag.
    pub new_tag: Option<String>,
    /// Its new digest.
    pub digest: Option<String>,
}

/// The kustomize settings of one render; all empty/false when the Application sets none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KustomizeParams {
    /// `images` (`ARGOCD_APP_*` variables substituted, as Argo CD does).
    pub images: Vec<Image>,
    /// `name-prefix`.
    pub name_prefix: Option<String>,
    /// `name-suffix`.
    pub name_suffix: Option<String>,
    /// `namespace`, only when the Application sets it: Argo CD never defaults a
    /// kustomization's namespace to the destination namespace.
    pub namespace: Option<String>,
    /// `common-labels` (values substituted, as Argo CD does).
    pub common_labels: Vec<(String, String)>,
    /// `common-annotations` (values substituted with `common-annotations-envsubst`).
    pub common_annotations: Vec<(String, String)>,
    /// `force-common-labels`.
    pub force_common_labels: bool,
    /// `force-common-annotations`.
    pub force_common_annotations: bool,
    /// `label-without-selector`.
    pub label_without_selector: bool,
    /// `label-include-templates`.
    pub label_include_templates: bool,
    /// `replicas` as (name, count).
    pub replicas: Vec<(String, i64)>,
    /// `patches`: the list's entries (their `path`s are checked against the repository later).
    pub patches: Vec<Value>,
    /// `components`, as given (checked against the repository later).
    pub components: Vec<String>,
    /// `ignore-missing-components`.
    pub ignore_missing_components: bool,
}

impl KustomizeParams {
    /// Whether any parameter asks for an edit of the kustomization.
    pub fn edits(&self) -> bool {
        *self
            != KustomizeParams {
                ignore_missing_components: self.ignore_missing_components,
                force_common_labels: self.force_common_labels,
                force_common_annotations: self.force_common_annotations,
                label_without_selector: self.label_without_selector,
                label_include_templates: self.label_include_templates,
                ..KustomizeParams::default()
            }
    }

    /// Reads and checks the kustomize parameters.
    pub(crate) fn read(
        source: &Source<'_>,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ParamError> {
        let vars = build_vars(env);
        let flag = |name: &'static str| flag(source, name);
        let array = |name: &'static str| -> Result<Vec<String>, ParamError> {
            let items = source.array(name);
            if items.len() > MAX_ENTRIES {
                return Err(error(name, format!("more than {MAX_ENTRIES} entries")));
            }
            Ok(items)
        };
        let mut images = array("images")?;
        if images.is_empty()
            && let (Some(name), Some(tag)) = (
                env.get("ARGOCD_ENV_IMAGE_NAME").filter(|s| !s.is_empty()),
                env.get("ARGOCD_ENV_IMAGE_TAG").filter(|s| !s.is_empty()),
            )
        {
            images.push(format!("{name}:{tag}"));
        }
        let images = images
            .iter()
            .map(|given| parse_image(&envsubst(given, &vars)))
            .collect::<Result<_, _>>()
            .map_err(|reason| error("images", reason))?;
        let annotations_envsubst = flag("common-annotations-envsubst")?;
        let common_labels = metadata(source, "common-labels", |v| envsubst(v, &vars))?;
        let common_annotations = metadata(source, "common-annotations", |v| {
            if annotations_envsubst {
                envsubst(v, &vars)
            } else {
                v.to_owned()
            }
        })?;
        let replicas = array("replicas")?
            .iter()
            .map(|given| parse_replica(given))
            .collect::<Result<_, _>>()
            .map_err(|reason| error("replicas", reason))?;
        let params = KustomizeParams {
            images,
            name_prefix: text(source, "name-prefix")?,
            name_suffix: text(source, "name-suffix")?,
            namespace: text(source, "namespace")?,
            common_labels,
            common_annotations,
            force_common_labels: flag("force-common-labels")?,
            force_common_annotations: flag("force-common-annotations")?,
            label_without_selector: flag("label-without-selector")?,
            label_include_templates: flag("label-include-templates")?,
            replicas,
            patches: patches(source)?,
            components: array("components")?,
            ignore_missing_components: flag("ignore-missing-components")?,
        };
        if params.label_include_templates && !params.label_without_selector {
            return Err(error(
                "label-include-templates",
                "needs label-without-selector set to \"true\" too (kustomize applies labels \
                 to templates only when it leaves selectors alone)",
            ));
        }
        Ok(params)
    }
}

fn error(name: &'static str, reason: impl Into<String>) -> ParamError {
    ParamError {
        name,
        reason: reason.into(),
    }
}

/// A `"true"`/`"false"` parameter, with its announced default.
fn flag(source: &Source<'_>, name: &'static str) -> Result<bool, ParamError> {
    let default = PARAMS
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.default)
        .unwrap_or("false");
    let text = source.string(name).unwrap_or_else(|| default.to_owned());
    crate::config::parse_bool(text.trim())
        .map_err(|_| error(name, format!("{text:?} is not true or false")))
}

/// A single-line string parameter; empty means unset.
fn text(source: &Source<'_>, name: &'static str) -> Result<Option<String>, ParamError> {
    let Some(value) = source.string(name).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(error(
            name,
            "must not hold control characters or line breaks",
        ));
    }
    Ok(Some(value))
}

/// A label or annotation map: keys that `kustomize edit add` would split or read as a flag
/// are refused.
fn metadata(
    source: &Source<'_>,
    name: &'static str,
    value: impl Fn(&str) -> String,
) -> Result<Vec<(String, String)>, ParamError> {
    let entries = source.map(name);
    if entries.len() > MAX_ENTRIES {
        return Err(error(name, format!("more than {MAX_ENTRIES} entries")));
    }
    entries
        .into_iter()
        .map(|(key, v)| {
            if key.is_empty()
                || key.starts_with('-')
                || key.contains(['=', ',', ':'])
                || key.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                Err(error(
                    name,
                    format!(
                        "{key:?} is not a label or annotation key (no `=`, `,`, `:`, spaces, \
                         or leading `-`)"
                    ),
                ))
            } else {
                Ok((key, value(&v)))
            }
        })
        .collect()
}

/// `name=newName:newTag@digest` and its shorter forms, as `kustomize edit set image` reads them.
fn parse_image(given: &str) -> Result<Image, String> {
    if given.starts_with('-') {
        return Err(format!(
            "{given:?} looks like a command-line flag; write name=newName:newTag@digest"
        ));
    }
    if given.is_empty() || given.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{given:?} is not an image (no spaces or control characters); write \
             name=newName:newTag@digest"
        ));
    }
    let (key, value) = match given.split_once('=') {
        Some((key, value)) => (Some(key), value),
        None => (None, given),
    };
    let (name, tag, digest) = split_image(value);
    if key.is_none() && tag.is_none() && digest.is_none() || key == Some("") || name.is_empty() {
        return Err(format!(
            "{given:?} is not one of name=newName, name=newName:newTag, name=newName@digest, \
             name=newName:newTag@digest, name:newTag, name:newTag@digest, name@digest"
        ));
    }
    let owned = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(match key {
        Some(key) => Image {
            name: key.to_owned(),
            new_name: Some(name.to_owned()),
            new_tag: owned(tag),
            digest: owned(digest),
        },
        None => Image {
            name: name.to_owned(),
            new_name: None,
            new_tag: owned(tag),
            digest: owned(digest),
        },
    })
}

/// Name, tag and digest of an image reference, as kustomize splits it: the tag's `:` and the
/// digest's `@` are looked for after the first `/` (a registry's port is not a tag).
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let from = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[from..];
    let at = search.find('@').map(|i| i + from);
    let colon = search.find(':').map(|i| i + from);
    match (colon, at) {
        (None, None) => (image, None, None),
        (None, Some(at)) => (&image[..at], None, Some(&image[at + 1..])),
        (Some(c), Some(at)) if at < c => (&image[..at], None, Some(&image[at + 1..])),
        (Some(c), Some(at)) => (&image[..c], Some(&image[c + 1..at]), Some(&image[at + 1..])),
        (Some(c), None) => (&image[..c], Some(&image[c + 1..]), None),
    }
}

/// `name=count`, as `kustomize edit set replicas` reads it.
fn parse_replica(given: &str) -> Result<(String, i64), String> {
    let invalid = || format!("{given:?} is not name=count (a whole number of replicas)");
    let mut parts = given.split('=');
    let (Some(name), Some(count), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if name.is_empty() || name.starts_with('-') || name.chars().any(char::is_control) {
        return Err(invalid());
    }
    let count: i64 = count.trim().parse().map_err(|_| invalid())?;
    if count < 0 {
        return Err(invalid());
    }
    Ok((name.to_owned(), count))
}

/// The `patches` text: a YAML or JSON list of patches as in an Application's
/// `spec.source.kustomize.patches` (`path` or `patch`, `target`, `options`).
fn patches(source: &Source<'_>) -> Result<Vec<Value>, ParamError> {
    let name = "patches";
    let Some(text) = source.string(name).filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    if text.len() > MAX_PATCHES_BYTES {
        return Err(error(name, "is larger than 1 MiB"));
    }
    let value = crate::yaml::value::parse_value(&text)
        .map_err(|e| error(name, format!("is not YAML or JSON ({e})")))?;
    let Value::Array(items) = value else {
        return Err(error(name, "must be a list of patches"));
    };
    if items.len() > MAX_ENTRIES {
        return Err(error(name, format!("more than {MAX_ENTRIES} entries")));
    }
    for (i, item) in items.iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(error(name, format!("entry {i} is not a mapping")));
        };
        if let Some(key) = fields
            .keys()
            .find(|k| !["path", "patch", "target", "options"].contains(&k.as_str()))
        {
            return Err(error(
                name,
                format!("entry {i}: unknown field {key:?} (use path, patch, target, options)"),
            ));
        }
        if !fields.contains_key("path") && !fields.contains_key("patch") {
            return Err(error(name, format!("entry {i} has neither path nor patch")));
        }
        for field in ["path", "patch"] {
            if fields.get(field).is_some_and(|v| !v.is_string()) {
                return Err(error(name, format!("entry {i}: {field} must be a string")));
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_like_kustomize_edit_set_image() {
        let image = |n: &str, nn: Option<&str>, t: Option<&str>, d: Option<&str>| Image {
            name: n.to_owned(),
            new_name: nn.map(str::to_owned),
            new_tag: t.map(str::to_owned),
            digest: d.map(str::to_owned),
        };
        let cases = [
            ("nginx:1.25", image("nginx", None, Some("1.25"), None)),
            (
                "app=reg.io:5000/team/app:v2@sha256:abc",
                image(
                    "app",
                    Some("reg.io:5000/team/app"),
                    Some("v2"),
                    Some("sha256:abc"),
                ),
            ),
            ("app=other", image("app", Some("other"), None, None)),
            (
                "app@sha256:abc",
                image("app", None, None, Some("sha256:abc")),
            ),
            ("app=*:v3", image("app", Some("*"), Some("v3"), None)),
        ];
        for (given, want) in cases {
            assert_eq!(parse_image(given), Ok(want), "{given}");
        }
        for bad in [
            "--load-restrictor=none",
            "nginx",
            "=x:1",
            "a b:1",
            "",
            "x=:1",
        ] {
            assert!(parse_image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replicas_are_name_equals_count() {
        assert_eq!(parse_replica("web=3"), Ok(("web".to_owned(), 3)));
        for bad in ["web", "web=x", "web=-1", "=2", "a=1=2", "-x=1"] {
            assert!(parse_replica(bad).is_err(), "{bad}");
        }
    }
}
