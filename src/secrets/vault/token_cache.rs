//! Vault tokens kept between runs, so that a plugin called hundreds of times an hour does not
//! log in every time: one file per identity, readable by its owner alone, replaced atomically.
//!
//! The folder is `$XDG_CACHE_HOME/vaultplate/tokens/`, else `$HOME/.cache/vaultplate/tokens/`,
//! mode 0700 (a looser existing one is tightened before use). Each entry is
//! `<sha256 of the identity>.json`, mode 0600:
//!
//! ```json
//! {"version":1,"identity":"<sha256>","credential":"<sha256>","token":"...","expires_at":1767225600,"lease_seconds":3600}
//! ```
//!
//! - The identity is the Vault address, the namespace and [`super::auth::Auth::identity`]
//!   (method, mount, role or user); only its hash is written, in the name and in `identity`.
//! - `credential` is a hash of the identity with the credential that obtained the token
//!   (secret-id, password): a run configured with someone's role or user name but not their
//!   credential never gets their token.
//! - `expires_at` (Unix seconds) counts the lease from just before the login request, rounded
//!   down, so it is never later than Vault's own expiry. See [`freshness`] for when a token is
//!   still used.
//!
//! Writes go to a temporary file in the same folder that is then renamed over the entry: a
//! reader sees the old entry or the new one, never part of one, and of concurrent writers the
//! last rename wins. Nothing here is fatal to a run: every failure is returned to the caller,
//! which logs it and goes on without the cache.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sensitive::Sensitive;

/// Version of the entry format; an entry of another version is ignored and replaced.
const FORMAT_VERSION: u32 = 1;
/// An entry is a few hundred bytes; anything much larger is not one of ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// A temporary file this old was left by a run that died between writing and renaming.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// Where this run keeps tokens, or why it keeps none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenCache {
    dir: Result<PathBuf, &'static str>,
}

impl TokenCache {
    /// The cache of a run: `$XDG_CACHE_HOME/vaultplate/tokens`, else
    /// `$HOME/.cache/vaultplate/tokens`; none when `disabled` (`--disable-token-cache`) or
    /// when neither variable is an absolute path (the XDG rule for relative ones). `var`
    /// reads an environment variable. No I/O.
    pub(crate) fn from_env(disabled: bool, var: impl Fn(&str) -> Option<OsString>) -> Self {
        if disabled {
            return TokenCache::off("disabled by --disable-token-cache");
        }
        let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
        let base =
            absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")));
        match base {
            Some(base) => TokenCache::at(base.join("vaultplate").join("tokens")),
            None => TokenCache::off("neither XDG_CACHE_HOME nor HOME is set to an absolute path"),
        }
    }

    /// A cache in `dir`.
    pub(crate) fn at(dir: PathBuf) -> Self {
        TokenCache { dir: Ok(dir) }
    }

    /// No cache, for the reason given.
    pub(crate) fn off(reason: &'static str) -> Self {
        TokenCache { dir: Err(reason) }
    }

    /// The folder of the entries, or why there is none.
    pub(crate) fn dir(&self) -> Result<&Path, &'static str> {
        self.dir.as_deref().map_err(|reason| *reason)
    }

    /// The entry of `identity`, or why there is none.
    pub(crate) fn slot(&self, identity: Identity) -> Result<Slot, &'static str> {
        Ok(Slot {
            dir: self.dir()?.to_owned(),
            identity,
        })
    }
}

/// Who a token belongs to, as hashes: no identity text or credential is ever written.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// Hex SHA-256 of address, namespace and login identity: the entry's name.
    digest: String,
    /// Hex SHA-256 of the same with the credential.
    credential: String,
}

impl Identity {
    /// `who` is [`super::auth::Auth::identity`]; `credential` is what the login sends to
    /// prove it (secret-id, password). No namespace and an empty one are the same.
    pub(crate) fn new(addr: &str, namespace: Option<&str>, who: &str, credential: &str) -> Self {
        let namespace = namespace.unwrap_or("");
        Identity {
            digest: hash("vaultplate token cache identity", &[addr, namespace, who]),
            credential: hash(
                "vaultplate token cache credential",
                &[addr, namespace, who, credential],
            ),
        }
    }

