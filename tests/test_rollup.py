"""Issue 14: period results read the daily rollups; the raw answers stay the truth.

The property test drives random sequences of the real write paths (kiosk sends through the
outbox, paper forms and their undo, online responses with and without a ticket, imports,
exclude/include, quarantine, ORM edits and deletes) and checks that every figure the results
show equals a recomputation from the raw rows, exactly, and that the rollup tables equal
what `rebuild_rollups` makes from the raw answers.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from skm.intake.entry import save_paper_form, undo_last_form, undoable
from skm.intake.importer import commit_import, preview_import
from skm.kiosk import devices as D
from skm.kiosk import flow as F
from skm.kiosk.outbox import deliver_survey
from skm.models import CHANNELS, Answer, Response, RollupAnswerDay, RollupResponseDay
from skm.online.tickets import issue_tickets
from skm.scoring.ikm import age_band_index
from skm.scoring.results import Scope, channel_counts, compute_results
from skm.scoring.rollup import apply_response_delta, rebuild_rollups
from skm.survey.responses import ResponseData, record_response, set_excluded
from tests.factories import make_response, make_unit, make_user

DAYS = [dt.date(2023, 6, 30), dt.date(2023, 7, 1), dt.date(2023, 8, 15), dt.date(2023, 9, 30),
        dt.date(2023, 10, 2)]
SCOPE_DATES = [(dt.date(2023, 7, 1), dt.date(2023, 9, 30)), (dt.date(2023, 8, 15), dt.date(2023, 8, 15)),
               (dt.date(2023, 1, 1), dt.date(2023, 12, 31))]
_units = itertools.count(1)

ratings_st = st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=9, max_size=9).filter(
    lambda r: any(x is not None for x in r))
profile_st = st.fixed_dictionaries({
    "gender": st.sampled_from([None, "L", "P"]),
    "age": st.one_of(st.none(), st.integers(15, 99)),
    "education": st.sampled_from([None, "SD", "SMA", "S1"]),
    "occupation": st.sampled_from([None, "PNS", "SWASTA"]),
})
op_st = st.one_of(
    st.tuples(st.just("kiosk"), st.sampled_from(DAYS), st.integers(0, 2), st.lists(st.integers(1, 4), min_size=9,
                                                                                  max_size=9), st.booleans()),
    st.tuples(st.just("paper"), st.sampled_from(DAYS), st.integers(0, 2), ratings_st, profile_st),
    st.tuples(st.just("online"), st.sampled_from(DAYS), st.integers(0, 2), ratings_st, st.booleans()),
    st.tuples(st.just("import"), st.lists(st.tuples(st.sampled_from(DAYS), st.integers(0, 2), ratings_st),
                                          min_size=1, max_size=4)),
    st.tuples(st.just("exclude"), st.lists(st.integers(0, 50), max_size=3), st.booleans()),
    st.tuples(st.just("undo")),
    st.tuples(st.just("orm_edit"), st.integers(0, 50), st.sampled_from(DAYS), st.integers(1, 4)),
    st.tuples(st.just("orm_delete"), st.integers(0, 50)),
)


def _kiosk_send(db, unit, device, day, service, ratings, fast):
    """A kiosk survey sent from the tablet's outbox; a fast one is flagged and quarantined."""
    now = dt.datetime.combine(day, dt.time(3, 0))  # 10:00 WIB
    elapsed = 2 if fast else 90
    survey = F.start_survey(db.session, device, now - dt.timedelta(seconds=elapsed),
                            max_starts_per_minute=0, cooldown_seconds=0)
    answers = {"service": service, "gender": "L", "age": 30, "education": "SMA", "occupation": ["PNS", ""],
               "saran": ""}
    answers.update({f"el-{e.code}": r for e, r in zip(unit.current_questionnaire.elements, ratings)})
    deliver_survey(db.session, device, survey.token, answers, elapsed=elapsed, now=now, max_per_window=10_000)


def _import(db, unit, rows):
    codes = [e.code for e in unit.current_questionnaire.elements]
    lines = ["tanggal,layanan,jenis_kelamin,usia," + ",".join(codes)]
    for day, service, ratings in rows:
        name = unit.services[service].name if service < len(unit.services) else ""
        lines.append(f"{day.isoformat()},{name},P,44," + ",".join("" if r is None else str(r) for r in ratings))
    preview = preview_import(db.session, unit, "data.csv", "\n".join(lines).encode())
    assert preview.ok, preview.errors
    commit_import(db.session, unit, preview, allow_duplicate=True)


