//! `kustomize build`, or `kubectl kustomize` where no standalone kustomize is installed.

use std::ffi::OsString;
use std::path::Path;

use crate::render::app_params::AppParams;
use crate::render::child::{self, ChildError, Sandbox};

/// Builds the kustomization in `dir`.
pub(super) fn build(
    dir: &Path,
    params: &AppParams,
    sandbox: &Sandbox,
) -> Result<String, ChildError> {
    let (program, mut args, label): (&str, Vec<OsString>, &str) =
        if child::locate("kustomize").is_some() {
            (
                "kustomize",
                vec!["build".into(), ".".into()],
                "kustomize build",
            )
        } else {
            (
                "kubectl",
                vec!["kustomize".into(), ".".into()],
                "kubectl kustomize",
            )
        };
    if params.kustomize_enable_helm {
        args.push("--enable-helm".into());
    }
    child::run(program, &args, dir, sandbox, label)
}
