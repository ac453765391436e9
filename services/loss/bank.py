"""The bank adapter point: the financial zone (金融账户) is the partner bank's.

When the social zone is reported lost, lifted or lapses, the bank that issued
the card's financial zone must be told so it can act on its own zone. A real
adapter calls the bank's interface; the shipped `RecordingBankAdapter` writes
what it would send to the `bank_notifications` table (query it, or replace the
adapter in `services/loss/main.py`). It runs as its own durable consumer
(`loss-bank`) so a slow bank never delays loss reporting.
"""

from __future__ import annotations

from typing import Protocol

from services.common.bus import Subscription
from services.common.db import UnitOfWork
from services.loss import store
from sscard.events.v1 import envelope_pb2, loss_events_pb2


class BankAdapter(Protocol):
    async def loss_changed(self, uow: UnitOfWork, event_id: str, event: loss_events_pb2.CardLossChanged) -> None: ...


class RecordingBankAdapter:
    """Records each notification once (the consumer's inbox makes it exactly-once)."""

    async def loss_changed(self, uow: UnitOfWork, event_id: str, event: loss_events_pb2.CardLossChanged) -> None:
        await store.record_bank_notification(uow.conn, event_id, event.bank_code or "UNKNOWN", event.card_no, event.loss_state, uow.now_us)


def subscriptions(adapter: BankAdapter) -> list[Subscription]:
    async def notify(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: loss_events_pb2.CardLossChanged) -> None:
        await adapter.loss_changed(uow, envelope.event_id, event)

    return [
        Subscription(f"sscard.loss.card.{what}", loss_events_pb2.CardLossChanged, notify)
        for what in ("reported", "lifted", "expired")
    ]
