//! The token cache across runs: one login serves many runs of the same identity, never those
//! of another; entries are private files; tokens are replaced before they expire and when
//! Vault refuses them; `--disable-token-cache` and an unusable cache folder only cost logins.
//!
//! Each test keeps its cache in a folder of its own (`XDG_CACHE_HOME`, or `HOME`), shared by its
//! runs; [`Case`] otherwise gives every run a fresh `HOME`. Logins are counted in OpenBao's
//! audit log per role or user, which every test creates for itself.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{Case, OpenBao, file_names, unique};

/// A secret and an AppRole that may read it (and nothing else).
struct App {
    path: String,
    value: String,
    role: String,
    role_id: String,
    secret_id: String,
}

impl App {
    fn new(bao: &OpenBao, name: &str) -> App {
        let app = unique(name);
        let value = format!("{app}-value");
        bao.put_kv2("secret", &app, json!({ "a": value }));
        let path = format!("secret/data/{app}");
        let policy = unique("read");
        bao.policy(
            &policy,
            &format!("path \"{path}\" {{ capabilities = [\"read\"] }}"),
        );
        let role = unique("role");
        let (role_id, secret_id) = bao.approle(&role, &[&policy]);
        App {
            path,
            value,
            role,
            role_id,
            secret_id,
        }
    }

    /// Gives this app's tokens a lifetime of `ttl` (logins from now on).
    fn token_ttl(&self, bao: &OpenBao, ttl: &str) {
        bao.post(
            &format!("auth/approle/role/{}", self.role),
            &json!({ "token_ttl": ttl, "token_max_ttl": ttl }),
        );
    }

    /// A run that fills this app's secret, logging in with its AppRole.
    fn case(&self, bao: &OpenBao) -> Case {
        Case::new()
            .file("c.yaml", &config_map(&self.path))
            .env("VAULT_ADDR", bao.addr())
            .env("AVP_AUTH_TYPE", "approle")
            .env("AVP_ROLE_ID", &self.role_id)
            .env("AVP_SECRET_ID", &self.secret_id)
            .secret(&self.secret_id)
            .args(["generate", "--verbose", "c.yaml"])
    }

    fn filled(&self) -> String {
        format!("k0: \"{}\"", self.value)
    }
}

fn config_map(path: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:{path}#a>\n"
    )
}

/// A test's own cache folder, handed to runs as `XDG_CACHE_HOME`.
struct CacheHome {
    dir: TempDir,
}

impl CacheHome {
    fn new() -> CacheHome {
        CacheHome {
            dir: tempfile::Builder::new()
                .prefix("vaultplate-cache-")
                .tempdir()
                .expect("a cache folder"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where vaultplate keeps the tokens.
    fn tokens(&self) -> PathBuf {
        self.dir.path().join("vaultplate/tokens")
    }

    fn use_in(&self, case: Case) -> Case {
        case.env("XDG_CACHE_HOME", self.path())
    }

    /// The names of the files in the tokens folder (none if it does not exist).
    fn files(&self) -> Vec<String> {
        file_names(&self.tokens())
    }

    /// The entries, as JSON, by file name.
    fn entries(&self) -> Vec<(String, Value)> {
        self.files()
            .into_iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.tokens().join(&name)).expect("readable");
                let json = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name} is not JSON ({e}): {text}"));
                (name, json)
            })
            .collect()
    }

    /// The token of the one entry there is.
    fn only_token(&self) -> String {
        let entries = self.entries();
        assert_eq!(entries.len(), 1, "expected one entry: {entries:?}");
        entries[0].1["token"]
            .as_str()
            .expect("a token field")
            .to_owned()
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

/// Whether `token` is valid: Vault answers its own lookup.
fn token_works(bao: &OpenBao, token: &str) -> bool {
    bao.request(Some(token), Method::GET, "auth/token/lookup-self", None)
        .0
        == 200
}

#[test]
fn a_second_run_uses_the_token_the_first_one_cached() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "reuse");
    let cache = CacheHome::new();

    cache
        .use_in(app.case(bao))
        .run()
        .success()
        .stdout_contains(&app.filled())
        .stderr_contains("no cached token for ");
    let token = cache.only_token();
    cache
        .use_in(app.case(bao))
        .secret(&token)
        .run()
        .success()
        .stdout_contains(&app.filled())
        .stderr_contains("using cached token for ");

    assert_eq!(
        bao.approle_logins(&app.role_id),
        1,
        "one login for two runs"
    );
    assert_eq!(bao.reads(&app.path), 2);
    assert_eq!(cache.only_token(), token);
}

