//! The operator's policy file (`VAULTPLATE_POLICY`): named Vault logins (profiles) and rules
//! that say which Argo CD project may use which profile, read which paths and put values where.
//!
//! [`Policy::read`] checks the whole file on every run, errors naming its line;
//! [`Policy::decide`] finds the first rule matching the project, Application and namespace
//! Argo CD names in the environment, and the profile the Application may use. Fail closed: no
//! matching rule, or a profile choice the rule does not allow, is an error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::glob::Glob;
use crate::config::kube_secret::KubeSecretName;
use crate::config::settings::Name;
use crate::config::settings::names::*;
use crate::yaml::{self, Node, NodeKind};

/// The settings a profile may hold: how to log in, never where Vault is or how to reach it.
/// `AVP_CERT_ROLE` is left out with the `cert` method: a certificate login is the TLS client
/// certificate, which is the sidecar's.
pub(crate) const LOGIN_SETTINGS: &[Name] = &[
    AVP_AUTH_TYPE,
    AVP_MOUNT_PATH,
    AVP_ROLE_ID,
    AVP_SECRET_ID,
    AVP_SECRET_ID_FILE,
    AVP_USERNAME,
    AVP_PASSWORD,
    VAULT_TOKEN,
    VAULT_TOKEN_FILE,
    AVP_K8S_ROLE,
    AVP_K8S_MOUNT_PATH,
    AVP_K8S_TOKEN_PATH,
    AVP_GITHUB_TOKEN,
    AVP_JWT_ROLE,
    AVP_JWT_TOKEN_PATH,
];

/// The Application parameter that picks a profile.
pub const PROFILE_PARAMETER: &str = "vault-profile";

/// Why the policy file is unusable: its path, the line, and what to change there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy file {}: {}{message}", path.display(), line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct PolicyError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A policy refusal for this render: who is rendering and why they may not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy: {0}")]
pub struct PolicyRefusal(pub String);

/// Where a profile's login settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    /// Written in the policy file: login setting names and values.
    Settings(BTreeMap<String, String>),
    /// The data of a Kubernetes Secret, read when the profile is used.
    Secret(KubeSecretName),
}

/// A named Vault identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub source: ProfileSource,
    /// The line it is defined on.
    pub line: usize,
}

/// One rule: who it matches and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `name:`, else `rule N` (1-based).
    pub label: String,
    /// Patterns of `ARGOCD_APP_PROJECT_NAME`.
    pub projects: Vec<Glob>,
    /// Patterns of `ARGOCD_APP_NAME`; any without.
    pub apps: Option<Vec<Glob>>,
    /// Patterns of `ARGOCD_APP_NAMESPACE`; any without.
    pub namespaces: Option<Vec<Glob>>,
    /// Allowed profiles; the first is the default.
    pub profiles: Vec<String>,
    /// Patterns of the secret paths it may read.
    pub paths: Vec<Glob>,
    /// Values only into Secret `data`/`stringData`.
    pub secrets_only: bool,
}

/// The whole policy file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The file it came from.
    pub path: PathBuf,
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
    /// Rules in order; the first match wins.
    pub rules: Vec<Rule>,
}

/// What the policy decided for this render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `ARGOCD_APP_PROJECT_NAME` (empty for local use).
    pub project: String,
    /// The rule's label.
    pub rule: String,
    /// The profile used.
    pub profile: Profile,
    /// The rule's path patterns.
    pub paths: Vec<Glob>,
    /// The rule's `secretsOnly`.
    pub secrets_only: bool,
}

impl Decision {
    /// `project "team-a", rule "team-a", profile "team-a"`, for messages and `--verbose`.
    pub fn who(&self) -> String {
        format!(
            "project {:?}, rule {:?}, profile {:?}",
            self.project, self.rule, self.profile.name
        )
    }

    /// Whether the rule allows reading `path` (normalised, no leading `/`).
    pub fn allows_path(&self, path: &str) -> bool {
        self.paths.iter().any(|g| g.matches(path))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.who())
    }
}

