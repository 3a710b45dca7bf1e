#!/usr/bin/env bash
# Renders applications with vaultplate in a CI pipeline, one file of manifests per application.
#
#   examples/ci/render.sh OUT_DIR APP_DIR...
#
# Vault settings come from the pipeline's environment (VAULT_ADDR, AVP_AUTH_TYPE and the method's
# settings; see the README). Each application is rendered by `vaultplate render` into
# OUT_DIR/<folder name>.yaml; the Helm release name is the folder name. vaultplate prints all or
# nothing, so a file exists only for a render that fully succeeded. The files hold secrets:
# they are created private (umask 077); keep them out of artifacts and logs.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 OUT_DIR APP_DIR..." >&2
  exit 2
fi
out=$1
shift
umask 077
mkdir -p "$out"

failed=0
for app in "$@"; do
  name=$(basename "$(cd "$app" && pwd)")
  if ARGOCD_APP_NAME="$name" vaultplate render "$app" >"$out/$name.yaml.partial"; then
    mv "$out/$name.yaml.partial" "$out/$name.yaml"
    echo "rendered $app -> $out/$name.yaml" >&2
  else
    rm -f "$out/$name.yaml.partial"
    echo "FAILED: $app" >&2
    failed=1
  fi
done
exit "$failed"
