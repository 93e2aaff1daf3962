"""Business rules for flocks and memberships, shared by every face."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from portal.lib.errors import Conflict, InvalidInput, NotFound
from users.audit import Actor, record
from users.models import User
from users.services import clean_email, clean_note

from .models import DEFAULT_FLOCK_ID, NAME_MAX_LENGTH, Flock, FlockMembership, FlockRole

FLOCK_NOT_FOUND = "Flock does not exist."


def clean_flock_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Flock name cannot be empty.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"Flock name longer than maximum ({NAME_MAX_LENGTH} characters).", field="name"
        )
    if "\x00" in name:
        raise InvalidInput("Flock name must not contain NUL characters.", field="name")
    return name


def flock_named(name: str, *, other_than: Flock | None = None) -> Flock | None:
    """The flock whose name is ``name`` in any letter case (the unique index's own expression,
    so the check and the index agree on every database), leaving ``other_than`` out."""
    flocks = Flock.objects.filter(Exact(Lower("name"), Lower(Value(name))))
    if other_than is not None:
        flocks = flocks.exclude(pk=other_than.pk)
    return flocks.first()


def taken_name(name: str, other_than: Flock | None = None) -> Conflict | None:
    """The refusal of a taken ``name``, naming the flock as it is stored, or None."""
    taken = flock_named(name, other_than=other_than)
    if taken is None:
        return None
    return Conflict(f"A flock named {taken.name} already exists.", field="name")


def _taken_meanwhile(name: str, other_than: Flock | None = None) -> Conflict:
    """The unique index, not the check before it, refused the name: a create or rename of it
    committed in between (PostgreSQL waits for it; SQLite's writes queue)."""
    return taken_name(name, other_than) or Conflict(
        f"A flock named {name} already exists.", field="name"
    )


def clean_role(value: str, field: str = "flock_access_level") -> str:
    if value not in FlockRole.values:
        raise InvalidInput(f"Invalid {field}: must be 'manager' or 'watcher'", field=field)
    return value


def get_flock(flock_id: str) -> Flock:
    try:
        return Flock.objects.get(flock_id=flock_id)
    except Flock.DoesNotExist:
        raise NotFound(FLOCK_NOT_FOUND) from None


def get_flocks(flock_ids: Iterable[str]) -> list[Flock]:
    """All the named flocks, in the order given, or NotFound if any is unknown."""
    flock_ids = list(flock_ids)
    found = Flock.objects.in_bulk(flock_ids)
    if len(found) != len(set(flock_ids)):
        raise NotFound(FLOCK_NOT_FOUND)
    return [found[flock_id] for flock_id in flock_ids]


def users_by_email(emails: Iterable[str], field: str) -> list[User]:
    """The users with these e-mails, each once, or NotFound naming the first unknown one."""
    cleaned = list(dict.fromkeys(clean_email(email, field) for email in emails))
    found = {user.email: user for user in User.objects.filter(email__in=cleaned)}
    for email in cleaned:
        if email not in found:
            raise NotFound(f"User ({email}) does not exist.")
    return [found[email] for email in cleaned]


def create_flock(
    actor: Actor,
    name: str,
    *,
    note: str = "",
    managers: Iterable[User] = (),
    watchers: Iterable[User] = (),
) -> Flock:
    name = clean_flock_name(name)
    note = clean_note(note)
    managers, watchers = list(managers), list(watchers)
    if {u.pk for u in managers} & {u.pk for u in watchers}:
        raise InvalidInput(
            "A user cannot be both manager and watcher of a flock.", field="watchers"
        )
    if refusal := taken_name(name):
        raise refusal
    try:
        with transaction.atomic():
            flock = Flock.objects.create(name=name, note=note)
            FlockMembership.objects.bulk_create(
                [FlockMembership(user=u, flock=flock, role=FlockRole.MANAGER) for u in managers]
                + [FlockMembership(user=u, flock=flock, role=FlockRole.WATCHER) for u in watchers]
            )
            record(
                actor,
                "flock_create",
                f"Created flock {name}",
                flock_id=flock.flock_id,
                name=name,
                managers=[u.label for u in managers],
                watchers=[u.label for u in watchers],
            )
    except IntegrityError:
        raise _taken_meanwhile(name) from None
    return flock


def rename_flock(actor: Actor, flock: Flock, name: str) -> Flock:
    """Rename ``flock``; its own name in another letter case is not taken."""
    name = clean_flock_name(name)
    if refusal := taken_name(name, other_than=flock):
        raise refusal
    before = flock.name
    try:
        with transaction.atomic():
            Flock.objects.filter(pk=flock.pk).update(name=name)
            record(
                actor,
                "flock_rename",
                f"Renamed flock {before} to {name}",
                flock_id=flock.flock_id,
                before=before,
                after=name,
            )
    except IntegrityError:
        raise _taken_meanwhile(name, flock) from None
    flock.name = name
    return flock


def delete_flock(actor: Actor, flock: Flock) -> None:
    if flock.flock_id == DEFAULT_FLOCK_ID:
        raise Conflict("Cannot delete default flock")
    with transaction.atomic():
        members = list(
            flock.memberships.select_related("user").values_list("user__username", "role")
        )
        record(
            actor,
            "flock_delete",
            f"Deleted flock {flock.name}",
            flock_id=flock.flock_id,
            name=flock.name,
            memberships_removed=[f"{username} ({role})" for username, role in members],
        )
        flock.delete()


def set_flock_note(actor: Actor, flock: Flock, note: str) -> Flock:
    flock.note = clean_note(note)
    with transaction.atomic():
        flock.save(update_fields=["note"])
        record(
            actor,
            "flock_note_add",
            f"Set the note of flock {flock.name}",
            flock_id=flock.flock_id,
            note=note,
        )
    return flock


def remove_flock_note(actor: Actor, flock: Flock) -> Flock:
    flock.note = ""
    with transaction.atomic():
        flock.save(update_fields=["note"])
        record(
            actor,
            "flock_note_remove",
            f"Removed the note of flock {flock.name}",
            flock_id=flock.flock_id,
        )
    return flock


def _lock(row: User | Flock) -> None:
    """Row-lock ``row`` for the transaction: one user's (one flock's) membership
    changes then run one after the other (PostgreSQL; SQLite writes are serial anyway)."""
    list(type(row).objects.select_for_update().filter(pk=row.pk).values_list("pk", flat=True))


def _upsert_memberships(pairs: list[tuple[User, Flock]], role: str) -> None:
    """Give each (user, flock) the ``role``, adding the membership if missing.

    One INSERT … ON CONFLICT DO UPDATE: unlike read-then-write, two requests doing
    this at once (while a third removes the row) can never collide on the unique key.
    Rows go in key order, so two such statements cannot lock them in opposite orders.
    """
    pairs = sorted(pairs, key=lambda pair: (pair[0].pk, pair[1].pk))
    FlockMembership.objects.bulk_create(
        [FlockMembership(user=user, flock=flock, role=role) for user, flock in pairs],
        update_conflicts=True,
        unique_fields=["user", "flock"],
        update_fields=["role"],
    )


def assign_user(actor: Actor, user: User, flocks: list[Flock], role: str) -> None:
    """Make ``user`` a ``role`` of each flock (a user has one role per flock)."""
    role = clean_role(role)
    with transaction.atomic():
        _lock(user)
        _upsert_memberships([(user, flock) for flock in flocks], role)
        for flock in flocks:
            record(
                actor,
                "user_assign_to_flock",
                f"Assigned {user.label} to flock {flock.name} as {role}",
                target=user,
                flock_id=flock.flock_id,
                role=role,
            )


def unassign_user(actor: Actor, user: User, flocks: list[Flock], role: str) -> None:
    """Remove ``user``'s ``role`` membership of each flock; other roles stay."""
    role = clean_role(role)
    with transaction.atomic():
        _lock(user)
        for flock in flocks:
            FlockMembership.objects.filter(user=user, flock=flock, role=role).delete()
            record(
                actor,
                "user_unassign_from_flock",
                f"Unassigned {user.label} from flock {flock.name} as {role}",
                target=user,
                flock_id=flock.flock_id,
                role=role,
            )


def set_flock_members(actor: Actor, flock: Flock, role: str, users: list[User]) -> None:
    """Replace the whole list of ``role`` members of ``flock`` with ``users``."""
    role = clean_role(role, "role")
    wanted = {user.pk for user in users}
    with transaction.atomic():
        _lock(flock)
        FlockMembership.objects.filter(flock=flock, role=role).exclude(user_id__in=wanted).delete()
        _upsert_memberships([(user, flock) for user in users], role)
        record(
            actor,
            f"flock_{role}s_set",
            f"Set the {role}s of flock {flock.name}",
            flock_id=flock.flock_id,
            users=[user.label for user in users],
        )


def flock_members(flock: Flock) -> dict[str, list[User]]:
    """``{"managers": [...], "watchers": [...]}`` of ``flock``, in one query."""
    members: dict[str, list[User]] = {"managers": [], "watchers": []}
    for membership in flock.memberships.select_related("user").order_by("user__username"):
        members[f"{membership.role}s"].append(membership.user)
    return members


def role_of(user: User, flock: Flock) -> str | None:
    """``user``'s role in ``flock``, or None for a non-member."""
    return (
        FlockMembership.objects.filter(user=user, flock=flock)
        .values_list("role", flat=True)
        .first()
    )


def add_watcher(actor: Actor, flock: Flock, user: User) -> None:
    """Make ``user`` a watcher of ``flock``, as a flock's manager may: never demotes a manager."""
    if FlockMembership.objects.filter(user=user, flock=flock, role=FlockRole.MANAGER).exists():
        raise Conflict(f"{user.label} is a manager of this flock.", field="email")
    assign_user(actor, user, [flock], FlockRole.WATCHER)


def remove_memberships(actor: Actor, user: User, flocks: list[Flock]) -> None:
    """Take ``user`` out of each of ``flocks`` whatever the role (one audit entry per flock)."""
    with transaction.atomic():
        roles = dict(
            FlockMembership.objects.filter(user=user, flock__in=flocks).values_list(
                "flock_id", "role"
            )
        )
        for flock in flocks:
            if flock.flock_id in roles:
                unassign_user(actor, user, [flock], roles[flock.flock_id])
