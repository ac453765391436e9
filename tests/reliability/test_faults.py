"""Faults injected into the real mesh (real nats-server, real services, real databases), each run
from a printed seed, each ending with every service compared against a single-threaded model of
the acknowledged operations: nothing lost, nothing doubled.

`make test` runs each scenario briefly; `make reliability` (SSCARD_RELIABILITY=full) runs them long
and prints the table. Replay one with SSCARD_SEED=<seed>.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from nats.aio.msg import Msg

from services.client import eventually
from services.common import observability
from services.common.ids import new_id
from services.common.natsd import NatsServer
from sscard.loss.v1 import loss_pb2
from tests.harness import Mesh
from tests.reliability.workload import FULL, Workload, finish, seed_of

N_OPS = 300 if FULL else 30
N_CARDS = 6 if FULL else 3


async def begin(mesh: Mesh, scenario: str, **overrides: object) -> Workload:
    mesh.overrides.update(overrides)
    await mesh.start()
    workload = Workload(mesh, seed_of(scenario), loss_bound_s=float(overrides.get("loss_feed_max_lag_s", 1.0)))  # type: ignore[arg-type]
    await workload.setup(N_CARDS)
    await mesh.settle_idle()
    return workload


class FaultyJetStream:
    """Stands in for a relay's JetStream context and misbehaves on publish, by seed."""

    def __init__(self, js: Any, rng: random.Random, mode: str, p: float = 0.15) -> None:
        self.js, self.rng, self.mode, self.p = js, rng, mode, p
        self.faults = 0
        self.held: list[tuple[str, bytes, dict[str, str]]] = []
        self.rolled: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.js, name)

    async def publish(self, subject: str, data: bytes, headers: dict[str, str] | None = None, timeout: float | None = None) -> Any:
        headers = headers or {}
        if self.mode == "hold":  # keep it back; flush_shuffled() delivers later, out of order
            self.held.append((subject, data, headers))
            self.faults += 1
            return None
        ack = await self.js.publish(subject, data, headers=headers)
        if self.mode == "twice":  # a fresh Nats-Msg-Id defeats stream dedupe: consumers see a true duplicate
            await self.js.publish(subject, data, headers={"Nats-Msg-Id": new_id("dup")})
            self.faults += 1
        elif self.mode == "crash" and headers.get("Nats-Msg-Id") not in self.rolled:
            # Each event's die is cast once: published, then (by chance) the relay dies before it marks
            # the batch sent, and the whole batch goes out again after the restart.
            self.rolled.add(headers.get("Nats-Msg-Id", ""))
            if self.faults and self.rng.random() >= self.p:  # each relay dies at least once
                return ack
            self.faults += 1
            raise RuntimeError("relay killed between publish and mark")
        return ack

    async def flush_shuffled(self) -> int:
        held, self.held = self.held, []
        self.rng.shuffle(held)
        for subject, data, headers in held:
            await self.js.publish(subject, data, headers=headers)
        return len(held)


def faulty_relays(mesh: Mesh, rng: random.Random, mode: str, services: tuple[str, ...] = ("identity", "cards", "loss", "settlement")) -> list[FaultyJetStream]:
    proxies = []
    for service in services:
        relay = mesh.runtimes[service].relay
        assert relay is not None
        relay.js = FaultyJetStream(relay.js, rng, mode)
        proxies.append(relay.js)
    return proxies


async def test_relay_killed_between_publish_and_mark(mesh: Mesh) -> None:
    workload = await begin(mesh, "relay-killed")
    proxies = faulty_relays(mesh, workload.rng, "crash")
    await workload.run(N_OPS)
    await finish(workload, "relay-killed", sum(p.faults for p in proxies))


async def test_consumer_killed_between_effect_and_ack(mesh: Mesh, monkeypatch: pytest.MonkeyPatch) -> None:
    workload = await begin(mesh, "consumer-killed")
    rng, faults = random.Random(workload.seed), [0]
    real_ack = Msg.ack

    async def ack_or_die(self: Msg) -> None:
        if rng.random() < 0.3 and self.metadata.num_delivered < 5:
            faults[0] += 1
            await self.nak()  # the effect committed; the ack never came: the server delivers it again
            return
        await real_ack(self)

    monkeypatch.setattr(Msg, "ack", ack_or_die)
    await workload.run(N_OPS)
    for _ in range(20):  # a seed whose operations gave the consumers little to ack: more, until a fault lands
        if faults[0]:
            break
        await workload.run(5)
    await mesh.settle_idle(timeout=60)
    monkeypatch.setattr(Msg, "ack", real_ack)
    await finish(workload, "consumer-killed", faults[0])


