#!/usr/bin/env python3
"""vaultplate's benchmarks (issue 6), Python 3 standard library only. Started by `bench/run`,
which builds the binary and starts a throwaway OpenBao with a file audit device.

Measures, for every workload size (see bench/workload.py):
  - `vaultplate generate -` on the stream with placeholders, and on the same stream already
    filled (the floor: parse + emit, no Vault): wall time, CPU time, peak RSS (measured by
    bench/measure.rs); and with `--no-resolve` on the stream with placeholders (parsed and
    scanned, no Vault), to split generate's CPU beyond the floor into the scan, the reads'
    system time and the rest; and the peak of anonymous memory of the floor and of generate,
    sampled in runs of their own;
  - Vault requests per run from the audit log: logins and reads, against the distinct
    (path, version) pairs and the reads argocd-vault-plugin's pattern would make;
  - OpenBao's own CPU time per run (from /proc), and from it the least wall time any client
    could take on this machine: (vaultplate's CPU + OpenBao's CPU) / cores;
  - for one size, the same runs with a role that also carries OpenBao's `default` policy (the
    README advises against it: it doubles OpenBao's CPU per read);
  - the 20,000-document run through a proxy that delays every request to Vault by 20 ms;
  - `vaultplate render` of the examples against bare `helm template` / `kubectl kustomize`
    (interleaved; the overhead is the median of the paired differences), and vaultplate's own
    share of it: the same render with an instant stand-in for the tool
    (bench/standin.rs, printing what the tool printed) against the stand-in alone;
  - `vaultplate version`'s start-up time.

Every child runs with a clean environment; all traffic stays on 127.0.0.1. Numbers are printed
as a table (and written as JSON with --json); nothing here asserts on them.

`bench.py proxy --listen PORT --upstream PORT --delay-ms N` runs the delaying proxy alone.
"""

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import workload  # noqa: E402

MB = 1_000_000
POLICY = 'path "secret/data/*" { capabilities = ["read"] }\npath "kv1/*" { capabilities = ["read"] }\n'


# --- OpenBao ------------------------------------------------------------------------------


