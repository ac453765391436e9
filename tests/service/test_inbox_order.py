"""Two instances of one service share a durable consumer, so they may hold two events of one
aggregate at the same moment. The newer snapshot must win whichever commits last: found on the
production topology (tests/scale), where a card's `activated` snapshot landed after its
`pin_changed` and settlement forgot the card's PIN."""

from __future__ import annotations

import asyncio

from services.common import bus
from services.common.clock import SystemClock
from services.common.db import Database
from services.settlement import store
from sscard.events.v1 import envelope_pb2
from sscard.loss.v1 import loss_pb2
from tests.harness import Databases


async def test_an_older_event_held_by_another_instance_never_lands_after_a_newer_one(databases: Databases) -> None:
    db = Database(await databases.url("settlement"), store.metadata, store.MIGRATIONS, "settlement", SystemClock())
    await db.migrate()
    applied: list[int] = []
    newer_in_progress, newer_may_commit = asyncio.Event(), asyncio.Event()

    async def handle(uow, envelope, payload) -> None:  # noqa: ANN001
        applied.append(envelope.sequence)
        if envelope.sequence == 3:  # instance A holds the newer event's transaction open
            newer_in_progress.set()
            await newer_may_commit.wait()

    subscription = bus.Subscription("sscard.loss.card.reported", loss_pb2.ReportTemporaryLossResponse, handle)
    instances = [bus.EventConsumer(db, None, "settlement-loss", "LOSS", [subscription]) for _ in range(2)]

    def event(sequence: int) -> envelope_pb2.Envelope:
        return envelope_pb2.Envelope(event_id=f"evt-{sequence}", event_type="loss.reported", aggregate_id="C0001", sequence=sequence, producer="loss")

    async def apply(consumer: bus.EventConsumer, sequence: int) -> bool:
        return await db.transact(lambda uow: consumer.apply(uow, event(sequence), None, subscription))

    try:
        assert await apply(instances[0], 1)
        newer = asyncio.create_task(apply(instances[0], 3))
        await newer_in_progress.wait()
        older = asyncio.create_task(apply(instances[1], 2))  # instance B, meanwhile, with the older event
        await asyncio.sleep(0.2)
        newer_may_commit.set()
        assert await newer is True
        assert await older is False, "the older snapshot was applied after the newer one"
        assert applied == [1, 3]
    finally:
        await db.close()
