"""A passkey and its copies used at the same moment against gunicorn (3 workers of 8 threads):
the signature counter is read and moved under the key's row lock, so of several answers with
the same count exactly one signs in and the others are refused as a copied key."""

from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from helpers import ORIGIN, PasskeyDevice, add_key, assertion
from servers import LIVE_DB, gunicorn

from users.models import AuditEntry, WebAuthnCredential
from users.twofactor.passkey_views import CLONED_STAGE

pytestmark = LIVE_DB

RACERS = 8
RP_ID = "localhost"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> str:
    with (
        django_db_blocker.unblock(),
        gunicorn(
            WEBAUTHN_ORIGIN=ORIGIN, WEBAUTHN_RP_ID=RP_ID, PORTAL_LOGIN_FAILURE_LIMIT="1000"
        ) as url,
    ):
        yield url


def ready_answer(server: str, device: PasskeyDevice) -> tuple[requests.Session, dict]:
    """A browser session on the sign-in page with its passkey challenge answered, not yet sent."""
    browser = requests.Session()
    browser.get(f"{server}/login/", timeout=30)
    browser.headers.update({"X-CSRFToken": browser.cookies["csrftoken"], "Referer": server})
    options = browser.post(f"{server}/login/passkey/options/", json={}, timeout=30)
    assert options.status_code == 200, options.text
    return browser, {"credential": assertion(device, options.content)}


def test_a_key_and_its_copies_used_at_once_sign_in_once(server, ann, settings):
    settings.WEBAUTHN_ORIGIN, settings.WEBAUTHN_RP_ID = ORIGIN, RP_ID  # as the server's
    device = PasskeyDevice()
    assert add_key(ann, device).status_code == 200
    # Every copy holds the same counter, so every answer carries the same count.
    answers = [ready_answer(server, copy.deepcopy(device)) for _ in range(RACERS)]
    barrier = threading.Barrier(RACERS)

    def send(ready: tuple[requests.Session, dict]) -> requests.Response:
        browser, body = ready
        barrier.wait(timeout=30)
        return browser.post(
            f"{server}/login/passkey/",
            data=json.dumps(body),
            timeout=60,
            headers={"Content-Type": "application/json"},
        )

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(send, answers))
    assert sorted(r.status_code for r in responses) == [200] + [400] * (RACERS - 1), [
        r.text for r in responses
    ]
    assert all(
        "counter went backwards" in r.json()["error"] for r in responses if r.status_code == 400
    )
    assert WebAuthnCredential.objects.get().sign_count == 1
    assert AuditEntry.objects.filter(action_type="user_login").count() == 1
    assert (
        AuditEntry.objects.filter(
            action_type="user_login_failed", additional_information__stage=CLONED_STAGE
        ).count()
        == RACERS - 1
    )
