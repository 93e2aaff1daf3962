"""The flock pages: list, create, a flock's page with its members, rename, note, delete.

Admins manage every flock. A flock's manager may rename it, edit its note and add or
remove its watchers; a watcher sees it read-only; anyone else gets 403. Each view
checks this on the server before touching anything.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.lib.access import admin_required
from portal.lib.errors import PortalError
from portal.lib.forms import add_service_error
from users.audit import Actor
from users.models import User
from users.services import clean_email

from . import services
from .access import flock_page
from .forms import FlockForm, FlockNoteForm, MemberForm, RenameForm
from .models import NAME_MAX_LENGTH, Flock, FlockMembership, FlockRole
from .selectors import flocks_with_member_counts, people_choices, people_for

FLOCKS_PER_PAGE = 50


@login_required
def flock_list(request: HttpRequest) -> HttpResponse:
    """Admins see every flock; users see the flocks they belong to, with their role."""
    flocks = flocks_with_member_counts()
    if not request.user.is_admin:
        mine = FlockMembership.objects.filter(user=request.user)
        flocks = flocks.filter(pk__in=mine.values("flock_id")).annotate(
            my_role=Subquery(mine.filter(flock=OuterRef("pk")).values("role")[:1])
        )
    search = request.GET.get("q", "").strip()[:NAME_MAX_LENGTH]
    if search:
        flocks = flocks.filter(name__icontains=search)
    page = Paginator(flocks.order_by("name", "flock_id"), FLOCKS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = urlencode({"q": search}) if search else ""
    context = {"section": "flocks", "page": page, "search": search, "query": query}
    return render(request, "flocks/list.html", context)


@admin_required
def flock_add(request: HttpRequest) -> HttpResponse:
    form = FlockForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            flock = services.create_flock(Actor.from_request(request), **form.cleaned_data)
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Created flock {flock.name}.")
            return redirect("flock_detail", flock_id=flock.flock_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "flocks/add.html", {"section": "flocks", "form": form}, status=status)


def _render_detail(
    request: HttpRequest, flock: Flock, role: str | None, status: int = 200, **forms: Form
) -> HttpResponse:
    can_manage = request.user.is_admin or role == FlockRole.MANAGER
    context = {
        "section": "flocks",
        "flock": flock,
        "role": role,
        "can_manage": can_manage,
        "members": services.flock_members(flock),
    }
    if can_manage:
        context.update(
            rename_form=RenameForm(initial={"name": flock.name}),
            note_form=FlockNoteForm(initial={"note": flock.note}),
            member_form=MemberForm(admin=request.user.is_admin),
            **_people_search(request, flock),
        )
    context.update(forms)
    return render(request, "flocks/detail.html", context, status=status)


def _people_search(request: HttpRequest, flock: Flock) -> dict:
    """The member picker without JavaScript: ``?people_q=`` lists the people the visitor may add
    (``people_for``: anyone for an admin, people sharing a flock for a manager), at most 20."""
    term = request.GET.get("people_q", "").strip()[:254]
    if not term:
        return {"people_q": ""}
    people, more = people_choices(request.user, flock, term)
    return {"people_q": term, "people": people, "more_people": more}


@login_required
@flock_page()
def flock_detail(request: HttpRequest, flock: Flock, role: str | None) -> HttpResponse:
    return _render_detail(request, flock, role)


@login_required
@require_POST
@flock_page(manage=True)
def flock_rename(request: HttpRequest, flock: Flock, role: str | None) -> HttpResponse:
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_flock(Actor.from_request(request), flock, form.cleaned_data["name"])
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Renamed the flock to {flock.name}.")
            return redirect("flock_detail", flock_id=flock.flock_id)
    flock.refresh_from_db()
    return _render_detail(request, flock, role, status=400, rename_form=form)


@login_required
@require_POST
@flock_page(manage=True)
def flock_note(request: HttpRequest, flock: Flock, role: str | None) -> HttpResponse:
    """Save or remove the flock's note."""
    actor = Actor.from_request(request)
    if "remove" in request.POST:
        services.remove_flock_note(actor, flock)
        messages.success(request, "Note removed.")
        return redirect("flock_detail", flock_id=flock.flock_id)
    form = FlockNoteForm(request.POST)
    if form.is_valid():
        try:
            services.set_flock_note(actor, flock, form.cleaned_data["note"])
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Note saved.")
            return redirect("flock_detail", flock_id=flock.flock_id)
    flock.refresh_from_db()
    return _render_detail(request, flock, role, status=400, note_form=form)


