//! The chart dependency cache shared by every render of a sidecar: each chart archive is
//! downloaded once, not on every refresh.
//!
//! The folder (`VAULTPLATE_CHART_CACHE`, by default `$XDG_CACHE_HOME/vaultplate/charts`, else
//! `$HOME/.cache/vaultplate/charts`) is 0700. An entry is keyed by repository URL, chart name
//! and exact version: `<key>.tgz` is the archive and `<key>.sha256` its digest, checked on
//! every use (an entry whose archive does not match is fetched again). `<key>.lock` is locked
//! while one render looks the entry up and fills it, so that concurrent renders download a
//! chart once and never read half an archive; archives are written to a temporary file and
//! renamed into place.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::secrets::vault::token_cache;

/// The cache folder.
#[derive(Debug)]
pub(crate) struct ChartCache {
    dir: PathBuf,
}

/// An entry locked for this render; unlocked when dropped.
#[derive(Debug)]
pub(crate) struct Locked {
    _lock: File,
    archive: PathBuf,
    digest: PathBuf,
}

impl ChartCache {
    /// Opens (creating it if needed, 0700) the cache in `dir`.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(ChartCache {
            dir: dir.to_path_buf(),
        })
    }

    /// Locks the entry of `chart` `version` from `repository`, waiting for a render that holds
    /// it.
    pub(crate) fn lock(&self, repository: &str, chart: &str, version: &str) -> io::Result<Locked> {
        let key = token_cache::hash(
            "vaultplate chart cache v1",
            &[repository.trim_end_matches('/'), chart, version],
        );
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.dir.join(format!("{key}.lock")))?;
        lock.lock()?;
        Ok(Locked {
            _lock: lock,
            archive: self.dir.join(format!("{key}.tgz")),
            digest: self.dir.join(format!("{key}.sha256")),
        })
    }
}

impl Locked {
    /// The archive, if the entry holds one that matches its digest.
    pub(crate) fn get(&self) -> Option<&Path> {
        let want = fs::read_to_string(&self.digest).ok()?;
        let got = file_digest(&self.archive).ok()?;
        (want.trim() == got).then_some(self.archive.as_path())
    }

    /// Stores a copy of the archive `from` as the entry, and returns where it is.
    pub(crate) fn put(&self, from: &Path) -> io::Result<&Path> {
        let dir = self.archive.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(dir)?;
        io::copy(&mut File::open(from)?, temp.as_file_mut())?;
        temp.as_file().sync_all()?;
        // The digest first: a reader never sees an archive it could take for checked.
        let _ = fs::remove_file(&self.digest);
        temp.persist(&self.archive).map_err(|e| e.error)?;
        let digest = file_digest(&self.archive)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(dir)?;
        io::Write::write_all(temp.as_file_mut(), digest.as_bytes())?;
        temp.persist(&self.digest).map_err(|e| e.error)?;
        Ok(&self.archive)
    }
}

/// Hex SHA-256 of the file at `path`.
fn file_digest(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hash = Sha256::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        match file.read(&mut chunk)? {
            0 => break,
            n => hash.update(&chunk[..n]),
        }
    }
    Ok(format!("{:x}", hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_again_and_a_tampered_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = ChartCache::open(&dir.path().join("charts")).expect("open");
        let archive = dir.path().join("lib-1.0.0.tgz");
        fs::write(&archive, "archive").expect("write");
        {
            let entry = cache
                .lock("https://a.example", "lib", "1.0.0")
                .expect("lock");
            assert!(entry.get().is_none());
            entry.put(&archive).expect("put");
            assert!(entry.get().is_some());
        }
        let other = cache
            .lock("https://b.example", "lib", "1.0.0")
            .expect("lock");
        assert!(
            other.get().is_none(),
            "another repository's entry is another entry"
        );
        drop(other);
        let entry = cache
            .lock("https://a.example/", "lib", "1.0.0")
            .expect("lock");
        let stored = entry.get().expect("found").to_path_buf();
        fs::write(&stored, "tampered").expect("write");
        assert!(entry.get().is_none());
    }
}
