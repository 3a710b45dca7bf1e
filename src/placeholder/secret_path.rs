//! Secret paths as placeholders and the `avp.kubernetes.io/path` annotation write them:
//! normalised the way argocd-vault-plugin's Vault client reads them, then checked, before
//! anything is cached or read.

/// Vault's own mounts. No secrets engine can be mounted under them, and what they answer is
/// Vault's data about the caller: `auth/token/lookup-self` returns the plugin's own token.
/// Vault's router matches mount names by case (`Auth/` is an ordinary mount), and so does
/// this list.
const SYSTEM_MOUNTS: [&str; 4] = ["auth", "sys", "identity", "cubbyhole"];

/// Why a secret path cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Empty, or holding a character that would not stay part of one logical path in a URL
    /// (whitespace, control characters, `?`, `#`, `%`, `\`): `<path:a b#k>`.
    #[error("{0:?} is not a valid secret path")]
    Character(String),
    /// A segment that Vault's HTTP server would clean away (empty, `.` or `..`), so that the
    /// path read would differ from the path checked: `<path:secret/../sys/x#k>`.
    #[error("{0:?} is not a valid secret path (a segment is empty, \".\" or \"..\")")]
    Segment(String),
    /// A path under one of Vault's system mounts: `<path:auth/token/lookup-self#id>`.
    #[error(
        "path {path:?} is under Vault's system mount {mount}/, where no KV secrets engine can be \
         mounted: vaultplate never reads it (use the path of a KV secret, such as secret/data/app)"
    )]
    SystemMount {
        /// The normalised path.
        path: String,
        /// The system mount it starts with, without `/`.
        mount: &'static str,
    },
}

/// The path `written` names, without leading `/` (AVP's client accepts `/secret/data/app` for
/// `secret/data/app`), once it is known to be a path vaultplate may read.
///
/// # Errors
///
/// [`PathError`] when the path is not valid or lies under a Vault system mount.
pub fn normalise(written: &str) -> Result<String, PathError> {
    let path = written.trim_start_matches('/');
    let bad_char = path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\'));
    if path.is_empty() || bad_char {
        return Err(PathError::Character(written.to_owned()));
    }
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    // A trailing `/` is left to Vault (it answers 404); inner empty segments are redirected.
    if segments
        .iter()
        .enumerate()
        .any(|(i, s)| matches!(*s, "." | "..") || (s.is_empty() && i != last))
    {
        return Err(PathError::Segment(written.to_owned()));
    }
    if let Some(mount) = SYSTEM_MOUNTS.iter().find(|m| **m == segments[0]) {
        return Err(PathError::SystemMount {
            path: path.to_owned(),
            mount,
        });
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_checks_paths() {
        let system = |path: &str, mount| {
            Err(PathError::SystemMount {
                path: path.to_owned(),
                mount,
            })
        };
        #[rustfmt::skip]
        let cases: &[(&str, Result<String, PathError>)] = &[
            ("secret/data/app", Ok("secret/data/app".into())),
            ("team/kv/data/a-b_c.d", Ok("team/kv/data/a-b_c.d".into())),
            ("/secret/data/x", Ok("secret/data/x".into())),
            ("//kv1/app", Ok("kv1/app".into())),
            ("kv1/app/", Ok("kv1/app/".into())),
            ("secret/data/auth", Ok("secret/data/auth".into())),
            ("Auth/token/lookup-self", Ok("Auth/token/lookup-self".into())),
            ("authx/y", Ok("authx/y".into())),
            ("auth/token/lookup-self", system("auth/token/lookup-self", "auth")),
            ("/auth/token/lookup-self", system("auth/token/lookup-self", "auth")),
            ("sys/mounts", system("sys/mounts", "sys")),
            ("sys", system("sys", "sys")),
            ("identity/entity/id", system("identity/entity/id", "identity")),
            ("cubbyhole/x", system("cubbyhole/x", "cubbyhole")),
            ("", Err(PathError::Character(String::new()))),
            ("/", Err(PathError::Character("/".into()))),
            ("secret/data/a b", Err(PathError::Character("secret/data/a b".into()))),
            ("a?version=1", Err(PathError::Character("a?version=1".into()))),
            ("a#b", Err(PathError::Character("a#b".into()))),
            ("a%2f", Err(PathError::Character("a%2f".into()))),
            ("%61uth/token", Err(PathError::Character("%61uth/token".into()))),
            ("secret/../sys", Err(PathError::Segment("secret/../sys".into()))),
            ("./auth/token", Err(PathError::Segment("./auth/token".into()))),
            ("secret//data/x", Err(PathError::Segment("secret//data/x".into()))),
            ("/./sys/x", Err(PathError::Segment("/./sys/x".into()))),
        ];
        for (written, expected) in cases {
            assert_eq!(&normalise(written), expected, "{written:?}");
        }
    }
}
