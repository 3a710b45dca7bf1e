//! `vaultplate render`: detect the application type, build it with helm or kustomize (or read
//! plain manifests), fill placeholders with the `generate` engine, and print everything or
//! nothing.

pub mod app_params;
pub(crate) mod autodiscover;
mod charts;
pub(crate) mod child;
pub(crate) mod discover;
mod helm;
pub(crate) mod helm_shim;
pub mod kustomize;
mod paths;
mod secrets_only;
mod templated;
#[cfg(test)]
mod test_files;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::engine::check::{Ledger, Status};
use crate::engine::generate;
use crate::engine::mode::FillMode;
use crate::engine::output::Output;
use crate::engine::problem::Problem;
use crate::engine::source::{self, Input, InputKind};
use crate::engine::values::{self, ScannedValues};
use crate::render::app_params::AppParams;
use crate::render::child::Sandbox;
use crate::render::discover::SourceType;
use crate::secrets::SecretReader;
use crate::secrets::mask::Masker;

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The application directory.
    pub dir: PathBuf,
    /// Succeed even when the build yields no manifests.
    pub allow_empty: bool,
}

/// Renders the application in `request.dir` with the Application settings found in `env`.
pub fn render(
    request: &RenderRequest,
    config: &Config,
    env: &BTreeMap<String, String>,
    secrets: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Output, Vec<Problem>> {
    let dir = &request.dir;
    let name = dir.display().to_string();
    if !dir.is_dir() {
        return Err(vec![Problem::at(name, "is not a directory")]);
    }
    let params = AppParams::from_env(env).map_err(|e| vec![Problem::general(e)])?;
    let kind = discover::detect(dir);
    tracing::debug!(%kind, dir = %name, "rendering");
    let root = paths::repository_root(dir, env);
    let inputs = match kind {
        SourceType::Plain => {
            let inputs = source::load_confined(&name, &mut std::io::empty(), None, Some(&root))
                .map_err(|p| vec![p])?;
            crate::engine::templates::with_inputs(&name, inputs, env, config, secrets, mode)?
        }
        SourceType::Kustomize | SourceType::Helm => {
            paths::check_tree(&root).map_err(|p| vec![p])?;
            let sandbox = Sandbox::new().map_err(|e| {
                vec![Problem::general(format!(
                    "cannot create a private temporary folder: {e}"
                ))]
            })?;
            // `*.tera` templates: rendered into a private copy, which is then built instead.
            let templated =
                templated::prepare(dir, &root, &sandbox, env, config, &mut *secrets, mode)?;
            let (dir, root) = match &templated {
                Some((dir, root)) => (dir, root),
                None => (dir, &root),
            };
            let built = if kind == SourceType::Helm {
                let mut values = SessionValues {
                    config,
                    secrets: &mut *secrets,
                    masker: Masker::default(),
                    mode,
                    disguised: false,
                    filled: false,
                };
                let template = |values: &mut SessionValues<'_, '_>| {
                    helm::template(dir, root, &config.charts, &params, env, &sandbox, values)
                };
                let noted = mode.ledger.as_ref().map(Ledger::len);
                let built = template(&mut values)?;
                if let Some(policy) = config.policy.as_ref().filter(|p| p.secrets_only)
                    && values.filled
                {
                    // Once more with stand-ins: see `secrets_only`.
                    values.disguised = true;
                    let disguised = template(&mut values)?;
                    if let Err(problems) = secrets_only::check(&built, &disguised, policy) {
                        // Which value reached the object cannot be told: `check` blames
                        // every value filled into the Helm values.
                        if let (Some(ledger), Some(start)) = (&mode.ledger, noted) {
                            let message = problems
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; ");
                            ledger.refuse_from(start, Status::SecretsOnly, &message);
                        }
                        return Err(problems);
                    }
                }
                built
            } else {
                kustomize::build(dir, root, &params, &sandbox)?
            };
            drop(sandbox);
            vec![Input {
                name: format!("{kind} output"),
                text: built,
                origin: InputKind::Stdin,
            }]
        }
    };
    generate::fill_inputs(inputs, &name, request.allow_empty, config, secrets, mode)
}

/// Fills Helm values through the run's secret reader and masks every value it has seen.
struct SessionValues<'s, 'c> {
    config: &'c Config,
    secrets: &'s mut dyn SecretReader,
    masker: Masker,
    mode: &'c FillMode,
    /// Fill stand-ins instead of the values (the second render of the `secretsOnly` check).
    disguised: bool,
    /// Some placeholder of the values was filled.
    filled: bool,
}

impl helm::Values for SessionValues<'_, '_> {
    fn scan(&mut self, name: &str, text: &str) -> Result<Option<ScannedValues>, Vec<Problem>> {
        values::scan_values(name, text, self.config)
    }

    fn fill(&mut self, scanned: Vec<ScannedValues>) -> Result<Vec<String>, Vec<Problem>> {
        self.filled |= !scanned.is_empty();
        values::fill_values(
            scanned,
            self.secrets,
            &mut self.masker,
            self.mode,
            self.disguised,
        )
    }

    /// Only called when helm failed: every value read so far joins the filled ones here.
    fn mask(&self, text: &str) -> String {
        let mut masker = self.masker.clone();
        for answer in self.secrets.answers().values() {
            if let Ok(Some(secret)) = answer {
                secret.values().for_each(|v| masker.add_value(v));
            }
        }
        masker.mask(text)
    }
}
