//! `helm template` with the Application's release name, namespace, Kubernetes and API
//! versions, values, `--set` and `--set-file` pairs and the other options of Argo CD's
//! `spec.source.helm`; a chart whose `charts/` folder is missing is rendered from a private
//! copy with its dependencies filled in (see [`super::charts::deps`]).
//!
//! Placeholders in values (the chart's `values.yaml`, the Application's values files, inline
//! values, `set` values and `file-parameters` files) are filled before helm reads them, so that templates that
//! `b64enc`, hash, validate or branch on a value see the real value. They are all checked
//! before helm starts; their secrets are then read from Vault (all at once) while helm starts
//! up, and the filled texts reach helm through pipes it reads as files: a filled value never
//! goes on a command line, nor onto the disk.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::paths;
use crate::config::ChartSettings;
use crate::engine::problem::Problem;
use crate::engine::values::ScannedValues;
use crate::render::app_params::AppParams;
use crate::render::child::{self, FeedError, FilePipe, Sandbox};

/// Fills the placeholders of Helm values, and masks what helm says.
pub(super) trait Values {
    /// Checks the placeholders of the values `text` named `name`; `None` when it holds none.
    fn scan(&mut self, name: &str, text: &str) -> Result<Option<ScannedValues>, Vec<Problem>>;
    /// Reads the secrets of every scanned text at once and returns the filled texts, in order.
    fn fill(&mut self, scanned: Vec<ScannedValues>) -> Result<Vec<String>, Vec<Problem>>;
    /// `text` with every value filled so far masked.
    fn mask(&self, text: &str) -> String;
}

/// Values with placeholders, on their way to helm through a pipe.
struct Pending {
    pipe: FilePipe,
    scanned: ScannedValues,
    /// A `set` value: scanned as the document `value: "..."`, and given to helm as the bare
    /// string.
    set_value: bool,
}

/// Renders the chart in `dir`.
#[allow(
    clippy::too_many_arguments,
    reason = "one caller, every argument its own input"
)]
pub(super) fn template(
    dir: &Path,
    root: &Path,
    charts: &ChartSettings,
    params: &AppParams,
    env: &BTreeMap<String, String>,
    sandbox: &Sandbox,
    values: &mut dyn Values,
) -> Result<String, Vec<Problem>> {
    let mut pending = Vec::new();
    let args = arguments(dir, root, params, env, sandbox, values, &mut pending)?;
    let failed = |values: &dyn Values, e: child::ChildError| {
        vec![Problem::general(values.mask(&e.to_string()))]
    };
    let copy = super::charts::deps::prepare(dir, root, sandbox, charts)?;
    let cwd = copy.as_deref().unwrap_or(dir);
    let (pipes, to_fill): (Vec<FilePipe>, Vec<_>) = pending
        .into_iter()
        .map(|p| (p.pipe, (p.scanned, p.set_value)))
        .unzip();
    let (scanned, set_values): (Vec<ScannedValues>, Vec<bool>) = to_fill.into_iter().unzip();
    let contents = || {
        let texts = values.fill(scanned)?;
        texts
            .into_iter()
            .zip(set_values)
            .map(|(text, set)| if set { bare_set_value(&text) } else { Ok(text) })
            .collect::<Result<Vec<_>, _>>()
    };
    match child::run_feeding(
        "helm",
        &args,
        cwd,
        sandbox,
        "helm template",
        pipes,
        contents,
    ) {
        Ok(output) => output.map_err(|e| failed(values, e)),
        Err(FeedError::Child(e)) => Err(failed(values, e)),
        Err(FeedError::Contents(problems)) => Err(problems),
    }
}

