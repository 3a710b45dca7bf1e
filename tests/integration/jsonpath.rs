//! The `jsonPath` modifier end to end: Kubernetes JSONPath templates as client-go evaluates
//! them (several `{}` blocks, literal text, `range`/`end`, filters), against a real OpenBao.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use vaultplate::yaml::value::parse_value;

use crate::support::OpenBao;
use crate::support::{Case, unique};

/// Seeds, under a fresh prefix of the KV v1 mount `kv1`, the secrets argocd-vault-plugin's own
/// tests write (`pkg/helpers/test_helpers.go`) and returns the prefix (`kv1/<name>`).
fn seed_avp_fixture_secrets() -> String {
    let bao = OpenBao::shared();
    let name = unique("jsonpath");
    bao.put_kv1(
        "kv1",
        &format!("{name}/json"),
        json!({"data": {
            "service": {"enableTLS": true, "ports": [80, 8080]},
            "deployment": {"replicas": 2, "image": {"name": "json-test", "tag": "latest"}},
        }}),
    );
    bao.put_kv1(
        "kv1",
        &format!("{name}/jsonstring"),
        json!({"secret": "{\"credentials\":{\"user\":\"test-user\",\"pass\":\"test-password\"}}"}),
    );
    bao.put_kv1(
        "kv1",
        &format!("{name}/base64"),
        json!({"encoded_secret": "ewogICJrZXkxIjogInNlY3JldDEiLAogICJrZXkyIjogInNlY3JldDIiLAogICJrZXkzIjogInNlY3JldDMiCn0K"}),
    );
    bao.put_kv1(
        "kv1",
        &format!("{name}/yaml"),
        json!({"secret": "---\nkey1: secret1\nkey2: secret2\nkey3: secret3"}),
    );
    bao.put_kv1("kv1", &format!("{name}/foo"), json!({"secret": "bar"}));
    format!("kv1/{name}")
}

/// argocd-vault-plugin's fixture `fixtures/input/nonempty/modifers.yaml`, byte for byte except
/// for the paths (`secret/` there is a KV v1 mount, `kv1/<prefix>/` here). Its Service builds a
/// list of ports with a template of several blocks, a `range` over a stepped slice, `{@}` and
/// `{'['}`-style literal blocks, then `| jsonParse`. The expected values are those of AVP's
/// `fixtures/output/all.yaml`.
#[test]
fn avp_fixture_modifiers_builds_ports_with_a_range_template() {
    let root = seed_avp_fixture_secrets();
    let password = BASE64.encode(format!(
        "<path:{root}/jsonstring#secret | jsonParse | jsonPath {{.credentials.pass}}>"
    ));
    let manifest = format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    avp.kubernetes.io/path: {root}/json
    avp.kubernetes.io/kv-version: "1"
  name: modifiers-test
  namespace: modifiers-test
spec:
  selector:
    matchLabels:
      app: modifiers-test
  replicas: <  data |jsonPath  {{.deployment.replicas}}|  jsonParse >
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 1
  minReadySeconds: 5
  revisionHistoryLimit: 10
  template:
    metadata:
      labels:
        app: modifiers-test
    spec:
      containers:
      - name: modifiers-test
        image: foo.com/<data | jsonPath {{.deployment.image.name}}>:<data | jsonPath {{.deployment.image.tag}}>
        imagePullPolicy: Always
---
apiVersion: v1
kind: Service
metadata:
  annotations:
    avp.kubernetes.io/path: {root}/json
    avp.kubernetes.io/kv-version: "1"
  name: modifiers-test
  namespace: modifiers-test
  labels:
    app: modifiers-test
spec:
  selector:
    app: modifiers-test
  ports: >-
    <data | jsonPath
    {{'['}}
    {{range .service.ports[0:-1:1]}}
    {{'{{"protocol":"TCP",'}}
    {{'"port":'}}{{@}}
    {{',"targetPort":'}}{{@}}
    {{'}},'}}
    {{end}}
    {{'{{"protocol":"TCP",'}}
    {{'"port":'}}{{.service.ports[-1]}}
    {{',"targetPort":'}}{{.service.ports[-1]}}
    {{'}}]'}} | jsonParse >
  type: NodePort
---
apiVersion: v1
kind: Secret
metadata:
  annotations:
    avp.kubernetes.io/kv-version: "1"
  name: modifiers-test
  namespace: modifiers-test
type: Opaque
data:
  USER: <path:{root}/jsonstring#secret | jsonParse | jsonPath {{.credentials.user}} | base64encode>
  PASSWORD: {password}
  ESECRET: <path:{root}/base64#encoded_secret | base64decode | jsonPath {{.key2}} | base64encode>
  YAML: <path:{root}/yaml#secret | yamlParse | jsonPath {{.key1}} | base64encode>
  SHA256SUM: <path:{root}/foo#secret | sha256sum | base64encode>
---
"#
    );
    let outcome = Case::new()
        .file("modifers.yaml", &manifest)
        .vault(OpenBao::shared())
        .args(["generate", "modifers.yaml"])
        .run();
    outcome.success();
    let documents: Vec<serde_json::Value> = outcome
        .stdout_text()
        .split("\n---\n")
        .map(|document| parse_value(document.trim_start_matches("---\n")).expect("output parses"))
        .collect();
    assert_eq!(documents.len(), 3, "{}", outcome.stdout_text());
    assert_eq!(documents[0]["spec"]["replicas"], json!(2));
    assert_eq!(
        documents[0]["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("foo.com/json-test:latest")
    );
    assert_eq!(
        documents[1]["spec"]["ports"],
        json!([
            {"port": 80, "protocol": "TCP", "targetPort": 80},
            {"port": 8080, "protocol": "TCP", "targetPort": 8080},
        ])
    );
    assert_eq!(
        documents[2]["data"],
        json!({
            "USER": "dGVzdC11c2Vy",
            "PASSWORD": "dGVzdC1wYXNzd29yZA==",
            "ESECRET": "c2VjcmV0Mg==",
            "YAML": "c2VjcmV0MQ==",
            "SHA256SUM": "ZmNkZTJiMmVkYmE1NmJmNDA4NjAxZmI3MjFmZTliNWMzMzhkMTBlZTQyOWVhMDRmYWU1NTExYjY4ZmJmOGZiOQ==",
        })
    );
}

