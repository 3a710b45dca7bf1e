//! The reference part of `--help`: placeholder forms, modifiers (from the modifier table) and
//! the main settings (from the settings table), so the help can never drift from the code.

use std::fmt::Write as _;

use crate::config::settings;
use crate::placeholder::modifier;

/// The settings `--help` lists: what a first run needs. The README has all of them.
const MAIN_SETTINGS: &[&str] = &[
    "VAULT_ADDR",
    "AVP_AUTH_TYPE",
    "VAULT_TOKEN",
    "AVP_ROLE_ID",
    "AVP_SECRET_ID",
    "AVP_K8S_ROLE",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "AVP_KV_VERSION",
];

/// The text shown after the options in `--help`.
pub(crate) fn reference() -> String {
    let mut out = String::from(
        "Placeholders (in string values of manifests):\n  \
         <path:secret/data/app#key>     key of the secret at that Vault path (KV v2 paths have data/)\n  \
         <path:secret/data/app#key#3>   the same from version 3\n  \
         <key>                          key of the secret named by the avp.kubernetes.io/path annotation\n  \
         <... | modifier | modifier>    modifiers applied left to right\n  \
         \\<key>                         printed literally as <key>\n\
         \nModifiers:\n",
    );
    for spec in modifier::table() {
        let _ = writeln!(out, "  {:<16} {}", spec.usage, spec.doc);
    }
    out.push_str(
        "\nMain settings (environment, --config-path or --secret-name; all in the README):\n",
    );
    for name in MAIN_SETTINGS {
        if let Some(spec) = settings::spec(name) {
            let default = spec
                .default
                .map(|d| format!(" [default: {d}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<16} {}{default}", spec.name, plain(spec.doc));
        }
    }
    out
}

/// A table doc line without its Markdown: backticks dropped, `[text](#anchor)` as `text`.
fn plain(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| i + open) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|i| i + close) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_dropped_from_docs() {
        assert_eq!(
            plain("method: `token` (see [Logging in](#logging-in))."),
            "method: token (see Logging in)."
        );
        assert_eq!(plain("a [b] c"), "a [b] c");
    }

    #[test]
    fn every_main_setting_is_a_setting() {
        for name in MAIN_SETTINGS {
            assert!(settings::spec(name).is_some(), "{name}");
        }
    }
}
