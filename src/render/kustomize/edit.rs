//! The fields Argo CD's `kustomize edit` commands set, written into a kustomization's text.
//!
//! Argo CD runs `kustomize edit set nameprefix|namesuffix|image|replicas|namespace` and
//! `kustomize edit add label|annotation|component` in its copy of the repository, and appends
//! the Application's patches to `patches` (argo-cd `util/kustomize/kustomize.go`, `Build`).
//! There is no `kustomize edit` in `kubectl kustomize`, so this module computes what those
//! commands would leave in each field (the same merge rules: images and replicas replace the
//! entries of the same name and are kept sorted by name, labels and annotations refuse to
//! overwrite a key without `force`) and writes only those fields, as flow YAML: every other
//! byte of the kustomization stays as it is.

use serde_json::{Map, Value, json};

use super::params::{Image, KustomizeParams};
use crate::yaml::value::to_json;
use crate::yaml::{
    Node, NodeKind, ScalarStyle, indentation, next_line, nodes, parse_stream, to_flow,
};

/// `text` (a kustomization) with the fields `params` set; `components` are the checked ones
/// to add.
pub fn edit(text: &str, params: &KustomizeParams, components: &[String]) -> Result<String, String> {
    let documents = parse_stream(text).map_err(|e| format!("is not valid YAML ({e})"))?;
    let mut with_content = documents.iter().filter(|d| d.root.is_some());
    let document = with_content.next();
    if with_content.next().is_some() {
        return Err("holds more than one YAML document".into());
    }
    let root = document.and_then(|d| d.root.as_ref());
    let entries: &[(Node, Node)] = match root.map(|r| &r.kind) {
        None => &[],
        Some(NodeKind::Mapping(entries)) => entries,
        Some(_) => return Err("is not a mapping of kustomization fields".into()),
    };
    let current = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| to_json(v))
    };
    let fields = fields(params, components, &current)?;
    let mut changes: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut appended = Vec::new();
    for (key, value) in fields {
        match entries.iter().find(|(k, _)| k.as_scalar() == Some(key)) {
            Some((k, v)) => {
                let colon = colon_after(text, k.span.end)
                    .ok_or_else(|| format!("field {key}: write it as `{key}: value`"))?;
                if let Some(anchor) = root.and_then(|root| aliased_inside(v, root)) {
                    return Err(format!(
                        "field {key}: an alias elsewhere in the kustomization refers to its anchor \
                         &{anchor}, which setting the field would drop; write that value out where \
                         the alias is"
                    ));
                }
                // An anchor on the value itself stays on the new value, so that aliases to it
                // see the edited field, as they do after `kustomize edit`.
                let anchor = v
                    .anchor
                    .as_deref()
                    .map(|a| format!("&{a} "))
                    .unwrap_or_default();
                changes.push((
                    colon + 1..v.span.end.max(colon + 1),
                    format!(" {anchor}{}", to_flow(&value)),
                ));
            }
            None => appended.push((key, value)),
        }
    }
    if !appended.is_empty() {
        changes.push(append(
            text,
            document.or(documents.first()),
            root,
            &appended,
        )?);
    }
    changes.sort_by_key(|(range, _)| range.start);
    let mut out = text.to_owned();
    for (range, with) in changes.into_iter().rev() {
        out.replace_range(range, &with);
    }
    Ok(out)
}

