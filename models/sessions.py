"""What the partner's intervenants deliver: home sessions and meetings."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text, Time,
                        false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Keyed
from models.conventions import Convention, Intervenant
from models.enums import MEETING_KINDS, SESSION_STATUSES, in_list
from models.families import Family
from models.programme import User


class HomeSession(Base, Keyed):
    __tablename__ = "home_session"
    __table_args__ = (
        CheckConstraint(in_list("status", SESSION_STATUSES), name="status"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration"),
        CheckConstraint("children_present IS NULL OR children_present >= 0", name="children_present"),
        Index("ix_home_session_intervenant_date", "intervenant_id", "date"),
        Index("ix_home_session_family_date", "family_id", "date"),
        Index("ix_home_session_date", "date"),
        # the session list's orders, paged by keyset (migration 0009)
        Index("ix_home_session_date_time_key", "date", "start_time", "key"),
        Index("ix_home_session_duration_date_key", "duration_minutes", "date", "key"),
        Index("ix_home_session_status_date_key", "status", "date", "key"),
        Index("ix_home_session_family_date_key", "family_id", "date", "key"),
        Index("ix_home_session_intervenant_date_key", "intervenant_id", "date", "key"),
    )

    family_id: Mapped[str] = mapped_column(ForeignKey("family.id"))
    intervenant_id: Mapped[str] = mapped_column(ForeignKey("intervenant.id"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    referent_present: Mapped[bool] = mapped_column(Boolean, default=False)
    children_present: Mapped[int | None] = mapped_column(Integer)
    approved_exception: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    # A coordinator's refusal of the dérogation (migration 0003): the session stays unpaid and leaves the queue.
    exception_refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    exception_decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    exception_reason: Mapped[str | None] = mapped_column(Text)

    family: Mapped[Family] = relationship()
    intervenant: Mapped[Intervenant] = relationship()
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    exception_decided_by: Mapped[User | None] = relationship(foreign_keys=[exception_decided_by_id])


meeting_attendance = Table(
    "meeting_attendance",
    Base.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("intervenant_id", ForeignKey("intervenant.id"), primary_key=True),
)


class Meeting(Base, Keyed):
    __tablename__ = "meeting"
    __table_args__ = (CheckConstraint(in_list("kind", MEETING_KINDS), name="kind"),)

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    convention: Mapped[Convention] = relationship()
    intervenants: Mapped[list[Intervenant]] = relationship(secondary=meeting_attendance, order_by=Intervenant.key)
