//! The template stage: `*.tera` files of an application directory rendered with tera before
//! the build, into text the rest of the run treats as the user's files.
//!
//! Secret values never pass through tera. A template makes structure and placeholders
//! ([`functions`]: `placeholder`, and `vault_keys`, which gives key names only); the engine
//! fills the placeholders afterwards with everything it guarantees. [`files`] finds and reads
//! the templates, confined to the directory; [`context`] is all a template sees.
//!
//! tera's functions are synchronous, so secrets are read between renders: a render records the
//! secrets `vault_keys` asked for and did not know, they are read through the run's
//! [`SecretReader`] (the same single read the fill stage then reuses), and the templates are
//! rendered again, at most [`MAX_ROUNDS`] times.
//!
//! Delimiters are tera's own (`{{ }}`, `{% %}`, `{# #}`): a `.tera` file is one its author chose
//! to write for tera, and Go template text inside it (Prometheus rules, Helm in a ConfigMap)
//! goes in a `{% raw %}` block. Autoescaping is off: YAML is not HTML.

mod context;
pub(crate) mod files;
mod functions;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, PoisonError, mpsc};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::engine::mode::FillMode;
use crate::engine::problem::Problem;
use crate::engine::source::{FILE_CAP, Input, InputKind, RUN_CAP};
use crate::secrets::SecretReader;

pub(crate) use context::VARS_PARAMETER;
pub(crate) use files::TemplateFile;
use functions::{PathRules, SharedKeys};

/// Most renders of a run's templates: each can reveal `vault_keys` calls that depend on what
/// an earlier call returned.
pub(crate) const MAX_ROUNDS: usize = 4;

/// Most time for rendering all templates of a run, every round together: a template can loop
/// without end (nested `range`s) while producing nothing.
pub(crate) const TIME_CAP: Duration = Duration::from_secs(5);

/// One rendered template.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// The template's name, relative to the directory (`secret.yaml.tera`).
    pub template: String,
    /// The file it renders to, relative to the directory (`secret.yaml`).
    pub output: String,
    /// The rendered text: structure and placeholders, no value.
    pub text: String,
}

/// Renders `templates` (read from the directory named `shown` in messages) with the context
/// Argo CD's `env` gives; `only` limits the output to one template (`generate` on a file).
pub(crate) fn render(
    templates: Vec<TemplateFile>,
    only: Option<&str>,
    shown: &str,
    env: &BTreeMap<String, String>,
    config: &Config,
    reader: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Vec<Rendered>, Vec<Problem>> {
    let context = context::build(env).map_err(|p| vec![p])?;
    let context = tera::Context::from_serialize(&context)
        .map_err(|e| vec![Problem::general(format!("template context: {e}"))])?;
    let rules = PathRules {
        kv: config.kv_version,
        validation: config.path_validation.clone(),
        policy: config.policy.clone(),
    };
    let keys = SharedKeys::default();
    let templates = Arc::new(templates);
    let deadline = Instant::now() + TIME_CAP;
    for _ in 0..MAX_ROUNDS {
        let result = render_once(&templates, only, &context, &rules, &keys, deadline)
            .map_err(|p| vec![within(p, shown)])?;
        let missing: Vec<_> = {
            let mut keys = keys.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut keys.missing).into_iter().collect()
        };
        if missing.is_empty() {
            let rendered = result
                .map_err(|ps| ps.into_iter().map(|p| within(p, shown)).collect::<Vec<_>>())?;
            check_yaml(&rendered).map_err(|p| vec![within(p, shown)])?;
            return Ok(rendered);
        }
        if !mode.reads() {
            return Err(vec![Problem::at(
                shown,
                "vault_keys needs to read Vault, which --no-resolve does not contact",
            )]);
        }
        reader
            .read(&missing)
            .map_err(|e| vec![Problem::general(e)])?;
        let mut keys = keys.lock().unwrap_or_else(PoisonError::into_inner);
        for secret in missing {
            let names = match reader.answers().get(&secret) {
                Some(Ok(Some(map))) => {
                    let mut names: Vec<String> = map.keys().cloned().collect();
                    names.sort();
                    Ok(names)
                }
                Some(Ok(None)) => Err(format!("{}: no secret at this path", secret.path)),
                Some(Err(e)) => Err(e.to_string()),
                None => Err(format!("{}: not read", secret.path)),
            };
            keys.known.insert(secret, names);
        }
    }
    Err(vec![Problem::at(
        shown,
        format!(
            "vault_keys calls depend on each other more than {MAX_ROUNDS} levels deep: \
             simplify the templates"
        ),
    )])
}