impl Policy {
    /// Reads and checks the policy file at `path`.
    ///
    /// # Errors
    /// [`PolicyError`] naming the line of the first problem.
    pub fn read(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot be read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Checks the policy `text` read from `path`.
    ///
    /// # Errors
    /// [`PolicyError`] naming the line of the first problem.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PolicyError> {
        let reader = Reader { path, text };
        let documents = yaml::parse_stream(text).map_err(|e| PolicyError {
            path: path.to_owned(),
            line: Some(e.line),
            message: format!("invalid YAML: {}", e.message),
        })?;
        let mut roots = documents.into_iter().filter_map(|d| d.root);
        let Some(root) = roots.next() else {
            return Err(reader.fail(None, "is empty; it needs `profiles:` and `rules:`"));
        };
        if let Some(second) = roots.next() {
            return Err(reader.fail(Some(&second), "holds a second YAML document; keep one"));
        }
        let entries = reader.mapping(&root, "the file")?;
        let mut profiles_node = None;
        let mut rules_node = None;
        for (key, value) in entries {
            match key.as_scalar() {
                Some("profiles") => profiles_node = Some(value),
                Some("rules") => rules_node = Some(value),
                _ => {
                    return Err(reader.fail(
                        Some(key),
                        "unknown key at the top; the file holds `profiles:` and `rules:`",
                    ));
                }
            }
        }
        let Some(profiles_node) = profiles_node else {
            return Err(reader.fail(Some(&root), "`profiles:` is missing"));
        };
        let Some(rules_node) = rules_node else {
            return Err(reader.fail(Some(&root), "`rules:` is missing"));
        };
        let mut profiles = BTreeMap::new();
        for (key, value) in reader.mapping(profiles_node, "`profiles:`")? {
            let profile = reader.profile(key, value)?;
            profiles.insert(profile.name.clone(), profile);
        }
        let NodeKind::Sequence(items) = &rules_node.kind else {
            return Err(reader.fail(Some(rules_node), "`rules:` must be a list of rules"));
        };
        if items.is_empty() {
            return Err(reader.fail(
                Some(rules_node),
                "`rules:` is empty: every render would be refused",
            ));
        }
        let mut rules = Vec::with_capacity(items.len());
        for (n, item) in items.iter().enumerate() {
            rules.push(reader.rule(n + 1, item, &profiles)?);
        }
        Ok(Policy {
            path: path.to_owned(),
            profiles,
            rules,
        })
    }

