"""Domain exceptions. Each carries a French message meant for the user, and optionally the field at fault."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; `message` is shown to the user as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


class ValidationError(DomainError):
    pass


class ImportRejected(DomainError):
    """The import file is malformed or contradicts itself or the store; nothing was written."""


class StatementError(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class DatabaseVersionError(DomainError):
    pass
