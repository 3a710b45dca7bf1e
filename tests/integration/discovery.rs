//! `vaultplate discover`, the command the chart's `plugin.autoDiscovery` adds to plugin.yaml: it
//! claims an application (exit 0, its kind on stdout) when `render` would find a placeholder,
//! following kustomize references inside the repository and the Application's parameters, and
//! refuses (exit 1, nothing on stdout) otherwise, without following anything out of the
//! repository or onto the network.

use serde_json::json;

use crate::support::Case;

const CM_WITH_PLACEHOLDER: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  p: <path:secret/data/a#b>\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
const CHART: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";

/// A case running `discover` in `repo/<app>`, an application of the repository `repo`.
fn discover(app: &str) -> Case {
    Case::new()
        .cwd(&format!("repo/{app}"))
        .env("ARGOCD_APP_SOURCE_PATH", app)
        .args(["discover"])
}

#[test]
fn an_overlay_is_claimed_for_placeholders_in_its_base_and_components() {
    discover("overlays/prod")
        .file("repo/base/kustomization.yaml", "resources: [cm.yaml]\n")
        .file("repo/base/cm.yaml", CM_WITH_PLACEHOLDER)
        .file(
            "repo/overlays/prod/kustomization.yaml",
            "resources: [../../base]\n",
        )
        .run()
        .success()
        .stdout("kustomize\n");
    discover("overlays/prod")
        .file("repo/components/db/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [secret.yaml]\n")
        .file("repo/components/db/secret.yaml", CM_WITH_PLACEHOLDER)
        .file("repo/overlays/prod/kustomization.yaml", "resources: [cm.yaml]\ncomponents: [../../components/db]\n")
        .file("repo/overlays/prod/cm.yaml", CM)
        .run()
        .success()
        .stdout("kustomize\n");
}

#[test]
fn kustomize_helm_charts_are_followed() {
    for kustomization in [
        "helmCharts:\n  - name: shop\n    valuesInline: {password: <path:secret/data/a#b>}\n",
        "helmCharts:\n  - name: shop\n    valuesFile: ../../values/prod.yaml\n",
        "helmGlobals: {chartHome: ../../charts}\nhelmCharts:\n  - name: shop\n",
    ] {
        discover("apps/shop")
            .file("repo/apps/shop/kustomization.yaml", kustomization)
            .file(
                "repo/values/prod.yaml",
                "password: <path:secret/data/a#b>\n",
            )
            .file("repo/charts/shop/Chart.yaml", CHART)
            .file(
                "repo/charts/shop/values.yaml",
                "password: <path:secret/data/a#b>\n",
            )
            .run()
            .success()
            .stdout("kustomize\n");
    }
}

#[test]
fn a_chart_is_claimed_for_placeholders_in_the_application_parameters() {
    let chart = || {
        discover("apps/shop")
            .file("repo/apps/shop/Chart.yaml", CHART)
            .file("repo/apps/shop/templates/cm.yaml", CM)
            .file(
                "repo/values/prod.yaml",
                "password: <path:secret/data/a#b>\n",
            )
            .file(
                "repo/apps/shop/files/app.conf",
                "password=<path:secret/data/a#b>\n",
            )
    };
    chart().run().failure().stdout("");
    for parameters in [
        json!([{"name": "values", "string": "password: <path:secret/data/a#b>\n"}]),
        json!([{"name": "set", "map": {"password": "<path:secret/data/a#b>"}}]),
        json!([{"name": "values-files", "array": ["../../values/prod.yaml"]}]),
        json!([{"name": "file-parameters", "map": {"config": "files/app.conf"}}]),
    ] {
        chart()
            .env("ARGOCD_APP_PARAMETERS", parameters.to_string())
            .run()
            .success()
            .stdout("helm\n");
    }
    chart()
        .env("PARAM_VALUES", "password: <path:secret/data/a#b>\n")
        .run()
        .success()
        .stdout("helm\n");
}

