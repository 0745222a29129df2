import datetime as dt

import pytest

from skm.scoring.sample_size import krejcie_morgan, sample_status
from skm.survey.periods import custom, following, full_year, quarter, semester


@pytest.mark.parametrize("population, needed", [
    (10, 10), (50, 44), (100, 80), (200, 132), (500, 217), (1000, 278),
    (5000, 357), (10000, 370), (75000, 382), (1000000, 384),
])
def test_krejcie_morgan_table_rows(population, needed):
    assert krejcie_morgan(population) == needed


def test_sample_status_says_how_many_are_missing():
    status = sample_status(500, 200)
    assert status["needed"] == 217 and not status["enough"] and status["short_by"] == 17
    assert sample_status(None, 10) is None


def test_quarters_semesters_years():
    q1 = quarter(2024, 1)
    assert (q1.name, q1.start, q1.end) == ("Triwulan I 2024", dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert quarter(2023, 4).end == dt.date(2023, 12, 31)
    assert semester(2024, 2).start == dt.date(2024, 7, 1)
    assert full_year(2024).end == dt.date(2024, 12, 31)
    assert following("triwulan", dt.date(2023, 10, 1)).name == "Triwulan I 2024"
    assert custom(dt.date(2023, 10, 1), dt.date(2023, 11, 17)).name == "1 Oktober s.d. 17 November 2023"
    with pytest.raises(ValueError):
        quarter(2024, 5)