async def test_nats_server_restarted_mid_stream(mesh: Mesh, nats_server: NatsServer) -> None:
    workload = await begin(mesh, "nats-restarted")
    restarts = 2
    for _ in range(restarts):
        await workload.run(N_OPS // (restarts + 1))
        await asyncio.to_thread(nats_server.restart)
    await workload.run(N_OPS // (restarts + 1))
    await finish(workload, "nats-restarted", restarts)


async def test_every_event_delivered_twice(mesh: Mesh) -> None:
    workload = await begin(mesh, "delivered-twice")
    proxies = faulty_relays(mesh, workload.rng, "twice")
    await workload.run(N_OPS)
    await finish(workload, "delivered-twice", sum(p.faults for p in proxies))


async def test_loss_events_delivered_out_of_order(mesh: Mesh) -> None:
    """Reports and lifts of each card reach cards and settlement shuffled (a lift before its report)."""
    workload = await begin(mesh, "out-of-order")
    (proxy,) = faulty_relays(mesh, workload.rng, "hold", services=("loss",))
    for _ in range(N_OPS // 2):
        _, card_no, citizen_id = workload.rng.choice(workload.cards)
        if workload.model.lost[card_no]:
            await workload.lift(card_no, citizen_id)
        else:
            await workload.report(card_no, citizen_id)
    relay = mesh.runtimes["loss"].relay
    assert relay is not None
    while await relay.backlog():  # every committed event has reached the proxy
        await asyncio.sleep(0.01)
    proxy.mode = "pass"
    faults = await proxy.flush_shuffled()
    await mesh.settle_idle(timeout=60)
    for _, card_no, _ in workload.cards:
        await workload.settle(card_no)  # refused exactly when the model says lost
    # A stale report arriving after a newer lift is skipped, so fewer halts than reports is right here.
    await finish(workload, "out-of-order", faults, halts_exact=False)


async def test_settlement_restarted_under_load(mesh: Mesh) -> None:
    workload = await begin(mesh, "settlement-restarted")
    restarts = 2 if not FULL else 4

    async def worker(n: int) -> None:
        for _ in range(n):
            _, card_no, _ = workload.rng.choice(workload.cards)
            await workload.settle(card_no)

    async def restarter() -> None:
        for _ in range(restarts):
            await asyncio.sleep(0.5)
            await mesh.restart("settlement")

    await asyncio.gather(*(worker(N_OPS // 4) for _ in range(4)), restarter())
    await workload.run(N_OPS // 4)  # and the rest of the workload after
    await finish(workload, "settlement-restarted", restarts)


async def test_consumer_lagging_far_behind_cannot_let_a_lost_card_settle(mesh: Mesh) -> None:
    """Settlement's loss consumer is stopped; after the bound, settlement asks the loss service itself."""
    bound = 0.3
    workload = await begin(mesh, "consumer-lagging", loss_feed_max_lag_s=bound)
    runtime = mesh.runtimes["settlement"]
    consumer = next(c for c in runtime.consumers if c.stream == "LOSS")
    task = next(t for t in runtime._tasks if t.get_name() == f"settlement:{consumer.name}")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    asked_before = read_throughs()
    held = 0
    for _ in range(max(N_OPS // 10, 2)):
        for _, card_no, citizen_id in workload.cards:
            if workload.model.lost[card_no]:
                await workload.lift(card_no, citizen_id)
            else:
                await workload.report(card_no, citizen_id)
            held += 1
        await asyncio.sleep(bound + 0.3)
        refused_before = workload.model.accepted.copy()
        for _, card_no, _ in workload.cards:
            await workload.settle(card_no)
            if workload.model.lost[card_no]:
                assert len(workload.model.accepted) == len(refused_before), f"seed {workload.seed}: lost card {card_no} settled while the feed lagged"
            refused_before = workload.model.accepted.copy()
    assert read_throughs() > asked_before, "settlement never asked the loss service while its feed lagged"
    runtime._spawn(consumer.name, consumer.run)
    await finish(workload, "consumer-lagging", held)


def read_throughs() -> float:
    return observability.LOSS_READ_THROUGHS.labels("settlement")._value.get()


async def test_clock_jump_across_a_temporary_loss_expiry(mesh: Mesh) -> None:
    workload = await begin(mesh, "clock-jump")
    for _, card_no, citizen_id in workload.cards:
        await workload.report(card_no, citizen_id)
    await mesh.settle_idle()
    for _, card_no, _ in workload.cards:
        await workload.settle(card_no)
    assert not workload.model.accepted, "a lost card settled"
    jumps = 0
    for delta in (timedelta(days=7, hours=1), timedelta(days=30)):  # past the demo region's 7 days, then far beyond
        mesh.clock.advance(delta)
        jumps += 1
        for _, card_no, _ in workload.cards:
            await eventually(lambda c=card_no: mesh.client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=c)),
                             lambda r: r.state == loss_pb2.LOSS_STATE_NONE, timeout=20)
            workload.model.lost[card_no] = False
    await mesh.settle_idle()
    for _, card_no, _ in workload.cards:
        state = await mesh.client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))
        expired = sum(1 for h in state.history if h.what == "expired")
        assert expired == 1, f"seed {workload.seed}: {card_no} expired {expired} times"
        await workload.settle(card_no)
    assert len(workload.model.accepted) == len(workload.cards), "expired losses should settle again with no human action"
    await workload.run(N_OPS // 2)
    await finish(workload, "clock-jump", jumps)

