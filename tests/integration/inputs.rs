//! What `generate` reads and prints: directories, standard input, empty results, JSON, and
//! byte-for-byte fidelity of everything that is not replaced.

use serde_json::json;

use crate::support::OpenBao;
use crate::support::{Case, unique};

#[test]
fn directories_are_walked_in_lexical_order_skipping_non_manifests() {
    Case::new()
        .file("app/b.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: b}\n")
        .file("app/a/c.yml", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n")
        .file("app/a/d.json", "{\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"d\"}}")
        .file("app/values.yaml", "replicaCount: 1\nimage: {tag: <path:secret/data/x#y>}\n")
        .file("app/Chart.yaml", "apiVersion: v2\nname: chart\nversion: 1.0.0\n")
        .file("app/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [b.yaml]\n")
        .file("app/.git/x.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: hidden}\n")
        .file("app/notes.txt", "kind: ConfigMap\n")
        .args(["generate", "app"])
        .run()
        .success()
        .stdout("
            ---
            kind: ConfigMap
            apiVersion: v1
            metadata: {name: c}
            ---
            {\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"d\"}}
            ---
            kind: ConfigMap
            apiVersion: v1
            metadata: {name: b}
        ")
        .stderr("");
}

#[test]
fn standard_input_streams_drop_empty_documents() {
    Case::new()
        .stdin("---\n# only a comment\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\n---\nkind: Service\napiVersion: v1\nmetadata: {name: b}\n...\n")
        .args(["generate", "-"])
        .run()
        .success()
        .stdout("---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\nkind: Service\napiVersion: v1\nmetadata: {name: b}\n");
}

#[test]
fn a_document_without_kind_on_standard_input_is_an_error() {
    Case::new()
        .stdin("kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\nreplicaCount: 1\n")
        .args(["generate", "-"])
        .run()
        .failure()
        .stderr("error: <stdin>: document 2: not a Kubernetes object: it has no kind\n");
}

#[test]
fn no_manifests_is_an_error_unless_allowed() {
    let why = "holds no Kubernetes manifests; printing nothing would make Argo CD delete the \
               application's resources (pass --allow-empty if an empty result is intended)";
    Case::new()
        .stdin("")
        .args(["generate", "-"])
        .run()
        .failure()
        .stderr(&format!("error: <stdin>: {why}\n"));
    Case::new()
        .file("app/values.yaml", "a: 1\n")
        .args(["generate", "app"])
        .run()
        .failure()
        .stderr(&format!("error: app: {why}\n"));
    Case::new()
        .stdin("# nothing\n")
        .args(["generate", "--allow-empty", "-"])
        .run()
        .success()
        .stdout("");
}

#[test]
fn everything_not_replaced_comes_out_byte_for_byte() {
    let name = unique("fidelity");
    OpenBao::shared().put_kv2("secret", &name, json!({"token": "t0k3n"}));
    let input = format!(
        "# Source: chart/templates/cm.yaml\r\n\
         apiVersion: v1\r\n\
         kind: ConfigMap   # trailing comment\r\n\
         metadata:\r\n  name: 'fidelity'\r\n  labels: {{zeta: \"1\", alpha: on}}\r\n\
         data:\r\n\
         \x20 mode: 0644\r\n\
         \x20 enabled: \"yes\"\r\n\
         \x20 big: \"123456789012345678901234567890\"\r\n\
         \x20 token: <path:secret/data/{name}#token>   # filled\r\n\
         \x20 script: |\r\n    #!/bin/sh\r\n    echo \"é ✓ ${{HOME}}\"\r\n\r\n\
         \x20 anchored: &a \"x\"\r\n\
         \x20 alias: *a\r\n"
    );
    let expected = format!(
        "---\n{}",
        input.replace(&format!("<path:secret/data/{name}#token>"), "\"t0k3n\"")
    );
    Case::new()
        .file("cm.yaml", &input)
        .vault(OpenBao::shared())
        .args(["generate", "cm.yaml"])
        .run()
        .success()
        .stdout(&expected);
}

#[test]
fn json_documents_stay_json() {
    let name = unique("json");
    OpenBao::shared().put_kv2("secret", &name, json!({"k": "v\"q", "n": 5}));
    Case::new()
        .file("cm.json", &format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"j\"}},\n \"data\": {{\"k\": \"<path:secret/data/{name}#k>\"}}, \"spec\": {{\"n\": \"<path:secret/data/{name}#n>\"}}}}\n"
        ))
        .vault(OpenBao::shared())
        .args(["generate", "cm.json"])
        .run()
        .success()
        .stdout("---\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"j\"},\n \"data\": {\"k\": \"v\\\"q\"}, \"spec\": {\"n\": 5}}\n");
}

/// Seeds the secret of [`large_stream`] under a fresh name and returns its path.
fn seed_large(name: &str) -> String {
    let name = unique(name);
    let data = json!({"password": "pw-large", "user": "u-large"});
    OpenBao::shared().put_kv2("secret", &name, data);
    format!("secret/data/{name}")
}

/// A stream of `count` Secrets, each reading `path` twice (generic and inline), and the same
/// stream as it must come out.
fn large_stream(path: &str, count: usize) -> (String, String) {
    let (mut input, mut output) = (String::new(), String::new());
    let filler = "x".repeat(200);
    for n in 0..count {
        let document = |password: &str, url: &str| {
            format!(
                "---\n# Source: chart/templates/secret-{n}.yaml\napiVersion: v1\nkind: Secret\n\
                 metadata:\n  name: s-{n}\n  annotations:\n    avp.kubernetes.io/path: {path}\n\
                 stringData:\n  password: {password}\n  url: {url}\n  padding: {filler}\n"
            )
        };
        input.push_str(&document(
            "<password>",
            &format!("x://<path:{path}#user>@h-{n}"),
        ));
        output.push_str(&document("\"pw-large\"", &format!("\"x://u-large@h-{n}\"")));
    }
    (input, output)
}

#[test]
fn a_stream_parsed_on_several_threads_is_filled_whole_and_in_order() {
    let path = seed_large("large");
    // Streams from 1 MiB on are cut at `---` lines and parsed on several threads.
    let (input, output) = large_stream(&path, 6000);
    assert!(input.len() > 2 << 20, "{} bytes", input.len());
    Case::new()
        .stdin(&input)
        .vault(OpenBao::shared())
        .secret("pw-large")
        .args(["generate", "-"])
        .run()
        .success()
        .stdout(&output);
}

#[test]
fn problems_anywhere_in_a_stream_parsed_on_several_threads_name_their_documents() {
    let path = seed_large("large-broken");
    let (input, _) = large_stream(&path, 6000);
    let run = |input: &str| {
        Case::new()
            .stdin(input)
            .vault(OpenBao::shared())
            .secret("pw-large")
            .args(["generate", "-"])
            .run()
    };
    // Found by the scan, before Vault: a placeholder without a key in the last document.
    let last = input.rfind("<path:").expect("a placeholder");
    let (_, rest) = input[last..].split_once('>').expect("closed");
    let broken = format!("{}<path:{path}>{rest}", &input[..last]);
    run(&broken).failure().stdout("").stderr(&format!(
        "error: <stdin>: document 6000 (Secret/s-5999) from chart/templates/secret-5999.yaml: stringData.url: <path:{path}>: missing key \
         (expected <path:PATH#KEY> or <path:PATH#KEY#VERSION>)\n"
    ));
    // Found when filling: keys Vault does not have, in the first and the last document.
    let first = input.find("<password>").expect("a placeholder");
    let last = input.rfind("<password>").expect("a placeholder");
    let mut missing = input.clone();
    missing.replace_range(last..last + "<password>".len(), "<passwd>");
    missing.replace_range(first..first + "<password>".len(), "<passwd>");
    run(&missing).failure().stdout("").stderr(&format!(
        "error: <stdin>: document 1 (Secret/s-0) from chart/templates/secret-0.yaml: stringData.password: <passwd>: key \"passwd\" not found in {path} (if \"<passwd>\" is meant as text, write it as \"\\<passwd>\")\n\
         error: <stdin>: document 6000 (Secret/s-5999) from chart/templates/secret-5999.yaml: stringData.password: <passwd>: key \"passwd\" not found in {path} (if \"<passwd>\" is meant as text, write it as \"\\<passwd>\")\n"
    ));
}

/// Issue 11, errors that teach: a file that looks like a manifest but is skipped (a `kind`
/// without `apiVersion`) while it holds placeholders is named in a warning; values files stay
/// silent.
#[test]
fn a_skipped_file_that_holds_placeholders_is_named_in_a_warning() {
    Case::new()
        .file("app/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        .file("app/b.yaml", "kind: ConfigMap\nmetadata: {name: b}\ndata: {k: <path:secret/data/x#k>}\n")
        .file("app/c.yaml", "apiVersion: v1\nmetadata: {name: c}\ndata: {k: <path:secret/data/x#k>}\n")
        .file("app/values.yaml", "image: {tag: <path:secret/data/x#y>}\n")
        .args(["generate", "app"])
        .run()
        .success()
        .stdout("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        .stderr(
            " WARN app/b.yaml: skipped, although it holds placeholders: a Kubernetes manifest needs both apiVersion and kind\n \
             WARN app/c.yaml: skipped, although it holds placeholders: a Kubernetes manifest needs both apiVersion and kind\n",
        );
}
