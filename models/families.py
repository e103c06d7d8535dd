"""Households, their guardians and children, and each child's parcours."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Keyed, Record
from models.enums import (EXIT_REASONS, MAX_PRECISION, MAX_QPV_NAME, PARCOURS_STATUSES, PRIORITY_EDUCATION,
                          REFERRAL_REASONS, REFERRAL_SOURCES, SCHOOL_LEVELS, SEXES, SUPPORT_PROFILES, in_list)
from models.programme import User


def _optional_code(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR {in_list(column, values)}", name=column)


class Family(Base, Keyed):
    __tablename__ = "family"
    __table_args__ = (Index("ix_family_name", "name"),)  # the session list sorted and searched by family (0009)

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    commune: Mapped[str] = mapped_column(String(120))
    priority_neighbourhood: Mapped[bool] = mapped_column(Boolean, default=False)
    # The QPV by name (0012); a name sets priority_neighbourhood. Free text: the window offers the programme's list.
    qpv_name: Mapped[str | None] = mapped_column(String(MAX_QPV_NAME))
    referent_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    consent_date: Mapped[date | None] = mapped_column(Date)
    consent_scope: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    # A closed file is no longer followed (services.family_records.close_family); retention anonymises it later.
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(Text)

    referent: Mapped[User | None] = relationship()
    guardians: Mapped[list["Guardian"]] = relationship(
        back_populates="family", cascade="all, delete-orphan", order_by="Guardian.position"
    )
    children: Mapped[list["Child"]] = relationship(
        back_populates="family", cascade="all, delete-orphan", order_by="Child.birth_date"
    )


class Guardian(Base, Record):
    __tablename__ = "guardian"

    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_child: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))

    family: Mapped[Family] = relationship(back_populates="guardians")


class Child(Base, Keyed):
    __tablename__ = "child"
    __table_args__ = (
        CheckConstraint(f"sex IS NULL OR {in_list('sex', SEXES)}", name="sex"),
        _optional_code("school_level", SCHOOL_LEVELS),
        _optional_code("priority_education", PRIORITY_EDUCATION),
    )

    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    school: Mapped[str | None] = mapped_column(String(200))
    school_class: Mapped[str | None] = mapped_column(String(40))
    school_level: Mapped[str | None] = mapped_column(String(16))
    priority_education: Mapped[str | None] = mapped_column(String(12))

    family: Mapped[Family] = relationship(back_populates="children")


class Parcours(Base, Keyed):
    __tablename__ = "parcours"
    __table_args__ = (
        CheckConstraint(in_list("status", PARCOURS_STATUSES), name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        _optional_code("referral_source", REFERRAL_SOURCES),
        _optional_code("support_profile", SUPPORT_PROFILES),
        _optional_code("exit_reason_code", EXIT_REASONS),
    )

    child_id: Mapped[str] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    referent_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    objectives: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[str | None] = mapped_column(Text)  # what is planned to reach the objectives
    # The closed lists of 0012, each « autre » with its precision; exit_reason is the precision or comment of
    # exit_reason_code (it was the only, free-text, exit reason before).
    exit_reason: Mapped[str | None] = mapped_column(Text)
    exit_reason_code: Mapped[str | None] = mapped_column(String(24))
    referral_source: Mapped[str | None] = mapped_column(String(24))
    referral_source_other: Mapped[str | None] = mapped_column(String(MAX_PRECISION))
    referral_reason_other: Mapped[str | None] = mapped_column(String(MAX_PRECISION))
    support_profile: Mapped[str | None] = mapped_column(String(16))
    support_profile_other: Mapped[str | None] = mapped_column(String(MAX_PRECISION))

    child: Mapped[Child] = relationship()
    referent: Mapped[User | None] = relationship()
    reasons: Mapped[list["ParcoursReason"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ParcoursReason.reason"
    )


class ParcoursReason(Base):
    """One reason for a parcours' referral (several per parcours)."""

    __tablename__ = "parcours_reason"
    __table_args__ = (CheckConstraint(in_list("reason", REFERRAL_REASONS), name="reason"),)

    parcours_id: Mapped[str] = mapped_column(ForeignKey("parcours.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(24), primary_key=True)
