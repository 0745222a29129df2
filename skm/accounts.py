"""User accounts. Passwords are hashed with scrypt (werkzeug's default)."""
from __future__ import annotations

from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ROLES, Unit, User
from .units import DomainError

MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, username: str, password: str, role: str,
                units: Sequence[Unit] = ()) -> User:
    username = username.strip().lower()
    if not username or len(username) > 80:
        raise DomainError("Nama pengguna wajib diisi (maksimal 80 karakter).")
    if role not in ROLES:
        raise DomainError("Peran harus admin, manager atau operator.")
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"Kata sandi minimal {MIN_PASSWORD} karakter.")
    if session.scalar(select(User).where(User.username == username)):
        raise DomainError(f"Pengguna {username} sudah ada.")
    user = User(username=username, password_hash=hash_password(password), role=role, units=list(units))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> Optional[User]:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        # Same work as a real check so timing does not reveal which names exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"Kata sandi minimal {MIN_PASSWORD} karakter.")
    user.password_hash = hash_password(password)
    session.flush()


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