#[test]
fn home_is_used_when_xdg_cache_home_is_not_set() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "home");
    let home = CacheHome::new();
    for _ in 0..2 {
        app.case(bao)
            .env("HOME", home.path())
            .run()
            .success()
            .stdout_contains(&app.filled());
    }
    assert_eq!(bao.approle_logins(&app.role_id), 1);
    let tokens = home.path().join(".cache/vaultplate/tokens");
    let names: Vec<_> = std::fs::read_dir(&tokens)
        .expect("the tokens folder under HOME")
        .collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn two_identities_get_two_entries_and_never_each_others_token() {
    let bao = OpenBao::shared();
    let (a, b) = (App::new(bao, "ident-a"), App::new(bao, "ident-b"));
    let user = unique("user");
    let user_app = App::new(bao, "ident-user");
    // The user may read the user app's secret; it is a third identity.
    let policy = unique("read");
    bao.policy(
        &policy,
        &format!("path \"{}\" {{ capabilities = [\"read\"] }}", user_app.path),
    );
    bao.userpass(&user, "user-password", &[&policy]);
    let user_case = || {
        Case::new()
            .file("c.yaml", &config_map(&user_app.path))
            .env("VAULT_ADDR", bao.addr())
            .env("AVP_AUTH_TYPE", "userpass")
            .env("AVP_USERNAME", &user)
            .env("AVP_PASSWORD", "user-password")
            .secret("user-password")
            .args(["generate", "c.yaml"])
    };
    let cache = CacheHome::new();

    for _ in 0..2 {
        for app in [&a, &b] {
            cache
                .use_in(app.case(bao))
                .run()
                .success()
                .stdout_contains(&app.filled());
        }
        cache
            .use_in(user_case())
            .run()
            .success()
            .stdout_contains(&user_app.filled());
    }

    assert_eq!(bao.approle_logins(&a.role_id), 1);
    assert_eq!(bao.approle_logins(&b.role_id), 1);
    assert_eq!(bao.userpass_logins(&user), 1);
    // No read was refused: nobody tried another's token.
    assert_eq!(bao.reads(&a.path), 2);
    assert_eq!(bao.reads(&b.path), 2);
    let entries = cache.entries();
    assert_eq!(entries.len(), 3, "{entries:?}");
    let tokens: BTreeSet<&str> = entries
        .iter()
        .map(|(_, e)| e["token"].as_str().expect("a token"))
        .collect();
    assert_eq!(tokens.len(), 3, "three different tokens");
    for (name, entry) in &entries {
        // Named by a hash; no identity text in the file.
        assert_eq!(name.len(), 64 + ".json".len(), "{name}");
        let text = entry.to_string();
        for leak in [&a.role_id, &b.role_id, &user, "approle", "userpass"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
}

#[test]
fn a_cached_token_is_not_given_to_a_run_without_the_right_credential() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "credential");
    let cache = CacheHome::new();
    cache.use_in(app.case(bao)).run().success();

    // The role-id alone (it is not a secret everywhere) must not unlock the cached token.
    cache
        .use_in(app.case(bao))
        .env("AVP_SECRET_ID", "a-guessed-secret-id")
        .secret("a-guessed-secret-id")
        .run()
        .failure()
        .stderr_contains("cached token ignored (the token was obtained with another credential)")
        .stderr_contains("approle login at auth/approle on ");
    assert_eq!(bao.reads(&app.path), 1);
    // The owner still has theirs.
    cache
        .use_in(app.case(bao))
        .run()
        .success()
        .stderr_contains("using cached token for ");
    assert_eq!(bao.approle_logins(&app.role_id), 2);
}

