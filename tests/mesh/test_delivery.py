"""At-least-once delivery made effectively-once: duplicates, stale events and restarts change nothing."""

from __future__ import annotations

import asyncio
from datetime import date

import sqlalchemy as sa

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.ids import new_id
from services.settlement import store
from sscard.cards.v1 import cards_pb2
from sscard.events.v1 import envelope_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY, Mesh, nats_connect
from tests.mesh.test_loss import NAME, holder, temporary
from tests.mesh.test_story import balance, check, issue_card, settle

BOOKKEEPING = {"outbox", "inbox", "inbox_sequences", "event_sequences", "idempotency", "audit_log", "schema_migrations"}


async def snapshot(mesh: Mesh) -> dict[str, list[tuple]]:
    """Every domain row of every service (bookkeeping tables excluded)."""
    state: dict[str, list[tuple]] = {}
    for service, runtime in mesh.runtimes.items():
        for name, table in runtime.db.metadata.tables.items():
            if name not in BOOKKEEPING:
                rows = await runtime.db.read(lambda c, t=table: c.execute(sa.select(t)))
                state[f"{service}.{name}"] = sorted(tuple(r) for r in rows)
    return state


async def drained(mesh: Mesh) -> None:
    """Wait until every durable consumer has acked everything in its stream."""
    await mesh.settle_idle()

    async def pending() -> int:
        total = 0
        for runtime in mesh.runtimes.values():
            for consumer in runtime.consumers:  # each service may read only its own consumers
                info = await runtime.js.consumer_info(consumer.stream, consumer.name)
                total += info.num_pending + info.num_ack_pending
        return total

    await eventually(pending, lambda n: n == 0)


async def all_messages(js, stream: str) -> list:  # noqa: ANN001
    info = await js.stream_info(stream)
    return [await js.get_msg(stream, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


async def setup_card(mesh: Mesh, serial: int = 1) -> tuple[str, str]:
    client = mesh.client
    citizen_id = make_citizen_id("110105", date(1979, 2, 3), serial)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=f"reg-{serial}", citizen_id=citizen_id, name="赵六", region_code="110000",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    card = await issue_card(mesh, person.person_id, citizen_id)
    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id=f"alloc-{serial}", person_id=person.person_id, amount_fen=20000, period="2026-11")), lambda r: True)
    return card.card_no, citizen_id


async def test_every_event_delivered_twice_and_stale_events_change_nothing(mesh: Mesh) -> None:
    client = await mesh.start()
    card_no, citizen_id = await setup_card(mesh)
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    await eventually(lambda: settle(client, card_no, 1234, "m1", pin=""), lambda r: True)
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="l1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="赵六"))
    await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="lift1", card_no=card_no, citizen_id=citizen_id))
    await drained(mesh)
    before = await snapshot(mesh)

    # Republishing every service's events takes the test's own admin: no service may (natsd.permissions).
    admin = await nats_connect(mesh.nats_url)
    js = admin.jetstream()
    republished = 0
    for stream in ("IDENTITY", "CARDS", "LOSS", "SETTLEMENT"):
        for msg in await all_messages(js, stream):
            # A fresh Nats-Msg-Id defeats the stream's dedupe: consumers see a true duplicate.
            await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": new_id("dup")})
            republished += 1
    # A stale "reported" (older sequence, new event id) arriving after "lifted" must not suspend the card.
    reported = next(m for m in await all_messages(js, "LOSS") if m.subject == "sscard.loss.card.reported")
    stale = envelope_pb2.Envelope.FromString(reported.data)
    stale.event_id = new_id("evt")
    await js.publish(reported.subject, stale.SerializeToString())
    await admin.close()
    await drained(mesh)

    assert republished >= 8
    assert await snapshot(mesh) == before
    assert (await check(client, card_no)).usability == spb.CARD_USABILITY_USABLE
    skipped = sum(c.skipped for r in mesh.runtimes.values() for c in r.consumers)
    assert skipped >= republished