    /// The rule and profile for the render `env` describes (`ARGOCD_APP_PROJECT_NAME`,
    /// `ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, and the Application's choice: the
    /// `vault-profile` parameter or `ARGOCD_ENV_AVP_SECRET`).
    ///
    /// # Errors
    /// [`PolicyRefusal`] when no rule matches or the choice is not allowed.
    pub fn decide(&self, env: &BTreeMap<String, String>) -> Result<Decision, PolicyRefusal> {
        let get = |name: &str| env.get(name).map(String::as_str).unwrap_or_default();
        let (project, app, namespace) = (
            get("ARGOCD_APP_PROJECT_NAME"),
            get("ARGOCD_APP_NAME"),
            get("ARGOCD_APP_NAMESPACE"),
        );
        let any = |patterns: &[Glob], text: &str| patterns.iter().any(|g| g.matches(text));
        let rule = self
            .rules
            .iter()
            .find(|r| {
                any(&r.projects, project)
                    && r.apps.as_ref().is_none_or(|p| any(p, app))
                    && r.namespaces.as_ref().is_none_or(|p| any(p, namespace))
            })
            .ok_or_else(|| {
                PolicyRefusal(format!(
                    "no rule of {} matches project {project:?} (Application {app:?}, namespace \
                     {namespace:?}): refused; the operator adds a rule for this project",
                    self.path.display()
                ))
            })?;
        let refuse = |what: String| {
            PolicyRefusal(format!(
                "project {project:?} (rule {:?}) {what}; it may use only {}",
                rule.label,
                rule.profiles
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        let by_parameter = requested_profile(env)?;
        let by_secret = match env
            .get("ARGOCD_ENV_AVP_SECRET")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(text) => {
                let secret = KubeSecretName::parse(text).map_err(|why| {
                    PolicyRefusal(format!("ARGOCD_ENV_AVP_SECRET {text:?}: {why}"))
                })?;
                let named = rule.profiles.iter().find(|name| {
                    matches!(&self.profiles[*name].source, ProfileSource::Secret(s) if *s == secret)
                });
                match named {
                    Some(name) => Some(name.clone()),
                    None => {
                        return Err(refuse(format!(
                            "may not use the Kubernetes Secret {secret} (ARGOCD_ENV_AVP_SECRET): \
                             it is the secretName of none of its profiles"
                        )));
                    }
                }
            }
        };
        let chosen = match (by_parameter, by_secret) {
            (Some(p), Some(s)) if p != s => {
                return Err(refuse(format!(
                    "names profile {p:?} (parameter {PROFILE_PARAMETER}) and profile {s:?} \
                     (ARGOCD_ENV_AVP_SECRET); name one"
                )));
            }
            (Some(p), _) => p,
            (None, Some(s)) => s,
            (None, None) => rule.profiles[0].clone(),
        };
        if !rule.profiles.contains(&chosen) {
            return Err(refuse(format!("may not use profile {chosen:?}")));
        }
        Ok(Decision {
            project: project.to_owned(),
            rule: rule.label.clone(),
            profile: self.profiles[&chosen].clone(),
            paths: rule.paths.clone(),
            secrets_only: rule.secrets_only,
        })
    }
}

/// The `vault-profile` parameter, as Argo CD passes parameters: in `ARGOCD_APP_PARAMETERS`,
/// else `PARAM_VAULT_PROFILE` (the same reading as `render::app_params`, which lies above
/// this module).
fn requested_profile(env: &BTreeMap<String, String>) -> Result<Option<String>, PolicyRefusal> {
    let from_json = match env
        .get("ARGOCD_APP_PARAMETERS")
        .filter(|t| !t.trim().is_empty())
    {
        None => None,
        Some(text) => {
            let parsed: Value = serde_json::from_str(text).map_err(|e| {
                PolicyRefusal(format!("ARGOCD_APP_PARAMETERS is not valid JSON: {e}"))
            })?;
            let entry = parsed.as_array().and_then(|items| {
                items
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(PROFILE_PARAMETER))
            });
            match entry {
                None => Some(None),
                Some(p) => match p.get("string").and_then(Value::as_str) {
                    Some(s) => Some(Some(s.to_owned())),
                    None => {
                        return Err(PolicyRefusal(format!(
                            "Application parameter {PROFILE_PARAMETER} must be a string"
                        )));
                    }
                },
            }
        }
    };
    let chosen = match from_json {
        Some(found) => found,
        None => env.get("PARAM_VAULT_PROFILE").cloned(),
    };
    Ok(chosen
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

/// Reads nodes of the file, errors naming their lines.
struct Reader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Reader<'_> {
    fn line(&self, node: &Node) -> usize {
        let end = node.span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn fail(&self, node: Option<&Node>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: self.path.to_owned(),
            line: node.map(|n| self.line(n)),
            message: message.into(),
        }
    }

    fn mapping<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], PolicyError> {
        match &node.kind {
            NodeKind::Mapping(entries) => Ok(entries),
            _ => Err(self.fail(Some(node), format!("{what} must be a mapping"))),
        }
    }

    fn scalar<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str, PolicyError> {
        match &node.kind {
            NodeKind::Scalar { value, .. } => Ok(value),
            _ => Err(self.fail(Some(node), format!("{what} must be a single value"))),
        }
    }

    fn profile(&self, key: &Node, value: &Node) -> Result<Profile, PolicyError> {
        let name = self.scalar(key, "a profile's name")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(self.fail(
                Some(key),
                format!(
                    "profile name {name:?}: use letters, digits, '-', '_' and '.' (Applications \
                     name it in the {PROFILE_PARAMETER} parameter)"
                ),
            ));
        }
        let what = format!("profile {name:?}");
        let entries = self.mapping(value, &what)?;
        let mut settings = BTreeMap::new();
        let mut secret = None;
        for (k, v) in entries {
            let setting = self.scalar(k, "a setting's name")?;
            if setting == "secretName" {
                let text = self.scalar(v, "secretName")?;
                let parsed = KubeSecretName::parse(text.trim()).map_err(|why| {
                    self.fail(Some(v), format!("{what}: secretName {text:?}: {why}"))
                })?;
                secret = Some(parsed);
                continue;
            }
            check_login_setting(setting)
                .map_err(|why| self.fail(Some(k), format!("{what}: {why}")))?;
            let text = match &v.kind {
                NodeKind::Scalar { value, .. } => value.clone(),
                _ => {
                    return Err(
                        self.fail(Some(v), format!("{what}: {setting} must be a single value"))
                    );
                }
            };
            settings.insert(setting.to_owned(), text);
        }
        let source = match secret {
            Some(_) if !settings.is_empty() => {
                return Err(self.fail(
                    Some(key),
                    format!(
                        "{what} has both secretName and settings; a profile takes its login \
                         settings from one place"
                    ),
                ));
            }
            Some(secret) => ProfileSource::Secret(secret),
            None => {
                check_login_settings(&settings)
                    .map_err(|why| self.fail(Some(key), format!("{what}: {why}")))?;
                ProfileSource::Settings(settings)
            }
        };
        Ok(Profile {
            name: name.to_owned(),
            source,
            line: self.line(key),
        })
    }

