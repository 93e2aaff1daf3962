"""The other faces fit in (issue 15, point 6): the nav links the Django admin for admins only,
the Django admin wears the portal's name, icon and colours, and no page's favicon is a 404."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from helpers import signed_in

pytestmark = pytest.mark.django_db


def nav_links(client) -> list[str]:
    html = client.get("/").content.decode()
    if "<nav" not in html:  # a plain user lands on their profile
        html = client.get("/", follow=True).content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, flags=re.DOTALL).group(0)
    return re.findall(r'href="([^"]+)"', nav)


def test_the_nav_links_the_django_admin_for_admins_only(rechecked_admin, ann):
    assert reverse("admin:index") in nav_links(rechecked_admin)
    assert reverse("admin:index") not in nav_links(signed_in(ann))


def test_favicon_ico_is_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"
    assert finders.find("img/favicon.svg")


def test_favicon_ico_is_no_detour_for_a_user_who_must_enrol(ann):
    ann.must_enroll_2fa = True
    ann.save(update_fields=["must_enroll_2fa"])
    response = signed_in(ann).get("/favicon.ico")
    assert response["Location"] == "/static/img/favicon.svg"


def test_the_django_admin_carries_the_portals_name_icon_and_colours(rechecked_admin):
    html = rechecked_admin.get(reverse("admin:index")).content.decode()
    assert "<title>Site administration | Portal · Django admin</title>" in html
    assert re.search(r'<a href="/" class="portal-brand"[^>]*>.*Portal</a>', html)
    icon = re.search(r'<link rel="icon" href="/static/([^"]+)"', html).group(1)
    sheet = re.search(r'<link rel="stylesheet" href="/static/(css/admin\.css)">', html).group(1)
    assert finders.find(icon) and finders.find(sheet)
    # after Django's own stylesheets, so the portal's colours win
    assert html.index("admin/css/dark_mode.css") < html.index("css/admin.css")
    with open(finders.find(sheet)) as css:
        assert "--header-bg: #0f172a;" in css.read()  # the portal's top bar


def test_the_django_admin_has_no_second_factor_tables_to_hand_craft(rechecked_admin):
    """What the portal manages itself (issue 14's second factors and lock-outs) is not
    editable in the Django admin: no TOTP or static devices, no lock-out rows, keys
    read-only."""
    html = rechecked_admin.get(reverse("admin:index")).content.decode()
    for hidden in ("otp_totp", "otp_static", "axes", "TOTP devices", "Access attempts"):
        assert hidden not in html
    keys = reverse("admin:users_webauthncredential_changelist")
    assert keys in html
    assert reverse("admin:users_webauthncredential_add") not in html
