"""Households, their guardians and children, and each child's parcours."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Keyed, Record
from models.enums import PARCOURS_STATUSES, SEXES, in_list
from models.programme import User


class Family(Base, Keyed):
    __tablename__ = "family"
    __table_args__ = (Index("ix_family_name", "name"),)  # the session list sorted and searched by family (0009)

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    commune: Mapped[str] = mapped_column(String(120))
    priority_neighbourhood: Mapped[bool] = mapped_column(Boolean, default=False)
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
    __table_args__ = (CheckConstraint(f"sex IS NULL OR {in_list('sex', SEXES)}", name="sex"),)

    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    school: Mapped[str | None] = mapped_column(String(200))
    school_class: Mapped[str | None] = mapped_column(String(40))

    family: Mapped[Family] = relationship(back_populates="children")


class Parcours(Base, Keyed):
    __tablename__ = "parcours"
    __table_args__ = (
        CheckConstraint(in_list("status", PARCOURS_STATUSES), name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
    )

    child_id: Mapped[str] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    referent_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    objectives: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[str | None] = mapped_column(Text)  # what is planned to reach the objectives
    exit_reason: Mapped[str | None] = mapped_column(Text)

    child: Mapped[Child] = relationship()
    referent: Mapped[User | None] = relationship()
