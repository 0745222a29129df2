"""Kiosk tablets: pairing codes, long-lived device credentials, revocation, PIN checks.

Functions flush, never commit. Credentials are stored only as SHA-256 hashes: the raw
value lives in the tablet's HttpOnly cookie and nowhere else.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, contains_eager
from werkzeug.security import check_password_hash

from skm.accounts import hash_password, login_wait_seconds, pairing_throttle_keys, record_login_failure
from skm.core.clock import unit_now, utcnow
from skm.core.errors import DomainError
from skm.core.parsing import parse_int
from skm.models import Device, KioskPinAttempt, KioskSurvey, Response, Service, Unit

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
PAIRING_CODE_LENGTH = 8
PAIRING_HOURS = 24
LAST_SEEN_EVERY = dt.timedelta(seconds=30)  # write last_seen at most this often
PIN_MAX_FAILURES = 5
PIN_WINDOW = dt.timedelta(minutes=5)
MIN_PIN, MAX_PIN = 4, 8


def hash_credential(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def create_pairing(session: Session, unit: Unit, service_id: Optional[int] = None, name: str = "",
                   now: Optional[dt.datetime] = None) -> Device:
    """A new (unpaired) device with a one-time pairing code valid for 24 hours."""
    now = now or utcnow()
    name = (name or "").strip()
    if len(name) > 100:
        raise DomainError("Nama tablet terlalu panjang (maksimal 100 karakter).")
    if service_id is not None:
        service = session.get(Service, service_id)
        if service is None or service.unit_id != unit.id or not service.active:
            raise DomainError("Layanan tidak ditemukan di unit ini.")
    while True:
        code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
        if session.scalar(select(Device.id).where(Device.pairing_code == code)) is None:
            break
    device = Device(unit_id=unit.id, service_id=service_id, name=name or f"Tablet {code[:4]}",
                    pairing_code=code, pairing_expires_at=now + dt.timedelta(hours=PAIRING_HOURS), created_at=now)
    session.add(device)
    session.flush()
    return device


class PairingThrottled(DomainError):
    """Too many wrong pairing codes from this client: wait before the next try."""


def pairing_device(session: Session, code: str, now: Optional[dt.datetime] = None,
                   client: Optional[str] = None) -> Device:
    """The device a pairing code names, or a DomainError saying why it cannot be used.

    With `client` (the requesting address), wrong codes are counted in the login_throttle
    table (every worker sees them) and past 10 the client waits, doubling each time. The
    count is flushed before the error is raised: the caller commits it, even on error."""
    now = now or utcnow()
    keys = pairing_throttle_keys(client) if client is not None else []
    wait = login_wait_seconds(session, keys, now) if keys else 0
    if wait:
        raise PairingThrottled(f"Terlalu banyak kode pemasangan yang salah. Coba lagi dalam {wait} detik.")
    code = normalize_code(code)
    device = session.scalar(select(Device).where(Device.pairing_code == code)) if code else None
    problem = None
    if device is None or device.revoked_at is not None:
        problem = "Kode pemasangan tidak dikenal. Periksa kembali kodenya."
    elif device.pairing_expires_at is not None and device.pairing_expires_at < now:
        problem = "Kode pemasangan sudah kedaluwarsa. Minta kode baru kepada admin."
    if problem:
        if keys:
            record_login_failure(session, keys, now)
        raise DomainError(problem)
    assert device is not None
    return device


def pair_device(session: Session, code: str, now: Optional[dt.datetime] = None,
                client: Optional[str] = None) -> tuple[Device, str]:
    """Use a pairing code once: returns the device and its raw credential (shown only now)."""
    now = now or utcnow()
    device = pairing_device(session, code, now, client)
    raw = secrets.token_urlsafe(32)
    device.credential_hash = hash_credential(raw)
    device.pairing_code = None
    device.pairing_expires_at = None
    device.paired_at = now
    device.last_seen_at = now
    session.flush()
    return device, raw


def device_for_credential(session: Session, raw: Optional[str], now: Optional[dt.datetime] = None,
                          touch: bool = True) -> Optional[Device]:
    """The paired, unrevoked device holding this credential (and note that it was seen)."""
    if not raw or len(raw) > 200:
        return None
    # With its unit, which every kiosk screen shows (one query; the unit is then in the session).
    device = session.scalar(select(Device).join(Device.unit).options(contains_eager(Device.unit))
                            .where(Device.credential_hash == hash_credential(raw)))
    if device is None or device.revoked_at is not None:
        return None
    now = now or utcnow()
    if touch and (device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_EVERY):
        device.last_seen_at = now
        session.flush()
    return device


def revoke_device(session: Session, device: Device, now: Optional[dt.datetime] = None) -> None:
    now = now or utcnow()
    device.revoked_at = now
    device.pairing_code = None
    device.pairing_expires_at = None
    session.execute(
        update(KioskSurvey)
        .execution_options(synchronize_session=False)  # a Core UPDATE, as before
        .where(KioskSurvey.device_id == device.id, KioskSurvey.status == "open")
        .values(status="abandoned", answers={}, updated_at=now)
    )
    session.flush()


def set_device_service(session: Session, device: Device, service_id: Optional[int]) -> None:
    if service_id is not None:
        service = session.get(Service, service_id)
        if service is None or service.unit_id != device.unit_id or not service.active:
            raise DomainError("Layanan tidak ditemukan di unit ini.")
    device.service_id = service_id
    session.flush()


def set_paused(session: Session, device: Device, paused: bool) -> None:
    device.paused = paused
    session.flush()


# Opening hours for the "silent tablet" alert: the paper form's service slots (08.00–17.00),
# Monday to Friday, in the unit's time zone.
OPENING_FROM, OPENING_TO = dt.time(8, 0), dt.time(17, 0)
OPENING_DAYS = (0, 1, 2, 3, 4)


def note_outbox(session: Session, device: Device, reported: Optional[str]) -> None:
    """Keep the outbox size a tablet reports with each request (a small number, or nothing)."""
    size = parse_int(reported, max=999_999)
    if size is not None and device.outbox_size != size:
        device.outbox_size = size
        session.flush()


def silent_day(device: Device, unit: Unit, now: Optional[dt.datetime] = None) -> Optional[dt.date]:
    """The latest whole day of opening hours (ended before now, in the unit's time zone)
    during which a paired tablet made no contact at all, or None."""
    if device.credential_hash is None or device.revoked_at is not None or device.paused:
        return None
    now = now or utcnow()
    local_now = unit_now(unit, now)
    day = local_now.date()
    if local_now.time() < OPENING_TO:
        day -= dt.timedelta(days=1)
    while day.weekday() not in OPENING_DAYS:
        day -= dt.timedelta(days=1)
    paired_local = unit_now(unit, device.paired_at).date() if device.paired_at else day
    if paired_local >= day:
        return None  # paired that day or later: not a whole day yet
    seen = unit_now(unit, device.last_seen_at) if device.last_seen_at else None
    # Its latest contact came before that day's opening: nothing at all during it.
    return day if seen is None or seen < dt.datetime.combine(day, OPENING_FROM) else None


@dataclass
class DeviceRow:
    device: Device
    status: str
    today_count: int
    outbox_size: Optional[int] = None
    silent_day: Optional[dt.date] = None


def device_status(device: Device, now: Optional[dt.datetime] = None) -> str:
    now = now or utcnow()
    if device.revoked_at is not None:
        return "Dicabut"
    if device.credential_hash is None:
        if device.pairing_expires_at is not None and device.pairing_expires_at < now:
            return "Kode kedaluwarsa"
        return "Menunggu pemasangan"
    return "Istirahat" if device.paused else "Aktif"


def list_devices(session: Session, unit: Unit, now: Optional[dt.datetime] = None) -> list[DeviceRow]:
    """A unit's devices, newest first, with the number of responses each sent today."""
    now = now or utcnow()
    today = unit_now(unit, now).date()
    devices = session.scalars(select(Device).where(Device.unit_id == unit.id).order_by(Device.id.desc())).all()
    counts = dict(session.execute(
        select(Response.device_id, func.count())
        .where(Response.unit_id == unit.id, Response.survey_date == today, Response.device_id.is_not(None))
        .group_by(Response.device_id)
    ).all())
    return [DeviceRow(d, device_status(d, now), counts.get(d.id, 0), d.outbox_size, silent_day(d, unit, now))
            for d in devices]


# --- The unit's front-desk PIN -------------------------------------------------------

def set_kiosk_pin(session: Session, unit: Unit, pin: str, confirm: Optional[str] = None) -> None:
    """The one setter of the unit's PIN (CLI, admin PIN page): 4–8 ASCII digits (the
    tablet's pad has no other), stored hashed. `confirm` is the second entry when the
    form or prompt asks twice; it must be the same."""
    pin = (pin or "").strip()
    if not re.fullmatch(f"[0-9]{{{MIN_PIN},{MAX_PIN}}}", pin):
        raise DomainError(f"PIN kiosk harus {MIN_PIN}–{MAX_PIN} angka.")
    if confirm is not None and pin != confirm.strip():
        raise DomainError("Konfirmasi PIN tidak sama.")
    unit.kiosk_pin_hash = hash_password(pin)
    session.flush()


PIN_NOT_SET = "PIN belum diatur — atur di halaman Tablet."


def pin_locked_for(session: Session, device: Device, now: Optional[dt.datetime] = None) -> int:
    """Seconds until this tablet may try the PIN again (0 when it may)."""
    now = now or utcnow()
    since = now - PIN_WINDOW
    times = session.scalars(
        select(KioskPinAttempt.attempted_at)
        .where(KioskPinAttempt.device_id == device.id, KioskPinAttempt.attempted_at > since)
        .order_by(KioskPinAttempt.attempted_at)
    ).all()
    if len(times) < PIN_MAX_FAILURES:
        return 0
    # Locked until the oldest counted failure leaves the window.
    unlock = times[-PIN_MAX_FAILURES] + PIN_WINDOW
    return max(1, int((unlock - now).total_seconds()) + 1)


def check_kiosk_pin(session: Session, device: Device, pin: str, now: Optional[dt.datetime] = None) -> bool:
    """True when the PIN is right. Wrong PINs are recorded (in the database, so every worker
    sees them); after 5 wrong PINs in 5 minutes the tablet is refused until the window passes.
    A unit without a PIN yet is told so (nothing is recorded: no PIN can be right)."""
    now = now or utcnow()
    unit = session.get(Unit, device.unit_id)
    pin_hash = unit.kiosk_pin_hash if unit is not None else None
    if not pin_hash:
        raise DomainError(PIN_NOT_SET)
    if pin_locked_for(session, device, now):
        raise DomainError("Terlalu banyak PIN salah. Tunggu beberapa menit lalu coba lagi.")
    pin = (pin or "").strip()
    ok = len(pin) <= MAX_PIN and check_password_hash(pin_hash, pin)
    if ok:
        session.execute(delete(KioskPinAttempt).where(KioskPinAttempt.device_id == device.id))
    else:
        session.add(KioskPinAttempt(device_id=device.id, attempted_at=now))
    session.flush()
    return ok
