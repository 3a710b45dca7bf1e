//! helm as kustomize runs it for `--enable-helm`: kustomize puts a kustomization's
//! `helmCharts[].releaseName` where helm reads flags (`helm template NAME CHART ...`), so a
//! repository author's `--post-renderer=./run-me.sh` would make helm run a program of the
//! repository's; and it points helm's data folder wherever `helmGlobals.configHome` says, so a
//! repository could bring helm plugins (a downloader plugin runs its program when a chart is
//! fetched through its protocol). kustomize is pointed (`--helm-command`) at a link to this
//! binary named [`LINK_NAME`] in the render's private folder; started under that name, it checks
//! the release name (and that `pull` gets no flag of the kustomization's) and hands over to the
//! real helm (found on `PATH`) with plugins looked for in an empty place, or refuses.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::render::child::{self, Sandbox};
use crate::render::helm::is_release_name;

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
/// in a render's private folder) once they are safe: `template`'s release name must be one helm
/// takes, or kustomize's `--generate-name`; plugins are looked for in a folder of the render's
/// that does not exist, whatever data folder kustomize gave.
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

/// Why `args` must not reach helm, if they must not.
fn refusal(args: &[OsString]) -> Option<String> {
    match args.first().and_then(|a| a.to_str()) {
        Some("template") => template_refusal(args),
        Some("pull") => pull_refusal(&args[1..]),
        _ => None,
    }
}

/// kustomize runs `helm pull --untar --untardir DIR (--repo REPO NAME | oci://REPO/NAME)
/// [--version V]`, NAME and the others from a helmCharts entry: no other flag may appear (helm
/// pull's `--destination` would write the chart wherever the kustomization says).
fn pull_refusal(args: &[OsString]) -> Option<String> {
    let mut rest = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = rest.next() {
        match arg.as_ref() {
            "--untar" => {}
            "--untardir" | "--repo" | "--version" => {
                rest.next();
            }
            flag if flag.starts_with('-') => {
                return Some(format!(
                    "a helmCharts entry of the kustomization gives helm pull {flag:?}, which is \
                     not a chart name: write the chart's name, repo and version"
                ));
            }
            _ => {}
        }
    }
    None
}

/// `template`'s release name, kustomize's second argument.
fn template_refusal(args: &[OsString]) -> Option<String> {
    let name = args.get(1).map(|a| a.to_string_lossy().into_owned());
    match name.as_deref() {
        Some("--generate-name") => None,
        Some(name) if is_release_name(name) => None,
        name => Some(format!(
            "a helmCharts releaseName of the kustomization, {:?}, is not a release name helm \
             takes: lowercase letters, digits, '-' and '.', starting and ending with a letter or \
             digit, at most 53 characters",
            name.unwrap_or_default()
        )),
    }
}

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
            &["template", "--generate-name", "/charts/demo"],
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
            &["template", "Shop", "/charts/demo"],
            &["template"],
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
