//! A file that ends without a line break, inside a block scalar: the scalar's value must not
//! gain a trailing `\n` on the way through (issue 11, item 8).

use serde_json::json;

use crate::support::{Case, OpenBao, unique};

const HEAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n";

#[test]
fn block_scalar_at_the_end_without_a_line_break_comes_out_byte_identical() {
    let input = format!("{HEAD}  s: |\n    echo hi");
    Case::new()
        .file("a.yaml", &input)
        .args(["generate", "a.yaml"])
        .run()
        .success()
        .stdout(&format!("---\n{input}"));
}

#[test]
fn block_scalar_without_a_line_break_followed_by_a_document_strips_instead() {
    let input = format!("{HEAD}  s: |\n    echo hi");
    Case::new()
        .file("app/a.yaml", &input)
        .file("app/b.yaml", &input)
        .args(["generate", "app"])
        .run()
        .success()
        .stdout(&format!("---\n{HEAD}  s: |-\n    echo hi\n---\n{input}"));
}

#[test]
fn filled_block_scalar_without_a_line_break_gains_none() {
    let name = unique("fidelity-block");
    OpenBao::shared().put_kv2("secret", &name, json!({"k": "abc"}));
    Case::new()
        .file(
            "a.yaml",
            &format!("{HEAD}  s: |\n    <path:secret/data/{name}#k>"),
        )
        .vault(OpenBao::shared())
        .args(["generate", "a.yaml"])
        .run()
        .success()
        .stdout(&format!("---\n{HEAD}  s: |-\n    abc\n"));
}
