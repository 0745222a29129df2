"""Staff accounts and the units they work for."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model
from skm.models.survey import Unit, user_unit


class User(Model):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint("role IN ('admin','manager','operator')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Opaque random value carried by every session cookie of this user; replacing it
    # (logout, password change, "keluar dari semua perangkat") ends every copy at once.
    session_version: Mapped[Optional[str]] = mapped_column(String(64))
    units: Mapped[list[Unit]] = relationship(secondary=user_unit)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; skm.accounts.user_for_session checks both parts.
        return f"{self.id}:{self.session_version or ''}"

    def can_access_unit(self, unit_id: int) -> bool:
        return self.role == "admin" or any(u.id == unit_id for u in self.units)
