//! The functions and filters templates get beyond tera's own (which are pure: no environment,
//! files, time or randomness in tera 2).
//!
//! `vault_keys` answers from key names read before the render (tera's functions are
//! synchronous): a name not read yet is recorded and the render repeated once it has been
//! read (see [`super::render`]). Values never enter tera: only key names are kept here.
//! `placeholder` writes the `<path:...>` text the engine fills after the build.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use regex::Regex;
use tera::{Error, Kwargs, State, TeraResult, Value};

use crate::config::policy::Decision;
use crate::engine::scan::{ScanOptions, checked_path};
use crate::placeholder::secret_ref::{KvVersion, SecretRef};
use crate::placeholder::{self as grammar, Mode, Reference, Segment};

/// The path rules of placeholders, owned, for functions that outlive the configuration borrow.
#[derive(Debug, Clone)]
pub(crate) struct PathRules {
    /// KV version of the run (no annotation applies to a template).
    pub kv: KvVersion,
    /// `AVP_PATH_VALIDATION`.
    pub validation: Option<Regex>,
    /// The operator's policy for this render.
    pub policy: Option<Decision>,
}

impl PathRules {
    /// The secret `path` (and `version`) name, checked as a placeholder's path is.
    fn secret(&self, path: &str, version: Option<u64>) -> Result<SecretRef, String> {
        let options = ScanOptions {
            kv_version: self.kv,
            path_validation: self.validation.as_ref(),
            policy: self.policy.as_ref(),
            check_secrets_only: false,
        };
        let path = checked_path(path, options).map_err(|e| e.message)?;
        let version = match self.kv {
            KvVersion::V1 => None,
            KvVersion::V2 => version,
        };
        Ok(SecretRef {
            path,
            version,
            kv: self.kv,
        })
    }
}

/// What `vault_keys` knows: key names of secrets read, and the secrets asked for but not read.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    /// Sorted key names, or why there are none (no secret, a failed read).
    pub known: HashMap<SecretRef, Result<Vec<String>, String>>,
    /// Asked for in this render, not known yet.
    pub missing: BTreeSet<SecretRef>,
}

/// Shared between the registered function and the stage that reads secrets.
pub(crate) type SharedKeys = Arc<Mutex<Keys>>;

/// Registers `vault_keys`, `placeholder` and the filters on `tera`.
pub(crate) fn register(tera: &mut tera::Tera, rules: &PathRules, keys: &SharedKeys) {
    let (rules_keys, keys) = (rules.clone(), Arc::clone(keys));
    tera.register_function("vault_keys", move |kwargs: Kwargs, _: &State| {
        vault_keys(&kwargs, &rules_keys, &keys)
    });
    let rules = rules.clone();
    tera.register_function("placeholder", move |kwargs: Kwargs, _: &State| {
        placeholder(&kwargs, &rules)
    });
    tera.register_filter("yaml_str", |text: &str, kwargs: Kwargs, _: &State| {
        no_arguments("yaml_str", &kwargs)?;
        json_text("yaml_str", &text)
    });
    tera.register_filter("to_json", |value: Value, kwargs: Kwargs, _: &State| {
        no_arguments("to_json", &kwargs)?;
        json_text("to_json", &value)
    });
    // JSON is YAML (flow style), read the same way by every YAML 1.1 and 1.2 reader: no
    // `yes`/`0644` surprise from a block emitter.
    tera.register_filter("to_yaml", |value: Value, kwargs: Kwargs, _: &State| {
        no_arguments("to_yaml", &kwargs)?;
        json_text("to_yaml", &value)
    });
    tera.register_filter("b64encode", |text: &str, kwargs: Kwargs, _: &State| {
        no_arguments("b64encode", &kwargs)?;
        Ok::<_, Error>(base64::engine::general_purpose::STANDARD.encode(text))
    });
}

/// `value` as one line of JSON that YAML 1.1 and 1.2 readers read back as exactly it (line
/// separators and controls escaped: see [`crate::yaml::to_flow`]).
fn json_text<T: serde::Serialize + ?Sized>(filter: &str, value: &T) -> TeraResult<String> {
    let value =
        serde_json::to_value(value).map_err(|e| Error::message(format!("{filter}: {e}")))?;
    Ok(crate::yaml::to_flow(&value))
}

fn no_arguments(name: &str, kwargs: &Kwargs) -> TeraResult<()> {
    only_arguments(name, kwargs, &[])
}

