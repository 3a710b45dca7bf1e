//! The benchmarks' workload generator (`bench/workload.py`, run by `bench/run`) is deterministic:
//! the same stream on every run and every machine, with the shape the benchmarks report, and
//! its filled variant is what `generate` prints without Vault.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::Case;

fn workload(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/workload.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap_or_else(|e| panic!("running python3 {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "workload.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// If the workload is changed on purpose, update the digest and the counts together: numbers
/// measured before and after the change are not comparable.
#[test]
fn the_benchmark_workload_is_the_same_everywhere() {
    let stream = workload(&["stream", "200"]);
    assert_eq!(stream, workload(&["stream", "200"]));
    let digest: String = Sha256::digest(stream.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "03439c40fdfd4a950f33497626cb9ef713bd2e3501b3052a6dd15879103a2586"
    );
    let stats: Value = serde_json::from_str(&workload(&["stats", "200"])).expect("JSON");
    assert_eq!(
        stats,
        json!({
            "documents": 200, "bytes": 67969, "filled_bytes": 66127, "placeholders": 200,
            "inline_placeholders": 120, "annotated_manifests": 20, "distinct_paths": 17,
            "distinct_pairs": 18, "avp_reads": 140
        })
    );
}

/// The floor of the benchmarks: the filled stream goes through unchanged, and without any
/// Vault setting.
#[test]
fn the_filled_benchmark_workload_needs_no_vault() {
    let filled = workload(&["stream", "200", "--filled"]);
    Case::new()
        .stdin(&filled)
        .args(["generate", "-"])
        .run()
        .success()
        .stdout(&filled)
        .stderr("");
}
