#!/usr/bin/env python
"""How alike "Forgot your password?" answers are, whatever the name (a script, not a test).

Builds a fresh SQLite database under var/ (or uses DATABASE_URL: it then adds ``fp-bench-*``
rows, so point it at a throwaway database), adds an active user, a disabled one and one
without an e-mail, and asks for a reset for each of them, for an unknown name and, past the
budget, for the active user again, in turns (so drift hits every case alike), through
Django's test client in this process: the view, the services, the database and the cache,
but no HTTP server. Prints per case the answer (status and where it redirects), the
database queries, and the time per ask (median and 90th percentile).

    .venv/bin/python bench/forgot_password_bench.py [--asks 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = ROOT / "var" / "forgot-bench.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=200, help="asks per case")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        BENCH_DB.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from users.models import User

    call_command("migrate", verbosity=0)
    User.objects.filter(username__startswith="fp-bench-").delete()
    User.objects.create_user("fp-bench-active", "fp-bench-active@example.com")
    User.objects.create_user("fp-bench-disabled", "fp-bench-disabled@example.com", is_active=False)
    User.objects.create_user("fp-bench-no-mail", "")
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 10**9
    cases = {
        "existing (mail queued)": ("fp-bench-active", 10**9),
        "unknown name": ("fp-bench-nobody", 10**9),
        "disabled user": ("fp-bench-disabled", 10**9),
        "no e-mail address": ("fp-bench-no-mail", 10**9),
        "existing, over budget": ("fp-bench-active", 0),
    }
    client = Client()
    times: dict[str, list[float]] = {label: [] for label in cases}
    answers: dict[str, set] = {label: set() for label in cases}
    queries: dict[str, set] = {label: set() for label in cases}
    for _ in range(args.asks):
        for label, (name, account_limit) in cases.items():
            settings.PASSWORD_RESET_ACCOUNT_LIMIT = account_limit
            reset_queries()  # the query log is a bounded deque: counts need it short
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.post("/accounts/forgot/", {"login": name})
                times[label].append(time.perf_counter() - start)
            answers[label].add((response.status_code, response.get("Location")))
            queries[label].add(len(captured))
    print(
        f"{args.asks} asks per case, {connection.vendor},"
        f" cache {settings.CACHES['default']['BACKEND']}"
    )
    print("| case | answer | queries | p50 ms | p90 ms |\n|---|---|---|---|---|")
    for label, spent in times.items():
        ms = sorted(t * 1000 for t in spent)
        answer = ", ".join(f"{status} → {where}" for status, where in answers[label])
        count = "/".join(str(q) for q in sorted(queries[label]))
        p90 = ms[int(len(ms) * 0.9)]
        print(f"| {label} | {answer} | {count} | {statistics.median(ms):.2f} | {p90:.2f} |")


if __name__ == "__main__":
    main()