def _run(db, unit, user, device, ops):
    tickets = iter(issue_tickets(db.session, unit, None, 40))
    paper_ids: list[int] = []
    services = [s.id for s in unit.services]
    for op in ops:
        ids = db.session.scalars(select(Response.id).where(Response.unit_id == unit.id).order_by(Response.id)).all()
        kind = op[0]
        if kind == "kiosk":
            _, day, service, ratings, fast = op
            _kiosk_send(db, unit, device, day, services[service % len(services)], ratings, fast)
        elif kind == "paper":
            _, day, service, ratings, profile = op
            data = ResponseData(survey_date=day, service_id=services[service] if service < len(services) else None,
                                ratings=dict(zip([e.code for e in unit.current_questionnaire.elements], ratings)),
                                **profile)
            paper_ids.append(save_paper_form(db.session, unit, data, user.id).id)
        elif kind == "online":
            _, day, service, ratings, ticketed = op
            data = ResponseData(survey_date=day, service_id=services[service] if service < len(services) else None,
                                ratings=dict(zip([e.code for e in unit.current_questionnaire.elements], ratings)))
            record_response(db.session, unit, data, "online", ticket_id=next(tickets).id if ticketed else None)
        elif kind == "import":
            _import(db, unit, op[1])
        elif kind == "exclude" and ids:
            set_excluded(db.session, sorted({ids[i % len(ids)] for i in op[1]}), op[2])
        elif kind == "undo" and paper_ids:
            rid = paper_ids.pop()
            if undoable(db.session, unit, user.id, rid) is not None:  # not deleted (and its id reused)
                undo_last_form(db.session, unit, user.id, rid)
        elif kind == "orm_edit" and ids:  # attribute changes through the ORM, as scripts and tests do
            response = db.session.get(Response, ids[op[1] % len(ids)])
            response.survey_date = op[2]
            response.excluded = not response.excluded
            for a in response.answers:
                a.survey_date, a.excluded = op[2], response.excluded
            if response.answers:
                response.answers[0].rating = op[3]
        elif kind == "orm_delete" and ids:
            db.session.delete(db.session.get(Response, ids[op[1] % len(ids)]))
        db.session.commit()


def _raw_figures(unit, every: list[Response], scope: Scope) -> dict:
    """Every figure of the results, recomputed in Python from the raw rows."""
    responses = [
        r for r in every
        if scope.start <= r.survey_date <= scope.end
        and (scope.service_id is None or r.service_id == scope.service_id)
        and (scope.channel is None or r.channel == scope.channel)
        and (not scope.verified_only or r.ticket_id is not None)
    ]
    counted = [r for r in responses if scope.include_excluded or not r.excluded]
    tallies: dict[str, list[int]] = {}
    for r in counted:
        for a in r.answers:
            if scope.include_excluded or not a.excluded:
                t = tallies.setdefault(a.element.code, [0, 0])
                t[0] += 1
                t[1] += a.rating
    bounds = unit.age_band_bounds
    ages: dict = {}
    for r in counted:
        band = None if r.age is None else age_band_index(r.age, bounds)
        ages[band] = ages.get(band, 0) + 1
    channels = {c: sum(1 for r in counted if r.channel == c) for c in CHANNELS}
    return {
        "respondents": len(counted),
        "nrr": {code: (n, s, Fraction(s, n)) for code, (n, s) in tallies.items()},
        "excluded": sum(1 for r in responses if r.excluded),
        "flagged": sum(1 for r in responses if r.flagged),
        "quarantined": sum(1 for r in responses if r.flagged and r.quarantined),
        "versions": sorted({r.questionnaire.version for r in counted}),
        "gender": sorted(((g, sum(1 for r in counted if r.gender == g)) for g in {r.gender for r in counted}),
                         key=str),
        "channels": channels,
    }


def _rollup_figures(db, unit, scope: Scope, raw_genders: list) -> dict:
    res = compute_results(db.session, scope, unit)
    gender_rows = dict((label, n) for label, n, _pct in res.profile["gender"].rows)
    labels = {"L": "Laki-laki", "P": "Perempuan", None: "Tidak diisi"}
    return {
        "respondents": res.respondents,
        "nrr": {e.code: (e.count, e.total, e.nrr) for e in res.scores.elements},
        "excluded": res.excluded_count,
        "flagged": res.flagged_count,
        "quarantined": res.quarantined_count,
        "versions": res.versions,
        "gender": sorted(((g, gender_rows.get(labels[g], 0)) for g in raw_genders), key=str),
        "channels": channel_counts(db.session, scope),
        "ikm": res.scores.ikm,
    }


