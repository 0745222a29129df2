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

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import Answer, ImportBatch, Period, PeriodUnit, Response, Unit, utcnow
from .profile import TIME_SLOTS, parse_education, parse_gender, parse_occupation, time_slot_for
from .responses import ResponseData, validate_response
from .scoring import Scores, score, tallies_from_ratings
from .units import DomainError, service_by_name

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
PROFILE_COLUMNS = ("tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "saran")
# Optional status columns that skm.exports writes, so an export re-imports without loss.
STATUS_COLUMNS = ("dikecualikan", "ditandai", "alasan_tanda")
REQUIRED_COLUMNS = ("tanggal",)
# CSV cells starting with one of these are neutralised on export with a leading apostrophe
# (formula injection); the importer strips that apostrophe again (see unescape_csv_cell).
CSV_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "'")
MONTHS_ID = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8,
    "agu": 8, "agt": 8, "ags": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "okt": 10, "oct": 10, "november": 11, "nov": 11, "nopember": 11, "desember": 12, "des": 12,
    "dec": 12, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10, "december": 12,
    "january": 1, "february": 2, "march": 3,
}
TRUE_WORDS = {"ya", "y", "1", "true", "benar", "x"}
FALSE_WORDS = {"", "tidak", "t", "0", "false", "salah", "-"}


class Formula(str):
    """The text of a real spreadsheet formula cell (XLSX), as opposed to plain text."""


def escape_csv_cell(value: str) -> str:
    """Neutralise a text cell against formula injection: a leading apostrophe."""
    if value and value.startswith(CSV_RISKY_START):
        return "'" + value
    return value


