//! Remote chart repositories on loopback, started once per test process
//! ([`ChartRepos::shared`]): a Helm HTTP repository (`helm package` + `helm repo index`,
//! served with basic auth), a second HTTP host that records who asks it for what, and an OCI
//! registry (Debian's `docker-registry`, charts pushed with `helm push`) that asks for a user
//! name and password (htpasswd).
//!
//! The registry is plain HTTP on loopback: helm 3.17 talks plain HTTP to a loopback registry
//! even without `--plain-http`, but the credentials file still says `plainHttp: true`, as a
//! registry without TLS elsewhere needs.

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::http::{Reply, Request, Server};
use super::openbao::LIFELINE;
use super::tool;

/// The HTTP repository's user and password.
pub(crate) const REPO_USER: &str = "charts";
pub(crate) const REPO_PASSWORD: &str = "h3lm-repo-passw0rd";

/// The registry's user and password.
pub(crate) const REGISTRY_USER: &str = "oci-puller";
pub(crate) const REGISTRY_PASSWORD: &str = "oci-passw0rd-7f3e";
/// The registry's htpasswd file: docker-registry (distribution 2.8) takes bcrypt hashes only,
/// and no htpasswd tool or bcrypt crate is at hand, so the hash of [`REGISTRY_PASSWORD`] was
/// made once, with cost 4 to keep each checked request cheap:
/// `python3 -c "import crypt; print(crypt.crypt('oci-passw0rd-7f3e',
/// crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"`.
const REGISTRY_HTPASSWD: &str =
    "oci-puller:$2b$04$mylGSUmhVsh/KQK7ZAtVguywxXq3s3QfdipV2Mc6lPSEOCVNMLdUC\n";

/// A request's target and `Authorization` header.
pub(crate) type Seen = (String, Option<String>);

/// The servers, and the charts they hold: `web-lib` 0.1.0 (HTTP repository, also listed there
/// as `stray-lib` 0.1.0 with its archive on the other host), `oci-lib` 0.2.0 (registry,
/// `oci://<registry>/charts`, [`REGISTRY_USER`] and [`REGISTRY_PASSWORD`]), `other-lib` 0.1.0
/// (the other host, no auth; it answers registry requests, `/v2/...`, with a Basic
/// challenge, as a registry that wants credentials does).
pub(crate) struct ChartRepos {
    /// `http://127.0.0.1:PORT` of the repository with basic auth.
    pub(crate) http: Server,
    /// Another host, which records every request.
    pub(crate) other: Server,
    /// `(target, Authorization header)` of every request `other` received.
    pub(crate) other_seen: Arc<Mutex<Vec<Seen>>>,
    /// `host:port` of the registry.
    pub(crate) registry: String,
    _dir: tempfile::TempDir,
    _lifeline: ChildStdin,
}

