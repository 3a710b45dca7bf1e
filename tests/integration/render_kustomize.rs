//! The kustomize parameters (what Argo CD's `spec.source.kustomize` offers), run through
//! plugin.yaml's own generate command the way Argo CD calls it. Each result is compared with
//! what kustomize gives when the same options are written into the kustomization by hand, and
//! the repository's files must come out of every run byte for byte as they went in.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::cmp::plugin_command;
use crate::support::Case;

const APP: &str = "repo/apps/web";
const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.0\n        - name: side\n          image: reg.io/side:1\n";
const PATCH: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 7\n";
const COMPONENT: &str =
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n";
const COMPONENT_CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: b}\n";

/// The repository's files: an app with a Deployment, a patch file, and a component beside it.
fn files(kustomization: &str) -> Vec<(String, String)> {
    [
        (format!("{APP}/kustomization.yaml"), kustomization),
        (format!("{APP}/deploy.yaml"), DEPLOY),
        (format!("{APP}/patch.yaml"), PATCH),
        (
            "repo/components/extra/kustomization.yaml".to_owned(),
            COMPONENT,
        ),
        ("repo/components/extra/cm.yaml".to_owned(), COMPONENT_CM),
        ("outside.yaml".to_owned(), PATCH),
    ]
    .into_iter()
    .map(|(p, t)| (p, t.to_owned()))
    .collect()
}

/// plugin.yaml's generate command in the app's folder, with Argo CD's build environment.
fn case(files: &[(String, String)]) -> Case {
    let mut case = Case::new();
    for (path, text) in files {
        case = case.file(path, text);
    }
    case.cwd(APP)
        .args(plugin_command("/spec/generate/command"))
        .env("ARGOCD_APP_NAME", "web")
        .env("ARGOCD_APP_NAMESPACE", "dest-ns")
        .env("ARGOCD_APP_REVISION", "abc123")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/web")
        .env("VAULT_ADDR", "http://vault.invalid:8200")
}

/// Every file under `dir`, with its contents.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                out.insert(name, std::fs::read_to_string(&path).expect("file"));
            }
        }
    }
    out
}

/// Renders with `parameters` (JSON) and with the kustomization `by_hand` instead; both must
/// succeed with the same manifests, and the parameters' run must leave the files alone.
#[track_caller]
fn same_as_by_hand(parameters: Value, by_hand: &str, extra_env: &[(&str, &str)]) -> String {
    same_as_by_hand_from("resources: [deploy.yaml]\n", parameters, by_hand, extra_env)
}

/// [`same_as_by_hand`], from the kustomization `kustomization`.
#[track_caller]
fn same_as_by_hand_from(
    kustomization: &str,
    parameters: Value,
    by_hand: &str,
    extra_env: &[(&str, &str)],
) -> String {
    let original = files(kustomization);
    let mut with_params = case(&original).env("ARGOCD_APP_PARAMETERS", parameters.to_string());
    for (k, v) in extra_env {
        with_params = with_params.env(k, v);
    }
    let out = with_params.run();
    out.success();
    let want: BTreeMap<String, String> = original.iter().cloned().collect();
    assert_eq!(
        tree(out.cwd()),
        want,
        "the repository's files are unchanged"
    );
    let manual = case(&files(by_hand)).run();
    manual.success();
    assert_eq!(
        out.stdout_text(),
        manual.stdout_text(),
        "parameters and the kustomization written by hand give the same manifests"
    );
    out.stdout_text().to_owned()
}

#[test]
fn every_parameter_gives_what_kustomize_gives_with_the_options_written_in() {
    let out = same_as_by_hand(
        json!([
            {"name": "images", "array": ["nginx=nginx:${ARGOCD_APP_REVISION}", "reg.io/side@sha256:0123"]},
            {"name": "name-prefix", "string": "pre-"},
            {"name": "name-suffix", "string": "-suf"},
            {"name": "namespace", "string": "shop"},
            {"name": "common-labels", "map": {"team": "a", "app.kubernetes.io/instance": "${ARGOCD_APP_NAME}"}},
            {"name": "common-annotations", "map": {"rev": "${ARGOCD_APP_REVISION}", "url": "http://x/$ARGOCD_APP_NAME"}},
            {"name": "common-annotations-envsubst", "string": "true"},
            {"name": "replicas", "array": ["web=3"]},
            {"name": "patches", "string": "- path: patch.yaml\n- patch: '[{\"op\": \"add\", \"path\": \"/spec/minReadySeconds\", \"value\": 5}]'\n  target: {kind: Deployment}\n"},
            {"name": "components", "array": ["../../components/extra"]},
        ]),
        "resources: [deploy.yaml]\nnamePrefix: pre-\nnameSuffix: -suf\nnamespace: shop\n\
         images:\n- name: nginx\n  newName: nginx\n  newTag: abc123\n- name: reg.io/side\n  digest: sha256:0123\n\
         replicas: [{name: web, count: 3}]\n\
         commonLabels: {team: a, app.kubernetes.io/instance: web}\n\
         commonAnnotations: {rev: abc123, url: 'http://x/web'}\n\
         patches:\n- path: patch.yaml\n- patch: '[{\"op\": \"add\", \"path\": \"/spec/minReadySeconds\", \"value\": 5}]'\n  target: {kind: Deployment}\n\
         components: [../../components/extra]\n",
        &[],
    );
    for expected in [
        "name: pre-web-suf",
        "namespace: shop",
        "image: nginx:abc123",
        "image: reg.io/side@sha256:0123",
        "replicas: 3",
        "rev: abc123",
        "terminationGracePeriodSeconds: 7",
        "name: pre-extra-suf",
        "minReadySeconds: 5",
    ] {
        assert!(out.contains(expected), "{expected} in\n{out}");
    }
}

