#!/usr/bin/env python3
"""Deterministic workloads for vaultplate's benchmarks (Python 3 standard library only).

A workload is a stream of N Kubernetes manifests in groups of ten, written the way
`helm template` prints them (`---` and a `# Source:` comment before each document):

  0  Deployment annotated with avp.kubernetes.io/path: four generic placeholders, one of them
     typed (`replicas: <replicas>`)
  1  Secret: three inline placeholders in stringData (two in one string), two in data with
     `| base64encode`; every 20th group pins one of them to version 1
  2  ConfigMap: one inline placeholder, of a path shared by many applications
  3-9 plain ConfigMaps and Services, one of them with a block scalar and HTML (`<a href>`)

That is one placeholder per document and one application path per twenty placeholders (two
groups share an application), so 20,000 documents read about 1,000 distinct paths.

The same stream with every placeholder already replaced, written as vaultplate writes it
(double-quoted strings, plain numbers), is the `--filled` variant: vaultplate's output for both
streams is byte for byte the same, and the filled one needs no Vault at all.

Nothing here is random: the output depends only on the arguments.

  workload.py stream N [--filled]   the stream on stdout
  workload.py secrets N             the secrets to seed, one JSON object per line: {"path", "data"}
  workload.py stats N               counts as JSON: documents, placeholders, distinct
                                    (path, version) pairs, reads in AVP's pattern, ...
"""

import base64
import hashlib
import json
import sys

GROUP = 10
SHARED_PATHS = 7
MOUNT = "secret"
PREFIX = "bench"


def digest(*parts):
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def app_path(app):
    return f"{MOUNT}/data/{PREFIX}/app-{app:05d}"


def shared_path(n):
    return f"{MOUNT}/data/{PREFIX}/shared-{n}"


def secret_data(path):
    """The secret stored at `path` (every path holds the same keys)."""
    h = digest("secret", path)
    return {
        "username": "user-" + h[:8],
        "password": "pw-" + h[8:32],
        "api-key": "key-" + h[32:56],
        "host": "svc-" + h[56:62] + ".internal",
        "replicas": int(h[62:64], 16) % 3 + 1,
    }


def quoted(value):
    """How vaultplate writes a string it filled: a JSON (YAML double-quoted) string."""
    return json.dumps(value, ensure_ascii=False)


