//! The README's reference tables are the code's tables: a setting or modifier added, renamed or
//! re-documented in the code must be re-documented in the README too.

use vaultplate::config::settings::SETTINGS;
use vaultplate::placeholder::modifier;
use vaultplate::render::app_params::PARAMS;

const README: &str = include_str!("../../README.md");

/// The text between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn block(name: &str) -> &'static str {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let from = README
        .find(&start)
        .map(|i| i + start.len())
        .expect("start marker in README");
    let to = README[from..].find(&end).expect("end marker in README") + from;
    &README[from..to]
}

#[test]
fn settings_table_matches_the_code() {
    let mut want = String::from(
        "| setting | default | from an Application | meaning |\n| --- | --- | --- | --- |\n",
    );
    for s in SETTINGS {
        let default = s.default.map(|d| format!("`{d}`")).unwrap_or_default();
        let app = if s.application { "yes" } else { "no" };
        want.push_str(&format!(
            "| `{}` | {default} | {app} | {} |\n",
            s.name, s.doc
        ));
    }
    assert_eq!(
        block("settings"),
        want,
        "update the README's settings table to this"
    );
}

#[test]
fn modifiers_table_matches_the_code() {
    let mut want = String::from("| modifier | effect |\n| --- | --- |\n");
    for m in modifier::table() {
        want.push_str(&format!("| `{}` | {} |\n", m.usage, m.doc));
    }
    assert_eq!(
        block("modifiers"),
        want,
        "update the README's modifiers table to this"
    );
}

#[test]
fn parameters_table_matches_the_code() {
    let rows: Vec<Vec<&str>> = block("parameters")
        .lines()
        .skip(2)
        .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let names: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    let want: Vec<String> = PARAMS.iter().map(|p| format!("`{}`", p.name)).collect();
    assert_eq!(
        names, want,
        "the README's parameters table lists PARAMS, in order"
    );
    for (row, p) in rows.iter().zip(PARAMS) {
        assert_eq!(row[1], p.collection, "type of {}", p.name);
        if let Some(default) = p.default {
            assert_eq!(row[2], format!("`\"{default}\"`"), "default of {}", p.name);
        }
    }
}