class Vault:
    """A root-token client of the throwaway OpenBao, and its audit log."""

    def __init__(self, addr, audit_log, pid=None):
        url = urllib.parse.urlsplit(addr)
        self.addr = addr
        self.host, self.port = url.hostname, url.port
        self.audit_log = Path(audit_log)
        self.pid = pid

    def cpu(self):
        """OpenBao's CPU seconds so far (user + system, from /proc), or None without its pid."""
        if not self.pid:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def call(self, method, path, body=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"X-Vault-Token": "root", "Content-Type": "application/json"}
            conn.request(method, f"/v1/{path}", body=data, headers=headers)
            response = conn.getresponse()
            text = response.read()
            if not 200 <= response.status < 300:
                raise RuntimeError(f"OpenBao: {method} {path}: {response.status} {text[:300]!r}")
            return json.loads(text) if text.strip() else None
        finally:
            if own:
                conn.close()

    def set_up(self):
        """KV v1 at kv1/ (the examples) and AppRole; returns the credentials of two roles with
        read access: `bench`, set up as the README advises (its policy only), and
        `bench-default`, which also carries OpenBao's `default` policy."""
        self.call("POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
        self.call("POST", "sys/auth/approle", {"type": "approle"})
        self.call("POST", "sys/policies/acl/bench", {"policy": POLICY})
        roles = {"bench": {"token_no_default_policy": True}, "bench-default": {}}
        credentials = {}
        for role, extra in roles.items():
            self.call("POST", f"auth/approle/role/{role}", {"token_policies": ["bench"], "token_ttl": "1h", **extra})
            role_id = self.call("GET", f"auth/approle/role/{role}/role-id")["data"]["role_id"]
            secret_id = self.call("POST", f"auth/approle/role/{role}/secret-id", {})["data"]["secret_id"]
            credentials[role] = (role_id, secret_id)
        return credentials

    def seed(self, secrets, threads=4):
        """Writes (path, data) pairs; KV v2 paths are `secret/data/...`, KV v1 `kv1/...`."""
        secrets = list(secrets)
        errors = []

        def worker(part):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                for path, data in part:
                    body = {"data": data} if path.startswith("secret/data/") else data
                    self.call("POST", path, body, conn)
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                conn.close()

        workers = [threading.Thread(target=worker, args=(secrets[i::threads],)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if errors:
            raise errors[0]

    def mark(self):
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def requests_since(self, mark):
        """Requests in the audit log after `mark`: logins, reads of secrets, and the rest."""
        counts = {"logins": 0, "reads": 0, "other": 0, "read_paths": {}}
        with open(self.audit_log, "rb") as log:
            log.seek(mark)
            for line in log:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("type") != "request":
                    continue
                request = entry.get("request", {})
                path = request.get("path", "")
                if path.startswith("auth/") and "/login" in path:
                    counts["logins"] += 1
                elif request.get("operation") == "read" and not path.startswith(("sys/", "auth/")):
                    counts["reads"] += 1
                    # A GET's query (`?version=N`) is in the request's data.
                    key = (path, str((request.get("data") or {}).get("version")))
                    counts["read_paths"][key] = counts["read_paths"].get(key, 0) + 1
                else:
                    counts["other"] += 1
        return counts


# --- Running and measuring children ---------------------------------------------------------


MEASURE = None  # the launcher built from bench/measure.rs (see there why)


def measure(argv, env, stdin=None, stdout=None, cwd=None, anon_peak=False):
    """Runs argv; returns wall and CPU seconds, peak RSS in bytes, the exit status, stderr; with
    anon_peak, also the largest sampled anonymous memory (`anon_peak`, bytes; times not to be
    used: the sampling slows the child)."""
    launcher = [MEASURE] + (["--anon-peak"] if anon_peak else [])
    for flag, value in (("--stdin", stdin), ("--stdout", stdout), ("--cwd", cwd)):
        if value:
            launcher += [flag, str(value)]
    done = subprocess.run(launcher + ["--"] + [str(a) for a in argv], env=env, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"measure failed on {argv}: {done.stderr.decode(errors='replace')}")
    result = json.loads(done.stdout)
    return {
        "wall": result["wall"],
        "cpu": result["user"] + result["sys"],
        "user": result["user"],
        "sys": result["sys"],
        "rss": result["maxrss_kb"] * 1024,
        **({"anon_peak": result["anon_peak_kb"] * 1024} if "anon_peak_kb" in result else {}),
        "status": result["status"],
        "stderr": done.stderr.decode(errors="replace"),
    }


def checked(result, what):
    if result["status"] != 0:
        raise SystemExit(f"{what} failed ({result['status']}):\n{result['stderr'][-3000:]}")
    return result


def summary(results):
    """Medians of wall and CPU time and of peak RSS over several runs."""
    vault = [r["vault_cpu"] for r in results if r.get("vault_cpu") is not None]
    return {
        **({"vault_cpu": statistics.median(vault)} if vault else {}),
        "wall": statistics.median(r["wall"] for r in results),
        "wall_min": min(r["wall"] for r in results),
        "cpu": statistics.median(r["cpu"] for r in results),
        "user": statistics.median(r["user"] for r in results),
        "sys": statistics.median(r["sys"] for r in results),
        "rss": statistics.median(r["rss"] for r in results),
        "runs": len(results),
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The delaying proxy --------------------------------------------------------------------


async def proxy_main(listen, upstream, delay, counter_file):
    """Forwards every HTTP/1.1 request `delay` seconds late, connection by connection: with
    keep-alive each request on a connection is delayed, not only the first."""
    count = 0

    async def handle(client_reader, client_writer):
        nonlocal count
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return

        async def responses():
            try:
                while data := await up_reader.read(1 << 16):
                    client_writer.write(data)
                    await client_writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                client_writer.close()

        answering = asyncio.create_task(responses())
        try:
            while True:
                head = await client_reader.readuntil(b"\r\n\r\n")
                body = b""
                lines = head.decode("latin-1").split("\r\n")
                fields = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
                if "chunked" in fields.get("transfer-encoding", "").lower():
                    while True:
                        size_line = await client_reader.readuntil(b"\r\n")
                        size = int(size_line.split(b";")[0], 16)
                        chunk = await client_reader.readexactly(size + 2)
                        body += size_line + chunk
                        if size == 0:
                            break
                elif fields.get("content-length"):
                    body = await client_reader.readexactly(int(fields["content-length"]))
                await asyncio.sleep(delay)
                count += 1
                up_writer.write(head + body)
                await up_writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        finally:
            up_writer.close()
            await answering

    server = await asyncio.start_server(handle, "127.0.0.1", listen)

    async def report():
        # Written whole and renamed, so that a reader never sees a file being written.
        partial = Path(f"{counter_file}.partial")
        while True:
            await asyncio.sleep(0.05)
            partial.write_text(str(count))
            partial.replace(counter_file)

    if counter_file:
        asyncio.create_task(report())
    async with server:
        await server.serve_forever()


class Proxy:
    """The delaying proxy as a child process."""

    def __init__(self, upstream, delay_ms, work):
        self.port = free_port()
        self.counter = Path(work) / f"proxy-{self.port}.count"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "proxy", "--listen", str(self.port), "--upstream", str(upstream),
             "--delay-ms", str(delay_ms), "--count-file", str(self.counter)]
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the proxy did not start")

    def requests(self):
        time.sleep(0.15)
        try:
            return int(self.counter.read_text() or 0)
        except (OSError, ValueError):
            return -1

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


# --- The benchmarks --------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.vaultplate
        self.work = Path(args.work)
        self.vault = Vault(args.addr, args.audit_log, args.vault_pid)
        self.results = {}

    def env(self, addr=None, role="bench", **extra):
        """A clean environment: an AppRole login and a token cache private to this bench."""
        role_id, secret_id = self.credentials[role]
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.work / "home"),
            "XDG_CACHE_HOME": str(self.work / "cache"),
            "VAULT_ADDR": addr or self.args.addr,
            "AVP_AUTH_TYPE": "approle",
            "AVP_ROLE_ID": role_id,
            "AVP_SECRET_ID": secret_id,
        }
        env.update(extra)
        return env

    def log(self, text):
        print(text, file=sys.stderr, flush=True)

    def run(self):
        (self.work / "home").mkdir(exist_ok=True)
        self.credentials = self.vault.set_up()
        sizes = [int(s) for s in self.args.sizes.split(",") if s]
        largest = max(sizes)
        secrets = workload.secrets(largest)
        self.log(f"== seeding {len(secrets)} secrets (workload of {largest} documents) and the examples")
        examples = [(f"{mount}/{'data/' if mount == 'secret' else ''}{path}", data) for mount, path, data in example_secrets()]
        self.vault.seed(secrets + examples)
        self.results["sizes"] = [self.size(n) for n in sizes]
        compared = 20000 if 20000 in sizes else min(sizes)
        self.results["default_policy"] = self.default_policy(compared)
        if 20000 in sizes and not self.args.skip_latency:
            self.results["latency"] = self.latency(20000)
        if not self.args.skip_render:
            self.results["render"] = self.render()
        self.results["version"] = self.version()
        return self.results

    def size(self, n):
        stats = workload.build_stats(n)
        stream, filled = self.work / f"stream-{n}.yaml", self.work / f"filled-{n}.yaml"
        stream.write_text(workload.text(n, False))
        filled.write_text(workload.text(n, True))
        runs = self.args.runs or {200: 15, 2000: 10, 20000: 7}.get(n, 3)
        self.log(f"== {n} documents ({stats['bytes'] / MB:.1f} MB): {runs} runs each")
        argv = [self.bin, "generate", "-"]
        out_stream, out_filled = self.work / "out-stream.yaml", self.work / "out-filled.yaml"

        # A cold token cache: the first run logs in once; its output is checked against the floor's.
        shutil.rmtree(self.work / "cache", ignore_errors=True)
        mark = self.vault.mark()
        cold = checked(measure(argv, self.env(), stream, out_stream), f"generate ({n})")
        cold_requests = self.vault.requests_since(mark)
        mark = self.vault.mark()
        checked(measure(argv, self.env(), filled, out_filled), f"generate, filled ({n})")
        floor_requests = self.vault.requests_since(mark)
        identical = sha256(out_stream) == sha256(out_filled)
        if not identical:
            self.log(f"   !! the output for {n} documents differs from the floor's")

        # The same stream with --no-resolve: parsed, outlined and scanned as generate does, but
        # no Vault and no filling; what generate costs beyond it is the reads and the filling.
        unresolved_argv = [self.bin, "generate", "--no-resolve", "-"]
        floor_runs, unresolved_runs, generate_runs, warm_requests = [], [], [], []
        for _ in range(runs):
            floor_runs.append(checked(measure(argv, self.env(), filled, None), "floor"))
            unresolved_runs.append(checked(measure(unresolved_argv, self.env(), stream, None), "generate --no-resolve"))
            mark = self.vault.mark()
            generate_runs.append(self.with_vault_cpu(lambda: checked(measure(argv, self.env(), stream, None), "generate")))
            warm_requests.append(self.vault.requests_since(mark))
        floor, unresolved, generate = summary(floor_runs), summary(unresolved_runs), summary(generate_runs)
        # Anonymous memory (heap, stacks, the input; no code pages), sampled in runs of its own.
        for summed, path in ((floor, filled), (generate, stream)):
            sampled = [checked(measure(argv, self.env(), path, None, anon_peak=True), "sampled") for _ in range(3)]
            summed["anon_peak"] = statistics.median(r["anon_peak"] for r in sampled)
        row = {
            "documents": n,
            "stats": stats,
            "floor": floor,
            "unresolved": unresolved,
            "generate": generate,
            "cold": {k: cold[k] for k in ("wall", "cpu", "rss")},
            "output_identical": identical,
            "output_bytes": out_stream.stat().st_size,
            "requests_cold": {k: cold_requests[k] for k in ("logins", "reads", "other")},
            "requests_warm": {
                "logins": max(r["logins"] for r in warm_requests),
                "reads": max(r["reads"] for r in warm_requests),
                "reads_min": min(r["reads"] for r in warm_requests),
                "other": max(r["other"] for r in warm_requests),
            },
            "max_reads_of_one_pair": max(cold_requests["read_paths"].values(), default=0),
            "requests_floor": {k: floor_requests[k] for k in ("logins", "reads", "other")},
        }
        if "vault_cpu" in generate:
            row["bound"] = (generate["cpu"] + generate["vault_cpu"]) / os.cpu_count()
        self.log(
            f"   floor {floor['wall']:.3f}s cpu {floor['cpu']:.3f}s rss {floor['rss'] / MB:.0f}MB | "
            f"generate {generate['wall']:.3f}s cpu {generate['cpu']:.3f}s rss {generate['rss'] / MB:.0f}MB | "
            f"reads {cold_requests['reads']} logins {cold_requests['logins']}/{row['requests_warm']['logins']}"
        )
        return row

    def with_vault_cpu(self, run):
        """`run()`'s measurement, with the CPU time OpenBao spent meanwhile."""
        before = self.vault.cpu()
        result = run()
        after = self.vault.cpu()
        result["vault_cpu"] = None if before is None else after - before
        return result

    def default_policy(self, n):
        """The `n`-document generate run again, logged in with a role that also carries
        OpenBao's `default` policy, interleaved with the advised role."""
        stream = self.work / f"stream-{n}.yaml"
        argv = [self.bin, "generate", "-"]
        runs = self.args.runs or {200: 15, 2000: 10, 20000: 7}.get(n, 3)
        self.log(f"== {n} documents: the advised role against one with the default policy, {runs} runs each")
        # Warm both roles' token cache entries: the comparison is of reads, not logins.
        for role in ("bench", "bench-default"):
            checked(measure(argv, self.env(role=role), stream, None), f"generate as {role}")
        rows = {}
        for role in ("bench", "bench-default"):
            rows[role] = []
        for _ in range(runs):
            for role in rows:
                rows[role].append(self.with_vault_cpu(lambda: checked(measure(argv, self.env(role=role), stream, None), f"generate as {role}")))
        result = {"documents": n, "reads": workload.build_stats(n)["distinct_pairs"]}
        for role, runs_of_role in rows.items():
            result[role] = summary(runs_of_role)
            s = result[role]
            self.log(f"   {role}: wall {s['wall']:.3f}s, OpenBao CPU {s.get('vault_cpu', float('nan')):.3f}s per run")
        return result

    def latency(self, n):
        stream = self.work / f"stream-{n}.yaml"
        proxy = Proxy(self.vault.port, self.args.delay_ms, self.work)
        try:
            addr = f"http://127.0.0.1:{proxy.port}"
            results = []
            self.log(f"== {n} documents through a proxy adding {self.args.delay_ms} ms per request")
            for concurrency in self.args.concurrency:
                env = self.env(addr)
                if concurrency:
                    env["VAULTPLATE_CONCURRENCY"] = str(concurrency)
                # Warm the token cache (the login would take one more delayed request).
                checked(measure([self.bin, "generate", "-"], env, stream, None), "latency warm-up")
                before = proxy.requests()
                runs = [
                    checked(measure([self.bin, "generate", "-"], env, stream, None), "latency run")
                    for _ in range(self.args.latency_runs)
                ]
                requests = (proxy.requests() - before) / len(runs)
                s = summary(runs)
                s.update(concurrency=concurrency or 16, requests_per_run=requests)
                results.append(s)
                self.log(f"   concurrency {concurrency or '16 (default)'}: {s['wall']:.3f}s, {requests:.0f} requests/run")
            return results
        finally:
            proxy.stop()

    def render(self):
        runs = self.args.render_runs
        home = self.work / "render-home"
        for sub in ("home", "tmp", "helm/cache", "helm/config", "helm/data"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        bare_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home / "home"),
            "TMPDIR": str(home / "tmp"),
            "HELM_CACHE_HOME": str(home / "helm/cache"),
            "HELM_CONFIG_HOME": str(home / "helm/config"),
            "HELM_DATA_HOME": str(home / "helm/data"),
            "KUBECONFIG": str(home / "no-kubeconfig"),
        }
        env = self.env(
            VAULT_TOKEN="root", AVP_AUTH_TYPE="token", ARGOCD_APP_NAME="demo", ARGOCD_APP_NAMESPACE="demo"
        )
        cases = [
            ("helm", ["helm", "template", "demo", ".", "--namespace", "demo", "--values", "values.yaml", "--include-crds"]),
            ("kustomize", ["kubectl", "kustomize", "."]),
            ("plain", None),
        ]
        rows = []
        self.log(f"== render of the examples, {runs} runs each (interleaved with the bare tool)")
        for name, bare_argv in cases:
            directory = REPO / "examples" / name
            render_argv = [self.bin, "render", str(directory)]
            checked(measure(render_argv, env), f"render {name}")
            mark = self.vault.mark()
            checked(measure(render_argv, env), f"render {name}")
            requests = self.vault.requests_since(mark)
            renders, bares = [], []
            for _ in range(runs):
                if bare_argv:
                    bares.append(checked(measure(bare_argv, bare_env, cwd=directory), f"bare {name}"))
                renders.append(checked(measure(render_argv, env), f"render {name}"))
            row = {"example": name, "render": summary(renders), "requests": {k: requests[k] for k in ("logins", "reads")}}
            if bares:
                row["bare"] = summary(bares)
                # Each render ran right after its bare run: the pairs cancel most of the drift.
                row["paired_overhead"] = statistics.median(r["wall"] - b["wall"] for r, b in zip(renders, bares))
                row["bare_argv"] = " ".join(bare_argv)
                row["standin"] = self.standin_share(name, directory, bare_argv, bare_env, env, runs)
            rows.append(row)
            bare = f"bare {row['bare']['wall'] * 1000:.1f} ms, paired overhead {row['paired_overhead'] * 1000:+.1f} ms, " if bares else ""
            own = ""
            if "standin" in row:
                s = row["standin"]
                own = f", own share {(s['render']['wall'] - s['alone']['wall']) * 1000:.1f} ms"
            self.log(f"   {name}: {bare}render {row['render']['wall'] * 1000:.1f} ms{own}")
        return rows

    def standin_share(self, name, directory, bare_argv, bare_env, env, runs):
        """`vaultplate render` with an instant stand-in for the tool, against the stand-in alone."""
        printed = subprocess.run(bare_argv, env=bare_env, cwd=directory, capture_output=True, check=True).stdout
        folder = self.work / f"standin-{name}"
        folder.mkdir(exist_ok=True)
        program = folder / bare_argv[0]
        shutil.copy(self.args.standin, program)
        (folder / f"{bare_argv[0]}.out").write_bytes(printed)
        standin_env = dict(env, PATH=f"{folder}:/usr/bin:/bin")
        render_argv = [self.bin, "render", str(directory)]
        checked(measure(render_argv, standin_env), f"render {name} with the stand-in")
        alone, renders = [], []
        for _ in range(runs):
            alone.append(checked(measure([program] + bare_argv[1:], standin_env, cwd=directory), "stand-in"))
            renders.append(checked(measure(render_argv, standin_env), f"render {name} with the stand-in"))
        return {"alone": summary(alone), "render": summary(renders)}

    def version(self):
        runs = self.args.version_runs
        env = {"PATH": os.environ["PATH"]}
        true = shutil.which("true") or "/bin/true"
        version = [checked(measure([self.bin, "version"], env), "version") for _ in range(runs)]
        baseline = [checked(measure([true], env), "true") for _ in range(runs)]
        row = {"version": summary(version), "true": summary(baseline)}
        self.log(f"== version: {row['version']['wall'] * 1000:.2f} ms (spawning `true`: {row['true']['wall'] * 1000:.2f} ms)")
        return row


