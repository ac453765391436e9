"""The event bus: NATS JetStream streams, the outbox relay and durable consumers.

Delivery is at-least-once end to end: the relay may publish a row twice (the
stream dedupes on Nats-Msg-Id = event id inside its window), and a consumer
may see an event twice (its inbox, written in the same transaction as the
effect, makes the second delivery a no-op).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import sqlalchemy as sa
from google.protobuf import message
from nats.js import api as js_api
from nats.js.errors import NotFoundError, ServiceUnavailableError

from services.common import access, natsd
from services.common.trust import SERVICE, Principal
from services.common import observability, tracing
from services.common.db import Database, UnitOfWork, fast_execute, fast_get, fast_insert, outbox_mark, outbox_pending
from sscard.events.v1 import envelope_pb2

log = logging.getLogger("sscard.bus")
event_log = logging.getLogger("sscard.event")

STREAMS = {name: f"sscard.{name}.>" for name in ("identity", "cards", "loss", "settlement")}
DUPLICATE_WINDOW_S = 600.0


DEFAULT_STREAM_MAX_AGE_S = 30 * 86400.0


def tls_context(ca: Path | None, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext | None:
    """The client TLS context for NATS: trust `ca`, present `cert`/`key` (the server verifies clients)."""
    if ca is None:
        return None
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


async def connect(
    url: str, name: str, *, user: str = "", password: str = "", tls: ssl.SSLContext | None = None, max_reconnect_attempts: int = -1,
    **options: Any,
) -> nats.NATS:
    """Connect as one NATS user; its replies and fetched events arrive under its own inbox prefix,
    the only subjects its permissions let it subscribe to (natsd.permissions)."""
    if user:
        options.update(user=user, password=password, inbox_prefix=natsd.inbox_prefix(user))
    if tls is not None:
        options.update(tls=tls)
    # A comma-separated list names several servers of one cluster (as NATS's own tools take it).
    servers: str | list[str] = [u.strip() for u in url.split(",") if u.strip()] if "," in url else url
    return await nats.connect(
        servers, name=name, max_reconnect_attempts=max_reconnect_attempts, reconnect_time_wait=0.5, connect_timeout=5, drain_timeout=5,
        **options,
    )


async def connect_as(settings: Any, name: str) -> nats.NATS:
    """Connect with a service's Settings: its NATS user, password and TLS files."""
    return await connect(
        settings.nats_url, name, user=settings.nats_user, password=settings.nats_password,
        tls=tls_context(settings.nats_ca, settings.nats_cert, settings.nats_key),
    )


def stream_config(name: str, replicas: int = 1, max_age_s: float = DEFAULT_STREAM_MAX_AGE_S) -> js_api.StreamConfig:
    """One stream per producing service: file storage, a dedupe window for relay retries, a retention limit."""
    return js_api.StreamConfig(
        name=name.upper(),
        subjects=[STREAMS[name]],
        storage=js_api.StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
        max_age=max_age_s,
    )


