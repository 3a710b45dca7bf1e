//! The engine without a server: manifests in, secrets from memory ([`MemorySecrets`]), the
//! whole output or every problem out. One table per rule of substitution; the tests through
//! the binary against OpenBao show the same rules end to end.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::check::{Ledger, Status, summary};
use super::generate::fill_inputs;
use super::mode::{FillMode, Resolution};
use super::redact::RedactKey;
use super::source::{Input, InputKind};
use crate::config::Config;
use crate::placeholder::secret_ref::KvVersion;
use crate::secrets::memory::MemorySecrets;
use crate::sensitive::Sensitive;

/// The secrets every case reads from.
fn secrets() -> MemorySecrets {
    MemorySecrets::default()
        .with(
            "secret/data/app",
            json!({
                "user": "alice",
                "password": "s3cr3t-p4ss",
                "replicas": 3,
                "debug": true,
                "port": 5432,
                "nested": {"a": 1},
                "multi": "line one\nline two",
                "encoded": "YWxpY2U=",
            }),
        )
        .with("secret/data/other", json!({"token": "t0k3n-value"}))
}

/// A config as a run without any setting has it.
fn config() -> Config {
    Config::resolve(BTreeMap::new(), None, None).expect("defaults resolve")
}

/// Fills `text` as one file; the printed stream, or every problem as its stderr line.
fn fill(text: &str, reader: &mut MemorySecrets) -> Result<String, Vec<String>> {
    fill_with(text, reader, &FillMode::default())
}

/// Fills `text` as one file in `mode`.
fn fill_with(
    text: &str,
    reader: &mut MemorySecrets,
    mode: &FillMode,
) -> Result<String, Vec<String>> {
    let input = Input {
        name: "in.yaml".into(),
        text: text.into(),
        origin: InputKind::File,
    };
    let config = config();
    match fill_inputs(vec![input], "in.yaml", false, &config, reader, mode) {
        Ok(output) => {
            let mut out = Vec::new();
            output.write_to(&mut out).expect("written to memory");
            Ok(String::from_utf8(out).expect("UTF-8 output"))
        }
        Err(problems) => Err(problems.iter().map(ToString::to_string).collect()),
    }
}

fn config_map(data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n{data}")
}

fn secret(annotations: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n{annotations}{data}"
    )
}

fn b64(text: &str) -> String {
    BASE64.encode(text)
}

#[test]
fn values_are_filled_where_placeholders_are() {
    let annotated = |body: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    \
             avp.kubernetes.io/path: secret/data/app\ndata:\n{body}"
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "an inline placeholder",
            config_map("  user: <path:secret/data/app#user>\n"),
            "  user: \"alice\"\n",
        ),
        (
            "text around several placeholders",
            config_map("  url: db://<path:secret/data/app#user>@h:<path:secret/data/app#port>\n"),
            "  url: \"db://alice@h:5432\"\n",
        ),
        (
            "a generic key under the path annotation",
            annotated("  user: <user>\n"),
            "  user: \"alice\"\n",
        ),
        (
            "whitespace around the parts",
            config_map("  user: '< path: secret/data/app # user >'\n"),
            "  user: \"alice\"\n",
        ),
        (
            "a leading slash is the same path",
            config_map("  user: <path:/secret/data/app#user>\n"),
            "  user: \"alice\"\n",
        ),
        (
            "an escaped placeholder stays as written, without its backslash",
            config_map("  doc: \\<path:secret/data/app#user>\n"),
            "  doc: \"<path:secret/data/app#user>\"\n",
        ),
        (
            "an escaped placeholder beside one to fill",
            config_map("  t: a \\<path:secret/data/app#user> b <path:secret/data/app#user> c\n"),
            "  t: \"a <path:secret/data/app#user> b alice c\"\n",
        ),
        (
            "a generic-looking word without the annotation is text",
            config_map("  html: <b>\n"),
            "  html: <b>\n",
        ),
        (
            "a modifier",
            config_map("  user: <path:secret/data/app#user | base64encode>\n"),
            "  user: \"YWxpY2U=\"\n",
        ),
        (
            "modifiers left to right",
            config_map("  user: <path:secret/data/app#encoded | base64decode | base64encode>\n"),
            "  user: \"YWxpY2U=\"\n",
        ),
        (
            "a number in a ConfigMap becomes text",
            config_map("  port: <path:secret/data/app#port>\n"),
            "  port: \"5432\"\n",
        ),
        (
            "a bool in a ConfigMap becomes text",
            config_map("  debug: <path:secret/data/app#debug>\n"),
            "  debug: \"true\"\n",
        ),
        (
            "a multi-line value into a block scalar keeps its lines",
            config_map("  text: |\n    <path:secret/data/app#multi>\n"),
            "  text: |\n    line one\n    line two\n",
        ),
    ];
    for (what, text, expected) in cases {
        let output = fill(&text, &mut secrets()).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(
            output.ends_with(&format!("data:\n{expected}")),
            "{what}: {output:?} should end with {expected:?}"
        );
    }
}

