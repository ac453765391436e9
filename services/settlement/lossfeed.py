"""The bound on how stale settlement's view of lost cards may be.

Settlement refuses lost cards from its own projection, fed by the loss
service's events: fast (no network hop on the hot path) but only as current as
two things — the loss service's outbox relay (commit -> JetStream) and
settlement's LOSS consumer (JetStream -> projection). This guard watches both.
Every poll it reads the loss relay's heartbeat (`R`: every loss committed
before wall time R is on JetStream; see bus.OutboxRelay), then asks whether the
consumer has everything on the stream applied. If it has, every loss committed
before R is in the projection: `applied_through = R`.

While `now - applied_through <= loss_feed_max_lag_s`, the projection is
trusted. Otherwise — the loss relay stalled, NATS down, the consumer stuck or
flooded — every card-present settlement asks the loss service directly
(GetLossState), and if the loss service cannot answer either, the settlement
is refused with UNAVAILABLE / LOSS_STATE_UNKNOWN: sscard fails closed rather
than pay on a card that may have been reported lost.

The promise: a loss committed by the loss service at wall time t is refused by
every settlement that starts after t + loss_feed_max_lag_s (plus the clock skew
between the two hosts), whatever happens to the relay, NATS or the consumer.
Normally it is refused much sooner: t + relay lag + consumer lag (~60 ms).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import grpc

from services.common import observability
from services.common.errors import Unavailable
from sscard.loss.v1 import loss_pb2, loss_pb2_grpc

log = logging.getLogger("sscard.settlement.lossfeed")

LOST_STATES = {loss_pb2.LOSS_STATE_TEMPORARY, loss_pb2.LOSS_STATE_FORMAL}


class LossFeedGuard:
    def __init__(self, runtime: Any, poll_s: float = 0.1) -> None:
        self.rt = runtime
        self.bound_s = runtime.settings.loss_feed_max_lag_s
        self.poll_s = poll_s
        self.applied_through_us: int | None = None  # every loss committed before this wall time is in the projection
        self.read_throughs = 0

    async def run(self) -> None:
        consumer = next(c for c in self.rt.consumers if c.stream == "LOSS")
        while True:
            try:
                published_through_us = int((await self.rt.heartbeats.get("loss")).value)
                # Read the heartbeat first: the consumer check then covers everything it vouches for.
                info = await self.rt.js.consumer_info(consumer.stream, consumer.name)
                if info.num_pending + info.num_ack_pending == 0:
                    self.applied_through_us = max(self.applied_through_us or 0, published_through_us)
            except asyncio.CancelledError:
                raise
            except Exception:  # NATS unreachable, no heartbeat yet: the projection simply ages
                pass
            await asyncio.sleep(self.poll_s)

    def fresh(self) -> bool:
        if self.applied_through_us is None:
            return False
        return time.time_ns() // 1000 - self.applied_through_us <= self.bound_s * 1_000_000

    async def lost_upstream(self, card_no: str, timeout: float | None) -> bool:
        """True if the loss service says the card is lost; False if the feed is fresh or it is not lost."""
        if self.fresh() or not card_no:
            return False
        self.read_throughs += 1
        observability.LOSS_READ_THROUGHS.labels(self.rt.service).inc()
        stub = loss_pb2_grpc.LossServiceStub(self.rt.peer("loss"))
        try:
            state = await stub.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no), timeout=min(timeout or 2.0, 2.0))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False  # the loss service has never seen the card: it cannot have been reported lost
            log.warning("loss feed stale and loss service unreachable (%s); refusing", error.code().name)
            raise Unavailable("LOSS_STATE_UNKNOWN", "card loss state cannot be confirmed now; retry with the same msg_id") from None
        return state.state in LOST_STATES
