"""The report date and signatories: chosen when printing, remembered per unit and period,
the same on cover and signature; never silently the printing day."""
from __future__ import annotations

import datetime as dt
import re

from skm.models import ReportSetting
from skm.reports.render import build
from skm.reports.settings import report_choice, save_report_choice
from tests.factories import make_user
from tests.test_reports import flat, known, pdf_text  # noqa: F401  (fixture)
from tests.test_reports_followup import plan  # noqa: F401  (fixture)
from tests.test_reports_web import _csrf, as_user


def _cover_and_rest(data: bytes) -> tuple[str, str]:
    import io

    from pypdf import PdfReader

    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]
    return pages[0], " ".join(pages[1:])


def test_default_date_is_after_the_period_not_the_printing_day(app, db, known):  # noqa: F811
    unit, period, _ = known  # Triwulan III 2023, printed "today" (2026)
    with app.test_request_context():
        data = build("laporan", db.session, unit, period)
    cover, rest = _cover_and_rest(data)
    assert "Bandung, 7 Oktober 2023" in cover
    assert "Bandung, 7 Oktober 2023" in rest  # the signature
    assert "2026" not in cover + rest


def test_remembered_date_and_signatories_on_cover_and_signature(app, db, known):  # noqa: F811
    unit, period, _ = known
    save_report_choice(db.session, unit, period, "2023-10-20", head_name="Ir. Budi Santoso",
                       head_position="Plt. Kepala Dinas", head_rank="Pembina", head_nip="196805051990031002",
                       officer_name="Nopianti, S.AP", officer_nip="198111092006042008")
    db.session.commit()
    with app.test_request_context():
        data = build("laporan", db.session, unit, period)
    cover, rest = _cover_and_rest(data)
    assert "Bandung, 20 Oktober 2023" in cover and "Bandung, 20 Oktober 2023" in rest
    for text in ("Plt. Kepala Dinas", "Ir. Budi Santoso", "NIP. 196805051990031002", "Petugas survei",
                 "Nopianti, S.AP", "NIP. 198111092006042008"):
        assert text in rest, text
    assert "Siti Aminah" not in rest  # the unit's default head is replaced for this period only
    other = report_choice(db.session, unit, known[2])
    assert other.head_name == "Dra. Siti Aminah, M.Si" and not other.remembered


def test_bad_choice_changes_nothing(app, db, known):  # noqa: F811
    import pytest

    from skm.core.errors import DomainError

    unit, period, _ = known
    for date, nip, message in (("31-12-2023", "", "format TTTT-BB-HH"), ("2023-06-30", "", "sebelum awal periode"),
                               ("2023-10-20", "19680505abc", "NIP hanya berisi angka")):
        with pytest.raises(DomainError, match=message):
            save_report_choice(db.session, unit, period, date, head_nip=nip)
        db.session.rollback()
    assert db.session.query(ReportSetting).count() == 0


def test_followup_cover_year_is_the_periods_and_date_shared(app, db, plan):  # noqa: F811
    unit, period, p = plan
    save_report_choice(db.session, unit, period, "2024-05-02", officer_name="Petugas Satu")
    db.session.commit()
    with app.test_request_context():
        data = build("tindak-lanjut", db.session, unit, period, plan=p)
    cover, rest = _cover_and_rest(data)
    assert "Tahun 2023" in cover and "Bandung, 2 Mei 2024" in cover
    assert "Bandung, 2 Mei 2024" in rest and "Petugas Satu" in rest


def test_laporan_page_form_remembers_and_refuses(app, db, known):  # noqa: F811
    unit, period, _ = known
    make_user(db.session, "manajer", "manager", [unit])
    db.session.commit()
    client = as_user(app, "manajer")
    url = f"/admin/units/{unit.id}/laporan?period_id={period.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2023-10-07"' in page and 'value="Dra. Siti Aminah, M.Si"' in page
    form = {"csrf_token": _csrf(page), "period_id": period.id, "report_date": "2023-06-01",
            "head_name": "Ir. Budi", "officer_name": "Nopianti"}
    r = client.post(f"/admin/units/{unit.id}/laporan/tanggal", data=form)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "tidak boleh sebelum awal periode" in text
    assert 'value="Ir. Budi"' in text  # what was typed stays in the form
    assert db.session.query(ReportSetting).count() == 0
    form["report_date"] = "2023-10-16"
    r = client.post(f"/admin/units/{unit.id}/laporan/tanggal", data=form)
    assert r.status_code == 302
    db.session.expire_all()
    choice = report_choice(db.session, unit, period)
    assert (choice.report_date, choice.head_name, choice.officer_name) == (dt.date(2023, 10, 16), "Ir. Budi",
                                                                          "Nopianti")
    r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=laporan&period_id={period.id}")
    assert "16 Oktober 2023" in flat(pdf_text(r.data))


def test_cli_date_is_remembered_and_plan_found_without_id(app, db, plan, runner, tmp_path):  # noqa: F811
    unit, period, p = plan
    out = tmp_path / "rtl.pdf"
    res = runner.invoke(args=["skm", "report", "tindak-lanjut", "--unit", unit.code, "--date", "2024-01-15",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "15 Januari 2024" in flat(pdf_text(out.read_bytes()))
    out2 = tmp_path / "laporan.pdf"
    res = runner.invoke(args=["skm", "report", "laporan", "--unit", unit.code, "--period", period.name,
                              "-o", str(out2)])
    assert res.exit_code == 0, res.output
    assert re.search(r"Bandung, 15 Januari 2024", flat(pdf_text(out2.read_bytes())))
    res = runner.invoke(args=["skm", "report", "laporan", "--unit", unit.code, "--date", "kemarin",
                              "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code != 0 and "format TTTT-BB-HH" in res.output
    assert not (tmp_path / "x.pdf").exists()