#[test]
fn a_whole_placeholder_takes_the_type_of_its_value_outside_secrets_and_config_maps() {
    let deployment = |field: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  {field}\n")
    };
    for (field, expected) in [
        ("replicas: <path:secret/data/app#replicas>", "replicas: 3"),
        ("paused: <path:secret/data/app#debug>", "paused: true"),
        ("text: x<path:secret/data/app#replicas>", "text: \"x3\""),
        ("obj: <path:secret/data/app#nested>", "obj: {\"a\": 1}"),
    ] {
        let output = fill(&deployment(field), &mut secrets()).expect(field);
        assert!(
            output.contains(&format!("  {expected}\n")),
            "{field}: {output}"
        );
    }
}

#[test]
fn secret_data_holds_base64() {
    let placeholder = b64("<path:secret/data/app#user>");
    let cases = [
        (
            "a base64-encoded placeholder is decoded, filled and encoded again",
            format!("data:\n  user: {placeholder}\n"),
            format!("  user: \"{}\"\n", b64("alice")),
        ),
        (
            "a raw placeholder with base64encode",
            "data:\n  user: <path:secret/data/app#user | base64encode>\n".to_owned(),
            format!("  user: \"{}\"\n", b64("alice")),
        ),
        (
            "stringData takes text",
            "stringData:\n  user: <path:secret/data/app#user>\n".to_owned(),
            "  user: \"alice\"\n".to_owned(),
        ),
        (
            "a number under stringData becomes text",
            "stringData:\n  port: <path:secret/data/app#port>\n".to_owned(),
            "  port: \"5432\"\n".to_owned(),
        ),
    ];
    for (what, data, expected) in cases {
        let output = fill(&secret("    a: b\n", &data), &mut secrets())
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(output.ends_with(&expected), "{what}: {output}");
    }
}

