"""The user pages: list, add, detail with its actions, API tokens.

Views parse input, call the service layer and render; every rule (the last admin,
duplicates, valid values) lives in users/services.py and flocks/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db.models import Prefetch
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from flocks import services as flock_services
from flocks.models import NAME_MAX_LENGTH, Flock, FlockMembership
from flocks.selectors import flock_choices, users_in_order
from portal.lib.access import admin_required, may_open_user, own_account_only
from portal.lib.counting import BoundedPaginator, bounded_count
from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error
from users.twofactor import policy
from users.twofactor.decorators import recent_auth_required, recent_auth_required_when

from . import lockouts, mail, nudges, selectors, services, session_views, unavailable
from .access import confirmed_action, user_action
from .audit import Actor
from .forms import (
    AccessLevelForm,
    AddUserForm,
    FlockAssignForm,
    FlockUnassignForm,
    NoteForm,
    UserFilterForm,
)
from .models import AccessLevel, AuditEntry, OrgSetting, User, WebAuthnCredential

USERS_PER_PAGE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Admins land on a dashboard (head counts, the 2FA switch, recent activity); everyone
    else on their own profile."""
    if not request.user.is_admin:
        return redirect("user_detail", pk=request.user.pk)
    context = {
        "section": "home",
        "counts": selectors.user_counts(),
        "without_factor": bounded_count(selectors.users_without_second_factor()).value,
        "flock_count": bounded_count(Flock.objects.all()).value,
        "org": OrgSetting.load(),
        "audit_entries": list(AuditEntry.objects.order_by("-id")[:10]),
        **nudges.admin_nudges(request.user),
    }
    return render(request, "users/dashboard.html", context)


@require_POST
@admin_required
def first_admin_nudge_dismiss(request: HttpRequest) -> HttpResponse:
    """Hide the first admin's "change the printed password, add a factor" banner for good."""
    nudges.dismiss_first_admin_nudge(request.user)
    return redirect("home")


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET)
    if form.is_valid():
        users = selectors.search_users(**form.filters())
        sort = form.cleaned_data["sort"] or "username"
    else:
        users, sort = User.objects.none(), "username"
    page = BoundedPaginator(users.values_list("pk", flat=True), USERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = users_in_order(list(page.object_list))
    invited = mail.invitations(page.object_list)
    for person in page.object_list:
        person.invitation = invited.get(person.pk)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "users/list.html",
        {
            "section": "users",
            "form": form,
            "page": page,
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "filtered": any(
                form.data.get(name)
                for name in ("q", "access_level", "disabled", "two_factor", "token", "signed_in")
            ),
        },
        status=200 if form.is_valid() else 400,
    )


def _grants_admin(request: HttpRequest, *args) -> bool:
    """A POST that makes someone an admin (a new user or an access level): it needs a
    recent check."""
    return request.method == "POST" and request.POST.get("access_level") == AccessLevel.ADMIN


def _profile_of(request: HttpRequest, user: User) -> str:
    return reverse("user_detail", args=[user.pk])


@admin_required
@recent_auth_required_when(_grants_admin)
def user_add(request: HttpRequest) -> HttpResponse:
    form = AddUserForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.add_user(Actor.from_request(request), **form.cleaned_data)
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            sent = " A welcome mail is queued." if form.cleaned_data["send_welcome_mail"] else ""
            messages.success(request, f"Added {user.label}.{sent}")
            return redirect("user_detail", pk=user.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "users/add.html", {"section": "users", "form": form}, status=status)


def _detail_user(pk: int) -> User:
    """The user with 2FA flags and memberships (with flock names) in a fixed number of queries."""
    memberships = FlockMembership.objects.select_related("flock").order_by("flock__name")
    queryset = selectors.users_with_factors().prefetch_related(
        Prefetch("memberships", queryset=memberships, to_attr="flock_memberships"),
        Prefetch("webauthn_credentials", queryset=WebAuthnCredential.objects.all(), to_attr="keys"),
    )
    return get_object_or_404(queryset, pk=pk)


