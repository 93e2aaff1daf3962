#!/usr/bin/env python
"""Authenticated API throughput next to an unauthenticated baseline (a script, not a test).

Builds a fresh SQLite database under var/ (or uses DATABASE_URL: it then adds
``bench-*`` rows, so point it at a throwaway database), seeds 10,000 users, starts
gunicorn (the project's config, 2 sync workers) on loopback and drives it with ``wrk``
(C, keep-alive where the server allows it; ``apt-get install wrk``) for each of:

  (a) GET /api/v1/ping without a token            -> 401, no credential work at all
  (b) GET /api/v2/users/<name> with HTTP Basic     -> 200, password check + one lookup
  (c) the same with a Bearer token                 -> 200, token check + one lookup
  (d) GET /api/v1/ping?auth_token=…                -> 200, token check
  (e) the same with an org-wide read-only API key  -> 200, key check (one more indexed query)

bcrypt runs at the real cost (12). The cache is Redis when REDIS_URL (or CACHE_URL)
is set, else local memory per worker, so each worker pays bcrypt once per credential;
a short warm-up before each measurement takes that one-off cost out of the figures.
Workers are not recycled during the run (portal/gunicorn.py recycles them every
~2000 requests; with a local-memory cache a fresh worker pays bcrypt once more).

Requests per second depend on everything else the machine runs (wrk shares it);
the workers' CPU time per request does not, so both are reported: "CPU capacity
vs (a)" is how many authenticated requests a core serves per unauthenticated one.

    .venv/bin/python bench/auth_bench.py [--users 10000] [--seconds 10] [--rounds 3] \
        [--connections 4]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = ROOT / "var" / "bench.sqlite3"
ADMIN_NAME = "bench-admin"
ADMIN_PASSWORD = "bench admin passphrase 42"


@dataclass
class Scenario:
    label: str
    path: str
    headers: dict[str, str]
    expected_status: int


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # worker CPU (user + system) per request
    errors: str


def prepare_environment() -> dict[str, str]:
    """The environment the seeding code and the gunicorn workers share."""
    env = dict(os.environ)
    if "DATABASE_URL" not in env:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{BENCH_DB}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # Production settings, minus what a plain-HTTP loopback run cannot have.
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    env["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    env["DJANGO_STATIC_MANIFEST"] = "0"
    env["PORTAL_BCRYPT_ROUNDS"] = "12"
    os.environ.update(env)
    return env


def seed(user_count: int) -> tuple[str, str, str]:
    """Migrate and add ``user_count`` users (bulk, one shared cost-12 hash); returns
    (a filler user's name, the bench admin's API token, a read-only API key)."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from flocks import api_keys
    from users import services
    from users.audit import Actor
    from users.hashers import HASHER_PREFIX, bcrypt_hash
    from users.models import AccessLevel, User

    call_command("migrate", verbosity=0)
    cache.clear()
    shared_password = HASHER_PREFIX + bcrypt_hash("filler users all share this")
    fillers = [
        User(
            username=f"bench-user-{n:05d}",
            email=f"bench-user-{n:05d}@example.com",
            password=shared_password,
        )
        for n in range(user_count)
    ]
    User.objects.bulk_create(fillers, batch_size=2000, ignore_conflicts=True)
    admin, _ = User.objects.get_or_create(
        username=ADMIN_NAME, defaults={"access_level": AccessLevel.ADMIN}
    )
    admin.set_password(ADMIN_PASSWORD)
    admin.access_level, admin.is_active = AccessLevel.ADMIN, True
    admin.save()
    token = services.issue_api_token(Actor.system("bench"), admin)
    _, key = api_keys.add_key(Actor.system("bench"), role="read-only", note="bench")
    print(
        f"{User.objects.count()} users in {os.environ['DATABASE_URL'].split('@')[-1]}", flush=True
    )
    return f"bench-user-{user_count // 2:05d}", token, key


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    """gunicorn with the project's own config (portal/gunicorn.py), access log discarded."""
    server_env = {
        **env,
        "WEB_CONCURRENCY": str(workers),
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    # No worker recycling here (--max-requests 0): a recycled worker's start-up would
    # land in whichever scenario happens to be running.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:portal.gunicorn",
        "--max-requests",
        "0",
    ]
    server = subprocess.Popen(
        [*command, "portal.wsgi:application"],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/status", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not come up")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10
        ) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def run_wrk(
    url: str, headers: dict[str, str], seconds: int, connections: int, server: subprocess.Popen
) -> Result:
    command = ["wrk", "--latency", "-t", "1", "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = workers_cpu_seconds(server.pid)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    cpu = workers_cpu_seconds(server.pid) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Socket errors:.*", output)
    return Result(
        rps,
        _percentile(output, "50"),
        _percentile(output, "99"),
        cpu * 1000 / max(requests, 1),
        errors.group(0) if errors else "",
    )


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by the gunicorn workers (Linux /proc): unlike requests per
    second, this does not depend on what else the machine is busy with."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _percentile(wrk_output: str, pct: str) -> float:
    value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", wrk_output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    env = prepare_environment()
    target, token, key = seed(args.users)
    basic = base64.b64encode(f"{ADMIN_NAME}:{ADMIN_PASSWORD}".encode()).decode()
    scenarios = [
        Scenario("(a) v1 ping, no token", "/api/v1/ping", {}, 401),
        Scenario(
            "(b) v2 user, Basic",
            f"/api/v2/users/{target}",
            {"Authorization": f"Basic {basic}"},
            200,
        ),
        Scenario(
            "(c) v2 user, Bearer",
            f"/api/v2/users/{target}",
            {"Authorization": f"Bearer {token}"},
            200,
        ),
        Scenario("(d) v1 ping, auth_token", f"/api/v1/ping?auth_token={token}", {}, 200),
        Scenario("(e) v1 ping, API key", f"/api/v1/ping?auth_token={key}", {}, 200),
    ]
    cache = "Redis" if env.get("CACHE_URL") or env.get("REDIS_URL") else "local memory per worker"
    port = args.port or free_port()
    server = start_gunicorn(env, port, args.workers)
    results: dict[str, list[Result]] = {scenario.label: [] for scenario in scenarios}
    try:
        for scenario in scenarios:
            status = status_of(f"http://127.0.0.1:{port}{scenario.path}", scenario.headers)
            if status != scenario.expected_status:
                raise SystemExit(
                    f"{scenario.label}: expected {scenario.expected_status}, got {status}"
                )
        # Interleaved rounds, so a burst of other load on the machine hits every scenario alike.
        for _ in range(args.rounds):
            for scenario in scenarios:
                url = f"http://127.0.0.1:{port}{scenario.path}"
                # Warm-up: a fresh worker's first bcrypt.
                run_wrk(url, scenario.headers, 1, args.connections, server)
                results[scenario.label].append(
                    run_wrk(url, scenario.headers, args.seconds, args.connections, server)
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, cache, scenarios, results)


