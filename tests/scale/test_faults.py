"""The reliability suite's faults on the production topology (tests/scale/topology.py: two `sscard serve`
processes per service on PostgreSQL, a three-node JetStream cluster, streams R3), injected from outside
the processes — through the bus as its admin, and with signals — and judged by the same workload and
model as tests/reliability: after each phase every service must hold exactly what the clients were
told (lost 0, doubled 0), and no settlement may start and succeed on a card more than the feed bound
after its loss was reported.

  delivered-twice   every event published again under a fresh Nats-Msg-Id (stream dedupe cannot catch it)
  instance-killed   SIGKILL each service's instances in turn mid-workload: relays between publish and mark,
                    consumers between effect and ack, settlement mid-transaction
  consumer-lagging  settlement's loss consumer paused (JetStream consumer pause): settlement must ask the
                    loss service itself once its feed is older than the bound
  nats-rolling      each NATS node SIGKILLed and started again in turn, mid-workload
  out-of-order      every loss consumer paused, the loss events of a burst of reports and lifts taken off
                    the stream and delivered again shuffled (a lift before its report)

The clock-jump scenario stays in tests/reliability (these processes run on the system clock).
`make test` (PostgreSQL pass) runs each phase briefly; `make test-scale` runs them long.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from services.common import bus
from services.common.config import SERVICES
from services.common.ids import new_id
from tests.harness import pg_url
from tests.reliability.workload import Workload, finish, seed_of
from tests.scale.test_scale import FULL
from tests.scale.topology import SeenFromOutside, Topology

pytestmark = pytest.mark.skipif(pg_url() is None, reason="the production topology runs on PostgreSQL: set SSCARD_TEST_PG_URL")

N_OPS = 120 if FULL else 16
N_CARDS = 6 if FULL else 3
MARK = "Sscard-Fault"  # the header on what the test itself published, so it is never duplicated again
BOUND_S = 1.0  # settings.loss_feed_max_lag_s


class Duplicator:
    """Publishes every event it sees on the bus once more with a fresh Nats-Msg-Id: each consumer
    receives a true duplicate, as from a relay that lost its publish acknowledgement."""

    def __init__(self, nc: Any) -> None:
        self.nc, self.js = nc, nc.jetstream()
        self.faults = 0
        self.sub: Any = None

    async def _again(self, msg: Any) -> None:
        if (msg.headers or {}).get(MARK):
            return
        await self.js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": new_id("dup"), MARK: "twice"})
        self.faults += 1

    async def __aenter__(self) -> "Duplicator":
        self.sub = await self.nc.subscribe("sscard.>", cb=self._again)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.nc.flush()
        await self.sub.unsubscribe()


async def pause(js: Any, stream: str, names: list[str]) -> None:
    until = (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in names:
        assert (await js.pause_consumer(stream, name, until)).paused, f"{name} did not pause"


async def resume(js: Any, stream: str, names: list[str]) -> None:
    for name in names:
        await js.resume_consumer(stream, name)


async def loss_outbox_drained(mesh: SeenFromOutside, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while await bus.outbox_backlog(mesh.runtimes["loss"].db):
        assert time.monotonic() < deadline, "the loss outbox did not drain"
        await asyncio.sleep(0.02)


async def replicas_current(topology: Topology, timeout: float = 60.0) -> None:
    """Every stream's every replica is back online and caught up (before the next node may go)."""
    nc = await topology.admin()
    try:
        js, deadline = nc.jetstream(), time.monotonic() + timeout
        for name in bus.STREAMS:
            while True:
                try:
                    info = await js.stream_info(name.upper())
                    replicas = (info.cluster.replicas or []) if info.cluster else []
                    if len(replicas) == 2 and all(r.current and not r.offline for r in replicas):
                        break
                except Exception:
                    pass
                assert time.monotonic() < deadline, f"stream {name.upper()} replicas not current"
                await asyncio.sleep(0.2)
    finally:
        await nc.close()


async def feed_caught_up(js: Any, consumer: str, since: float, timeout: float = 60.0) -> float:
    """Seconds from `since` until the durable consumer has nothing pending or unacknowledged."""
    while True:
        try:
            info = await js.consumer_info("LOSS", consumer, timeout=0.5)
            if info.num_pending + info.num_ack_pending == 0:
                return time.monotonic() - since
        except Exception:
            pass  # the API answers again once the cluster has a leader for the consumer
        assert time.monotonic() - since < timeout, f"{consumer} did not catch up within {timeout} s"
        await asyncio.sleep(0.02)


