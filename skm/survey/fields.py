"""One validator per respondent field, shared by every channel: the kiosk (skm.kiosk.flow),
paper entry (skm.intake.entry), the import (skm.intake.importer) and record_response.

Each validator returns the clean value or raises FieldError (a DomainError) carrying the
field's name (the import column / paper form name) and one message in Bahasa Indonesia.
Channels add only their own framing: the import writes `baris N, kolom X: <message>`.

Free text is cleaned here, at this one edge: C0 control characters (NUL included), DEL,
C1 controls and lone surrogates are removed, so the same text is stored on SQLite and on
PostgreSQL (which refuses NUL). Saran keeps its line breaks and tabs (CR LF becomes LF);
one-line text (occupation, service name, flag reason) has every run of whitespace made
one space.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Optional

from skm.core.errors import DomainError
from skm.core.parsing import parse_int
from skm.models import Unit
from skm.survey.profile import OCCUPATION, parse_education, parse_gender, parse_occupation

MIN_AGE, MAX_AGE = 15, 99  # the kiosk's number pad and its hint; one range for every channel
MAX_SUGGESTION = 5000
MAX_OCCUPATION_OTHER = 200
MAX_LINE = 200

# Control characters except tab, LF and CR (handled separately), plus lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class FieldError(DomainError):
    """A refused respondent field: `field` is its name, str() the message."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


def _shown(value: object, limit: int = 20) -> str:
    """A refused value, short and printable, for a message."""
    return clean_line(value)[:limit]


def clean_text(value: object) -> str:
    """Multi-line free text without control characters; line breaks are LF."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def clean_line(value: object) -> str:
    """One-line free text without control characters, whitespace runs made one space."""
    text = "" if value is None else str(value)
    return " ".join(_CONTROL.sub("", text).split())


def clean_service(unit: Unit, value: object, active_only: bool = True, required: bool = False) -> Optional[int]:
    """The id of one of the unit's services, chosen by id (kiosk, paper) or by name (import)."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = clean_line(value)
    if not text:
        if required:
            raise FieldError("layanan", "Pilih salah satu layanan dari daftar.")
        return None
    key = text.lower()
    for service in unit.services:
        if active_only and not service.active:
            continue
        if (text.isdigit() and str(service.id) == text) or service.name.lower() == key:
            return service.id
    raise FieldError("layanan", f"Layanan '{_shown(text, 60)}' tidak dikenal di unit ini; pilih dari daftar layanan.")


def clean_gender(value: object, required: bool = False) -> Optional[str]:
    text = clean_line(value)
    if not text and not required:
        return None
    code = parse_gender(text) if text else None
    if code is None:
        raise FieldError("jenis_kelamin", "Jenis kelamin harus L (Laki-laki) atau P (Perempuan).")
    return code


def clean_age(value: object, required: bool = False) -> Optional[int]:
    message = f"Usia harus angka {MIN_AGE}–{MAX_AGE} tahun."
    if isinstance(value, bool):
        raise FieldError("usia", message)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = clean_line(value)
        if not text and not required:
            return None
        parsed = parse_int(text, max=999)
        if parsed is None:
            raise FieldError("usia", message)
        number = parsed
    if not MIN_AGE <= number <= MAX_AGE:
        raise FieldError("usia", message)
    return number


def clean_education(value: object, required: bool = False) -> Optional[str]:
    text = clean_line(value)
    if not text and not required:
        return None
    code = parse_education(text) if text else None
    if code is None:
        raise FieldError("pendidikan", "Pendidikan harus TS (tidak sekolah), SD, SMP, SMA, DIII, S1, S2 atau S3.")
    return code


def clean_occupation(value: object, other: object = None,
                     required: bool = False) -> tuple[Optional[str], Optional[str]]:
    """(occupation code, text kept for Lainnya).

    With `other` given (the kiosk's buttons, stored data) `value` must be one of the codes
    and `other` is the Lainnya text. Without it (paper, import) `value` is what was written:
    a known occupation, "Lainnya: ojek", or any other text, kept as Lainnya."""
    text = clean_line(value)
    if not text:
        if required:
            raise FieldError("pekerjaan", "Pilih salah satu pekerjaan: PNS, TNI, POLRI, Swasta, Wirausaha atau Lainnya.")
        return None, None
    if other is None:
        code, other_text = parse_occupation(text)
    else:
        code = text.upper()
        if code not in OCCUPATION:
            raise FieldError("pekerjaan", "Pilih salah satu pekerjaan: PNS, TNI, POLRI, Swasta, Wirausaha atau Lainnya.")
        other_text = clean_line(other) if code == "LAINNYA" else None
    if other_text and len(other_text) > MAX_OCCUPATION_OTHER:
        raise FieldError("pekerjaan",
                         f"Keterangan pekerjaan terlalu panjang (maksimal {MAX_OCCUPATION_OTHER} karakter).")
    return code, other_text or None


def clean_rating(code: str, value: object, required: bool = False) -> Optional[int]:
    """One element's rating: 1–4, or None for unanswered (empty) when not required."""
    if value is None or (isinstance(value, str) and not clean_line(value)):
        if required:
            raise FieldError(code, f"Unsur {code} belum dijawab.")
        return None
    number: Optional[int] = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        number = parse_int(clean_line(value), max=99)
    if number is None or not 1 <= number <= 4:
        raise FieldError(code, f"Nilai '{_shown(value, 10)}' tidak boleh; hanya 1, 2, 3 atau 4.")
    return number


def clean_ratings(codes: Iterable[str], ratings: Mapping[str, object],
                  require_all: bool = False) -> dict[str, Optional[int]]:
    """Every element's rating for a questionnaire with these element codes; at least one rated."""
    codes = list(codes)
    for code in ratings:
        if code not in codes:
            raise FieldError(code, f"Unsur {code} tidak ada di kuesioner.")
    clean = {code: clean_rating(code, ratings.get(code), required=require_all) for code in codes if code in ratings
             or require_all}
    if not any(r is not None for r in clean.values()):
        raise FieldError(codes[0] if codes else "jawaban", "Paling sedikit satu unsur harus dinilai.")
    return clean


def clean_suggestion(value: object) -> Optional[str]:
    text = clean_text(value)
    if len(text) > MAX_SUGGESTION:
        raise FieldError("saran", f"Saran terlalu panjang (maksimal {MAX_SUGGESTION:,} karakter).".replace(",", "."))
    return text or None

