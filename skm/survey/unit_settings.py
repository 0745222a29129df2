"""Unit setup from the admin area: settings, logo, questionnaire edits, services
(the kiosk PIN: skm.kiosk.devices.set_kiosk_pin).

Plain functions; they validate, change and flush, never commit.
"""
from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import Sequence
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import TIMEZONES, utcnow
from skm.core.errors import DomainError
from skm.core.parsing import parse_int
from skm.models import Service, Unit
from skm.survey.units import new_questionnaire_version, service_by_name

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 5000 * 5000
LOGO_MAX_SIDE = 600  # stored logos are scaled down to this
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}

TEXT_LIMITS = {
    "name": 200, "address": 300, "phone": 50, "city": 100, "head_name": 200,
    "head_position": 200, "head_rank": 200, "head_nip": 30,
}
INT_LIMITS = {
    "idle_seconds": (10, 3600), "thanks_seconds": (2, 120), "min_survey_seconds": (0, 600),
    "rtl_priority_count": (1, 20),
}
BOOL_FIELDS = ("kiosk_show_ikm", "ask_suggestion_on_low", "ask_gender", "ask_age", "ask_education", "ask_occupation",
               "online_enabled")


def parse_age_bands(text: str) -> str:
    """"17, 24, 30, 41" -> "17,24,30,41"; strictly increasing whole numbers from 10 to 120."""
    parts = [p.strip() for p in re.split(r"[,;\s]+", text or "") if p.strip()]
    if not parts:
        raise DomainError("Batas kelompok usia wajib diisi, misalnya 17,24,30,41.")
    numbers = [parse_int(p) for p in parts]
    if None in numbers:
        raise DomainError("Batas kelompok usia harus bilangan bulat dipisah koma, misalnya 17,24,30,41.")
    bounds = [b for b in numbers if b is not None]
    if any(b < 10 or b > 120 for b in bounds):
        raise DomainError("Batas kelompok usia harus antara 10 dan 120.")
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
        raise DomainError("Batas kelompok usia harus naik berurutan.")
    if len(bounds) > 10:
        raise DomainError("Paling banyak 10 kelompok usia.")
    return ",".join(str(b) for b in bounds)


# The signature block of the unit's reports: set by an admin (unit settings) or the unit's manager.
SIGNATURE_FIELDS = ("city", "head_name", "head_position", "head_rank", "head_nip")
FIELD_LABELS = {"name": "Nama unit", "address": "Alamat", "phone": "Telepon", "city": "Kota",
                "head_name": "Nama pimpinan", "head_position": "Jabatan", "head_rank": "Pangkat/golongan",
                "head_nip": "NIP"}


def _clean_texts(values: dict, keys, errors: list[str]) -> dict:
    """One-line text fields, whitespace collapsed, checked against TEXT_LIMITS (and the NIP's digits)."""
    clean = {}
    for key in keys:
        limit = TEXT_LIMITS[key]
        value = " ".join(str(values.get(key, "") or "").split())
        if len(value) > limit:
            errors.append(f"Isian {FIELD_LABELS.get(key, key)} terlalu panjang (maksimal {limit} karakter).")
        clean[key] = value
    if clean.get("head_nip") and not re.fullmatch(r"[0-9 ]{8,30}", clean["head_nip"]):
        errors.append("NIP hanya boleh berisi angka (boleh dengan spasi).")
    return clean


def update_signature_block(session: Session, unit: Unit, values: dict) -> list[str]:
    """Set the city and the head's name, position, rank and NIP. Returns problems; nothing changes when any."""
    errors: list[str] = []
    clean = _clean_texts(values, SIGNATURE_FIELDS, errors)
    if errors:
        return errors
    for key, value in clean.items():
        setattr(unit, key, value)
    session.flush()
    return []


def update_unit_settings(session: Session, unit: Unit, values: dict) -> list[str]:
    """Apply the settings form. Returns problems (Indonesian); nothing changes when any."""
    errors: list[str] = []
    clean: dict = _clean_texts(values, TEXT_LIMITS, errors)
    if not clean["name"]:
        errors.append("Nama unit wajib diisi.")
    code = str(values.get("code", "") or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9_-]{1,32}", code):
        errors.append("Kode unit 1–32 huruf/angka tanpa spasi.")
    else:
        from sqlalchemy import select

        other = session.scalar(select(Unit).where(Unit.code == code, Unit.id != unit.id))
        if other is not None:
            errors.append(f"Kode {code} sudah dipakai unit lain.")
        clean["code"] = code
    tz = values.get("timezone")
    if tz not in TIMEZONES:
        errors.append("Zona waktu harus WIB, WITA atau WIT.")
    else:
        clean["timezone"] = tz
    clean.update(parse_int_fields(values, INT_LIMITS, errors))
    for key in BOOL_FIELDS:
        clean[key] = bool(values.get(key))
    try:
        clean["age_bands"] = parse_age_bands(str(values.get("age_bands", "")))
    except DomainError as exc:
        errors.append(str(exc))
    intro = str(values.get("intro_text", "") or "").strip()
    if len(intro) > 20000:
        errors.append("Teks pendahuluan terlalu panjang (maksimal 20.000 karakter).")
    clean["intro_text"] = intro
    if errors:
        return errors
    for key, value in clean.items():
        setattr(unit, key, value)
    session.flush()
    return []


