//! `$NAME` and `${NAME}` in Application parameters, replaced the way Argo CD's `Env.Envsubst`
//! does (Go's `os.Expand` over the build environment; argo-cd
//! `pkg/apis/application/v1alpha1/types.go`): with the `ARGOCD_APP_*` values Argo CD passes to
//! the plugin, and nothing else. Any other name (vaultplate's own environment included) becomes
//! the empty string, as in Argo CD, and `$$` is a `$`.

use std::collections::BTreeMap;

/// The variables a parameter may name: the `ARGOCD_APP_*` entries of the plugin's environment.
pub(crate) fn build_vars(env: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    env.iter()
        .filter(|(k, _)| k.starts_with("ARGOCD_APP_") && *k != "ARGOCD_APP_PARAMETERS")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// `text` with its variables replaced from `vars` (see the module's documentation).
pub(crate) fn envsubst(text: &str, vars: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if after.is_empty() {
            // A trailing `$` stays.
            out.push('$');
            rest = after;
            break;
        }
        let (name, used) = shell_name(after);
        match name {
            Some("$") => out.push('$'),
            Some(name) => out.push_str(vars.get(name).copied().unwrap_or("")),
            // `$` not followed by a name stays; bad `${` syntax is dropped.
            None if used == 0 => out.push('$'),
            None => {}
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// The variable name at the start of `s` (just after a `$`) and how many bytes it takes, as
/// Go's `os.Expand` reads it: `{NAME}`, one special character, or a run of `[A-Za-z0-9_]`.
/// `None` with a non-zero length is bad syntax, eaten.
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let bytes = s.as_bytes();
    let special = |b: u8| b"*#$@!?-".contains(&b) || b.is_ascii_digit();
    if bytes[0] == b'{' {
        if bytes.len() > 2 && special(bytes[1]) && bytes[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        return match s.find('}') {
            Some(1) => (None, 2),
            Some(end) => (Some(&s[1..end]), end + 1),
            None => (None, 1),
        };
    }
    if special(bytes[0]) {
        return (Some(&s[..1]), 1);
    }
    let end = bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(bytes.len());
    if end == 0 {
        (None, 0)
    } else {
        (Some(&s[..end]), end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go_os_expand_over_the_build_environment() {
        let env = BTreeMap::from([
            ("ARGOCD_APP_NAME".to_owned(), "shop".to_owned()),
            ("ARGOCD_APP_REVISION".to_owned(), "abc123".to_owned()),
            ("VAULT_TOKEN".to_owned(), "s.secret".to_owned()),
            ("HOME".to_owned(), "/home/x".to_owned()),
        ]);
        let vars = build_vars(&env);
        let cases = [
            ("${ARGOCD_APP_NAME}-$ARGOCD_APP_REVISION", "shop-abc123"),
            ("$VAULT_TOKEN|${HOME}|$1|${UNSET}", "|||"),
            ("cost: $$5", "cost: $5"),
            ("a $ b, end$", "a $ b, end$"),
            ("bad ${ and ${}x", "bad x"),
            ("${}x", "x"),
            ("${ARGOCD_APP_NAME", "ARGOCD_APP_NAME"),
            ("$ARGOCD_APP_NAME.v1 ümlaut", "shop.v1 ümlaut"),
            ("no variables", "no variables"),
        ];
        for (text, want) in cases {
            assert_eq!(envsubst(text, &vars), want, "{text}");
        }
    }
}
