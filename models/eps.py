"""EPS meetings, the situations they study, and the orientations they propose."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Keyed, Record
from models.conventions import Convention
from models.enums import ORIENTATION_STATUSES, in_list
from models.families import Family
from models.programme import User


class EpsMeeting(Base, Keyed):
    __tablename__ = "eps_meeting"

    date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    situations: Mapped[list["EpsSituation"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )


class EpsSituation(Base, Record):
    __tablename__ = "eps_situation"

    eps_meeting_id: Mapped[str] = mapped_column(ForeignKey("eps_meeting.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id"), index=True)
    recommendation: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[EpsMeeting] = relationship(back_populates="situations")
    family: Mapped[Family] = relationship()


class Orientation(Base, Keyed):
    __tablename__ = "orientation"
    __table_args__ = (
        CheckConstraint(in_list("status", ORIENTATION_STATUSES), name="status"),
        CheckConstraint("decided_on IS NULL OR decided_on >= eps_date", name="decided_after_eps"),
        CheckConstraint("end_date IS NULL OR decided_on IS NULL OR end_date >= decided_on", name="end_after_decision"),
    )

    family_id: Mapped[str] = mapped_column(ForeignKey("family.id"), index=True)
    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id"), index=True)
    eps_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    end_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)

    family: Mapped[Family] = relationship()
    convention: Mapped[Convention] = relationship()
    decided_by: Mapped[User | None] = relationship()
