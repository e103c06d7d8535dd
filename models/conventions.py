"""Partners, the actions they carry out, conventions with their tariffs, and intervenants.

Two kinds of terms are dated facts, in force from a day on, because the statements of past months were computed
with the terms of their days and must not move when the terms change:
- a convention's tariffs: `Tariff` is its first table, in force from the convention's start; an avenant
  (`TariffAmendment`) gives a whole new table from its own start date;
- an intervenant's qualification and employer: `IntervenantHistory` (an AES who qualifies as TISF on 1 June, a
  move to another association). `Intervenant.qualification` and `partner_id` repeat the latest row.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Cents, Keyed, Record
from models.enums import MAX_QUALIFICATION, PRICED_KINDS, QUALIFICATIONS, in_list


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
    # The billing model (migration 0007); the defaults are Atout Plus's. sessions_per_week None: no weekly limit.
    sessions_per_week: Mapped[int | None] = mapped_column(Integer, server_default="1")
    holidays_need_exception: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    referent_at_first_session: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    home_unit: Mapped[str] = mapped_column(String(16), default="session", server_default="session")  # session | hour
    hour_rounding_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    # The qualifications the convention pays, in the order of its tariff table (migration 0008; until then AES, TISF
    # for every convention). The labels are checked by the service (services.conventions_admin), not the database.
    qualifications: Mapped[list] = mapped_column(JSON, default=lambda: list(QUALIFICATIONS),
                                                 server_default='["AES", "TISF"]')

    partner: Mapped[Partner] = relationship()
    action: Mapped[Action] = relationship()
    tariffs: Mapped[list["Tariff"]] = relationship(
        back_populates="convention", cascade="all, delete-orphan", order_by="Tariff.qualification"
    )
    amendments: Mapped[list["TariffAmendment"]] = relationship(
        back_populates="convention", cascade="all, delete-orphan",
        order_by="(TariffAmendment.starts_on, TariffAmendment.qualification)"
    )


class Tariff(Base, Record):
    """One amount of the convention's table, stored exactly as the convention writes it."""

    __tablename__ = "tariff"
    __table_args__ = (
        UniqueConstraint("convention_id", "qualification", "kind", name="uq_tariff_line"),
        CheckConstraint(in_list("kind", PRICED_KINDS), name="kind"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    qualification: Mapped[str] = mapped_column(String(MAX_QUALIFICATION))
    kind: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[Decimal] = mapped_column(Cents)

    convention: Mapped[Convention] = relationship(back_populates="tariffs")


class TariffAmendment(Base, Record):
    """One amount of an avenant's table: with the other rows of the same start date, the convention's tariffs from
    that day on (the rows of `Tariff` hold before it). Kept apart from `Tariff` so that the first table, and every
    statement issued from it, is untouched by an avenant."""

    __tablename__ = "tariff_amendment"
    __table_args__ = (
        UniqueConstraint("convention_id", "starts_on", "qualification", "kind", name="uq_tariff_amendment_line"),
        CheckConstraint(in_list("kind", PRICED_KINDS), name="kind"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    qualification: Mapped[str] = mapped_column(String(MAX_QUALIFICATION))
    kind: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[Decimal] = mapped_column(Cents)

    convention: Mapped[Convention] = relationship(back_populates="amendments")


class Intervenant(Base, Keyed):
    __tablename__ = "intervenant"
    __table_args__ = (Index("ix_intervenant_name", "name"),)  # the session list sorted by intervenant (0009)

    partner_id: Mapped[str] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qualification: Mapped[str] = mapped_column(String(MAX_QUALIFICATION))

    partner: Mapped[Partner] = relationship()
    history: Mapped[list["IntervenantHistory"]] = relationship(
        back_populates="intervenant", cascade="all, delete-orphan", order_by="IntervenantHistory.starts_on")


class IntervenantHistory(Base, Record):
    """The qualification and employer of an intervenant from `starts_on` on (None: from the beginning, before any
    session). A session or meeting is billed at the row in force on its day."""

    __tablename__ = "intervenant_history"
    __table_args__ = (
        UniqueConstraint("intervenant_id", "starts_on", name="uq_intervenant_history_start"),
    )

    intervenant_id: Mapped[str] = mapped_column(ForeignKey("intervenant.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    qualification: Mapped[str] = mapped_column(String(MAX_QUALIFICATION))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partner.id"))

    intervenant: Mapped[Intervenant] = relationship(back_populates="history")
    partner: Mapped[Partner] = relationship()
