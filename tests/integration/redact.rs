//! `--redact` (a keyed mask instead of every value, for diffs in review) and `--no-resolve`
//! (placeholders left as written, no Vault at all) on `generate` and `render`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use crate::support::{Case, OpenBao, unique};

const KEY: &str = "review-key";

/// A Secret (base64 `data`, `stringData`) and a Deployment (a typed field) reading `path`.
fn manifests(path: &str) -> String {
    let data = BASE64.encode(format!("<path:{path}#password>"));
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\ndata:\n  password: {data}\n\
         stringData:\n  url: postgres://app:<path:{path}#password>@db\n  user: <path:{path}#user>\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  \
         replicas: <path:{path}#replicas>\n"
    )
}

/// Seeds `secret/data/<unique>` and returns its path.
fn seed(password: &str) -> (String, String) {
    let name = unique("redact");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"password": password, "user": "redact-user", "replicas": 3}),
    );
    (name.clone(), format!("secret/data/{name}"))
}

/// `generate` of [`manifests`] with `--redact` and the key `KEY`; its stdout.
fn redacted(path: &str, secrets: &[&str]) -> String {
    let mut case = Case::new()
        .file("app/all.yaml", &manifests(path))
        .vault(OpenBao::shared())
        .env("VAULTPLATE_REDACT_KEY", KEY)
        .args(["generate", "--redact", "app"]);
    for secret in secrets {
        case = case.secret(secret);
    }
    let out = case.run();
    out.success();
    let text = out.stdout_text().to_owned();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
        assert!(
            !text.contains(&BASE64.encode(secret)),
            "{secret} printed:\n{text}"
        );
    }
    assert!(
        saphyr_parser::Parser::new_from_str(&text).all(|event| event.is_ok()),
        "not valid YAML:\n{text}"
    );
    text
}

/// The mask of each line that has one, by the line's start.
fn masks(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("vaultplate:sha256-hmac:") || l.contains("password: \""))
        .map(str::to_owned)
        .collect()
}

#[test]
fn redacted_output_is_stable_and_changes_only_with_the_value() {
    let (name, path) = seed("redact-Pa55-one");
    let first = redacted(&path, &["redact-Pa55-one"]);
    assert_eq!(
        first,
        redacted(&path, &["redact-Pa55-one"]),
        "same key, same output"
    );
    // Every filled field holds a mask: the Secret's data base64-encoded, the typed field a
    // string, text around a value kept.
    let data = first
        .lines()
        .find_map(|l| l.strip_prefix("  password: \""))
        .expect("data.password")
        .trim_end_matches('"');
    let decoded = String::from_utf8(BASE64.decode(data).expect("base64 data")).expect("UTF-8");
    assert!(
        decoded.starts_with("vaultplate:sha256-hmac:") && decoded.len() == 35,
        "{decoded}"
    );
    assert!(
        first.contains("  url: \"postgres://app:vaultplate:sha256-hmac:"),
        "{first}"
    );
    assert!(
        first.contains("  replicas: \"vaultplate:sha256-hmac:"),
        "{first}"
    );

    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"password": "redact-Pa55-two", "user": "redact-user", "replicas": 3}),
    );
    let second = redacted(&path, &["redact-Pa55-one", "redact-Pa55-two"]);
    let (before, after) = (masks(&first), masks(&second));
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.split(':').next().unwrap_or_default().trim().to_owned())
        .collect();
    assert_eq!(changed, ["password", "url"], "{first}\n{second}");
}

#[test]
fn without_a_key_each_run_masks_differently() {
    let (_, path) = seed("redact-random-Pa55");
    let run = || {
        let out = Case::new()
            .file("all.yaml", &manifests(&path))
            .vault(OpenBao::shared())
            .secret("redact-random-Pa55")
            .args(["generate", "--redact", "all.yaml"])
            .run();
        out.success();
        assert!(!out.stdout_text().contains("redact-random-Pa55"));
        out.stdout_text().to_owned()
    };
    assert_ne!(run(), run());
}

