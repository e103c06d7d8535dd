"""Issued monthly statements. Drafts are computed on demand and never stored; once here, a row never changes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Cents, Record
from models.conventions import Convention
from models.enums import LINE_KINDS, MAX_QUALIFICATION, in_list


class Statement(Base, Record):
    __tablename__ = "statement"
    __table_args__ = (
        UniqueConstraint("convention_id", "month", name="uq_statement_month"),
        UniqueConstraint("convention_id", "sequence", name="uq_statement_sequence"),
        CheckConstraint("sequence >= 1", name="sequence"),
    )

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    total: Mapped[Decimal] = mapped_column(Cents)
    payload: Mapped[str] = mapped_column(Text)  # the statement as printed, in JSON: never recomputed
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # How many lines the statement has: the database refuses a line beyond them (migration 0005).
    line_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # models.chain.statement_hash of this row, its lines and the previous statement of the convention.
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    convention: Mapped[Convention] = relationship()
    lines: Mapped[list["StatementLine"]] = relationship(back_populates="statement", order_by="StatementLine.position")


class StatementLine(Base, Record):
    __tablename__ = "statement_line"
    __table_args__ = (
        CheckConstraint(in_list("kind", LINE_KINDS), name="kind"),
        Index("ix_statement_line_position", "statement_id", "position", unique=True),
    )

    statement_id: Mapped[str] = mapped_column(ForeignKey("statement.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    qualification: Mapped[str] = mapped_column(String(MAX_QUALIFICATION))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Cents)
    amount: Mapped[Decimal] = mapped_column(Cents)
    month: Mapped[str] = mapped_column(String(7))  # the statement's month, or the corrected month

    statement: Mapped[Statement] = relationship(back_populates="lines")
