"""The names of the families printed on a statement (`statement --with-names`): a read of personal data, audited.

The issued PDF holds family codes only; a PDF with the families' names is made on demand and each one leaves a
« read » entry (record type statement_names, key « <convention>/<YYYY-MM> »), as opening a family file does.
"""
from __future__ import annotations

from services import audit
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork


def record_names_printed(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str) -> None:
    """Write down that `user` printed the families' names of the statement of `convention_key` for `month`."""
    with uow:
        require(user, "statement.read", session=uow.session)
        audit.record(uow.session, user.key, "read", "statement_names", f"{convention_key}/{month}"[:64])
        uow.commit()