/// The `helm template` argument list. Every value is its own argument, after the flag it is
/// the value of, and the positional ones (the release name, the chart) come after `--`: nothing
/// the Application sets can become a flag (`--post-renderer` would run a program of its choice).
fn arguments(
    dir: &Path,
    root: &Path,
    params: &AppParams,
    env: &BTreeMap<String, String>,
    sandbox: &Sandbox,
    values: &mut dyn Values,
    pending: &mut Vec<Pending>,
) -> Result<Vec<OsString>, Vec<Problem>> {
    let mut args: Vec<OsString> = vec!["template".into()];
    let mut flag = |name: &str, value: OsString| {
        args.push(name.into());
        args.push(value);
    };
    if let Some(namespace) = &params.namespace {
        flag("--namespace", namespace.into());
    }
    let mut problems = Vec::new();
    if let Some(release) = params.release_name.as_deref()
        && !is_release_name(release)
    {
        problems.push(Problem::general(format!(
            "the release name {release:?} (Application parameter release-name, else \
             ARGOCD_ENV_RELEASE_NAME, else the Application's name) is not one helm takes: \
             lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, \
             at most {MAX_RELEASE_NAME} characters"
        )));
    }
    match &params.kube_version {
        Some(version) if !is_version_word(version, false) => {
            problems.push(Problem::general(format!(
                "Application parameter kube-version: {version:?} is not a Kubernetes version \
                 (write it like 1.32 or v1.32.3)"
            )));
        }
        Some(version) => flag("--kube-version", version.into()),
        None => {
            if let Some(version) = env.get("KUBE_VERSION").filter(|v| !v.is_empty()) {
                flag("--kube-version", version.into());
            }
        }
    }
    if params.api_versions.is_empty() {
        let apis = env
            .get("KUBE_API_VERSIONS")
            .into_iter()
            .flat_map(|v| v.split(','));
        for api in apis.map(str::trim).filter(|v| !v.is_empty()) {
            flag("--api-versions", api.into());
        }
    }
    for api in &params.api_versions {
        if is_version_word(api, true) {
            flag("--api-versions", api.into());
        } else {
            problems.push(Problem::general(format!(
                "Application parameter api-versions: {api:?} is not an API version \
                 (write it like apps/v1 or monitoring.coreos.com/v1/ServiceMonitor)"
            )));
        }
    }
    // The chart's own values.yaml first, so that the Application's files still override it.
    let defaults = dir.join("values.yaml");
    let mut files: Vec<Result<PathBuf, Problem>> = Vec::new();
    if defaults.is_file() {
        files.push(Ok(defaults));
    }
    let wanted = params.values_files.iter().filter(|given| {
        !(params.ignore_missing_value_files && paths::missing_inside(dir, root, given))
    });
    files.extend(wanted.map(|given| {
        paths::inside_repository("values file", dir, root, given)
            .map_err(|m| Problem::general(format!("Application parameter values-files: {m}")))
    }));
    for file in files {
        match file
            .map_err(|p| vec![p])
            .and_then(|path| values_file(root, &path, values, pending))
        {
            Ok(path) => flag("--values", path.into_os_string()),
            Err(found) => problems.extend(found),
        }
    }
    if let Some(inline) = &params.values {
        let name = "inline-values.yaml";
        let scanned = values.scan("Application parameter values", inline);
        match scanned.and_then(|found| match found {
            Some(scanned) => pipe(scanned, false, pending),
            None => private(sandbox, name, inline),
        }) {
            Ok(path) => flag("--values", path.into_os_string()),
            Err(found) => problems.extend(found),
        }
    }
    for (n, (key, value)) in params.set.iter().enumerate() {
        if let Err(problem) = values_key("set", key) {
            problems.push(problem);
            continue;
        }
        if !value.contains("<path:") {
            flag("--set-json", format!("{key}={}", set_json(value)).into());
            continue;
        }
        let name = format!("set-{n}");
        let text = format!("value: {}\n", Value::String(value.clone()));
        let scanned = values.scan(&format!("Application parameter set {key}"), &text);
        match scanned.and_then(|found| match found {
            Some(scanned) => pipe(scanned, true, pending),
            None => private(sandbox, &name, value),
        }) {
            Ok(path) => flag("--set-file", format!("{key}={}", path.display()).into()),
            Err(found) => problems.extend(found),
        }
    }
    for (key, given) in &params.file_parameters {
        match values_key("file-parameters", key)
            .map_err(|p| vec![p])
            .and_then(|()| set_file(dir, root, key, given, values, pending))
        {
            Ok(pair) => flag("--set-file", pair.into()),
            Err(found) => problems.extend(found),
        }
    }
    args.push(
        if params.include_crds {
            "--include-crds"
        } else {
            "--skip-crds"
        }
        .into(),
    );
    for (on, name) in [
        (params.skip_schema_validation, "--skip-schema-validation"),
        (params.skip_tests, "--skip-tests"),
        (params.pass_credentials, "--pass-credentials"),
    ] {
        if on {
            args.push(name.into());
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    args.push("--".into());
    args.extend(params.release_name.iter().map(OsString::from));
    args.push(".".into());
    Ok(args)
}

/// Longest release name helm accepts.
const MAX_RELEASE_NAME: usize = 53;

/// Whether helm takes `name` as a release name: dot-separated labels of lowercase letters,
/// digits and `-`, each starting and ending with a letter or digit, 53 characters at most.
fn is_release_name(name: &str) -> bool {
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    name.len() <= MAX_RELEASE_NAME
        && name.split('.').all(|label| {
            let bytes = label.as_bytes();
            bytes.first().copied().is_some_and(alphanumeric)
                && bytes.last().copied().is_some_and(alphanumeric)
                && bytes.iter().all(|&b| alphanumeric(b) || b == b'-')
        })
}

/// Why `key` (of the `set` or `file-parameters` parameter) cannot be a values key: helm would
/// read `=` and `,` as the end of the key or of the pair, and a leading `-` looks like a flag.
fn values_key(parameter: &str, key: &str) -> Result<(), Problem> {
    if key.is_empty() || key.contains(['=', ',']) || key.starts_with('-') {
        return Err(Problem::general(format!(
            "Application parameter {parameter}: {key:?} is not a values key"
        )));
    }
    Ok(())
}

/// Whether `word` may be a Kubernetes version (`kube-version`) or, with `slash`, an API
/// version (`api-versions`): letters, digits, `.`, `-`, `+`, `_` (and `/`), not starting with
/// `-`. helm reads both, and `--api-versions` splits at commas, so nothing else is needed.
fn is_version_word(word: &str, slash: bool) -> bool {
    !word.is_empty()
        && word.len() <= 253
        && !word.starts_with('-')
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c) || (slash && c == '/'))
}

