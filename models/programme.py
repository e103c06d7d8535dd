"""The programme itself and the people who use the application."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Keyed, Record
from models.enums import HOLIDAY_ZONES, ROLES, in_list


class Programme(Base, Record):
    __tablename__ = "programme"
    __table_args__ = (CheckConstraint(in_list("holiday_zone", HOLIDAY_ZONES), name="holiday_zone"),)

    name: Mapped[str] = mapped_column(String(200))
    holiday_zone: Mapped[str] = mapped_column(String(1))
    eligible_communes: Mapped[list] = mapped_column(JSON, default=list)
    # The programme's QPV names (0012), offered by the family form; a family may still name another one.
    qpv_names: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    city: Mapped[str | None] = mapped_column(String(120))


class User(Base, Keyed):
    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint(in_list("role", ROLES), name="role"),)

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Security (migration 0002): argon2id hash, consecutive failed logins, and the end of the login delay.
    password_hash: Mapped[str | None] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
