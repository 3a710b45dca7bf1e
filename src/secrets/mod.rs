//! Where secret values come from and how they are kept out of sight: the Vault backend (client,
//! TLS, logins, token cache, the session that reads each secret once) and the masking of values
//! in text vaultplate did not write.

pub mod mask;
pub mod vault;