/// Refuses keyword arguments other than `known`: a misspelt one would otherwise be ignored.
fn only_arguments(name: &str, kwargs: &Kwargs, known: &[&str]) -> TeraResult<()> {
    for (key, _) in kwargs.iter() {
        let key = key.to_string();
        if !known.contains(&key.as_str()) {
            return Err(Error::message(format!(
                "{name}: unknown argument `{key}` (it takes {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    Ok(())
}

fn vault_keys(kwargs: &Kwargs, rules: &PathRules, keys: &SharedKeys) -> TeraResult<Vec<String>> {
    only_arguments("vault_keys", kwargs, &["path", "version"])?;
    let path: String = kwargs.must_get("path")?;
    let version: Option<u64> = kwargs.get("version")?;
    let secret = rules
        .secret(&path, version)
        .map_err(|m| Error::message(format!("vault_keys: {m}")))?;
    let mut keys = keys.lock().unwrap_or_else(PoisonError::into_inner);
    match keys.known.get(&secret) {
        Some(Ok(names)) => Ok(names.clone()),
        Some(Err(why)) => Err(Error::message(format!("vault_keys: {why}"))),
        None => {
            keys.missing.insert(secret);
            Ok(Vec::new())
        }
    }
}

fn placeholder(kwargs: &Kwargs, rules: &PathRules) -> TeraResult<String> {
    only_arguments(
        "placeholder",
        kwargs,
        &["path", "key", "version", "modifiers"],
    )?;
    let fail = |m: String| Error::message(format!("placeholder: {m}"));
    let path: String = kwargs.must_get("path")?;
    let key: String = kwargs.must_get("key")?;
    let version: Option<u64> = kwargs.get("version")?;
    let modifiers: Vec<String> = kwargs.get("modifiers")?.unwrap_or_default();
    rules.secret(&path, version).map_err(fail)?;
    let mut text = format!("<path:{}#{}", path.trim(), key.trim());
    if let Some(version) = version {
        text.push_str(&format!("#{version}"));
    }
    for modifier in &modifiers {
        text.push_str(" | ");
        text.push_str(modifier.trim());
    }
    text.push('>');
    // What the engine will read back must be this one placeholder, naming this path and key.
    let written = grammar::parse(&text, Mode::InlineOnly).map_err(|errors| {
        fail(
            errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    match written.as_deref() {
        Some([Segment::Placeholder(p)])
            if p.span == (0..text.len())
                && matches!(&p.reference, Reference::Inline { path: p2, key: k2, .. }
                    if p2 == path.trim() && k2 == key.trim()) =>
        {
            Ok(text)
        }
        _ => Err(fail(format!(
            "path {path:?}, key {key:?} and modifiers {modifiers:?} do not make one placeholder: \
             remove `<`, `>`, `#` and `|` from them"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, keys: &SharedKeys) -> Result<String, String> {
        let mut tera = tera::Tera::new();
        let rules = PathRules {
            kv: KvVersion::V2,
            validation: None,
            policy: None,
        };
        register(&mut tera, &rules, keys);
        tera.add_raw_template("t", template)
            .map_err(|e| e.to_string())?;
        tera.render("t", &tera::Context::new())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn placeholders_come_out_bare_and_checked() {
        let keys = SharedKeys::default();
        let ok = [
            (
                r#"{{ placeholder(path="secret/data/app", key="user") }}"#,
                "<path:secret/data/app#user>",
            ),
            (
                r#"{{ placeholder(path="secret/data/app", key="k", version=3, modifiers=["base64encode"]) }}"#,
                "<path:secret/data/app#k#3 | base64encode>",
            ),
        ];
        for (template, want) in ok {
            assert_eq!(render(template, &keys).as_deref(), Ok(want), "{template}");
        }
        for template in [
            r#"{{ placeholder(path="secret/data/app", key="a>b") }}"#,
            r#"{{ placeholder(path="secret/data/app", key="a#b") }}"#,
            r#"{{ placeholder(path="sys/data/x", key="a") }}"#,
            r#"{{ placeholder(path="secret/data/app", key="a", modifiers=["nope"]) }}"#,
            r#"{{ placeholder(path="secret/data/app", key="a", colour="red") }}"#,
        ] {
            assert!(render(template, &keys).is_err(), "{template}");
        }
    }

    #[test]
    fn vault_keys_records_what_it_does_not_know() {
        let keys = SharedKeys::default();
        assert_eq!(
            render(
                r#"{{ vault_keys(path="secret/data/app") | length }}"#,
                &keys
            )
            .as_deref(),
            Ok("0")
        );
        let secret = keys
            .lock()
            .expect("lock")
            .missing
            .pop_first()
            .expect("recorded");
        keys.lock()
            .expect("lock")
            .known
            .insert(secret, Ok(vec!["a".into(), "b".into()]));
        assert_eq!(
            render(
                r#"{{ vault_keys(path="secret/data/app") | join(sep=",") }}"#,
                &keys
            )
            .as_deref(),
            Ok("a,b")
        );
        assert!(render(r#"{{ vault_keys(path="auth/token/x") }}"#, &keys).is_err());
    }

    #[test]
    fn filters_write_yaml_safe_text() {
        let keys = SharedKeys::default();
        assert_eq!(
            render(r#"{{ "a: #b\n\"yes\"" | yaml_str }}"#, &keys).as_deref(),
            Ok(r#""a: #b\n\"yes\"""#)
        );
        assert_eq!(
            render(r#"{{ "hi" | b64encode }}"#, &keys).as_deref(),
            Ok("aGk=")
        );
    }
}
