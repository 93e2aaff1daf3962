"""Errors the service layers (users and flocks) raise; each face turns them into its own reply."""


class PortalError(Exception):
    """A refused action. ``status`` is the HTTP status the APIs answer with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(PortalError):
    status = 400


class NotFound(PortalError):
    status = 404


class Forbidden(PortalError):
    """A refusal of who is asking (named so it never shadows Django's ``PermissionDenied``)."""

    status = 403


class Conflict(PortalError):
    """Duplicates and actions that would break an invariant (the last admin)."""

    status = 409