#[test]
fn entries_are_0600_files_in_a_0700_folder() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "modes");
    let cache = CacheHome::new();
    cache.use_in(app.case(bao)).run().success();

    assert_eq!(mode(&cache.path().join("vaultplate")), 0o700);
    assert_eq!(mode(&cache.tokens()), 0o700);
    let files = cache.files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&cache.tokens().join(&files[0])), 0o600);

    // A folder opened to others is closed again; an entry others could read is not used.
    std::fs::set_permissions(cache.tokens(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::fs::set_permissions(
        cache.tokens().join(&files[0]),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    cache
        .use_in(app.case(bao))
        .run()
        .success()
        .stderr_contains("cached token ignored (the file is open to other users)");
    assert_eq!(mode(&cache.tokens()), 0o700);
    assert_eq!(mode(&cache.tokens().join(&files[0])), 0o600);
    assert_eq!(bao.approle_logins(&app.role_id), 2);
}

#[test]
fn a_token_close_to_expiry_is_replaced() {
    let bao = OpenBao::shared();
    // A 6 s lease is used while more than half of it is left (a lease under two minutes). A
    // machine too busy to start the second run within those 3 s cannot show the reuse: then
    // the test starts over with a new role, a few times at most.
    for _attempt in 0..3 {
        let app = App::new(bao, "expiry");
        app.token_ttl(bao, "6s");
        let cache = CacheHome::new();

        cache.use_in(app.case(bao)).run().success();
        let first = cache.only_token();
        let second = cache.use_in(app.case(bao)).run();
        second.success().stdout_contains(&app.filled());
        if !second.stderr_text().contains("using cached token for ") {
            second.stderr_contains("cached token too close to expiry (");
            continue;
        }
        assert_eq!(bao.approle_logins(&app.role_id), 1);

        // Wait until less than half of the lease is left (about 3 s from the login).
        let expires_at = cache.entries()[0].1["expires_at"]
            .as_u64()
            .expect("an expiry");
        let replace_from =
            UNIX_EPOCH + Duration::from_secs(expires_at) - Duration::from_millis(2700);
        if let Ok(wait) = replace_from.duration_since(SystemTime::now()) {
            std::thread::sleep(wait);
        }
        let third = cache.use_in(app.case(bao)).run();
        third.success().stdout_contains(&app.filled());
        let said = third.stderr_text();
        assert!(
            said.contains("cached token too close to expiry (")
                || said.contains("cached token expired for "),
            "{said}"
        );
        assert_eq!(bao.approle_logins(&app.role_id), 2);
        assert_ne!(cache.only_token(), first);
        return;
    }
    panic!("in three attempts, no second run started while the cached token was fresh");
}

#[test]
fn fifty_runs_at_once_all_succeed_and_leave_one_valid_entry() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "herd");
    let cache = CacheHome::new();
    let filled = app.filled();
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..50)
            .map(|_| {
                let case = cache.use_in(app.case(bao));
                let filled = &filled;
                scope.spawn(move || {
                    case.run().success().stdout_contains(filled);
                })
            })
            .collect();
        for run in runs {
            run.join().expect("the run succeeded");
        }
    });

    let logins = bao.approle_logins(&app.role_id);
    assert!((1..=50).contains(&logins), "{logins} logins");
    // One entry, no temporary files left behind, and its token works.
    assert_eq!(cache.files().len(), 1, "{:?}", cache.files());
    assert!(token_works(bao, &cache.only_token()));
    cache
        .use_in(app.case(bao))
        .run()
        .success()
        .stderr_contains("using cached token for ");
    assert_eq!(bao.approle_logins(&app.role_id), logins);
}

#[test]
fn a_revoked_cached_token_is_replaced_and_the_reads_retried() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "revoked");
    let cache = CacheHome::new();
    cache.use_in(app.case(bao)).run().success();
    let revoked = cache.only_token();
    bao.post("auth/token/revoke", &json!({ "token": revoked }));

    cache
        .use_in(app.case(bao))
        .secret(&revoked)
        .run()
        .success()
        .stdout_contains(&app.filled())
        .stderr_contains("using cached token for ")
        .stderr_contains("Vault refused the cached token for ");

    assert_eq!(bao.approle_logins(&app.role_id), 2);
    // One read in the first run; a refused one and its retry in the second.
    assert_eq!(bao.reads(&app.path), 3);
    let fresh = cache.only_token();
    assert_ne!(fresh, revoked);
    assert!(token_works(bao, &fresh));
}

