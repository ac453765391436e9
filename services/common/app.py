"""The composition root every service shares: one Runtime per process.

A service's main.py builds a Runtime, adds its servicer, subscriptions and
background tasks; `start()` migrates the database, connects to NATS, starts
the outbox relay, consumers and gRPC server; `stop()` undoes it in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
import sqlalchemy as sa

from services.common import bus, observability, tracing, trust
from services.common.access import Access
from services.common.auth import load_institutions
from services.common.clock import Clock, SystemClock
from services.common.config import Settings
from services.common.db import Database, Migration
from services.common.policy import RegionPolicies
from services.common.server import GrpcServer

log = logging.getLogger("sscard.app")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        metadata: sa.MetaData,
        migrations: Sequence[Migration],
        clock: Clock | None = None,
        policies: RegionPolicies | None = None,
    ) -> None:
        self.settings = settings
        self.service = settings.service
        self.clock = clock or SystemClock()
        self.policies = policies or RegionPolicies.load(settings.regions_dir)
        self.db = Database(settings.db_url, metadata, migrations, producer=settings.service, clock=self.clock, secret=settings.pin_pepper)
        problems = settings.secret_problems()
        if problems:
            raise RuntimeError(f"{settings.service} refuses to start: " + "; ".join(problems))
        tracing.configure(settings.otel_exporter)
        self.institutions = load_institutions(settings.institutions_file)
        self.access = Access(trust.Verifier.from_file(settings.jwks_file, settings.service, settings.token_max_lifetime_s), self.institutions)
        self.credential = trust.ServiceCredential(
            trust.Signer.from_file(settings.signing_key, settings.signing_kid, f"sscard-{settings.service}"), settings.service)
        self.server = GrpcServer(
            settings.grpc_addr,
            observe=settings.service,
            access=self.access,
            tls=trust.server_credentials(settings.tls_ca, settings.tls_cert, settings.tls_key, settings.tls_client_auth),
            max_receive_bytes=settings.max_receive_bytes,
            max_concurrent_rpcs=settings.max_concurrent_rpcs,
        )
        self.nc: Any = None
        self.js: Any = None
        self.heartbeats: Any = None  # the relays' heartbeat bucket (bus.relay_heartbeats)
        self.relay: bus.OutboxRelay | None = None
        self.consumers: list[bus.EventConsumer] = []
        self.subscriptions: list[tuple[str, list[bus.Subscription], str]] = []
        self._background: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.port = 0
        self._peers: dict[str, Any] = {}

    def peer(self, service: str) -> Any:
        """A gRPC channel to another service (settings.peers), opened once, closed on stop: mutual
        TLS with this service's certificate, and this service's own credential on every call."""
        if service not in self._peers:
            s = self.settings
            self._peers[service] = grpc.aio.secure_channel(
                s.peers[service], trust.channel_credentials(s.tls_ca, s.tls_cert, s.tls_key), options=trust.channel_options(service, s.peers[service]),
                interceptors=[trust.BearerInterceptor(lambda _method, _request: self.credential.metadata(service))],
            )
        return self._peers[service]

    def subscribe(self, stream: str, subscriptions: list[bus.Subscription], durable: str = "") -> None:
        """Consume events of a stream (durable name `<service>-<stream>` unless given)."""
        self.subscriptions.append((stream, subscriptions, durable or f"{self.service}-{stream.lower()}"))

    def background(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """A long-running coroutine (schedulers) started after the server."""
        self._background.append((name, loop))

    async def start(self) -> int:
        if self.settings.migrate_on_start:
            await self.db.migrate()
        else:  # Kubernetes: the migrations Job migrates; pods wait for the revision they need.
            from services.common.schema import wait_for_schema

            await wait_for_schema(self.db, self.settings.schema_wait_s)
        self.nc = await bus.connect_as(self.settings, name=f"sscard-{self.service}")
        self.js = self.nc.jetstream()
        s = self.settings
        await bus.when_jetstream_answers("streams", lambda: bus.ensure_streams(self.js, s.nats_replicas, s.stream_max_age_s, owner=self.service))
        self.heartbeats = await bus.when_jetstream_answers("heartbeats", lambda: bus.relay_heartbeats(self.js, s.nats_replicas))
        self.relay = bus.OutboxRelay(self.db, self.js, heartbeats=self.heartbeats)
        self._spawn("relay", self.relay.run)
        for stream, subscriptions, durable in self.subscriptions:
            consumer = bus.EventConsumer(self.db, self.js, durable, stream, subscriptions, max_deliver=self.settings.max_deliver)
            self.consumers.append(consumer)
            self._spawn(consumer.name, consumer.run)
        self.port = await self.server.start()
        observability.serve_metrics(self.settings.metrics_port)
        self._spawn("gauges", self._gauges)
        for name, loop in self._background:
            self._spawn(name, loop)
        log.info("%s serving on port %s", self.service, self.port)
        return self.port

    async def sample_gauges(self) -> None:
        """Outbox backlog and consumer lag, for /metrics and `sscard status`."""
        assert self.relay is not None
        observability.OUTBOX_BACKLOG.labels(self.service).set(await self.relay.backlog())
        dead = self.db.table("dead_letters")
        parked = await self.db.read(lambda c: c.scalar(sa.select(sa.func.count()).select_from(dead).where(dead.c.replayed_us.is_(None))))
        observability.DEAD_LETTERS.labels(self.service).set(parked or 0)
        year = self.clock.now().year
        for code in self.policies.codes():
            calendar = self.policies.get(code).calendar
            for label, which in (("current", year), ("next", year + 1)):
                observability.CALENDAR_SCHEDULE_KNOWN.labels(self.service, code, label).set(int(calendar.schedule_known(which)))
        for consumer in self.consumers:
            info = await self.js.consumer_info(consumer.stream, consumer.name)
            observability.CONSUMER_LAG.labels(self.service, consumer.name).set(info.num_pending + info.num_ack_pending)

    async def _gauges(self, interval_s: float = 5.0) -> None:
        while True:
            try:
                await self.sample_gauges()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("%s: could not sample gauges", self.service)
            await asyncio.sleep(interval_s)

    def _spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        async def guarded() -> None:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: task %s crashed", self.service, name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=f"{self.service}:{name}"))

    async def stop(self, grace: float = 2.0) -> None:
        await self.server.stop(grace)
        # Cancel until every background task has ended: a library may swallow one cancellation.
        pending = set(self._tasks)
        for _ in range(100):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.1)
        if pending:
            log.error("%s: background tasks did not stop: %s", self.service, sorted(t.get_name() for t in pending))
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("%s: task %s had failed: %r", self.service, task.get_name(), task.exception())
        self._tasks.clear()
        for closer in self.on_stop:
            with contextlib.suppress(Exception):
                await closer()
        for channel in self._peers.values():
            with contextlib.suppress(Exception):
                await channel.close()
        self._peers.clear()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        await self.db.close()


async def drain(runtime: Runtime) -> None:
    """Stop taking new work: health NOT_SERVING (readiness fails, the pod leaves the Service's
    endpoints, health-checking clients go elsewhere); calls in flight go on."""
    from grpc_health.v1 import health_pb2

    for name in ["", *runtime.server.service_names]:
        await runtime.server.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    log.info("%s draining: health NOT_SERVING", runtime.service)


async def serve_forever(runtime: Runtime, drain_s: float = 0.0) -> None:
    """Run until SIGINT/SIGTERM, then shut down gracefully: NOT_SERVING first, `drain_s` seconds
    for clients to notice, then stop. SIGUSR1 (the Kubernetes preStop hook, `sscard drain`) only
    drains; the kubelet's SIGTERM that follows then stops at once."""
    stop = asyncio.Event()
    drained = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, drained.set)
    await runtime.start()
    try:
        waits = {asyncio.create_task(stop.wait()), asyncio.create_task(drained.wait())}
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await drain(runtime)
        if not drained.is_set() and drain_s > 0:
            await asyncio.sleep(drain_s)
        await stop.wait()
    finally:
        await runtime.stop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            loop.remove_signal_handler(sig)