@login_required
@require_POST
@flock_page(manage=True)
def flock_member_add(request: HttpRequest, flock: Flock, role: str | None) -> HttpResponse:
    """Admins add a manager or watcher; a flock's manager adds watchers."""
    form = MemberForm(request.POST, admin=request.user.is_admin)
    if form.is_valid():
        actor, email = Actor.from_request(request), form.cleaned_data["email"]
        try:
            if request.user.is_admin:
                [user] = services.users_by_email([email], "email")
                before, role = services.role_of(user, flock), form.cleaned_data["role"]
                services.assign_user(actor, user, [flock], role)
                answer = f"{user.label} is now a {role} of {flock.name}" + (
                    f" (their role changed: was {before})." if before not in (None, role) else "."
                )
            else:
                answer = _manager_adds(actor, request.user, flock, email)
        except PortalError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, answer)
            return redirect("flock_detail", flock_id=flock.flock_id)
    return _render_detail(request, flock, role, status=400, member_form=form)


def _manager_adds(actor: Actor, manager: User, flock: Flock, email: str) -> str:
    """A flock's manager adds a watcher by e-mail. Someone they share a flock with (the picker's
    people) is named in the answer. For any other address the answer is the same whether an
    account has it or not, so it tells no one which addresses have accounts; an account that
    has it becomes a watcher (it cannot be a manager here: it would share this flock)."""
    email = clean_email(email, "email")
    known = people_for(manager).filter(email=email).first()
    if known is not None:
        services.add_watcher(actor, flock, known)
        return f"{known.label} is now a watcher of {flock.name}."
    stranger = User.objects.filter(email=email).first()
    if stranger is not None:
        services.add_watcher(actor, flock, stranger)
    return f"If {email} has an account here, it is now a watcher of {flock.name}."


@login_required
@require_POST
@flock_page(manage=True)
def flock_member_remove(
    request: HttpRequest, flock: Flock, role: str | None, user_pk: int
) -> HttpResponse:
    """Admins remove any member; a flock's manager removes watchers only."""
    membership = get_object_or_404(
        FlockMembership.objects.select_related("user"), flock=flock, user_id=user_pk
    )
    if not request.user.is_admin and membership.role != FlockRole.WATCHER:
        raise PermissionDenied
    services.unassign_user(Actor.from_request(request), membership.user, [flock], membership.role)
    messages.success(request, f"Removed {membership.user.label} from {flock.name}.")
    return redirect("flock_detail", flock_id=flock.flock_id)


@admin_required
@flock_page()
def flock_delete(request: HttpRequest, flock: Flock, role: None) -> HttpResponse:
    """GET asks for confirmation; POST deletes (never ``flock:default``)."""
    if request.method == "POST":
        try:
            services.delete_flock(Actor.from_request(request), flock)
        except PortalError as exc:
            messages.error(request, exc.message)
            return redirect("flock_detail", flock_id=flock.flock_id)
        messages.success(request, f"Deleted flock {flock.name}.")
        return redirect("flock_list")
    context = {
        "section": "flocks",
        "title": f"Delete flock {flock.name}?",
        "question": "Its memberships are removed with it. The audit log keeps its history. This "
        "cannot be undone.",
        "button": "Delete flock",
        "cancel_url": reverse("flock_detail", args=[flock.flock_id]),
        "refused": "The default flock cannot be deleted." if flock.is_default else "",
    }
    return render(request, "confirm.html", context)
