"""The bound on how stale settlement's view of cards, holders and losses may be.

Settlement decides from its own projections, fed by three streams: LOSS (a card
reported lost, lifted, expired), IDENTITY (a holder deceased or moved out of the
province: the personal account is closed) and CARDS (a card cancelled, replaced,
locked). Fast — no network hop on the hot path — but each projection is only as
current as two things: the producer's outbox relay (commit -> JetStream) and
settlement's consumer of that stream (JetStream -> projection). This guard watches
both, per stream. Every poll it reads the producer relay's heartbeat (`R`: every
event committed before wall time R is on JetStream; see bus.OutboxRelay), then
asks whether the consumer has everything on the stream applied. If it has, every
event of that producer committed before R is in the projection:
`applied_through[stream] = R`.

While `now - applied_through <= loss_feed_max_lag_s` for every stream, the
projections are trusted and settlement asks no one. A stream that lags — its
relay stalled, NATS down, the consumer stuck or flooded — makes every card-present
settlement ask that stream's producer directly (loss: GetLossState; identity:
GetPerson; cards: GetCard), and if the producer cannot answer, the settlement is
refused with UNAVAILABLE and a reason naming what cannot be confirmed
(LOSS_STATE_UNKNOWN, HOLDER_STATE_UNKNOWN, CARD_STATE_UNKNOWN): sscard fails
closed rather than pay on a card that may have been reported lost, cancelled, or
whose holder died or moved away.

The promise, the same for a loss report, a death, a transfer out of the province
and a card cancellation: committed by its service at wall time t, it is refused by
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
from services.settlement import benefits, domain
from services.settlement.domain import Account, CardProjection
from sscard.cards.v1 import cards_pb2, cards_pb2_grpc
from sscard.identity.v1 import identity_pb2, identity_pb2_grpc
from sscard.loss.v1 import loss_pb2, loss_pb2_grpc

log = logging.getLogger("sscard.settlement.feeds")

# Stream -> the producing service whose relay heartbeat vouches for it.
FEEDS = {"LOSS": "loss", "IDENTITY": "identity", "CARDS": "cards"}
UNKNOWN = {"LOSS": "LOSS_STATE_UNKNOWN", "IDENTITY": "HOLDER_STATE_UNKNOWN", "CARDS": "CARD_STATE_UNKNOWN"}
ASK_TIMEOUT_S = 0.5
LOST_STATES = {loss_pb2.LOSS_STATE_TEMPORARY, loss_pb2.LOSS_STATE_FORMAL}


class FeedGuard:
    def __init__(self, runtime: Any, poll_s: float = 0.1) -> None:
        self.rt = runtime
        self.bound_s = runtime.settings.loss_feed_max_lag_s
        self.poll_s = poll_s
        # Per stream: every event its producer committed before this wall time (µs) is in our projection.
        self.applied_through_us: dict[str, int] = {}
        self.read_throughs = 0

    async def run(self) -> None:
        consumers = [c for c in self.rt.consumers if c.stream in FEEDS]
        while True:
            for consumer in consumers:
                await self._poll(consumer)
            await asyncio.sleep(self.poll_s)

    async def _poll(self, consumer: Any) -> None:
        try:
            # A request lost with a dead NATS node must not hold the guard for nats-py's 5 s: ask again.
            heartbeat = await asyncio.wait_for(self.rt.heartbeats.get(FEEDS[consumer.stream]), ASK_TIMEOUT_S)
            published_through_us = int(heartbeat.value)
            # Read the heartbeat first: the consumer check then covers everything it vouches for.
            info = await self.rt.js.consumer_info(consumer.stream, consumer.name, timeout=ASK_TIMEOUT_S)
            if info.num_pending + info.num_ack_pending == 0:
                self.applied_through_us[consumer.stream] = max(self.applied_through_us.get(consumer.stream, 0), published_through_us)
        except asyncio.CancelledError:
            raise
        except Exception:  # NATS unreachable, no heartbeat yet: the projection simply ages
            pass

    def fresh(self, stream: str) -> bool:
        applied = self.applied_through_us.get(stream)
        return applied is not None and time.time_ns() // 1000 - applied <= self.bound_s * 1_000_000

    def stale(self) -> list[str]:
        """The streams settlement may not trust now (empty on the hot path)."""
        return [stream for stream in FEEDS if not self.fresh(stream)]

    async def refusal_upstream(self, card: CardProjection, account: Account | None, timeout: float | None) -> str | None:
        """Why the producers of the lagging streams say this card may not settle (None: it may,
        as far as they know). UNAVAILABLE when one of them cannot answer."""
        stale = self.stale()
        if not stale:
            return None
        timeout = min(timeout or 2.0, 2.0)
        asks = {"LOSS": self._loss, "IDENTITY": self._holder, "CARDS": self._card}
        reasons = await asyncio.gather(*(self._ask(stream, asks[stream], card, account, timeout) for stream in stale))
        return next((r for r in reasons if r), None)

    async def _ask(self, stream: str, ask: Any, card: CardProjection, account: Account | None, timeout: float) -> str | None:
        self.read_throughs += 1
        observability.FEED_READ_THROUGHS.labels(self.rt.service, stream).inc()
        if stream == "LOSS":
            observability.LOSS_READ_THROUGHS.labels(self.rt.service).inc()
        try:
            return await ask(card, account, timeout)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None  # the producer never saw it: it cannot have changed it
            log.warning("%s feed stale and %s unreachable (%s); refusing", stream, FEEDS[stream], error.code().name)
            raise Unavailable(UNKNOWN[stream], f"the card's {FEEDS[stream]} state cannot be confirmed now; retry with the same msg_id") from None

    async def _loss(self, card: CardProjection, _account: Account | None, timeout: float) -> str | None:
        stub = loss_pb2_grpc.LossServiceStub(self.rt.peer("loss"))
        state = await stub.GetLossState(loss_pb2.GetLossStateRequest(card_no=card.card_no), timeout=timeout)
        return "CARD_REPORTED_LOST" if state.state in LOST_STATES else None

    async def _holder(self, card: CardProjection, account: Account | None, timeout: float) -> str | None:
        if account is None:
            return None  # no account: settlement refuses ACCOUNT_NOT_FOUND anyway
        stub = identity_pb2_grpc.IdentityServiceStub(self.rt.peer("identity"))
        person = (await stub.GetPerson(identity_pb2.GetPersonRequest(person_id=card.person_id), timeout=timeout)).person
        return domain.holder_refusal(
            deceased=person.status == identity_pb2.PERSON_STATUS_DECEASED,
            home_province=benefits.province_of(account.region_code),
            current_province=benefits.province_of(person.region_code),
        )

    async def _card(self, card: CardProjection, _account: Account | None, timeout: float) -> str | None:
        stub = cards_pb2_grpc.CardServiceStub(self.rt.peer("cards"))
        upstream = (await stub.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no), timeout=timeout)).card
        state = cards_pb2.CardState.Name(upstream.state).removeprefix("CARD_STATE_").lower()
        return domain.card_state_refusal(state)
