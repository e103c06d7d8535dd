"""Partners, the actions they carry out, conventions with their tariffs, and intervenants."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Cents, Keyed, Record
from models.enums import QUALIFICATIONS, TARIFF_KINDS, in_list


class Partner(Base, Keyed):
    __tablename__ = "partner"

    name: Mapped[str] = mapped_column(String(200))


class Action(Base, Record):
    __tablename__ = "action"

    name: Mapped[str] = mapped_column(String(200), unique=True)


class Convention(Base, Keyed):
    __tablename__ = "convention"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        CheckConstraint("max_families IS NULL OR max_families >= 0", name="max_families"),
        CheckConstraint("budget_cap IS NULL OR budget_cap >= 0", name="budget_cap"),
    )

    partner_id: Mapped[str] = mapped_column(ForeignKey("partner.id"))
    action_id: Mapped[str] = mapped_column(ForeignKey("action.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    max_families: Mapped[int | None] = mapped_column(Integer)
    budget_cap: Mapped[Decimal | None] = mapped_column(Cents)
    period_end_months: Mapped[list] = mapped_column(JSON, default=list)
    budget_imputation: Mapped[str | None] = mapped_column(Text)

    partner: Mapped[Partner] = relationship()
    action: Mapped[Action] = relationship()
    tariffs: Mapped[list["Tariff"]] = relationship(
        back_populates="convention", cascade="all, delete-orphan", order_by="Tariff.qualification"
    )


class Tariff(Base, Record):
    """One amount of the convention's table, stored exactly as the convention writes it."""

    __tablename__ = "tariff"
    __table_args__ = (
        UniqueConstraint("convention_id", "qualification", "kind", name="uq_tariff_line"),
        CheckConstraint(in_list("qualification", QUALIFICATIONS), name="qualification"),
        CheckConstraint(in_list("kind", TARIFF_KINDS), name="kind"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    qualification: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[Decimal] = mapped_column(Cents)

    convention: Mapped[Convention] = relationship(back_populates="tariffs")


class Intervenant(Base, Keyed):
    __tablename__ = "intervenant"
    __table_args__ = (CheckConstraint(in_list("qualification", QUALIFICATIONS), name="qualification"),)

    partner_id: Mapped[str] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qualification: Mapped[str] = mapped_column(String(4))

    partner: Mapped[Partner] = relationship()
