//! The watcher's own Vault identity: it logs in with the settings of its container, keeps the
//! token in memory only (never the token cache the renders share), and logs in again when the
//! lease is two-thirds gone or Vault refused the token.

use std::time::{Duration, Instant};

use crate::secrets::vault::auth::Auth;
use crate::secrets::vault::settings::VaultSettings;
use crate::secrets::vault::{VaultClient, VaultError};

/// A client with a token, made on first use.
pub(crate) struct VaultLogin<'a> {
    settings: &'a VaultSettings,
    client: Option<(VaultClient, Option<Instant>)>,
}

impl<'a> VaultLogin<'a> {
    /// Not logged in yet.
    pub(crate) fn new(settings: &'a VaultSettings) -> Self {
        VaultLogin {
            settings,
            client: None,
        }
    }

    /// A client with a valid token, logging in if needed.
    pub(crate) async fn client(&mut self) -> Result<VaultClient, VaultError> {
        if let Some((client, renew_at)) = &self.client
            && renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(client.clone());
        }
        let mut client = VaultClient::new(self.settings)?;
        let started = Instant::now();
        let login = client.login(&self.settings.auth).await?;
        let renew_at = login
            .lease
            .map(|lease| started + lease.mul_f64(2.0 / 3.0).max(Duration::from_secs(1)));
        self.client = Some((client.clone(), renew_at));
        Ok(client)
    }

    /// After `error`: a refused token (403) is dropped so that the next pass logs in again
    /// (a `VAULT_TOKEN` is simply used again).
    pub(crate) fn forget_if_refused(&mut self, error: &VaultError) {
        let refused = matches!(
            error,
            VaultError::ReadRefused { status: 403, .. } | VaultError::TokenRefused { .. }
        );
        if refused && !matches!(self.settings.auth, Auth::Token { .. }) {
            self.client = None;
        }
    }
}
