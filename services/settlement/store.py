"""Settlement's own tables: card projection, personal-account ledger, settlements."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.common.db import Migration, add_tables_and_columns, common_tables, create_all, fast_get, fast_insert, fast_update, upsert
from services.settlement.benefits import YearToDate
from services.settlement.domain import Account, CardProjection, Filing

metadata = sa.MetaData()
common_tables(metadata)

card_projections = sa.Table(
    "card_projections", metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("person_id", sa.String(40), nullable=False, index=True),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("card_state", sa.String(16), nullable=False),
    sa.Column("loss_state", sa.String(10), nullable=False),
    sa.Column("pin_enabled", sa.Boolean, nullable=False),
    sa.Column("pin_hash", sa.String(64), nullable=False),
    sa.Column("pin_salt", sa.String(32), nullable=False),
    sa.Column("replaced_by_card_no", sa.String(20), nullable=False),
    # Consecutive wrong PINs at POS terminals (reset by a right one).
    sa.Column("wrong_pin_count", sa.Integer, nullable=False, server_default="0"),
    # The trace of the loss report that stopped the card (W3C traceparent; tracing.py), for the refusals' link.
    sa.Column("loss_trace", sa.String(64), nullable=False, default="", server_default=""),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("person_id", sa.String(40), primary_key=True),
    sa.Column("card_no", sa.String(20), nullable=False, index=True),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("insured_category", sa.String(12), nullable=False),
    sa.Column("balance_fen", sa.BigInteger, nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False),
    sa.Column("citizen_id", sa.String(18), nullable=False, server_default="", index=True),
    # The holder's name, for the old medical card's entry in loss's card view (the hotline checks it).
    sa.Column("name", sa.String(80), nullable=False, server_default=""),
)

account_entries = sa.Table(
    "account_entries", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entry_id", sa.String(40), nullable=False, unique=True),
    sa.Column("person_id", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("balance_after_fen", sa.BigInteger, nullable=False),
    sa.Column("card_no", sa.String(20), nullable=False),
    sa.Column("reference", sa.String(80), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_entries_person", "person_id", "seq"),
)

settlements = sa.Table(
    "settlements", metadata,
    sa.Column("setl_id", sa.String(40), primary_key=True),
    sa.Column("institution_code", sa.String(20), nullable=False),
    sa.Column("msg_id", sa.String(80), nullable=False),
    sa.Column("card_no", sa.String(20), nullable=False),
    sa.Column("person_id", sa.String(40), nullable=False),
    sa.Column("care_type", sa.String(12), nullable=False),
    sa.Column("medfee_sumamt_fen", sa.BigInteger, nullable=False),
    sa.Column("fund_pay_fen", sa.BigInteger, nullable=False),
    sa.Column("acct_pay_fen", sa.BigInteger, nullable=False),
    sa.Column("cash_pay_fen", sa.BigInteger, nullable=False),
    sa.Column("deductible_fen", sa.BigInteger, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("institution_code", "msg_id", name="uq_settlement_msg"),
    sa.Index("ix_settlements_person_year", "person_id", "year"),
)

# When settlement started refusing a card after each loss report (the 1-hour promise, measured).
loss_halts = sa.Table(
    "loss_halts", metadata,
    sa.Column("report_id", sa.String(40), primary_key=True),
    sa.Column("card_no", sa.String(20), nullable=False),
    sa.Column("reported_wall_us", sa.BigInteger, nullable=False),
    sa.Column("halted_wall_us", sa.BigInteger, nullable=False),
)

sign_ins = sa.Table(
    "sign_ins", metadata,
    sa.Column("institution_code", sa.String(20), primary_key=True),
    sa.Column("business_date", sa.String(10), primary_key=True),
    sa.Column("sign_no", sa.String(40), nullable=False),
)

# A reversal (冲正) by original msg id; also blocks a late-arriving original.
reversals = sa.Table(
    "reversals", metadata,
    sa.Column("institution_code", sa.String(20), primary_key=True),
    sa.Column("original_msg_id", sa.String(80), primary_key=True),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("setl_id", sa.String(40), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
)

filings = sa.Table(
    "filings", metadata,
    sa.Column("filing_id", sa.String(40), primary_key=True),
    sa.Column("person_id", sa.String(40), nullable=False, index=True),
    sa.Column("treatment_region_code", sa.String(12), nullable=False),
    sa.Column("valid_from", sa.String(10), nullable=False),
    sa.Column("valid_to", sa.String(10), nullable=False),
)

legacy_accounts = sa.Table(
    "legacy_accounts", metadata,
    sa.Column("person_id", sa.String(40), primary_key=True),
    sa.Column("legacy_card_no", sa.String(30), nullable=False),
    sa.Column("balance_fen", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
)

# The hand-written runner's steps, frozen at the Alembic baseline (services/common/schema.py stamps
# databases it made); every later change is an Alembic revision in services/settlement/migrations/.
MIGRATIONS = [
    Migration(1, "initial schema", create_all(metadata)),
    Migration(2, "sign-in, reversals, filings, legacy accounts; citizen id and POS wrong-PIN count", add_tables_and_columns(metadata)),
]


async def get_card(conn: Any, card_no: str, for_update: bool = False) -> CardProjection | None:
    """FOR UPDATE where the caller rewrites the row: the card and loss consumers and a settlement
    run concurrently on PostgreSQL, and none may overwrite what another just wrote."""
    row = await fast_get(conn, card_projections, {"card_no": card_no}, for_update=for_update)
    return CardProjection(**row) if row else None


async def active_card_of(conn: Any, person_id: str) -> CardProjection | None:
    row = (await conn.execute(sa.select(card_projections).where(
        card_projections.c.person_id == person_id, card_projections.c.card_state == "active"))).first()
    return CardProjection(**row._mapping) if row else None


async def save_card(conn: Any, card: CardProjection) -> None:
    await upsert(conn, card_projections, {"card_no": card.card_no}, {k: v for k, v in card.__dict__.items() if k != "card_no"})


async def get_account(conn: Any, person_id: str, for_update: bool = False) -> Account | None:
    row = await fast_get(conn, accounts, {"person_id": person_id}, for_update=for_update)
    return Account(**row) if row else None


async def insert_account(conn: Any, account: Account) -> None:
    await conn.execute(accounts.insert().values(**account.__dict__))


async def save_account(conn: Any, account: Account) -> None:
    values = {k: v for k, v in account.__dict__.items() if k != "person_id"}
    await fast_update(conn, accounts, {"person_id": account.person_id}, values, count=False)


async def add_entry(conn: Any, *, entry_id: str, account: Account, kind: str, amount_fen: int, reference: str, at_us: int) -> None:
    """A journal entry; `account` is the state after the change, so balance_after is exact."""
    await fast_insert(conn, account_entries, dict(
        entry_id=entry_id, person_id=account.person_id, kind=kind, amount_fen=amount_fen,
        balance_after_fen=account.balance_fen, card_no=account.card_no, reference=reference, at_us=at_us,
    ))


async def entries(conn: Any, person_id: str, limit: int, before_seq: int | None) -> list[Any]:
    query = sa.select(account_entries).where(account_entries.c.person_id == person_id)
    if before_seq is not None:
        query = query.where(account_entries.c.seq < before_seq)
    return list(await conn.execute(query.order_by(account_entries.c.seq.desc()).limit(limit)))


async def entries_total(conn: Any, person_id: str) -> int:
    total = await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(account_entries.c.amount_fen), 0)).where(account_entries.c.person_id == person_id))
    return int(total.scalar())


async def insert_settlement(conn: Any, **values: Any) -> None:
    await fast_insert(conn, settlements, values)


async def year_to_date(conn: Any, person_id: str, year: int) -> YearToDate:
    """起付线 and 封顶线 accumulators: sums over the year's live (not revoked) settlements."""
    row = (
        await conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(settlements.c.deductible_fen), 0),
                sa.func.coalesce(sa.func.sum(settlements.c.fund_pay_fen), 0),
            ).where(settlements.c.person_id == person_id, settlements.c.year == year, settlements.c.status == "settled")
        )
    ).one()
    return YearToDate(deductible_paid_fen=int(row[0]), fund_paid_fen=int(row[1]))


