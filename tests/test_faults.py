"""The portal survives its dependencies failing (PostgreSQL leg): gunicorn on loopback with a
private PostgreSQL cluster, a private redis-server and a real SMTP server (aiosmtpd), while a
bounded mixed workload runs and the test stops and restarts Redis, then SMTP, then PostgreSQL.

Holds: no 500 ever; 503 only while PostgreSQL is down; every user added exists exactly once
with exactly one queued welcome mail; every welcome mail reaches the SMTP server once it is
back (a duplicate would share its Message-ID). The figures go to
test-artifacts/faults-postgresql.txt (README, "Reliability tests")."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import pytest
import requests
from django.db import connection
from helpers import PASSWORD
from servers import (
    ARTIFACTS,
    BASE_DIR,
    PrivatePostgres,
    RedisServer,
    SmtpServer,
    gunicorn,
    unavailable_reason,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL + Redis leg"),
    pytest.mark.skipif(unavailable_reason() is not None, reason=unavailable_reason() or ""),
]
CLIENTS = 3
PAUSE = 0.05  # between one client's requests: a bounded load on a shared machine
OUTAGE = 3.0  # seconds each dependency is down
SLACK = 1.0  # a request in flight when PostgreSQL stops or starts may get its 503


@dataclass
class Outcome:
    what: str
    started: float
    ended: float
    status: int  # 0: no HTTP reply at all


@dataclass
class Workload:
    """Clients looping over API calls (v1 ping, user/add, user/get; v2 users), signed-in
    pages and the sign-in page; a user/add answered 503 is sent again until it is not."""

    base: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self, session: requests.Session, what: str, method: str, path: str, **kwargs
    ) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = session.request(
                method, f"{self.base}{path}", timeout=30, allow_redirects=False, **kwargs
            )
        except requests.RequestException:
            response = None
        status = response.status_code if response is not None else 0
        with self.lock:
            self.outcomes.append(Outcome(what, started, time.monotonic(), status))
        return response

    def sign_in(self, session: requests.Session) -> None:
        self.call(session, "sign-in page", "GET", "/login/")
        data = {
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "login": "admin",
            "password": PASSWORD,
        }
        assert self.call(session, "sign in", "POST", "/login/", data=data).status_code == 302

    def add_user(self, api: requests.Session, email: str) -> None:
        params = {"auth_token": self.token}
        data = {"email": email, "access_level": "user"}
        first = True
        while True:
            response = self.call(
                api, "v1 user/add", "POST", "/api/v1/user/add", params=params, data=data
            )
            status = response.status_code if response is not None else 0
            assert not (first and status == 409), f"{email} existed before it was added"
            if status in (200, 409):
                break
            first = False
            time.sleep(0.3)
        with self.lock:
            self.added.append(email)

    def client(self, index: int) -> None:
        try:
            self.loop(index)
        except BaseException as exc:  # reported by the test, not lost with the thread
            self.errors.append(exc)

    def loop(self, index: int) -> None:
        api, pages = requests.Session(), requests.Session()
        self.sign_in(pages)
        auth = {"auth_token": self.token}
        bearer = {"Authorization": f"Bearer {self.token}"}
        number = 0
        while not self.stop.is_set():
            number += 1
            self.call(api, "v1 ping", "GET", "/api/v1/ping", params=auth)
            self.add_user(api, f"fault-{index}-{number}@example.com")
            self.call(
                api,
                "v1 user/get",
                "GET",
                "/api/v1/user/get",
                params={**auth, "email": "admin@example.com"},
            )
            self.call(api, "v2 users", "GET", "/api/v2/users", headers=bearer)
            self.call(pages, "users page", "GET", "/users/")
            self.call(api, "sign-in page", "GET", "/login/")
            time.sleep(PAUSE)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def wait_until(check, timeout: float = 60.0, step: float = 0.1) -> float:
    """Seconds until ``check()`` is true (fails the test after ``timeout``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(step)
    return time.monotonic() - started


def answers_200(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, **kwargs).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def dependencies():
    postgres, redis_server, smtp = PrivatePostgres(), RedisServer(), SmtpServer()
    postgres.init()
    postgres.start()
    redis_server.start()
    smtp.start()
    yield postgres, redis_server, smtp
    smtp.stop()
    redis_server.close()
    postgres.close()


def test_redis_smtp_and_postgresql_failing_under_load(dependencies):
    postgres, redis_server, smtp = dependencies
    portal_env = {
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis_server.url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PORTAL_BCRYPT_ROUNDS": "4",
        "PORTAL_ADDRESS_FAILURE_LIMIT": "1000000000",
        "PORTAL_ACCOUNT_FAILURE_LIMIT": "1000000000",
        "PORTAL_CACHE_RETRY_SECONDS": "1",
        "PORTAL_EMAIL_TIMEOUT": "2",
        "PORTAL_MAIL_RETRY_SECONDS": "0.5",
        "PORTAL_MAIL_RETRY_MAX_SECONDS": "2",
        "PORTAL_ADMIN_PASSWORD": PASSWORD,
    }
    env = os.environ | portal_env
    manage(env, "migrate", "--noinput")
    manage(env, "ensure_admin")
    token = manage(env, "api_token", "admin").strip()
    ARTIFACTS.mkdir(exist_ok=True)
    worker_log = open(ARTIFACTS / "mail-worker-faults.log", "ab")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "send_queued_mail", "--interval", "0.5"],
        cwd=BASE_DIR,
        env=env,
        stdout=worker_log,
        stderr=worker_log,
    )
    windows: dict[str, tuple[float, float]] = {}  # when each dependency was down
    recovery: dict[str, float] = {}
    try:
        with gunicorn(workers=2, threads=4, **portal_env) as base:
            workload = Workload(base, token)

            def delivered() -> set[str]:
                return {message["To"] for message in smtp.messages}

            clients = [threading.Thread(target=workload.client, args=(i,)) for i in range(CLIENTS)]
            for thread in clients:
                thread.start()
            time.sleep(2)

            down = time.monotonic()
            redis_server.stop()
            time.sleep(OUTAGE)
            redis_server.start()
            windows["Redis"] = (down, time.monotonic())
            recovery["cache used again (s)"] = wait_until(
                lambda: requests.get(f"{base}/readyz", timeout=5).json()["cache"] == "ok"
            )
            time.sleep(1)

            down = time.monotonic()
            smtp.stop()
            time.sleep(OUTAGE)
            with workload.lock:
                added_meanwhile = set(workload.added)
            smtp.start()
            windows["SMTP"] = (down, time.monotonic())
            recovery["mails queued while SMTP was down all delivered after it was back (s)"] = (
                wait_until(lambda: added_meanwhile <= delivered())
            )
            time.sleep(1)

            down = time.monotonic()
            postgres.stop()
            time.sleep(OUTAGE)
            postgres.start()
            windows["PostgreSQL"] = (down, time.monotonic())
            recovery["first 200 after PostgreSQL is back (s)"] = wait_until(
                lambda: answers_200(f"{base}/api/v1/ping", params={"auth_token": token}), step=0.02
            )
            time.sleep(2)
            workload.stop.set()
            for thread in clients:
                thread.join(60)
            added = set(workload.added)
            recovery["all mails delivered after the last add (s)"] = wait_until(
                lambda: added <= delivered()
            )
            time.sleep(1)  # a duplicate, if any, would arrive now
    finally:
        worker.terminate()
        worker.wait(30)
        worker_log.close()

    outcomes = workload.outcomes
    statuses = Counter(outcome.status for outcome in outcomes)
    down, back = windows["PostgreSQL"]
    stray_503 = [
        o for o in outcomes if o.status == 503 and not (down - SLACK <= o.started <= back + SLACK)
    ]
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres"
    ) as db:
        users = dict(
            db.execute(
                "SELECT email, count(*) FROM users_user WHERE email LIKE 'fault-%' GROUP BY email"
            )
        )
        retried = db.execute("SELECT count(*) FROM users_outboxmail WHERE attempts > 1").fetchone()[
            0
        ]
        queued = dict(
            db.execute(
                "SELECT u.email, count(*) FROM users_outboxmail m JOIN users_user u ON u.id = "
                "m.user_id WHERE m.kind = 'welcome' GROUP BY u.email"
            )
        )
    messages = smtp.messages
    ids_per_address: dict[str, set[str]] = {}
    for message in messages:
        ids_per_address.setdefault(message["To"], set()).add(message["Message-ID"])

    figures = [
        f"requests: {len(outcomes)} from {CLIENTS} clients; by status: "
        f"{dict(sorted(statuses.items()))}",
        *(
            f"while {name} was down ({end - start:.1f} s): {statuses_between(outcomes, start, end)}"
            for name, (start, end) in windows.items()
        ),
        f"503 while PostgreSQL was down: {statuses[503]}; outside that window: {len(stray_503)}",
        f"users added: {len(added)}; rows: {len(users)} (each once: {set(users.values()) <= {1}})",
        f"welcome mails queued: {sum(queued.values())}; delivered: {len(messages)};"
        f" distinct Message-IDs: {len({m['Message-ID'] for m in messages})}; sent after a failed "
        f"attempt: {retried}",
        *(f"{name}: {seconds:.2f}" for name, seconds in recovery.items()),
    ]
    (ARTIFACTS / "faults-postgresql.txt").write_text("\n".join(figures) + "\n")
    print("\n".join(figures))

    assert workload.errors == []
    assert not [o for o in outcomes if o.status >= 500 and o.status != 503], "no 500, ever"
    assert statuses[0] == 0, "every request got an HTTP reply"
    assert stray_503 == [], "503 only while PostgreSQL was down"
    assert statuses[503] > 0, "the workload did run into the PostgreSQL restart"
    assert set(users) == added and set(users.values()) == {1}
    assert queued == dict.fromkeys(added, 1)
    assert set(ids_per_address) == added
    assert all(len(ids) == 1 for ids in ids_per_address.values()), (
        "a resent mail keeps its Message-ID"
    )
    assert retried > 0, "the workload did queue mails while SMTP was down"


def statuses_between(outcomes: list[Outcome], start: float, end: float) -> dict[int, int]:
    return dict(sorted(Counter(o.status for o in outcomes if start <= o.started <= end).items()))
