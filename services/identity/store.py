"""Identity's own tables and queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.common.citizen_id import CitizenId
from services.common.clock import from_micros, to_micros
from services.common.db import Migration, add_tables_and_columns, common_tables, create_all
from services.identity.domain import EmployerUnit, InsuredCategory, Person, PersonStatus

metadata = sa.MetaData()
common_tables(metadata)

persons = sa.Table(
    "persons", metadata,
    sa.Column("person_id", sa.String(40), primary_key=True),
    sa.Column("citizen_id", sa.String(18), nullable=False, unique=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("birth_date", sa.String(10), nullable=False),
    sa.Column("gender", sa.String(6), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("insured_category", sa.String(12), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("employer_unit_id", sa.String(40), nullable=False),
    sa.Column("registered_us", sa.BigInteger, nullable=False),
    sa.Column("date_of_death", sa.String(10), nullable=True),
    sa.Column("coverage_start", sa.String(10), nullable=False, server_default=""),
    sa.Index("ix_persons_unit", "employer_unit_id"),
)

employer_units = sa.Table(
    "employer_units", metadata,
    sa.Column("unit_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("credit_code", sa.String(18), nullable=False, unique=True),
    sa.Column("region_code", sa.String(12), nullable=False),
)

MIGRATIONS = [
    Migration(1, "initial schema", create_all(metadata)),
    Migration(2, "employer units; coverage start", add_tables_and_columns(metadata)),
]


def _to_person(row: Any) -> Person:
    return Person(
        person_id=row.person_id,
        citizen_id=CitizenId(row.citizen_id, date.fromisoformat(row.birth_date), row.gender),
        name=row.name,
        region_code=row.region_code,
        insured_category=InsuredCategory(row.insured_category),
        status=PersonStatus(row.status),
        employer_unit_id=row.employer_unit_id,
        registered_at=from_micros(row.registered_us),
        date_of_death=date.fromisoformat(row.date_of_death) if row.date_of_death else None,
        coverage_start=date.fromisoformat(row.coverage_start) if row.coverage_start else None,
    )


def _values(person: Person) -> dict[str, Any]:
    return dict(
        person_id=person.person_id,
        citizen_id=person.citizen_id.number,
        name=person.name,
        birth_date=person.citizen_id.birth_date.isoformat(),
        gender=person.citizen_id.gender,
        region_code=person.region_code,
        insured_category=person.insured_category.value,
        status=person.status.value,
        employer_unit_id=person.employer_unit_id,
        registered_us=to_micros(person.registered_at),
        date_of_death=person.date_of_death.isoformat() if person.date_of_death else None,
        coverage_start=person.coverage_start.isoformat() if person.coverage_start else "",
    )


async def find_person(conn: Any, person_id: str = "", citizen_id: str = "", for_update: bool = False) -> Person | None:
    """`for_update`: in a transaction that will write the person, lock the row first (PostgreSQL; SQLite
    has one writer), so a death, a transfer and an identity change at once see each other."""
    where = persons.c.person_id == person_id if person_id else persons.c.citizen_id == citizen_id
    query = sa.select(persons).where(where)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return _to_person(row) if row else None


async def insert_person(conn: Any, person: Person) -> None:
    await conn.execute(persons.insert().values(**_values(person)))


async def update_person(conn: Any, person: Person) -> None:
    await conn.execute(persons.update().where(persons.c.person_id == person.person_id).values(**_values(person)))


async def get_unit(conn: Any, unit_id: str) -> EmployerUnit | None:
    row = (await conn.execute(sa.select(employer_units).where(employer_units.c.unit_id == unit_id))).first()
    return EmployerUnit(**row._mapping) if row else None


async def unit_by_credit_code(conn: Any, credit_code: str) -> EmployerUnit | None:
    row = (await conn.execute(sa.select(employer_units).where(employer_units.c.credit_code == credit_code))).first()
    return EmployerUnit(**row._mapping) if row else None


async def insert_unit(conn: Any, unit: EmployerUnit) -> None:
    await conn.execute(employer_units.insert().values(**unit.__dict__))


async def unit_members(conn: Any, unit_id: str) -> list[Person]:
    rows = await conn.execute(sa.select(persons).where(persons.c.employer_unit_id == unit_id).order_by(persons.c.registered_us))
    return [_to_person(r) for r in rows]
