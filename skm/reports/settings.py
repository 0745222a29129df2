"""The report date and signatories of a unit's period: chosen when printing, remembered.

One rule for every channel (Laporan page, `skm report --date`, background jobs): a
period's reports are dated with the remembered choice, else `default_report_date` --
never silently the day of printing, so a report for Triwulan III 2023 printed in 2026 is
still dated shortly after its quarter. The same date goes on the cover and the signature.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.errors import DomainError
from skm.models import Period, ReportSetting, Unit

# Without a choice: this many days after the period's last day (the reports of a quarter
# are usually signed in the first weeks after it, once the data is in).
DEFAULT_DAYS_AFTER_PERIOD = 7
NAME_MAX, NIP_MAX = 200, 30


@dataclass(frozen=True)
class ReportChoice:
    """The date and signatories a period's reports print with; `remembered` when chosen."""

    report_date: dt.date
    head_name: str
    head_position: str
    head_rank: str
    head_nip: str
    officer_name: str
    officer_nip: str
    remembered: bool


def default_report_date(period: Period) -> dt.date:
    return period.end_date + dt.timedelta(days=DEFAULT_DAYS_AFTER_PERIOD)


def _setting(session: Session, unit: Unit, period: Period) -> Optional[ReportSetting]:
    return session.scalar(select(ReportSetting).where(ReportSetting.unit_id == unit.id,
                                                      ReportSetting.period_id == period.id))


def report_choice(session: Session, unit: Unit, period: Period) -> ReportChoice:
    """The remembered choice for the period, else the default date and the unit's signature block."""
    s = _setting(session, unit, period)
    if s is not None:
        return ReportChoice(s.report_date, s.head_name, s.head_position, s.head_rank, s.head_nip,
                            s.officer_name, s.officer_nip, True)
    return ReportChoice(default_report_date(period), unit.head_name or "", unit.head_position or "",
                        unit.head_rank or "", unit.head_nip or "", "", "", False)


def parse_report_date(value) -> dt.date:
    """A date typed as YYYY-MM-DD (form field, CLI option), or DomainError in Indonesian."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise DomainError("Tanggal laporan tidak valid (format TTTT-BB-HH).") from None
    if not 2000 <= day.year <= 2100:
        raise DomainError("Tanggal laporan tidak valid.")
    return day


def check_report_date(period: Period, day: dt.date) -> None:
    if day < period.start_date:
        raise DomainError(f"Tanggal laporan tidak boleh sebelum awal periode {period.name}.")


def save_report_choice(session: Session, unit: Unit, period: Period, report_date, head_name: str = "",
                       head_position: str = "", head_rank: str = "", head_nip: str = "", officer_name: str = "",
                       officer_nip: str = "") -> ReportSetting:
    """Remember the date and signatories for the unit's reports of `period` (flushes)."""
    day = parse_report_date(report_date)
    check_report_date(period, day)
    fields = {"head_name": head_name, "head_position": head_position, "head_rank": head_rank,
              "head_nip": head_nip, "officer_name": officer_name, "officer_nip": officer_nip}
    clean = {k: " ".join(str(v or "").split()) for k, v in fields.items()}
    for key in ("head_nip", "officer_nip"):
        if clean[key] and not clean[key].replace(" ", "").isdigit():
            raise DomainError("NIP hanya berisi angka.")
        if len(clean[key]) > NIP_MAX:
            raise DomainError(f"NIP terlalu panjang (maksimal {NIP_MAX} karakter).")
    for key in ("head_name", "head_position", "head_rank", "officer_name"):
        if len(clean[key]) > NAME_MAX:
            raise DomainError(f"Nama, jabatan dan pangkat maksimal {NAME_MAX} karakter.")
    setting = _setting(session, unit, period)
    if setting is None:
        setting = ReportSetting(unit_id=unit.id, period_id=period.id, report_date=day)
        session.add(setting)
    setting.report_date = day
    for key, value in clean.items():
        setattr(setting, key, value)
    session.flush()
    return setting


def remember_report_date(session: Session, unit: Unit, period: Period, report_date) -> ReportSetting:
    """Only the date (`skm report --date`): the signatories stay as remembered or defaulted."""
    c = report_choice(session, unit, period)
    return save_report_choice(session, unit, period, report_date, c.head_name, c.head_position, c.head_rank,
                              c.head_nip, c.officer_name, c.officer_nip)