def example_secrets():
    root = REPO / "examples" / "vault"
    for file in sorted(root.rglob("*.json")):
        rel = file.relative_to(root).with_suffix("")
        mount, path = rel.parts[0], "/".join(rel.parts[1:])
        yield mount, path, json.loads(file.read_text())


# --- The table -------------------------------------------------------------------------------


def table(results):
    out = []
    w = out.append
    w("Workloads: `vaultplate generate -` (medians; CPU = user + sys; RSS = peak resident set).")
    w("")
    w("| docs | input MB | floor wall | floor CPU | floor RSS | floor MB/s | generate wall | generate CPU | generate RSS | wall ratio | CPU ratio | RSS / input | output = floor's |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for row in results["sizes"]:
        f, g, mb = row["floor"], row["generate"], row["stats"]["bytes"] / MB
        w(
            f"| {row['documents']:,} | {mb:.2f} | {f['wall']:.3f} s | {f['cpu']:.3f} s | {f['rss'] / MB:.1f} MB "
            f"| {row['stats']['filled_bytes'] / MB / f['wall']:.1f} | {g['wall']:.3f} s | {g['cpu']:.3f} s | {g['rss'] / MB:.1f} MB "
            f"| {g['wall'] / f['wall']:.2f} | {g['cpu'] / f['cpu']:.2f} | {g['rss'] / row['stats']['bytes']:.1f} | {'yes' if row['output_identical'] else 'NO'} |"
        )
    if all("unresolved" in row for row in results["sizes"]):
        w("")
        w("Where generate's CPU goes beyond the floor's: the same stream with `--no-resolve` (parsed and")
        w("scanned, no Vault, no filling), then generate's system time beyond it (the reads' sockets) and")
        w("its user time beyond it (the reads in user space, filling, assembling). Budget: what a CPU ratio")
        w("of 1.3 allows beyond the floor.")
        w("")
        w("The last two columns: the peak of anonymous memory (heap, stacks, the input; not the code pages")
        w("mapped from the binary and libc), sampled every 200 us in three runs of its own, and generate's")
        w("against the input's size.")
        w("")
        w("| docs | reads | floor user / sys | no-resolve user / sys | generate user / sys | budget at 1.3 | scan | reads' sys | per read | reads and fill, user | no-resolve RSS | anonymous peak: floor / generate | generate's / input |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in results["sizes"]:
            f, u, g = row["floor"], row["unresolved"], row["generate"]
            reads = row["requests_cold"]["reads"]
            scan, sys_reads, rest = u["cpu"] - f["cpu"], g["sys"] - u["sys"], g["user"] - u["user"]
            ms = lambda x: f"{x * 1000:.1f} ms"
            w(
                f"| {row['documents']:,} | {reads:,} | {ms(f['user'])} / {ms(f['sys'])} | {ms(u['user'])} / {ms(u['sys'])} "
                f"| {ms(g['user'])} / {ms(g['sys'])} | {ms(0.3 * f['cpu'])} | {ms(scan)} | {ms(sys_reads)} "
                f"| {sys_reads / max(reads, 1) * 1e6:.0f} us | {ms(rest)} | {u['rss'] / MB:.1f} MB "
                f"| {f['anon_peak'] / MB:.1f} / {g['anon_peak'] / MB:.1f} MB | {g['anon_peak'] / row['stats']['bytes']:.1f} |"
            )
    if all("bound" in row for row in results["sizes"]):
        w("")
        w(f"OpenBao on the same {os.cpu_count()} cores: its CPU per generate run, and the least wall time any client")
        w("could take here, (generate CPU + OpenBao CPU) / cores, against the floor.")
        w("")
        w("| docs | reads | OpenBao CPU | per read | least possible wall | as floor ratio | generate wall |")
        w("|---:|---:|---:|---:|---:|---:|---:|")
        for row in results["sizes"]:
            g, reads = row["generate"], row["requests_cold"]["reads"]
            w(
                f"| {row['documents']:,} | {reads:,} | {g['vault_cpu']:.3f} s | {g['vault_cpu'] / max(reads, 1) * 1000:.2f} ms "
                f"| {row['bound']:.3f} s | {row['bound'] / row['floor']['wall']:.2f} | {g['wall']:.3f} s |"
            )
    if "default_policy" in results:
        d = results["default_policy"]
        w("")
        w(f"{d['documents']:,} documents ({d['reads']:,} reads), interleaved: the advised role (its read policy only) against")
        w("one that also carries OpenBao's `default` policy.")
        w("")
        w("| role | generate wall | OpenBao CPU per run | per read |")
        w("|---|---:|---:|---:|")
        for role, label in (("bench", "read policy only (`token_no_default_policy`)"), ("bench-default", "with `default`")):
            s = d[role]
            if "vault_cpu" in s:
                w(f"| {label} | {s['wall']:.3f} s | {s['vault_cpu']:.3f} s | {s['vault_cpu'] / d['reads'] * 1000:.2f} ms |")
    w("")
    w("Vault requests per run (audit log). AVP = one read per annotated manifest + one per inline placeholder.")
    w("")
    w("| docs | placeholders | distinct (path, version) | reads per run | max reads of one (path, version) | logins (cold cache) | logins (warm cache) | AVP reads | floor: requests |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results["sizes"]:
        s, c, wm, fl = row["stats"], row["requests_cold"], row["requests_warm"], row["requests_floor"]
        reads = f"{c['reads']}" if wm["reads"] == wm["reads_min"] == c["reads"] else f"{c['reads']} (warm {wm['reads_min']}..{wm['reads']})"
        w(
            f"| {row['documents']:,} | {s['placeholders']:,} | {s['distinct_pairs']:,} | {reads} | {row['max_reads_of_one_pair']} "
            f"| {c['logins']} | {wm['logins']} | {s['avp_reads']:,} | {fl['logins'] + fl['reads'] + fl['other']} |"
        )
    if "latency" in results:
        w("")
        w("20,000 documents with every Vault request delayed by a proxy:")
        w("")
        w("| concurrency | wall (median) | wall (min) | CPU | requests per run |")
        w("|---:|---:|---:|---:|---:|")
        for row in results["latency"]:
            w(f"| {row['concurrency']} | {row['wall']:.3f} s | {row['wall_min']:.3f} s | {row['cpu']:.3f} s | {row['requests_per_run']:.0f} |")
    if "render" in results:
        w("")
        w("`vaultplate render` of the examples against the bare tool (medians; each render right after a bare")
        w("run, overhead = median of the paired differences). Own share: the same render with an instant")
        w("stand-in for the tool (bench/standin.rs) minus the stand-in alone.")
        w("")
        w("| example | bare tool | bare wall | render wall | overhead | render CPU | Vault reads | vaultplate's own share |")
        w("|---|---|---:|---:|---:|---:|---:|---:|")
        for row in results["render"]:
            r = row["render"]
            if "bare" in row:
                b = row["bare"]
                paired = row["paired_overhead"]
                over = f"{paired / b['wall'] * 100:+.1f}% ({paired * 1000:+.1f} ms)"
                s = row["standin"]
                own = f"{(s['render']['wall'] - s['alone']['wall']) * 1000:.1f} ms ({(s['render']['wall'] - s['alone']['wall']) / b['wall'] * 100:.1f}% of bare)"
                w(f"| {row['example']} | `{row['bare_argv']}` | {b['wall'] * 1000:.1f} ms | {r['wall'] * 1000:.1f} ms | {over} | {r['cpu'] * 1000:.1f} ms | {row['requests']['reads']} | {own} |")
            else:
                w(f"| {row['example']} | (none) | | {r['wall'] * 1000:.1f} ms | | {r['cpu'] * 1000:.1f} ms | {row['requests']['reads']} | |")
    v = results["version"]
    w("")
    w(
        f"`vaultplate version`: {v['version']['wall'] * 1000:.2f} ms median wall over {v['version']['runs']} runs "
        f"(min {v['version']['wall_min'] * 1000:.2f} ms; spawning `true` the same way: {v['true']['wall'] * 1000:.2f} ms), "
        f"peak RSS {v['version']['rss'] / MB:.1f} MB."
    )
    return "\n".join(out)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "proxy":
        parser = argparse.ArgumentParser(prog="bench.py proxy")
        parser.add_argument("proxy")
        parser.add_argument("--listen", type=int, required=True)
        parser.add_argument("--upstream", type=int, required=True)
        parser.add_argument("--delay-ms", type=float, default=20)
        parser.add_argument("--count-file")
        args = parser.parse_args()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(proxy_main(args.listen, args.upstream, args.delay_ms / 1000, args.count_file))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vaultplate", required=True)
    parser.add_argument("--addr", required=True, help="the OpenBao (root token `root`)")
    parser.add_argument("--audit-log", required=True)
    parser.add_argument("--vault-pid", type=int, help="OpenBao's process, to read its CPU time")
    parser.add_argument("--work", required=True)
    parser.add_argument("--measure", required=True, help="the launcher built from bench/measure.rs")
    parser.add_argument("--standin", required=True, help="the stand-in built from bench/standin.rs")
    parser.add_argument("--sizes", default="200,2000,20000,100000")
    parser.add_argument("--runs", type=int, help="runs per size (default 15/10/7/3 by size)")
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[0], help="0: the default")
    parser.add_argument("--latency-runs", type=int, default=3)
    parser.add_argument("--render-runs", type=int, default=15)
    parser.add_argument("--version-runs", type=int, default=50)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--json", help="also write every figure here")
    args = parser.parse_args()
    global MEASURE
    MEASURE = args.measure
    results = Bench(args).run()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