def _table(db, model, unit_id=None) -> dict:
    keys = [c.name for c in model.__table__.primary_key.columns]
    sums = [c.name for c in model.__table__.columns if c.name not in keys]
    out = {}
    for row in db.session.execute(select(model.__table__)).mappings():
        if unit_id is not None and row["unit_id"] != unit_id:
            continue
        values = tuple(row[s] for s in sums)
        if any(values):
            out[tuple(bool(row[k]) if k in ("verified", "excluded") else row[k] for k in keys)] = values
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(op_st, min_size=1, max_size=10), min_seconds=st.sampled_from([0, 8]))
def test_rollup_results_equal_the_raw_recomputation(db, ops, min_seconds):
    from skm.scoring.ikm import score

    unit = make_unit(db.session, code=f"P{next(_units)}", min_survey_seconds=min_seconds)
    user = make_user(db.session, username=f"op{unit.code.lower()}", role="operator", units=[unit])
    device, _raw = D.pair_device(db.session, D.create_pairing(db.session, unit).pairing_code)
    db.session.commit()
    _run(db, unit, user, device, ops)
    db.session.expire_all()
    services = [None, unit.services[0].id]
    every = db.session.scalars(select(Response).where(Response.unit_id == unit.id)).all()
    for (start, end), service_id, channel, verified, include in itertools.product(
            SCOPE_DATES, services, [None, "kiosk", "online"], [False, True], [False, True]):
        if verified and channel == "kiosk":
            continue
        scope = Scope(unit.id, start, end, service_id, include, channel=channel, verified_only=verified)
        raw = _raw_figures(unit, every, scope)
        got = _rollup_figures(db, unit, scope, [g for g, _n in raw["gender"]])
        raw_ikm = score([], 0).ikm
        if raw["respondents"]:
            from skm.scoring.ikm import ElementTally
            raw_ikm = score([ElementTally(code, code, n, s) for code, (n, s, _f) in raw["nrr"].items()],
                            raw["respondents"]).ikm
        assert got.pop("ikm") == raw_ikm, scope
        assert got == raw, scope
    # The rows kept step by step are the rows a rebuild from the raw answers makes.
    kept = (_table(db, RollupAnswerDay, unit.id), _table(db, RollupResponseDay, unit.id))
    rebuild_rollups(db.session, unit.id)
    db.session.commit()
    assert kept == (_table(db, RollupAnswerDay, unit.id), _table(db, RollupResponseDay, unit.id))


def test_cli_rebuild_rollups_repairs_them(app, db, runner):
    """`skm rebuild-rollups` repairs rollups that went wrong (here: emptied by hand)."""
    unit = make_unit(db.session)
    make_response(db.session, unit, [4, 3, 2, 1, 4, 3, 2, 1, 4], gender="P", age=30)
    make_response(db.session, unit, [1] * 9, day=dt.date(2023, 8, 2), service=unit.services[0])
    db.session.commit()
    scope = Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30))
    before = compute_results(db.session, scope, unit)
    kept = (_table(db, RollupAnswerDay), _table(db, RollupResponseDay))
    db.session.execute(RollupAnswerDay.__table__.delete())
    db.session.execute(RollupResponseDay.__table__.delete())
    db.session.commit()
    assert compute_results(db.session, scope, unit).respondents == 0
    result = runner.invoke(args=["skm", "rebuild-rollups", "--unit", unit.code])
    assert result.exit_code == 0, result.output
    assert "baris nilai unsur" in result.output
    db.session.expire_all()
    assert (_table(db, RollupAnswerDay), _table(db, RollupResponseDay)) == kept
    after = compute_results(db.session, scope, unit)
    assert after.scores.ikm == before.scores.ikm and after.respondents == 2
    bad = runner.invoke(args=["skm", "rebuild-rollups", "--unit", "TIDAKADA"])
    assert bad.exit_code != 0