#[test]
fn a_refusal_that_a_new_login_does_not_cure_is_reported_after_one_retry() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "refused");
    let cache = CacheHome::new();
    cache.use_in(app.case(bao)).run().success();
    // The role's policy no longer lets it read the secret.
    let role = bao.get(&format!("auth/approle/role/{}", app.role));
    let policy = role["data"]["token_policies"][0]
        .as_str()
        .expect("the role's policy")
        .to_owned();
    bao.policy(
        &policy,
        "path \"secret/data/nothing\" { capabilities = [\"read\"] }",
    );

    cache
        .use_in(app.case(bao))
        .secret(&app.value)
        .run()
        .failure()
        .stderr_contains("Vault refused the cached token for ")
        .stderr_contains(&format!(
            "error: c.yaml (ConfigMap/c): data.k0: <path:{}#a>: reading {}: Vault at {} answered \
             403 (permission denied): the token is valid, but its policies (",
            app.path,
            app.path,
            bao.addr()
        ))
        .stderr_contains(&format!(") do not allow reading {}\n", app.path));
    assert_eq!(
        bao.approle_logins(&app.role_id),
        2,
        "one login more, not a loop"
    );
    assert_eq!(bao.reads(&app.path), 3);
}

#[test]
fn disable_token_cache_neither_reads_nor_writes_the_cache() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "disabled");
    let cache = CacheHome::new();
    for _ in 0..2 {
        cache
            .use_in(app.case(bao))
            .args(["--disable-token-cache"])
            .run()
            .success()
            .stdout_contains(&app.filled())
            .stderr_contains("working without the token cache: disabled by --disable-token-cache");
    }
    assert_eq!(bao.approle_logins(&app.role_id), 2);
    assert!(
        !cache.path().join("vaultplate").exists(),
        "nothing is written"
    );

    // An entry made without the flag is neither used nor replaced with it.
    cache.use_in(app.case(bao)).run().success();
    let entry = cache.entries();
    cache
        .use_in(app.case(bao))
        .args(["--disable-token-cache"])
        .run()
        .success();
    assert_eq!(bao.approle_logins(&app.role_id), 4);
    assert_eq!(cache.entries(), entry);
}

#[test]
fn an_unusable_cache_folder_only_costs_a_login() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "unusable");
    let scratch = CacheHome::new();
    // A file where the cache folder should be: nothing can be created below it, even by root.
    let file = scratch.path().join("not-a-folder");
    std::fs::write(&file, "").expect("written");
    for _ in 0..2 {
        app.case(bao)
            .env("XDG_CACHE_HOME", &file)
            .run()
            .success()
            .stdout_contains(&app.filled())
            .stderr_contains("cannot write the token cache for ");
    }
    // Neither HOME nor XDG_CACHE_HOME usable.
    app.case(bao)
        .env("HOME", "")
        .run()
        .success()
        .stdout_contains(&app.filled())
        .stderr_contains(
            "working without the token cache: neither XDG_CACHE_HOME nor HOME is set to an absolute path",
        );
    assert_eq!(bao.approle_logins(&app.role_id), 3);
}

#[test]
fn a_corrupt_entry_is_ignored_and_replaced() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "corrupt");
    let cache = CacheHome::new();
    cache.use_in(app.case(bao)).run().success();
    let name = cache.files().remove(0);
    std::fs::write(cache.tokens().join(&name), "{\"version\":1,\"tok").expect("written");

    cache
        .use_in(app.case(bao))
        .run()
        .success()
        .stdout_contains(&app.filled())
        .stderr_contains("cached token ignored (the file is corrupt) for ");
    assert_eq!(bao.approle_logins(&app.role_id), 2);
    assert_eq!(cache.files(), [name]);
    assert!(token_works(bao, &cache.only_token()));
}

#[test]
fn a_ready_vault_token_is_never_cached() {
    let bao = OpenBao::shared();
    let app = App::new(bao, "ready");
    let cache = CacheHome::new();
    cache
        .use_in(Case::new())
        .file("c.yaml", &config_map(&app.path))
        .vault(bao)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains(&app.filled());
    assert!(!cache.path().join("vaultplate").exists());
}
