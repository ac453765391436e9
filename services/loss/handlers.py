"""Loss's reactions to cards events: keep the card projection current."""

from __future__ import annotations

from datetime import timezone

from services.common.bus import Subscription
from services.common.db import UnitOfWork
from services.loss import store
from services.loss.domain import CardView
from sscard.events.v1 import cards_events_pb2, envelope_pb2, settlement_events_pb2

CARD_EVENTS = (
    "applied", "ready", "handed_out", "activated", "replaced", "failed", "recalled", "locked", "unlocked",
    "cancelled", "pin_changed", "holder_changed", "transferred",
)


async def settlement_refused(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: settlement_events_pb2.SettlementRefused) -> None:
    """A settlement refused on a card under loss: a fraud signal, and an expense the holder paid out of pocket
    (what a loss-period refund is checked against); recorded against the report."""
    loss = await store.get_loss(uow.conn, event.card_no)
    if event.reason != "CARD_REPORTED_LOST" or not loss.report_id:
        # Only attempts refused because of a loss report count.
        return
    at = envelope.occurred_at.ToDatetime(timezone.utc)
    await store.record_history(
        uow, event.card_no, loss.report_id, "settlement_attempt", at,
        detail=f"institution {event.institution_code} tried to settle {event.medfee_sumamt_fen} fen",
    )
    await store.record_expense(uow.conn, envelope.event_id, event.card_no, loss.report_id, event.institution_code, event.medfee_sumamt_fen, at)


def subscriptions() -> dict[str, list[Subscription]]:
    async def card_changed(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: cards_events_pb2.CardChanged) -> None:
        await store.upsert_card(
            uow.conn,
            CardView(
                card_no=event.card_no,
                person_id=event.person_id,
                citizen_id=event.citizen_id,
                name=event.name,
                region_code=event.region_code,
                state=event.state,
                pin_enabled=event.pin_enabled,
                bank_code=event.bank_code,
            ),
        )

    async def legacy_card_changed(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: settlement_events_pb2.LegacyCardChanged) -> None:
        """The old medical card (医保卡): reportable lost until the new card's activation merges it."""
        await store.upsert_card(uow.conn, CardView(
            card_no=event.card_no, person_id=event.person_id, citizen_id=event.citizen_id, name=event.name,
            region_code=event.region_code, state=event.state, pin_enabled=False, bank_code="",
        ))

    return {
        "CARDS": [Subscription(f"sscard.cards.card.{what}", cards_events_pb2.CardChanged, card_changed) for what in CARD_EVENTS],
        "SETTLEMENT": [
            Subscription("sscard.settlement.card.refused", settlement_events_pb2.SettlementRefused, settlement_refused, ordered=False),
            *(Subscription(f"sscard.settlement.legacy.{what}", settlement_events_pb2.LegacyCardChanged, legacy_card_changed)
              for what in ("registered", "merged")),
        ],
    }