/// A template that selects a missing key, or nothing at all, fails the run with the file,
/// object, field and placeholder named, and never the secret's content.
#[test]
fn a_template_that_selects_a_missing_key_or_nothing_is_an_error() {
    let bao = OpenBao::shared();
    let name = unique("jsonpath-users");
    bao.put_kv2(
        "secret",
        &name,
        json!({"users": "[{\"name\": \"app\", \"pw\": \"s3cr3t-pw\"}]"}),
    );
    let manifest = format!(
        "
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
        data:
          app: <path:secret/data/{name}#users | jsonPath {{range [?(@.name=='app')]}}{{.pw}}{{end}}>
          dot: <path:secret/data/{name}#users | jsonPath {{.[0].pw}}>
          typo: <path:secret/data/{name}#users | jsonPath {{range [*]}}{{.password}}{{end}}>
          none: <path:secret/data/{name}#users | jsonPath {{[?(@.name=='other')].pw}}>
          index: <path:secret/data/{name}#users | jsonPath {{[2].name}}>
    "
    );
    Case::new()
        .file("c.yaml", &manifest)
        .vault(OpenBao::shared())
        .secret("s3cr3t-pw")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!("\
error: c.yaml (ConfigMap/c): data.dot: <path:secret/data/{name}#users | jsonPath {{.[0].pw}}>: jsonPath: key \"\" not found (a \".\" right before \"[\" selects the empty key: write {{[0]}}, not {{.[0]}})
error: c.yaml (ConfigMap/c): data.typo: <path:secret/data/{name}#users | jsonPath {{range [*]}}{{.password}}{{end}}>: jsonPath: key \"password\" not found
error: c.yaml (ConfigMap/c): data.none: <path:secret/data/{name}#users | jsonPath {{[?(@.name=='other')].pw}}>: jsonPath: {{[?(@.name=='other')].pw}} selected nothing (the result would be empty text)
error: c.yaml (ConfigMap/c): data.index: <path:secret/data/{name}#users | jsonPath {{[2].name}}>: jsonPath: index 2 is out of range for a list of 1
"));
}
