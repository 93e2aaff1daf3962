"""Schemathesis against a live server: no 5xx and no reply that breaks the OpenAPI schema.

It generates schema-valid and schema-violating requests for every v1 and v2
operation (coverage, fuzzing and stateful phases) with real admin credentials.
Bounded by examples per operation and a time budget; set PORTAL_FUZZ_EXAMPLES /
PORTAL_FUZZ_SECONDS / PORTAL_FUZZ_SEED to fuzz longer or differently.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from servers import LIVE_DB, restore_migration_rows

from flocks.models import Flock
from users import services
from users.models import AccessLevel, User

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,unsupported_method"
)


@pytest.mark.fuzz
@LIVE_DB
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, settings, system, make_user
):
    restore_migration_rows()
    # the fuzzer's bad credentials must not lock out its good ones
    settings.AUTH_ADDRESS_FAILURE_LIMIT = settings.AUTH_ACCOUNT_FAILURE_LIMIT = 10**9
    admin = User.objects.create_superuser(
        username="fuzz-admin", email="fuzz-admin@example.com", password=None
    )
    token = services.issue_api_token(system, admin)
    make_user("second-admin@example.com", access_level=AccessLevel.ADMIN, note="ünïcödé\tnote")
    make_user("zoe@example.com")
    Flock.objects.create(name="Kraków Lab", note="sensors")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--header",
        f"X-Canary-Auth-Token: {token}",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"),
        "--max-time",
        os.environ.get("PORTAL_FUZZ_SECONDS", "60"),
        "--seed",
        os.environ.get("PORTAL_FUZZ_SEED", "20261125"),
        "--request-timeout",
        "30",
        # Django's single-process live server now and then drops a connection under the
        # fuzzer's load ("Connection aborted"); retry that instead of failing the run.
        "--request-retries",
        "2",
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
    ]
    env = os.environ | {
        "NO_COLOR": "1",
        "SCHEMATHESIS_HOOKS": str(BASE_DIR / "tests" / "fuzz_hooks.py"),
    }
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{connection.vendor}.txt").write_text(output)
    assert result.returncode == 0, output[-20000:]
    assert (
        "generated" in output and " failed" not in output.split("Test cases:")[-1].splitlines()[1]
    )
    admin.refresh_from_db()
    assert admin.is_active and admin.is_admin  # the run really went on as an admin
