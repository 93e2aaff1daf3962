"""The portal behind two real reverse proxies (nginx in front of nginx, on loopback), with
clients on different loopback addresses: the audit log names the client, one client's bad
tokens cost only that client, and a forged X-Forwarded-For moves nothing.

Heavy (three servers): on the PostgreSQL leg of the suite only.
"""

from __future__ import annotations

import os

import pytest
import requests
from requests.adapters import HTTPAdapter
from servers import LIVE_DB, gunicorn, nginx

from users.models import AuditEntry

pytestmark = [
    LIVE_DB,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL leg only"
    ),
]
LIMIT = 5


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    """A client whose connections leave from ``address`` (any 127.x.y.z works on Linux)."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


@pytest.fixture(scope="module")
def portal_behind_proxies(django_db_setup, django_db_blocker):
    env = {"PORTAL_TRUSTED_PROXIES": "2", "PORTAL_ADDRESS_FAILURE_LIMIT": str(LIMIT)}
    with (
        django_db_blocker.unblock(),
        gunicorn(workers=2, threads=4, **env) as app,
        nginx(app) as inner,
        nginx(inner) as outer,
    ):
        yield outer


def test_audit_entries_carry_the_client_address(portal_behind_proxies, admin_token, make_user):
    make_user("ann@example.com")
    response = client_at("127.0.0.50").post(
        f"{portal_behind_proxies}/api/v1/user/note/add",
        data={"email": "ann@example.com", "note": "from .50"},
        headers={"X-Canary-Auth-Token": admin_token, "X-Forwarded-For": "6.6.6.6"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert AuditEntry.objects.get(action_type="user_note_add").user_ip == "127.0.0.50"


def test_bad_tokens_cost_only_their_sender_and_forged_headers_move_nothing(
    portal_behind_proxies, admin_token
):
    ping = f"{portal_behind_proxies}/api/v1/ping"
    mallory, alice = client_at("127.0.0.51"), client_at("127.0.0.52")
    for attempt in range(LIMIT):
        forged = {
            "X-Canary-Auth-Token": f"bad-token-{attempt}",
            "X-Forwarded-For": f"9.9.9.{attempt}",
        }
        assert mallory.get(ping, headers=forged, timeout=30).status_code == 401
    again = mallory.get(
        ping, headers={"X-Canary-Auth-Token": "bad", "X-Forwarded-For": "8.8.8.8"}, timeout=30
    )
    assert again.status_code == 429 and again.headers["Retry-After"]
    # a right token is never refused for what others sent from the same address
    assert (
        mallory.get(ping, headers={"X-Canary-Auth-Token": admin_token}, timeout=30).status_code
        == 200
    )
    assert (
        alice.get(ping, headers={"X-Canary-Auth-Token": admin_token}, timeout=30).status_code == 200
    )
    assert {
        entry.user_ip for entry in AuditEntry.objects.filter(action_type="api_auth_failed")
    } == {"127.0.0.51"}
