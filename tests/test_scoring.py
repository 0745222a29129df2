from decimal import Decimal
from fractions import Fraction

import pytest

from skm.core.formatting import number_id
from skm.scoring.ikm import (
    ElementTally,
    elements_by_kinerja,
    grade_for_ikm,
    grade_for_nrr,
    lowest_elements,
    round_half_up,
    score,
    tallies_from_ratings,
)

CODES = [(f"U{i}", f"Unsur {i}") for i in range(1, 10)]


@pytest.mark.parametrize("nrr, grade", [
    ("3.5324", "A"), ("3.5323", "B"), ("3.0644", "B"), ("3.0643", "C"),
    ("2.60", "C"), ("2.5999", "D"), ("3.56", "A"), ("3.53", "B"),
    ("3.281", "B"), ("3.365", "B"), ("4", "A"), ("1", "D"),
    # judged at 4 decimals: 3.53235 shows as 3,5324
    ("3.53235", "A"), ("3.53234", "B"),
])
def test_nrr_grade_lower_bounds(nrr, grade):
    assert grade_for_nrr(Fraction(nrr)) == grade


@pytest.mark.parametrize("ikm, grade", [
    ("88.31", "A"), ("88.30", "B"), ("88.305", "A"), ("76.61", "B"), ("76.60", "C"),
    ("76.605", "B"), ("65.00", "C"), ("64.99", "D"), ("64.995", "C"), ("100", "A"), ("25", "D"),
])
def test_ikm_grade_lower_bounds(ikm, grade):
    assert grade_for_ikm(Fraction(ikm)) == grade


def test_ikm_88_305_is_shown_88_31_and_graded_a():
    value = Fraction("88.305")
    assert number_id(value) == "88,31"
    assert grade_for_ikm(value) == "A"


def test_round_half_up_is_not_bankers():
    assert round_half_up(Fraction("0.125"), 2) == Decimal("0.13")
    assert round_half_up(Fraction("2.675"), 2) == Decimal("2.68")  # float would give 2.67
    assert round_half_up(2.675, 2) == Decimal("2.68")
    assert round_half_up(Fraction(-5, 2), 0) == Decimal("-3")


@pytest.mark.parametrize("rating, shown, grade", [(4, "100,00", "A"), (1, "25,00", "D")])
def test_uniform_answers_give_the_scale_ends(rating, shown, grade):
    rows = [{code: rating for code, _ in CODES} for _ in range(7)]
    result = score(tallies_from_ratings(CODES, rows), 7)
    assert result.ikm == (100 if rating == 4 else 25)
    assert number_id(result.ikm) == shown
    assert result.grade == grade


def _weighted_0111(result):
    return sum(Fraction(e.total, e.count) * Fraction("0.111") for e in result.elements) * 25


def test_exact_weights_differ_from_rounded_weight():
    # Six respondents: the exact index is 90,74, while 0,111 weights give 90,65.
    pattern = [
        [4, 4, 3, 4, 4, 3, 4, 3, 3],
        [4, 3, 4, 4, 3, 4, 4, 4, 3],
        [3, 4, 4, 4, 4, 4, 3, 3, 4],
        [4, 4, 3, 4, 4, 3, 4, 3, 3],
        [3, 3, 4, 4, 4, 4, 4, 4, 3],
        [4, 4, 4, 4, 3, 3, 4, 3, 4],
    ]
    rows = [dict(zip([c for c, _ in CODES], r)) for r in pattern]
    result = score(tallies_from_ratings(CODES, rows), len(rows))
    total = sum(sum(r) for r in pattern)
    assert result.ikm == Fraction(total, 6 * 9) * 25
    assert number_id(result.ikm) != number_id(_weighted_0111(result))
    assert number_id(result.ikm) == number_id(Fraction(total * 25, 54))


def test_exact_weight_reproduces_published_quarter():
    # 57 respondents as in the spec's published quarter: exact 90,89, rounded weight 90,80.
    assert number_id(Fraction(1865 * 25, 57 * 9)) == "90,89"
    totals = [207, 205, 204, 228, 204, 206, 207, 200, 204]
    tallies = [ElementTally(f"U{i}", f"Unsur {i}", 57, t) for i, t in enumerate(totals, 1)]
    result = score(tallies, 57)
    assert number_id(result.ikm) == number_id(Fraction(sum(totals) * 25, 57 * 9))
    rounded = sum(Fraction(t, 57) * Fraction("0.111") for t in totals) * 25
    assert number_id(rounded) != number_id(result.ikm)


def test_unanswered_element_is_excluded_from_its_nrr_only():
    rows = [
        {"U1": 4, "U2": 2},
        {"U1": 2, "U2": None},
        {"U1": 3, "U2": 4},
    ]
    result = score(tallies_from_ratings([("U1", "a"), ("U2", "b")], rows), 3)
    by_code = {e.code: e for e in result.elements}
    assert by_code["U1"].nrr == 3 and by_code["U1"].count == 3
    assert by_code["U2"].nrr == 3 and by_code["U2"].count == 2
    assert result.ikm == 75


def test_no_responses_is_no_data_not_an_error():
    result = score([], 0)
    assert not result.has_data and result.ikm is None and result.grade is None


def test_element_never_rated_is_left_out_of_the_weights():
    tallies = [ElementTally("U1", "a", 2, 8), ElementTally("U2", "b", 0, 0)]
    result = score(tallies, 2)
    assert [e.code for e in result.elements] == ["U1"]
    assert result.ikm == 100


def test_lowest_and_grouping_break_ties_by_order():
    tallies = [ElementTally(f"U{i}", f"E{i}", 10, t, position=i) for i, t in
               enumerate([35, 30, 30, 40, 25], 1)]
    result = score(tallies, 10)
    assert [e.code for e in lowest_elements(result.elements, 3)] == ["U5", "U2", "U3"]
    groups = elements_by_kinerja(result.elements)
    assert [e.code for e in groups["Sangat Baik"]] == ["U4"]
    assert [e.code for e in groups["Tidak Baik"]] == ["U5"]
    assert list(groups) == ["Sangat Baik", "Baik", "Kurang Baik", "Tidak Baik"]