    /// A short form of the identity hash for logs (the start of the entry's file name).
    pub(crate) fn short(&self) -> &str {
        &self.digest[..12]
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.short())
    }
}

/// Hex SHA-256 of `parts` under `domain`, each part preceded by its length so that no two lists
/// hash alike: the name of a cache entry (tokens here, charts in `render::charts::cache`).
pub(crate) fn hash(domain: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    format!("{:x}", hasher.finalize())
}

/// The cache entry of one identity.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    dir: PathBuf,
    identity: Identity,
}

/// What the cache holds for an identity.
#[derive(Debug)]
pub(crate) enum CacheLookup {
    /// A token with comfortable time left.
    Hit {
        /// The token.
        token: Sensitive,
        /// Time left before it expires.
        left: Duration,
    },
    /// Nothing usable; a login is needed (and its token replaces the entry).
    Miss(Miss),
}

/// Why the cache has no usable token. Shown in debug logs; holds no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Miss {
    /// There is no entry.
    Absent,
    /// The token has expired.
    Expired,
    /// The token expires too soon to be used (see [`freshness`]).
    ExpiresSoon(Duration),
    /// The entry claims a lease that began in the future: the clock was turned back.
    ClockTurnedBack,
    /// The entry cannot be trusted or read (corrupt, someone else's, readable by others).
    Unusable(String),
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Absent => f.write_str("no cached token"),
            Miss::Expired => f.write_str("cached token expired"),
            Miss::ExpiresSoon(left) => write!(
                f,
                "cached token too close to expiry ({}s left)",
                left.as_secs()
            ),
            Miss::ClockTurnedBack => {
                f.write_str("cached token ignored (the clock was turned back)")
            }
            Miss::Unusable(why) => write!(f, "cached token ignored ({why})"),
        }
    }
}

/// An entry as written. No `Debug`: it holds the token.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    version: u32,
    identity: String,
    credential: String,
    token: String,
    expires_at: u64,
    lease_seconds: u64,
}

