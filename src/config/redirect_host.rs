//! `VAULTPLATE_REDIRECT_HOSTS`: the hosts a Vault request may be redirected to besides
//! `VAULT_ADDR`'s origin (see `secrets::vault` for how redirects are judged).

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

    /// Whether `url` goes to this host and port.
    pub(crate) fn matches(&self, url: &Url) -> bool {
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
