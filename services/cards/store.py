"""Cards' own tables: cards (with their application) and the persons projection."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.cards.domain import ApplicationKind, Card, CardState, LossState, PersonView
from services.common.clock import from_micros, to_micros
from services.common.db import Migration, add_tables_and_columns, common_tables, create_all, upsert

metadata = sa.MetaData()
common_tables(metadata)

persons = sa.Table(
    "persons", metadata,
    sa.Column("person_id", sa.String(40), primary_key=True),
    sa.Column("citizen_id", sa.String(18), nullable=False, index=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("birth_date", sa.String(10), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("deceased", sa.Boolean, nullable=False),
    sa.Column("employer_unit_id", sa.String(40), nullable=False, server_default=""),
)

cards = sa.Table(
    "cards", metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("person_id", sa.String(40), nullable=False, index=True),
    sa.Column("citizen_id", sa.String(18), nullable=False),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("pickup_certificate_no", sa.String(40), nullable=False, unique=True),
    sa.Column("fee_fen", sa.BigInteger, nullable=False),
    sa.Column("ready_by", sa.String(10), nullable=False),
    sa.Column("applied_us", sa.BigInteger, nullable=False),
    sa.Column("activated_us", sa.BigInteger, nullable=True),
    sa.Column("pin_hash", sa.String(64), nullable=False),
    sa.Column("pin_salt", sa.String(32), nullable=False),
    sa.Column("pin_enabled", sa.Boolean, nullable=False),
    sa.Column("wrong_pin_count", sa.Integer, nullable=False),
    # A card is replaced at most once: the unique key makes a reissue idempotent.
    sa.Column("replaces_card_no", sa.String(20), nullable=True, unique=True),
    sa.Column("replaced_by_card_no", sa.String(20), nullable=False),
    sa.Column("failure_reason", sa.String(60), nullable=False),
    sa.Column("loss_state", sa.String(10), nullable=False),
    sa.Column("delivery", sa.String(16), nullable=False, server_default="outlet_pickup"),
    sa.Column("delivery_address", sa.String(200), nullable=False, server_default=""),
    sa.Column("employer_unit_id", sa.String(40), nullable=False, server_default=""),
    sa.Column("activation_channel", sa.String(40), nullable=False, server_default=""),
    sa.Column("handout_due", sa.String(10), nullable=False, server_default=""),
    sa.Index("ix_cards_due", "state", "ready_by"),
    sa.Index("ix_cards_citizen", "citizen_id"),
)

# The hand-written runner's steps, frozen at the Alembic baseline (services/common/schema.py stamps
# databases it made); every later change is an Alembic revision in services/cards/migrations/.
MIGRATIONS = [
    Migration(1, "initial schema", create_all(metadata)),
    Migration(2, "delivery, employer unit; citizen-ID index for progress queries", add_tables_and_columns(metadata)),
]


def _to_card(row: Any) -> Card:
    return Card(
        card_no=row.card_no,
        person_id=row.person_id,
        citizen_id=row.citizen_id,
        name=row.name,
        region_code=row.region_code,
        state=CardState(row.state),
        kind=ApplicationKind(row.kind),
        channel=row.channel,
        pickup_certificate_no=row.pickup_certificate_no,
        fee_fen=row.fee_fen,
        ready_by=date.fromisoformat(row.ready_by),
        applied_at=from_micros(row.applied_us),
        pin_hash=row.pin_hash,
        pin_salt=row.pin_salt,
        pin_enabled=row.pin_enabled,
        wrong_pin_count=row.wrong_pin_count,
        replaces_card_no=row.replaces_card_no or "",
        replaced_by_card_no=row.replaced_by_card_no,
        failure_reason=row.failure_reason,
        loss_state=LossState(row.loss_state),
        activated_at=from_micros(row.activated_us) if row.activated_us is not None else None,
        delivery=row.delivery,
        delivery_address=row.delivery_address,
        employer_unit_id=row.employer_unit_id,
        activation_channel=row.activation_channel,
        handout_due=date.fromisoformat(row.handout_due) if row.handout_due else None,
    )


def _values(card: Card) -> dict[str, Any]:
    return dict(
        card_no=card.card_no,
        person_id=card.person_id,
        citizen_id=card.citizen_id,
        name=card.name,
        region_code=card.region_code,
        state=card.state.value,
        kind=card.kind.value,
        channel=card.channel,
        pickup_certificate_no=card.pickup_certificate_no,
        fee_fen=card.fee_fen,
        ready_by=card.ready_by.isoformat(),
        applied_us=to_micros(card.applied_at),
        activated_us=to_micros(card.activated_at) if card.activated_at else None,
        pin_hash=card.pin_hash,
        pin_salt=card.pin_salt,
        pin_enabled=card.pin_enabled,
        wrong_pin_count=card.wrong_pin_count,
        replaces_card_no=card.replaces_card_no or None,
        replaced_by_card_no=card.replaced_by_card_no,
        failure_reason=card.failure_reason,
        loss_state=card.loss_state.value,
        delivery=card.delivery,
        delivery_address=card.delivery_address,
        employer_unit_id=card.employer_unit_id,
        activation_channel=card.activation_channel,
        handout_due=card.handout_due.isoformat() if card.handout_due else "",
    )


async def get_card(conn: Any, card_no: str, for_update: bool = False) -> Card | None:
    """`for_update`: in a transaction that will write the card, lock its row first (PostgreSQL; SQLite
    has one writer): a concurrent change — a PIN changed at the window while a POS terminal's wrong
    PIN is being counted — waits, and neither write is lost."""
    query = sa.select(cards).where(cards.c.card_no == card_no)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return _to_card(row) if row else None


async def person_cards(conn: Any, person_id: str) -> list[Card]:
    rows = await conn.execute(sa.select(cards).where(cards.c.person_id == person_id).order_by(cards.c.applied_us.desc()))
    return [_to_card(r) for r in rows]


async def card_replacing(conn: Any, old_card_no: str) -> Card | None:
    row = (await conn.execute(sa.select(cards).where(cards.c.replaces_card_no == old_card_no))).first()
    return _to_card(row) if row else None


async def due_cards(conn: Any, today: date, limit: int = 500) -> list[Card]:
    rows = await conn.execute(
        sa.select(cards).where(cards.c.state == CardState.APPLIED.value, cards.c.ready_by <= today.isoformat()).limit(limit)
    )
    return [_to_card(r) for r in rows]


async def insert_card(conn: Any, card: Card) -> None:
    await conn.execute(cards.insert().values(**_values(card)))


async def save_card(conn: Any, card: Card) -> None:
    await conn.execute(cards.update().where(cards.c.card_no == card.card_no).values(**_values(card)))


async def get_person(conn: Any, person_id: str) -> PersonView | None:
    row = (await conn.execute(sa.select(persons).where(persons.c.person_id == person_id))).first()
    if row is None:
        return None
    return PersonView(row.person_id, row.citizen_id, row.name, date.fromisoformat(row.birth_date), row.region_code, row.deceased, row.employer_unit_id)


async def upsert_person(conn: Any, person: PersonView) -> None:
    await upsert(conn, persons, {"person_id": person.person_id}, dict(
        citizen_id=person.citizen_id, name=person.name, birth_date=person.birth_date.isoformat(),
        region_code=person.region_code, deceased=person.deceased, employer_unit_id=person.employer_unit_id,
    ))


async def cards_of_citizen(conn: Any, citizen_id: str) -> list[Card]:
    rows = await conn.execute(sa.select(cards).where(cards.c.citizen_id == citizen_id).order_by(cards.c.applied_us.desc()))
    return [_to_card(r) for r in rows]