impl ChartRepos {
    /// The servers of this test process, started by the first caller.
    pub(crate) fn shared() -> &'static ChartRepos {
        static SHARED: OnceLock<Result<ChartRepos, String>> = OnceLock::new();
        SHARED
            .get_or_init(ChartRepos::start)
            .as_ref()
            .unwrap_or_else(|e| panic!("chart repositories: {e}"))
    }

    /// The credentials file for the HTTP repository and the (plain-HTTP) registry.
    pub(crate) fn credentials_yaml(&self) -> String {
        self.credentials_with_registry(&format!(
            "{{username: {REGISTRY_USER}, password: {REGISTRY_PASSWORD}, plainHttp: true}}"
        ))
    }

    /// The credentials file for the HTTP repository, with `fields` (a YAML flow mapping) for
    /// the registry.
    pub(crate) fn credentials_with_registry(&self, fields: &str) -> String {
        format!(
            "{}/:\n  username: {REPO_USER}\n  password: {REPO_PASSWORD}\noci://{}/charts: {fields}\n",
            self.http.addr(),
            self.registry
        )
    }

    fn start() -> Result<ChartRepos, String> {
        let dir = tempfile::Builder::new()
            .prefix("vaultplate-chart-repos-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let root = dir.path().to_path_buf();
        let files = root.join("http");
        let other_files = root.join("other");
        for d in [&files, &other_files] {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        let want = format!(
            "Basic {}",
            BASE64.encode(format!("{REPO_USER}:{REPO_PASSWORD}"))
        );
        let served = files.clone();
        let http = Server::start("chart repository", move |req| {
            if req.header("authorization") != Some(want.as_str()) {
                return raw(401, "text/plain", b"unauthorized".to_vec());
            }
            serve(&served, req)
        });
        let other_seen = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&other_seen);
        let other_served = other_files.clone();
        let other = Server::start("other chart host", move |req| {
            let auth = req.header("authorization").map(str::to_owned);
            let challenge = req.target.starts_with("/v2/") && auth.is_none();
            seen.lock().expect("lock").push((req.target.clone(), auth));
            if challenge {
                return Reply::Raw(
                    b"HTTP/1.1 401 X\r\nWWW-Authenticate: Basic realm=\"other\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec(),
                );
            }
            serve(&other_served, req)
        });

        package(&root, "web-lib", "0.1.0", &files)?;
        package(&root, "stray-lib", "0.1.0", &files)?;
        package(&root, "stray-lib", "0.1.0", &other_files)?;
        package(&root, "other-lib", "0.1.0", &other_files)?;
        helm(
            &root,
            &["repo", "index", ".", "--url", other.addr()],
            &other_files,
        )?;
        helm(&root, &["repo", "index", ".", "--url", http.addr()], &files)?;
        // The repository's index sends helm to the other host for stray-lib's archive.
        let index_file = files.join("index.yaml");
        let index = std::fs::read_to_string(&index_file).map_err(|e| e.to_string())?;
        let stray = "/stray-lib-0.1.0.tgz";
        let index = index.replace(
            &format!("{}{stray}", http.addr()),
            &format!("{}{stray}", other.addr()),
        );
        std::fs::write(&index_file, index).map_err(|e| e.to_string())?;
        std::fs::remove_file(files.join("stray-lib-0.1.0.tgz")).map_err(|e| e.to_string())?;

        let (registry, lifeline) = start_registry(&root)?;
        package(&root, "oci-lib", "0.2.0", &root)?;
        // `helm registry login` would do; this is the file it writes.
        let login = root.join("helm-home/config/registry/config.json");
        std::fs::create_dir_all(login.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
        let auth = BASE64.encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"));
        std::fs::write(
            &login,
            format!(r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}}}}"#),
        )
        .map_err(|e| e.to_string())?;
        helm(
            &root,
            &[
                "push",
                "oci-lib-0.2.0.tgz",
                &format!("oci://{registry}/charts"),
                "--plain-http",
            ],
            &root,
        )?;
        Ok(ChartRepos {
            http,
            other,
            other_seen,
            registry,
            _dir: dir,
            _lifeline: lifeline,
        })
    }
}

/// Answers `GET /<file>` from `dir`.
fn serve(dir: &Path, req: &Request) -> Reply {
    let name = req.target.trim_start_matches('/');
    if name.contains('/') || name.contains("..") {
        return raw(404, "text/plain", b"not found".to_vec());
    }
    match std::fs::read(dir.join(name)) {
        Ok(body) => raw(200, "application/octet-stream", body),
        Err(_) => raw(404, "text/plain", b"not found".to_vec()),
    }
}

fn raw(status: u16, kind: &str, body: Vec<u8>) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend(body);
    Reply::Raw(out)
}

/// Makes chart `name` `version` (one ConfigMap named `from-<name>`) and packages it into
/// `dest`.
fn package(root: &Path, name: &str, version: &str, dest: &Path) -> Result<(), String> {
    let src = root.join("src").join(name);
    std::fs::create_dir_all(src.join("templates")).map_err(|e| e.to_string())?;
    std::fs::write(
        src.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        src.join("templates/cm.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: from-{name}}}\n"),
    )
    .map_err(|e| e.to_string())?;
    let dest = dest.display().to_string();
    helm(
        root,
        &[
            "package",
            &src.display().to_string(),
            "--destination",
            &dest,
        ],
        root,
    )
}

/// Runs the pinned helm with a private home under `root`.
fn helm(root: &Path, args: &[&str], cwd: &Path) -> Result<(), String> {
    let home = root.join("helm-home");
    let out = Command::new(tool("helm"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("HOME", &home)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .map_err(|e| format!("helm {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "helm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Starts `docker-registry` on a free loopback port, with htpasswd auth, tied to this
/// process's life.
fn start_registry(root: &Path) -> Result<(String, ChildStdin), String> {
    let binary = tool("docker-registry");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let dir = root.join("registry");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let htpasswd = dir.join("htpasswd");
    std::fs::write(&htpasswd, REGISTRY_HTPASSWD).map_err(|e| e.to_string())?;
    let config: PathBuf = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: vaultplate-test\n    path: {}\n",
            dir.join("data").display(),
            htpasswd.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut child = Command::new("sh")
        .args(["-c", LIFELINE, "registry-lifeline"])
        .arg(&dir)
        .arg(binary)
        .arg("serve")
        .arg(&config)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting docker-registry: {e}"))?;
    let lifeline = child.stdin.take().ok_or("no stdin")?;
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("docker-registry did not listen on {addr}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((addr, lifeline))
}