impl Slot {
    /// The identity of this entry.
    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The entry's file.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.identity.digest))
    }

    /// The cached token, if it may be used at `now`. Tightens a folder others can enter.
    pub(crate) fn load(&self, now: SystemTime) -> CacheLookup {
        match self.read() {
            Ok(Some(entry)) => {
                let Some(expires_at) =
                    UNIX_EPOCH.checked_add(Duration::from_secs(entry.expires_at))
                else {
                    return CacheLookup::Miss(Miss::Unusable("the file is corrupt".into()));
                };
                let lease = Duration::from_secs(entry.lease_seconds);
                match freshness(expires_at, lease, now) {
                    Ok(left) => CacheLookup::Hit {
                        token: Sensitive::new(entry.token),
                        left,
                    },
                    Err(miss) => CacheLookup::Miss(miss),
                }
            }
            Ok(None) => CacheLookup::Miss(Miss::Absent),
            Err(why) => CacheLookup::Miss(Miss::Unusable(why)),
        }
    }

    /// The entry if there is one that is ours and well-formed; `Err` says why it is not.
    fn read(&self) -> Result<Option<Entry>, String> {
        match check_dir(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cache folder {}: {e}", self.dir.display())),
        }
        let path = self.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if owner_only::mode(&meta) & 0o077 != 0 {
            return Err("the file is open to other users".into());
        }
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|file| file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 > MAX_ENTRY_BYTES {
            return Err("the file is too large".into());
        }
        let entry: Entry =
            serde_json::from_slice(&bytes).map_err(|_| "the file is corrupt".to_owned())?;
        if entry.version != FORMAT_VERSION {
            return Err(format!(
                "format version {} is not {FORMAT_VERSION}",
                entry.version
            ));
        }
        if entry.identity != self.identity.digest {
            return Err("the entry belongs to another identity".into());
        }
        if entry.credential != self.identity.credential {
            return Err("the token was obtained with another credential".into());
        }
        if entry.token.is_empty() || entry.lease_seconds == 0 {
            return Err("the file is corrupt".into());
        }
        Ok(Some(entry))
    }

    /// Replaces the entry with `token`, obtained by a login that started at `obtained` and
    /// was given `lease`. Creates the folder (mode 0700) if needed.
    pub(crate) fn store(
        &self,
        token: &Sensitive,
        obtained: SystemTime,
        lease: Duration,
    ) -> io::Result<()> {
        ensure_dir(&self.dir)?;
        let obtained = obtained
            .duration_since(UNIX_EPOCH)
            .map_err(|_| io::Error::other("the clock is before 1970"))?
            .as_secs();
        let entry = Entry {
            version: FORMAT_VERSION,
            identity: self.identity.digest.clone(),
            credential: self.identity.credential.clone(),
            token: token.expose().to_owned(),
            expires_at: obtained.saturating_add(lease.as_secs()),
            lease_seconds: lease.as_secs(),
        };
        let bytes = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        // A hidden, owner-only (0600) file whose name no other run uses; removed if dropped
        // before it is renamed over the entry.
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.identity.digest))
            .suffix(".tmp")
            .tempfile_in(&self.dir)?;
        // No fsync: an entry cut short by a crash is corrupt, and so ignored and replaced.
        temp.write_all(&bytes)?;
        temp.persist(self.path()).map_err(|e| e.error)?;
        remove_stale_temp_files(&self.dir);
        Ok(())
    }

    /// Deletes the entry (a token Vault refused, or one that is no longer cached).
    pub(crate) fn remove(&self) -> io::Result<()> {
        match fs::remove_file(self.path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The time a token is still usable before it has to be replaced: a tenth of its lease, but at
/// least a minute; a lease under two minutes is used for its first half only. A run needs a
/// few seconds at most (80 s at its deadline), and a token Vault refuses mid-run is replaced
/// anyway, so this margin only decides how early a token is renewed.
pub(crate) fn margin(lease: Duration) -> Duration {
    (lease / 10).max(Duration::from_secs(60).min(lease / 2))
}

/// How far in the future a lease may seem to begin before the clock is taken to have been turned
/// back. Entries keep whole seconds, and a run may read an entry that another run wrote just
/// after it, from a login that started after this run read the clock.
const CLOCK_SLACK: Duration = Duration::from_secs(5);

/// Whether a token that expires at `expires_at` after a lease of `lease` may be used at `now`:
/// the time it has left (at most the lease), or why not.
pub(crate) fn freshness(
    expires_at: SystemTime,
    lease: Duration,
    now: SystemTime,
) -> Result<Duration, Miss> {
    let Ok(left) = expires_at.duration_since(now) else {
        return Err(Miss::Expired);
    };
    let left = if left <= lease + CLOCK_SLACK {
        left.min(lease)
    } else {
        return Err(Miss::ClockTurnedBack);
    };
    if left.is_zero() {
        Err(Miss::Expired)
    } else if left <= margin(lease) {
        Err(Miss::ExpiresSoon(left))
    } else {
        Ok(left)
    }
}

/// Checks that `dir` is a folder only its owner can enter, tightening it to 0700 if it is
/// looser: it is ours (a folder we cannot chmod is refused), and every entry is checked on
/// its own, so tightening is safer than refusing, which would leave the folder loose and the
/// cache off for good.
fn check_dir(dir: &Path) -> io::Result<()> {
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("not a folder"));
    }
    if owner_only::mode(&meta) & 0o077 != 0 {
        owner_only::set_mode(dir, 0o700)?;
        tracing::debug!(
            "token cache folder {} was open to other users: set to 0700",
            dir.display()
        );
    }
    Ok(())
}

/// [`check_dir`], creating the folder (and missing parents) with mode 0700 first if needed.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    match check_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            owner_only::create_dir_all(dir)?;
            check_dir(dir)
        }
        checked => checked,
    }
}

/// Removes temporary files that runs which died before renaming them left behind.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name
            .to_str()
            .is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"));
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if is_temp && stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Owner-only file modes (vaultplate runs on Unix only, as Argo CD does).
mod owner_only {
    use std::fs;
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    use std::path::Path;

    pub(super) fn mode(meta: &fs::Metadata) -> u32 {
        meta.permissions().mode() & 0o7777
    }

