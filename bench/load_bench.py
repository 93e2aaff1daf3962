"""Load and scale benchmark: a mixed v1 / v2 / page workload against gunicorn.

Builds a fresh database (SQLite under var/bench/ unless --database-url names a
throwaway one), seeds it with ``seed_demo`` (100,000 users, 1,000 flocks, about
300,000 memberships by default) and times that, starts gunicorn in production mode
(PORTAL_PRODUCTION=1, collected static files, 2 workers, loopback only), then:

1. measures each scale endpoint alone, one request at a time (users page, v1
   users/list, users/filter, flocks/list, v2 GET /users);
2. runs the mixed workload from --clients threads for --seconds, and reports
   throughput, p50/p99 per endpoint and the error count (any 5xx, unexpected
   status or connection error), which must be 0 (the exit code says so).

    .venv/bin/python bench/load_bench.py                       # defaults: 100k users, 120 s
    .venv/bin/python bench/load_bench.py --users 5000 --seconds 20
"""

from __future__ import annotations

import argparse
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
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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


def prepare(args: argparse.Namespace) -> tuple[dict, dict]:
    """Fresh database, seeded; returns the server environment and timings."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = os.environ | {
        "DATABASE_URL": args.database_url or f"sqlite:///{WORK / 'bench.sqlite3'}",
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
    timings = {}
    started = time.monotonic()
    run(env, "migrate", "--noinput")
    timings["migrate_s"] = time.monotonic() - started
    print(f"migrate: {timings['migrate_s']:.1f} s", flush=True)
    started = time.monotonic()
    seed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_demo",
            f"--users={args.users}",
            f"--flocks={args.flocks}",
            "--batch-size=10000",
            "--seed=1",
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    assert seed.returncode == 0
    timings["seed_s"] = time.monotonic() - started
    print(f"seed_demo: {timings['seed_s']:.1f} s", flush=True)
    run(env, "ensure_admin")
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
        headers = {"Authorization": f"Bearer {self.token}"}
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
    return target


def scale_calls(rng: random.Random, target: Target) -> dict:
    """The endpoints the scale requirement names: name -> (call, expected status)."""
    fragment = lambda: rng.choice(target.names).split(".")[1][:4]  # noqa: E731 - a last-name fragment
    return {
        "page: users": (lambda c: c.page("/users/"), 200),
        "v1 users/list": (lambda c: c.v1("GET", "users/list", limit="100"), 200),
        "v1 users/filter": (
            lambda c: c.v1("GET", "users/filter", filter_str=fragment(), limit="100"),
            200,
        ),
        "v1 flocks/list": (lambda c: c.v1("GET", "flocks/list"), 200),
        "v2 GET /users": (lambda c: c.v2("GET", "users"), 200),
    }


def workload(rng: random.Random, target: Target) -> list[tuple[str, int, object, int]]:
    """(name, weight, call, expected status) of the mixed workload."""
    email = lambda: rng.choice(target.emails)  # noqa: E731
    flock = lambda: rng.choice(target.flock_ids)  # noqa: E731
    scale = scale_calls(rng, target)

    def v2_cycle(c: Client) -> requests.Response:
        name = f"bench-{threading.get_ident()}-{rng.randrange(10**9)}"
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
        ("v1 flock/users", 6, lambda c: c.v1("GET", "flock/users", flock_id=flock()), 200),
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
        ("page: user", 5, lambda c: c.page(f"/users/{rng.choice(target.user_ids)}/"), 200),
        ("page: flocks", 3, lambda c: c.page("/flocks/"), 200),
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
            f"  {name:<16} p50 {results[name]['p50_ms']:8.1f} ms   p99 "
            f"{results[name]['p99_ms']:8.1f} ms",
            flush=True,
        )
    return results


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
        "error_samples": {name: problems[:3] for name, problems in errors.items()},
        "endpoints": per_endpoint,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--flocks", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=8, help="concurrent simulated admins")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--repeats", type=int, default=20, help="sequential requests per scale endpoint"
    )
    parser.add_argument(
        "--database-url", default="", help="a THROWAWAY database (it is migrated and seeded)"
    )
    args = parser.parse_args()

    env, timings = prepare(args)
    port = free_port()
    env |= {
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:portal.gunicorn",
            "portal.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(f"{base}/api/v2/status", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        clients = [Client(base, env["BENCH_TOKEN"]) for _ in range(args.clients)]
        target = discover(clients[0])
        rng = random.Random(7)
        print(f"scale endpoints alone ({args.repeats} sequential requests each):", flush=True)
        alone = measure_alone(clients[0], rng, target, args.repeats)
        print(f"mixed workload: {args.clients} clients for {args.seconds:.0f} s …", flush=True)
        load = mixed(clients, target, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=60)

    print(f"\nseed_demo --users {args.users} --flocks {args.flocks}: {timings['seed_s']:.1f} s")
    print("\n| endpoint | requests | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for name, row in load["endpoints"].items():
        cells = [
            name,
            row["requests"],
            f"{row['rps']:.1f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
        ]
        print("| " + " | ".join(map(str, [*cells, row["errors"]])) + " |")
    print(f"| **all** | {load['requests']} | {load['rps']:.1f} | | | {load['errors']} |")
    print("\n| alone, at scale | p50 ms | p99 ms | reply bytes |\n|---|---|---|---|")
    for name, row in alone.items():
        print(f"| {name} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['bytes']} |")
    if load["errors"]:
        print("\nerrors:", json.dumps(load["error_samples"], indent=1))
    (WORK / "results.json").write_text(
        json.dumps({"args": vars(args), **timings, "alone": alone, "load": load}, indent=1)
    )
    return 1 if load["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
