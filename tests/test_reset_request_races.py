"""Concurrent "Forgot your password?" asks: the budgets are counted before an ask is judged,
so of many at once only the limit's worth send a mail."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from servers import LIVE_DB, gunicorn

from users.lockouts import Account
from users.models import User
from users.outbox import OutboxMail
from users.reset_requests import ResetAskBudget

RACERS = 20


def at_once(calls: list) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_of_concurrent_asks_only_the_limit_is_within_budget(settings):
    settings.PASSWORD_RESET_ACCOUNT_LIMIT = 3
    account = Account(User(pk=42, username="ann"), "ann")
    within = at_once([ResetAskBudget(f"10.0.0.{n}", account).note_failure for n in range(RACERS)])
    assert within.count(True) == 3


@LIVE_DB
@pytest.mark.skipif(
    "Redis" not in settings.CACHES["default"]["BACKEND"],
    reason="the budgets are shared between app servers through Redis (the PostgreSQL leg)",
)
def test_concurrent_asks_on_several_workers_send_the_limits_worth(ann):
    with gunicorn(PORTAL_RESET_ADDRESS_LIMIT="1000", PORTAL_RESET_ACCOUNT_LIMIT="3") as url:
        browsers = []
        for _ in range(RACERS):
            browser = requests.Session()
            form = browser.get(f"{url}/accounts/forgot/", timeout=30).text
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            browsers.append((browser, token))

        def ask(browser: requests.Session, token: str):
            return lambda: browser.post(
                f"{url}/accounts/forgot/",
                {"csrfmiddlewaretoken": token, "login": "ann@example.com"},
                timeout=60,
                allow_redirects=False,
            )

        answers = at_once([ask(browser, token) for browser, token in browsers])
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {
        (302, "/accounts/forgot/sent/")
    }
    assert OutboxMail.objects.filter(user=ann).count() == 3
