"""Load and scale benchmark: a mixed v1 / v2 / page workload against gunicorn.

For each size in --users (e.g. ``100000,1000000``, one after the other in one run) it builds
a fresh database (SQLite under var/bench/, or on PostgreSQL the throwaway --database-url's
database with the size appended, dropped and created again), seeds it with ``seed_demo``
(--flocks flocks, --memberships and --audit-entries scaled to the size: they are the figures
for the largest size) and times that, starts gunicorn in production mode
(PORTAL_PRODUCTION=1, collected static files, --workers workers, loopback only), then:

1. measures each scale endpoint alone, one request at a time (pages, v1 lists, filters and
   searches, deep pages, v2 GET /users), and for the v2 full list the time to its first
   byte and to its end, and the serving worker's peak RSS before and after it;
2. runs the mixed workload from --clients threads for --seconds, and reports
   throughput, p50/p99 per endpoint and the error count (any 5xx, unexpected
   status or connection error), which must be 0 (the exit code says so).

With ``--instances 2`` the mixed workload runs twice, behind nginx (/usr/sbin/nginx): once
with one gunicorn instance upstream and once with two (each --workers workers), reported
side by side.

    .venv/bin/python bench/load_bench.py                       # defaults: 100k users, 120 s
    .venv/bin/python bench/load_bench.py --users 5000 --seconds 20
    .venv/bin/python bench/load_bench.py --users 100000,1000000 --flocks 10000 \\
        --memberships 3000000 --audit-entries 1000000 --instances 2 \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_throwaway
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
WORK = BASE_DIR / "var" / "bench"
ADMIN = ("bench-admin", "bench-admin@example.com", "bench admin pass phrase 1")


def run(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database_url(base: str, users: int) -> str:
    """SQLite under var/bench/, or the PostgreSQL database ``<base name>_<users>``, new."""
    if not base:
        return f"sqlite:///{WORK / f'bench-{users}.sqlite3'}"
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/')}_{users}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def prepare(args: argparse.Namespace, users: int) -> tuple[dict, dict]:
    """Fresh database, seeded; returns the server environment and timings."""
    env = os.environ | {
        "DATABASE_URL": fresh_database_url(args.database_url, users),
        "PORTAL_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain http on loopback
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "PORTAL_ADMIN_USERNAME": ADMIN[0],
        "PORTAL_ADMIN_EMAIL": ADMIN[1],
        "PORTAL_ADMIN_PASSWORD": ADMIN[2],
        "PORTAL_ADDRESS_FAILURE_LIMIT": "1000000",
        "PORTAL_ACCOUNT_FAILURE_LIMIT": "1000000",
    }
    largest = max(args.sizes)
    per_user = max(1, round(args.memberships / largest)) if args.memberships else 3
    audit_entries = round(args.audit_entries * users / largest)
    timings = {"memberships_per_user": per_user, "audit_entries": audit_entries}
    started = time.monotonic()
    run(env, "migrate", "--noinput")
    timings["migrate_s"] = time.monotonic() - started
    print(f"migrate: {timings['migrate_s']:.1f} s", flush=True)
    run(env, "ensure_admin")  # the audit entries are by this admin
    started = time.monotonic()
    seed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_demo",
            f"--users={users}",
            f"--flocks={args.flocks}",
            f"--memberships-per-user={per_user}",
            f"--audit-entries={audit_entries}",
            "--batch-size=50000",
            "--seed=1",
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    assert seed.returncode == 0
    timings["seed_s"] = time.monotonic() - started
    print(f"seed_demo: {timings['seed_s']:.1f} s", flush=True)
    env["BENCH_TOKEN"] = run(env, "api_token", ADMIN[0]).strip()
    run(env, "collectstatic", "--noinput", "-v0")
    return env, timings


@dataclass
class Target:
    """Names, e-mails, flock ids and page ids to ask for, read once through the API."""

    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    flock_ids: list[str] = field(default_factory=list)
    deep_user_ids: list[int] = field(default_factory=list)  # ids spread over the whole table


class Client:
    """One simulated admin: a keep-alive session with a token and a signed-in page session."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.api = requests.Session()
        self.api.headers["X-Canary-Auth-Token"] = token
        self.pages = requests.Session()
        login = self.pages.get(f"{base}/login/", timeout=60)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        response = self.pages.post(
            f"{base}/login/",
            data={"csrfmiddlewaretoken": csrf, "login": ADMIN[0], "password": ADMIN[2]},
            headers={"Referer": f"{base}/login/"},
            timeout=60,
        )
        if self.pages.get(f"{base}/users/", timeout=60, allow_redirects=False).status_code != 200:
            raise SystemExit(
                f"could not sign in to the pages (login answered {response.status_code})"
            )

    def v1(self, method: str, path: str, **params: str) -> requests.Response:
        if method == "GET":
            return self.api.get(f"{self.base}/api/v1/{path}", params=params, timeout=60)
        return self.api.request(method, f"{self.base}/api/v1/{path}", data=params, timeout=60)

    def v2(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        # The SDK always says it sends JSON (a state-changing request without it is a 415).
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return self.api.request(
            method, f"{self.base}/api/v2/{path}", json=body, headers=headers, timeout=60
        )

    def page(self, path: str) -> requests.Response:
        return self.pages.get(f"{self.base}{path}", timeout=60, allow_redirects=False)


def discover(client: Client) -> Target:
    target = Target()
    users = client.v1("GET", "users/list", limit="1000").json()["users"]
    target.emails = [u["email"] for u in users if u["email"] and u["access_level"] == "user"]
    target.names = [u["username"] for u in users if u["access_level"] == "user"]
    target.user_ids = [u["id"] for u in users]
    target.flock_ids = list(client.v1("GET", "flocks/list").json()["flocks"])
    total = client.v1("GET", "users/list", limit="1").json()["total"]  # ids are dense from 1
    target.deep_user_ids = [total * n // 20 for n in range(1, 20)]
    return target


def scale_calls(rng: random.Random, target: Target) -> dict:
    """The endpoints the scale requirement names: name -> (call, expected status)."""
    fragment = lambda: rng.choice(target.names).split(".")[1][:4]  # noqa: E731 - a last-name fragment
    deep = lambda: rng.choice(target.deep_user_ids)  # noqa: E731

    return {
        "page: home (dashboard)": (lambda c: c.page("/"), 200),
        "page: users": (lambda c: c.page("/users/"), 200),
        "page: users, search": (lambda c: c.page(f"/users/?q={fragment()}"), 200),
        "page: users, page 200": (lambda c: c.page("/users/?page=200"), 200),
        "page: user": (lambda c: c.page(f"/users/{rng.choice(target.user_ids)}/"), 200),
        "page: flocks": (lambda c: c.page("/flocks/"), 200),
        "page: audit, search": (lambda c: c.page(f"/audit/?q={fragment()}"), 200),
        "v1 users/list": (lambda c: c.v1("GET", "users/list", limit="100"), 200),
        "v1 users/list, deep cursor": (
            lambda c: c.v1("GET", "users/list", limit="100", cursor=_cursor_after(deep())),
            200,
        ),
        "v1 users/filter": (
            lambda c: c.v1("GET", "users/filter", filter_str=fragment(), limit="100"),
            200,
        ),
        "v1 audit_trail/fetch, search": (
            lambda c: c.v1("GET", "audit_trail/fetch", search_term=fragment(), limit="100"),
            200,
        ),
        "v1 flocks/list": (lambda c: c.v1("GET", "flocks/list"), 200),
        "v1 flock/users": (
            lambda c: c.v1("GET", "flock/users", flock_id=rng.choice(target.flock_ids)),
            200,
        ),
        "v2 GET /users": (lambda c: c.v2("GET", "users"), 200),
    }


def _cursor_after(pk: int) -> str:
    """The v1 cursor of the page after the user ``pk`` (cursors are base64 JSON)."""
    raw = json.dumps({"d": "next", "id": pk}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def workload(rng: random.Random, target: Target) -> list[tuple[str, int, object, int]]:
    """(name, weight, call, expected status) of the mixed workload."""
    email = lambda: rng.choice(target.emails)  # noqa: E731
    flock = lambda: rng.choice(target.flock_ids)  # noqa: E731
    scale = scale_calls(rng, target)

    def v2_cycle(c: Client) -> requests.Response:
        name = f"bench-{secrets.token_hex(8)}"
        created = c.v2("POST", f"users/{name}", {"password": "a long bench pass phrase"})
        if created.status_code != 200:
            return created
        return c.v2("DELETE", f"users/{name}")

    return [
        ("v1 ping", 10, lambda c: c.v1("GET", "ping"), 200),
        ("v1 user/get", 15, lambda c: c.v1("GET", "user/get", email=email()), 200),
        ("v1 users/list", 8, scale["v1 users/list"][0], 200),
        (
            "v1 users/list page 2",
            4,
            lambda c: c.v1("GET", "users/list", limit="100", cursor=_next(c)),
            200,
        ),
        ("v1 users/filter", 6, scale["v1 users/filter"][0], 200),
        ("v1 flocks/list", 6, scale["v1 flocks/list"][0], 200),
        ("v1 flock/users", 6, scale["v1 flock/users"][0], 200),
        (
            "v1 user/note/add",
            8,
            lambda c: c.v1("POST", "user/note/add", email=email(), note="bench"),
            200,
        ),
        (
            "v1 user/flock/assign",
            6,
            lambda c: c.v1(
                "POST",
                "user/flock/assign",
                email=email(),
                flock_id_list=flock(),
                flock_access_level="watcher",
            ),
            200,
        ),
        (
            "v2 GET /users/<name>",
            12,
            lambda c: c.v2("GET", f"users/{rng.choice(target.names)}"),
            200,
        ),
        ("v2 GET /users", 1, scale["v2 GET /users"][0], 200),
        ("v2 create+delete (bcrypt 12)", 1, v2_cycle, 200),
        ("page: users", 6, scale["page: users"][0], 200),
        ("page: user", 5, scale["page: user"][0], 200),
        ("page: flocks", 3, scale["page: flocks"][0], 200),
        ("page: users, search", 3, scale["page: users, search"][0], 200),
        ("v1 audit_trail/fetch, search", 3, scale["v1 audit_trail/fetch, search"][0], 200),
    ]


_cursors: dict[int, str] = {}


def _next(client: Client) -> str:
    """The second page's cursor, fetched once per client."""
    key = id(client)
    if key not in _cursors:
        _cursors[key] = client.v1("GET", "users/list", limit="100").json()["cursor"]["next"]
    return _cursors[key]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure_alone(client: Client, rng: random.Random, target: Target, repeats: int) -> dict:
    """Latency of each scale endpoint with nothing else running."""
    results = {}
    for name, (call, expected) in scale_calls(rng, target).items():
        if name == "v2 GET /users":
            continue  # measured by full_list, after the workers' memory is read
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = call(client)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
        results[name] = {
            "p50_ms": statistics.median(times),
            "p99_ms": percentile(times, 0.99),
            "bytes": len(response.content),
        }
        print(
            f"  {name:<30} p50 {results[name]['p50_ms']:8.1f} ms   p99 "
            f"{results[name]['p99_ms']:8.1f} ms",
            flush=True,
        )
    return results


def worker_memory(master_pid: int) -> dict[int, tuple[int, int]]:
    """{worker pid: (VmRSS, VmHWM) in kB} of gunicorn's workers (the master's children)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    memory = {}
    for pid in map(int, children):
        status = Path(f"/proc/{pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        memory[pid] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
    return memory


def full_list(base: str, token: str, master_pid: int, repeats: int) -> dict:
    """v2 GET /users: first byte and whole reply (streamed), and the workers' peak RSS
    before and after (every worker serves some: all of them are read)."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    before = worker_memory(master_pid)
    first, whole, size = [], [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        with session.get(f"{base}/api/v2/users", headers=headers, stream=True, timeout=120) as r:
            chunks = r.iter_content(chunk_size=65536)
            body = [next(chunks)]
            first.append((time.perf_counter() - started) * 1000)
            body.extend(chunks)
            whole.append((time.perf_counter() - started) * 1000)
            size = sum(map(len, body))
            names = len(json.loads(b"".join(body))["users"])
    after = worker_memory(master_pid)
    result = {
        "names": names,
        "bytes": size,
        "first_byte_p50_ms": statistics.median(first),
        "first_byte_max_ms": max(first),
        "whole_p50_ms": statistics.median(whole),
        "whole_max_ms": max(whole),
        "peak_rss_before_mb": max(hwm for _, hwm in before.values()) / 1024,
        "peak_rss_after_mb": max(hwm for _, hwm in after.values()) / 1024,
        "rss_after_mb": max(rss for rss, _ in after.values()) / 1024,
    }
    print(
        f"  v2 GET /users ({names} names, {size / 1e6:.1f} MB): first byte "
        f"{result['first_byte_p50_ms']:.0f} ms, whole {result['whole_p50_ms']:.0f} ms (p50 of "
        f"{repeats}); workers' peak RSS {result['peak_rss_before_mb']:.0f} -> "
        f"{result['peak_rss_after_mb']:.0f} MB",
        flush=True,
    )
    return result


def mixed(clients: list[Client], target: Target, seconds: float) -> dict:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(client: Client, seed: int) -> None:
        rng = random.Random(seed)
        calls = workload(rng, target)
        weights = [weight for _, weight, _, _ in calls]
        while time.monotonic() < deadline:
            name, _, call, expected = rng.choices(calls, weights)[0]
            started = time.perf_counter()
            try:
                response = call(client)
                problem = (
                    None
                    if response.status_code == expected
                    else f"{response.status_code} {response.text[:200]}"
                )
            except requests.RequestException as exc:
                problem = repr(exc)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples[name].append(elapsed)
                if problem:
                    errors[name].append(problem)

    threads = [threading.Thread(target=loop, args=(client, n)) for n, client in enumerate(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    per_endpoint = {
        name: {
            "requests": len(times),
            "rps": len(times) / elapsed,
            "p50_ms": statistics.median(times),
            "p99_ms": percentile(times, 0.99),
            "errors": len(errors[name]),
        }
        for name, times in sorted(samples.items())
    }
    total = sum(len(times) for times in samples.values())
    return {
        "seconds": elapsed,
        "requests": total,
        "rps": total / elapsed,
        "errors": sum(len(e) for e in errors.values()),
        "error_samples": {name: problems[:3] for name, problems in errors.items() if problems},
        "endpoints": per_endpoint,
    }


NGINX_CONFIG = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream portal {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def wait_for(base: str) -> None:
    for _ in range(300):
        try:
            if requests.get(f"{base}/api/v2/status", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not start")


@contextmanager
def gunicorn(env: dict, workers: int):
    """One gunicorn instance in production mode; yields (base URL, master pid)."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:portal.gunicorn",
            "portal.wsgi",
        ],
        cwd=BASE_DIR,
        env=env
        | {
            "PORTAL_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESS_LOG": "/dev/null",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextmanager
def nginx(upstreams: list[str]):
    """nginx on loopback balancing over ``upstreams`` (round robin, kept connections)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as folder:
        servers = "\n".join(f"        server {url.removeprefix('http://')};" for url in upstreams)
        config = Path(folder) / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(dir=folder, port=port, servers=servers))
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        process = subprocess.Popen([binary, "-c", str(config), "-p", folder])
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_size(args: argparse.Namespace, users: int) -> dict:
    """Seed a fresh database of ``users`` users and measure it (see the module)."""
    print(f"\n=== {users} users (load average {load_average()}) ===", flush=True)
    env, timings = prepare(args, users)
    result: dict = {"users": users, **timings, "load_average_start": load_average()}
    with gunicorn(env, args.workers) as (base, master):
        clients = [Client(base, env["BENCH_TOKEN"]) for _ in range(args.clients)]
        target = discover(clients[0])
        rng = random.Random(7)
        print(f"scale endpoints alone ({args.repeats} sequential requests each):", flush=True)
        result["alone"] = measure_alone(clients[0], rng, target, args.repeats)
        result["full_list"] = full_list(base, env["BENCH_TOKEN"], master, 3)
        if args.instances == 1:
            print(f"mixed workload: {args.clients} clients for {args.seconds:.0f} s …", flush=True)
            result["mixed"] = {"1 instance": mixed(clients, target, args.seconds)}
            return result
    result["mixed"] = {}
    for count in range(1, args.instances + 1):
        with instances_behind_nginx(env, args.workers, count) as base:
            clients = [Client(base, env["BENCH_TOKEN"]) for _ in range(args.clients)]
            label = f"{count} instance{'s' if count > 1 else ''} behind nginx"
            print(f"mixed workload, {label}: {args.clients} clients, {args.seconds:.0f} s …")
            result["mixed"][label] = mixed(clients, target, args.seconds)
    result["load_average_end"] = load_average()
    return result


@contextmanager
def instances_behind_nginx(env: dict, workers: int, count: int):
    """``count`` gunicorn instances behind one nginx; yields nginx's URL."""
    with ExitStack() as stack:
        upstreams = [stack.enter_context(gunicorn(env, workers))[0] for _ in range(count)]
        yield stack.enter_context(nginx(upstreams))


def report(results: list[dict]) -> None:
    sizes = [r["users"] for r in results]
    header = " | ".join(f"{n:,} users" for n in sizes)
    print(f"\n| | {header} |\n|---|" + "---|" * len(sizes))
    row = lambda label, cells: print(f"| {label} | " + " | ".join(cells) + " |")  # noqa: E731
    row("seed_demo", [f"{r['seed_s']:.0f} s" for r in results])
    row(
        "memberships per user / audit entries",
        [f"{r['memberships_per_user']} / {r['audit_entries']:,}" for r in results],
    )
    row("load average at start", [r["load_average_start"] for r in results])
    for name in results[0]["alone"]:
        row(
            f"{name}, alone, p50 / p99 ms",
            [
                f"{r['alone'][name]['p50_ms']:.1f} / {r['alone'][name]['p99_ms']:.1f}"
                for r in results
            ],
        )
    row(
        "v2 GET /users: first byte / whole, ms",
        [
            f"{r['full_list']['first_byte_p50_ms']:.0f} / {r['full_list']['whole_p50_ms']:.0f} "
            f"({r['full_list']['bytes'] / 1e6:.1f} MB)"
            for r in results
        ],
    )
    row(
        "v2 GET /users: workers' peak RSS before -> after, MB",
        [
            "{peak_rss_before_mb:.0f} -> {peak_rss_after_mb:.0f}".format(**r["full_list"])
            for r in results
        ],
    )
    for label in results[0]["mixed"]:
        row(
            f"mixed, {label}: req/s (errors)",
            [f"{r['mixed'][label]['rps']:.1f} ({r['mixed'][label]['errors']})" for r in results],
        )
    for label in results[0]["mixed"]:
        print(f"\nmixed workload, {label}: p50 / p99 ms per endpoint")
        print(f"| endpoint | {header} |\n|---|" + "---|" * len(sizes))
        for name in results[0]["mixed"][label]["endpoints"]:
            row(
                name,
                [
                    "{p50_ms:.0f} / {p99_ms:.0f}".format(**r["mixed"][label]["endpoints"][name])
                    if name in r["mixed"][label]["endpoints"]
                    else "-"
                    for r in results
                ],
            )
    for r in results:
        for label, load in r["mixed"].items():
            if load["errors"]:
                print(f"\nerrors at {r['users']}, {label}:", json.dumps(load["error_samples"]))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--users", default="100000", help="users, or sizes one after the other: 100000,1000000"
    )
    parser.add_argument("--flocks", type=int, default=1_000)
    parser.add_argument(
        "--memberships", type=int, default=0, help="memberships at the largest size (3 a user)"
    )
    parser.add_argument(
        "--audit-entries", type=int, default=0, help="audit entries at the largest size"
    )
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=8, help="concurrent simulated admins")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument(
        "--instances", type=int, default=1, choices=[1, 2], help="2: also behind nginx, 1 and 2"
    )
    parser.add_argument(
        "--repeats", type=int, default=20, help="sequential requests per scale endpoint"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a THROWAWAY PostgreSQL server's URL: <its database>_<size> is dropped and made",
    )
    args = parser.parse_args()
    args.sizes = [int(n) for n in args.users.split(",")]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results = [one_size(args, users) for users in args.sizes]
    report(results)
    (WORK / "results.json").write_text(json.dumps({"args": vars(args), "sizes": results}, indent=1))
    return 1 if any(load["errors"] for r in results for load in r["mixed"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