def store_logo(session: Session, unit: Unit, data: bytes, upload_folder: str) -> str:
    """Check an uploaded image with Pillow, re-encode it as PNG under uploads/logos/."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DomainError("Pilih berkas gambar logo.")
    if len(data) > LOGO_MAX_BYTES:
        raise DomainError("Berkas logo terlalu besar (maksimal 2 MB).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError("Berkas bukan gambar yang dikenali (gunakan PNG, JPEG, GIF atau WEBP).") from None
    if kind not in LOGO_FORMATS:
        raise DomainError("Format logo harus PNG, JPEG, GIF atau WEBP.")
    if width * height > LOGO_MAX_PIXELS:
        raise DomainError("Ukuran gambar logo terlalu besar.")
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.load()
            image = source.convert("RGBA")
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise DomainError("Gambar logo rusak atau tidak dapat dibaca.") from None
    folder = os.path.join(upload_folder, "logos")
    os.makedirs(folder, exist_ok=True)
    name = f"unit-{unit.id}-{secrets.token_hex(8)}.png"
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(out.getvalue())
    old = unit.logo_path
    unit.logo_path = name
    session.flush()
    if old and old != name and re.fullmatch(r"unit-\d+-[0-9a-f]{16}\.png", old):
        try:
            os.remove(os.path.join(folder, old))
        except OSError:
            pass
    return name


def logo_file(unit: Unit, upload_folder: str) -> Optional[str]:
    """Absolute path of a unit's stored logo, or None."""
    if not unit.logo_path or not re.fullmatch(r"unit-\d+-[0-9a-f]{16}\.png", unit.logo_path):
        return None
    path = os.path.join(upload_folder, "logos", unit.logo_path)
    return path if os.path.isfile(path) else None


def add_service(session: Session, unit: Unit, name: str) -> Service:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Nama layanan wajib diisi.")
    if len(name) > 200:
        raise DomainError("Nama layanan terlalu panjang (maksimal 200 karakter).")
    existing = service_by_name(session, unit, name)
    if existing is not None:
        if existing.retired_at is None:
            raise DomainError(f"Layanan {existing.name} sudah ada.")
        existing.retired_at = None  # bring a retired service back, with its history
        session.flush()
        return existing
    return service_by_name(session, unit, name, create=True)


def set_service_retired(session: Session, service: Service, retired: bool) -> None:
    service.retired_at = (service.retired_at or utcnow()) if retired else None
    session.flush()


def questionnaire_from_rows(session: Session, unit: Unit, rows: Sequence[dict]):
    """Rows from the editor (code, name, question, label1-4, position, remove) -> new version.

    Blank rows are ignored; rows marked remove are dropped; order follows `position`.
    """
    kept = []
    for index, row in enumerate(rows):
        fields = [str(row.get(k, "") or "").strip() for k in ("code", "name", "question", "label1", "label2", "label3", "label4")]
        if not any(fields) or row.get("remove"):
            continue
        code, name, question, *labels = fields
        if not code or not name or not question:
            raise DomainError(f"Baris {index + 1}: kode, nama unsur dan pertanyaan wajib diisi.")
        if len(code) > 10 or not re.fullmatch(r"[A-Za-z0-9._-]+", code):
            raise DomainError(f"Baris {index + 1}: kode unsur maksimal 10 huruf/angka tanpa spasi.")
        if len(name) > 200 or any(len(x) > 100 for x in labels) or len(question) > 2000:
            raise DomainError(f"Baris {index + 1}: isian terlalu panjang.")
        position = parse_int(str(row.get("position", "") or index + 1))
        if position is None:
            raise DomainError(f"Baris {index + 1}: urutan harus bilangan bulat.")
        kept.append((position, index, {"code": code, "name": name, "question": question, "labels": labels}))
    kept.sort(key=lambda x: (x[0], x[1]))
    elements = [k[2] for k in kept]
    current = unit.current_questionnaire
    if current is not None and _same_questionnaire(current, elements):
        raise DomainError("Tidak ada perubahan pada kuesioner.")
    return new_questionnaire_version(session, unit, elements)


def _same_questionnaire(questionnaire, elements: Sequence[dict]) -> bool:
    old = [(e.code, e.name, e.question, *e.labels) for e in questionnaire.elements]
    new = [(e["code"].upper(), e["name"], e["question"], *e["labels"]) for e in elements]
    return old == new


def parse_int_fields(values: dict, limits: dict[str, tuple[int, int]], errors: list[str]) -> dict[str, int]:
    """Whole numbers within (low, high) per field; problems appended to `errors` in Indonesian."""
    clean = {}
    for key, (lo, hi) in limits.items():
        raw = str(values.get(key, "") or "").strip()
        number = parse_int(raw)
        if number is None:
            errors.append(f"Isian {key} harus bilangan bulat." if not (raw.isascii() and raw.isdigit())
                          else f"Isian {key} harus antara {lo} dan {hi}.")
            continue
        if not lo <= number <= hi:
            errors.append(f"Isian {key} harus antara {lo} dan {hi}.")
        clean[key] = number
    return clean
