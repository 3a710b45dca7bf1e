//! Credentials given as a setting's value or as a file read at login time, so that a file
//! replaced between runs (a Vault Agent token sink, a projected service-account token, a
//! rotated secret-id) is picked up by the next run.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::sensitive::Sensitive;

/// A credential file that cannot be used. Never quotes what the file holds.
#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {} {problem}", path.display())]
pub struct CredentialError {
    /// The setting naming the file.
    pub name: &'static str,
    /// The file.
    pub path: PathBuf,
    /// What is wrong, e.g. "is empty".
    pub problem: String,
}

/// A credential, or the file that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The value of a setting (`VAULT_TOKEN`, `AVP_SECRET_ID`, ...).
    Value(Sensitive),
    /// A file named by a setting, read by [`Credential::load`].
    File {
        /// The setting that names the file, for errors.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Whether a missing or empty file means "no credential" rather than an error (the
        /// default `~/.vault-token`, which exists only where someone logged in).
        optional: bool,
    },
}

impl Credential {
    /// The credential: the value, or the file's text without surrounding whitespace. `Ok(None)`
    /// only for an optional file that is missing or empty. Errors name the setting and the
    /// file, never what the file holds.
    pub fn load(&self) -> Result<Option<Sensitive>, CredentialError> {
        let (setting, path, optional) = match self {
            Credential::Value(value) => return Ok(Some(value.clone())),
            Credential::File {
                setting,
                path,
                optional,
            } => (*setting, path, *optional),
        };
        let unusable = |problem: String| CredentialError {
            name: setting,
            path: path.clone(),
            problem,
        };
        let bytes = match read_at_most(path, MAX_SIZE + 1) {
            Ok(bytes) if bytes.len() > MAX_SIZE => {
                return Err(unusable("is larger than 64 KiB: not a credential".into()));
            }
            Ok(bytes) => bytes,
            Err(e) if optional && e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unusable(format!("cannot be read: {e}"))),
        };
        // The conversion error would quote no content either, but says nothing more useful.
        let text = String::from_utf8(bytes).map_err(|_| unusable("is not UTF-8 text".into()))?;
        match text.trim() {
            "" if optional => Ok(None),
            "" => Err(unusable("is empty".into())),
            credential => Ok(Some(Sensitive::new(credential))),
        }
    }

    /// The file, if the credential is read from one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Credential::Value(_) => None,
            Credential::File { path, .. } => Some(path),
        }
    }
}

/// The most a credential file may hold: JWTs are a few KiB; a path that names a log or a
/// device by mistake must not be read whole.
const MAX_SIZE: usize = 64 * 1024;

fn read_at_most(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, name: &str, optional: bool) -> Credential {
        Credential::File {
            setting: "VAULT_TOKEN_FILE",
            path: dir.path().join(name),
            optional,
        }
    }

    fn load(credential: &Credential) -> Result<Option<String>, String> {
        credential
            .load()
            .map(|c| c.map(|c| c.expose().to_owned()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn files_are_trimmed_and_empty_or_missing_optional_files_hold_nothing() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in [("token", " s.abc\n"), ("empty", "\n \n")] {
            std::fs::write(dir.path().join(name), text).expect("writing a test file");
        }
        let shown = |name: &str| dir.path().join(name).display().to_string();
        type Case<'a> = (&'a str, bool, Result<Option<&'a str>, String>);
        let cases: &[Case<'_>] = &[
            ("token", false, Ok(Some("s.abc"))),
            ("token", true, Ok(Some("s.abc"))),
            ("empty", true, Ok(None)),
            ("missing", true, Ok(None)),
            (
                "empty",
                false,
                Err(format!(
                    "setting VAULT_TOKEN_FILE: {} is empty",
                    shown("empty")
                )),
            ),
            (
                "missing",
                false,
                Err(format!(
                    "setting VAULT_TOKEN_FILE: {} cannot be read: No such file or directory (os error 2)",
                    shown("missing")
                )),
            ),
        ];
        for (name, optional, want) in cases {
            let want = want.clone().map(|v| v.map(str::to_owned));
            assert_eq!(
                load(&file(&dir, name, *optional)),
                want,
                "{name} {optional}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_text_is_refused_without_its_content() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("binary"), b"secret\xff").expect("writing a test file");
        let error = load(&file(&dir, "binary", true)).expect_err("not UTF-8");
        assert!(error.ends_with("binary is not UTF-8 text"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn a_file_too_large_for_a_credential_is_not_read_whole() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("log"), "x".repeat(MAX_SIZE + 1)).expect("writing");
        let error = load(&file(&dir, "log", false)).expect_err("too large");
        assert!(
            error.ends_with("log is larger than 64 KiB: not a credential"),
            "{error}"
        );
        let zeros = Credential::File {
            setting: "AVP_JWT_TOKEN_PATH",
            path: "/dev/zero".into(),
            optional: false,
        };
        assert!(load(&zeros).is_err());
    }

    #[test]
    fn values_are_used_as_given() {
        let value = Credential::Value(Sensitive::new("s.value"));
        assert_eq!(load(&value), Ok(Some("s.value".to_owned())));
        assert_eq!(value.path(), None);
    }
}