def _render_detail(request: HttpRequest, user: User, status: int = 200, **forms) -> HttpResponse:
    """The profile page; ``forms`` replaces a blank form with a bound one showing its errors."""
    user.invitation = mail.invitations([user]).get(user.pk)
    context: dict = {
        "section": "users" if request.user.is_admin and request.user != user else "profile",
        "person": user,
        "mails": mail.recent_mails(user),
        "link_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        "requirement": policy.requirement(user),
    }
    if request.user.is_admin:
        context.update(
            note_form=NoteForm(initial={"note": user.note}),
            access_form=AccessLevelForm(initial={"access_level": user.access_level}),
            assign_form=FlockAssignForm(),
            unassign_form=FlockUnassignForm(user=user),
            audit_entries=selectors.recent_audit_entries(user),
            has_flocks=Flock.objects.exists(),
            **_flock_search(request, user),
            signin_pause=lockouts.account_pause(user),
            unavailable=unavailable.on_profile(request, user),
            **session_views.sessions_context(request, user),
        )
    context.update(forms)
    return render(request, "users/detail.html", context, status=status)


def _flock_search(request: HttpRequest, user: User) -> dict:
    """The "Assign to flocks" picker without JavaScript: ``?flock_q=`` lists the matching flocks
    (at most 20, one query) as choices, with ``user``'s role in each."""
    term = request.GET.get("flock_q", "").strip()[:NAME_MAX_LENGTH]
    if not term:
        return {"flock_q": ""}
    flocks, more = flock_choices(request.user, term, role_of=user)
    return {"flock_q": term, "flock_results": flocks, "more_flocks": more}


@login_required
@may_open_user()
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _detail_user(pk))


def _switch(request: HttpRequest, name: str) -> bool:
    """An on/off button's value, "1" or "0"; anything else is a malformed request (400)."""
    value = request.POST.get(name)
    if value not in ("0", "1"):
        raise BadRequest(f"{name} must be 0 or 1")
    return value == "1"


def _form_errors(request: HttpRequest, user: User, name: str, form: Form) -> HttpResponse:
    """Re-render the profile with ``form`` showing its errors next to its fields."""
    return _render_detail(request, _detail_user(user.pk), status=400, **{name: form})


@user_action()
def user_note(request: HttpRequest, user: User) -> HttpResponse | None:
    """Save (add or edit) or remove the note."""
    actor = Actor.from_request(request)
    if "remove" in request.POST:
        services.remove_note(actor, user)
        messages.success(request, "Note removed.")
        return None
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.set_note(actor, user, form.cleaned_data["note"])
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Note saved.")
            return None
    return _form_errors(request, user, "note_form", form)


@user_action()
@recent_auth_required_when(_grants_admin, come_back_to=_profile_of)
def user_access_level(request: HttpRequest, user: User) -> HttpResponse | None:
    form = AccessLevelForm(request.POST)
    if form.is_valid():
        services.set_access_level(
            Actor.from_request(request), user, form.cleaned_data["access_level"]
        )
        messages.success(request, f"{user.label} is now {form.cleaned_data['access_level']}.")
        return None
    return _form_errors(request, user, "access_form", form)


@user_action(refuse=unavailable.disable)
def user_active(request: HttpRequest, user: User) -> None:
    """Enable or disable (``active`` = "1" or "0"); the profile disables through ``user_disable``,
    which asks first."""
    _set_active(request, user, _switch(request, "active"))


@confirmed_action(
    title="Disable {user}?",
    question="{user} is signed out everywhere at once and cannot sign in, on the pages or with "
    "the API, until an admin enables them again. Their factors, flocks and settings stay as they "
    "are.",
    button="Disable user",
    refuse=unavailable.disable,
)
def user_disable(request: HttpRequest, user: User) -> None:
    _set_active(request, user, False)


def _set_active(request: HttpRequest, user: User, active: bool) -> None:
    services.set_active(Actor.from_request(request), user, active)
    done = f"Enabled {user.label}." if active else f"Disabled {user.label} and signed them out."
    messages.success(request, done)


@user_action(self_allowed=True)
def user_summary_email(request: HttpRequest, user: User) -> None:
    enabled = _switch(request, "enabled")
    services.set_summary_email(Actor.from_request(request), user, enabled)
    messages.success(request, f"Summary email {'on' if enabled else 'off'}.")


@user_action()
def user_reset_password(request: HttpRequest, user: User) -> None:
    services.reset_password(Actor.from_request(request), user)
    messages.success(request, f"Queued a password reset mail to {user.email}.")


