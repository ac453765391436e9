"""A durable consumer's pull loop against a real nats-server: a lone event is handled when it
arrives, not when the pull request expires (the loss -> refusal promise rides on it), and events
delivered to an instance that stops go back to the stream at once, for the next instance."""

from __future__ import annotations

import asyncio

import pytest

from services.common import bus
from services.common.clock import SystemClock
from services.common.db import Database
from services.common.natsd import NatsServer
from services.settlement import store
from sscard.events.v1 import envelope_pb2
from sscard.loss.v1 import loss_pb2
from tests.harness import Databases, nats_connect

SUBJECT = "sscard.loss.card.reported"


async def publish(js: object, card_no: str) -> None:
    envelope = envelope_pb2.Envelope(event_id=f"evt-{card_no}", event_type="card.reported", aggregate_id=card_no, sequence=1, producer="loss")
    envelope.payload.Pack(loss_pb2.ReportTemporaryLossResponse())
    await js.publish(SUBJECT, envelope.SerializeToString(), headers={"Nats-Msg-Id": envelope.event_id})  # type: ignore[attr-defined]


@pytest.fixture
async def bus_and_db(nats_server: NatsServer, databases: Databases):  # noqa: ANN201
    db = Database(await databases.url("settlement"), store.metadata, store.MIGRATIONS, "settlement", SystemClock())
    await db.migrate()
    admin = await nats_connect(nats_server.url)
    await bus.ensure_streams(admin.jetstream())
    loss = await nats_connect(nats_server.url, "loss")
    settlement = await nats_connect(nats_server.url, "settlement")
    try:
        yield loss.jetstream(), settlement.jetstream(), db
    finally:
        for nc in (settlement, loss, admin):
            await nc.close()
        await db.close()


async def test_a_lone_event_is_handled_on_arrival_not_at_the_pull_requests_expiry(bus_and_db, monkeypatch) -> None:  # noqa: ANN001
    producer, js, db = bus_and_db
    monkeypatch.setattr(bus, "PULL_EXPIRES_S", 30.0)  # a request that waited for its batch to fill would hold the event 30 s
    handled: asyncio.Queue[str] = asyncio.Queue()

    async def handle(uow, envelope, payload) -> None:  # noqa: ANN001
        handled.put_nowait(envelope.aggregate_id)

    consumer = bus.EventConsumer(db, js, "settlement-loss", "LOSS", [bus.Subscription(SUBJECT, loss_pb2.ReportTemporaryLossResponse, handle)])
    task = asyncio.create_task(consumer.run())
    try:
        for card_no in ("C1", "C2", "C3"):
            await asyncio.sleep(0.3)  # a quiet stream: the consumer's pull request is waiting
            await publish(producer, card_no)
            assert await asyncio.wait_for(handled.get(), 10) == card_no
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_events_an_instance_held_when_it_stopped_go_to_the_next_instance_at_once(bus_and_db) -> None:  # noqa: ANN001
    producer, js, db = bus_and_db
    handled: list[tuple[str, str]] = []
    first_started, never = asyncio.Event(), asyncio.Event()

    def subscription(instance: str) -> bus.Subscription:
        async def handle(uow, envelope, payload) -> None:  # noqa: ANN001
            handled.append((instance, envelope.aggregate_id))
            if instance == "A":  # instance A stops in the middle of its first event
                first_started.set()
                await never.wait()

        return bus.Subscription(SUBJECT, loss_pb2.ReportTemporaryLossResponse, handle)

    for card_no in ("C1", "C2", "C3"):
        await publish(producer, card_no)  # waiting before A pulls: one request delivers all three to A
    # A 30 s ack wait: an event A kept without handing it back would not reach B within this test.
    a = bus.EventConsumer(db, js, "settlement-loss", "LOSS", [subscription("A")], ack_wait_s=30.0)
    task = asyncio.create_task(a.run())
    await asyncio.wait_for(first_started.wait(), 10)
    await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert handled == [("A", "C1")]

    b = bus.EventConsumer(db, js, "settlement-loss", "LOSS", [subscription("B")], ack_wait_s=30.0)
    task = asyncio.create_task(b.run())
    try:
        for _ in range(100):
            if len(handled) == 4:
                break
            await asyncio.sleep(0.1)
        assert sorted(handled[1:]) == [("B", "C1"), ("B", "C2"), ("B", "C3")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_backlog_larger_than_a_pull_is_handled_without_waiting_for_expiries(bus_and_db, monkeypatch) -> None:  # noqa: ANN001
    producer, js, db = bus_and_db
    # A request whose whole batch came gets no closing status: waiting for one would stall each batch 30 s.
    monkeypatch.setattr(bus, "PULL_EXPIRES_S", 30.0)
    handled: list[str] = []

    async def handle(uow, envelope, payload) -> None:  # noqa: ANN001
        handled.append(envelope.aggregate_id)

    waiting = [f"C{i:03d}" for i in range(bus.PULL_BATCH * 2 + 20)]
    for card_no in waiting:
        await publish(producer, card_no)
    consumer = bus.EventConsumer(db, js, "settlement-loss", "LOSS", [bus.Subscription(SUBJECT, loss_pb2.ReportTemporaryLossResponse, handle)])
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(200):
            if len(handled) == len(waiting):
                break
            await asyncio.sleep(0.1)
        assert handled == waiting  # all of them, in stream order, well before a single expiry
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_event_whose_handling_fails_is_tried_again_and_the_consumer_goes_on(bus_and_db) -> None:  # noqa: ANN001
    producer, js, db = bus_and_db
    handled: list[str] = []

    async def handle(uow, envelope, payload) -> None:  # noqa: ANN001
        handled.append(envelope.aggregate_id)

    consumer = bus.EventConsumer(db, js, "settlement-loss", "LOSS", [bus.Subscription(SUBJECT, loss_pb2.ReportTemporaryLossResponse, handle)])
    process, failures = consumer._process, []

    async def flaky(msg) -> None:  # noqa: ANN001 - as when the database is down while an event is parked
        if not failures:
            failures.append(msg.subject)
            raise RuntimeError("database unavailable")
        await process(msg)

    consumer._process = flaky  # type: ignore[method-assign]
    task = asyncio.create_task(consumer.run())
    try:
        await publish(producer, "C1")
        await publish(producer, "C2")
        for _ in range(100):
            if sorted(handled) == ["C1", "C2"]:
                break
            await asyncio.sleep(0.1)
        assert failures and sorted(handled) == ["C1", "C2"]
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
