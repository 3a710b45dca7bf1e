#!/usr/bin/env bash
# Renders applications with vaultplate in a CI pipeline, one file of manifests per application.
#
#   examples/ci/render.sh [--redact|--no-resolve] OUT_DIR APP_DIR...
#
# Vault settings come from the pipeline's environment (VAULT_ADDR, AVP_AUTH_TYPE and the method's
# settings; see the README). Each application is rendered by `vaultplate render` into
# OUT_DIR/<APP_DIR>.yaml, its path kept (apps/prod/shop -> OUT_DIR/apps/prod/shop.yaml, so that
# apps/staging/shop has a file of its own); the Helm release name is the folder name.
# vaultplate prints all or nothing, so a file exists only for a render that fully succeeded.
# Without a flag the files hold secrets: they are created private (umask 077); keep them out
# of artifacts and logs. With --redact they hold masks instead (set VAULTPLATE_REDACT_KEY for
# masks that compare across runs), with --no-resolve the placeholders as written.
set -euo pipefail

flags=()
case "${1:-}" in
  --redact|--no-resolve) flags=("$1"); shift ;;
esac
if [ $# -lt 2 ]; then
  echo "usage: $0 [--redact|--no-resolve] OUT_DIR APP_DIR..." >&2
  exit 2
fi
if ! command -v vaultplate >/dev/null; then
  echo "vaultplate is not on PATH: install it (or add its folder to PATH) first" >&2
  exit 2
fi
out=$1
shift
umask 077
mkdir -p "$out"

failed=0
for app in "$@"; do
  if [ ! -d "$app" ]; then
    echo "FAILED: $app: no such application folder" >&2
    failed=1
    continue
  fi
  name=$(basename "$(cd "$app" && pwd)")
  # The path as given, without ./ or a leading /, names the output file.
  rel=${app#./}
  rel=${rel#/}
  rel=${rel%/}
  target="$out/$rel.yaml"
  mkdir -p "$(dirname "$target")"
  if ARGOCD_APP_NAME="$name" vaultplate render "${flags[@]}" "$app" >"$target.partial"; then
    mv "$target.partial" "$target"
    echo "rendered $app -> $target" >&2
  else
    rm -f "$target.partial"
    echo "FAILED: $app" >&2
    failed=1
  fi
done
exit "$failed"
