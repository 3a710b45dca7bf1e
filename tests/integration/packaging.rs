//! How vaultplate is installed into Argo CD: `plugin.yaml`, the Helm chart in
//! `charts/vaultplate` (checked with the pinned `helm`), and the argo-cd chart values and
//! Applications in `examples/argocd`. These tests read files and run `helm`; they need no Vault.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tempfile::TempDir;
use vaultplate::yaml::parse_stream;
use vaultplate::yaml::value::{parse_value, to_json};

use crate::support;

const CHART: &str = "charts/vaultplate";
/// The release name and namespace `examples/argocd/values.yaml` expects the chart under.
const RELEASE: &str = "vaultplate";
const NAMESPACE: &str = "argocd";

// ---------------------------------------------------------------------------------------------
// plugin.yaml

#[test]
fn plugin_yaml_runs_vaultplate_directly() {
    let plugin = yaml_file("plugin.yaml");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["metadata"]["name"], "vaultplate");
    let spec = &plugin["spec"];
    // No shell between Argo CD and vaultplate: its exit status is the plugin's.
    assert_eq!(
        spec["generate"],
        json!({"command": ["vaultplate", "render"]})
    );
    assert_eq!(spec["preserveFileMode"], json!(false));
    // Without discovery Argo CD serves every Application that names the plugin; the chart's
    // plugin.autoDiscovery adds it (chart_adds_discovery_only_when_asked).
    for absent in [
        "discover",
        "init",
        "provideGitCreds",
        "version",
        "lockRepo",
        "allowConcurrency",
    ] {
        assert!(
            spec.get(absent).is_none(),
            "plugin.yaml must not set spec.{absent}"
        );
    }
}