/// The `--set-file` pair for `key` and the repository file `given`. helm reads the file's text
/// as the value. Placeholders in a UTF-8 file are filled like a `set` value, and the filled
/// text comes through a pipe; other files are named by their path, with `\` and `,` escaped
/// for helm's `key=path,key=path` syntax.
fn set_file(
    dir: &Path,
    root: &Path,
    key: &str,
    given: &str,
    values: &mut dyn Values,
    pending: &mut Vec<Pending>,
) -> Result<String, Vec<Problem>> {
    let path = paths::inside_repository("file", dir, root, given).map_err(|m| {
        vec![Problem::general(format!(
            "Application parameter file-parameters {key}: {m}"
        ))]
    })?;
    let bytes = std::fs::read(&path).map_err(|e| {
        vec![Problem::general(format!(
            "Application parameter file-parameters {key}: file {given:?}: cannot read: {e}"
        ))]
    })?;
    let scanned = match String::from_utf8(bytes) {
        Ok(text) if text.contains("<path:") => {
            let document = format!("value: {}\n", Value::String(text));
            values.scan(
                &format!("Application parameter file-parameters {key} ({given})"),
                &document,
            )?
        }
        _ => None,
    };
    let file = match scanned {
        Some(scanned) => pipe(scanned, true, pending)?,
        None => path,
    };
    let escaped = file
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace(',', "\\,");
    Ok(format!("{key}={escaped}"))
}

/// The values file helm should read: `path` itself, or a pipe its filled text will come
/// through.
fn values_file(
    root: &Path,
    path: &Path,
    values: &mut dyn Values,
    pending: &mut Vec<Pending>,
) -> Result<PathBuf, Vec<Problem>> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem::at(&name, format!("cannot read: {e}"))])?;
    match values.scan(&name, &text)? {
        Some(scanned) => pipe(scanned, false, pending),
        None => Ok(path.to_path_buf()),
    }
}