    fn patterns(&self, node: &Node, what: &str) -> Result<Vec<Glob>, PolicyError> {
        let NodeKind::Sequence(items) = &node.kind else {
            return Err(self.fail(Some(node), format!("{what} must be a list of patterns")));
        };
        if items.is_empty() {
            return Err(self.fail(
                Some(node),
                format!("{what} is empty: it would match nothing"),
            ));
        }
        items
            .iter()
            .map(|item| self.scalar(item, "a pattern").map(|p| Glob::new(p.trim())))
            .collect()
    }

    fn rule(
        &self,
        number: usize,
        node: &Node,
        profiles: &BTreeMap<String, Profile>,
    ) -> Result<Rule, PolicyError> {
        let entries = self.mapping(node, &format!("rule {number}"))?;
        let label = entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some("name"))
            .and_then(|(_, v)| v.as_scalar())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(|| format!("rule {number}"), str::to_owned);
        let what = |field: &str| format!("rule {label:?}: {field}");
        let mut rule = Rule {
            label: label.clone(),
            projects: Vec::new(),
            apps: None,
            namespaces: None,
            profiles: Vec::new(),
            paths: Vec::new(),
            secrets_only: false,
        };
        let (mut has_projects, mut has_profiles, mut has_paths) = (false, false, false);
        for (k, v) in entries {
            match k.as_scalar().unwrap_or("?") {
                "name" => {
                    self.scalar(v, &what("name"))?;
                }
                "projects" => {
                    rule.projects = self.patterns(v, &what("projects"))?;
                    has_projects = true;
                }
                "apps" => rule.apps = Some(self.patterns(v, &what("apps"))?),
                "namespaces" => rule.namespaces = Some(self.patterns(v, &what("namespaces"))?),
                "paths" => {
                    rule.paths = self.patterns(v, &what("paths"))?;
                    for path in &mut rule.paths {
                        *path = Glob::new(path.as_str().trim_start_matches('/'));
                    }
                    has_paths = true;
                }
                "profiles" => {
                    let NodeKind::Sequence(items) = &v.kind else {
                        return Err(self.fail(
                            Some(v),
                            format!("{} must be a list of profile names", what("profiles")),
                        ));
                    };
                    if items.is_empty() {
                        return Err(self.fail(Some(v), format!("{} is empty", what("profiles"))));
                    }
                    for item in items {
                        let name = self.scalar(item, "a profile name")?;
                        if !profiles.contains_key(name) {
                            return Err(self.fail(
                                Some(item),
                                format!(
                                    "{}: no profile {name:?} is defined under `profiles:`",
                                    what("profiles")
                                ),
                            ));
                        }
                        rule.profiles.push(name.to_owned());
                    }
                    has_profiles = true;
                }
                "secretsOnly" => {
                    let text = self.scalar(v, &what("secretsOnly"))?;
                    rule.secrets_only = crate::config::parse_bool(text).map_err(|_| {
                        self.fail(
                            Some(v),
                            format!("{} must be true or false", what("secretsOnly")),
                        )
                    })?;
                }
                other => {
                    return Err(self.fail(
                        Some(k),
                        format!(
                            "rule {label:?}: unknown key {other:?} (a rule holds name, projects, \
                             apps, namespaces, profiles, paths and secretsOnly)"
                        ),
                    ));
                }
            }
        }
        for (present, field, hint) in [
            (has_projects, "projects", "a list of project patterns"),
            (has_profiles, "profiles", "the profiles it may use"),
            (
                has_paths,
                "paths",
                "the secret paths it may read, such as [\"secret/data/team-a/*\"], or [\"**\"]",
            ),
        ] {
            if !present {
                return Err(self.fail(
                    Some(node),
                    format!("rule {label:?} has no `{field}:`; give it {hint}"),
                ));
            }
        }
        Ok(rule)
    }
}

