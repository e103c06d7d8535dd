"""Domain exceptions. Each carries a French message meant for the user, and optionally the field at fault."""
from __future__ import annotations

from collections.abc import Mapping


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


class InvalidFields(ValidationError):
    """Several fields may be wrong at once; `problems` maps each field to its French message."""

    def __init__(self, problems: Mapping[str, str]):
        first_field, first_message = next(iter(problems.items()))
        message = first_message if len(problems) == 1 else (
            f"{len(problems)} champs sont à corriger. Premier : {first_message}")
        super().__init__(message, field=first_field)
        self.problems = dict(problems)


class ImportRejected(DomainError):
    """The import file is malformed or contradicts itself or the store; nothing was written."""


class StatementError(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class DatabaseVersionError(DomainError):
    pass


class StaleEdit(DomainError):
    """The record changed after the form read it: saving would silently undo someone's newer edit."""
