"""Import per-respondent sheets (CSV or XLSX): validate every row, then store all or nothing."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today, utcnow
from skm.core.errors import DomainError
from skm.core.formatting import unit_datetime_id
from skm.intake.tables import (
    MAX_ROWS,
    PROFILE_COLUMNS,
    REQUIRED_COLUMNS,
    STATUS_COLUMNS,
    ImportRejected,
    _is_formula,
    _parse_date,
    _parse_flag,
    _parse_time,
    _text,
    read_table,
)
from skm.models import Answer, ImportBatch, Period, Response, Unit
from skm.scoring.ikm import Scores, score, tallies_from_ratings
from skm.scoring.rollup import apply_response_delta
from skm.survey import fields
from skm.survey.fields import FieldError
from skm.survey.period_admin import closed_period_for
from skm.survey.reporting import DateSpan, periods_of_dates
from skm.survey.responses import ResponseData, validate_response
from skm.survey.units import service_by_name

_ATTRIBUTE = {"jenis_kelamin": "gender", "usia": "age", "pendidikan": "education"}


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
    span: Optional[DateSpan] = None  # the rows' date range and the period(s) they fall into

    @property
    def ok(self) -> bool:
        return not self.errors


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
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
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
    today = unit_today(unit)  # "in the future" is judged by the unit's date, as in paper entry
    for n, raw in enumerate(table[1:], start=2):
        def cell(column):
            i = index.get(column)
            return raw[i] if i is not None and i < len(raw) else None  # noqa: B023  (called within this iteration only)

        row_errors: list[str] = []

        def fail(column, message):
            row_errors.append(f"baris {n}, kolom {column}: {message}")  # noqa: B023

        for column in list(index):
            if _is_formula(cell(column), column):
                fail(column, "berisi rumus; isi dengan nilainya")
        if row_errors:
            errors.extend(row_errors)
            continue
        data = ResponseData(survey_date=dt.date(2000, 1, 1), ratings={})
        try:
            data.survey_date = _parse_date(cell("tanggal"))
            if data.survey_date > today:
                fail("tanggal", "tanggal di masa depan")
            elif data.survey_date.year < 2000:
                fail("tanggal", "tanggal terlalu lama")
            else:
                if data.survey_date not in closed_seen:
                    closed_seen[data.survey_date] = closed_period_for(session, unit.id, data.survey_date)
                closed = closed_seen[data.survey_date]
                if closed is not None:
                    fail("tanggal", f"periode {closed.name} sudah ditutup untuk unit ini; data tidak dapat ditambahkan")
        except ValueError as exc:
            fail("tanggal", str(exc))
        try:
            data.survey_time, data.time_slot = _parse_time(cell("jam"))
        except ValueError as exc:
            fail("jam", str(exc))
        raw_service = _text(cell("layanan")) or None
        service_name = fields.clean_line(raw_service) or None
        try:
            data.service_id = fields.clean_service(unit, service_name, active_only=False)
        except FieldError as exc:
            if not create_services:
                fail("layanan", exc.message)
            elif service_name and service_name.lower() not in {s.lower() for s in new_services}:
                new_services.append(service_name)
        for column, validator in (("jenis_kelamin", fields.clean_gender), ("usia", fields.clean_age),
                                  ("pendidikan", fields.clean_education)):
            try:
                setattr(data, _ATTRIBUTE[column], validator(cell(column)))
            except FieldError as exc:
                fail(column, exc.message)
        try:
            data.occupation, data.occupation_other = fields.clean_occupation(_text(cell("pekerjaan")))
        except FieldError as exc:
            fail("pekerjaan", exc.message)
        try:
            data.suggestion = fields.clean_suggestion(_text(cell("saran")))
        except FieldError as exc:
            fail("saran", exc.message)
        for column, key in (("dikecualikan", "excluded"), ("ditandai", "flagged")):
            if column in index:
                try:
                    if _parse_flag(cell(column)):
                        data.extra[key] = True
                except ValueError as exc:
                    fail(column, str(exc))
        reason = fields.clean_line(_text(cell("alasan_tanda")))
        if reason:
            if len(reason) > 200:
                fail("alasan_tanda", "alasan terlalu panjang (maksimal 200 karakter)")
            else:
                data.extra["flag_reason"] = reason
        for code in codes:
            try:
                data.ratings[code] = fields.clean_rating(code, cell(code))
            except FieldError as exc:
                fail(code, exc.message)
        if not row_errors:
            for column, message in validate_response(unit, questionnaire, data):
                fail(column, message)
        errors.extend(row_errors)
        rows.append(data)
        service_names.append(raw_service.lower() if raw_service else None)  # as fingerprinted before
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
        preview.span = periods_of_dates(session, [r.survey_date for r in rows])
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
                "suggestion": d.suggestion,
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
            f"Data yang sama sudah diimpor pada {unit_datetime_id(unit, earlier.created_at)} "
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
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    for data, service_name in zip(preview.rows, preview.service_names):
        if service_name and data.service_id is None:
            service = service_by_name(session, unit, service_name)
            assert service is not None, "new services were created above"
            data.service_id = service.id
    _insert_rows(session, unit, questionnaire, preview.rows, channel, batch.id, user_id)
    # Bulk INSERTs bypass the session's rollup listeners: add the batch by hand.
    apply_response_delta(session, Response.import_batch_id == batch.id, 1)
    return batch


def import_previewed(session: Session, unit: Unit, filename: str, content: bytes, create_services: bool,
                     fingerprint: str, channel: str, user_id: Optional[int]) -> ImportBatch:
    """Store a file the user previewed (flush only; the caller commits once): the same checks
    again, refused when the data changed since the preview (`fingerprint`). The web import's
    "Simpan" and the queue worker's import job (skm.reports.jobs) both come here."""
    preview = preview_import(session, unit, filename, content, create_services=create_services)
    if not preview.ok:
        raise ImportRejected(preview.errors)
    if preview.fingerprint != fingerprint:
        raise ImportRejected(["Data berubah sejak pratinjau (mis. periode ditutup). Unggah berkasnya lagi."])
    return commit_import(session, unit, preview, channel=channel, user_id=user_id)
