"""Identity rules: who is insured, derived from the citizen ID, never typed twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum

from services.common.calendar import add_months
from services.common.citizen_id import CitizenId, parse_citizen_id
from services.common.clock import business_date
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
    coverage_start: date | None = None


@dataclass(frozen=True)
class EmployerUnit:
    """参保单位: enrols and pays for its employees, applies for their cards in batches."""

    unit_id: str
    name: str
    credit_code: str
    region_code: str


def coverage_start(birth: date, enrolled_on: date, newborn_window_months: int) -> date:
    """A newborn enrolled within the region's window (Nanning: 3 months, seed 004) is covered from birth;
    otherwise cover starts in the month of payment (enrolment)."""
    if enrolled_on <= add_months(birth, newborn_window_months):
        return birth
    return enrolled_on.replace(day=1)


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
    newborn_window_months: int,
) -> Person:
    """A new insured person. Employees need their employer unit (单位)."""
    parsed = parse_citizen_id(citizen_id)
    if insured_category is None:
        raise InvalidArgument("FIELD_REQUIRED", "insured_category is required", field="insured_category")
    if insured_category is InsuredCategory.EMPLOYEE and not employer_unit_id:
        raise InvalidArgument("EMPLOYER_REQUIRED", "employees are enrolled through their employer unit", field="employer_unit_id")
    if parsed.birth_date > business_date(now):
        raise InvalidArgument("INVALID_CITIZEN_ID", "citizen_id has a birth date in the future", field="citizen_id")
    if status is PersonStatus.DECEASED:
        raise InvalidArgument("INVALID_STATUS", "cannot register a deceased person", field="status")
    return Person(
        coverage_start=coverage_start(parsed.birth_date, business_date(now), newborn_window_months),
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


def change_identity(person: Person, new_name: str, new_citizen_id: str) -> Person:
    """Name or ID-number change (e.g. a corrected ID): birth date and gender follow the new number."""
    if person.status is PersonStatus.DECEASED:
        raise FailedPrecondition("PERSON_DECEASED", "the person is deceased")
    if not new_name and not new_citizen_id:
        raise InvalidArgument("NOTHING_TO_CHANGE", "give new_name and/or new_citizen_id")
    name = validate_name(new_name) if new_name else person.name
    citizen_id = parse_citizen_id(new_citizen_id, "new_citizen_id") if new_citizen_id else person.citizen_id
    if name == person.name and citizen_id == person.citizen_id:
        raise InvalidArgument("NOTHING_TO_CHANGE", "the new data equal the current data")
    return replace(person, name=name, citizen_id=citizen_id)


def transfer(person: Person, to_region: str, to_province: str, from_province: str, within_province: bool) -> Person:
    """Move the insurance relationship; the scope must match the regions' provinces."""
    if person.status is PersonStatus.DECEASED:
        raise FailedPrecondition("PERSON_DECEASED", "the person is deceased")
    if to_region == person.region_code:
        raise InvalidArgument("SAME_REGION", "the person is already insured in this region", field="to_region_code")
    if within_province != (to_province == from_province):
        raise InvalidArgument("SCOPE_MISMATCH", "scope does not match the regions' provinces", field="scope")
    return replace(person, region_code=to_region)


def new_employer_unit(unit_id: str, name: str, credit_code: str, region_code: str) -> EmployerUnit:
    if not name.strip():
        raise InvalidArgument("FIELD_REQUIRED", "name is required", field="name")
    # 统一社会信用代码: 18 characters, digits and upper-case letters.
    if len(credit_code) != 18 or not credit_code.isalnum() or credit_code.upper() != credit_code:
        raise InvalidArgument("INVALID_CREDIT_CODE", "credit_code must be an 18-character unified social credit code", field="credit_code")
    return EmployerUnit(unit_id, name.strip(), credit_code, region_code)
