//! Where secret values come from and how they are kept out of sight.
//!
//! The engine asks a [`SecretReader`] for the distinct secrets a run needs and looks each
//! placeholder's value up in its answers; it never sees how they were read. [`vault`] is the
//! reader of every real run (client, TLS, logins, token cache, the session that reads each
//! secret once); a second backend is one more implementation of the trait. [`mask`] hides
//! values in text vaultplate did not write (a child's stderr).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::placeholder::secret_ref::SecretRef;

pub(crate) mod mask;
#[cfg(test)]
pub(crate) mod memory;
pub mod vault;

/// Why a secret could not be read. Vault is the only backend, so this is its error; messages
/// name the address, the path and the cause, never a value.
pub type ReadError = vault::VaultError;

/// The answer for one secret: its key/value map, `None` when the backend has nothing at the
/// path, or the read's error (shared by every placeholder that needs it).
pub type SecretAnswer = Result<Option<Map<String, Value>>, Arc<ReadError>>;

/// What the engine reads secrets through.
///
/// A run may call [`SecretReader::read`] more than once (Helm values before the build, the
/// manifests after it); a reader reads each distinct secret once per run and keeps every
/// answer.
pub trait SecretReader {
    /// Reads the secrets of `refs` not read yet. An error concerns the whole run (settings,
    /// TLS, login, an unreachable server: one root cause, one line); a failed read of one
    /// secret is kept in [`SecretReader::answers`] instead, to be reported against the
    /// placeholders that needed it.
    fn read(&mut self, refs: &[SecretRef]) -> Result<(), Arc<ReadError>>;

    /// Every answer read so far.
    fn answers(&self) -> &HashMap<SecretRef, SecretAnswer>;

    /// The version the answer for `secret` held (KV v2's `data.metadata.version`, which a read
    /// of the latest version reports too): what `check` reports and what a usage record keeps,
    /// so that `vaultplate watch` can tell a newer one. `None` for KV v1, a failed read, or a
    /// backend that does not say.
    fn version_read(&self, secret: &SecretRef) -> Option<u64> {
        let _ = secret;
        None
    }
}