async def test_consumer_restarted_mid_stream_applies_each_event_once(mesh: Mesh) -> None:
    client = await mesh.start()
    card_no, citizen_id = await setup_card(mesh)
    await drained(mesh)
    await mesh.runtimes.pop("settlement").stop()
    cycles = 25
    for i in range(cycles):
        await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
            request_id=f"l{i}", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="赵六"))
        await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id=f"u{i}", card_no=card_no, citizen_id=citizen_id))
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="final", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="赵六"))
    await mesh.settle_idle()

    # Start settlement, stop it as soon as it has applied part of the backlog, start it again.
    runtime = await mesh.start_service("settlement")
    loss_consumer = next(c for c in runtime.consumers if c.stream == "LOSS")
    await eventually(lambda: asyncio.sleep(0, loss_consumer.handled), lambda n: n > 0, interval=0.001)
    await mesh.runtimes.pop("settlement").stop()
    await mesh.restart_client_after(await mesh.start_service("settlement"))
    await drained(mesh)

    settlement = mesh.runtimes["settlement"]
    from services.settlement import store

    halts = await settlement.db.read(store.halts)
    assert len(halts) == cycles + 1  # one per report, none twice
    inbox = settlement.db.table("inbox")
    applied = await settlement.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == "settlement-loss")))
    assert applied.scalar() == 2 * cycles + 1
    refused = await client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no), metadata=PHARMACY.metadata())
    assert refused.refusal_reason == "CARD_REPORTED_LOST"


async def test_a_card_activated_before_settlement_hears_of_its_holder_still_gets_the_account(mesh: Mesh) -> None:
    """The IDENTITY and CARDS streams are not ordered with each other: settlement may apply a card's
    activation before the person's registration. The account must still follow the card."""
    client = await mesh.start()
    runtime = mesh.runtimes["settlement"]
    consumer = next(c for c in runtime.consumers if c.stream == "IDENTITY")
    task = next(t for t in runtime._tasks if t.get_name() == f"settlement:{consumer.name}")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    citizen_id = make_citizen_id("110105", date(1990, 2, 2), 77)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="late-reg", citizen_id=citizen_id, name="晚到", region_code="999900",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    card = (await eventually(lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id="late-apply", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True)).card
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(request_id="late-h", card_no=card.card_no,
                                                                pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(request_id="late-a", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    db = runtime.db

    await eventually(lambda: db.read(lambda c: store.get_card(c, card.card_no)), lambda p: p is not None and p.card_state == "active")
    assert await db.read(lambda c: store.get_account(c, person.person_id)) is None  # settlement has not heard of the person yet
    runtime._spawn(consumer.name, consumer.run)
    account = await eventually(lambda: db.read(lambda c: store.get_account(c, person.person_id)), lambda a: a is not None and a.card_no == card.card_no)
    assert account.balance_fen == 0
    await client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id="late-al", person_id=person.person_id, amount_fen=900, period="2026-11"))
    assert await balance(client, card.card_no) == 900


async def test_a_timed_out_wait_says_whether_the_event_was_lost_stuck_or_slow(mesh: Mesh) -> None:
    """Mesh.where_is, what the ledger suite prints when a wait times out."""
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, serial=61)
    await mesh.settle_idle()
    handled = await mesh.where_is(card_no)
    assert "handled by settlement-cards" in handled and "STUCK" not in handled and "SLOW" not in handled
    assert "LOST" in await mesh.where_is("C000000000000")
    relay = mesh.runtimes["loss"].relay
    assert relay is not None
    relay.js = None  # the loss relay can no longer publish: what it writes stays in its outbox
    await client.loss.ReportTemporaryLoss(temporary(card_no, "where-1", citizen_id=citizen_id, name=NAME))
    assert "STUCK in loss's outbox" in await mesh.where_is(card_no)