async def record_halt(conn: Any, report_id: str, card_no: str, reported_wall_us: int, halted_wall_us: int) -> bool:
    """The first time settlement refuses a card for a report; False if already recorded."""
    if await fast_get(conn, loss_halts, {"report_id": report_id}, ("report_id",)) is not None:
        return False
    await fast_insert(conn, loss_halts, dict(report_id=report_id, card_no=card_no, reported_wall_us=reported_wall_us, halted_wall_us=halted_wall_us))
    return True


async def halts(conn: Any) -> list[Any]:
    return list(await conn.execute(sa.select(loss_halts).order_by(loss_halts.c.halted_wall_us)))


async def get_settlement(conn: Any, setl_id: str = "", institution_code: str = "", msg_id: str = "", for_update: bool = False) -> Any:
    where = settlements.c.setl_id == setl_id if setl_id else sa.and_(settlements.c.institution_code == institution_code, settlements.c.msg_id == msg_id)
    query = sa.select(settlements).where(where)
    return (await conn.execute(query.with_for_update() if for_update else query)).first()


async def set_settlement_status(conn: Any, setl_id: str, status: str) -> None:
    await conn.execute(settlements.update().where(settlements.c.setl_id == setl_id).values(status=status))


async def day_settlements(conn: Any, institution_code: str, start_us: int, end_us: int) -> list[Any]:
    """An institution's settlements of one business day (settlement time in [start, end))."""
    return list(await conn.execute(
        sa.select(settlements).where(settlements.c.institution_code == institution_code, settlements.c.at_us >= start_us, settlements.c.at_us < end_us)
        .order_by(settlements.c.at_us)
    ))


