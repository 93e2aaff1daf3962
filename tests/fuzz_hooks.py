"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS).

The fuzzer authenticates as one admin. Learning that admin's name from a listing,
it would soon replace its token or demote it, and every later request would stop
at 401/403: calls aimed at that admin are redirected to a name nobody has.
"""

from __future__ import annotations

import os

import schemathesis

ADMIN_NAME = os.environ.get("FUZZ_ADMIN_NAME", "fuzz-admin")
ADMIN_EMAIL = os.environ.get("FUZZ_ADMIN_EMAIL", "fuzz-admin@example.com")


def _is_admin(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in (ADMIN_NAME, ADMIN_EMAIL)


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.path_parameters and _is_admin(case.path_parameters.get("user_name")):
        case.path_parameters["user_name"] = "someone-else"
    for container in (case.query, case.body):
        if isinstance(container, dict):
            for name in ("email", "emails", "managers", "watchers"):
                if any(_is_admin(item) for item in str(container.get(name, "")).split(",")):
                    container[name] = "someone-else@example.com"
