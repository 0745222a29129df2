"""Daily rollups (skm.models.rollup): kept in step with the raw answers in every transaction.

**Every write path keeps the rollups right through one function, `apply_response_delta`**:
- ORM writes (``session.add(Response(...))`` as in `record_response`, attribute changes of a
  Response or Answer, ``session.delete(response)``) are covered automatically: the session
  listeners below subtract the old state of the touched responses before the flush and add
  their new state after it, in the same transaction.
- Core/bulk statements (``insert(Response)`` with a list, ``update(Response)``, raw SQL) bypass
  the ORM, so their caller calls ``apply_response_delta(session, which, -1)`` before changing
  existing rows and ``apply_response_delta(session, which, +1)`` after (see `set_excluded`
  and the importer).

The raw answers stay the source of truth: `rebuild_rollups` recomputes from them.
Flushes, never commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional, Union

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from skm.models import Answer, Response, RollupAnswerDay, RollupResponseDay

Which = Union[ColumnElement[bool], Iterable[int]]
CHUNK = 500
# Columns whose change moves a response (or answer) to another rollup key or value.
RESPONSE_KEYS = ("unit_id", "service_id", "survey_date", "channel", "ticket_id", "excluded", "flagged",
                 "quarantined", "questionnaire_id", "gender", "education", "occupation", "age")
ANSWER_KEYS = ("response_id", "element_id", "rating", "unit_id", "service_id", "survey_date", "excluded")


def _dialect(conn: Any) -> str:
    bind = conn.get_bind() if hasattr(conn, "get_bind") else conn  # a (scoped) Session or a Connection
    return bind.dialect.name


def _upsert(dialect: str, table, sel, sums: tuple[str, ...]):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = [c.name for c in table.__table__.columns]
    stmt = insert(table.__table__).from_select(columns, sel)
    keys = [c.name for c in table.__table__.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={s: table.__table__.c[s] + stmt.excluded[s] for s in sums})


def _answer_select(cond, sign):
    A, R = Answer, Response
    keys = (A.unit_id, A.survey_date, func.coalesce(A.service_id, 0), R.channel, R.ticket_id.is_not(None),
            A.excluded, A.element_id)
    return (select(*keys, func.count() * sign, func.sum(A.rating) * sign)
            .join_from(A, R, A.response_id == R.id).where(cond).group_by(*keys).order_by(*keys))


def _response_select(cond, sign):
    R = Response
    base = (R.unit_id.label("unit_id"), R.survey_date.label("day"),
            func.coalesce(R.service_id, 0).label("service_key"), R.channel.label("channel"),
            R.ticket_id.is_not(None).label("verified"), R.excluded.label("excluded"))
    flagged, quarantined = R.flagged.is_(True), R.quarantined.is_(True)
    values = {
        "questionnaire": cast(R.questionnaire_id, String),
        "flag": case((flagged & quarantined, "11"), (flagged, "10"), (quarantined, "01"), else_="00"),
        "gender": func.coalesce(R.gender, ""),
        "education": func.coalesce(R.education, ""),
        "occupation": func.coalesce(R.occupation, ""),
        "age": func.coalesce(cast(R.age, String), ""),
    }
    parts = union_all(*(
        select(*base, literal(name, String).label("field"), value.label("value")).where(cond)
        for name, value in values.items()
    )).subquery()
    keys = [parts.c[k] for k in ("unit_id", "day", "service_key", "channel", "verified", "excluded", "field",
                                 "value")]
    # WHERE true: SQLite's upsert needs a WHERE in an INSERT … SELECT.
    return select(*keys, func.count() * sign).where(true()).group_by(*keys).order_by(*keys)


def _statements(dialect: str, answer_cond, response_cond, sign) -> tuple:
    return (_upsert(dialect, RollupAnswerDay, _answer_select(answer_cond, sign), ("n", "total")),
            _upsert(dialect, RollupResponseDay, _response_select(response_cond, sign), ("n",)))


_BY_IDS: dict[str, tuple] = {}  # dialect -> the two statements for a list of ids, built once


def _by_ids(dialect: str) -> tuple:
    if dialect not in _BY_IDS:
        ids: Any = bindparam("ids", expanding=True)
        _BY_IDS[dialect] = _statements(dialect, Answer.response_id.in_(ids), Response.id.in_(ids),
                                       bindparam("sign", type_=Integer))
    return _BY_IDS[dialect]


def apply_response_delta(conn: Any, which: Which, sign: int) -> None:
    """Add (sign=+1) or subtract (sign=-1) the responses' current rows to the rollups.

    `which`: response ids, or a condition on Response (e.g. Response.import_batch_id == 7).
    `conn`: a Session or a Connection in the writing transaction."""
    assert sign in (1, -1)
    dialect = _dialect(conn)
    if isinstance(which, ColumnElement):
        for stmt in _statements(dialect, which, which, sign):
            conn.execute(stmt)
        return
    ids = sorted(set(which))
    for i in range(0, len(ids), CHUNK):
        params = {"ids": ids[i:i + CHUNK], "sign": sign}
        for stmt in _by_ids(dialect):
            conn.execute(stmt, params)


def rebuild_rollups(session: Session, unit_id: Optional[int] = None) -> tuple[int, int]:
    """Recompute the rollups of one unit (or all) from the raw answers; (answer rows,
    response rows) now held. Flushes only."""
    session.flush()
    for table in (RollupAnswerDay, RollupResponseDay):
        stmt = delete(table)
        if unit_id is not None:
            stmt = stmt.where(table.unit_id == unit_id)
        session.execute(stmt)
    apply_response_delta(session, true() if unit_id is None else Response.unit_id == unit_id, 1)

    def count(table) -> int:
        q = select(func.count()).select_from(table)
        if unit_id is not None:
            q = q.where(table.unit_id == unit_id)
        return int(session.scalar(q) or 0)

    return count(RollupAnswerDay), count(RollupResponseDay)


# --- ORM writes: the session keeps the rollups in step by itself -------------------------

_PENDING = "skm_rollup_pending"


def _changed(obj: Any, keys: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[k].history.has_changes() for k in keys)


def _before_flush(session: Session, _context, _instances) -> None:
    touched: set[int] = set()
    deleted: set[int] = set()
    new_responses = []
    for obj in session.dirty:
        if isinstance(obj, Response) and _changed(obj, RESPONSE_KEYS):
            touched.add(obj.id)
        elif isinstance(obj, Answer) and _changed(obj, ANSWER_KEYS):
            old = inspect(obj).attrs["response_id"].history.deleted
            touched.update(x for x in [obj.response_id, *old] if x is not None)
    for obj in session.deleted:
        if isinstance(obj, Response):
            touched.add(obj.id)
            deleted.add(obj.id)
        elif isinstance(obj, Answer) and obj.response_id is not None:
            touched.add(obj.response_id)
    for obj in session.new:
        if isinstance(obj, Response):
            new_responses.append(obj)
        elif isinstance(obj, Answer):
            rid = obj.response_id if obj.response_id is not None else (
                obj.response.id if obj.response is not None else None)
            if rid is not None:  # an answer added to a stored response
                touched.add(rid)
    touched.discard(None)
    if touched:
        apply_response_delta(session.connection(), touched, -1)
    if touched or new_responses:
        session.info[_PENDING] = (touched - deleted, new_responses)


def _after_flush(session: Session, _context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    touched, new_responses = pending
    ids = set(touched) | {r.id for r in new_responses if r.id is not None}
    if ids:
        apply_response_delta(session.connection(), ids, 1)


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "after_flush", _after_flush)

