"""The bound on how stale settlement's view of lost cards may be.

Settlement refuses lost cards from its own projection, fed by the loss
service's events: fast (no network hop on the hot path) but only as current
as its LOSS consumer. This guard watches that consumer. While it is caught up
(nothing pending or unacknowledged) within the last `loss_feed_max_lag_s`, the
projection is trusted. Once it falls further behind — NATS down, the consumer
stuck, a flood of events — every card-present settlement asks the loss service
directly (GetLossState), and if the loss service cannot answer either, the
settlement is refused with UNAVAILABLE / LOSS_STATE_UNKNOWN: sscard fails
closed rather than pay on a card that may have been reported lost.

The promise: a loss committed by the loss service at time t is refused by
settlement from t + relay lag + consumer lag, and never later than t + relay
lag + loss_feed_max_lag_s + one poll, whatever the consumer's backlog.
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
        self.caught_up_at: float | None = None  # time.monotonic() of the last poll that found nothing pending
        self.read_throughs = 0

    async def run(self) -> None:
        consumer = next(c for c in self.rt.consumers if c.stream == "LOSS")
        while True:
            try:
                info = await self.rt.js.consumer_info(consumer.stream, consumer.name)
                if info.num_pending + info.num_ack_pending == 0:
                    self.caught_up_at = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:  # NATS unreachable: the projection simply ages
                pass
            await asyncio.sleep(self.poll_s)

    def fresh(self) -> bool:
        return self.caught_up_at is not None and time.monotonic() - self.caught_up_at <= self.bound_s

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
