"""User accounts. Passwords are hashed with scrypt (werkzeug's default).

Sessions are revocable on the server: the cookie carries the user's `session_version`
(an opaque random value, see `User.get_id`), and replacing that value ends every copy
of every session of the user (logout, a password change or reset, "sign out everywhere").
"""
from __future__ import annotations

import datetime as _dt
import gzip
import hmac
import secrets
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.parsing import MAX_ID, parse_int
from skm.models import ROLES, Unit, User

MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Django's list of 20 000 common passwords (BSD licence beside it), shipped as package data.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


class WrongCurrentPassword(DomainError):
    """The current password typed on the password page is wrong (counted by the throttle)."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def check_password_policy(password: str) -> None:
    """The one rule for every new password (web, CLI, demo admin): long enough, not common."""
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"Kata sandi minimal {MIN_PASSWORD} karakter.")
    if len(password) > MAX_PASSWORD:
        raise DomainError(f"Kata sandi maksimal {MAX_PASSWORD} karakter.")
    if password.strip().lower() in common_passwords():
        raise DomainError("Kata sandi ini terlalu umum dan mudah ditebak. Pilih kata sandi lain.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, username: str, password: str, role: str,
                units: Sequence[Unit] = ()) -> User:
    username = username.strip().lower()
    if not username or len(username) > 80:
        raise DomainError("Nama pengguna wajib diisi (maksimal 80 karakter).")
    if role not in ROLES:
        raise DomainError("Peran harus admin, manager atau operator.")
    check_password_policy(password)
    if session.scalar(select(User).where(User.username == username)):
        raise DomainError(f"Pengguna {username} sudah ada.")
    user = User(username=username, password_hash=hash_password(password), role=role, units=list(units),
                session_version=secrets.token_hex(16))
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
    """Set a new password; every session of the user ends (the caller may start a new one)."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)


def end_all_sessions(session: Session, user: User) -> None:
    """Every session cookie of this user, wherever it was copied, stops working."""
    user.session_version = secrets.token_hex(16)
    session.flush()


def start_session(session: Session, user: User) -> None:
    """A successful sign-in: make sure the user has a session version to carry and note the time."""
    if not user.session_version:
        user.session_version = secrets.token_hex(16)
    user.last_login_at = utcnow()
    session.flush()


def user_for_session(session: Session, session_id: str) -> Optional[User]:
    """The user a session cookie names ("<id>:<version>"), or None when it was revoked."""
    raw_id, _, version = (session_id or "").partition(":")
    user_id = parse_int(raw_id, max=MAX_ID)
    if user_id is None or not version:
        return None
    user = session.get(User, user_id)
    if user is None or not user.session_version:
        return None
    if not hmac.compare_digest(user.session_version.encode(), version.encode()):
        return None
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


# --- Admin area: account management and slowed-down failed logins -----------------

# Failed attempts are counted per key in the login_throttle table (every worker sees the
# same counters). A key is "<kind>:<value>"; after FREE_FAILURES[kind] failures each further
# attempt waits BASE_DELAY * 2**(extra failures), capped at MAX_DELAY.
#   login:<name>|<address>  one account from one client: the owner elsewhere is not slowed
#   ip:<address>            any names from one client (an office behind NAT: looser)
#   password:<user id>      wrong current password on the password page
#   pair:<address>          wrong tablet pairing codes
FREE_FAILURES = 5
IP_FREE_FAILURES = 20
PAIR_FREE_FAILURES = 10
THROTTLE_FREE = {"login": FREE_FAILURES, "ip": IP_FREE_FAILURES, "password": FREE_FAILURES,
                 "pair": PAIR_FREE_FAILURES}
BASE_DELAY = 15
MAX_DELAY = 15 * 60
# A counter older than this is forgotten.
FAILURE_MEMORY = _dt.timedelta(hours=1)


def _throttle_row(session: Session, key: str):
    from skm.models import LoginThrottle

    return session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def _client(remote_addr: Optional[str]) -> str:
    return (remote_addr or "-")[:60]


def throttle_keys(username: str, remote_addr: Optional[str]) -> list[str]:
    """Login keys: this account from this client, and this client whatever the name."""
    keys = [f"login:{username.strip().lower()[:80]}|{_client(remote_addr)}"]
    if remote_addr:
        keys.append("ip:" + _client(remote_addr))
    return keys


def password_throttle_keys(user: User) -> list[str]:
    return [f"password:{user.id}"]


def pairing_throttle_keys(remote_addr: Optional[str]) -> list[str]:
    return ["pair:" + _client(remote_addr)]


def login_wait_seconds(session: Session, keys: Sequence[str], now: Optional[_dt.datetime] = None) -> int:
    """Seconds until another attempt is allowed for these keys (0: allowed now)."""
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
        extra = row.failures - THROTTLE_FREE.get(key.partition(":")[0], FREE_FAILURES)
        if extra >= 0:
            delay = min(MAX_DELAY, BASE_DELAY * 2 ** min(extra, 12))
            row.blocked_until = now + _dt.timedelta(seconds=delay)
    session.flush()


def clear_login_failures(session: Session, keys: Sequence[str]) -> None:
    """A success clears its own counters (never the per-address one: others share it)."""
    for key in keys:
        if key.startswith("ip:"):
            continue
        row = _throttle_row(session, key)
        if row is not None:
            session.delete(row)
    session.flush()


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise WrongCurrentPassword("Kata sandi lama salah.")
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
