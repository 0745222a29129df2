"""Ties at the cut-off of "the lowest N" are shown, never hidden: one rule
(skm.scoring.ikm.lowest_elements) behind the dashboard, the RTL pages and the printed report."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import pytest
from flask import url_for

from skm.core.formatting import ranked_text, tie_text
from skm.intake.importer import commit_import, preview_import
from skm.reports.render import build
from skm.scoring.ikm import ElementTally, distinguishing_places, highest_elements, lowest_elements, score
from skm.survey.periods import quarter
from tests.factories import login, make_period, make_response, make_unit, make_user
from tests.test_reports import flat, pdf_text

PUBLISHED = Path(__file__).parent / "data" / "triwulan_published.csv"
# The published quarter: U8 200/57 lowest, then U3, U5 and U9 all 204/57 for the last two places.
PUBLISHED_TIE = ("U8 Sarana dan prasarana (3,509); U3 Waktu penyelesaian, U5 Produk spesifikasi jenis pelayanan "
                 "dan U9 Penanganan pengaduan, saran dan masukan sama-sama bernilai 3,579 "
                 "(4 unsur karena nilai sama pada batas 3 terendah)")


def _scores(totals, count=57):
    return score([ElementTally(f"U{i}", f"Unsur {i}", count, t, position=i) for i, t in enumerate(totals, 1)], count)


def test_four_elements_tied_at_206_of_57_are_all_named():
    # U1, U2, U5, U7 all 206/57 (3,614…); U8 and U3 lower: the lowest three end inside the tie.
    s = _scores([206, 206, 204, 228, 206, 210, 206, 200, 210])
    lowest = lowest_elements(s.elements, 3)
    assert lowest.codes == ["U8", "U3", "U1", "U2", "U5", "U7"]
    assert [e.code for e in lowest.tied] == ["U1", "U2", "U5", "U7"]
    assert {e.nrr for e in lowest.tied} == {Fraction(206, 57)}
    assert tie_text(lowest) == "U1, U2, U5 dan U7 sama-sama bernilai 3,614"
    assert ranked_text(lowest, names=False) == (
        "U8 (3,509); U3 (3,579); U1, U2, U5 dan U7 sama-sama bernilai 3,614 "
        "(6 unsur karena nilai sama pada batas 3 terendah)")


def test_no_tie_at_the_cut_off_keeps_n_and_the_default_precision():
    s = _scores([207, 205, 204, 228, 204, 206, 207, 200, 204])
    one = lowest_elements(s.elements, 1)
    assert one.codes == ["U8"] and not one.tied and one.places == 2
    assert ranked_text(one) == "U8 Unsur 8 (3,51)"
    # Four fit exactly: the equal ones are grouped, with no note about the cut-off.
    four = lowest_elements(s.elements, 4)
    assert four.codes == ["U8", "U3", "U5", "U9"] and not four.tied
    assert ranked_text(four, names=False) == "U8 (3,51); U3, U5 dan U9 sama-sama bernilai 3,58"
    assert lowest_elements(s.elements, 0).codes == [] and ranked_text(lowest_elements([], 3)) == "–"


def test_highest_ties_are_named_too():
    s = _scores([228, 205, 204, 228, 204, 206, 207, 200, 204])
    top = highest_elements(s.elements, 1)
    assert top.codes == ["U1", "U4"] and ranked_text(top, names=False) == (
        "U1 dan U4 sama-sama bernilai 4,000 (2 unsur karena nilai sama pada batas 1 tertinggi)")


def test_precision_separates_values_that_differ():
    # 3,5804 and 3,5796 both show 3,580 at three decimals: four are needed.
    assert distinguishing_places([Fraction("3.5804"), Fraction("3.5796")], 3) == 4
    assert distinguishing_places([Fraction(204, 57), Fraction(205, 57)], 2) == 2
    s = score([ElementTally("U1", "a", 10000, 35804, position=1), ElementTally("U2", "b", 10000, 35796, position=2),
               ElementTally("U3", "c", 10000, 35796, position=3), ElementTally("U4", "d", 1, 1, position=4)], 10000)
    lowest = lowest_elements(s.elements, 2)
    # U2 and U3 tie at the cut-off; U1 (left out) must not display like them.
    assert lowest.codes == ["U4", "U2", "U3"] and lowest.places == 4
    assert tie_text(lowest) == "U2 dan U3 sama-sama bernilai 3,5796"


@pytest.fixture
def published(db, no_csrf):
    s = db.session
    unit = make_unit(s, "DPM", "Dinas Penanaman Modal", services=("Izin Usaha", "Cetak KTP"))
    preview = preview_import(s, unit, PUBLISHED.name, PUBLISHED.read_bytes())
    commit_import(s, unit, preview, channel="paper")
    # A second unit whose two lowest elements tie, for the one-lowest column of the comparison.
    other = make_unit(s, "KEL", "Kelurahan Sukamaju")
    make_response(s, other, [4, 4, 4, 4, 3, 4, 3, 4, 4], day=dt.date(2023, 8, 2))
    period = make_period(s, quarter(2023, 3), population=100)
    make_user(s, "admin", "admin")
    s.commit()
    return unit, other, period


def _page(app, client, endpoint, **args):
    with app.test_request_context():
        url = url_for(endpoint, **args)
    response = client.get(url)
    assert response.status_code == 200
    return flat(response.get_data(as_text=True))


def test_dashboard_names_the_published_tie(app, client, published):
    unit, _, period = published
    login(client)
    page = _page(app, client, "admin.results", unit_id=unit.id, period=period.id)
    assert f"Unsur terendah: {PUBLISHED_TIE}." in page


def test_comparison_names_a_tie_for_the_lowest(app, client, published):
    unit, _, period = published
    login(client)
    page = _page(app, client, "admin.results_compare", unit_id=unit.id, period=period.id)
    assert "U5 dan U7 sama-sama bernilai 3,000 (2 unsur karena nilai sama pada batas 1 terendah)" in page
    assert "U8 (3,51)" in page


def test_rtl_pages_propose_and_name_the_published_tie(app, client, published):
    unit, _, period = published
    login(client)
    overview = _page(app, client, "admin.followup_unit", unit_id=unit.id)
    assert ("U8 (3,509); U3, U5 dan U9 sama-sama bernilai 3,579 (4 unsur karena nilai sama pada batas 3 terendah)"
            in overview)
    new = _page(app, client, "admin.followup_new", unit_id=unit.id, period_id=period.id)
    for code in ("U8", "U3", "U5", "U9"):
        assert f'value="{code}" id="code-{code}" checked' in new
    assert 'value="U2" id="code-U2" >' in new
    assert "nilai sama di batas: U3, U5 dan U9 sama-sama bernilai 3,579, semuanya diusulkan" in new


def test_results_report_names_the_published_tie(app, db, published):
    unit, _, period = published
    with app.test_request_context():
        text = flat(pdf_text(build("laporan", db.session, unit, period, today=dt.date(2023, 10, 5))))
    assert ("Unsur dengan nilai terendah: U8 Sarana dan prasarana (3,509, Baik); U3 Waktu penyelesaian, "
            "U5 Produk spesifikasi jenis pelayanan dan U9 Penanganan pengaduan, saran dan masukan sama-sama "
            "bernilai 3,579 (Sangat Baik) (4 unsur karena nilai sama pada batas 3 terendah).") in text
    assert ("Perbaikan diprioritaskan pada unsur Sarana dan prasarana, Waktu penyelesaian, Produk spesifikasi "
            "jenis pelayanan dan Penanganan pengaduan, saran dan masukan.") in text
