"""v1 API: org settings (the switch that requires a second factor of everyone)."""

from __future__ import annotations

from rest_framework.request import Request

from users import services
from users.models import GRACE_PERIOD_MAX_HOURS

from .authentication import actor
from .endpoint import V1ViewSet, v1_action
from .openapi import V1Param
from .params import Params

GRACE_PERIOD = V1Param(
    "grace_period_hours",
    "Hours users without a second factor may keep working (with a reminder on every page) "
    "before they must enrol: from now for existing users, from their account's creation for "
    "users added later. Omitted: the period stays as it is (0 unless an admin set one); "
    "given, the reply adds grace_period_ends.",
    kind="integer",
    minimum=0,
    maximum=GRACE_PERIOD_MAX_HOURS,
)
GRACE_PERIOD_ENDS = {
    "grace_period_ends": {
        "type": "string",
        "format": "date-time",
        "description": "When users who existed as enforcement went on must have a factor "
        "(only when grace_period_hours was sent).",
    }
}


class OrgSettingsViewSet(V1ViewSet):
    """The "globally enforce 2FA" switch."""

    @v1_action(
        "POST",
        "settings/usermanagement/globally_enforce_2fa/enable",
        params=[GRACE_PERIOD],
        success=GRACE_PERIOD_ENDS,
        optional=tuple(GRACE_PERIOD_ENDS),
    )
    def globally_enforce_2fa_enable(self, request: Request, p: Params) -> dict:
        """Require a second factor of every user (org-wide), after an optional grace period."""
        hours = p.get(GRACE_PERIOD.name)
        if hours is None or hours == "":
            services.set_global_2fa(actor(request), True)
            return {}
        org = services.set_global_2fa(actor(request), True, grace_period_hours=hours)
        return {"grace_period_ends": org.grace_period_ends().replace(microsecond=0).isoformat()}

    @v1_action("POST", "settings/usermanagement/globally_enforce_2fa/disable")
    def globally_enforce_2fa_disable(self, request: Request, p: Params) -> dict:
        """Stop requiring a second factor org-wide."""
        services.set_global_2fa(actor(request), False)
        return {}