def test_bulk_writes_call_apply_response_delta(db):
    """A Core UPDATE bypasses the session listeners; apply_response_delta moves the rows."""
    from sqlalchemy import update

    unit = make_unit(db.session)
    r = make_response(db.session, unit, [4] * 9)
    db.session.commit()
    scope = Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30))
    apply_response_delta(db.session, [r.id], -1)
    db.session.execute(update(Answer).where(Answer.response_id == r.id).values(rating=2))
    apply_response_delta(db.session, Response.id == r.id, 1)
    db.session.commit()
    assert {e.code: e.total for e in compute_results(db.session, scope, unit).scores.elements} == {
        f"U{i}": 2 for i in range(1, 10)}


def test_results_json_channels_and_filters(app, db, runner):
    unit = make_unit(db.session)
    [ticket] = issue_tickets(db.session, unit, None, 1)
    make_response(db.session, unit, [4] * 9, channel="kiosk")
    make_response(db.session, unit, [2] * 9, channel="paper")
    data = ResponseData(survey_date=dt.date(2023, 8, 1), ratings={f"U{i}": 3 for i in range(1, 10)})
    record_response(db.session, unit, data, "online", ticket_id=ticket.id)
    record_response(db.session, unit, data, "online")
    db.session.commit()
    args = ["skm", "results", "--unit", unit.code, "--from", "2023-07-01", "--to", "2023-09-30", "--json"]
    out = json.loads(runner.invoke(args=args).output)
    assert out["channels"] == {"kiosk": 1, "paper": 1, "import": 0, "online": 2}
    assert out["respondents"] == 4
    online = json.loads(runner.invoke(args=[*args, "--channel", "online"]).output)
    assert online["respondents"] == 2 and online["channel"] == "online"
    assert online["channels"] == {"kiosk": 0, "paper": 0, "import": 0, "online": 2}
    assert online["elements"][0]["nrr_exact"] == "3"
    verified = json.loads(runner.invoke(args=[*args, "--terverifikasi"]).output)
    assert verified["respondents"] == 1 and verified["terverifikasi"] is True
    assert verified["channels"] == {"kiosk": 0, "paper": 0, "import": 0, "online": 1}
    paper = json.loads(runner.invoke(args=[*args, "--channel", "PAPER"]).output)
    assert paper["respondents"] == 1 and paper["elements"][0]["nrr_exact"] == "2"
    text = runner.invoke(args=args[:-1] + ["--channel", "kiosk"])
    assert "Hanya responden: kanal kios layar sentuh" in text.output and "Jumlah responden: 1" in text.output
    bad = runner.invoke(args=[*args, "--channel", "faks"])
    assert bad.exit_code != 0
    assert "Kanal 'faks' tidak dikenal; pilih salah satu: kiosk, paper, import, online." in bad.output


def test_migration_fills_the_rollups_from_existing_answers(tmp_path, monkeypatch):
    """0012 on a database that already has answers: the rollups it fills are those kept live."""
    import os

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import create_engine, text

    from skm import create_app
    from skm.extensions import db as _db

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'r.sqlite3'}"
    opts: dict = {}
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migroll CASCADE"))
            conn.execute(text("CREATE SCHEMA migroll"))
        engine.dispose()
        opts = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-csearch_path=migroll"}}}
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", **opts})
    try:
        with app.app_context():
            directory = app.extensions["migrate"].directory
            upgrade(directory=directory)
            unit = make_unit(_db.session)
            [ticket] = issue_tickets(_db.session, unit, None, 1)
            make_response(_db.session, unit, [4, 3, None, 1, 4, 3, 2, 1, 4], gender="P", age=30)
            make_response(_db.session, unit, [1] * 9, day=dt.date(2023, 8, 2), service=unit.services[0],
                          channel="kiosk", education="S1")
            data = ResponseData(survey_date=dt.date(2023, 8, 3), ratings={"U1": 2})
            excluded = record_response(_db.session, unit, data, "online", ticket_id=ticket.id)
            set_excluded(_db.session, [excluded.id], True)
            _db.session.commit()
            kept = (_table(_db, RollupAnswerDay), _table(_db, RollupResponseDay))
            assert kept[0] and kept[1]
            _db.session.remove()
            downgrade(directory=directory, revision="0013_online_survey")
            upgrade(directory=directory)
            assert (_table(_db, RollupAnswerDay), _table(_db, RollupResponseDay)) == kept
            _db.session.remove()
            _db.engine.dispose()
    finally:
        if url.startswith("postgresql"):
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS migroll CASCADE"))
            engine.dispose()