/// A `set` value as the JSON helm's `--set-json` reads: the text verbatim as a string (helm's
/// `--set` parser would drop backslashes and split at commas), except `true`, `false`, `null`
/// and whole numbers, which keep the meaning they have in a values file.
fn set_json(value: &str) -> String {
    let whole_number = value
        .strip_prefix('-')
        .unwrap_or(value)
        .bytes()
        .all(|b| b.is_ascii_digit())
        && (1..=15).contains(&value.trim_start_matches('-').len())
        && (value.trim_start_matches('-') == "0"
            || !value.trim_start_matches('-').starts_with('0'))
        && value != "-0";
    if matches!(value, "true" | "false" | "null") || whole_number {
        value.to_owned()
    } else {
        Value::String(value.to_owned()).to_string()
    }
}

/// Makes the pipe for `scanned` and returns the path helm opens it by.
fn pipe(
    scanned: ScannedValues,
    set_value: bool,
    pending: &mut Vec<Pending>,
) -> Result<PathBuf, Vec<Problem>> {
    let pipe = FilePipe::new().map_err(|e| {
        vec![Problem::general(format!(
            "cannot make a pipe for values: {e}"
        ))]
    })?;
    let path = pipe.path();
    pending.push(Pending {
        pipe,
        scanned,
        set_value,
    });
    Ok(path)
}