#[test]
fn labels_without_selector_in_templates_and_forced_keys() {
    same_as_by_hand(
        json!([
            {"name": "common-labels", "map": {"tier": "front", "app": "web"}},
            {"name": "label-without-selector", "string": "true"},
            {"name": "label-include-templates", "string": "true"},
            {"name": "force-common-labels", "string": "true"},
            {"name": "common-annotations", "map": {"note": "${ARGOCD_APP_NAME} $HOME"}},
        ]),
        "resources: [deploy.yaml]\nlabels:\n- pairs: {tier: front, app: web}\n  includeTemplates: true\n\
         commonAnnotations: {note: \"${ARGOCD_APP_NAME} $HOME\"}\n",
        &[],
    );
}

/// The edit of a field keeps what the rest of the kustomization reads from it: an anchor on
/// it (aliases see the new value, as after `kustomize edit`), and a block scalar that ends the
/// file without a line break (new fields go first rather than add that break to its value).
/// An anchor inside a field that an alias elsewhere uses cannot be kept: refused, saying how.
#[test]
fn edits_keep_anchors_and_a_final_block_scalar_as_they_were() {
    let out = same_as_by_hand_from(
        "resources: [deploy.yaml]\nnamePrefix: &prefix old-\ncommonAnnotations: {was: *prefix}\n",
        json!([{"name": "name-prefix", "string": "new-"}]),
        "resources: [deploy.yaml]\nnamePrefix: new-\ncommonAnnotations: {was: new-}\n",
        &[],
    );
    assert!(
        out.contains("name: new-web") && out.contains("was: new-"),
        "{out}"
    );
    let out = same_as_by_hand_from(
        "resources: [deploy.yaml]\nconfigMapGenerator:\n- name: notes\n  options: {disableNameSuffixHash: true}\n  literals:\n  - |\n    note=kept as it was",
        json!([{"name": "name-suffix", "string": "-x"}]),
        "nameSuffix: -x\nresources: [deploy.yaml]\nconfigMapGenerator:\n- name: notes\n  options: {disableNameSuffixHash: true}\n  literals: [note=kept as it was]\n",
        &[],
    );
    assert!(out.contains("note: kept as it was\n"), "{out}");

    let original = files(
        "resources: [deploy.yaml]\ncommonLabels:\n  team: &team a\ncommonAnnotations: {team: *team}\n",
    );
    let out = case(&original)
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "common-labels", "map": {"app": "web"}}]).to_string(),
        )
        .run();
    out.failure().stdout("").stderr_contains(
        "kustomization.yaml: field commonLabels: an alias elsewhere in the kustomization refers to its anchor &team, which setting the field would drop; write that value out where the alias is",
    );
    assert_eq!(
        tree(out.cwd()),
        original.into_iter().collect::<BTreeMap<_, _>>()
    );
}

#[test]
fn strings_and_arrays_also_arrive_as_param_variables() {
    let out = case(&files("resources: [deploy.yaml]\n"))
        .env("PARAM_IMAGES_0", "nginx:2.0")
        .env("PARAM_NAME_PREFIX", "p-")
        .env("PARAM_REPLICAS_0", "web=2")
        .env("PARAM_COMPONENTS_0", "../../components/missing")
        .env("PARAM_COMPONENTS_1", "../../components/extra")
        .env("PARAM_IGNORE_MISSING_COMPONENTS", "true")
        .run();
    let manual = case(&files(
        "resources: [deploy.yaml]\nnamePrefix: p-\nimages: [{name: nginx, newTag: '2.0'}]\n\
         replicas: [{name: web, count: 2}]\ncomponents: [../../components/extra]\n",
    ))
    .run();
    out.success();
    manual.success();
    assert_eq!(out.stdout_text(), manual.stdout_text());
    out.stdout_contains("image: nginx:2.0")
        .stdout_contains("name: p-extra");
    // Without ignore-missing-components, a missing component is an error.
    case(&files("resources: [deploy.yaml]\n"))
        .env("PARAM_COMPONENTS_0", "../../components/missing")
        .run()
        .failure()
        .stderr_contains("Application parameter components: component \"../../components/missing\": No such file or directory");
}

