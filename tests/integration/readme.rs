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
    let rows: Vec<(String, String, String)> = block("parameters")
        .lines()
        .skip(2)
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect();
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|(n, t, _)| (n.as_str(), t.as_str()))
        .collect();
    let want: Vec<(&str, &str)> = PARAMS.iter().map(|p| (p.name, p.collection)).collect();
    assert_eq!(
        names, want,
        "the README's parameters table lists PARAMS in order"
    );
    for (p, (_, _, default)) in PARAMS.iter().zip(&rows) {
        if let Some(d) = p.default {
            assert_eq!(default, &format!("`\"{d}\"`"), "{}", p.name);
        }
    }
}