def unescape_csv_cell(value: str) -> str:
    """Undo escape_csv_cell: an apostrophe followed by a risky character is dropped."""
    if len(value) >= 2 and value[0] == "'" and value[1] in CSV_RISKY_START:
        return value[1:]
    return value


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
    # The header line decides the separator (saran text full of commas or semicolons
    # can fool csv.Sniffer); the sniffer is only the fallback for a header without one.
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    if counts[best]:
        class dialect(csv.excel):
            delimiter = best
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    try:
        return [[unescape_csv_cell(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error:
        # e.g. a quote that is never closed swallows the rest of the file into one huge cell
        raise ImportRejected(["Berkas CSV rusak: periksa tanda kutip (\") yang tidak ditutup."]) from None


def _read_xlsx(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:
        raise ImportRejected(["Berkas XLSX rusak atau bukan berkas Excel."]) from None
    sheet = workbook.worksheets[0]
    rows = []
    try:
        for i, row in enumerate(sheet.iter_rows()):
            if i > MAX_ROWS + 1:
                raise ImportRejected([f"Berkas terlalu besar: paling banyak {MAX_ROWS:,} baris.".replace(",", ".")])
            # A real formula cell is marked so it can be refused even in the saran column,
            # while text that merely starts with "=" stays text.
            rows.append([Formula(c.value) if getattr(c, "data_type", None) == "f" and isinstance(c.value, str)
                         else c.value for c in row])
    except ImportRejected:
        raise
    except Exception:
        raise ImportRejected(["Berkas XLSX rusak atau bukan berkas Excel."]) from None
    finally:
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


DATE_HELP = "format tanggal tidak dikenal (pakai YYYY-MM-DD, DD/MM/YYYY atau 4 Juni 2025)"


def parse_date(value) -> dt.date:
    """A survey date from a cell: a date, ISO, day-first numeric or '4 Juni 2025'.

    Two-digit years and month-first dates are refused rather than guessed."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("tanggal berupa angka; format sel sebagai tanggal atau tulis YYYY-MM-DD")
    text = _text(value)
    if not text:
        raise ValueError("tanggal wajib diisi")
    # A datetime written as text: keep the date part.
    text = re.sub(r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?$", r"\1", text)
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    match = re.fullmatch(r"(\d{1,2})[\s-]+([A-Za-z]+)\.?[\s-]+(\d{4})", text)
    if match and match[2].lower() in MONTHS_ID:
        try:
            return dt.date(int(match[3]), MONTHS_ID[match[2].lower()], int(match[1]))
        except ValueError:
            raise ValueError(f"tanggal '{text[:30]}' tidak ada di kalender") from None
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}", text):
        raise ValueError("tahun harus ditulis empat angka (mis. 04/06/2025)")
    if re.fullmatch(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}", text):
        raise ValueError(f"tanggal '{text[:30]}' tidak valid (pakai YYYY-MM-DD atau DD/MM/YYYY)")
    raise ValueError(DATE_HELP)


_parse_date = parse_date  # the name the foundation used


def _parse_flag(value) -> bool:
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"'{text[:20]}' bukan ya/tidak")


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


def _is_formula(value, column: str = "") -> bool:
    """A real XLSX formula anywhere, or text starting with '=' outside saran (CSV)."""
    if isinstance(value, Formula):
        return True
    return column != "saran" and isinstance(value, str) and value.startswith("=")


def fingerprint(rows: list[ResponseData], service_names: list[Optional[str]]) -> str:
    """Identifies the data, whatever the file format or its name."""
    payload = [
        [r.survey_date.isoformat(), r.survey_time.isoformat() if r.survey_time else None, r.time_slot,
         s, r.gender, r.age, r.education, r.occupation, r.occupation_other, r.suggestion,
         sorted(r.ratings.items())]
        # Status flags only when set, so files without them keep their old fingerprint.
        + ([{k: v for k, v in sorted(r.extra.items()) if k in ("excluded", "flagged", "flag_reason") and v}]
           if any(r.extra.get(k) for k in ("excluded", "flagged", "flag_reason")) else [])
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
            + " Unduh templat XLSX untuk judul kolom yang benar."
        ])
    ignored = [h for h in header if h and h not in PROFILE_COLUMNS + STATUS_COLUMNS and h.upper() not in codes]
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
            if _is_formula(cell(column), column):
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
        for column, key in (("dikecualikan", "excluded"), ("ditandai", "flagged")):
            if column in index:
                try:
                    if _parse_flag(cell(column)):
                        data.extra[key] = True
                except ValueError as exc:
                    fail(column, str(exc))
        reason = _text(cell("alasan_tanda"))
        if reason:
            if len(reason) > 200:
                fail("alasan_tanda", "alasan terlalu panjang (maksimal 200 karakter)")
            else:
                data.extra["flag_reason"] = reason
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
        counted = [r for r in rows if not r.extra.get("excluded")]  # as the results will count them
        preview.scores = score(tallies_from_ratings(names, [r.ratings for r in counted]), len(counted))
    return preview


def previous_import(session: Session, unit: Unit, fp: str) -> Optional[ImportBatch]:
    return session.scalar(select(ImportBatch).where(ImportBatch.unit_id == unit.id, ImportBatch.sha256 == fp))


def _insert_rows(session: Session, unit: Unit, questionnaire, rows: list[ResponseData], channel: str,
                 batch_id: int, user_id: Optional[int]) -> None:
    """Bulk version of responses.record_response for rows the preview already validated
    (validate_response ran on every row): the same columns, written with multi-row INSERTs
    so a large file holds the database's write lock for seconds, not minutes."""
    by_code = {e.code: e.id for e in questionnaire.elements}
    now = utcnow()
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        heads = [
            {
                "unit_id": unit.id, "service_id": d.service_id, "questionnaire_id": questionnaire.id,
                "channel": channel, "submitted_at": now, "survey_date": d.survey_date,
                "survey_time": d.survey_time, "time_slot": d.time_slot, "gender": d.gender, "age": d.age,
                "education": d.education, "occupation": d.occupation,
                "occupation_other": (d.occupation_other or None) if d.occupation == "LAINNYA" else None,
                "suggestion": (d.suggestion or "").strip() or None,
                "import_batch_id": batch_id, "created_by_id": user_id,
                "excluded": bool(d.extra.get("excluded")), "flagged": bool(d.extra.get("flagged")),
                "flag_reason": d.extra.get("flag_reason") or None,
            }
            for d in chunk
        ]
        ids = session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True), heads
        ).all()
        answers = [
            {"response_id": rid, "element_id": by_code[code], "rating": rating, "unit_id": unit.id,
             "service_id": d.service_id, "survey_date": d.survey_date, "excluded": bool(d.extra.get("excluded"))}
            for rid, d in zip(ids, chunk)
            for code, rating in d.ratings.items()
            if rating is not None
        ]
        if answers:
            session.execute(insert(Answer), answers)


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
    _insert_rows(session, unit, questionnaire, preview.rows, channel, batch.id, user_id)
    return batch