#[test]
fn helm_gets_masks_and_a_chart_that_hashes_a_value_shows_a_stable_result() {
    let (_, path) = seed("redact-helm-Pa55");
    let run = || {
        let out = Case::new()
            .file(
                "app/Chart.yaml",
                "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
            )
            .file("app/values.yaml", &format!("pw: <path:{path}#password>\n"))
            .file(
                "app/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  \
                 pw: {{ .Values.pw | quote }}\n  sum: {{ .Values.pw | sha256sum | quote }}\n",
            )
            .vault(OpenBao::shared())
            .env("VAULTPLATE_REDACT_KEY", KEY)
            .secret("redact-helm-Pa55")
            .cwd("app")
            .args(["render", "--redact"])
            .run();
        out.success()
            .stdout_contains("  pw: \"vaultplate:sha256-hmac:");
        out.stdout_text().to_owned()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(!first.contains("redact-helm-Pa55"), "{first}");
}

#[test]
fn an_application_cannot_choose_the_redact_key() {
    // A key the Application knows would let its author test guesses against the masks.
    let (_, path) = seed("redact-app-Pa55");
    let run = |env: Option<&str>| {
        let mut case = Case::new()
            .file("all.yaml", &manifests(&path))
            .vault(OpenBao::shared())
            .env("VAULTPLATE_REDACT_KEY", KEY)
            .secret("redact-app-Pa55")
            .args(["generate", "--redact", "all.yaml"]);
        if let Some(key) = env {
            case = case.env("ARGOCD_ENV_VAULTPLATE_REDACT_KEY", key);
        }
        let out = case.run();
        out.success();
        (out.stdout_text().to_owned(), out.stderr_text().to_owned())
    };
    let (plain, _) = run(None);
    let (overridden, warning) = run(Some("attacker-key"));
    assert_eq!(plain, overridden);
    assert!(
        warning.contains("ignoring ARGOCD_ENV_VAULTPLATE_REDACT_KEY"),
        "{warning}"
    );
    assert!(
        !warning.contains(KEY) && !warning.contains("attacker-key"),
        "{warning}"
    );
}

#[test]
fn a_redacted_render_fails_where_the_real_one_would_and_prints_nothing() {
    let (_, path) = seed("redact-fail-Pa55");
    Case::new()
        .file(
            "s.yaml",
            &format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  p: <path:{path}#password>\n  \
                 q: <path:{path}#absent>\n"
            ),
        )
        .vault(OpenBao::shared())
        .secret("redact-fail-Pa55")
        .args(["generate", "--redact", "s.yaml"])
        .run()
        .failure()
        .stderr_contains("the value is not base64")
        .stderr_contains("key \"absent\" not found");
}

