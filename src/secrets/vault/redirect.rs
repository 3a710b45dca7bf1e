//! Which redirects a Vault request may follow. A token or a login's credentials go only to
//! `VAULT_ADDR`'s origin and to the hosts the operator lists in `VAULTPLATE_REDIRECT_HOSTS`
//! (a standby Vault without request forwarding redirects to the active node), and only over
//! https to the latter; at most one redirect per request.

use std::fmt;

use reqwest::Url;

/// One `host[:port]` of `VAULTPLATE_REDIRECT_HOSTS`; the port is 443 when left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectHost {
    /// Lower-case host name or IP address (IPv6 without brackets).
    host: String,
    port: u16,
}

impl RedirectHost {
    /// Parses a comma-separated list (blanks around entries ignored); the error is the entry
    /// that is not a `host[:port]`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| Self::parse(entry).ok_or_else(|| entry.to_owned()))
            .collect()
    }

    fn parse(entry: &str) -> Option<Self> {
        // A URL parser reads `host:port` the way an address is written, IPv6 brackets too;
        // anything with a scheme, path or user part is not a plain host.
        let url = Url::parse(&format!("https://{entry}")).ok()?;
        let plain = url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && !entry.contains('/')
            && !entry.ends_with(':');
        if !plain {
            return None;
        }
        Some(RedirectHost {
            host: bare_host(&url)?,
            port: url.port_or_known_default()?,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        bare_host(url).is_some_and(|host| host == self.host)
            && url.port_or_known_default() == Some(self.port)
    }
}

impl fmt::Display for RedirectHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The host of `url` in lower case, IPv6 without brackets.
fn bare_host(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase(),
    )
}

/// Where a redirect may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// To the origin the request went to: the token goes where it went anyway.
    SameOrigin,
    /// To a host the operator listed, over https.
    Listed,
    /// To another host: not followed.
    Elsewhere,
    /// To a listed host over plain http: not followed.
    ListedButPlain,
}

/// Judges a redirect of a request sent to `from` towards `to`.
pub(super) fn judge(from: &Url, to: &Url, listed: &[RedirectHost]) -> Verdict {
    if from.origin() == to.origin() {
        return Verdict::SameOrigin;
    }
    match (listed.iter().any(|h| h.matches(to)), to.scheme() == "https") {
        (true, true) => Verdict::Listed,
        (true, false) => Verdict::ListedButPlain,
        (false, _) => Verdict::Elsewhere,
    }
}

/// `scheme://host[:port]` of `url`, as errors name an address (never its path or query).
pub(super) fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `host:port` of `url`, as `VAULTPLATE_REDIRECT_HOSTS` would list it.
pub(super) fn listing_of(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => origin_of(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[test]
    fn listed_hosts() {
        let parsed =
            RedirectHost::parse_list(" Vault-1.internal:8200, vault-2 ,[::1]:8200,10.0.0.5")
                .expect("valid");
        let shown: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "vault-1.internal:8200",
                "vault-2:443",
                "[::1]:8200",
                "10.0.0.5:443"
            ]
        );
        assert_eq!(RedirectHost::parse_list(""), Ok(vec![]));
        for bad in [
            "https://vault:8200",
            "vault:99999",
            "vault 1",
            "vault/x",
            "user@vault",
            "vault:",
            "vault:8200?x",
        ] {
            assert_eq!(
                RedirectHost::parse_list(&format!("ok, {bad}")),
                Err(bad.to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn verdicts() {
        let listed = RedirectHost::parse_list("vault-1:8200,vault-2").expect("valid");
        let from = url("https://vault:8200/v1/secret/data/a");
        let cases = [
            ("https://vault:8200/v1/other", Verdict::SameOrigin),
            ("https://VAULT-1:8200/v1/secret/data/a", Verdict::Listed),
            ("https://vault-2/v1/secret/data/a", Verdict::Listed),
            ("https://vault-2:8200/v1/secret/data/a", Verdict::Elsewhere),
            (
                "http://vault-1:8200/v1/secret/data/a",
                Verdict::ListedButPlain,
            ),
            ("http://vault:8200/v1/secret/data/a", Verdict::Elsewhere),
            ("https://vault-1.attacker:8200/v1/a", Verdict::Elsewhere),
        ];
        for (to, want) in cases {
            assert_eq!(judge(&from, &url(to), &listed), want, "{to}");
        }
        assert_eq!(
            judge(&from, &url("https://vault-1:8200/"), &[]),
            Verdict::Elsewhere
        );
    }

    #[test]
    fn addresses_in_errors() {
        let to = url("http://127.0.0.1:8300/v1/secret/data/a?version=2");
        assert_eq!(origin_of(&to), "http://127.0.0.1:8300");
        assert_eq!(listing_of(&to), "127.0.0.1:8300");
        assert_eq!(listing_of(&url("https://vault/")), "vault:443");
    }
}
