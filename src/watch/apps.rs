//! Argo CD Applications through the Kubernetes API (kube): the one call `watch` makes, a merge
//! patch that asks Argo CD for a hard refresh.

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::json;

use crate::config::kube_secret::innermost;
use crate::watch::record::AppId;

/// The annotation Argo CD reads (and removes) to re-render an Application from scratch.
pub(crate) const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/refresh";

/// How a patch went.
#[derive(Debug)]
pub(crate) enum Patched {
    /// Argo CD will re-render the Application.
    Done,
    /// No such Application (404): its record can go.
    Gone,
    /// The API refused (403): the watcher's RBAC lacks patch on applications there.
    Forbidden(String),
    /// Any other failure (unreachable, other status): try again on a later pass.
    Failed(String),
}

/// The Applications of one cluster.
pub(crate) struct Applications {
    client: kube::Client,
    resource: ApiResource,
    /// Where Applications named without a namespace live (`--argocd-namespace`).
    pub(crate) home: String,
    /// The API server's address, as messages name it.
    pub(crate) api: String,
}

impl Applications {
    /// The client kube infers (kubeconfig, else in-cluster); `home` defaults to its namespace.
    pub(crate) async fn connect(home: Option<String>) -> Result<Self, String> {
        let config = crate::config::kube_secret::client_config()
            .await
            .map_err(|e| e.to_string())?;
        let api = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let home = home.unwrap_or_else(|| config.default_namespace.clone());
        let _already_installed = rustls::crypto::CryptoProvider::install_default(
            rustls::crypto::ring::default_provider(),
        );
        let client = kube::Client::try_from(config)
            .map_err(|e| format!("cannot set up the Kubernetes client: {}", innermost(&e)))?;
        let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
        Ok(Applications {
            client,
            resource: ApiResource::from_gvk_with_plural(&gvk, "applications"),
            home,
            api,
        })
    }

    /// The namespace the Application `app` is in.
    pub(crate) fn namespace_of<'a>(&'a self, app: &'a AppId) -> &'a str {
        app.namespace.as_deref().unwrap_or(&self.home)
    }

    /// Annotates `app` with `argocd.argoproj.io/refresh: hard` (a merge patch).
    pub(crate) async fn refresh(&self, app: &AppId) -> Patched {
        let namespace = self.namespace_of(app);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &self.resource);
        let patch = json!({"metadata": {"annotations": {REFRESH_ANNOTATION: "hard"}}});
        match api
            .patch(&app.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Patched::Done,
            Err(kube::Error::Api(status)) if status.code == 404 => Patched::Gone,
            Err(kube::Error::Api(status)) if status.code == 403 => {
                Patched::Forbidden(status.message)
            }
            Err(kube::Error::Api(status)) => Patched::Failed(format!(
                "the Kubernetes API at {} answered {}: {}",
                self.api, status.code, status.message
            )),
            Err(other) => Patched::Failed(format!(
                "cannot reach the Kubernetes API at {}: {}",
                self.api,
                innermost(&other)
            )),
        }
    }
}
