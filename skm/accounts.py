"""User accounts. Passwords are hashed with scrypt (werkzeug's default)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from skm.core.errors import DomainError
from skm.models import ROLES, Unit, User

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


# --- Admin area: account management and slowed-down failed logins -----------------

import datetime as _dt  # noqa: E402

from skm.core.clock import utcnow  # noqa: E402

# After FREE_FAILURES failed logins for a name (or from an address), each further attempt
# waits BASE_DELAY * 2**(extra failures), capped at MAX_DELAY; a success clears the name.
FREE_FAILURES = 5
# An address is shared by a whole office behind NAT: it gets more tries before slowing down.
IP_FREE_FAILURES = 20
BASE_DELAY = 15
MAX_DELAY = 15 * 60
# A counter older than this is forgotten.
FAILURE_MEMORY = _dt.timedelta(hours=1)


def _throttle_row(session: Session, key: str):
    from skm.models import LoginThrottle

    return session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def throttle_keys(username: str, remote_addr: Optional[str]) -> list[str]:
    keys = ["user:" + username.strip().lower()[:150]]
    if remote_addr:
        keys.append("ip:" + remote_addr[:150])
    return keys


def login_wait_seconds(session: Session, keys: Sequence[str], now: Optional[_dt.datetime] = None) -> int:
    """Seconds until another login attempt is allowed for these keys (0: allowed now)."""
    now = now or utcnow()
    wait = 0
    for key in keys:
        row = _throttle_row(session, key)
        if row is not None and row.blocked_until and row.blocked_until > now:
            wait = max(wait, int((row.blocked_until - now).total_seconds()) + 1)
    return wait


def record_login_failure(session: Session, keys: Sequence[str], now: Optional[_dt.datetime] = None) -> None:
    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError

    from skm.models import LoginThrottle

    now = now or utcnow()
    # Forget stale counters so guessed names do not pile up.
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - _dt.timedelta(days=1)))
    for key in keys:
        row = _throttle_row(session, key)
        if row is None:
            try:
                # Two workers may count the first failure of a key at once: keep the other's row.
                with session.begin_nested():
                    session.add(LoginThrottle(key=key, failures=0))
            except IntegrityError:
                pass
            row = _throttle_row(session, key)
        elif row.last_failure_at and now - row.last_failure_at > FAILURE_MEMORY:
            row.failures = 0
        row.failures = (row.failures or 0) + 1
        row.last_failure_at = now
        extra = row.failures - (IP_FREE_FAILURES if key.startswith("ip:") else FREE_FAILURES)
        if extra >= 0:
            delay = min(MAX_DELAY, BASE_DELAY * 2 ** min(extra, 12))
            row.blocked_until = now + _dt.timedelta(seconds=delay)
    session.flush()


def clear_login_failures(session: Session, username: str) -> None:
    row = _throttle_row(session, throttle_keys(username, None)[0])
    if row is not None:
        session.delete(row)
        session.flush()


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise DomainError("Kata sandi lama salah.")
    if new != confirm:
        raise DomainError("Konfirmasi kata sandi baru tidak sama.")
    if new == current:
        raise DomainError("Kata sandi baru harus berbeda dari yang lama.")
    set_password(session, user, new)


def update_user(session: Session, user: User, role: str, active: bool, units: Sequence[Unit],
                acting: Optional[User] = None) -> None:
    """Change role, active flag and assigned units; an admin cannot lock themselves out."""
    if role not in ROLES:
        raise DomainError("Peran harus admin, manager atau operator.")
    if acting is not None and acting.id == user.id and (role != "admin" or not active):
        raise DomainError("Anda tidak dapat menonaktifkan atau menurunkan peran akun Anda sendiri.")
    if user.role == "admin" and (role != "admin" or not active):
        others = session.scalars(
            select(User).where(User.role == "admin", User.active.is_(True), User.id != user.id)
        ).all()
        if not others:
            raise DomainError("Harus ada paling sedikit satu admin aktif.")
    user.role = role
    user.active = active
    user.units = list(units)
    session.flush()