async def sign_no(conn: Any, institution_code: str, business_date: str) -> str | None:
    return (await conn.execute(sa.select(sign_ins.c.sign_no).where(
        sign_ins.c.institution_code == institution_code, sign_ins.c.business_date == business_date))).scalar()


async def record_sign_in(conn: Any, institution_code: str, business_date: str, number: str) -> None:
    await conn.execute(sign_ins.insert().values(institution_code=institution_code, business_date=business_date, sign_no=number))


async def reversal(conn: Any, institution_code: str, original_msg_id: str) -> Any:
    row = await fast_get(conn, reversals, {"institution_code": institution_code, "original_msg_id": original_msg_id})
    return _Row(row) if row else None


async def record_reversal(conn: Any, institution_code: str, original_msg_id: str, outcome: str, setl_id: str, at_us: int) -> None:
    await conn.execute(reversals.insert().values(institution_code=institution_code, original_msg_id=original_msg_id, outcome=outcome, setl_id=setl_id, at_us=at_us))


class _Row(dict):
    """A row as a dict with attribute access (row.outcome), like a SQLAlchemy Row."""

    __getattr__ = dict.__getitem__


def _to_filing(row: Any) -> Filing:
    return Filing(row.filing_id, row.person_id, row.treatment_region_code, date.fromisoformat(row.valid_from), date.fromisoformat(row.valid_to))


async def person_filings(conn: Any, person_id: str) -> list[Filing]:
    rows = await conn.execute(sa.select(filings).where(filings.c.person_id == person_id).order_by(filings.c.valid_from.desc()))
    return [_to_filing(r) for r in rows]


async def insert_filing(conn: Any, filing: Filing) -> None:
    await conn.execute(filings.insert().values(
        filing_id=filing.filing_id, person_id=filing.person_id, treatment_region_code=filing.treatment_region_code,
        valid_from=filing.valid_from.isoformat(), valid_to=filing.valid_to.isoformat(),
    ))


async def legacy_account(conn: Any, person_id: str) -> Any:
    return (await conn.execute(sa.select(legacy_accounts).where(legacy_accounts.c.person_id == person_id))).first()


async def save_legacy_account(conn: Any, person_id: str, legacy_card_no: str, balance_fen: int, status: str) -> None:
    await upsert(conn, legacy_accounts, {"person_id": person_id}, dict(legacy_card_no=legacy_card_no, balance_fen=balance_fen, status=status))


async def legacy_account_by_card(conn: Any, legacy_card_no: str, for_update: bool = False) -> Any:
    query = sa.select(legacy_accounts).where(legacy_accounts.c.legacy_card_no == legacy_card_no)
    return (await conn.execute(query.with_for_update() if for_update else query)).first()


async def account_by_citizen_id(conn: Any, citizen_id: str) -> Account | None:
    row = (await conn.execute(sa.select(accounts).where(accounts.c.citizen_id == citizen_id))).first()
    return Account(**row._mapping) if row else None


async def has_settlement(conn: Any, institution_code: str, person_id: str) -> bool:
    """Whether this institution has settled for this person (it may then see the account)."""
    query = sa.select(settlements.c.setl_id).where(
        settlements.c.institution_code == institution_code, settlements.c.person_id == person_id, settlements.c.status != "void",
    ).limit(1)
    return (await conn.execute(query)).first() is not None
