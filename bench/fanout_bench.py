"""Mail-job fan-out benchmark: what "mail everyone without a factor now" costs the request and
the mail worker as the users grow.

Builds a fresh SQLite database under var/bench-fanout/ (or migrates the throwaway
--database-url), seeds --users users without a second factor with ``seed_demo``, then in
process (Django set up on that database, mails to the locmem backend):

1. queues the job as the org page's POST does (``mail.queue_enrol_reminders``) and reports its
   queries and time: it must not grow with the users;
2. runs ``mail.fan_out`` until the job is done and reports batches, users per second and the
   slowest batch; the mails' sending (``send_due``, 100 a pass) is the existing worker's and is
   not timed here.

    .venv/bin/python bench/fanout_bench.py --users 50000
    .venv/bin/python bench/fanout_bench.py --users 100000 --batch 1000 --database-url postgres://…/throwaway
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WORK = BASE_DIR / "var" / "bench-fanout"


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    url = args.database_url
    if not url:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        url = f"sqlite:///{WORK / 'bench.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    manage(env, "migrate", "--noinput", "-v", "0")
    started = time.perf_counter()
    manage(env, "seed_demo", "--users", str(args.users), "--flocks", "1")
    print(f"seed_demo --users {args.users}: {time.perf_counter() - started:.1f} s")

    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from users import mail
    from users.audit import Actor
    from users.models import MailJob, OutboxMail, User

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    print(f"users: {User.objects.count()}")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        job = mail.queue_enrol_reminders(Actor.system("bench"))
        asked = time.perf_counter() - started
    print(f"request (queue the job): {len(queries)} queries, {asked * 1000:.1f} ms")

    batches, slowest, started = 0, 0.0, time.perf_counter()
    while True:
        began = time.perf_counter()
        handled = mail.fan_out(args.batch)
        slowest = max(slowest, time.perf_counter() - began)
        if not handled:
            break
        batches += 1
        if MailJob.objects.get(pk=job.pk).finished_at:
            break
    took = time.perf_counter() - started
    job.refresh_from_db()
    print(
        f"fan-out: {job.queued_mails} mails queued ({job.without_email} without e-mail) in "
        f"{batches} batches of {args.batch}, {took:.1f} s, "
        f"{job.queued_mails / took:,.0f} users/s, slowest batch {slowest * 1000:.0f} ms"
    )
    print(f"outbox rows: {OutboxMail.objects.count()}")


if __name__ == "__main__":
    main()
