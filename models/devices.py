"""The computers enrolled on the team server (migration 0011): each holds a revocable token of its own.

Only the token's SHA-256 is stored: a copy of the database (a backup, a dump handed to the IT) lets nobody act as a
device. A device is never deleted, so that the audit log's entries about it keep their subject: revoking it stamps
`revoked_at`, and from then on its token is refused.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, new_id, utcnow
from models.programme import User


class Device(Base):
    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # what the administrator names in a revocation
    label: Mapped[str] = mapped_column(String(100))  # « Portable de Claire », typed at enrolment
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