/// The new value of every field the parameters touch, in the order Argo CD edits them.
fn fields(
    params: &KustomizeParams,
    components: &[String],
    current: &dyn Fn(&str) -> Option<Value>,
) -> Result<Vec<(&'static str, Value)>, String> {
    let mut fields = Vec::new();
    if let Some(prefix) = &params.name_prefix {
        fields.push(("namePrefix", json!(prefix)));
    }
    if let Some(suffix) = &params.name_suffix {
        fields.push(("nameSuffix", json!(suffix)));
    }
    if !params.images.is_empty() {
        fields.push(("images", images(&params.images, current("images"))));
    }
    if !params.replicas.is_empty() {
        fields.push(("replicas", replicas(&params.replicas, current("replicas"))));
    }
    if !params.common_labels.is_empty() {
        let force = params.force_common_labels;
        if params.label_without_selector {
            let labels = labels(params, current("labels"))?;
            fields.push(("labels", labels));
        } else {
            let map = add_pairs(
                current("commonLabels"),
                &params.common_labels,
                force,
                "label",
            )?;
            fields.push(("commonLabels", map));
        }
    }
    if !params.common_annotations.is_empty() {
        let map = add_pairs(
            current("commonAnnotations"),
            &params.common_annotations,
            params.force_common_annotations,
            "annotation",
        )?;
        fields.push(("commonAnnotations", map));
    }
    if let Some(namespace) = &params.namespace {
        fields.push(("namespace", json!(namespace)));
    }
    if !params.patches.is_empty() {
        let mut list = list(current("patches"), "patches")?;
        list.extend(params.patches.iter().cloned());
        fields.push(("patches", Value::Array(list)));
    }
    if !components.is_empty() {
        let mut list = list(current("components"), "components")?;
        for c in components {
            if !list.iter().any(|v| v.as_str() == Some(c)) {
                list.push(json!(c));
            }
        }
        fields.push(("components", Value::Array(list)));
    }
    Ok(fields)
}

/// An existing list field (absent or null: empty).
fn list(value: Option<Value>, key: &str) -> Result<Vec<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("field {key} is not a list")),
    }
}

/// `kustomize edit set image`: an argument replaces the entry of its name (`*` keeps that part
/// of it), other entries stay; sorted by name.
fn images(given: &[Image], existing: Option<Value>) -> Value {
    let mut by_name: Vec<(String, Value)> = Vec::new();
    let mut put = |name: &str, value: Value| match by_name.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => by_name.push((name.to_owned(), value)),
    };
    let existing = match existing {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let field = |entry: Option<&Value>, key: &str| {
        entry
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    for image in given {
        let old = existing
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(&image.name));
        let keep = |part: &Option<String>, key: &str| match part.as_deref() {
            Some("*") => field(old, key),
            other => other.map(str::to_owned),
        };
        let mut entry = Map::new();
        entry.insert("name".into(), json!(image.name));
        for (key, part) in [
            ("newName", keep(&image.new_name, "newName")),
            ("newTag", keep(&image.new_tag, "newTag")),
            ("digest", keep(&image.digest, "digest")),
        ] {
            if let Some(part) = part.filter(|p| !p.is_empty()) {
                entry.insert(key.into(), json!(part));
            }
        }
        put(&image.name, Value::Object(entry));
    }
    for old in &existing {
        let name = old.get("name").and_then(Value::as_str).unwrap_or_default();
        if !given.iter().any(|i| i.name == name) {
            by_name.push((name.to_owned(), old.clone()));
        }
    }
    by_name.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(by_name.into_iter().map(|(_, v)| v).collect())
}