#[test]
fn placeholders_in_comments_do_not_count() {
    discover("app")
        .file(
            "repo/app/cm.yaml",
            &format!("# example: <path:secret/data/a#b>\n{CM}"),
        )
        .file(
            "repo/app/values.yaml",
            "# password: <path:secret/data/a#b>\nx: 1\n",
        )
        .run()
        .failure()
        .stdout("");
    discover("app")
        .file("repo/app/Chart.yaml", CHART)
        .file(
            "repo/app/templates/cm.yaml",
            "metadata:\n  name: {{ .Release.Name }} # <path:secret/data/a#b>\n",
        )
        .run()
        .failure()
        .stdout("");
}

#[test]
fn nothing_outside_the_repository_or_remote_is_followed() {
    let overlay = |resources: &str| {
        discover("overlays/prod")
            .file(
                "repo/overlays/prod/kustomization.yaml",
                &format!("resources: {resources}\n"),
            )
            .file("outside/kustomization.yaml", "resources: [cm.yaml]\n")
            .file("outside/cm.yaml", CM_WITH_PLACEHOLDER)
            .file("repo/a/kustomization.yaml", "resources: [../b]\n")
            .file("repo/b/kustomization.yaml", "resources: [../a]\n")
    };
    for resources in [
        "[../../../outside]",
        "[../../../outside/cm.yaml]",
        // Remote bases are never fetched: a URL that cannot answer would hang the test.
        "['https://192.0.2.1/org/repo//base?ref=main', 'github.com/org/repo/base?ref=v1']",
        // A cycle ends.
        "[../../a]",
    ] {
        overlay(resources).run().failure().stdout("");
    }
    overlay("[../../linked]")
        .symlink("repo/linked", "../outside")
        .run()
        .failure()
        .stdout("");
    // A file parameter outside the repository is not read either.
    discover("app")
        .file("repo/app/Chart.yaml", CHART)
        .file("outside.conf", "<path:secret/data/a#b>\n")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "file-parameters", "map": {"c": "../../outside.conf"}}]).to_string(),
        )
        .run()
        .failure()
        .stdout("");
}

#[test]
fn kustomizations_are_followed_only_so_deep() {
    let chain = |length: usize| {
        let mut case = discover("k0");
        for n in 0..length {
            case = case.file(
                &format!("repo/k{n}/kustomization.yaml"),
                &format!("resources: [../k{}]\n", n + 1),
            );
        }
        case.file(
            &format!("repo/k{length}/kustomization.yaml"),
            "resources: [cm.yaml]\n",
        )
        .file(&format!("repo/k{length}/cm.yaml"), CM_WITH_PLACEHOLDER)
    };
    chain(16).run().success().stdout("kustomize\n");
    chain(17).run().failure().stdout("");
}

#[test]
fn a_named_overlay_renders_without_any_discovery() {
    // plugin.yaml has no discover section, so Argo CD runs generate for every Application that
    // names the plugin: the overlay that auto-discovery would have to follow renders as is.
    let name = crate::support::unique("discovery");
    crate::support::OpenBao::shared().put_kv2("secret", &name, json!({"b": "named-Pa55"}));
    Case::new()
        .file("repo/base/kustomization.yaml", "resources: [cm.yaml]\n")
        .file(
            "repo/base/cm.yaml",
            &CM_WITH_PLACEHOLDER.replace("secret/data/a", &format!("secret/data/{name}")),
        )
        .file(
            "repo/overlays/prod/kustomization.yaml",
            "resources: [../../base]\n",
        )
        .cwd("repo/overlays/prod")
        .env("ARGOCD_APP_SOURCE_PATH", "overlays/prod")
        .vault(crate::support::OpenBao::shared())
        .args(crate::cmp::plugin_command("/spec/generate/command"))
        .run()
        .success()
        .stdout_contains("  p: \"named-Pa55\"\n");
}