@user_action()
def user_flocks_assign(request: HttpRequest, user: User) -> HttpResponse | None:
    form = FlockAssignForm(request.POST)
    if form.is_valid():
        flocks, role = list(form.cleaned_data["flocks"]), form.cleaned_data["role"]
        before = dict(
            FlockMembership.objects.filter(user=user, flock__in=flocks).values_list(
                "flock_id", "role"
            )
        )
        flock_services.assign_user(Actor.from_request(request), user, flocks, role)
        changed = [
            f"{flock.name} (was {before[flock.flock_id]})"
            for flock in flocks
            if before.get(flock.flock_id, role) != role
        ]
        note = f" This changed their role in {', '.join(changed)}." if changed else ""
        messages.success(request, f"Assigned {user.label} as {role} to {_names(flocks)}.{note}")
        return None
    return _form_errors(request, user, "assign_form", form)


@user_action()
def user_flocks_unassign(request: HttpRequest, user: User) -> HttpResponse | None:
    form = FlockUnassignForm(request.POST, user=user)
    if form.is_valid():
        flocks = list(form.cleaned_data["flocks"])
        flock_services.remove_memberships(Actor.from_request(request), user, flocks)
        messages.success(request, f"Removed {user.label} from {_names(flocks)}.")
        return None
    return _form_errors(request, user, "unassign_form", form)


def _names(flocks: list[Flock]) -> str:
    return ", ".join(flock.name for flock in flocks)


@confirmed_action(
    title="Remove {user}?",
    question="{user} loses access at once and is removed with their flock memberships. "
    "The audit log keeps their history. This cannot be undone.",
    button="Remove user",
    recent_check=True,
    refuse=unavailable.remove,
)
def user_remove(request: HttpRequest, user: User) -> HttpResponse:
    services.remove_user(Actor.from_request(request), user)
    messages.success(request, f"Removed {user.label}.")
    return redirect("user_list")


@confirmed_action(
    title="Reset the authenticator app of {user}?",
    question="Their authenticator app stops working for this portal, and they are signed out "
    "everywhere; they set up a second factor again at their next sign-in if 2FA is required.",
    button="Reset authenticator app",
    recent_check=True,
    refuse=unavailable.reset_app,
)
def user_reset_totp(request: HttpRequest, user: User) -> None:
    removed = services.disable_totp(Actor.from_request(request), user)
    messages.success(
        request,
        f"Reset the authenticator app of {user.label} "
        f"({removed} app{'s' if removed != 1 else ''} removed).",
    )


@confirmed_action(
    title="Reset the security keys of {user}?",
    question="All of their security keys (passkeys too) are removed, and they are signed out "
    "everywhere:",
    button="Remove security keys",
    recent_check=True,
    list_keys=True,
    refuse=unavailable.reset_keys,
)
def user_reset_webauthn(request: HttpRequest, user: User) -> None:
    removed = services.disable_webauthn(Actor.from_request(request), user)
    messages.success(
        request,
        f"Reset the security keys of {user.label} "
        f"({removed} key{'s' if removed != 1 else ''} removed).",
    )


@confirmed_action(
    title="Lift the sign-in lock-out of {user}?",
    question="Failed sign-ins counted against {user} are forgotten: they can sign in again at once "
    "from every address, on the pages and in the API. Their password and second factors stay as "
    "they are.",
    button="Lift lock-out",
    button_class="primary",
    recent_check=True,
)
def user_lift_lockout(request: HttpRequest, user: User) -> None:
    removed = lockouts.lift(Actor.from_request(request), user)
    messages.success(
        request,
        f"Lifted the sign-in lock-out of {user.label} ({removed} "
        f"record{'s' if removed != 1 else ''} cleared).",
    )


@never_cache
@admin_required
@own_account_only
@recent_auth_required
def token_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A personal API token: only its owner creates one, after a recent password or factor check
    (a stolen session cannot mint a lasting credential), and sees it here once (stored hashed).
    Admins only: every API endpoint takes an admin's token or an API key, never a plain user's."""
    user = request.user
    if request.method != "POST":
        context = {
            "section": "profile",
            "title": "Create a new API token?" if user.api_token_index else "Create an API token?",
            "question": "Your current token stops working at once." if user.api_token_index else "",
            "button": "Create token",
            "button_class": "primary",
            "cancel_url": reverse("user_detail", args=[user.pk]),
        }
        return render(request, "confirm.html", context)
    token = services.issue_api_token(Actor.from_request(request), user)
    return render(
        request, "users/token_created.html", {"section": "profile", "token": token, "person": user}
    )


@confirmed_action(
    title="Revoke the API token of {user}?",
    question="Scripts using it stop working at once.",
    button="Revoke token",
    self_allowed=True,
)
def token_revoke(request: HttpRequest, user: User) -> None:
    services.revoke_api_token(Actor.from_request(request), user)
    messages.success(request, "API token revoked.")