#[test]
fn redact_and_no_resolve_exclude_each_other() {
    Case::new()
        .file(
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .args(["generate", "--redact", "--no-resolve", "a.yaml"])
        .run()
        .code(2)
        .stderr_contains("cannot be used with");
}

#[test]
fn no_resolve_leaves_placeholders_and_contacts_no_vault() {
    let bao = OpenBao::shared();
    let (_, path) = seed("no-resolve-Pa55");
    let text = manifests(&path);
    // An unreachable address and no credentials: nothing needs them.
    Case::new()
        .file("app/all.yaml", &text)
        .env("VAULT_ADDR", "http://127.0.0.1:9")
        .args(["generate", "--no-resolve", "app"])
        .run()
        .success()
        .stdout(&format!("---\n{text}"));
    // A real server with a token: not one request reaches it.
    let before = bao.reads(&path);
    Case::new()
        .file("repo/app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
        .file("repo/app/values.yaml", &format!("pw: <path:{path}#password>\n"))
        .file(
            "repo/app/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  pw: {{ .Values.pw | quote }}\n",
        )
        .file("repo/app/templates/all.yaml", &text.replace("{{", "x"))
        .vault(bao)
        .cwd("repo/app")
        .args(["render", "--no-resolve"])
        .run()
        .success()
        .stdout_contains(&format!("  pw: \"<path:{path}#password>\"\n"))
        .stdout_contains(&format!("  replicas: <path:{path}#replicas>\n"));
    assert_eq!(bao.reads(&path), before, "--no-resolve read from Vault");
}

/// Generated streams (every kind of field, inline and generic placeholders, modifier chains
/// that work and that fail) through `generate --redact` and plain `generate`: a redacted
/// output never holds a value, not as written, in base64, nor inside any base64 text it holds;
/// and no error of either mode shows one (the harness checks stderr for every value).
#[test]
fn generated_streams_never_show_a_value_when_redacted_nor_in_errors() {
    let mut rng = Rng(0x5eed);
    let mut fresh = |what: &str| format!("{what}{:012x}", rng.next() >> 16);
    let (token, first, second) = (fresh("tok"), fresh("first"), fresh("second"));
    let (inner, decoded, yaml_value, special) =
        (fresh("inner"), fresh("decoded"), fresh("yaml"), fresh("sp"));
    let name = unique("redact-gen");
    let path = format!("secret/data/{name}");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({
            "token": token,
            "multi": format!("{first}\n{second}\n"),
            "json": format!("{{\"inner\": \"{inner}\", \"n\": 7}}"),
            "b64": BASE64.encode(&decoded),
            "yamlish": format!("key: {yaml_value}\nlist: [a, b]\n"),
            "special": format!("{special}: #{{}}[]'\" |> \\"),
            "number": 42,
        }),
    );
    let needles = [token, first, second, inner, decoded, yaml_value, special];
    let mut redacted_runs = 0;
    let mut failed_runs = 0;
    for case in 0..40 {
        let stream = generated_stream(&mut rng, &path);
        for redact in [true, false] {
            let args = if redact {
                vec!["generate", "--redact", "app"]
            } else {
                vec!["generate", "app"]
            };
            let mut run = Case::new()
                .file("app/all.yaml", &stream)
                .vault(OpenBao::shared())
                .env("VAULTPLATE_REDACT_KEY", KEY)
                .args(args);
            for needle in &needles {
                run = run.secret(needle);
            }
            let out = run.run();
            assert!(
                !out.stderr_text().contains("invalid YAML"),
                "the generator wrote\n{stream}"
            );
            if !out.succeeded() {
                failed_runs += 1;
                continue;
            }
            if !redact {
                continue;
            }
            redacted_runs += 1;
            let text = out.stdout_text();
            for needle in &needles {
                let shown = text.contains(needle.as_str())
                    || text.contains(&BASE64.encode(needle))
                    || decoded_runs(text)
                        .iter()
                        .any(|d| d.contains(needle.as_str()));
                assert!(
                    !shown,
                    "case {case}: {needle} shown in the redacted output of\n{stream}\n---- output:\n{text}"
                );
            }
        }
    }
    // The streams reach both endings: otherwise the property would hold vacuously.
    assert!(
        redacted_runs >= 10 && failed_runs >= 10,
        "{redacted_runs} redacted, {failed_runs} failed"
    );
}

/// Keys of the seeded secret with modifiers that work on their values.
const WORKING: &[(&str, &str)] = &[
    ("token", ""),
    ("token", " | base64encode"),
    ("token", " | sha256sum"),
    ("multi", ""),
    ("multi", " | indent 4"),
    ("multi", " | base64encode"),
    ("json", ""),
    ("json", " | jsonPath {.inner}"),
    ("json", " | jsonParse | jsonPath {.inner}"),
    ("b64", ""),
    ("b64", " | base64decode"),
    ("yamlish", ""),
    ("yamlish", " | yamlParse | jsonPath {.key}"),
    ("special", ""),
    ("special", " | base64encode | base64decode"),
    ("number", ""),
];

/// Keys and modifiers that fail: a missing key, text that is not JSON or not base64, a map
/// where text is wanted.
const FAILING: &[(&str, &str)] = &[
    ("missing", ""),
    ("yamlish", " | jsonParse"),
    ("token", " | base64decode"),
    ("json", " | jsonParse"),
];

/// A stream of one to three manifests (Secret `stringData` or `data`, ConfigMap, Deployment
/// annotations) whose fields hold placeholders of the secret at `path`, as the whole value,
/// inside text, quoted, or in a block scalar; one placeholder in about eight fails.
fn generated_stream(rng: &mut Rng, path: &str) -> String {
    let mut stream = String::new();
    for doc in 0..=rng.below(3) {
        let generic = rng.below(3) == 0;
        let placeholder = |rng: &mut Rng, encode: bool| {
            let table = if rng.below(8) == 0 { FAILING } else { WORKING };
            let (key, chain) = table[rng.below(table.len())];
            let encode = if encode { " | base64encode" } else { "" };
            if generic {
                format!("<{key}{chain}{encode}>")
            } else {
                format!("<path:{path}#{key}{chain}{encode}>")
            }
        };
        let fields = |rng: &mut Rng, indent: usize| {
            let pad = " ".repeat(indent);
            let mut fields = String::new();
            for field in 0..=rng.below(3) {
                let ph = placeholder(rng, false);
                let value = match rng.below(5) {
                    0 => format!("\"pre-{ph}-post\""),
                    1 => format!("|\n{pad}  line {ph}\n{pad}  end"),
                    2 => format!("'{ph}'"),
                    _ => ph,
                };
                fields.push_str(&format!("{pad}f{field}: {value}\n"));
            }
            fields
        };
        let metadata = if generic {
            format!(
                "metadata:\n  name: m{doc}\n  annotations:\n    avp.kubernetes.io/path: {path}\n"
            )
        } else {
            format!("metadata:\n  name: m{doc}\n")
        };
        let manifest = match rng.below(4) {
            0 => format!(
                "apiVersion: v1\nkind: Secret\n{metadata}stringData:\n{}",
                fields(rng, 2)
            ),
            1 => {
                let inside = BASE64.encode(format!("x {} y", placeholder(rng, false)));
                let encoded = placeholder(rng, true);
                format!(
                    "apiVersion: v1\nkind: Secret\n{metadata}data:\n  a: {inside}\n  b: {encoded}\n"
                )
            }
            2 => format!(
                "apiVersion: v1\nkind: ConfigMap\n{metadata}data:\n{}",
                fields(rng, 2)
            ),
            _ => format!(
                "apiVersion: apps/v1\nkind: Deployment\n{metadata}spec:\n  template:\n    metadata:\n      annotations:\n{}",
                fields(rng, 8)
            ),
        };
        stream.push_str("---\n");
        stream.push_str(&manifest);
    }
    stream
}

/// The text of every run of base64 characters in `text` that decodes.
fn decoded_runs(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
        .filter(|run| run.len() >= 12)
        .filter_map(|run| BASE64.decode(run).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}

/// SplitMix64: the same streams on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or_default()
    }
}