#[test]
fn faults_are_errors_that_name_the_place_and_never_the_value() {
    let cases = [
        (
            "a missing key",
            config_map("  user: <path:secret/data/app#nope>\n"),
            "in.yaml (ConfigMap/cm): data.user: <path:secret/data/app#nope>:",
            "nope",
        ),
        (
            "a missing secret",
            config_map("  user: <path:secret/data/missing#user>\n"),
            "in.yaml (ConfigMap/cm): data.user: <path:secret/data/missing#user>:",
            "secret/data/missing",
        ),
        (
            "a raw value that is not base64 under Secret data",
            secret("    a: b\n", "data:\n  user: <path:secret/data/app#user>\n"),
            "in.yaml (Secret/s): data.user: ",
            "base64encode",
        ),
        (
            "a map into a ConfigMap",
            config_map("  obj: <path:secret/data/app#nested>\n"),
            "in.yaml (ConfigMap/cm): data.obj: ",
            "map",
        ),
        (
            "a Vault system path",
            config_map("  t: <path:auth/token/lookup-self#id>\n"),
            "in.yaml",
            "auth/",
        ),
        (
            "a directive line with non-ASCII text, which the parser miscounts",
            format!(
                "%X \u{e9}\n---\n{}",
                config_map("  t: <path:secret/data/app#user>\n")
            ),
            "in.yaml: invalid YAML at line 2",
            "directive",
        ),
        (
            "an unknown modifier",
            config_map("  t: <path:secret/data/app#user | shout>\n"),
            "in.yaml",
            "shout",
        ),
    ];
    for (what, text, place, hint) in cases {
        let problems = fill(&text, &mut secrets()).expect_err(what);
        let all = problems.join("\n");
        assert!(all.contains(place), "{what}: {all}");
        assert!(all.contains(hint), "{what} should mention {hint:?}: {all}");
        for value in ["alice", "s3cr3t-p4ss", "YWxpY2U="] {
            assert!(!all.contains(value), "{what} shows a value: {all}");
        }
    }
}