#[test]
fn the_avp_era_image_variables_are_a_fallback() {
    case(&files("resources: [deploy.yaml]\n"))
        .env("ARGOCD_ENV_IMAGE_NAME", "nginx")
        .env("ARGOCD_ENV_IMAGE_TAG", "3.1")
        .run()
        .success()
        .stdout_contains("image: nginx:3.1");
}

#[test]
fn substitution_reads_only_argo_cds_build_variables() {
    let annotations = json!({"a": "${VAULT_ADDR}|$HOME|${ARGOCD_APP_NAME}|$$"});
    case(&files("resources: [deploy.yaml]\n"))
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([
                {"name": "common-annotations", "map": annotations},
                {"name": "common-annotations-envsubst", "string": "true"},
            ])
            .to_string(),
        )
        .run()
        .success()
        .stdout_contains("a: '||web|$'");
    // Without the switch, annotation values are taken as written.
    case(&files("resources: [deploy.yaml]\n"))
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "common-annotations", "map": annotations}]).to_string(),
        )
        .run()
        .success()
        .stdout_contains("a: ${VAULT_ADDR}|$HOME|${ARGOCD_APP_NAME}|$$");
}

#[test]
fn hostile_values_are_refused_before_anything_runs() {
    let cases = [
        (
            json!([{"name": "images", "array": ["--load-restrictor=LoadRestrictionsNone"]}]),
            "Application parameter images: \"--load-restrictor=LoadRestrictionsNone\" looks like a command-line flag",
        ),
        (
            json!([{"name": "images", "array": ["nginx"]}]),
            "Application parameter images: \"nginx\" is not one of name=newName",
        ),
        (
            json!([{"name": "components", "array": ["../../../outside"]}]),
            "Application parameter components: component \"../../../outside\" is outside the repository",
        ),
        (
            json!([{"name": "components", "array": ["../../../outside"]}, {"name": "ignore-missing-components", "string": "true"}]),
            "component \"../../../outside\" is outside the repository",
        ),
        (
            json!([{"name": "components", "array": ["/etc"]}]),
            "component \"/etc\": absolute paths are not allowed",
        ),
        (
            json!([{"name": "patches", "string": "- path: ../../../outside.yaml\n"}]),
            "Application parameter patches: patch file \"../../../outside.yaml\" is outside the repository",
        ),
        (
            json!([{"name": "patches", "string": "path: patch.yaml\n"}]),
            "Application parameter patches: must be a list of patches",
        ),
        (
            json!([{"name": "common-labels", "map": {"a=b": "x"}}]),
            "Application parameter common-labels: \"a=b\" is not a label or annotation key",
        ),
        (
            json!([{"name": "common-annotations", "map": {"a,b": "x"}}]),
            "Application parameter common-annotations: \"a,b\" is not a label or annotation key",
        ),
        (
            json!([{"name": "replicas", "array": ["web=-1"]}]),
            "Application parameter replicas: \"web=-1\" is not name=count",
        ),
        (
            json!([{"name": "label-include-templates", "string": "true"}]),
            "Application parameter label-include-templates: needs label-without-selector",
        ),
        (
            json!([{"name": "name-prefix", "string": "a\nb"}]),
            "Application parameter name-prefix: must not hold control characters",
        ),
    ];
    for (parameters, message) in cases {
        let original = files("resources: [deploy.yaml]\ncommonLabels: {team: a}\n");
        let out = case(&original)
            .env("ARGOCD_APP_PARAMETERS", parameters.to_string())
            .run();
        out.failure().stdout("").stderr_contains(message);
        let want: BTreeMap<String, String> = original.into_iter().collect();
        assert_eq!(tree(out.cwd()), want);
    }
    case(&files("resources: [deploy.yaml]\ncommonLabels: {team: a}\n"))
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "common-labels", "map": {"team": "b"}}]).to_string(),
        )
        .run()
        .failure()
        .stdout("")
        .stderr_contains("kustomization.yaml: label \"team\" is already set by the kustomization: set force-common-labels to \"true\" to override it");
}