class Stream:
    """Writes the stream, with placeholders or filled, and counts what it wrote."""

    def __init__(self, filled):
        self.filled = filled
        self.out = []
        self.placeholders = 0
        self.inline = 0
        self.annotated = 0
        self.pairs = set()

    def inline_ref(self, path, key, version=None, modifier=None):
        """`<path:PATH#KEY[#V][ | modifier]>` or its filled value (unquoted text)."""
        self.placeholders += 1
        self.inline += 1
        self.pairs.add((path, version))
        if self.filled:
            value = str(secret_data(path)[key])
            if modifier == "base64encode":
                value = base64.b64encode(value.encode()).decode()
            return value
        text = f"{path}#{key}" + (f"#{version}" if version is not None else "")
        return f"<path:{text}" + (f" | {modifier}" if modifier else "") + ">"

    def generic_ref(self, path, version, key):
        """`<KEY>` of an annotated manifest, or its filled value (unquoted text)."""
        self.placeholders += 1
        self.pairs.add((path, version))
        if self.filled:
            return str(secret_data(path)[key])
        return f"<{key}>"

    def string(self, text_with_placeholders):
        """A whole scalar holding placeholders: plain when not filled, quoted when filled."""
        return quoted(text_with_placeholders) if self.filled else text_with_placeholders

    def document(self, source, body):
        self.out.append(f"---\n# Source: bench/templates/{source}\n{body}")

    def group(self, g):
        app = g // 2
        path = app_path(app)
        name = f"app-{g:05d}"
        labels = f"    app.kubernetes.io/name: {name}\n    app.kubernetes.io/part-of: bench-{app:05d}\n"

        # 0: annotated Deployment, generic placeholders.
        self.annotated += 1
        replicas = self.generic_ref(path, None, "replicas")
        user = self.string(self.generic_ref(path, None, "username"))
        password = self.string(self.generic_ref(path, None, "password"))
        api_key = self.string(self.generic_ref(path, None, "api-key"))
        self.document(
            "deployment.yaml",
            f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: bench
  labels:
{labels}  annotations:
    avp.kubernetes.io/path: "{path}"
spec:
  replicas: {replicas}   # from Vault
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: app
          image: "registry.example/bench/{name}:1.{g % 17}.{g % 5}"
          env:
            - name: DB_USER
              value: {user}
            - name: DB_PASSWORD
              value: {password}
            - name: API_KEY
              value: {api_key}
            - name: LOG_LEVEL
              value: "info"
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
            requests: {{cpu: 100m, memory: 128Mi}}
""",
        )

        # 1: Secret, inline placeholders in stringData and base64-encoded ones in data.
        version = 1 if g % 20 == 0 else None
        username = self.string(self.inline_ref(path, "username"))
        url = (
            "postgres://"
            + self.inline_ref(path, "username")
            + ":"
            + self.inline_ref(path, "password")
            + f"@db-{app:05d}.bench.svc:5432/app"
        )
        url = quoted(url)
        password_b64 = self.string(self.inline_ref(path, "password", None, "base64encode"))
        key_b64 = self.string(self.inline_ref(path, "api-key", version, "base64encode"))
        self.document(
            "secret.yaml",
            f"""apiVersion: v1
kind: Secret
metadata:
  name: {name}-db
  namespace: bench
  labels:
    app.kubernetes.io/name: {name}
type: Opaque
stringData:
  username: {username}
  url: {url}
data:
  password: {password_b64}
  api-key: {key_b64}
""",
        )

        # 2: ConfigMap with one placeholder of a shared path.
        shared = shared_path(g % SHARED_PATHS)
        endpoint = quoted("https://" + self.inline_ref(shared, "host") + "/v1")
        self.document(
            "configmap-endpoints.yaml",
            f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-endpoints
  namespace: bench
data:
  endpoint: {endpoint}
  timeout: "30s"
""",
        )

        # 3-9: plain documents.
        for r in range(3, GROUP):
            if r in (4, 6, 8):
                port = 8000 + r
                self.document(
                    "service.yaml",
                    f"""apiVersion: v1
kind: Service
metadata:
  name: {name}-svc-{r}
  namespace: bench
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: {port}
      targetPort: 8080
""",
                )
            elif r == 9:
                self.document(
                    "configmap-page.yaml",
                    f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-page
  namespace: bench
data:
  index.html: |
    <html><body>
      <a href="https://example.com/{name}">{name}</a> &lt;ok&gt;
    </body></html>
  mode: "0644"
""",
                )
            else:
                self.document(
                    "configmap.yaml",
                    f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config-{r}
  namespace: bench
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "a,b,{g % 9}"
  enabled: "yes"
""",
                )


def build(n, filled):
    """The stream of `n` documents (a multiple of ten), with what it counted."""
    stream = Stream(filled)
    for g in range(n // GROUP):
        stream.group(g)
    return stream


def text(n, filled):
    return "".join(build(n, filled).out)


def secrets(n):
    """The secrets the stream of `n` documents reads: (path, data), sorted by path."""
    return [(path, secret_data(path)) for path in sorted({p for p, _ in build(n, False).pairs})]


def build_stats(n):
    stream = build(n, False)
    return {
        "documents": n,
        "bytes": len("".join(stream.out).encode()),
        "filled_bytes": len(text(n, True).encode()),
        "placeholders": stream.placeholders,
        "inline_placeholders": stream.inline,
        "annotated_manifests": stream.annotated,
        "distinct_paths": len({p for p, _ in stream.pairs}),
        "distinct_pairs": len(stream.pairs),
        # argocd-vault-plugin reads once per annotated manifest and once per inline placeholder
        # occurrence.
        "avp_reads": stream.annotated + stream.inline,
    }


def main(argv):
    if len(argv) < 3 or argv[1] not in ("stream", "secrets", "stats"):
        sys.exit(__doc__)
    n = int(argv[2])
    if n <= 0 or n % GROUP:
        sys.exit(f"the number of documents must be a positive multiple of {GROUP}")
    out = sys.stdout
    if argv[1] == "stream":
        out.write(text(n, "--filled" in argv[3:]))
    elif argv[1] == "secrets":
        for path, data in secrets(n):
            out.write(json.dumps({"path": path, "data": data}) + "\n")
    else:
        out.write(json.dumps(build_stats(n)) + "\n")


if __name__ == "__main__":
    main(sys.argv)