/// The string a filled `set` value document (`value: ...`) holds, as helm's `--set-file` takes
/// it.
fn bare_set_value(filled: &str) -> Result<String, Vec<Problem>> {
    let parsed = crate::yaml::value::parse_value(filled).map_err(|e| vec![Problem::general(e)])?;
    Ok(match &parsed["value"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Writes a private (0600) file in the sandbox.
fn private(sandbox: &Sandbox, name: &str, text: &str) -> Result<PathBuf, Vec<Problem>> {
    sandbox.write_private(name, text).map_err(|e| {
        vec![Problem::general(format!(
            "cannot write a private values file: {e}"
        ))]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with no placeholders: nothing to fill, nothing to mask.
    struct Plain;

    impl Values for Plain {
        fn scan(&mut self, _: &str, _: &str) -> Result<Option<ScannedValues>, Vec<Problem>> {
            Ok(None)
        }
        fn fill(&mut self, _: Vec<ScannedValues>) -> Result<Vec<String>, Vec<Problem>> {
            Ok(Vec::new())
        }
        fn mask(&self, text: &str) -> String {
            text.to_owned()
        }
    }

    fn args_for(params: &AppParams, env: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::write(root.join("prod.yaml"), "a: 1").expect("write");
        let sandbox = Sandbox::new().expect("sandbox");
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let args = arguments(
            &root,
            &root,
            params,
            &env,
            &sandbox,
            &mut Plain,
            &mut Vec::new(),
        )
        .expect("valid");
        let text = |a: &OsString| {
            a.to_string_lossy()
                .replace(&root.display().to_string(), "<app>")
        };
        args.iter()
            .map(text)
            .map(|a| {
                if a.contains("inline-values") {
                    "<inline>".into()
                } else {
                    a
                }
            })
            .collect()
    }

    fn params() -> AppParams {
        AppParams {
            release_name: None,
            namespace: None,
            values_files: vec![],
            values: None,
            set: vec![],
            include_crds: true,
            file_parameters: vec![],
            ignore_missing_value_files: false,
            skip_schema_validation: false,
            skip_tests: false,
            kube_version: None,
            api_versions: vec![],
            pass_credentials: false,
            kustomize_enable_helm: false,
            kustomize: Default::default(),
        }
    }

    #[test]
    fn release_names_are_helm_s() {
        for good in ["a", "shop", "shop-1", "shop.v2", "0", &"a".repeat(53)] {
            assert!(is_release_name(good), "{good}");
        }
        let long = "a".repeat(54);
        for bad in [
            "",
            "-a",
            "a-",
            "--post-renderer=/bin/sh",
            "Shop",
            "a_b",
            "a..b",
            ".a",
            "a.",
            "a/b",
            &long,
        ] {
            assert!(!is_release_name(bad), "{bad}");
        }
    }

    #[test]
    fn minimal() {
        assert_eq!(
            args_for(&params(), &[]),
            ["template", "--include-crds", "--", "."]
        );
    }

    #[test]
    fn everything_the_application_may_set() {
        let p = AppParams {
            release_name: Some("shop".into()),
            namespace: Some("prod".into()),
            values_files: vec!["prod.yaml".into()],
            values: Some("a: 2\n".into()),
            set: vec![
                ("image.tag".into(), "1.2".into()),
                ("list".into(), "a,b".into()),
            ],
            include_crds: false,
            kustomize_enable_helm: false,
            ..params()
        };
        let env = [
            ("KUBE_VERSION", "1.32"),
            ("KUBE_API_VERSIONS", "v1,apps/v1"),
        ];
        let want = [
            "template",
            "--namespace",
            "prod",
            "--kube-version",
            "1.32",
            "--api-versions",
            "v1",
            "--api-versions",
            "apps/v1",
            "--values",
            "<app>/prod.yaml",
            "--values",
            "<inline>",
            "--set-json",
            "image.tag=\"1.2\"",
            "--set-json",
            "list=\"a,b\"",
            "--skip-crds",
            "--",
            "shop",
            ".",
        ];
        assert_eq!(args_for(&p, &env), want);
    }

    #[test]
    fn helm_options_of_the_application() {
        let p = AppParams {
            file_parameters: vec![("config".into(), "prod.yaml".into())],
            ignore_missing_value_files: true,
            values_files: vec!["absent.yaml".into()],
            skip_schema_validation: true,
            skip_tests: true,
            kube_version: Some("v1.30.1".into()),
            api_versions: vec!["example.com/v1/Widget".into()],
            pass_credentials: true,
            ..params()
        };
        let env = [("KUBE_VERSION", "1.32"), ("KUBE_API_VERSIONS", "v1")];
        let want = [
            "template",
            "--kube-version",
            "v1.30.1",
            "--api-versions",
            "example.com/v1/Widget",
            "--set-file",
            "config=<app>/prod.yaml",
            "--include-crds",
            "--skip-schema-validation",
            "--skip-tests",
            "--pass-credentials",
            "--",
            ".",
        ];
        assert_eq!(args_for(&p, &env), want);
    }

    #[test]
    fn version_words() {
        for good in ["1.32", "v1.32.3", "1.30.0-rc.1+k3s"] {
            assert!(is_version_word(good, false), "{good}");
        }
        for bad in ["", "-1", "--kube-version", "1,2", "a/b", "1 2"] {
            assert!(!is_version_word(bad, false), "{bad}");
        }
        assert!(is_version_word(
            "monitoring.coreos.com/v1/ServiceMonitor",
            true
        ));
        assert!(!is_version_word("apps/v1,v1", true));
    }

    #[test]
    fn set_values_are_json_strings_but_for_literals_and_whole_numbers() {
        let table = [
            ("^\\d+$", "\"^\\\\d+$\""),
            ("x\\,b=INJECTED", "\"x\\\\,b=INJECTED\""),
            ("true", "true"),
            ("null", "null"),
            ("TRUE", "\"TRUE\""),
            ("3", "3"),
            ("-12", "-12"),
            ("0", "0"),
            ("007", "\"007\""),
            ("-0", "\"-0\""),
            ("+5", "\"+5\""),
            ("1.5", "\"1.5\""),
            ("1234567890123456", "\"1234567890123456\""),
            ("", "\"\""),
        ];
        for (value, want) in table {
            assert_eq!(set_json(value), want, "{value:?}");
        }
    }

    #[test]
    fn set_keys_cannot_smuggle_pairs_or_flags() {
        for key in ["a=b", "a,b", "--post-renderer", ""] {
            let p = AppParams {
                set: vec![(key.into(), "x".into())],
                ..params()
            };
            let dir = tempfile::tempdir().expect("temp dir");
            let sandbox = Sandbox::new().expect("sandbox");
            let problems = arguments(
                dir.path(),
                dir.path(),
                &p,
                &BTreeMap::new(),
                &sandbox,
                &mut Plain,
                &mut Vec::new(),
            )
            .expect_err("refused");
            assert_eq!(
                problems[0].to_string(),
                format!("Application parameter set: {key:?} is not a values key")
            );
        }
    }
}
