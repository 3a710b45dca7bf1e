# The vaultplate sidecar image for Argo CD's repo-server (see examples/argocd/).
#
# No base image: everything is copied from a context that scripts/build-image prepares, so the
# image holds exactly what a render needs and nothing to exec besides it (no shell):
#
#   bin/         vaultplate (release build), helm and kubectl (the pinned versions from
#                scripts/install-tools; static Go binaries). Kustomize is `kubectl kustomize`.
#   lib/         the shared libraries `ldd vaultplate` lists, at the same absolute paths
#                (glibc's loader, libc, libgcc_s): vaultplate is a dynamic glibc binary.
#   etc/         passwd and group with argocd (UID/GID 999), nsswitch.conf, and the CA bundle
#                at ssl/certs/ca-certificates.crt (Vault over TLS, helm repositories).
#   home/        /home/argocd with cmp-server/config (plugin.yaml) and cmp-server/plugins.
#   tmp/         an empty, world-writable /tmp; in a pod it is the sidecar's own emptyDir.
#
# In a pod the command is /var/run/argocd/argocd-cmp-server (Argo CD's, from the shared
# var-files volume); the entrypoint below only serves `podman run IMAGE version` and the like.
FROM scratch

ARG VERSION=unknown
ARG REVISION=unknown

COPY lib/ /
COPY etc/ /etc/
COPY bin/ /usr/local/bin/
COPY --chown=999:999 home/ /home/
COPY tmp/ /tmp/

# HOME on /tmp: helm's and kubectl's caches and config go to the writable emptyDir, so the root
# filesystem can be mounted read-only.
ENV PATH=/usr/local/bin \
    HOME=/tmp \
    TMPDIR=/tmp \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data

LABEL org.opencontainers.image.title="vaultplate" \
      org.opencontainers.image.description="Argo CD CMP sidecar: fills Vault placeholders in Kubernetes manifests" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"

USER 999:999
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/vaultplate"]
CMD ["version"]
