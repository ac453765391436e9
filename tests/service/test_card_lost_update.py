"""A card row written by two transactions at once keeps both changes. Found by CI's PostgreSQL
pass: a POS terminal's wrong PIN, counted by cards' settlement consumer, read the card before a
clerk's PIN change committed and wrote it back after — the holder's new PIN was silently reverted.
Every write of a card now locks its row first (cards.store.get_card(for_update=True))."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from services.cards import store
from services.cards.api import CardsCore
from services.cards.handlers import subscriptions
from sscard.events.v1 import envelope_pb2, settlement_events_pb2
from tests.harness import Mesh
from tests.service.test_settlement import insured


async def test_a_pin_change_and_a_counted_wrong_pin_at_the_same_moment_both_stay(mesh: Mesh) -> None:
    await mesh.start()
    _, card_no, _ = await insured(mesh, 1901)
    await mesh.settle_idle()
    runtime = mesh.runtimes["cards"]
    core = CardsCore(runtime)
    counted = next(s for s in subscriptions(core)["SETTLEMENT"] if s.subject.endswith("pin_attempted"))
    loaded, may_commit = asyncio.Event(), asyncio.Event()

    async def change_pin(uow):  # noqa: ANN001, ANN202 - the window's PIN change, held open after its read
        card = await core.load(uow, card_no)
        loaded.set()
        await may_commit.wait()
        await store.save_card(uow.conn, replace(card, pin_hash="f" * 64, wrong_pin_count=0))

    async def wrong_pin_at_pos(uow):  # noqa: ANN001, ANN202 - what cards does with settlement's event
        event = settlement_events_pb2.PinAttempted(card_no=card_no, correct=False, institution_code="P99990001")
        await counted.handle(uow, envelope_pb2.Envelope(event_id="evt-pos-1", aggregate_id=card_no), event)

    change = asyncio.create_task(runtime.db.transact(change_pin))
    await loaded.wait()
    count = asyncio.create_task(runtime.db.transact(wrong_pin_at_pos))
    await asyncio.sleep(0.3)  # the count runs now if nothing holds it back
    may_commit.set()
    await asyncio.gather(change, count)
    card = await runtime.db.read(lambda c: store.get_card(c, card_no))
    assert card.pin_hash == "f" * 64, "the PIN change was overwritten"
    assert card.wrong_pin_count == 1, "the wrong PIN was not counted"
