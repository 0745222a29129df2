"""Rekapitulasi IKM: all units for a period, both installation figures against a recomputation."""
from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest

from skm.core.formatting import number_id
from skm.followup import actions
from skm.followup import plans as followup
from skm.reports.recap import LABEL_MEAN, LABEL_POOLED, installation_recap, recap_table, recap_xlsx
from skm.scoring.sample_size import krejcie_morgan
from skm.survey.period_admin import set_population
from tests.factories import login, make_period, make_response, make_unit, make_user

CODES = [f"U{i}" for i in range(1, 10)]
# Rows per unit; None = element not answered. Sizes differ so the two figures differ.
RATINGS = {
    "BESAR": [[4, 4, 3, 4, 3, 4, 4, 3, 3]] * 6 + [[3, 3, 3, 3, 3, 3, 3, 3, 3]] * 4,
    "KECIL": [[2, 2, 1, 2, 2, 2, 1, 2, 2], [2, 3, 2, 2, 2, 2, 2, 2, None]],
    "SEDANG": [[3, 4, 4, 4, 4, 4, 3, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4, 4], [3, 3, 3, 3, 3, 2, 3, 3, 3]],
}


def recompute_ikm(rows) -> Fraction:
    """From raw rows: NRR = sum ÷ answers per element (unanswered left out), weight 1/n, × 25."""
    nrr = []
    for i in range(len(CODES)):
        given = [r[i] for r in rows if r[i] is not None]
        if given:
            nrr.append(Fraction(sum(given), len(given)))
    return sum(nrr, Fraction(0)) / len(nrr) * 25


@pytest.fixture
def setup(app, db):
    admin = make_user(db.session, "admin", "admin")
    period = make_period(db.session, population=100)
    units = {}
    for code, rows in RATINGS.items():
        unit = make_unit(db.session, code, f"Dinas {code.title()}")
        units[code] = unit
        for i, row in enumerate(rows):
            make_response(db.session, unit, {c: r for c, r in zip(CODES, row) if r is not None},
                          day=dt.date(2023, 7, 3 + i))
    units["KOSONG"] = make_unit(db.session, "KOSONG", "Dinas Kosong")
    set_population(db.session, period, units["KECIL"], 10)
    # excluded responses count in neither figure
    bad = make_response(db.session, units["SEDANG"], [1] * 9, day=dt.date(2023, 7, 20))
    bad.excluded = True
    for a in bad.answers:
        a.excluded = True
    plan = followup.create_plan(db.session, units["BESAR"], period, admin)
    # scheduled inside the surveyed quarter on purpose (overdue at once): confirmed past the date warning
    done = actions.add_action(db.session, plan.priorities[0], admin, "Sudah", 2023, [3], "PJ", confirmed=True)
    actions.add_action(db.session, plan.priorities[1], admin, "Terlambat", 2023, [3], "PJ", confirmed=True)
    for p in plan.priorities[2:]:
        actions.add_action(db.session, p, admin, "Nanti", 2030, [4], "PJ")
    followup.finalize_plan(db.session, plan, admin)
    actions.record_realization(db.session, done, admin, status="sudah", realization="Selesai",
                               done_start="2023-09-01")
    db.session.commit()
    return period, units


def test_both_installation_figures_match_a_recomputation(db, setup):
    period, _units = setup
    recap = installation_recap(db.session, period, today=dt.date(2024, 1, 15))
    unit_ikms = [recompute_ikm(rows) for rows in RATINGS.values()]
    assert recap.mean_ikm == sum(unit_ikms, Fraction(0)) / 3  # the empty unit is not a zero
    assert recap.mean_units == 3
    pooled_rows = [row for rows in RATINGS.values() for row in rows]
    assert recap.pooled.ikm == recompute_ikm(pooled_rows)
    assert recap.pooled.respondents == len(pooled_rows)
    assert recap.mean_ikm != recap.pooled.ikm  # the two ways really differ here
    by_code = {r.code: r for r in recap.rows}
    for code, rows in RATINGS.items():
        assert by_code[code].ikm == recompute_ikm(rows)
        assert by_code[code].respondents == len(rows)
    table = recap_table(recap)
    assert table["mean"]["label"] == LABEL_MEAN and table["pooled"]["label"] == LABEL_POOLED
    assert table["mean"]["ikm"] == number_id(sum(unit_ikms, Fraction(0)) / 3)
    assert table["pooled"]["ikm"] == number_id(recompute_ikm(pooled_rows))