def median_round(results: list[Result]) -> Result:
    return sorted(results, key=lambda result: result.requests_per_second)[len(results) // 2]


def report(
    args: argparse.Namespace,
    cache: str,
    scenarios: list[Scenario],
    results: dict[str, list[Result]],
) -> None:
    print(
        f"\n{args.users} users, gunicorn {args.workers} sync workers, bcrypt cost 12, "
        f"cache: {cache}, wrk 1 thread x {args.connections} connections, "
        f"{args.rounds} interleaved rounds x {args.seconds} s "
        f"(median round shown), {os.cpu_count()} CPUs shared by server and wrk\n"
    )
    baseline = median_round(results[scenarios[0].label])
    print(
        "| scenario | status | req/s | p50 ms | p99 ms | req/s vs (a) | server CPU ms/req | CPU "
        "capacity vs (a) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        result = median_round(results[scenario.label])
        cpu = statistics.median(r.server_cpu_ms for r in results[scenario.label])
        cpu_a = statistics.median(r.server_cpu_ms for r in results[scenarios[0].label])
        print(
            f"| {scenario.label} | {scenario.expected_status} | {result.requests_per_second:.0f} "
            f"| {result.p50_ms:.2f} | {result.p99_ms:.2f} "
            f"| {result.requests_per_second / baseline.requests_per_second:.2f}x "
            f"| {cpu:.3f} | {cpu_a / cpu:.2f}x |"
        )
    for scenario in scenarios:
        for result in results[scenario.label]:
            if result.errors:
                print(f"{scenario.label}: {result.errors}")


if __name__ == "__main__":
    main()
