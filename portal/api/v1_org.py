"""v1 API: org settings (the switch that requires a second factor of everyone)."""

from __future__ import annotations

from rest_framework.request import Request

from users import services

from .authentication import actor
from .endpoint import V1ViewSet, v1_action
from .params import Params


class OrgSettingsViewSet(V1ViewSet):
    """The "globally enforce 2FA" switch."""

    @v1_action("POST", "settings/usermanagement/globally_enforce_2fa/enable")
    def globally_enforce_2fa_enable(self, request: Request, p: Params) -> dict:
        """Require a second factor of every user (org-wide)."""
        services.set_global_2fa(actor(request), True)
        return {}

    @v1_action("POST", "settings/usermanagement/globally_enforce_2fa/disable")
    def globally_enforce_2fa_disable(self, request: Request, p: Params) -> dict:
        """Stop requiring a second factor org-wide."""
        services.set_global_2fa(actor(request), False)
        return {}
