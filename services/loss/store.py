"""Loss's own tables: the card projection, each card's loss state and its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from services.common.clock import business_date, from_micros, to_micros
from services.common.db import Migration, add_tables_and_columns, common_tables, create_all, upsert
from services.loss.domain import CardLoss, CardView, LossState, RecordedExpense, RefundClaim, RefundStatus

metadata = sa.MetaData()
common_tables(metadata)

card_views = sa.Table(
    "card_views", metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("person_id", sa.String(40), nullable=False),
    sa.Column("citizen_id", sa.String(18), nullable=False),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("pin_enabled", sa.Boolean, nullable=False),
    sa.Column("bank_code", sa.String(20), nullable=False),
)

card_losses = sa.Table(
    "card_losses", metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("report_id", sa.String(40), nullable=False),
    sa.Column("expires_us", sa.BigInteger, nullable=True, index=True),
    sa.Column("reissue_applied", sa.Boolean, nullable=False),
)

loss_history = sa.Table(
    "loss_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("card_no", sa.String(20), nullable=False, index=True),
    sa.Column("report_id", sa.String(40), nullable=False),
    sa.Column("what", sa.String(30), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("agent", sa.String(400), nullable=False),
    sa.Column("detail", sa.String(400), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
)

refund_claims = sa.Table(
    "refund_claims", metadata,
    sa.Column("claim_id", sa.String(40), primary_key=True),
    sa.Column("card_no", sa.String(20), nullable=False),
    # One live claim per loss report.
    sa.Column("report_id", sa.String(40), nullable=False, index=True),
    sa.Column("institution_code", sa.String(20), nullable=False),
    sa.Column("receipt_no", sa.String(60), nullable=False),
    sa.Column("expense_date", sa.String(10), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("review_note", sa.String(200), nullable=False),
    sa.Column("filed_by", sa.String(200), nullable=False, server_default=""),
)

# What the bank adapter was told about financial-zone losses (the adapter point).
bank_notifications = sa.Table(
    "bank_notifications", metadata,
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("bank_code", sa.String(20), nullable=False),
    sa.Column("card_no", sa.String(20), nullable=False),
    sa.Column("loss_state", sa.String(10), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
)

# Settlements the settlement service refused on a card under a loss report: the expenses the holder then paid
# out of pocket, as recorded (the loss-period refund is checked against them).
loss_period_expenses = sa.Table(
    "loss_period_expenses", metadata,
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("card_no", sa.String(20), nullable=False),
    sa.Column("report_id", sa.String(40), nullable=False, index=True),
    sa.Column("institution_code", sa.String(20), nullable=False),
    sa.Column("medfee_sumamt_fen", sa.BigInteger, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
)

MIGRATIONS = [
    Migration(1, "initial schema", create_all(metadata)),
    Migration(2, "loss-period expenses recorded by settlement; who filed a refund claim", add_tables_and_columns(metadata)),
]


async def get_card(conn: Any, card_no: str) -> CardView | None:
    row = (await conn.execute(sa.select(card_views).where(card_views.c.card_no == card_no))).first()
    return CardView(**row._mapping) if row else None


async def upsert_card(conn: Any, card: CardView) -> None:
    await upsert(conn, card_views, {"card_no": card.card_no}, {k: v for k, v in card.__dict__.items() if k != "card_no"})


def _to_loss(row: Any) -> CardLoss:
    return CardLoss(
        card_no=row.card_no,
        state=LossState(row.state),
        report_id=row.report_id,
        expires_at=from_micros(row.expires_us) if row.expires_us is not None else None,
        reissue_applied=row.reissue_applied,
    )


async def get_loss(conn: Any, card_no: str, for_update: bool = False) -> CardLoss:
    """`for_update`: in a transaction that will write the loss, lock its row first (PostgreSQL; SQLite has
    one writer), so a report, a lift and the expiry scheduler acting on one card at once see each other."""
    query = sa.select(card_losses).where(card_losses.c.card_no == card_no)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return _to_loss(row) if row else CardLoss(card_no, LossState.NONE)


async def save_loss(conn: Any, loss: CardLoss) -> None:
    await upsert(conn, card_losses, {"card_no": loss.card_no}, dict(
        state=loss.state.value,
        report_id=loss.report_id,
        expires_us=to_micros(loss.expires_at) if loss.expires_at else None,
        reissue_applied=loss.reissue_applied,
    ))


async def due_expiries(conn: Any, now: datetime, limit: int = 500) -> list[CardLoss]:
    rows = await conn.execute(
        sa.select(card_losses)
        .where(card_losses.c.state == LossState.TEMPORARY.value, card_losses.c.expires_us <= to_micros(now))
        .limit(limit)
    )
    return [_to_loss(r) for r in rows]


async def add_history(conn: Any, card_no: str, report_id: str, what: str, at: datetime, channel: str = "", agent: str = "", detail: str = "") -> None:
    await conn.execute(
        loss_history.insert().values(
            card_no=card_no, report_id=report_id, what=what, channel=channel, agent=agent, detail=detail, at_us=to_micros(at)
        )
    )


async def record_history(uow: Any, card_no: str, report_id: str, what: str, at: datetime, channel: str = "", agent: str = "", detail: str = "") -> None:
    """A step in the report's history (shown to the holder) and in the service's audit trail (for operators)."""
    await add_history(uow.conn, card_no, report_id, what, at, channel, agent, detail)
    await uow.audit(f"loss.{what}", card_no, channel=channel, agent=agent, detail=f"{report_id} {detail}".strip()[:400])


async def history(conn: Any, card_no: str) -> list[Any]:
    return list(await conn.execute(sa.select(loss_history).where(loss_history.c.card_no == card_no).order_by(loss_history.c.at_us, loss_history.c.id)))


def _to_claim(row: Any) -> RefundClaim:
    return RefundClaim(
        claim_id=row.claim_id, card_no=row.card_no, report_id=row.report_id, institution_code=row.institution_code,
        receipt_no=row.receipt_no, expense_date=date.fromisoformat(row.expense_date), amount_fen=row.amount_fen,
        status=RefundStatus(row.status), review_note=row.review_note, filed_by=row.filed_by,
    )


async def claim_for_report(conn: Any, report_id: str) -> RefundClaim | None:
    rows = await conn.execute(sa.select(refund_claims).where(refund_claims.c.report_id == report_id))
    claims = [_to_claim(r) for r in rows]
    live = [c for c in claims if c.status is not RefundStatus.REJECTED]
    return (live or claims or [None])[0]


async def get_claim(conn: Any, claim_id: str) -> RefundClaim | None:
    row = (await conn.execute(sa.select(refund_claims).where(refund_claims.c.claim_id == claim_id))).first()
    return _to_claim(row) if row else None


async def save_claim(conn: Any, claim: RefundClaim) -> None:
    await upsert(conn, refund_claims, {"claim_id": claim.claim_id}, dict(
        card_no=claim.card_no, report_id=claim.report_id, institution_code=claim.institution_code, receipt_no=claim.receipt_no,
        expense_date=claim.expense_date.isoformat(), amount_fen=claim.amount_fen, status=claim.status.value, review_note=claim.review_note,
        filed_by=claim.filed_by,
    ))


async def report_date(conn: Any, report_id: str) -> date | None:
    """When a report was first made (its first history entry)."""
    row = (await conn.execute(
        sa.select(sa.func.min(loss_history.c.at_us)).where(loss_history.c.report_id == report_id, loss_history.c.what.like("reported%"))
    )).scalar()
    return business_date(from_micros(row)) if row is not None else None


async def record_bank_notification(conn: Any, event_id: str, bank_code: str, card_no: str, loss_state: str, at_us: int) -> None:
    await conn.execute(bank_notifications.insert().values(event_id=event_id, bank_code=bank_code, card_no=card_no, loss_state=loss_state, at_us=at_us))


async def bank_notifications_for(conn: Any, card_no: str) -> list[Any]:
    return list(await conn.execute(sa.select(bank_notifications).where(bank_notifications.c.card_no == card_no).order_by(bank_notifications.c.at_us)))


async def record_expense(conn: Any, event_id: str, card_no: str, report_id: str, institution_code: str, fen: int, at: datetime) -> None:
    await conn.execute(loss_period_expenses.insert().values(
        event_id=event_id, card_no=card_no, report_id=report_id, institution_code=institution_code, medfee_sumamt_fen=fen, at_us=to_micros(at),
    ))


async def expenses(conn: Any, report_id: str) -> list[RecordedExpense]:
    """Every expense recorded under a loss report."""
    rows = await conn.execute(sa.select(loss_period_expenses).where(loss_period_expenses.c.report_id == report_id))
    return [RecordedExpense(r.institution_code, business_date(from_micros(r.at_us)), r.medfee_sumamt_fen) for r in rows]


async def most_recent_expense(conn: Any, report_id: str) -> RecordedExpense | None:
    """The last expense recorded under a loss report (refused settlements are recorded only until the replacement)."""
    row = (await conn.execute(
        sa.select(loss_period_expenses).where(loss_period_expenses.c.report_id == report_id)
        .order_by(loss_period_expenses.c.at_us.desc(), loss_period_expenses.c.event_id.desc()).limit(1)
    )).first()
    if row is None:
        return None
    return RecordedExpense(row.institution_code, business_date(from_micros(row.at_us)), row.medfee_sumamt_fen)
