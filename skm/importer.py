"""Import per-respondent sheets (CSV or XLSX): validate every row, then store all or nothing."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ImportBatch, Period, PeriodUnit, Unit
from .profile import TIME_SLOTS, parse_education, parse_gender, parse_occupation, time_slot_for
from .responses import ResponseData, record_response, validate_response
from .scoring import Scores, score, tallies_from_ratings
from .units import DomainError, service_by_name

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
PROFILE_COLUMNS = ("tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "saran")
REQUIRED_COLUMNS = ("tanggal",)


class ImportRejected(DomainError):
    """The file cannot be imported; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ImportPreview:
    filename: str
    fingerprint: str
    rows: list[ResponseData]
    errors: list[str]
    element_codes: list[str]
    ignored_columns: list[str] = field(default_factory=list)
    new_services: list[str] = field(default_factory=list)
    service_names: list[Optional[str]] = field(default_factory=list)
    scores: Optional[Scores] = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_csv(content: bytes) -> list[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="strict")
    if "\x00" in text:
        raise ImportRejected(["Berkas bukan CSV teks."])
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _read_xlsx(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:
        raise ImportRejected(["Berkas XLSX rusak atau bukan berkas Excel."]) from None
    sheet = workbook.worksheets[0]
    rows = []
    for i, row in enumerate(sheet.iter_rows(values_only=True)):
        if i > MAX_ROWS + 1:
            raise ImportRejected([f"Berkas terlalu besar: paling banyak {MAX_ROWS:,} baris.".replace(",", ".")])
        rows.append(list(row))
    workbook.close()
    return rows


def read_table(filename: str, content: bytes) -> list[list]:
    if not content:
        raise ImportRejected(["Berkas kosong."])
    if len(content) > MAX_BYTES:
        raise ImportRejected(["Berkas terlalu besar: paling besar 10 MB."])
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise ImportRejected(["Berkas berakhiran .xlsx tetapi isinya bukan Excel."])
        return _read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt"):
        if content.startswith(b"PK") or content.startswith(b"\xd0\xcf"):
            raise ImportRejected(["Berkas berakhiran .csv tetapi isinya bukan teks CSV."])
        try:
            return _read_csv(content)
        except UnicodeDecodeError:
            raise ImportRejected(["Berkas CSV harus berupa teks UTF-8."]) from None
    raise ImportRejected(["Jenis berkas tidak didukung: unggah CSV atau XLSX."])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError("format tanggal tidak dikenal (pakai YYYY-MM-DD atau DD/MM/YYYY)")


def _parse_time(value) -> tuple[Optional[dt.time], Optional[str]]:
    if isinstance(value, dt.time):
        return value, time_slot_for(value.hour)
    if isinstance(value, dt.datetime):
        return value.time(), time_slot_for(value.hour)
    text = _text(value)
    if not text:
        return None, None
    compact = text.replace(" ", "").replace("–", "-")
    if compact in TIME_SLOTS:
        return None, compact
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?:[:.]\d{2})?", text)
    if not match:
        raise ValueError("format jam tidak dikenal (pakai HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError("jam tidak valid")
    return dt.time(hour, minute), time_slot_for(hour)


def _parse_rating(value) -> Optional[int]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("nilai harus 1, 2, 3 atau 4")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("nilai harus bilangan bulat 1–4")
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if not re.fullmatch(r"\d+", text):
            raise ValueError(f"nilai '{text[:20]}' bukan angka 1–4")
        number = int(text)
    if not 1 <= number <= 4:
        raise ValueError(f"nilai {number} di luar 1–4")
    return number


def _is_formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=")


def fingerprint(rows: list[ResponseData], service_names: list[Optional[str]]) -> str:
    """Identifies the data, whatever the file format or its name."""
    payload = [
        [r.survey_date.isoformat(), r.survey_time.isoformat() if r.survey_time else None, r.time_slot,
         s, r.gender, r.age, r.education, r.occupation, r.occupation_other, r.suggestion,
         sorted(r.ratings.items())]
        for r, s in zip(rows, service_names)
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def closed_period_containing(session: Session, unit_id: int, day: dt.date) -> Optional[Period]:
    return session.scalar(
        select(Period)
        .join(PeriodUnit, PeriodUnit.period_id == Period.id)
        .where(
            PeriodUnit.unit_id == unit_id,
            PeriodUnit.closed_at.is_not(None),
            Period.start_date <= day,
            Period.end_date >= day,
        )
    )


def preview_import(session: Session, unit: Unit, filename: str, content: bytes,
                   create_services: bool = False) -> ImportPreview:
    """Parse and validate a file without storing anything."""
    table = read_table(filename, content)
    table = [row for row in table if any(_text(c) for c in row)]
    if not table:
        raise ImportRejected(["Berkas kosong."])
    if len(table) - 1 > MAX_ROWS:
        raise ImportRejected([f"Berkas terlalu besar: paling banyak {MAX_ROWS} baris."])
    questionnaire = unit.current_questionnaire
    codes = [e.code for e in questionnaire.elements]
    header = [_text(h).lower() for h in table[0]]
    index: dict[str, int] = {}
    errors: list[str] = []
    for i, name in enumerate(header):
        key = name.upper() if name.upper() in codes else name
        if key in index:
            errors.append(f"baris 1, kolom {name}: kolom ganda")
        index[key] = i
    missing = [c for c in REQUIRED_COLUMNS + tuple(codes) if c not in index]
    if missing:
        raise ImportRejected([
            "Kolom wajib tidak ada: " + ", ".join(missing)
            + ". Kolom yang dikenal: " + ", ".join(PROFILE_COLUMNS + tuple(codes)) + "."
        ])
    ignored = [h for h in header if h and h not in PROFILE_COLUMNS and h.upper() not in codes]
    if len(table) == 1:
        raise ImportRejected(["Berkas hanya berisi judul kolom, tanpa data responden."])

    rows: list[ResponseData] = []
    service_names: list[Optional[str]] = []
    raw_service_names: list[Optional[str]] = []
    new_services: list[str] = []
    closed_seen: dict[dt.date, Optional[Period]] = {}
    for n, raw in enumerate(table[1:], start=2):
        def cell(column):
            i = index.get(column)
            return raw[i] if i is not None and i < len(raw) else None

        row_errors: list[str] = []

        def fail(column, message):
            row_errors.append(f"baris {n}, kolom {column}: {message}")

        for column in list(index):
            if column != "saran" and _is_formula(cell(column)):
                fail(column, "berisi rumus; isi dengan nilainya")
        if row_errors:
            errors.extend(row_errors)
            continue
        data = ResponseData(survey_date=dt.date(2000, 1, 1), ratings={})
        try:
            data.survey_date = _parse_date(cell("tanggal"))
            if data.survey_date > dt.date.today() + dt.timedelta(days=1):
                fail("tanggal", "tanggal di masa depan")
            elif data.survey_date.year < 2000:
                fail("tanggal", "tanggal terlalu lama")
            else:
                if data.survey_date not in closed_seen:
                    closed_seen[data.survey_date] = closed_period_containing(session, unit.id, data.survey_date)
                closed = closed_seen[data.survey_date]
                if closed is not None:
                    fail("tanggal", f"periode {closed.name} sudah ditutup")
        except ValueError as exc:
            fail("tanggal", str(exc))
        try:
            data.survey_time, data.time_slot = _parse_time(cell("jam"))
        except ValueError as exc:
            fail("jam", str(exc))
        service_name = _text(cell("layanan")) or None
        if service_name:
            service = service_by_name(session, unit, service_name)
            if service is None:
                if create_services:
                    if service_name.lower() not in {s.lower() for s in new_services}:
                        new_services.append(" ".join(service_name.split()))
                else:
                    fail("layanan", f"layanan '{service_name[:60]}' tidak dikenal di unit ini")
            else:
                data.service_id = service.id
        gender = _text(cell("jenis_kelamin"))
        if gender:
            data.gender = parse_gender(gender)
            if data.gender is None:
                fail("jenis_kelamin", f"'{gender[:20]}' bukan L/P")
        age = _text(cell("usia"))
        if age:
            if not re.fullmatch(r"\d{1,3}", age) or not 10 <= int(age) <= 120:
                fail("usia", f"'{age[:20]}' bukan usia 10–120 tahun")
            else:
                data.age = int(age)
        education = _text(cell("pendidikan"))
        if education:
            data.education = parse_education(education)
            if data.education is None:
                fail("pendidikan", f"'{education[:30]}' tidak dikenal (SD, SMP, SMA, DIII, S1, S2, S3, Tidak sekolah)")
        occupation = _text(cell("pekerjaan"))
        if occupation:
            data.occupation, data.occupation_other = parse_occupation(occupation)
        saran = _text(cell("saran"))
        data.suggestion = saran or None
        for code in codes:
            try:
                data.ratings[code] = _parse_rating(cell(code))
            except ValueError as exc:
                fail(code, str(exc))
        if not row_errors:
            for column, message in validate_response(unit, questionnaire, data):
                fail(column, message)
        errors.extend(row_errors)
        rows.append(data)
        service_names.append(service_name.lower() if service_name else None)
        raw_service_names.append(service_name)

    preview = ImportPreview(
        filename=filename,
        fingerprint=fingerprint(rows, service_names),
        rows=rows,
        errors=errors,
        element_codes=codes,
        ignored_columns=ignored,
        new_services=new_services,
        service_names=raw_service_names,
    )
    if preview.ok:
        names = [(e.code, e.name) for e in questionnaire.elements]
        preview.scores = score(tallies_from_ratings(names, [r.ratings for r in rows]), len(rows))
    return preview


def previous_import(session: Session, unit: Unit, fp: str) -> Optional[ImportBatch]:
    return session.scalar(select(ImportBatch).where(ImportBatch.unit_id == unit.id, ImportBatch.sha256 == fp))


def commit_import(session: Session, unit: Unit, preview: ImportPreview, channel: str = "import",
                  user_id: Optional[int] = None, allow_duplicate: bool = False) -> ImportBatch:
    """Store every row of a clean preview (flush only; the caller commits once)."""
    if not preview.ok:
        raise ImportRejected(preview.errors)
    if channel not in ("paper", "import", "online"):
        raise DomainError("Kanal impor harus paper, import atau online.")
    earlier = previous_import(session, unit, preview.fingerprint)
    if earlier is not None and not allow_duplicate:
        raise ImportRejected([
            f"Data yang sama sudah diimpor pada {earlier.created_at:%d-%m-%Y %H.%M} UTC "
            f"dari berkas {earlier.filename} ({earlier.row_count} baris)."
        ])
    for name in preview.new_services:
        service_by_name(session, unit, name, create=True)
    session.refresh(unit)
    batch = ImportBatch(unit_id=unit.id, filename=preview.filename[:300], sha256=preview.fingerprint,
                        row_count=len(preview.rows), channel=channel, created_by_id=user_id)
    session.add(batch)
    session.flush()
    questionnaire = unit.current_questionnaire
    for data, name in zip(preview.rows, preview.service_names):
        if name and data.service_id is None:
            data.service_id = service_by_name(session, unit, name).id
        record_response(session, unit, data, channel, questionnaire=questionnaire,
                        import_batch_id=batch.id, created_by_id=user_id)
    return batch
