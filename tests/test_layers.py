"""The import graph points one way (README "Map of the code"):

    portal/lib  <-  users core  <-  flocks core  <-  faces (pages, Django admin, commands, the API
    package)

Each rule below names a layer and the modules it must never import; the test reads every source
file with ``ast`` (imports inside functions too), so an upward arrow fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The API package joins users and flocks, above both cores.
API = ("portal.api", "portal.json_replies")
# The faces of users: its pages, forms, Django admin and commands (sign-in pages included).
USERS_FACES = (
    "users.views",
    "users.forms",
    "users.audit_views",
    "users.org_views",
    "users.mail_views",
    "users.session_views",
    "users.access",
    "users.password_reset",
    "users.admin",
    "users.urls",
    "users.management",
    "users.twofactor.login_views",
    "users.twofactor.passkey_views",
    "users.twofactor.reauth_views",
    "users.twofactor.factor_step",
    "users.twofactor.security_views",
    "users.twofactor.forms",
    "users.twofactor.urls",
    "users.twofactor.decorators",
    "users.twofactor.middleware",
    "users.twofactor.context_processors",
    *API,
)
FLOCKS_FACES = (
    "flocks.views",
    "flocks.forms",
    "flocks.access",
    "flocks.admin",
    "flocks.urls",
    "flocks.api_v1",
    "flocks.key_views",
    "flocks.picker_views",
)
FLOCKS_CORE = (
    "flocks.models",
    "flocks.services",
    "flocks.selectors",
    "flocks.api_keys",
    "flocks.apps",
    "flocks.migrations",
)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str = "") -> set[str]:
    """Every module ``path`` (named ``module``) imports (``from a import b`` counts as ``a`` and
    ``a.b``)."""
    module = module or _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package[: len(package) - node.level + 1], *([base] if base else [])]
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources() -> dict[str, set[str]]:
    return {
        _module_name(path): imports_of(path)
        for top in ("portal", "users", "flocks")
        for path in sorted((ROOT / top).rglob("*.py"))
    }


def _layer_rules() -> list[tuple[str, object, tuple[str, ...]]]:
    """(layer, which modules are in it, what they must not import)."""
    return [
        ("portal/lib", lambda m: _within(m, ("portal.lib",)), ("users", "flocks", *API)),
        (
            "users core",
            lambda m: _within(m, ("users",)) and not _within(m, USERS_FACES),
            ("flocks", *USERS_FACES),
        ),
        ("flocks core", lambda m: _within(m, FLOCKS_CORE), (*USERS_FACES, *FLOCKS_FACES)),
    ]


@pytest.mark.parametrize(
    "layer, members, forbidden", _layer_rules(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_no_upward_import(layer, members, forbidden):
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in sources().items()
        if members(module)
        for target in targets
        if _within(target, forbidden)
    )
    assert upward == [], f"{layer} imports a layer above it"


def test_each_layer_has_members():
    """A renamed package must not empty a rule (which would then pass for nothing)."""
    modules = sources()
    for layer, members, _ in _layer_rules():
        assert any(members(module) for module in modules), layer


def test_the_walker_sees_relative_and_nested_imports(tmp_path):
    """The check can fail: a core module importing flocks inside a function is an upward arrow."""
    source = tmp_path / "selectors.py"
    source.write_text("from .models import User\n\n\ndef f():\n    from flocks import services\n")
    seen = imports_of(source, "users.selectors")
    assert {"users.models", "users.models.User", "flocks", "flocks.services"} <= seen
    layer, members, forbidden = _layer_rules()[1]
    assert layer == "users core" and members("users.selectors") and not members("users.views")
    assert sorted(target for target in seen if _within(target, forbidden)) == [
        "flocks",
        "flocks.services",
    ]
    assert not _within("flocksy", ("flocks",))