async def ensure_streams(js: Any, replicas: int = 1, max_age_s: float = DEFAULT_STREAM_MAX_AGE_S, owner: str = "") -> None:
    """Create every missing stream; the `owner` service also brings its own existing stream to the
    configured retention (only the owner may update it: natsd.permissions)."""
    for name in STREAMS:
        config = stream_config(name, replicas, max_age_s)
        try:
            info = await js.stream_info(config.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except Exception as failed:  # another service created it first, or the cluster could not yet
                try:
                    info = await js.stream_info(config.name)
                except NotFoundError:
                    raise StreamNotCreatedYet(f"{config.name}: {failed!r}") from failed
            else:
                continue
        if name == owner and abs((info.config.max_age or 0) - max_age_s) > 1e-3:
            log.info("stream %s: max age %ss -> %ss", config.name, info.config.max_age, max_age_s)
            await js.update_stream(info.config.evolve(max_age=max_age_s))


# A JetStream cluster that is still electing its leaders (fresh, or a node just lost) answers its
# API with a timeout, "no responders" or 503 for a few seconds: start-up waits that out.
class StreamNotCreatedYet(Exception):
    """Creating a stream failed and nobody else created it (a cluster still forming its peers)."""


JETSTREAM_NOT_READY = (nats.errors.TimeoutError, nats.errors.NoRespondersError, ServiceUnavailableError, StreamNotCreatedYet)


async def when_jetstream_answers(what: str, call: Callable[[], Awaitable[Any]], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return await call()
        except JETSTREAM_NOT_READY as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("%s: JetStream not answering yet (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


# Each relay's heartbeat: the wall time (µs) of its last outbox read that found everything published.
RELAY_HEARTBEATS = "sscard_relays"


async def relay_heartbeats(js: Any, replicas: int = 1) -> Any:
    """The key-value bucket of relay heartbeats (one key per producing service)."""
    try:
        return await js.key_value(RELAY_HEARTBEATS)
    except Exception:  # not there yet: create it (a racing creator with the same config is fine)
        return await js.create_key_value(bucket=RELAY_HEARTBEATS, history=1, storage=js_api.StorageType.FILE, replicas=replicas)


class OutboxRelay:
    """Publishes committed outbox rows to JetStream in order, then marks them sent.

    After a pass that drained the outbox it writes its heartbeat (at most every `heartbeat_every_s`)
    to the `heartbeats` bucket under the service's name: every row committed before that wall time
    (µs) is on JetStream. Settlement uses the loss, identity and cards relays' heartbeats to bound how
    stale its views of lost cards, closed accounts and withdrawn cards can be (services/settlement/feeds.py).
    """

    def __init__(
        self, db: Database, js: Any, batch: int = 256, idle_poll_s: float = 0.25, heartbeats: Any = None, heartbeat_every_s: float = 0.05,
        linger_s: float = 0.002, publish_timeout_s: float = 1.0,
    ) -> None:
        self.db = db
        # A publish whose acknowledgement does not come (its NATS node died, the stream is electing a
        # leader) is retried after this long rather than nats-py's 5 s: the stream dedupes the retry,
        # and a loss reaches settlement's feed within the bound once the cluster answers again.
        self.publish_timeout_s = publish_timeout_s
        self.js = js
        self.batch = batch
        # Woken by a commit, wait this long before reading: under load the commits of the next few
        # milliseconds share one pass (one read, one publish round trip, one mark) instead of one each.
        self.linger_s = linger_s
        self.idle_poll_s = idle_poll_s
        self.heartbeats = heartbeats
        self.heartbeat_every_s = heartbeat_every_s
        self._last_beat = 0.0
        self.wake = asyncio.Event()
        self.published = 0
        db.on_commit.append(self.wake.set)

    async def run(self) -> None:
        while True:
            # Clear before reading: a commit racing with this pass sets it again.
            self.wake.clear()
            started_us = time.time_ns() // 1000
            try:
                sent = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # no heartbeat: nothing is known to be published
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if sent == self.batch:  # more waiting
                continue
            await self._beat(started_us)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.idle_poll_s)
                if self.linger_s:
                    await asyncio.sleep(self.linger_s)

    async def _beat(self, published_through_us: int) -> None:
        if self.heartbeats is None or time.monotonic() - self._last_beat < self.heartbeat_every_s:
            return
        self._last_beat = time.monotonic()
        try:
            await asyncio.wait_for(self.heartbeats.put(self.db.producer, str(published_through_us).encode()), self.publish_timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception:  # NATS unreachable: the heartbeat ages, and readers notice
            pass

    async def publish_pending(self) -> int:
        rows = await self.db.read(lambda c: outbox_pending(c, self.batch))
        if not rows:
            return 0
        # The whole batch in flight at once (one round trip, not one per event); written to the socket
        # in outbox order. Any failure leaves every row unmarked: the batch goes again (the stream dedupes).
        outcomes = await asyncio.gather(
            *(self.js.publish(subject, bytes(data), timeout=self.publish_timeout_s, headers={"Nats-Msg-Id": event_id, **_trace_headers(data)})
              for _, event_id, subject, data, _ in rows),
            return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        ids = [row[0] for row in rows]
        now_us = time.time_ns() // 1000

        async def mark(uow: UnitOfWork) -> None:
            await outbox_mark(uow.conn, ids, uow.now_us)

        await self.db.transact(mark)
        self.published += len(rows)
        observability.OUTBOX_PUBLISHED.labels(self.db.producer).inc(len(rows))
        lag = observability.OUTBOX_LAG.labels(self.db.producer)
        for row in rows:
            lag.observe(max(now_us - row[4], 0) / 1e6)
        return len(rows)

    async def backlog(self) -> int:
        return await outbox_backlog(self.db)


def _trace_headers(data: bytes) -> dict[str, str]:
    """The event's traceparent as a NATS header too (read from its envelope only while tracing is on)."""
    return tracing.nats_headers(envelope_pb2.Envelope.FromString(data).traceparent) if tracing.ENABLED else {}


async def _first(conn: Any, stmt: Any) -> Any:
    return (await conn.execute(stmt)).first()


async def outbox_backlog(db: Database) -> int:
    """Outbox rows committed and not yet published (the relay's backlog, read from the database)."""
    outbox = db.table("outbox")
    return await db.read(lambda c: _scalar(c, sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_us.is_(None))))


async def _scalar(conn: Any, stmt: Any) -> Any:
    return (await conn.execute(stmt)).scalar()


Handler = Callable[[UnitOfWork, envelope_pb2.Envelope, Any], Awaitable[None]]


def ownership_problem(envelope: envelope_pb2.Envelope, subject: str, stream: str) -> str:
    """Why an envelope may not be applied: its producer does not own the subject or the stream it
    came on (empty when it does). NATS permissions stop a service publishing another's subjects;
    this stops an envelope that claims one producer's authority on another's subject."""
    producer = envelope.producer
    if producer not in STREAMS:
        return f"unknown producer {producer!r}"
    if not subject.startswith(f"sscard.{producer}."):
        return f"producer {producer!r} does not own subject {subject}"
    if stream != producer.upper():
        return f"producer {producer!r} does not own stream {stream}"
    return ""


@dataclass(frozen=True)
class Subscription:
    """How one event type is handled.

    ordered=True skips an event whose sequence is not newer than the last one
    applied for its (producer, aggregate): right for state snapshots, where a
    late "reported" must not undo an earlier-applied "lifted". ordered=False
    applies every event once (facts like "settlement refused").
    """

    subject: str
    payload_type: type[message.Message]
    handle: Handler
    ordered: bool = True


PULL_BATCH = 64
PULL_EXPIRES_S = 1.0


def _status(msg: Any) -> str:
    """A JetStream status message's code ("404" no messages, "408" request expired, "409" ...), else ""."""
    return msg.headers.get("Status", "") if msg.headers else ""


async def _hand_back(arrived: asyncio.Queue[Any]) -> None:
    """Nak every event in the queue (statuses are dropped) on shutdown."""
    while not arrived.empty():
        msg = arrived.get_nowait()
        if not _status(msg):
            await _nak_on_shutdown(msg)


async def _nak_on_shutdown(msg: Any) -> None:
    """Hand an event back for another instance: redelivered once this instance's last pull request
    has expired, so JetStream cannot send it to that request, whose subscriber is gone."""
    with contextlib.suppress(Exception):
        await msg.nak(delay=PULL_EXPIRES_S + 0.5)


class EventConsumer:
    """A durable pull consumer with explicit ack and an idempotent inbox."""

    def __init__(
        self,
        db: Database,
        js: Any,
        name: str,
        stream: str,
        subscriptions: list[Subscription],
        max_deliver: int = 20,
        ack_wait_s: float = 30.0,
    ) -> None:
        self.db = db
        self.js = js
        self.name = name
        self.stream = stream
        self.subscriptions = {s.subject: s for s in subscriptions}
        self.max_deliver = max_deliver
        self.ack_wait_s = ack_wait_s
        self.handled = 0
        self.skipped = 0
        self.redelivered = 0
        self.on_applied: list[Callable[[envelope_pb2.Envelope], None]] = []

    async def _ensure(self) -> None:
        """Create the durable consumer, or bring its filter subjects to this release's subscriptions."""
        config = js_api.ConsumerConfig(
            durable_name=self.name,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            deliver_policy=js_api.DeliverPolicy.ALL,
            filter_subjects=sorted(self.subscriptions),
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait_s,
            max_ack_pending=1000,
        )
        try:
            info = await self.js.consumer_info(self.stream, self.name)
        except NotFoundError:
            await self.js.add_consumer(self.stream, config)
        else:
            existing = sorted(info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else []))
            if existing != config.filter_subjects:
                # The subscriptions changed (an upgrade): the durable consumer follows, keeping its position.
                log.info("consumer %s: filter subjects %s -> %s", self.name, existing, config.filter_subjects)
                await self.js.add_consumer(self.stream, config)

    async def run(self) -> None:
        """Pull and handle events, one pull request at a time, each event as soon as it arrives.

        A request asks for up to PULL_BATCH events with `no_wait` and an expiry: JetStream hands
        over what is waiting, or else the first events to arrive, and then ends the request with a
        status — so a lone event (a loss report on a quiet stream) is handled at once. Each request
        answers on its own reply subject, so a status left over from an earlier request can never
        end a later one (with nats-py's fetch one could, and a lone event then waited for a second
        request's expiry: bench/README.md, issue 15)."""
        await self._ensure()
        nc, prefix = self.js._nc, self.js._prefix  # nats-py (pinned) keeps them private; fetch uses the same
        subject = f"{prefix}.CONSUMER.MSG.NEXT.{self.stream}.{self.name}"
        request = json.dumps({"batch": PULL_BATCH, "expires": int(PULL_EXPIRES_S * 1e9), "no_wait": True}).encode()
        inbox = nc.new_inbox()
        arrived: asyncio.Queue[Any] = asyncio.Queue()

        async def deliver(msg: Any) -> None:
            arrived.put_nowait(msg)

        sub = await nc.subscribe(f"{inbox}.*", cb=deliver)
        try:
            for number in itertools.count(1):
                if not nc.is_connected:  # a request now would wait in nats-py's buffer and pile up with others
                    await asyncio.sleep(0.1)
                    continue
                reply = f"{inbox}.{number}"
                try:
                    await nc.publish(subject, request, reply=reply)
                except Exception:  # (a cancellation is not an Exception: it ends the loop)
                    log.exception("consumer %s: pull request failed; retrying", self.name)
                    await asyncio.sleep(0.5)
                    continue
                ended = await self._drain(arrived, reply, asyncio.get_running_loop().time() + PULL_EXPIRES_S + 1.0)
                if ended:
                    await self._pull_refused(ended)
        finally:
            # On shutdown, hand back everything delivered but not handled, so the next instance gets
            # it within seconds rather than after the ack wait. Drain first (unsubscribe, and a round
            # trip that brings in what the server sent before it): an event handed back while this
            # instance's pull request is still open could be sent to it again, into the void.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await sub.drain()
            await _hand_back(arrived)

    async def _drain(self, arrived: asyncio.Queue[Any], reply: str, deadline: float) -> str:
        """Handle the events of one pull request in arrival order until it is over: its closing
        status, its whole batch delivered (JetStream sends no status then), or — no answer at all, a
        reconnect — a second past its expiry. Returns the status of a request the server refused
        (409 consumer deleted or leader changed, 503 no consumer), else ""."""
        received = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    msg = await arrived.get()
            except TimeoutError:
                return ""
            status = _status(msg)
            if not status:
                await self._handle(msg)
                received += 1
                if received >= PULL_BATCH:
                    return ""
            elif msg.subject == reply and status != "100":  # 100: an idle heartbeat
                if status in ("404", "408"):  # no (more) events; the request expired
                    return ""
                return f"{status} {msg.headers.get('Description', '')}".strip()

    async def _handle(self, msg: Any) -> None:
        """One event; whatever happens, it is acked, or handed back to the stream for another try."""
        try:
            await self._process(msg)
        except asyncio.CancelledError:
            await _nak_on_shutdown(msg)  # never handled
            raise
        except Exception:  # e.g. the database is down while an event is parked: the consumer goes on
            log.exception("consumer %s: handling an event on %s failed; it will be redelivered", self.name, msg.subject)
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)

    async def _pull_refused(self, status: str) -> None:
        """JetStream refused the pull (the consumer was deleted, its leader changed, JetStream is
        electing): wait, and create the consumer again if it is gone."""
        gone = status.startswith(("503", "409 Consumer Deleted"))
        log.warning("consumer %s: pull refused: %s", self.name, status)
        await asyncio.sleep(1.0 if gone else 0.2)
        if gone:
            try:
                await self._ensure()
            except Exception:
                log.exception("consumer %s: could not create the consumer again", self.name)

    async def _process(self, msg: Any) -> None:
        try:
            envelope = envelope_pb2.Envelope.FromString(msg.data)
            subscription = self.subscriptions[msg.subject]
            payload = subscription.payload_type()
            if not envelope.payload.Unpack(payload):
                raise ValueError(f"payload is {envelope.payload.type_url}")
        except Exception:
            log.error("consumer %s: poison message on %s terminated", self.name, msg.subject)
            await msg.term()
            return
        forged = ownership_problem(envelope, msg.subject, self.stream)
        if forged:
            # Never applied: parked for the operator with the reason (and `replay` refuses it too).
            log.error("consumer %s: refused event %s: %s", self.name, envelope.event_id, forged)
            observability.EVENTS_HANDLED.labels(self.db.producer, self.name, "refused").inc()
            await self.db.transact(lambda uow: self._dead_letter(uow, envelope, msg, f"refused: {forged}"))
            await msg.term()
            return
        if msg.metadata.num_delivered > 1:
            self.redelivered += 1
            observability.REDELIVERIES.labels(self.db.producer, self.name).inc()
        try:
            with tracing.consumer_span(self.db.producer, envelope.event_type, msg.headers, envelope.traceparent):
                applied = await self.db.transact(lambda uow: self.apply(uow, envelope, payload, subscription))
        except asyncio.CancelledError:
            raise
        except Exception as failure:
            observability.EVENTS_HANDLED.labels(self.db.producer, self.name, "failed").inc()
            if msg.metadata.num_delivered >= self.max_deliver:
                # Park it for the operator (`sscard dead-letters`, `sscard replay`) and move on.
                log.error("consumer %s: %s failed %d times; dead-lettered", self.name, envelope.event_id, self.max_deliver)
                why = repr(failure)
                await self.db.transact(lambda uow: self._dead_letter(uow, envelope, msg, why))
                await msg.term()
                return
            log.exception("consumer %s: handling %s failed; will be redelivered", self.name, envelope.event_id)
            await msg.nak(delay=min(0.5 * msg.metadata.num_delivered, 10.0))
            return
        await msg.ack()
        result = "applied" if applied else "skipped"
        observability.EVENTS_HANDLED.labels(self.db.producer, self.name, result).inc()
        event_log.info(
            "event %s %s", envelope.event_type, result,
            extra={"service": self.db.producer, "event_id": envelope.event_id, "subject": msg.subject, "code": result},
        )
        if applied:
            self.handled += 1
            for callback in self.on_applied:
                callback(envelope)
        else:
            self.skipped += 1

    async def _dead_letter(self, uow: UnitOfWork, envelope: envelope_pb2.Envelope, msg: Any, error: str) -> None:
        table = self.db.table("dead_letters")
        exists = (await uow.execute(sa.select(table.c.event_id).where(table.c.consumer == self.name, table.c.event_id == envelope.event_id))).first()
        if exists is None:
            await uow.execute(table.insert().values(
                consumer=self.name, event_id=envelope.event_id, stream=self.stream, stream_seq=msg.metadata.sequence.stream,
                subject=msg.subject, error=error[:400], at_us=uow.now_us, replayed_us=None,
            ))

    async def replay(self, event_id: str) -> bool:
        """Apply a dead-lettered event again (after the cause was fixed); True if it took effect."""
        table = self.db.table("dead_letters")
        row = await self.db.read(lambda c: _first(c, sa.select(table).where(table.c.consumer == self.name, table.c.event_id == event_id)))
        if row is None:
            raise LookupError(f"{self.name} has no dead letter {event_id}")
        raw = await self.js.get_msg(row.stream, row.stream_seq)
        envelope = envelope_pb2.Envelope.FromString(raw.data)
        forged = ownership_problem(envelope, raw.subject, row.stream)
        if forged:
            raise PermissionError(f"{self.name} will not replay {event_id}: {forged}")
        subscription = self.subscriptions[raw.subject]
        payload = subscription.payload_type()
        envelope.payload.Unpack(payload)

        async def work(uow: UnitOfWork) -> bool:
            applied = await self.apply(uow, envelope, payload, subscription)
            await uow.execute(table.update().where(table.c.consumer == self.name, table.c.event_id == event_id).values(replayed_us=uow.now_us))
            return applied

        return await self.db.transact(work)

    async def apply(
        self, uow: UnitOfWork, envelope: envelope_pb2.Envelope, payload: Any, subscription: Subscription
    ) -> bool:
        """Apply one event exactly once; returns False if it was a duplicate or stale."""
        inbox = self.db.table("inbox")
        if await fast_get(uow.conn, inbox, {"consumer": self.name, "event_id": envelope.event_id}, ("event_id",)) is not None:
            return False
        fresh = True
        if subscription.ordered:
            fresh = await self._advance_sequence(uow, envelope)
        if fresh:
            # The audit trail of what this event causes names the service that produced it.
            token = access.act_as(Principal(SERVICE, envelope.producer, org="event"), envelope.event_type)
            try:
                await subscription.handle(uow, envelope, payload)
            finally:
                access.reset(token)
        await fast_insert(uow.conn, inbox, dict(consumer=self.name, event_id=envelope.event_id, handled_us=uow.now_us, applied=fresh))
        return fresh

    async def _advance_sequence(self, uow: UnitOfWork, envelope: envelope_pb2.Envelope) -> bool:
        table = self.db.table("inbox_sequences")
        key = {"consumer": self.name, "producer": envelope.producer, "aggregate_id": envelope.aggregate_id}
        row = await fast_get(uow.conn, table, key, ("last_sequence",))
        if row is None:
            await fast_insert(uow.conn, table, {**key, "last_sequence": envelope.sequence})
            return True
        if envelope.sequence <= row["last_sequence"]:
            return False
        # Compare and set: instances sharing this durable consumer may hold two events of one aggregate
        # at once. The row lock makes the later writer re-check (PostgreSQL re-evaluates the WHERE on the
        # committed row), so an older snapshot never lands after a newer one.
        return await fast_execute(uow.conn, _ADVANCE, (envelope.sequence, *key.values(), envelope.sequence)) == 1


_ADVANCE = "UPDATE inbox_sequences SET last_sequence = ? WHERE consumer = ? AND producer = ? AND aggregate_id = ? AND last_sequence < ?"


def occurred_us(envelope: envelope_pb2.Envelope) -> int:
    return envelope.occurred_at.ToMicroseconds()