/// Whether `key` may be written in a profile: a login setting.
pub(crate) fn check_login_setting(key: &str) -> Result<(), String> {
    if LOGIN_SETTINGS.iter().any(|n| n.as_str() == key) {
        return Ok(());
    }
    if crate::config::settings::spec(key).is_some() {
        return Err(format!(
            "{key} is not a login setting: a profile holds only how to log in (method, mount, \
             role, credentials); the Vault address, TLS, namespace and path rules are the \
             sidecar's settings"
        ));
    }
    Err(format!("unknown setting {key}"))
}

/// Checks a profile's whole set of settings: it names its method, and not one that needs the
/// sidecar's TLS identity.
pub(crate) fn check_login_settings(settings: &BTreeMap<String, String>) -> Result<(), String> {
    match settings.get(AVP_AUTH_TYPE.as_str()).map(|t| t.trim()) {
        None | Some("") => Err(
            "AVP_AUTH_TYPE is missing: a profile is complete on its own and names its login \
             method"
                .to_owned(),
        ),
        Some("cert") => Err(
            "AVP_AUTH_TYPE cert cannot be a profile: a certificate login is the sidecar's TLS \
             client certificate"
                .to_owned(),
        ),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, String> {
        Policy::parse(Path::new("/p.yaml"), text).map_err(|e| e.to_string())
    }

    const TWO_TEAMS: &str = "\
profiles:
  team-a:
    AVP_AUTH_TYPE: approle
    AVP_ROLE_ID: role-a
    AVP_SECRET_ID_FILE: /vault/a
  team-b:
    secretName: argocd:team-b-vault
  shared:
    AVP_AUTH_TYPE: approle
    AVP_ROLE_ID: role-s
rules:
  - name: team-a
    projects: [team-a, \"team-a-*\"]
    profiles: [team-a, shared]
    paths: [\"secret/data/team-a/*\"]
  - projects: [team-b]
    namespaces: [\"b-*\"]
    profiles: [team-b]
    paths: [\"/secret/data/team-b/**\"]
    secretsOnly: true
";

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn decide(pairs: &[(&str, &str)]) -> Result<(String, String, bool), String> {
        let policy = parse(TWO_TEAMS).expect("valid");
        policy
            .decide(&env(pairs))
            .map(|d| (d.rule, d.profile.name, d.secrets_only))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn first_matching_rule_and_default_profile() {
        let ok = |rule: &str, profile: &str, only| Ok((rule.into(), profile.into(), only));
        assert_eq!(
            decide(&[("ARGOCD_APP_PROJECT_NAME", "team-a")]),
            ok("team-a", "team-a", false)
        );
        assert_eq!(
            decide(&[
                ("ARGOCD_APP_PROJECT_NAME", "team-a-prod"),
                ("PARAM_VAULT_PROFILE", "shared")
            ]),
            ok("team-a", "shared", false)
        );
        assert_eq!(
            decide(&[
                ("ARGOCD_APP_PROJECT_NAME", "team-b"),
                ("ARGOCD_APP_NAMESPACE", "b-web"),
                ("ARGOCD_ENV_AVP_SECRET", "team-b-vault"),
            ]),
            ok("rule 2", "team-b", true)
        );
        assert_eq!(
            decide(&[
                ("ARGOCD_APP_PROJECT_NAME", "team-a"),
                (
                    "ARGOCD_APP_PARAMETERS",
                    r#"[{"name":"vault-profile","string":"shared"}]"#
                ),
                ("PARAM_VAULT_PROFILE", "team-b"),
            ]),
            ok("team-a", "shared", false)
        );
    }

    #[test]
    fn refusals_name_project_rule_and_profile() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("ARGOCD_APP_PROJECT_NAME", "team-c")],
                r#"policy: no rule of /p.yaml matches project "team-c" (Application "", namespace ""): refused; the operator adds a rule for this project"#,
            ),
            (
                &[],
                r#"policy: no rule of /p.yaml matches project "" (Application "", namespace ""): refused; the operator adds a rule for this project"#,
            ),
            (
                &[
                    ("ARGOCD_APP_PROJECT_NAME", "team-b"),
                    ("ARGOCD_APP_NAMESPACE", "a-web"),
                ],
                r#"policy: no rule of /p.yaml matches project "team-b" (Application "", namespace "a-web"): refused; the operator adds a rule for this project"#,
            ),
            (
                &[
                    ("ARGOCD_APP_PROJECT_NAME", "team-a"),
                    ("PARAM_VAULT_PROFILE", "team-b"),
                ],
                r#"policy: project "team-a" (rule "team-a") may not use profile "team-b"; it may use only "team-a", "shared""#,
            ),
            (
                &[
                    ("ARGOCD_APP_PROJECT_NAME", "team-a"),
                    ("ARGOCD_ENV_AVP_SECRET", "argocd:team-b-vault"),
                ],
                r#"policy: project "team-a" (rule "team-a") may not use the Kubernetes Secret argocd/team-b-vault (ARGOCD_ENV_AVP_SECRET): it is the secretName of none of its profiles; it may use only "team-a", "shared""#,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(decide(pairs).expect_err("refused"), *want, "{pairs:?}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                "policy file /p.yaml: is empty; it needs `profiles:` and `rules:`",
            ),
            (
                "profiles: {}\nrules: []\nextra: 1\n",
                "policy file /p.yaml: line 3: unknown key at the top; the file holds `profiles:` and `rules:`",
            ),
            (
                "profiles:\n  a:\n    AVP_AUTH_TYPE: approle\n    VAULT_ADDR: http://evil\nrules: []\n",
                "policy file /p.yaml: line 4: profile \"a\": VAULT_ADDR is not a login setting: a profile holds only how to log in (method, mount, role, credentials); the Vault address, TLS, namespace and path rules are the sidecar's settings",
            ),
            (
                "profiles:\n  a:\n    AVP_AUTH_TYPE: approle\n    AVP_ROLEID: x\nrules: []\n",
                "policy file /p.yaml: line 4: profile \"a\": unknown setting AVP_ROLEID",
            ),
            (
                "profiles:\n  a:\n    AVP_ROLE_ID: x\nrules: []\n",
                "policy file /p.yaml: line 2: profile \"a\": AVP_AUTH_TYPE is missing: a profile is complete on its own and names its login method",
            ),
            (
                "profiles:\n  a:\n    AVP_AUTH_TYPE: token\nrules:\n  - projects: [x]\n    profiles: [b]\n    paths: ['**']\n",
                "policy file /p.yaml: line 6: rule \"rule 1\": profiles: no profile \"b\" is defined under `profiles:`",
            ),
            (
                "profiles:\n  a:\n    AVP_AUTH_TYPE: token\nrules:\n  - name: x\n    projects: [x]\n    profiles: [a]\n",
                "policy file /p.yaml: line 5: rule \"x\" has no `paths:`; give it the secret paths it may read, such as [\"secret/data/team-a/*\"], or [\"**\"]",
            ),
            (
                "profiles:\n  a:\n    AVP_AUTH_TYPE: token\nrules:\n  - projects: [x]\n    profiles: [a]\n    paths: ['**']\n    secretOnly: true\n",
                "policy file /p.yaml: line 8: rule \"rule 1\": unknown key \"secretOnly\" (a rule holds name, projects, apps, namespaces, profiles, paths and secretsOnly)",
            ),
            (
                "profiles:\n  a: [\n",
                "policy file /p.yaml: line 3: invalid YAML: ",
            ),
        ];
        for (text, want) in cases {
            let got = parse(text).expect_err("refused");
            assert!(got.starts_with(want), "{text}\n{got}");
        }
    }
}
