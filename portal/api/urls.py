"""URL maps of both API versions: viewsets on routers, paths exactly as the contracts
(v1 actions carry their whole path; no trailing slashes)."""

from .v1_audit import AuditTrailViewSet
from .v1_flocks import FlocksViewSet
from .v1_keys import ApiKeysViewSet
from .v1_org import OrgSettingsViewSet
from .v1_ping import PingViewSet
from .v1_users import UsersViewSet
from .v2_status import StatusViewSet
from .v2_users import UserViewSet
from .viewsets import ContractRouter

v1 = ContractRouter()
v1.register("", PingViewSet, basename="v1-ping")
v1.register("", OrgSettingsViewSet, basename="v1-org-settings")
v1.register("", UsersViewSet, basename="v1-users")
v1.register("", FlocksViewSet, basename="v1-flocks")
v1.register("", AuditTrailViewSet, basename="v1-audit-trail")
v1.register("", ApiKeysViewSet, basename="v1-api-keys")

v2 = ContractRouter()
v2.register("", StatusViewSet, basename="v2-status")
v2.register("users", UserViewSet, basename="v2-users")
