"""Respondent profile categories and how their common spellings map to them."""
from __future__ import annotations

import re
from typing import Optional

GENDERS = {"L": "Laki-laki", "P": "Perempuan"}
EDUCATION = {
    "TS": "Tidak sekolah/Non pendidikan",
    "SD": "SD",
    "SMP": "SMP",
    "SMA": "SMA",
    "DIII": "DIII",
    "S1": "S1",
    "S2": "S2",
    "S3": "S3",
}
OCCUPATION = {
    "PNS": "PNS",
    "TNI": "TNI",
    "POLRI": "POLRI",
    "SWASTA": "Swasta",
    "WIRAUSAHA": "Wirausaha",
    "LAINNYA": "Lainnya",
}
TIME_SLOTS = ("08.00-12.00", "13.00-17.00")

_GENDER_ALIASES = {"l": "L", "laki-laki": "L", "laki laki": "L", "lakilaki": "L", "pria": "L",
                   "p": "P", "perempuan": "P", "wanita": "P"}
_EDUCATION_ALIASES = {
    "tidak sekolah": "TS", "non pendidikan": "TS", "nonpendidikan": "TS", "ts": "TS",
    "tidak sekolah/non pendidikan": "TS", "belum sekolah": "TS",
    "sd": "SD", "sederajat sd": "SD", "smp": "SMP", "sltp": "SMP", "sma": "SMA", "slta": "SMA",
    "smk": "SMA", "d1": "DIII", "d2": "DIII", "d3": "DIII", "diii": "DIII", "d-iii": "DIII",
    "diploma": "DIII", "d4": "S1", "div": "S1", "s1": "S1", "s-1": "S1", "sarjana": "S1",
    "s2": "S2", "s-2": "S2", "magister": "S2", "s3": "S3", "s-3": "S3", "doktor": "S3",
}
_OCCUPATION_ALIASES = {
    "pns": "PNS", "asn": "PNS", "tni": "TNI", "polri": "POLRI", "polisi": "POLRI",
    "swasta": "SWASTA", "pegawai swasta": "SWASTA", "karyawan swasta": "SWASTA",
    "wirausaha": "WIRAUSAHA", "wiraswasta": "WIRAUSAHA", "lainnya": "LAINNYA",
}


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def parse_gender(text: str) -> Optional[str]:
    return _GENDER_ALIASES.get(_key(text))


def parse_education(text: str) -> Optional[str]:
    key = _key(text)
    if key.upper() in EDUCATION:
        return key.upper()
    return _EDUCATION_ALIASES.get(key)


def parse_occupation(text: str) -> tuple[str, Optional[str]]:
    """A known occupation code, or LAINNYA with the text kept."""
    key = _key(text)
    code = _OCCUPATION_ALIASES.get(key)
    if code and code != "LAINNYA":
        return code, None
    if key.startswith("lainnya"):
        rest = text.strip()[7:].strip(" :-()")
        return "LAINNYA", rest or None
    return "LAINNYA", text.strip()


def time_slot_for(hour: int) -> Optional[str]:
    """The paper form's slot for a clock hour (before 12.30 is the morning slot)."""
    if hour < 12:
        return TIME_SLOTS[0]
    return TIME_SLOTS[1]
