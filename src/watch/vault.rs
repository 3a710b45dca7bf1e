//! The watcher's own Vault identity: it logs in with the settings of its container, keeps the
//! token in its own entry of the token cache (its credential is not a render's, so the entry is
//! not theirs either; `--once` runs from a cron job log in once per lease), and logs in again
//! when the token's time is two-thirds gone or Vault refused it.

use std::time::{Duration, Instant};

use crate::secrets::vault::auth::Auth;
use crate::secrets::vault::session::{cache_slot, sign_in};
use crate::secrets::vault::settings::VaultSettings;
use crate::secrets::vault::token_cache::TokenCache;
use crate::secrets::vault::{VaultClient, VaultError};

/// A client with a token, made on first use.
pub(crate) struct VaultLogin<'a> {
    settings: &'a VaultSettings,
    cache: &'a TokenCache,
    client: Option<(VaultClient, Option<Instant>)>,
}

impl<'a> VaultLogin<'a> {
    /// Not logged in yet.
    pub(crate) fn new(settings: &'a VaultSettings, cache: &'a TokenCache) -> Self {
        VaultLogin {
            settings,
            cache,
            client: None,
        }
    }

    /// A client with a valid token, from the cache or a login.
    pub(crate) async fn client(&mut self) -> Result<VaultClient, VaultError> {
        if let Some((client, renew_at)) = &self.client
            && renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(client.clone());
        }
        let mut client = VaultClient::new(self.settings)?;
        let started = Instant::now();
        let slot = cache_slot(self.settings, self.cache);
        let (_, left) = sign_in(&mut client, &self.settings.auth, slot.as_ref()).await?;
        let renew_at =
            left.map(|left| started + left.mul_f64(2.0 / 3.0).max(Duration::from_secs(1)));
        self.client = Some((client.clone(), renew_at));
        Ok(client)
    }

    /// After `error`: a refused token (403) is dropped, from memory and from the cache, so that
    /// the next pass logs in again (a `VAULT_TOKEN` is simply used again).
    pub(crate) fn forget_if_refused(&mut self, error: &VaultError) {
        let refused = matches!(
            error,
            VaultError::ReadRefused { status: 403, .. } | VaultError::TokenRefused { .. }
        );
        if refused && !matches!(self.settings.auth, Auth::Token { .. }) {
            self.client = None;
            if let Some(slot) = cache_slot(self.settings, self.cache)
                && let Err(e) = slot.remove()
            {
                tracing::debug!("cannot remove the refused token from the cache: {e}");
            }
        }
    }
}