/// `problem` (placed at a template, relative to the directory `shown`) placed at the
/// template's path as the user names it: `app/secret.yaml.tera:3:7`.
fn within(problem: Problem, shown: &str) -> Problem {
    let place = match (problem.place, shown.trim_end_matches('/')) {
        (Some(inner), "." | "") => inner,
        (Some(inner), dir) => format!("{dir}/{inner}"),
        (None, "." | "") => return Problem::general(problem.message),
        (None, dir) => dir.to_owned(),
    };
    Problem::at(place, problem.message)
}

/// One render of every template, on a thread of its own so that it can be given up after
/// the deadline. The outer error ends the run (time); the inner ones are the templates'
/// problems, which a later round may make go away.
fn render_once(
    templates: &Arc<Vec<TemplateFile>>,
    only: Option<&str>,
    context: &tera::Context,
    rules: &PathRules,
    keys: &SharedKeys,
    deadline: Instant,
) -> Result<Result<Vec<Rendered>, Vec<Problem>>, Problem> {
    let (send, receive) = mpsc::channel();
    let (templates, only, context, rules, keys) = (
        Arc::clone(templates),
        only.map(str::to_owned),
        context.clone(),
        rules.clone(),
        Arc::clone(keys),
    );
    std::thread::Builder::new()
        .name("templates".into())
        .spawn(move || {
            let result = render_all(&templates, only.as_deref(), &context, &rules, &keys);
            let _ = send.send(result);
        })
        .map_err(|e| Problem::general(format!("cannot start rendering templates: {e}")))?;
    let left = deadline.saturating_duration_since(Instant::now());
    receive.recv_timeout(left).map_err(|_| {
        // The thread is left behind: the run ends with this error.
        Problem::general(format!(
            "rendering the templates took longer than {} s: a loop too large?",
            TIME_CAP.as_secs()
        ))
    })
}

fn render_all(
    templates: &[TemplateFile],
    only: Option<&str>,
    context: &tera::Context,
    rules: &PathRules,
    keys: &SharedKeys,
) -> Result<Vec<Rendered>, Vec<Problem>> {
    let mut tera = tera::Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    functions::register(&mut tera, rules, keys);
    tera.add_raw_templates(templates.iter().map(|t| (t.name.as_str(), t.text.as_str())))
        .map_err(|e| vec![describe(&e, None)])?;
    let mut budget = RUN_CAP;
    let mut rendered = Vec::new();
    let mut problems = Vec::new();
    for template in templates {
        if only.is_some_and(|o| o != template.name) {
            continue;
        }
        let Some(output) = template.output() else {
            continue;
        };
        let mut out = Capped {
            text: Vec::new(),
            left: FILE_CAP.min(budget),
            over: false,
        };
        match tera.render_to(&template.name, context, &mut out) {
            Ok(()) => {
                budget -= out.text.len() as u64;
                match String::from_utf8(out.text) {
                    Ok(text) => rendered.push(Rendered {
                        template: template.name.clone(),
                        output,
                        text,
                    }),
                    Err(_) => problems.push(Problem::at(&template.name, "renders to non-UTF-8")),
                }
            }
            Err(_) if out.over => problems.push(Problem::at(
                &template.name,
                format!(
                    "renders to more than {} MiB (or the run's templates to more than {} MiB)",
                    FILE_CAP >> 20,
                    RUN_CAP >> 20
                ),
            )),
            Err(e) => problems.push(describe(&e, Some(&template.name))),
        }
    }
    if problems.is_empty() {
        Ok(rendered)
    } else {
        Err(problems)
    }
}

/// A tera error as a problem at `file:line:column` where tera gives a place.
fn describe(error: &tera::Error, template: Option<&str>) -> Problem {
    match error.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let span = report.span();
            Problem::at(
                format!(
                    "{}:{}:{}",
                    report.filename(),
                    span.start_line,
                    span.start_col + 1
                ),
                report.message(),
            )
        }
        other => {
            let mut message = other.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            match template {
                Some(name) => Problem::at(name, message),
                None => Problem::general(message),
            }
        }
    }
}