#[test]
fn nothing_is_printed_unless_every_manifest_is_filled() {
    let text = format!(
        "{}---\n{}",
        config_map("  user: <path:secret/data/app#user>\n"),
        config_map("  user: <path:secret/data/app#nope>\n")
    );
    let problems = fill(&text, &mut secrets()).expect_err("one manifest fails");
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn each_distinct_secret_is_read_once_with_the_version_and_kv_version_it_asks_for() {
    let text = format!(
        "{}---\n{}---\n{}",
        config_map("  a: <path:secret/data/app#user>\n  b: <path:secret/data/app#password>\n"),
        config_map("  c: <path:secret/data/app#user#2>\n  d: <path:secret/data/other#token>\n"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v1\n  annotations:\n    \
         avp.kubernetes.io/kv-version: \"1\"\ndata:\n  e: <path:secret/data/other#token>\n",
    );
    let mut reader = secrets();
    fill(&text, &mut reader).expect("filled");
    let mut reads: Vec<(String, Option<u64>, KvVersion)> = reader
        .reads
        .iter()
        .map(|r| (r.path.clone(), r.version, r.kv))
        .collect();
    reads.sort();
    assert_eq!(
        reads,
        [
            ("secret/data/app".to_owned(), None, KvVersion::V2),
            ("secret/data/app".to_owned(), Some(2), KvVersion::V2),
            ("secret/data/other".to_owned(), None, KvVersion::V1),
            ("secret/data/other".to_owned(), None, KvVersion::V2),
        ]
    );
}

#[test]
fn annotations_decide_what_is_read_and_kept() {
    let ignored = secret(
        "    avp.kubernetes.io/ignore: \"true\"\n",
        "stringData:\n  user: <path:secret/data/app#user>\n",
    );
    let mut reader = secrets();
    let output = fill(&ignored, &mut reader).expect("printed untouched");
    assert!(
        output.contains("  user: <path:secret/data/app#user>\n"),
        "{output}"
    );
    assert!(reader.reads.is_empty(), "an ignored manifest reads nothing");

    let remove_missing = secret(
        "    avp.kubernetes.io/path: secret/data/app\n    avp.kubernetes.io/remove-missing: \"true\"\n",
        "stringData:\n  user: <user>\n  gone: <gone>\n",
    );
    let output = fill(&remove_missing, &mut secrets()).expect("missing key dropped");
    assert!(
        output.ends_with("stringData:\n  user: \"alice\"\n"),
        "{output}"
    );

    let missing_secret = secret(
        "    avp.kubernetes.io/path: secret/data/missing\n    avp.kubernetes.io/remove-missing: \"true\"\n",
        "stringData:\n  user: <user>\n",
    );
    let problems = fill(&missing_secret, &mut secrets()).expect_err("a missing secret");
    assert!(
        problems.join("\n").contains("secret/data/missing"),
        "{problems:?}"
    );

    let wrong_kind = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n    \
                      avp.kubernetes.io/remove-missing: \"true\"\nspec: {}\n";
    let problems = fill(wrong_kind, &mut secrets()).expect_err("not a Secret or ConfigMap");
    assert!(
        problems.join("\n").contains("remove-missing"),
        "{problems:?}"
    );
}

#[test]
fn untouched_bytes_stay_as_written() {
    let text = "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}  # same line\ndata:\n  \
                zeta: 'quoted'\n  alpha: <path:secret/data/app#user>\n  list: [1, 2]\n";
    let output = fill(text, &mut secrets()).expect("filled");
    let expected = text.replace("<path:secret/data/app#user>", "\"alice\"");
    assert_eq!(output, format!("---\n{expected}"));
}

#[test]
fn an_input_without_manifests_is_an_error_unless_allowed() {
    let problems = fill("a: b\n", &mut secrets()).expect_err("no manifests");
    assert!(problems[0].contains("--allow-empty"), "{problems:?}");
}

#[test]
fn a_value_of_every_json_type_is_accepted_by_the_reader() {
    // The reader hands the engine JSON maps; a value of each type reaches a field intact.
    let value: Value = json!({"s": "x", "n": 1.5, "b": false, "l": [1], "m": {}});
    let mut reader = MemorySecrets::default().with("kv/data/t", value);
    let output = fill(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  a: <path:kv/data/t#n>\n  b: <path:kv/data/t#l>\n",
        &mut reader,
    )
    .expect("filled");
    assert!(output.ends_with("  a: 1.5\n  b: [1]\n"), "{output}");
}

/// A file saved with a byte order mark: a block scalar whose new value starts with blanks gets
/// an indentation indicator counted from column 0, not from after the mark (found by fuzzing).
#[test]
fn a_block_scalar_in_a_file_with_a_byte_order_mark_reads_back_as_its_value() {
    let text = "\u{feff}apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nnote: |\n  <path:kv/data/t#v>\nafter: x\n";
    let mut reader =
        MemorySecrets::default().with("kv/data/t", json!({"v": "  indented\n  lines\n"}));
    let output = fill(text, &mut reader).expect("filled");
    let docs = crate::yaml::parse_stream(&output).expect("the output parses");
    let root = docs[0].root.as_ref().expect("a root");
    let note = root.get("note").and_then(crate::yaml::Node::as_scalar);
    // The value, then the block's own final line break, which the placeholder's text had.
    assert_eq!(note, Some("  indented\n  lines\n\n"), "{output:?}");
}

/// A redacting mode with a fixed key.
fn redacting() -> FillMode {
    FillMode {
        resolution: Resolution::Masks(RedactKey::new(Sensitive::new("k"))),
        ledger: None,
    }
}

#[test]
fn redact_writes_a_mask_of_each_value_that_fits_the_field() {
    let key = RedactKey::new(Sensitive::new("k"));
    let placeholder = b64("<path:secret/data/app#user>");
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  \
                      replicas: <path:secret/data/app#replicas>\n";
    let cases = [
        (
            "text keeps what surrounds the value",
            config_map("  url: db://<path:secret/data/app#user>@h\n"),
            format!("  url: \"db://{}@h\"\n", key.mask("alice")),
        ),
        (
            "Secret data holds the mask base64-encoded",
            secret("    a: b\n", &format!("data:\n  user: {placeholder}\n")),
            format!("  user: \"{}\"\n", b64(&key.mask("alice"))),
        ),
        (
            "a value encoded by a modifier is masked as it is written, base64-encoded",
            secret(
                "    a: b\n",
                "data:\n  user: <path:secret/data/app#user | base64encode>\n",
            ),
            format!("  user: \"{}\"\n", b64(&key.mask("YWxpY2U="))),
        ),
        (
            "a typed placeholder yields a string mask",
            deployment.to_owned(),
            format!("  replicas: \"{}\"\n", key.mask("3")),
        ),
    ];
    for (what, text, expected) in cases {
        let output = fill_with(&text, &mut secrets(), &redacting())
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(output.ends_with(&expected), "{what}: {output}");
        assert!(
            !output.contains("alice") && !output.contains(&b64("alice")),
            "{output}"
        );
    }
    // The real value is still checked: a redacted render fails where a real one would.
    let not_base64 = secret("    a: b\n", "data:\n  user: <path:secret/data/app#user>\n");
    assert!(fill_with(&not_base64, &mut secrets(), &redacting()).is_err());
}

#[test]
fn no_resolve_leaves_placeholders_and_reads_nothing() {
    let mode = FillMode {
        resolution: Resolution::AsWritten,
        ledger: None,
    };
    let text = config_map("  user: <path:secret/data/app#user>\n  x: <path:secret/data/gone#k>\n");
    let mut reader = secrets();
    assert_eq!(
        fill_with(&text, &mut reader, &mode),
        Ok(format!("---\n{text}"))
    );
    assert!(reader.reads.is_empty());
}

#[test]
fn the_ledger_notes_every_placeholder_outcome_without_values() {
    let mode = FillMode {
        resolution: Resolution::Values,
        ledger: Some(Ledger::default()),
    };
    let text = format!(
        "{}---\n{}",
        config_map(
            "  a: <path:secret/data/app#user>\n  b: <path:secret/data/app#nope>\n  \
             c: <path:secret/data/gone#k>\n  d: <path:secret/data/app#user | base64decode>\n  \
             e: <path:secret/data/app#nested>\n"
        ),
        secret(
            "    avp.kubernetes.io/remove-missing: \"true\"\n",
            "stringData:\n  f: <path:secret/data/app#nope>\n"
        ),
    );
    assert!(fill_with(&text, &mut secrets(), &mode).is_err());
    let entries = mode.ledger.expect("ledger").into_entries();
    let statuses: Vec<(&str, Status)> = entries
        .iter()
        .map(|e| (e.field.as_str(), e.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("data.a", Status::Ok),
            ("data.b", Status::MissingKey),
            ("data.c", Status::MissingSecret),
            ("data.d", Status::Modifier),
            ("data.e", Status::Field),
            ("stringData.f", Status::Removed),
        ]
    );
    let first = &entries[0];
    assert_eq!(
        (first.file.as_str(), first.document, first.kind.as_str()),
        ("in.yaml", Some(1), "ConfigMap")
    );
    assert_eq!(
        (first.path.as_str(), first.key.as_str()),
        ("secret/data/app", "user")
    );
    let json = serde_json::to_string(&entries).expect("json");
    assert!(!json.contains("alice"), "{json}");
    assert_eq!(
        summary(&entries),
        "6 placeholders over 2 secrets in 2 manifests: 4 did not resolve"
    );
}

#[test]
fn a_stream_parsed_in_pieces_fills_every_document_from_its_own_piece() {
    // Over 1 MiB: parsed in pieces on several threads, each with its own table of sites. Tabs
    // after colons near the end make that piece's parse start again, with a fresh table.
    // Values come from plain, quoted (pointing into the stream) and escaped (copied) scalars.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 1_150_000 {
        let colon = if n >= 4500 { ":\t" } else { ": " };
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{n}\ndata:\n  \
             user{colon}<path:secret/data/app#user>\n  quoted: \"x-<path:secret/data/other#token>\"\n  \
             escaped: \"\\u0078<path:secret/data/app#port>\"\n"
        ));
        n += 1;
    }
    let out = fill(&text, &mut secrets()).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(out.matches("\"alice\"").count(), n);
    assert_eq!(out.matches("\"x-t0k3n-value\"").count(), n);
    assert_eq!(out.matches("\"x5432\"").count(), n);
    assert!(!out.contains("<path:"));
}
