//! The command line itself: help and version.

use vaultplate::placeholder::modifier;

use crate::support::Case;

#[test]
fn help_shows_placeholder_forms_modifiers_and_main_settings() {
    for args in [
        &["--help"][..],
        &["help"],
        &["generate", "--help"],
        &["help", "render"],
    ] {
        let outcome = Case::new().args(args).run();
        outcome.success().stderr("");
        let help = outcome.stdout_text();
        for form in [
            "<path:secret/data/app#key>",
            "<path:secret/data/app#key#3>",
            "<key>",
            "\\<key>",
        ] {
            assert!(help.contains(form), "{args:?}: no {form} in\n{help}");
        }
        for spec in modifier::table() {
            assert!(
                help.contains(spec.usage),
                "{args:?}: no {} in\n{help}",
                spec.usage
            );
        }
        for setting in [
            "VAULT_ADDR",
            "AVP_AUTH_TYPE",
            "VAULT_TOKEN",
            "AVP_KV_VERSION",
        ] {
            assert!(help.contains(setting), "{args:?}: no {setting} in\n{help}");
        }
    }
}

#[test]
fn help_subcommand_names_each_command() {
    Case::new()
        .args(["help"])
        .run()
        .success()
        .stdout_contains("Usage: vaultplate <COMMAND>");
    Case::new()
        .args(["help", "generate"])
        .run()
        .success()
        .stdout_contains("Usage: vaultplate generate [OPTIONS] <PATH>");
}

#[test]
fn version_flag_prints_the_commit_like_the_version_command() {
    let command = Case::new().args(["version"]).run();
    command.success();
    let flag = Case::new().args(["--version"]).run();
    flag.success().stdout(command.stdout_text());
    assert!(
        flag.stdout_text().contains("(commit "),
        "{}",
        flag.stdout_text()
    );
}