/// Every rendered manifest file (`*.yaml`, `*.yml`, `*.json`) must parse as YAML: the error
/// names the template and the line of the rendered text.
fn check_yaml(rendered: &[Rendered]) -> Result<(), Problem> {
    for r in rendered {
        if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| r.output.ends_with(ext))
            && let Err(e) = crate::yaml::parse_stream_with(&r.text, |_| ())
        {
            return Err(Problem::at(
                &r.template,
                format!("the rendered text is not valid YAML: {e}"),
            ));
        }
    }
    Ok(())
}

/// A buffer that refuses to grow beyond `left` bytes.
struct Capped {
    text: Vec<u8>,
    left: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.len() as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other("template output cap"));
        }
        self.left -= data.len() as u64;
        self.text.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `generate`'s and a plain application's inputs with the templates of `path` rendered in:
/// for a `*.tera` file, its rendering alone (templates of its folder may be included); for a
/// directory, every rendered template joins the files read, in lexical order of the files they
/// render to. The rendered text is never written anywhere.
pub(crate) fn with_inputs(
    path: &str,
    inputs: Vec<Input>,
    env: &BTreeMap<String, String>,
    config: &Config,
    reader: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Vec<Input>, Vec<Problem>> {
    let given = Path::new(path);
    let single = given.is_file() && path.ends_with(files::SUFFIX);
    let dir = if single {
        given
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    } else {
        given
    };
    let templated = single || (given.is_dir() && files::any_template(given));
    if !templated {
        return Ok(inputs);
    }
    let shown = dir.display().to_string();
    let real = dir
        .canonicalize()
        .map_err(|e| vec![Problem::at(&shown, format!("cannot read: {e}"))])?;
    let templates = files::read_all(&real, &shown).map_err(|p| vec![p])?;
    let only = if single {
        let name = given.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref().is_some_and(|n| n.starts_with('_')) {
            return Err(vec![Problem::at(
                path,
                "is a partial (its name starts with `_`): it renders nothing by itself",
            )]);
        }
        name
    } else {
        None
    };
    let rendered = render(
        templates,
        only.as_deref(),
        &shown,
        env,
        config,
        reader,
        mode,
    )?;
    let joined = |name: &str| format!("{}/{name}", shown.trim_end_matches('/'));
    let mut keyed: Vec<(String, Input)> = if single {
        Vec::new()
    } else {
        inputs.into_iter().map(|i| (i.name.clone(), i)).collect()
    };
    for r in rendered {
        let output = joined(&r.output);
        if keyed.iter().any(|(name, _)| *name == output) {
            return Err(vec![Problem::at(
                joined(&r.template),
                format!("renders to {output}, which exists too: remove one of them"),
            )]);
        }
        keyed.push((
            output,
            Input {
                name: joined(&r.template),
                text: r.text,
                origin: InputKind::File,
            },
        ));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keyed.into_iter().map(|(_, i)| i).collect())
}

/// Renders the templates of `dir` (canonical, inside a private copy of the repository) in
/// place: each rendered file is written next to its template, and every `*.tera` file is then
/// removed, so that helm or kustomize sees only the result. `shown` names the application
/// directory in messages.
pub(crate) fn render_in_copy(
    dir: &Path,
    shown: &str,
    env: &BTreeMap<String, String>,
    config: &Config,
    reader: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<(), Vec<Problem>> {
    let templates = files::read_all(dir, shown).map_err(|p| vec![p])?;
    let names: Vec<String> = templates.iter().map(|t| t.name.clone()).collect();
    let rendered = render(templates, None, shown, env, config, reader, mode)?;
    for r in &rendered {
        let target = dir.join(&r.output);
        let place = || format!("{shown}/{}", r.template);
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(vec![Problem::at(
                place(),
                format!(
                    "renders to {}, which exists too: remove one of them",
                    r.output
                ),
            )]);
        }
        std::fs::write(&target, &r.text).map_err(|e| {
            vec![Problem::at(
                place(),
                format!("cannot write the rendered file: {e}"),
            )]
        })?;
    }
    for name in names {
        std::fs::remove_file(dir.join(&name)).map_err(|e| {
            vec![Problem::at(
                format!("{shown}/{name}"),
                format!("cannot remove the template from the private copy: {e}"),
            )]
        })?;
    }
    Ok(())
}