#[test]
fn plugin_yaml_announces_every_application_setting_with_its_default() {
    let plugin = yaml_file("plugin.yaml");
    let announced = plugin["spec"]["parameters"]["static"]
        .as_array()
        .expect("spec.parameters.static is a list");
    // (name, collectionType, itemType, default): exactly these, in this order.
    let shape: Vec<Value> = announced
        .iter()
        .map(|p| {
            json!([
                p["name"],
                p["collectionType"],
                p["itemType"],
                p["string"],
                p["array"],
                p["map"]
            ])
        })
        .collect();
    assert_eq!(
        shape,
        [
            json!(["release-name", "string", null, null, null, null]),
            json!(["namespace", "string", null, null, null, null]),
            json!(["values-files", "array", "string", null, null, null]),
            json!(["values", "string", null, null, null, null]),
            json!(["set", "map", "string", null, null, null]),
            json!(["include-crds", "string", null, "true", null, null]),
            json!(["file-parameters", "map", "string", null, null, null]),
            json!([
                "ignore-missing-value-files",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!([
                "skip-schema-validation",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!(["skip-tests", "string", null, "false", null, null]),
            json!(["kube-version", "string", null, null, null, null]),
            json!(["api-versions", "array", "string", null, null, null]),
            json!(["pass-credentials", "string", null, "false", null, null]),
            json!(["kustomize-enable-helm", "string", null, "false", null, null]),
            json!(["images", "array", "string", null, null, null]),
            json!(["name-prefix", "string", null, null, null, null]),
            json!(["name-suffix", "string", null, null, null, null]),
            json!(["common-labels", "map", "string", null, null, null]),
            json!(["common-annotations", "map", "string", null, null, null]),
            json!([
                "common-annotations-envsubst",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!(["force-common-labels", "string", null, "false", null, null]),
            json!([
                "force-common-annotations",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!([
                "label-without-selector",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!([
                "label-include-templates",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!(["replicas", "array", "string", null, null, null]),
            json!(["patches", "string", null, null, null, null]),
            json!(["components", "array", "string", null, null, null]),
            json!([
                "ignore-missing-components",
                "string",
                null,
                "false",
                null,
                null
            ]),
            json!(["vault-profile", "string", null, null, null, null]),
            json!(["vars", "map", "string", null, null, null]),
        ]
    );
    for p in announced {
        for field in ["title", "tooltip"] {
            assert!(
                p[field].as_str().is_some_and(|s| !s.trim().is_empty()),
                "parameter {} has no {field}",
                p["name"]
            );
        }
        assert!(
            p.get("required").is_none(),
            "no parameter is required: {}",
            p["name"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The chart

#[test]
fn chart_passes_strict_lint() {
    helm_ok(&[
        "lint",
        "--strict",
        CHART,
        "--set",
        "vault.existingSecret=vault-settings",
    ]);
    helm_ok(&[
        "lint",
        "--strict",
        CHART,
        "--set",
        "vault.address=https://vault.example:8200",
        "--set",
        "vault.auth.k8s.role=argocd-repo-server",
    ]);
}

#[test]
fn chart_ships_the_repository_plugin_yaml() {
    assert!(
        read("plugin.yaml") == read(&format!("{CHART}/files/plugin.yaml")),
        "{CHART}/files/plugin.yaml differs from plugin.yaml: \
         cp plugin.yaml {CHART}/files/plugin.yaml"
    );
    let rendered = template(&["vault.existingSecret=vault-settings"]);
    let text = object(&rendered, "ConfigMap", "vaultplate-plugin")["data"]["plugin.yaml"]
        .as_str()
        .expect("the ConfigMap has a plugin.yaml key");
    assert_eq!(
        parse_value(text).expect("the ConfigMap's plugin.yaml parses"),
        yaml_file("plugin.yaml"),
        "the chart's ConfigMap must hold the repository's plugin.yaml"
    );
}

#[test]
fn chart_adds_discovery_only_when_asked() {
    let plugin_yaml = |values: &[&str]| {
        let rendered = template(values);
        let text = object(&rendered, "ConfigMap", "vaultplate-plugin")["data"]["plugin.yaml"]
            .as_str()
            .expect("the ConfigMap has a plugin.yaml key")
            .to_owned();
        parse_value(&text).expect("the ConfigMap's plugin.yaml parses")
    };
    let mut want = yaml_file("plugin.yaml");
    assert_eq!(
        plugin_yaml(&["vault.existingSecret=s", "plugin.autoDiscovery=false"]),
        want
    );
    want["spec"]["discover"] = json!({"find": {"command": ["vaultplate", "discover"]}});
    assert_eq!(
        plugin_yaml(&["vault.existingSecret=s", "plugin.autoDiscovery=true"]),
        want,
        "autoDiscovery adds exactly the discover section"
    );
    let refused = helm_err(&[
        "template",
        CHART,
        "--set",
        "vault.existingSecret=s",
        "--set-string",
        "plugin.autoDiscovery=yes",
    ]);
    assert!(refused.contains("autoDiscovery"), "{refused}");
}

#[test]
fn chart_with_an_existing_secret_renders_only_the_plugin_configmap() {
    let rendered = template(&["vault.existingSecret=vault-settings"]);
    assert_eq!(
        kinds_and_names(&rendered),
        [("ConfigMap", "vaultplate-plugin")]
    );
    let config_map = &rendered[0];
    assert_eq!(config_map["metadata"]["namespace"], NAMESPACE);
    let labels = &config_map["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], "vaultplate");
    assert_eq!(labels["app.kubernetes.io/instance"], RELEASE);
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    let keys: Vec<&String> = config_map["data"]
        .as_object()
        .expect("data")
        .keys()
        .collect();
    assert_eq!(keys, ["plugin.yaml"]);
}

#[test]
fn chart_secret_holds_the_vault_settings_for_envfrom() {
    let rendered = template(&[
        "vault.address=https://vault.example:8200",
        "vault.namespace=team-a",
        "vault.auth.k8s.role=argocd-repo-server",
        "vault.auth.mountPath=kubernetes-prod",
        "vault.extraEnv.VAULT_CLIENT_TIMEOUT=30s",
        "vault.extraEnv.VAULT_MAX_RETRIES=3",
    ]);
    assert_eq!(
        kinds_and_names(&rendered),
        [
            ("ConfigMap", "vaultplate-plugin"),
            ("Secret", "vaultplate-config")
        ]
    );
    assert_eq!(
        secret_data(&rendered, "vaultplate-config"),
        settings(&[
            ("AVP_AUTH_TYPE", "k8s"),
            ("AVP_K8S_ROLE", "argocd-repo-server"),
            ("AVP_MOUNT_PATH", "kubernetes-prod"),
            ("VAULT_ADDR", "https://vault.example:8200"),
            ("VAULT_CLIENT_TIMEOUT", "30s"),
            ("VAULT_MAX_RETRIES", "3"),
            ("VAULT_NAMESPACE", "team-a"),
        ])
    );
}

#[test]
fn chart_secret_holds_the_credentials_of_each_login_method() {
    fn secret_for(sets: &[&str]) -> BTreeMap<String, String> {
        let mut all = vec!["vault.address=http://vault.vault:8200"];
        all.extend_from_slice(sets);
        secret_data(&template(&all), "vaultplate-config")
    }
    let address = ("VAULT_ADDR", "http://vault.vault:8200");
    assert_eq!(
        secret_for(&[
            "vault.auth.type=approle",
            "vault.auth.approle.roleId=r-1",
            "vault.auth.approle.secretId=s-1",
        ]),
        settings(&[
            ("AVP_AUTH_TYPE", "approle"),
            ("AVP_ROLE_ID", "r-1"),
            ("AVP_SECRET_ID", "s-1"),
            address,
        ])
    );
    assert_eq!(
        secret_for(&[
            "vault.auth.type=userpass",
            "vault.auth.userpass.username=u-1",
            "vault.auth.userpass.password=p-1",
        ]),
        settings(&[
            ("AVP_AUTH_TYPE", "userpass"),
            ("AVP_PASSWORD", "p-1"),
            ("AVP_USERNAME", "u-1"),
            address,
        ])
    );
    assert_eq!(
        secret_for(&["vault.auth.type=token", "vault.auth.token=t-1"]),
        settings(&[("AVP_AUTH_TYPE", "token"), ("VAULT_TOKEN", "t-1"), address])
    );
}

#[test]
fn secret_values_never_reach_the_configmap() {
    let secrets = ["role-id-5b1f0c", "secret-id-9e27d4", "extra-value-31aa70"];
    let rendered = template(&[
        "vault.address=https://vault.example:8200",
        "vault.auth.type=approle",
        &format!("vault.auth.approle.roleId={}", secrets[0]),
        &format!("vault.auth.approle.secretId={}", secrets[1]),
        &format!("vault.extraEnv.SOME_SETTING={}", secrets[2]),
    ]);
    let config_map = object(&rendered, "ConfigMap", "vaultplate-plugin");
    let text = config_map.to_string();
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{secret} is in the ConfigMap: {text}"
        );
        assert!(
            !text.contains(&BASE64.encode(secret)),
            "base64 of {secret} is in the ConfigMap"
        );
    }
    assert_eq!(
        config_map,
        object(
            &template(&["vault.existingSecret=vault-settings"]),
            "ConfigMap",
            "vaultplate-plugin"
        ),
        "the ConfigMap does not depend on vault.* values"
    );
}

#[test]
fn chart_uses_an_existing_secret_instead_of_making_one() {
    let rendered = template(&["vault.existingSecret=vault-settings"]);
    assert_eq!(
        kinds_and_names(&rendered),
        [("ConfigMap", "vaultplate-plugin")]
    );

    let stderr = helm_err(&template_args(&[
        "vault.existingSecret=vault-settings",
        "vault.address=https://vault.example:8200",
    ]));
    assert!(
        stderr.contains("vault.existingSecret replaces the Secret"),
        "{stderr}"
    );
}

#[test]
fn chart_schema_rejects_bad_values() {
    for (set, names) in [
        ("vault.auth.type=ldap", "vault.auth.type"),
        ("vault.address=vault.example:8200", "vault.address"),
        ("vault.extraEnv.not-a-name=x", "vault.extraEnv"),
        ("vault.adress=https://vault.example:8200", "adress"),
    ] {
        let stderr = helm_err(&template_args(&[set]));
        assert!(
            stderr.contains("values don't meet the specifications of the schema")
                && stderr.contains(names),
            "--set {set}: expected a schema error naming {names}, got: {stderr}"
        );
    }
}

#[test]
fn chart_names_the_missing_credential_of_a_login_method() {
    for (sets, message) in [
        (
            &["vault.address=https://v.example"][..],
            "vault.auth.k8s.role is required for vault.auth.type k8s",
        ),
        (
            &[
                "vault.address=https://v.example",
                "vault.auth.type=approle",
                "vault.auth.approle.roleId=r",
            ],
            "vault.auth.approle.secretId is required for vault.auth.type approle",
        ),
        (
            &["vault.address=https://v.example", "vault.auth.type=token"],
            "vault.auth.token is required for vault.auth.type token",
        ),
    ] {
        let stderr = helm_err(&template_args(sets));
        assert!(
            stderr.contains(message),
            "--set {sets:?}: expected {message:?}, got: {stderr}"
        );
    }
}

#[test]
fn chart_without_vault_settings_fails_instead_of_leaving_out_the_secret() {
    let stderr = helm_err(&template_args(&[]));
    assert!(
        stderr.contains("no Vault settings: set vault.address (and vault.auth.*) so that the chart makes the Secret vaultplate-config the sidecar loads with envFrom, or set vault.existingSecret to a Secret of your own"),
        "{stderr}"
    );
}

#[test]
fn chart_accepts_every_login_method_of_the_binary() {
    let schema = serde_json::from_str::<Value>(&read(&format!("{CHART}/values.schema.json")))
        .expect("values.schema.json is JSON");
    let mut chart: Vec<&str> =
        schema["properties"]["vault"]["properties"]["auth"]["properties"]["type"]["enum"]
            .as_array()
            .expect("vault.auth.type has an enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    let mut code = vaultplate::secrets::vault::auth::AUTH_METHODS.to_vec();
    chart.sort_unstable();
    code.sort_unstable();
    assert_eq!(
        chart, code,
        "vault.auth.type's enum must list every AVP_AUTH_TYPE"
    );

    let address = ("VAULT_ADDR", "https://v.example");
    for (sets, expected) in [
        (
            &["vault.auth.type=github", "vault.auth.github.token=g-1"][..],
            settings(&[
                ("AVP_AUTH_TYPE", "github"),
                ("AVP_GITHUB_TOKEN", "g-1"),
                address,
            ]),
        ),
        (
            &[
                "vault.auth.type=cert",
                "vault.auth.cert.clientCert=/run/vault/tls.crt",
                "vault.auth.cert.clientKey=/run/vault/tls.key",
                "vault.auth.cert.role=argocd",
            ],
            settings(&[
                ("AVP_AUTH_TYPE", "cert"),
                ("AVP_CERT_ROLE", "argocd"),
                ("VAULT_CLIENT_CERT", "/run/vault/tls.crt"),
                ("VAULT_CLIENT_KEY", "/run/vault/tls.key"),
                address,
            ]),
        ),
        (
            &[
                "vault.auth.type=jwt",
                "vault.auth.jwt.tokenPath=/run/jwt/token",
            ],
            settings(&[
                ("AVP_AUTH_TYPE", "jwt"),
                ("AVP_JWT_TOKEN_PATH", "/run/jwt/token"),
                address,
            ]),
        ),
    ] {
        let mut all = vec!["vault.address=https://v.example"];
        all.extend_from_slice(sets);
        assert_eq!(
            secret_data(&template(&all), "vaultplate-config"),
            expected,
            "{sets:?}"
        );
    }
    for (sets, message) in [
        (
            "vault.auth.type=github",
            "vault.auth.github.token is required for vault.auth.type github",
        ),
        (
            "vault.auth.type=cert",
            "vault.auth.cert.clientCert (a file path in the sidecar) is required for vault.auth.type cert",
        ),
        (
            "vault.auth.type=jwt",
            "vault.auth.jwt.tokenPath (a file path in the sidecar) is required for vault.auth.type jwt",
        ),
    ] {
        let stderr = helm_err(&template_args(&["vault.address=https://v.example", sets]));
        assert!(
            stderr.contains(message),
            "--set {sets}: expected {message:?}, got: {stderr}"
        );
    }
}

#[test]
fn demo_shows_the_build_progress() {
    let demo = read("scripts/demo");
    let build = demo
        .lines()
        .find(|line| line.trim_start().starts_with("cargo build"))
        .expect("scripts/demo builds vaultplate");
    assert!(
        !build.contains("--quiet") && !build.contains("--release"),
        "a newcomer must see cargo work, and wait for a debug build only: {build}"
    );
}

#[test]
fn chart_values_are_each_documented_and_in_the_schema() {
    let text = read(&format!("{CHART}/values.yaml"));
    let mut previous = "";
    for line in text.lines() {
        let trimmed = line.trim();
        let is_leaf = !trimmed.starts_with('#')
            && trimmed
                .split_once(':')
                .is_some_and(|(_, value)| !value.trim().is_empty());
        assert!(
            !is_leaf || previous.starts_with("# "),
            "{CHART}/values.yaml: `{trimmed}` needs a comment on the line above"
        );
        previous = trimmed;
    }

    let schema = serde_json::from_str::<Value>(&read(&format!("{CHART}/values.schema.json")))
        .expect("values.schema.json is JSON");
    let mut leaves = Vec::new();
    collect_leaves(&yaml_file(&format!("{CHART}/values.yaml")), "", &mut leaves);
    assert!(leaves.len() > 10, "values.yaml has its values: {leaves:?}");
    for leaf in leaves {
        let mut node = &schema;
        for key in leaf.split('.') {
            node = &node["properties"][key];
        }
        assert!(
            node.get("type").is_some(),
            "values.schema.json does not describe {leaf}"
        );
    }
}

/// `teams.policy` reaches the sidecar as written (vaultplate reads the rendered file as its
/// policy), with VAULTPLATE_POLICY pointing at its mount; each of `teams.profileSecrets` is a
/// Secret of its own, and no credential lands in a ConfigMap.
#[test]
fn chart_ships_the_teams_policy_and_profile_secrets() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let values = dir.path().join("values.yaml");
    let policy = "# two teams\nprofiles:\n  team-a:\n    AVP_AUTH_TYPE: approle\n    AVP_ROLE_ID: role-a\n    AVP_SECRET_ID_FILE: /home/argocd/cmp-server/profiles/team-a/AVP_SECRET_ID\nrules:\n  - projects: [team-a]\n    profiles: [team-a]\n    paths: [\"secret/data/team-a/*\"]\n";
    let text = format!(
        "vault:\n  address: https://vault.example:8200\n  auth:\n    k8s:\n      role: r\nteams:\n  policy: {}\n  profileSecrets:\n    team-a:\n      AVP_SECRET_ID: sid-a\n",
        serde_json::to_string(policy).expect("JSON")
    );
    std::fs::write(&values, text).expect("values file");
    let mut args = template_args(&[]);
    args.extend(["-f".to_owned(), values.display().to_string()]);
    let rendered = documents(&helm_ok(&args));
    assert_eq!(
        kinds_and_names(&rendered),
        [
            ("ConfigMap", "vaultplate-plugin"),
            ("ConfigMap", "vaultplate-policy"),
            ("Secret", "vaultplate-config"),
            ("Secret", "vaultplate-profile-team-a"),
        ]
    );
    let shipped = object(&rendered, "ConfigMap", "vaultplate-policy")["data"]["policy.yaml"]
        .as_str()
        .expect("policy.yaml");
    assert_eq!(shipped, policy, "the policy is shipped as written");
    assert_eq!(
        secret_data(&rendered, "vaultplate-config")["VAULTPLATE_POLICY"],
        "/home/argocd/cmp-server/policy/policy.yaml"
    );
    assert_eq!(
        secret_data(&rendered, "vaultplate-profile-team-a"),
        settings(&[("AVP_SECRET_ID", "sid-a")])
    );
    // vaultplate accepts the shipped file as its policy.
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, shipped).expect("policy file");
    crate::support::Case::new()
        .file(
            "m.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
        )
        .env("VAULTPLATE_POLICY", &file)
        .env("ARGOCD_APP_PROJECT_NAME", "team-a")
        .args(["generate", "m.yaml"])
        .run()
        .success();
    let refused = helm_err(&[
        "template",
        RELEASE,
        CHART,
        "--set",
        "vault.existingSecret=s",
        "--set",
        "teams.profileSecrets.Team_A.X=y",
    ]);
    assert!(refused.contains("teams.profileSecrets"), "{refused}");
}

// ---------------------------------------------------------------------------------------------
// examples/argocd

#[test]
fn argocd_values_add_the_sidecar_the_cmp_contract_asks_for() {
    let values = yaml_file("examples/argocd/values.yaml");
    let repo_server = &values["repoServer"];
    let sidecar = named(&repo_server["extraContainers"], "vaultplate");

    assert_eq!(
        sidecar["command"],
        json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert!(
        sidecar.get("args").is_none(),
        "argocd-cmp-server takes no arguments here"
    );
    assert!(
        sidecar["image"].as_str().is_some_and(|i| !i.is_empty()),
        "the sidecar has an image"
    );
    assert_eq!(sidecar["securityContext"]["runAsNonRoot"], json!(true));
    assert_eq!(sidecar["securityContext"]["runAsUser"], json!(999));
    for resource in ["cpu", "memory"] {
        assert!(
            sidecar["resources"]["requests"].get(resource).is_some(),
            "the sidecar requests {resource}"
        );
    }

    let mounts: BTreeMap<&str, &Value> = sidecar["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| (m["mountPath"].as_str().expect("mountPath"), m))
        .collect();
    assert_eq!(
        mounts.keys().copied().collect::<Vec<_>>(),
        [
            "/home/argocd/cmp-server/config/plugin.yaml",
            "/home/argocd/cmp-server/plugins",
            "/home/argocd/cmp-server/policy",
            "/home/argocd/cmp-server/records",
            "/tmp",
            "/var/run/argocd",
        ]
    );
    assert_eq!(mounts["/var/run/argocd"]["name"], "var-files");
    assert_eq!(mounts["/home/argocd/cmp-server/plugins"]["name"], "plugins");
    assert_eq!(
        mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"],
        "plugin.yaml"
    );

    // Its own /tmp, not the repo-server's `tmp` volume.
    let tmp = mounts["/tmp"]["name"].as_str().expect("name");
    assert_ne!(
        tmp, "tmp",
        "the sidecar's /tmp must not be the repo-server's"
    );
    assert_eq!(named(&repo_server["volumes"], tmp)["emptyDir"], json!({}));
}

#[test]
fn argocd_values_add_the_watcher_sharing_the_records_folder() {
    let values = yaml_file("examples/argocd/values.yaml");
    let repo_server = &values["repoServer"];
    let sidecar = named(&repo_server["extraContainers"], "vaultplate");
    let watcher = named(&repo_server["extraContainers"], "vaultplate-watch");
    assert_eq!(
        watcher["command"],
        json!(["vaultplate", "watch", "--listen", "0.0.0.0:9102"])
    );
    assert_eq!(watcher["image"], sidecar["image"], "the same image");
    assert_eq!(watcher["securityContext"]["runAsUser"], json!(999));
    assert_eq!(watcher["livenessProbe"]["httpGet"]["path"], "/healthz");
    let records = |container: &Value| {
        let dir = named(&container["env"], "VAULTPLATE_RECORDS_DIR")["value"].clone();
        let mount = container["volumeMounts"]
            .as_array()
            .expect("volumeMounts")
            .iter()
            .find(|m| m["mountPath"] == dir)
            .unwrap_or_else(|| panic!("{dir} is not mounted"))["name"]
            .clone();
        (dir, mount)
    };
    let (dir, volume) = records(sidecar);
    assert_eq!(records(watcher), (dir, volume.clone()));
    assert_eq!(
        named(&repo_server["volumes"], volume.as_str().expect("name"))["emptyDir"],
        json!({})
    );
    assert_ne!(
        watcher["envFrom"], sidecar["envFrom"],
        "the watcher logs in to Vault with an identity of its own"
    );
}

#[test]
fn chart_grants_the_watcher_patch_on_applications_only_when_asked() {
    let none = template(&[
        "vault.address=https://vault.example:8200",
        "vault.auth.k8s.role=argocd-repo-server",
    ]);
    assert!(none.iter().all(|o| o["kind"] != "Role"));
    let rendered = template(&[
        "vault.address=https://vault.example:8200",
        "vault.auth.k8s.role=argocd-repo-server",
        "watch.rbac=true",
        "watch.applicationNamespaces={team-a}",
    ]);
    let roles: Vec<&Value> = rendered.iter().filter(|o| o["kind"] == "Role").collect();
    let namespaces: Vec<&Value> = roles.iter().map(|r| &r["metadata"]["namespace"]).collect();
    assert_eq!(namespaces, [&json!(NAMESPACE), &json!("team-a")]);
    for role in roles {
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": ["get", "list", "patch"]}])
        );
    }
    let binding = rendered
        .iter()
        .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["namespace"] == "team-a")
        .expect("a RoleBinding in team-a");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "argocd-repo-server", "namespace": NAMESPACE}])
    );
}

#[test]
fn argocd_values_use_the_objects_the_chart_makes() {
    let values = yaml_file("examples/argocd/values.yaml");
    let repo_server = &values["repoServer"];
    let sidecar = named(&repo_server["extraContainers"], "vaultplate");
    let rendered = template(&[
        "vault.address=https://vault.example:8200",
        "vault.auth.k8s.role=argocd-repo-server",
    ]);

    let plugin_mount = sidecar["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["mountPath"] == "/home/argocd/cmp-server/config/plugin.yaml")
        .expect("plugin.yaml is mounted");
    let volume = named(
        &repo_server["volumes"],
        plugin_mount["name"].as_str().expect("name"),
    );
    let config_map = object(
        &rendered,
        "ConfigMap",
        volume["configMap"]["name"].as_str().expect("configMap"),
    );
    let key = plugin_mount["subPath"].as_str().expect("subPath");
    assert!(
        config_map["data"].get(key).is_some(),
        "the chart's ConfigMap has no key {key}"
    );

    assert_eq!(
        sidecar["envFrom"],
        json!([{"secretRef": {"name": "vaultplate-config"}}]),
        "the sidecar loads the chart's Secret"
    );
    object(&rendered, "Secret", "vaultplate-config");
}

#[test]
fn argocd_applications_select_the_plugin_with_announced_parameters() {
    let plugin = yaml_file("plugin.yaml");
    let announced: BTreeMap<&str, &str> = plugin["spec"]["parameters"]["static"]
        .as_array()
        .expect("static parameters")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name"),
                p["collectionType"].as_str().expect("type"),
            )
        })
        .collect();

    for (file, path) in [
        ("plain.yaml", "examples/plain"),
        ("kustomize.yaml", "examples/kustomize"),
        ("helm.yaml", "examples/helm"),
    ] {
        let app = yaml_file(&format!("examples/argocd/applications/{file}"));
        assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1", "{file}");
        assert_eq!(app["kind"], "Application", "{file}");
        let source = &app["spec"]["source"];
        assert_eq!(source["path"], path, "{file}");
        assert!(repo().join(path).is_dir(), "{file}: {path} exists");
        assert_eq!(
            source["plugin"]["name"], plugin["metadata"]["name"],
            "{file}"
        );
        for parameter in source["plugin"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = parameter["name"].as_str().expect("parameter name");
            let collection = announced.get(name).unwrap_or_else(|| {
                panic!("{file}: parameter {name} is not announced in plugin.yaml")
            });
            assert!(
                parameter.get(collection).is_some(),
                "{file}: parameter {name} is a {collection}: {parameter}"
            );
        }
    }
    let helm = yaml_file("examples/argocd/applications/helm.yaml");
    assert!(
        helm["spec"]["source"]["plugin"]["parameters"]
            .as_array()
            .is_some_and(|p| p.len() >= 3),
        "the Helm example shows several parameters"
    );
}

#[test]
fn plugin_yaml_announces_exactly_what_render_reads() {
    let plugin = yaml_file("plugin.yaml");
    let announced: Vec<(String, String, Option<String>)> = plugin["spec"]["parameters"]["static"]
        .as_array()
        .expect("static parameters")
        .iter()
        .map(|p| {
            let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
            (
                text(&p["name"]).expect("name"),
                text(&p["collectionType"]).expect("type"),
                text(&p["string"]),
            )
        })
        .collect();
    let read: Vec<(String, String, Option<String>)> = vaultplate::render::app_params::PARAMS
        .iter()
        .map(|p| {
            (
                p.name.to_owned(),
                p.collection.to_owned(),
                p.default.map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        announced, read,
        "plugin.yaml and src/render/app_params.rs must list the same parameters"
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A single-document YAML file of the repository as JSON.
fn yaml_file(path: &str) -> Value {
    parse_value(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every document of a stream that has content, as JSON.
fn documents(stream: &str) -> Vec<Value> {
    parse_stream(stream)
        .unwrap_or_else(|e| panic!("helm printed invalid YAML: {e}\n{stream}"))
        .iter()
        .filter_map(|doc| doc.root.as_ref().map(to_json))
        .collect()
}

/// Runs the pinned helm in the repository, with its caches and config in a fresh directory.
fn helm<S: AsRef<OsStr>>(args: &[S]) -> (bool, String, String) {
    let home = TempDir::new().expect("temp dir");
    let helm = support::tool("helm");
    let output = Command::new(&helm)
        .args(args)
        .current_dir(repo())
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .env_remove("KUBECONFIG")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", helm.display()));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn helm_ok<S: AsRef<OsStr> + Debug>(args: &[S]) -> String {
    let (ok, stdout, stderr) = helm(args);
    assert!(
        ok,
        "helm {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

fn helm_err<S: AsRef<OsStr> + Debug>(args: &[S]) -> String {
    let (ok, stdout, stderr) = helm(args);
    assert!(
        !ok,
        "helm {args:?} succeeded, expected a failure\n--- stdout\n{stdout}"
    );
    stderr
}

/// `helm template` of the chart as release `vaultplate` in `argocd`, with `--set` for each entry.
fn template_args(sets: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["template", RELEASE, CHART, "--namespace", NAMESPACE]
        .map(String::from)
        .into();
    for set in sets {
        args.extend(["--set".to_owned(), (*set).to_owned()]);
    }
    args
}

fn template(sets: &[&str]) -> Vec<Value> {
    documents(&helm_ok(&template_args(sets)))
}

/// (kind, name) of each object, sorted (helm orders by kind: Secrets before ConfigMaps).
fn kinds_and_names(objects: &[Value]) -> Vec<(&str, &str)> {
    let mut all: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().expect("kind"),
                o["metadata"]["name"].as_str().expect("metadata.name"),
            )
        })
        .collect();
    all.sort_unstable();
    all
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} among {:?}", kinds_and_names(objects)))
}

/// The decoded `data` of a rendered Secret.
fn secret_data(objects: &[Value], name: &str) -> BTreeMap<String, String> {
    let secret = object(objects, "Secret", name);
    assert!(
        secret.get("stringData").is_none(),
        "the Secret uses data only"
    );
    secret["data"]
        .as_object()
        .expect("the Secret has data")
        .iter()
        .map(|(key, value)| {
            let bytes = BASE64
                .decode(value.as_str().expect("data values are strings"))
                .expect("data values are base64");
            (key.clone(), String::from_utf8(bytes).expect("UTF-8"))
        })
        .collect()
}

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The entry of a list of `{name: ...}` mappings with this name.
fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["name"] == name)
        .unwrap_or_else(|| panic!("no entry named {name} in {list}"))
}

/// Dotted paths of the scalar (and empty-collection) values of a mapping.
fn collect_leaves(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value.as_object() {
        Some(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                collect_leaves(child, &path, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}
