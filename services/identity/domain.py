"""Identity rules: who is insured, derived from the citizen ID, never typed twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum

from services.common.citizen_id import CitizenId, parse_citizen_id
from services.common.errors import FailedPrecondition, InvalidArgument

MAX_NAME_LENGTH = 50


class InsuredCategory(str, Enum):
    EMPLOYEE = "employee"  # 城镇职工
    RESIDENT = "resident"  # 城乡居民
    FLEXIBLE = "flexible"  # 灵活就业


class PersonStatus(str, Enum):
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    DECEASED = "deceased"


@dataclass(frozen=True)
class Person:
    person_id: str
    citizen_id: CitizenId
    name: str
    region_code: str
    insured_category: InsuredCategory
    status: PersonStatus
    employer_unit_id: str
    registered_at: datetime
    date_of_death: date | None = None


def validate_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidArgument("FIELD_REQUIRED", "name is required", field="name")
    if len(cleaned) > MAX_NAME_LENGTH or any(ch.isdigit() or ord(ch) < 32 for ch in cleaned):
        raise InvalidArgument("INVALID_NAME", f"name must be 1-{MAX_NAME_LENGTH} letters", field="name")
    return cleaned


def register_person(
    person_id: str,
    citizen_id: str,
    name: str,
    region_code: str,
    insured_category: InsuredCategory | None,
    status: PersonStatus | None,
    employer_unit_id: str,
    now: datetime,
) -> Person:
    """A new insured person. Employees need their employer unit (单位)."""
    parsed = parse_citizen_id(citizen_id)
    if insured_category is None:
        raise InvalidArgument("FIELD_REQUIRED", "insured_category is required", field="insured_category")
    if insured_category is InsuredCategory.EMPLOYEE and not employer_unit_id:
        raise InvalidArgument("EMPLOYER_REQUIRED", "employees are enrolled through their employer unit", field="employer_unit_id")
    if parsed.birth_date > now.date():
        raise InvalidArgument("INVALID_CITIZEN_ID", "citizen_id has a birth date in the future", field="citizen_id")
    if status is PersonStatus.DECEASED:
        raise InvalidArgument("INVALID_STATUS", "cannot register a deceased person", field="status")
    return Person(
        person_id=person_id,
        citizen_id=parsed,
        name=validate_name(name),
        region_code=region_code,
        insured_category=insured_category,
        status=status or (PersonStatus.EMPLOYED if insured_category is InsuredCategory.EMPLOYEE else PersonStatus.UNEMPLOYED),
        employer_unit_id=employer_unit_id,
        registered_at=now,
    )


def record_death(person: Person, date_of_death: date, today: date) -> Person:
    """Death ends everything: the card is cancelled and the account paid out downstream."""
    if person.status is PersonStatus.DECEASED:
        raise FailedPrecondition("PERSON_DECEASED", "death is already recorded", person_id=person.person_id)
    if date_of_death > today or date_of_death < person.citizen_id.birth_date:
        raise InvalidArgument("INVALID_DATE", "date_of_death must lie between birth and today", field="date_of_death")
    return replace(person, status=PersonStatus.DECEASED, date_of_death=date_of_death)