def test_sample_rtl_and_overdue_per_unit(db, setup):
    period, _units = setup
    rows = {r.code: r for r in installation_recap(db.session, period, today=dt.date(2024, 1, 15)).rows}
    assert rows["KECIL"].needed == krejcie_morgan(10) == 10 and rows["KECIL"].enough is False
    assert rows["BESAR"].needed == krejcie_morgan(100) and rows["BESAR"].enough is False
    assert (rows["BESAR"].rtl_done, rows["BESAR"].overdue) == (1, 1)
    from skm.followup.plans import plan_for

    plan = plan_for(db.session, rows["BESAR"].unit_id, period.id)
    assert rows["BESAR"].rtl_total == len(plan.actions) >= 3
    assert rows["BESAR"].rtl_share == Fraction(100, rows["BESAR"].rtl_total)
    assert not rows["KECIL"].has_plan and rows["KOSONG"].ikm is None
    assert recap_table(installation_recap(db.session, period))["rows"][0]["rtl"].startswith("1 dari ")


def test_sorting(db, setup):
    period, _units = setup
    order = [r.code for r in installation_recap(db.session, period, sort="ikm", descending=True).rows]
    expected = sorted(RATINGS, key=lambda c: recompute_ikm(RATINGS[c]), reverse=True) + ["KOSONG"]
    assert order == expected
    order = [r.code for r in installation_recap(db.session, period, sort="ikm").rows]
    assert order == expected[:3][::-1] + ["KOSONG"]  # no value goes last both ways
    assert [r.code for r in installation_recap(db.session, period, sort="responden").rows][0] == "KOSONG"
    assert [r.code for r in installation_recap(db.session, period, sort="x").rows] == \
        ["BESAR", "KECIL", "KOSONG", "SEDANG"]


def test_xlsx_has_number_cells_and_both_figures(db, setup):
    from openpyxl import load_workbook

    period, _units = setup
    recap = installation_recap(db.session, period)
    ws = load_workbook(io.BytesIO(recap_xlsx(recap))).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values[3]
    assert header[:3] == ["Kode", "Unit", "Responden"]
    body = {row[0]: row for row in values[4:8]}
    assert body["BESAR"][6] == float(recompute_ikm(RATINGS["BESAR"])) and body["BESAR"][2] == 10
    labels = {row[1]: row[6] for row in values if row and row[1] in (LABEL_MEAN, LABEL_POOLED)}
    assert labels[LABEL_MEAN] == float(recap.mean_ikm)
    assert labels[LABEL_POOLED] == float(recap.pooled.ikm)


def test_admin_pages_xlsx_and_pdf(app, db, setup, client, no_csrf):
    from pypdf import PdfReader

    period, _units = setup
    make_user(db.session, "manajer", "manager", [])
    db.session.commit()
    login(client, "manajer")
    assert client.get("/admin/rekap").status_code == 403
    client.post("/admin/logout")
    login(client, "admin")
    html = client.get(f"/admin/rekap?period={period.id}&sort=ikm&arah=turun").get_data(as_text=True)
    assert LABEL_MEAN in html and LABEL_POOLED in html
    assert html.index("Dinas Sedang") < html.index("Dinas Besar") < html.index("Dinas Kecil")
    recap = installation_recap(db.session, period)
    assert number_id(recap.mean_ikm) in html and number_id(recap.pooled.ikm) in html
    xlsx = client.get(f"/admin/rekap.xlsx?period={period.id}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = client.get(f"/admin/rekap.pdf?period={period.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Rekapitulasi IKM" in text and number_id(recap.pooled.ikm) in text and number_id(recap.mean_ikm) in text
    meta = PdfReader(io.BytesIO(pdf.data)).metadata  # issue 17: every PDF carries Title and Author
    assert meta.title == f"Rekapitulasi IKM {period.name}" and meta.author == "SKM Kiosk"
