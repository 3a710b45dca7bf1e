//! helm as kustomize runs it for `--enable-helm`: kustomize puts a kustomization's
//! `helmCharts[].releaseName` where helm reads flags (`helm template NAME CHART ...`), so a
//! repository author's `--post-renderer=./run-me.sh` would make helm run a program of the
//! repository's; and it points helm's data folder wherever `helmGlobals.configHome` says, so a
//! repository could bring helm plugins (a downloader plugin runs its program when a chart is
//! fetched through its protocol). kustomize is pointed (`--helm-command`) at a link to this
//! binary named [`LINK_NAME`] in the render's private folder; started under that name, it refuses
//! a `template` or `pull` holding a flag kustomize does not pass itself, and otherwise hands over
//! to the real helm (found on `PATH`) with plugins looked for in an empty place.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::render::child::{self, Sandbox};

/// The name the link to this binary has in a render's private folder; started under it,
/// vaultplate is helm for kustomize.
pub(crate) const LINK_NAME: &str = "helm-for-kustomize";

/// Whether `argv0` (a program name as started) is the link.
pub(crate) fn started_as_shim(argv0: &OsString) -> bool {
    Path::new(argv0).file_name().is_some_and(|n| n == LINK_NAME)
}

/// Makes the link in `sandbox` and returns its path, for `--helm-command`.
pub(crate) fn link(sandbox: &Sandbox) -> std::io::Result<PathBuf> {
    let path = sandbox.path().join(LINK_NAME);
    std::os::unix::fs::symlink(std::env::current_exe()?, &path)?;
    Ok(path)
}

/// Runs helm with `args` (what kustomize gave; `link` is the program name it started, the link
/// in a render's private folder) once they hold no flag of a kustomization's (see [`refusal`]);
/// plugins are looked for in a folder of the render's that does not exist, whatever data folder
/// kustomize gave.
pub(crate) fn run(link: &OsStr, args: Vec<OsString>) -> ExitCode {
    if let Some(refusal) = refusal(&args) {
        let _ = writeln!(std::io::stderr(), "error: {refusal}");
        return ExitCode::from(1);
    }
    let Some(helm) = child::locate("helm") else {
        let _ = writeln!(std::io::stderr(), "error: helm is not on PATH");
        return ExitCode::from(1);
    };
    let private = Path::new(link)
        .parent()
        .unwrap_or(Path::new("/nonexistent"));
    let error = Command::new(helm)
        .arg0("helm")
        .args(args)
        .env("HELM_PLUGINS", private.join("no-helm-plugins"))
        .exec();
    let _ = writeln!(std::io::stderr(), "error: cannot run helm: {error}");
    ExitCode::from(1)
}

/// Why `args` must not reach helm, if they must not: a `template` or `pull` that holds a flag
/// kustomize does not pass itself came from a helmCharts entry (its `releaseName` or `name`,
/// which kustomize puts where helm reads flags). Flags are matched whole; a flag kustomize
/// passes takes its value along, whatever that value looks like.
fn refusal(args: &[OsString]) -> Option<String> {
    let (command, with_value, alone): (&str, &[&str], &[&str]) =
        match args.first().and_then(|a| a.to_str()) {
            Some("template") => ("template", TEMPLATE_WITH_VALUE, TEMPLATE_ALONE),
            Some("pull") => ("pull", PULL_WITH_VALUE, PULL_ALONE),
            _ => return None,
        };
    let mut rest = args[1..].iter().map(|a| a.to_string_lossy());
    while let Some(arg) = rest.next() {
        if with_value.contains(&arg.as_ref()) {
            rest.next();
        } else if arg.starts_with('-') && !alone.contains(&arg.as_ref()) {
            return Some(format!(
                "helm {command} got {arg:?} from a helmCharts entry of the kustomization (its \
                 releaseName or name), where helm would read it as a flag: a release name is \
                 lowercase letters, digits, '-' and '.', a chart name a name"
            ));
        }
    }
    None
}

/// The flags kustomize's `helm template` takes with a value (`--namespace NS`, `--values FILE`,
/// and those of other kustomize versions).
const TEMPLATE_WITH_VALUE: &[&str] = &[
    "--namespace",
    "-n",
    "--values",
    "-f",
    "--api-versions",
    "-a",
    "--kube-version",
    "--name-template",
    "--repo",
    "--version",
];

/// The flags kustomize's `helm template` takes alone.
const TEMPLATE_ALONE: &[&str] = &[
    "--generate-name",
    "--include-crds",
    "--skip-crds",
    "--no-hooks",
    "--skip-tests",
    "--skip-schema-validation",
];

/// The flags kustomize's `helm pull` takes with a value.
const PULL_WITH_VALUE: &[&str] = &["--untardir", "--repo", "--version"];

/// The flags kustomize's `helm pull` takes alone.
const PULL_ALONE: &[&str] = &["--untar"];

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn kustomize_s_arguments_pass_unless_a_kustomization_put_a_flag_in_them() {
        for ok in [
            &["version", "-c", "--short"][..],
            &["template", "shop", "/charts/demo", "--namespace", "-x"],
            &[
                "template",
                "--generate-name",
                "/charts/demo",
                "-f",
                "/t/v.yaml",
            ],
            // Another kustomize version: no release name, the namespace first.
            &[
                "template",
                "--namespace",
                "ns",
                "/charts/demo",
                "--values",
                "/t/v.yaml",
                "--generate-name",
                "--include-crds",
                "--no-hooks",
            ],
            &[
                "pull",
                "--untar",
                "--untardir",
                "/c/d-1",
                "--repo",
                "https://x",
                "d",
                "--version",
                "1",
            ],
            &[
                "pull",
                "--untar",
                "--untardir",
                "/c/d-1",
                "oci://r/c/d",
                "--version",
                "-1",
            ],
        ] {
            assert_eq!(refusal(&args(ok)), None, "{ok:?}");
        }
        for refused in [
            &["template", "--post-renderer=./run-me.sh", "/charts/demo"][..],
            &["template", "--post-renderer", "./run-me.sh", "/charts/demo"],
            &["template", "--namespace=x", "/charts/demo"],
            &[
                "pull",
                "--untar",
                "--untardir",
                "/c",
                "--repo",
                "https://x",
                "--destination=/x",
            ],
            &[
                "pull",
                "--untar",
                "--untardir",
                "/c",
                "oci://r/c/d",
                "-d",
                "/x",
            ],
        ] {
            assert!(refusal(&args(refused)).is_some(), "{refused:?}");
        }
    }

    #[test]
    fn the_link_is_known_by_its_name() {
        assert!(started_as_shim(&OsString::from(
            "/tmp/vaultplate-x/helm-for-kustomize"
        )));
        assert!(!started_as_shim(&OsString::from("vaultplate")));
    }
}
