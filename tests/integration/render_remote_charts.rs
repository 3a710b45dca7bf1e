//! Charts whose `Chart.yaml` depends on charts from a Helm HTTP repository (basic auth) and an
//! OCI registry (htpasswd auth), both real servers on loopback ([`ChartRepos::shared`]): the operator's
//! credentials, the shared cache, `Chart.lock`, and an application directory left as it was.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::chart_repos::{ChartRepos, REGISTRY_PASSWORD, REGISTRY_USER, REPO_PASSWORD};
use crate::support::{Case, tool};

/// A chart (`shop`) depending on `deps` (`name`, `version`, `repository`), in a folder of its
/// own, with the operator's credentials file next to it.
fn app(deps: &[(&str, &str, &str)], lock: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("templates")).expect("mkdir");
    let mut chart = String::from("apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n");
    for (name, version, repo) in deps {
        chart.push_str(&format!(
            "  - name: {name}\n    version: \"{version}\"\n    repository: \"{repo}\"\n"
        ));
    }
    std::fs::write(app.join("Chart.yaml"), chart).expect("write");
    std::fs::write(
        app.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: parent}\n",
    )
    .expect("write");
    if let Some(lock) = lock {
        std::fs::write(app.join("Chart.lock"), lock).expect("write");
    }
    std::fs::write(
        dir.path().join("creds.yaml"),
        ChartRepos::shared().credentials_yaml(),
    )
    .expect("write");
    dir
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files.insert(path.display().to_string(), Vec::new());
                pending.push(path);
            } else {
                files.insert(
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    files
}

fn render(dir: &Path) -> Case {
    let _ = tool("docker-registry");
    Case::new()
        .env("VAULTPLATE_CHART_CREDENTIALS", dir.join("creds.yaml"))
        .secret(REPO_PASSWORD)
        .secret(REGISTRY_PASSWORD)
        .args(["render".as_ref(), dir.join("app").as_os_str()])
}

fn both(repos: &ChartRepos) -> [(&'static str, &'static str, String); 2] {
    [
        ("web-lib", "0.1.0", format!("{}/", repos.http.addr())),
        (
            "oci-lib",
            "0.2.0",
            format!("oci://{}/charts", repos.registry),
        ),
    ]
}

fn refs<'a>(deps: &'a [(&'static str, &'static str, String)]) -> Vec<(&'a str, &'a str, &'a str)> {
    deps.iter().map(|(n, v, r)| (*n, *v, r.as_str())).collect()
}

#[test]
fn http_and_oci_dependencies_render_once_into_the_cache_and_leave_the_app_as_it_was() {
    let repos = ChartRepos::shared();
    let deps = both(repos);
    let dir = app(&refs(&deps), None);
    let cache = dir.path().join("cache");
    let before = snapshot(&dir.path().join("app"));
    let run = || {
        render(dir.path())
            .env("VAULTPLATE_CHART_CACHE", &cache)
            .run()
            .success()
            .stdout_contains("metadata: {name: from-web-lib}")
            .stdout_contains("metadata: {name: from-oci-lib}")
            .stdout_contains("metadata: {name: parent}");
    };
    run();
    assert_eq!(
        snapshot(&dir.path().join("app")),
        before,
        "the app directory changed"
    );
    let requests = repos.http.requests();
    run();
    assert_eq!(
        repos.http.requests(),
        requests,
        "a cached chart was downloaded again"
    );
    assert_eq!(
        snapshot(&dir.path().join("app")),
        before,
        "the app directory changed"
    );
}

#[test]
fn concurrent_renders_share_a_cold_cache() {
    let repos = ChartRepos::shared();
    let deps = both(repos);
    let dir = app(&refs(&deps), None);
    let cache = dir.path().join("cache");
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    render(dir.path())
                        .env("VAULTPLATE_CHART_CACHE", &cache)
                        .run()
                        .success()
                        .stdout_contains("metadata: {name: from-oci-lib}");
                })
            })
            .collect();
        runs.into_iter()
            .for_each(|r| r.join().expect("render thread"));
    });
    let archives = std::fs::read_dir(&cache)
        .expect("cache")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "tgz"))
        })
        .count();
    assert_eq!(archives, 2);
}

#[test]
fn credentials_reach_their_own_repository_only() {
    let repos = ChartRepos::shared();
    let other = format!("{}/", repos.other.addr());
    let http = format!("{}/", repos.http.addr());
    // other-lib names the other host itself; stray-lib is listed by the repository with the
    // credentials, but its archive lies on the other host.
    let dir = app(
        &[
            ("other-lib", "0.1.0", &other),
            ("stray-lib", "0.1.0", &http),
        ],
        None,
    );
    render(dir.path())
        .env("VAULTPLATE_CHART_CACHE", "off")
        .run()
        .success()
        .stdout_contains("metadata: {name: from-other-lib}")
        .stdout_contains("metadata: {name: from-stray-lib}");
    let seen = repos.other_seen.lock().expect("lock").clone();
    assert!(
        seen.iter().any(|(t, _)| t.contains("stray-lib")),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|(_, auth)| auth.is_none()),
        "credentials went to the other host: {seen:?}"
    );
}

