"""The official canarytools client, unchanged, against a live portal."""

import canarytools
import pytest
from canarytools.console import ERROR_MAP
from canarytools.exceptions import ConsoleError, FlockError, InvalidAuthTokenError

from flocks.models import DEFAULT_FLOCK_ID, Flock

# A live server needs committed data; serialized_rollback brings back the migrations' rows
# (flock:default).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def connect(live_server, monkeypatch):
    """``connect(api_key)``: a Console aimed at the live server (the client formats ROOT with the
    domain)."""
    monkeypatch.setattr(canarytools.console, "ROOT", f"{live_server.url}/api/v1/")

    consoles = []

    def make(api_key: str) -> canarytools.Console:
        consoles.append(canarytools.Console(domain="unused", api_key=api_key))
        return consoles[-1]

    yield make
    # Close the kept-alive sockets, or their server threads keep database sessions open past the
    # test database's
    # teardown. The client raises shared exception instances whose tracebacks hold the last
    # response's socket.
    for error in ERROR_MAP.values():
        if isinstance(error, BaseException):
            error.__traceback__ = None
    for console in consoles:
        console.session.close()


def by_id(console: canarytools.Console) -> dict[str, str]:
    return {flock.flock_id: flock.name for flock in console.flocks.all()}


def test_ping_and_flock_lifecycle(connect, admin_token):
    console = connect(admin_token)
    assert console.ping() is True
    assert by_id(console) == {DEFAULT_FLOCK_ID: "Default Flock"}

    flock = console.flocks.create(name="Cape Town")
    assert flock.name == "Cape Town" and flock.flock_id.startswith("flock:")
    assert by_id(console) == {DEFAULT_FLOCK_ID: "Default Flock", flock.flock_id: "Cape Town"}

    flock.name = "Johannesburg"  # the client sends flock.name, not rename's argument
    assert flock.rename("Johannesburg").result == "success"
    assert Flock.objects.get(pk=flock.flock_id).name == "Johannesburg"

    assert flock.delete().result == "success"
    assert by_id(console) == {DEFAULT_FLOCK_ID: "Default Flock"}


def test_bad_key_raises_invalid_auth_token(connect, admin):
    with pytest.raises(InvalidAuthTokenError):
        connect("not-a-key").ping()


def test_flock_errors_map_to_flock_error(connect, admin_token):
    console = connect(admin_token)
    (default,) = console.flocks.all()
    with pytest.raises(FlockError, match=r"^Cannot delete default flock$"):
        default.delete()
    with pytest.raises(FlockError, match=r"^Flock name cannot be empty\.$"):
        console.flocks.create(name="")
    with pytest.raises(FlockError, match=r"^Flock name longer than maximum \(100 characters\)\.$"):
        console.flocks.create(name="x" * 101)
    default.flock_id = "flock:gone"
    with pytest.raises(FlockError, match=r"^Flock does not exist\.$"):
        default.delete()
    assert list(Flock.objects.values_list("pk", flat=True)) == [DEFAULT_FLOCK_ID]


def test_a_taken_flock_name_is_a_console_error_with_the_message(connect, admin_token):
    """The client knows no duplicate-name message (the console has none), so it raises its
    general ConsoleError carrying the portal's message; its own rename (which sends the flock's
    current name) still succeeds."""
    console = connect(admin_token)
    flock = console.flocks.create(name="Cape Town")
    with pytest.raises(ConsoleError, match=r"^A flock named Cape Town already exists\.$"):
        console.flocks.create(name="CAPE TOWN")
    assert flock.rename("ignored by the client").result == "success"
    assert sorted(Flock.objects.values_list("name", flat=True)) == ["Cape Town", "Default Flock"]
