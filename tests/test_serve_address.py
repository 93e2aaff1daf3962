"""``bin/serve`` derives the address people open from PORTAL_ADDRESS: mail links and security
keys agree with it, and a loopback address becomes ``localhost`` (browsers refuse an IP address
as a security key's RP ID)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
import requests
import servers
from servers import BASE_DIR, LIVE_DB, free_port, runserver

DERIVED = ("PORTAL_BASE_URL", "WEBAUTHN_ORIGIN", "WEBAUTHN_RP_ID", "DJANGO_ALLOWED_HOSTS")


def serve_env(**env: str) -> dict[str, str]:
    """What ``bin/serve --print-env`` exports, from a clean environment plus ``env``."""
    environment = {k: v for k, v in os.environ.items() if k not in (*DERIVED, "PORTAL_ADDRESS")}
    result = subprocess.run(
        ["bin/serve", "--print-env"],
        cwd=BASE_DIR,
        env=environment | env,
        capture_output=True,
        text=True,
        check=True,
    )
    exported = {}
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exported[name] = shlex.split(value)[0]
    return exported


@pytest.mark.parametrize(
    ("address", "base", "rp_id"),
    [
        ("127.0.0.1:8031", "http://localhost:8031", "localhost"),
        ("8032", "http://localhost:8032", "localhost"),
        ("[::1]:8033", "http://localhost:8033", "localhost"),
        ("localhost:8034", "http://localhost:8034", "localhost"),
        ("portal.lan:9000", "http://portal.lan:9000", "portal.lan"),
    ],
)
def test_the_address_people_open_is_derived(address, base, rp_id):
    exported = serve_env(PORTAL_ADDRESS=address)
    assert exported["PORTAL_BASE_URL"] == exported["WEBAUTHN_ORIGIN"] == base
    assert exported["WEBAUTHN_RP_ID"] == rp_id
    if rp_id == "localhost":
        assert "DJANGO_ALLOWED_HOSTS" not in exported  # the defaults allow it
    else:
        assert exported["DJANGO_ALLOWED_HOSTS"] == f"127.0.0.1,localhost,{rp_id}"


def test_the_default_address():
    assert serve_env()["PORTAL_BASE_URL"] == "http://localhost:8000"


def test_settings_given_are_kept_and_the_rest_follows_them():
    exported = serve_env(
        PORTAL_ADDRESS="127.0.0.1:8031", PORTAL_BASE_URL="https://portal.example.com/"
    )
    assert (
        exported["PORTAL_BASE_URL"] == exported["WEBAUTHN_ORIGIN"] == ("https://portal.example.com")
    )
    assert exported["WEBAUTHN_RP_ID"] == "portal.example.com"
    exported = serve_env(
        PORTAL_ADDRESS="127.0.0.1:8031",
        WEBAUTHN_ORIGIN="https://keys.example.com",
        WEBAUTHN_RP_ID="example.com",
        DJANGO_ALLOWED_HOSTS="portal.example.com",
    )
    assert exported == {
        "PORTAL_BASE_URL": "http://localhost:8031",
        "WEBAUTHN_ORIGIN": "https://keys.example.com",
        "WEBAUTHN_RP_ID": "example.com",
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    }


def test_an_ip_address_is_served_but_keys_are_said_to_need_a_name():
    result = subprocess.run(
        ["bin/serve", "--print-env"],
        cwd=BASE_DIR,
        env=os.environ | {"PORTAL_ADDRESS": "192.168.1.5:8000"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "export PORTAL_BASE_URL=http://192.168.1.5:8000" in result.stdout
    assert "security keys need a host name, not the IP address 192.168.1.5" in result.stderr


@LIVE_DB
def test_mail_links_and_keys_point_at_the_served_address(ann):
    """Served on 127.0.0.1:<port> with what bin/serve derives: the reset mail's link opens at
    http://localhost:<port>, and the pages bind keys to that origin."""
    port = free_port()
    exported = serve_env(PORTAL_ADDRESS=f"127.0.0.1:{port}")
    served = f"http://localhost:{port}"
    with runserver(port=port, **exported):
        browser = requests.Session()
        form = browser.get(f"{served}/accounts/forgot/", timeout=10)
        assert f'<meta name="webauthn-origin" content="{served}">' in form.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        asked = browser.post(
            f"{served}/accounts/forgot/",
            {"csrfmiddlewaretoken": token, "login": "ann"},
            timeout=10,
            allow_redirects=False,
        )
        assert asked.status_code == 302
        # The mail worker, as bin/serve runs it beside the server, with the same environment.
        worker = subprocess.run(
            [sys.executable, "manage.py", "send_queued_mail", "--once"],
            cwd=BASE_DIR,
            env=os.environ
            | exported
            | {"DATABASE_URL": servers.test_database_url(), "EMAIL_URL": "consolemail://"},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        links = re.findall(r"https?://\S+/accounts/reset/\S+/", worker.stdout)
        assert len(links) == 1 and links[0].startswith(f"{served}/accounts/reset/")
        page = requests.get(links[0], timeout=10)
        assert page.status_code == 200 and "Choose a password" in page.text