    pub(super) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }

    pub(super) fn create_dir_all(path: &Path) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn identity(who: &str) -> Identity {
        Identity::new("http://vault:8200", None, who, "s3cret-credential")
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("exists").permissions().mode() & 0o777
    }

    fn token_of(lookup: CacheLookup) -> String {
        match lookup {
            CacheLookup::Hit { token, .. } => token.expose().to_owned(),
            CacheLookup::Miss(miss) => panic!("expected a hit, got: {miss}"),
        }
    }

    fn miss_of(lookup: CacheLookup) -> Miss {
        match lookup {
            CacheLookup::Hit { .. } => panic!("expected a miss, got a hit"),
            CacheLookup::Miss(miss) => miss,
        }
    }

    fn expires_at_of(entry: &str) -> u64 {
        let value: serde_json::Value = serde_json::from_str(entry).expect("JSON");
        value["expires_at"].as_u64().expect("a number")
    }

    /// A cache in a fresh folder, and a slot in it for `who`.
    fn slot(who: &str) -> (tempfile::TempDir, Slot) {
        let root = tempfile::tempdir().expect("a temp dir");
        let cache = TokenCache::at(root.path().join("vaultplate").join("tokens"));
        let slot = cache.slot(identity(who)).expect("the cache is on");
        (root, slot)
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("readable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_folder_comes_from_xdg_cache_home_else_home() {
        type Case = (
            bool,
            Option<&'static str>,
            Option<&'static str>,
            Result<&'static str, &'static str>,
        );
        let none = "neither XDG_CACHE_HOME nor HOME is set to an absolute path";
        let cases: &[Case] = &[
            (false, Some("/x"), Some("/h"), Ok("/x/vaultplate/tokens")),
            (false, None, Some("/h"), Ok("/h/.cache/vaultplate/tokens")),
            (
                false,
                Some(""),
                Some("/h"),
                Ok("/h/.cache/vaultplate/tokens"),
            ),
            (
                false,
                Some("rel"),
                Some("/h"),
                Ok("/h/.cache/vaultplate/tokens"),
            ),
            (false, Some("/x"), None, Ok("/x/vaultplate/tokens")),
            (false, None, None, Err(none)),
            (false, None, Some(""), Err(none)),
            (false, None, Some("home"), Err(none)),
            (
                true,
                Some("/x"),
                Some("/h"),
                Err("disabled by --disable-token-cache"),
            ),
        ];
        for (disabled, xdg, home, want) in cases {
            let cache = TokenCache::from_env(*disabled, |name| match name {
                "XDG_CACHE_HOME" => xdg.map(OsString::from),
                "HOME" => home.map(OsString::from),
                _ => None,
            });
            assert_eq!(
                cache.dir(),
                want.map(Path::new),
                "{disabled} {xdg:?} {home:?}"
            );
        }
    }

    #[test]
    fn every_part_of_the_identity_counts_and_only_hashes_are_kept() {
        let base = Identity::new("http://v", Some("team"), "approle:approle:r1", "c");
        let digests = [
            Identity::new("http://w", Some("team"), "approle:approle:r1", "c"),
            Identity::new("http://v", Some("other"), "approle:approle:r1", "c"),
            Identity::new("http://v", None, "approle:approle:r1", "c"),
            Identity::new("http://v", Some("team"), "approle:approle:r2", "c"),
            Identity::new("http://v", Some("team"), "userpass:approle:r1", "c"),
            // Parts are length-prefixed: moving a boundary changes the hash.
            Identity::new("http://vt", Some("eam"), "approle:approle:r1", "c"),
        ];
        for other in &digests {
            assert_ne!(other.digest, base.digest, "{other:?}");
            assert_ne!(other.credential, base.credential, "{other:?}");
        }
        let other_credential = Identity::new("http://v", Some("team"), "approle:approle:r1", "d");
        assert_eq!(other_credential.digest, base.digest);
        assert_ne!(other_credential.credential, base.credential);
        assert_eq!(
            Identity::new("http://v", None, "w", "c"),
            Identity::new("http://v", Some(""), "w", "c")
        );
        assert_eq!(base.digest.len(), 64);
        assert!(base.digest.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(base.short(), &base.digest[..12]);
        assert_eq!(format!("{base:?}"), format!("Identity({})", base.short()));
    }

    #[test]
    fn an_entry_is_private_in_a_private_folder_and_holds_no_identity_text() {
        let (root, slot) = slot("approle:approle:role-one");
        slot.store(&Sensitive::new("hvs.token-one"), SystemTime::now(), HOUR)
            .expect("stored");

        assert_eq!(mode(&root.path().join("vaultplate")), 0o700);
        assert_eq!(mode(&slot.dir), 0o700);
        assert_eq!(mode(&slot.path()), 0o600);
        assert_eq!(
            names_in(&slot.dir),
            [format!("{}.json", slot.identity.digest)]
        );
        let text = fs::read_to_string(slot.path()).expect("readable");
        for leak in ["role-one", "approle", "vault:8200", "s3cret-credential"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert_eq!(token_of(slot.load(SystemTime::now())), "hvs.token-one");
    }

    #[test]
    fn a_folder_open_to_others_is_tightened() {
        let (_root, slot) = slot("approle:approle:r");
        fs::create_dir_all(&slot.dir).expect("created");
        fs::set_permissions(&slot.dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(miss_of(slot.load(SystemTime::now())), Miss::Absent);
        assert_eq!(mode(&slot.dir), 0o700, "tightened by a read");

        fs::set_permissions(&slot.dir, fs::Permissions::from_mode(0o777)).expect("chmod");
        slot.store(&Sensitive::new("t"), SystemTime::now(), HOUR)
            .expect("stored");
        assert_eq!(mode(&slot.dir), 0o700, "tightened by a write");
    }

    #[test]
    fn entries_that_cannot_be_trusted_are_ignored_then_replaced() {
        let (_root, slot) = slot("userpass:userpass:alice");
        let now = SystemTime::now();
        let corrupt = |bytes: &[u8]| {
            fs::write(slot.path(), bytes).expect("written");
            fs::set_permissions(slot.path(), fs::Permissions::from_mode(0o600)).expect("chmod");
            miss_of(slot.load(now))
        };
        let unusable = |why: &str| Miss::Unusable(why.to_owned());
        slot.store(&Sensitive::new("t"), now, HOUR).expect("stored");
        let good = fs::read_to_string(slot.path()).expect("readable");

        assert_eq!(corrupt(b""), unusable("the file is corrupt"));
        assert_eq!(corrupt(b"{\"version\":1,"), unusable("the file is corrupt"));
        assert_eq!(corrupt(&[0xff, 0xfe, 0]), unusable("the file is corrupt"));
        assert_eq!(
            corrupt(good.replace("\"t\"", "\"\"").as_bytes()),
            unusable("the file is corrupt")
        );
        assert_eq!(
            corrupt(good.replace("\"version\":1", "\"version\":2").as_bytes()),
            unusable("format version 2 is not 1")
        );
        let far = good.replace(
            &format!("\"expires_at\":{}", expires_at_of(&good)),
            &format!("\"expires_at\":{}", u64::MAX),
        );
        assert_eq!(corrupt(far.as_bytes()), unusable("the file is corrupt"));
        assert_eq!(
            corrupt(&vec![b' '; 70_000]),
            unusable("the file is too large")
        );

        fs::write(slot.path(), &good).expect("written");
        fs::set_permissions(slot.path(), fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(
            miss_of(slot.load(now)),
            unusable("the file is open to other users")
        );

        fs::remove_file(slot.path()).expect("removed");
        fs::create_dir(slot.path()).expect("a folder where the entry goes");
        assert_eq!(miss_of(slot.load(now)), unusable("not a regular file"));
        fs::remove_dir(slot.path()).expect("removed");

        // Replaced by the next login's token.
        fs::write(slot.path(), b"garbage").expect("written");
        slot.store(&Sensitive::new("fresh"), now, HOUR)
            .expect("stored");
        assert_eq!(token_of(slot.load(now)), "fresh");
        assert_eq!(mode(&slot.path()), 0o600);
    }

    #[test]
    fn a_token_is_only_for_its_identity_and_credential() {
        let (_root, alice) = slot("userpass:userpass:alice");
        let bob = Slot {
            dir: alice.dir.clone(),
            identity: identity("userpass:userpass:bob"),
        };
        let now = SystemTime::now();
        alice
            .store(&Sensitive::new("alice-token"), now, HOUR)
            .expect("stored");
        assert_eq!(miss_of(bob.load(now)), Miss::Absent);

        // An entry renamed to another identity's name.
        fs::copy(alice.path(), bob.path()).expect("copied");
        assert_eq!(
            miss_of(bob.load(now)),
            Miss::Unusable("the entry belongs to another identity".into())
        );

        // Alice's name with another password.
        let impostor = Slot {
            dir: alice.dir.clone(),
            identity: Identity::new(
                "http://vault:8200",
                None,
                "userpass:userpass:alice",
                "guess",
            ),
        };
        assert_eq!(impostor.path(), alice.path());
        assert_eq!(
            miss_of(impostor.load(now)),
            Miss::Unusable("the token was obtained with another credential".into())
        );
        assert_eq!(token_of(alice.load(now)), "alice-token");
    }

    #[test]
    fn margins() {
        let secs = Duration::from_secs;
        // (lease, margin): a tenth, at least a minute, at most half the lease.
        let cases = [
            (secs(32 * 24 * 3600), secs(32 * 24 * 360)),
            (secs(3600), secs(360)),
            (secs(600), secs(60)),
            (secs(300), secs(60)),
            (secs(120), secs(60)),
            (secs(60), secs(30)),
            (secs(5), Duration::from_millis(2500)),
            (secs(1), Duration::from_millis(500)),
        ];
        for (lease, want) in cases {
            assert_eq!(margin(lease), want, "{lease:?}");
        }
    }

    #[test]
    fn freshness_decisions() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let secs = Duration::from_secs;
        // (lease, seconds left at `now` (negative: expired that long ago), decision)
        let cases: &[(u64, i64, Result<u64, Miss>)] = &[
            (3600, 3600, Ok(3600)),
            (3600, 361, Ok(361)),
            (3600, 360, Err(Miss::ExpiresSoon(secs(360)))),
            (3600, 1, Err(Miss::ExpiresSoon(secs(1)))),
            (3600, 0, Err(Miss::Expired)),
            (3600, -5, Err(Miss::Expired)),
            // A lease that seems to begin a few seconds ahead: another run's fresh entry.
            (3600, 3601, Ok(3600)),
            (3600, 3605, Ok(3600)),
            (3600, 3606, Err(Miss::ClockTurnedBack)),
            (600, 61, Ok(61)),
            (600, 60, Err(Miss::ExpiresSoon(secs(60)))),
            (60, 31, Ok(31)),
            (60, 30, Err(Miss::ExpiresSoon(secs(30)))),
            (5, 3, Ok(3)),
            (5, 2, Err(Miss::ExpiresSoon(secs(2)))),
        ];
        for (lease, left, want) in cases {
            let expires_at = if *left >= 0 {
                now + secs(left.unsigned_abs())
            } else {
                now - secs(left.unsigned_abs())
            };
            let got = freshness(expires_at, secs(*lease), now);
            let want = want.clone().map(secs);
            assert_eq!(got, want, "lease {lease}s, {left}s left");
        }
    }

    #[test]
    fn stored_expiry_never_exceeds_the_real_one() {
        let (_root, slot) = slot("approle:approle:r");
        // A login that started 3.9 s into a second, with a 5 s lease: the token dies at
        // 8.9 s, the entry says 8 s.
        let obtained = UNIX_EPOCH + Duration::from_millis(1_800_000_003_900);
        slot.store(&Sensitive::new("t"), obtained, Duration::from_secs(5))
            .expect("stored");
        let text = fs::read_to_string(slot.path()).expect("readable");
        assert!(text.contains("\"expires_at\":1800000008,"), "{text}");
        assert!(text.contains("\"lease_seconds\":5"), "{text}");
        let at = |ms| UNIX_EPOCH + Duration::from_millis(ms);
        assert!(matches!(
            slot.load(at(1_800_000_004_000)),
            CacheLookup::Hit { .. }
        ));
        assert_eq!(
            miss_of(slot.load(at(1_800_000_005_600))),
            Miss::ExpiresSoon(Duration::from_millis(2400))
        );
        assert_eq!(miss_of(slot.load(at(1_800_000_009_000))), Miss::Expired);
    }

    #[test]
    fn removing_an_entry() {
        let (_root, slot) = slot("approle:approle:r");
        slot.remove().expect("removing nothing is fine");
        slot.store(&Sensitive::new("t"), SystemTime::now(), HOUR)
            .expect("stored");
        slot.remove().expect("removed");
        assert_eq!(miss_of(slot.load(SystemTime::now())), Miss::Absent);
    }

    #[test]
    fn readers_never_see_a_partial_entry_while_writers_replace_it() {
        let (_root, slot) = slot("approle:approle:busy");
        let slot = Arc::new(slot);
        slot.store(&Sensitive::new("token-initial"), SystemTime::now(), HOUR)
            .expect("stored");
        let mut threads = Vec::new();
        for writer in 0..8 {
            let slot = Arc::clone(&slot);
            threads.push(std::thread::spawn(move || {
                for n in 0..50 {
                    // Long tokens make a torn read likelier, were one possible.
                    let token = format!("token-{writer}-{n}-{}", "x".repeat(4000));
                    slot.store(&Sensitive::new(token), SystemTime::now(), HOUR)
                        .expect("stored");
                }
            }));
        }
        for _ in 0..8 {
            let slot = Arc::clone(&slot);
            threads.push(std::thread::spawn(move || {
                for _ in 0..200 {
                    let token = token_of(slot.load(SystemTime::now()));
                    assert!(
                        token == "token-initial" || token.ends_with(&"x".repeat(4000)),
                        "a torn token of {} bytes",
                        token.len()
                    );
                }
            }));
        }
        for thread in threads {
            thread.join().expect("no thread failed");
        }
        assert_eq!(
            names_in(&slot.dir),
            [format!("{}.json", slot.identity.digest)]
        );
    }

    #[test]
    fn temporary_files_left_by_dead_runs_are_removed() {
        let (_root, slot) = slot("approle:approle:r");
        fs::create_dir_all(&slot.dir).expect("created");
        let old = slot.dir.join(".abc.1-2-3.tmp");
        let recent = slot.dir.join(".abc.4-5-6.tmp");
        for path in [&old, &recent] {
            fs::write(path, "partial").expect("written");
        }
        fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(3600)))
            .expect("backdated");
        slot.store(&Sensitive::new("t"), SystemTime::now(), HOUR)
            .expect("stored");
        assert_eq!(
            names_in(&slot.dir),
            [
                ".abc.4-5-6.tmp".to_owned(),
                format!("{}.json", slot.identity.digest)
            ]
        );
    }

    #[test]
    fn an_unwritable_folder_is_an_error_not_a_panic() {
        let root = tempfile::tempdir().expect("a temp dir");
        let file = root.path().join("file");
        fs::write(&file, "").expect("written");
        let cache = TokenCache::at(file.join("vaultplate").join("tokens"));
        let slot = cache.slot(identity("approle:approle:r")).expect("on");
        assert!(
            slot.store(&Sensitive::new("t"), SystemTime::now(), HOUR)
                .is_err()
        );
        assert!(matches!(
            miss_of(slot.load(SystemTime::now())),
            Miss::Unusable(_)
        ));
        assert_eq!(
            TokenCache::off("because").slot(identity("x")).map(|_| ()),
            Err("because")
        );
    }

    #[test]
    fn misses_read_as_debug_lines_without_values() {
        let cases = [
            (Miss::Absent, "no cached token"),
            (Miss::Expired, "cached token expired"),
            (
                Miss::ExpiresSoon(Duration::from_millis(59_900)),
                "cached token too close to expiry (59s left)",
            ),
            (
                Miss::ClockTurnedBack,
                "cached token ignored (the clock was turned back)",
            ),
            (
                Miss::Unusable("the file is corrupt".into()),
                "cached token ignored (the file is corrupt)",
            ),
        ];
        for (miss, want) in cases {
            assert_eq!(miss.to_string(), want);
        }
    }
}
