"""The SQL aggregation equals a recomputation over the stored rows."""
import datetime as dt
import random
from fractions import Fraction

from sqlalchemy import select

from skm.models import Response
from skm.scoring.ikm import grade_for_ikm
from skm.scoring.results import Scope, compute_results, data_sheet_rows
from skm.survey.responses import set_excluded
from skm.survey.units import new_questionnaire_version
from tests.factories import make_response, make_unit


def test_sql_results_equal_a_recomputation(db):
    unit = make_unit(db.session)
    rng = random.Random(7)
    service_a, service_b = unit.services
    stored = []
    for i in range(60):
        ratings = [rng.choice([None, 1, 2, 3, 4, 4, 3]) for _ in range(9)]
        if all(r is None for r in ratings):
            ratings[0] = 3
        service = service_a if i % 3 else service_b
        make_response(db.session, unit, ratings, day=dt.date(2023, 7, 1) + dt.timedelta(days=i),
                      service=service, gender=rng.choice(["L", "P", None]), age=rng.randint(17, 70))
        stored.append((service, ratings))
    # one outside the period, which must not count
    make_response(db.session, unit, [1] * 9, day=dt.date(2023, 10, 1))
    db.session.commit()
    scope = Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30))
    results = compute_results(db.session, scope, unit)
    assert results.respondents == 60
    nrrs = []
    for i in range(9):
        values = [r[i] for _, r in stored if r[i] is not None]
        nrrs.append(Fraction(sum(values), len(values)))
    expected = sum(nrrs) / 9 * 25
    assert results.scores.ikm == expected
    assert [e.nrr for e in results.scores.elements] == nrrs
    assert results.scores.grade == grade_for_ikm(expected)
    gender = dict((c, n) for c, n, _ in results.profile["gender"].rows)
    assert gender["Laki-laki"] + gender["Perempuan"] + gender.get("Tidak diisi", 0) == 60
    assert sum(p for _, _, p in results.profile["age"].rows) == 100

    only_b = compute_results(db.session, Scope(unit.id, scope.start, scope.end, service_b.id), unit)
    assert only_b.respondents == sum(1 for s, _ in stored if s is service_b)

    sheet = list(data_sheet_rows(db.session, scope))
    assert len(sheet) == 60 and sheet[0].number == 1
    assert [sheet[0].ratings.get(f"U{i}") for i in range(1, 10)] == stored[0][1]
    page2 = list(data_sheet_rows(db.session, scope, offset=50, limit=20))
    assert [r.number for r in page2] == list(range(51, 61))


def test_excluded_responses_do_not_count_but_stay(db):
    unit = make_unit(db.session)
    make_response(db.session, unit, [4] * 9)
    bad = make_response(db.session, unit, [1] * 9)
    db.session.commit()
    scope = Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30))
    assert compute_results(db.session, scope, unit).scores.ikm == Fraction(125, 2)
    set_excluded(db.session, [bad.id], True)
    db.session.commit()
    results = compute_results(db.session, scope, unit)
    assert results.scores.ikm == 100 and results.respondents == 1 and results.excluded_count == 1
    assert db.session.get(Response, bad.id) is not None


def test_versions_keep_history_and_merge_by_code(db):
    unit = make_unit(db.session)
    make_response(db.session, unit, [4] * 9)
    old = unit.current_questionnaire
    edited = [{"code": e.code, "name": e.name, "question": e.question + " (baru)", "labels": e.labels}
              for e in old.elements][:8]
    edited[3]["name"] = "Kemudahan dalam penggunaan aplikasi"
    new_questionnaire_version(db.session, unit, edited)
    make_response(db.session, unit, [2] * 8)
    db.session.commit()
    results = compute_results(db.session, Scope(unit.id, dt.date(2023, 1, 1), dt.date(2023, 12, 31)), unit)
    assert results.versions == [1, 2]
    by_code = {e.code: e for e in results.scores.elements}
    assert by_code["U1"].count == 2 and by_code["U1"].nrr == 3
    assert by_code["U9"].count == 1 and by_code["U9"].nrr == 4
    assert by_code["U4"].name == "Kemudahan dalam penggunaan aplikasi"
    first = db.session.scalars(select(Response).order_by(Response.id)).first()
    assert first.questionnaire.version == 1 and len(first.answers) == 9


def test_rating_out_of_range_is_refused_by_the_database(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from skm.models import Answer

    unit = make_unit(db.session)
    response = make_response(db.session, unit, [3] * 9)
    db.session.commit()
    element = unit.current_questionnaire.elements[0]
    db.session.add(Answer(response_id=response.id, element_id=element.id, rating=5, unit_id=unit.id,
                          survey_date=response.survey_date))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