/// `kustomize edit set replicas`: an argument replaces the entry of its name; sorted by name.
fn replicas(given: &[(String, i64)], existing: Option<Value>) -> Value {
    let mut all: Vec<(String, Value)> = Vec::new();
    for (name, count) in given {
        all.retain(|(n, _)| n != name);
        all.push((name.clone(), json!({"name": name, "count": count})));
    }
    if let Some(Value::Array(items)) = existing {
        for old in items {
            let name = old.get("name").and_then(Value::as_str).unwrap_or_default();
            if !given.iter().any(|(n, _)| n == name) {
                all.push((name.to_owned(), old.clone()));
            }
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(all.into_iter().map(|(_, v)| v).collect())
}

/// `kustomize edit add label|annotation`: new keys are added; a key the kustomization already
/// has is an error unless `force`.
fn add_pairs(
    existing: Option<Value>,
    pairs: &[(String, String)],
    force: bool,
    kind: &str,
) -> Result<Value, String> {
    let mut map = match existing {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(format!("common {kind}s are not a mapping")),
    };
    for (key, value) in pairs {
        if map.contains_key(key) && !force {
            return Err(format!(
                "{kind} {key:?} is already set by the kustomization: set \
                 force-common-{kind}s to \"true\" to override it"
            ));
        }
        map.insert(key.clone(), json!(value));
    }
    Ok(Value::Object(map))
}

/// `kustomize edit add label --without-selector [--include-templates]`: the pairs join the
/// first `labels` entry that leaves selectors alone and has the same `includeTemplates`, or a
/// new such entry.
fn labels(params: &KustomizeParams, existing: Option<Value>) -> Result<Value, String> {
    let mut list = list(existing, "labels")?;
    let templates = params.label_include_templates;
    let flag = |e: &Value, key: &str| e.get(key).and_then(Value::as_bool).unwrap_or(false);
    let found = list
        .iter()
        .position(|e| !flag(e, "includeSelectors") && flag(e, "includeTemplates") == templates);
    let index = found.unwrap_or_else(|| {
        let mut entry = Map::new();
        entry.insert("pairs".into(), json!({}));
        if templates {
            entry.insert("includeTemplates".into(), json!(true));
        }
        list.push(Value::Object(entry));
        list.len() - 1
    });
    let pairs = list[index].get("pairs").cloned();
    let merged = add_pairs(
        pairs,
        &params.common_labels,
        params.force_common_labels,
        "label",
    )?;
    if let Some(entry) = list[index].as_object_mut() {
        entry.insert("pairs".into(), merged);
    } else {
        return Err("field labels holds an entry that is not a mapping".into());
    }
    Ok(Value::Array(list))
}

/// An anchor defined inside `value` (below its own node) that an alias outside it uses: the
/// rewritten value would not define it any more.
fn aliased_inside(value: &Node, root: &Node) -> Option<String> {
    let inner: Vec<&String> = nodes(value)
        .skip(1)
        .filter_map(|n| n.anchor.as_ref())
        .collect();
    if inner.is_empty() {
        return None;
    }
    let inside = |n: &Node| n.span.start >= value.span.start && n.span.end <= value.span.end;
    nodes(root)
        .filter(|n| !inside(n))
        .find_map(|n| match &n.kind {
            NodeKind::Alias(name) if inner.contains(&name) => Some(name.clone()),
            _ => None,
        })
}

/// The position of the `:` that follows a mapping key ending at `end`.
fn colon_after(text: &str, end: usize) -> Option<usize> {
    let rest = &text[end..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    (rest[skipped..].starts_with(':')).then_some(end + skipped)
}

/// The insertion of new fields: inside a flow mapping before its `}`, else new lines after the
/// document's text at the mapping's indentation; before the first field when the text ends in
/// a block scalar without a line break, which would take the new line's break into its value.
fn append(
    text: &str,
    document: Option<&crate::yaml::Document>,
    root: Option<&Node>,
    fields: &[(&str, Value)],
) -> Result<(std::ops::Range<usize>, String), String> {
    let entry =
        |(key, value): &(&str, Value)| format!("{}: {}", to_flow(&json!(key)), to_flow(value));
    if let Some(root) = root
        && text[root.span.clone()].starts_with('{')
    {
        let close = root.span.end - 1;
        let before = text[..close].trim_end();
        let comma = !(before.ends_with(',') || before.ends_with('{'));
        let items: Vec<String> = fields.iter().map(entry).collect();
        let joined = items.join(", ");
        let with = if comma { format!(", {joined}") } else { joined };
        return Ok((close..close, with));
    }
    // New lines go right after the mapping's last line, or at the start of a document without
    // content: what follows in the document (comments, blank lines, a byte order mark before a
    // comment, which no content may follow) stays after them.
    let at = match (document, root) {
        (Some(d), Some(r)) => next_line(text, r.span.end).min(d.range.end),
        (Some(d), None) => d.range.start,
        (None, _) => text.len(),
    };
    let before_root = root.map_or("", |r| indentation(text, r.span.start));
    let indent = before_root.len();
    if let Some(root) = root
        && ends_in_block_scalar(root, &text[..at])
    {
        if !before_root.chars().all(|c| c == ' ') {
            return Err(
                "ends in a block scalar without a line break, after which no field can be added \
                 without changing it: end the file with a line break"
                    .into(),
            );
        }
        let mut with = String::new();
        for field in fields {
            with.push_str(&entry(field));
            with.push('\n');
            with.push_str(&" ".repeat(indent));
        }
        return Ok((root.span.start..root.span.start, with));
    }
    let mut with = String::new();
    if at > 0 && !text[..at].ends_with('\n') {
        with.push('\n');
    }
    for field in fields {
        with.push_str(&" ".repeat(indent));
        with.push_str(&entry(field));
        with.push('\n');
    }
    Ok((at..at, with))
}

/// Whether `text` (a document's) ends with the last line of a block scalar, `node`'s last
/// value, and no line break: a line after it would add that break to the scalar's value.
fn ends_in_block_scalar(node: &Node, text: &str) -> bool {
    let last = match &node.kind {
        NodeKind::Mapping(entries) => {
            return entries
                .last()
                .is_some_and(|(_, v)| ends_in_block_scalar(v, text));
        }
        NodeKind::Sequence(items) => {
            return items.last().is_some_and(|v| ends_in_block_scalar(v, text));
        }
        NodeKind::Alias(_) => return false,
        NodeKind::Scalar { style, .. } => {
            matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
        }
    };
    last && node.span.end <= text.len() && !text[node.span.end..].contains(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: &str, new_name: Option<&str>, tag: Option<&str>) -> Image {
        Image {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: tag.map(Into::into),
            digest: None,
        }
    }

    #[test]
    fn only_the_edited_fields_change() {
        let text = "# keep me\nresources:\n  - a.yaml   # and me\nimages:\n- name: web\n  newName: reg/web\n  newTag: \"1\"\n- name: db\n  newTag: \"5\"\nnamePrefix: old-\n";
        let params = KustomizeParams {
            images: vec![
                image("web", Some("*"), Some("2")),
                image("cache", None, Some("7")),
            ],
            name_prefix: Some("new-".into()),
            namespace: Some("ns".into()),
            ..KustomizeParams::default()
        };
        let out = edit(text, &params, &["../c".into()]).expect("edits");
        assert_eq!(
            out,
            "# keep me\nresources:\n  - a.yaml   # and me\nimages: [{\"name\": \"cache\", \"newTag\": \"7\"}, {\"name\": \"db\", \"newTag\": \"5\"}, {\"name\": \"web\", \"newName\": \"reg/web\", \"newTag\": \"2\"}]\nnamePrefix: \"new-\"\n\"namespace\": \"ns\"\n\"components\": [\"../c\"]\n"
        );
    }

    #[test]
    fn flow_and_empty_kustomizations() {
        let params = KustomizeParams {
            name_suffix: Some("-x".into()),
            ..KustomizeParams::default()
        };
        assert_eq!(
            edit("{resources: [a.yaml]}\n", &params, &[]).expect("flow"),
            "{resources: [a.yaml], \"nameSuffix\": \"-x\"}\n"
        );
        assert_eq!(
            edit("", &params, &[]).expect("empty"),
            "\"nameSuffix\": \"-x\"\n"
        );
        assert_eq!(
            edit("resources: []", &params, &[]).expect("no final break"),
            "resources: []\n\"nameSuffix\": \"-x\"\n"
        );
        assert!(edit("- a\n", &params, &[]).is_err());
    }

    #[test]
    fn labels_refuse_to_overwrite_without_force() {
        let mut params = KustomizeParams {
            common_labels: vec![("team".into(), "b".into())],
            ..KustomizeParams::default()
        };
        let text = "commonLabels:\n  team: a\n";
        assert_eq!(
            edit(text, &params, &[]).expect_err("conflict"),
            "label \"team\" is already set by the kustomization: set force-common-labels to \"true\" to override it"
        );
        params.force_common_labels = true;
        assert_eq!(
            edit(text, &params, &[]).expect("forced"),
            "commonLabels: {\"team\": \"b\"}\n"
        );
        params.label_without_selector = true;
        params.label_include_templates = true;
        assert_eq!(
            edit("labels:\n- pairs: {a: b}\n", &params, &[]).expect("labels"),
            "labels: [{\"pairs\": {\"a\": \"b\"}}, {\"pairs\": {\"team\": \"b\"}, \"includeTemplates\": true}]\n"
        );
    }
}
