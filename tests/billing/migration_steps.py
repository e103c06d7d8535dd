"""The steps the « issued statements stay byte-identical across a migration » tests share: go back to a revision,
and read every issued statement as stored (payload, PDF, its SHA-256, its chain hash)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from models import Statement as StoredStatement
from models.db import MIGRATIONS_DIR


def downgrade_to(engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def issued_rows(uow) -> list[tuple]:
    """Only the columns compared: an older revision lacks columns the model has since gained (`version`, 0013)."""
    s = StoredStatement
    with uow() as u:
        return [tuple(row) for row in u.session.execute(
            select(s.payload, s.pdf, s.pdf_sha256, s.chain_hash).order_by(s.sequence))]