async def toggle_losses(workload: Workload, rounds: int) -> None:
    for _ in range(rounds):
        for _, card_no, citizen_id in workload.cards:
            if workload.model.lost[card_no]:
                await workload.lift(card_no, citizen_id)
            else:
                await workload.report(card_no, citizen_id)


async def test_the_reliability_faults_on_the_production_topology(topology: Topology) -> None:
    client = topology.client()
    mesh = SeenFromOutside(topology, client)
    admin = await topology.admin()
    js = admin.jetstream()
    workload = Workload(mesh, seed_of("topology"), loss_bound_s=BOUND_S)  # type: ignore[arg-type]
    try:
        await workload.setup(N_CARDS)
        await mesh.settle_idle(timeout=60)

        async with Duplicator(admin) as duplicator:
            await workload.run(N_OPS)
        await finish(workload, "topology delivered-twice", duplicator.faults)

        kills = 0
        for index in range(topology.instances if FULL else 1):
            for service in SERVICES:
                topology.kill_instance(service, index)
                kills += 1
                await workload.run(N_OPS // 4)
                topology.start_instance(service, index)
                await topology.wait_serving()
        await finish(workload, "topology instance-killed", kills)

        feed = "settlement-loss"
        await pause(js, "LOSS", [feed])
        held = 0
        for _ in range(max(N_OPS // 12, 2)):
            await toggle_losses(workload, 1)
            held += len(workload.cards)
            await asyncio.sleep(BOUND_S + 0.3)
            for _, card_no, _ in workload.cards:
                await workload.settle(card_no)  # a lost card's settlement refused although the feed is stopped
        await resume(js, "LOSS", [feed])
        await finish(workload, "topology consumer-lagging", held)

        fresh_after: list[float] = []
        for node in topology.nats.nodes:
            node.kill()
            # The window a lost node may open: from a loss report to settlement's own feed holding it
            # again (until then settlement asks the loss service for every card-present settlement).
            _, card_no, citizen_id = workload.cards[0]
            reported = time.monotonic()
            await (workload.lift if workload.model.lost[card_no] else workload.report)(card_no, citizen_id)
            await loss_outbox_drained(mesh)
            fresh_after.append(await feed_caught_up(js, "settlement-loss", reported))
            await workload.run(N_OPS // 3)
            node.start()
            await replicas_current(topology)
        print(f"settlement's loss feed caught up {', '.join(f'{s:.2f}' for s in fresh_after)} s after a report with a NATS node down")
        # Bounded by JetStream's own Raft: a stream or consumer whose leader was on the dead node takes
        # nats-server's election timeout (4-9 s) to elect another; no 5 s client timeout or 30 s ack
        # wait adds to it. Meanwhile settlement asks the loss service itself (the bound above held).
        assert max(fresh_after) < 12.0, f"a lost NATS node left settlement's loss feed stale for {max(fresh_after):.1f} s"
        await finish(workload, "topology nats-rolling", len(topology.nats.nodes))

        # Last: it leaves fewer halts than reports on purpose (the phases before count them exactly).
        consumers = [c.name for c in await js.consumers_info("LOSS")]
        first = (await js.stream_info("LOSS")).state.last_seq + 1
        await pause(js, "LOSS", consumers)
        await toggle_losses(workload, max(N_OPS // 8, 2))
        await loss_outbox_drained(mesh)
        last = (await js.stream_info("LOSS")).state.last_seq
        burst = [await js.get_msg("LOSS", seq) for seq in range(first, last + 1)]
        for seq in range(first, last + 1):
            await js.delete_msg("LOSS", seq)
        workload.rng.shuffle(burst)
        for msg in burst:
            await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": new_id("shuffled"), MARK: "shuffled"})
        await resume(js, "LOSS", consumers)
        await mesh.settle_idle(timeout=60)
        for _, card_no, _ in workload.cards:
            await workload.settle(card_no)  # refused exactly when the model says lost
        # A stale report arriving after a newer lift is skipped: fewer halts than reports is right here.
        await finish(workload, "topology out-of-order", len(burst), halts_exact=False)
    finally:
        await admin.close()
        await mesh.close()
        await client.close()