#[test]
fn an_application_cannot_name_the_credentials() {
    let repos = ChartRepos::shared();
    let http = format!("{}/", repos.http.addr());
    let dir = app(&[("web-lib", "0.1.0", &http)], None);
    Case::new()
        .env(
            "ARGOCD_ENV_VAULTPLATE_CHART_CREDENTIALS",
            dir.path().join("creds.yaml"),
        )
        .secret(REPO_PASSWORD)
        .args(["render".as_ref(), dir.path().join("app").as_os_str()])
        .run()
        .failure()
        .stderr_contains(
            "Chart.yaml: dependency web-lib: cannot fetch web-lib 0.1.0 from http://127.0.0.1:",
        );
}

#[test]
fn a_user_name_in_a_dependency_url_is_refused() {
    let repos = ChartRepos::shared();
    let url = repos.http.addr().replace("http://", "http://charts@");
    let dir = app(&[("web-lib", "0.1.0", &url)], None);
    render(dir.path())
        .run()
        .failure()
        .stderr_contains("Chart.yaml: dependency web-lib: \"http://charts@127.0.0.1:")
        .stderr_contains("carries a user name: credentials come from the operator's VAULTPLATE_CHART_CREDENTIALS file only; remove it from the URL");
}

#[test]
fn chart_lock_pins_versions_and_must_match_chart_yaml() {
    let repos = ChartRepos::shared();
    let http = format!("{}/", repos.http.addr());
    let lock = format!(
        "dependencies:\n- name: web-lib\n  repository: {http}\n  version: 0.1.0\ndigest: sha256:0\ngenerated: \"2026-01-01T00:00:00Z\"\n"
    );
    let dir = app(&[("web-lib", "9.9.9", &http)], Some(&lock));
    render(dir.path())
        .run()
        .success()
        .stdout_contains("metadata: {name: from-web-lib}");
    let stale = lock.replace("web-lib", "old-lib");
    let dir = app(&[("web-lib", "0.1.0", &http)], Some(&stale));
    render(dir.path())
        .run()
        .failure()
        .stderr("error: Chart.lock: does not list the dependencies of Chart.yaml: run `helm dependency update` and commit the new Chart.lock, or remove it\n");
}

#[test]
fn an_oci_registry_that_wants_a_password_gets_the_operators_and_no_other() {
    let repos = ChartRepos::shared();
    let oci = format!("oci://{}/charts", repos.registry);
    let dir = app(&[("oci-lib", "0.2.0", &oci)], None);
    let creds = dir.path().join("creds.yaml");
    let fetch_error = format!(
        "error: Chart.yaml: dependency oci-lib: cannot fetch oci-lib 0.2.0 from {oci}: helm dependency update failed"
    );
    // With the operator's user name and password it renders: every other OCI test here logs
    // in. Without credentials for the registry, it does not.
    std::fs::write(&creds, repos.credentials_with_registry("{plainHttp: true}")).expect("write");
    render(dir.path())
        .env("VAULTPLATE_CHART_CACHE", "off")
        .run()
        .failure()
        .stderr_contains(&fetch_error)
        .stderr_contains("authorization failed: no basic auth credentials");
    // A wrong password: refused, and shown nowhere (nor as `user:password`, nor in base64).
    let wrong = "wr0ng-registry-passw0rd";
    std::fs::write(
        &creds,
        repos.credentials_with_registry(&format!(
            "{{username: {REGISTRY_USER}, password: {wrong}, plainHttp: true}}"
        )),
    )
    .expect("write");
    render(dir.path())
        .env("VAULTPLATE_CHART_CACHE", "off")
        .secret(wrong)
        .secret(&format!("{REGISTRY_USER}:{wrong}"))
        .run()
        .failure()
        .stderr_contains(&fetch_error)
        .stderr_contains("401 Unauthorized");
}

#[test]
fn registry_credentials_reach_their_own_registry_only() {
    let repos = ChartRepos::shared();
    // The other host asks for credentials as a registry would; the operator has some for the
    // registry only.
    let other = repos.other.addr().replace("http://", "oci://") + "/elsewhere";
    let dir = app(&[("other-lib", "0.1.0", &other)], None);
    render(dir.path())
        .env("VAULTPLATE_CHART_CACHE", "off")
        .run()
        .failure()
        .stderr_contains("cannot fetch other-lib 0.1.0 from oci://127.0.0.1:")
        .stderr_contains("no basic auth credentials");
    let seen = repos.other_seen.lock().expect("lock").clone();
    let asked: Vec<_> = seen
        .iter()
        .filter(|(t, _)| t.starts_with("/v2/elsewhere/"))
        .collect();
    assert!(
        !asked.is_empty(),
        "helm never asked the other host: {seen:?}"
    );
    assert!(
        asked.iter().all(|(_, auth)| auth.is_none()),
        "registry credentials went to the other host: {asked:?}"
    );
}
