"""Units, their services and questionnaire versions. Functions flush, never commit."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Optional, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.errors import DomainError
from skm.models import Element, Questionnaire, Service, Unit
from skm.survey.standard import STANDARD_ELEMENTS


def create_unit(session: Session, code: str, name: str, **fields) -> Unit:
    code = code.strip().upper()
    if not code or not name.strip():
        raise DomainError("Kode dan nama unit wajib diisi.")
    if session.scalar(select(Unit).where(Unit.code == code)):
        raise DomainError(f"Unit dengan kode {code} sudah ada.")
    unit = Unit(code=code, name=name.strip(), **fields)
    session.add(unit)
    session.flush()
    new_questionnaire_version(
        session,
        unit,
        [
            {"code": c, "name": n, "question": q, "labels": list(labels)}
            for c, n, q, labels in STANDARD_ELEMENTS
        ],
    )
    return unit


def new_questionnaire_version(session: Session, unit: Unit, elements: Sequence[dict]) -> Questionnaire:
    """Store a new version; earlier responses keep the version they answered."""
    codes = [e["code"].strip().upper() for e in elements]
    if not codes:
        raise DomainError("Kuesioner harus memiliki paling sedikit satu unsur.")
    if len(set(codes)) != len(codes):
        raise DomainError("Kode unsur tidak boleh sama.")
    current = unit.current_questionnaire
    version = (current.version + 1) if current else 1
    questionnaire = Questionnaire(unit=unit, version=version)
    session.add(questionnaire)
    for position, (code, e) in enumerate(zip(codes, elements), start=1):
        labels = e["labels"]
        if len(labels) != 4 or not all(str(x).strip() for x in labels):
            raise DomainError(f"Unsur {code}: keempat label jawaban wajib diisi.")
        questionnaire.elements.append(
            Element(
                code=code,
                name=e["name"].strip(),
                question=e["question"].strip(),
                label1=labels[0].strip(),
                label2=labels[1].strip(),
                label3=labels[2].strip(),
                label4=labels[3].strip(),
                position=position,
            )
        )
    session.flush()
    session.refresh(unit)
    return questionnaire


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None:
        raise DomainError(f"Unit dengan kode {code} tidak ditemukan.")
    return unit


@overload
def service_by_name(session: Session, unit: Unit, name: str, create: Literal[True]) -> Service: ...
@overload
def service_by_name(session: Session, unit: Unit, name: str, create: bool = False) -> Optional[Service]: ...
def service_by_name(session: Session, unit: Unit, name: str, create: bool = False) -> Optional[Service]:
    key = " ".join(name.split()).lower()
    for service in unit.services:
        if service.name.lower() == key:
            return service
    if create:
        service = Service(unit=unit, name=" ".join(name.split()))
        session.add(service)
        session.flush()
        return service
    return None


def add_services(session: Session, unit: Unit, names: Iterable[str]) -> list[Service]:
    return [service_by_name(session, unit, n, create=True) for n in names]
