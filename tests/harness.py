"""The in-process mesh used by service and mesh tests: real gRPC sockets, real nats-server,
real databases (SQLite files, or PostgreSQL when SSCARD_TEST_PG_URL is set), one ManualClock."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import uuid
from functools import cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import sqlalchemy as sa

from services.cards import main as cards_main
from services.client import (  # noqa: F401 - the principals tests act as
    BANK, CARD_HOLDERS, CLERK, FACTORY, FUND, FUND_REVIEWER, HOTLINE_AGENT, IVR_SYSTEM, PERSON_REGIONS, Credential, MeshClient, Remember, citizen,
    default_actor, dev_signer, employer, fund_of, institution, use_signer,
)
from services.common import bus, natsd
from services.common.app import Runtime
from services.common.clock import ManualClock
from services.common.config import REPO_ROOT, SERVICES, Settings
from services.common.pki import ensure_dev_pki
from services.common.policy import RegionPolicies
from services.identity import main as identity_main
from services.loss import main as loss_main
from services.settlement import main as settlement_main
from sscard.events.v1 import envelope_pb2

FACTORIES = {"identity": identity_main.create, "cards": cards_main.create, "loss": loss_main.create, "settlement": settlement_main.create}
PHARMACY = institution("P99990001")
HOSPITAL = institution("H99990001")
CLINIC = institution("H99990002")


@cache
def test_pki() -> Path:
    """One development PKI per test process (CA, certificates, issuer keys)."""
    directory = ensure_dev_pki(Path(tempfile.mkdtemp(prefix="sscard-pki-")) / "pki")
    use_signer(dev_signer(directory))
    return directory


test_pki.__test__ = False  # type: ignore[attr-defined]  # a fixture-like helper, not a test (tests import it by name)


# The test's own NATS administrator: no permission limits, and no service ever holds its password.
NATS_ADMIN = "test-admin"


@cache
def test_nats_passwords() -> dict[str, str]:
    """Per-process NATS passwords: one per sscard user (natsd.USERS) and the test-only admin."""
    return {user: natsd.generate_password() for user in (*natsd.USERS, NATS_ADMIN)}


def nats_security() -> natsd.NatsSecurity:
    """TLS and users for a test nats-server: what `sscard up` runs, plus the test admin."""
    passwords = test_nats_passwords()
    return natsd.NatsSecurity.from_pki(test_pki(), {u: passwords[u] for u in natsd.USERS}, {NATS_ADMIN: passwords[NATS_ADMIN]})


def nats_settings(user: str, cert: str | None = None) -> dict[str, object]:
    """A NATS user's credentials and TLS files (a service's own certificate, or the operator's)."""
    pki = test_pki()
    cert = cert or (user if user in SERVICES else "client")
    return dict(nats_user=user, nats_password=test_nats_passwords()[user],
                nats_ca=pki / "ca.pem", nats_cert=pki / f"{cert}.pem", nats_key=pki / f"{cert}.key")


async def nats_connect(url: str, user: str = NATS_ADMIN, **options: Any) -> Any:
    """A test's own connection to the bus (as the admin unless it names a user)."""
    s = nats_settings(user)
    return await bus.connect(url, f"test-{user}", user=user, password=str(s["nats_password"]),
                             tls=bus.tls_context(s["nats_ca"], s["nats_cert"], s["nats_key"]), **options)  # type: ignore[arg-type]


def mesh_client(targets: dict[str, str]) -> MeshClient:
    return MeshClient(targets, pki_dir=test_pki(), actor=default_actor, interceptors=[Remember()])


def trust_settings(service: str) -> dict[str, object]:
    pki = test_pki()
    return dict(
        tls_ca=pki / "ca.pem", tls_cert=pki / f"{service}.pem", tls_key=pki / f"{service}.key",
        jwks_file=pki / "jwks.json", signing_key=pki / f"service-{service}.key", signing_kid=f"service-{service}-1",
        pin_pepper=_SECRETS["pepper"], token_secret=_SECRETS["token"], pin_seal_key=_SECRETS["seal"],
        **nats_settings(service),
    )


_SECRETS = {name: secrets.token_hex(16).encode() for name in ("pepper", "token", "seal")}


def pg_url() -> str | None:
    return os.environ.get("SSCARD_TEST_PG_URL") or None


class Databases:
    """Per-test databases: SQLite files in a temp dir, or fresh PostgreSQL databases."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []
        self.backend = "postgresql" if pg_url() else "sqlite"

    async def url(self, service: str) -> str:
        base = pg_url()
        if base is None:
            return f"sqlite+aiosqlite:///{self.tmp / (service + '.db')}"
        name = f"sscard_t_{service}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        root = base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{root}/{name}"

    async def drop_all(self) -> None:
        base = pg_url()
        if base is None:
            return
        conn = await asyncpg.connect(base)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass
class Mesh:
    nats_url: str
    databases: Databases
    clock: ManualClock = field(default_factory=ManualClock)
    regions_dir: Path = REPO_ROOT / "regions"
    runtimes: dict[str, Runtime] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    client: MeshClient | None = None
    metrics_ports: dict[str, int] = field(default_factory=dict)
    overrides: dict[str, object] = field(default_factory=dict)
    retired_channels: list[grpc.aio.Channel] = field(default_factory=list)

    def settings(self, service: str) -> Settings:
        peers = {name: f"127.0.0.1:{rt.port}" for name, rt in self.runtimes.items()}
        return Settings.from_env(
            service,
            grpc_addr="127.0.0.1:0",
            db_url=self.urls[service],
            nats_url=self.nats_url,
            regions_dir=self.regions_dir,
            scheduler_interval_s=0.2,
            metrics_port=self.metrics_ports.get(service, 0),
            peers=peers,
            **{**trust_settings(service), **self.overrides},  # type: ignore[arg-type]
        )

    async def start(self, services: tuple[str, ...] = SERVICES) -> MeshClient:
        self.policies = RegionPolicies.load(self.regions_dir)
        for service in services:
            await self.start_service(service)
        self.client = mesh_client({name: f"127.0.0.1:{rt.port}" for name, rt in self.runtimes.items()})
        return self.client

    async def start_service(self, service: str) -> Runtime:
        if service not in self.urls:
            self.urls[service] = await self.databases.url(service)
        runtime = FACTORIES[service](self.settings(service), clock=self.clock, policies=self.policies)
        await runtime.start()
        self.runtimes[service] = runtime
        return runtime

    async def restart(self, service: str) -> None:
        """Stop a service and start it again on the same database (a new port)."""
        await self.runtimes.pop(service).stop()
        await self.restart_client_after(await self.start_service(service))

    async def restart_client_after(self, _runtime: Runtime) -> None:
        """Point the client at the services' current ports."""
        assert self.client is not None
        # Closed at stop, not now: closing a channel cancels the calls still in flight on it, which a
        # real client never sees; the calls to the stopped service fail UNAVAILABLE and are retried.
        self.retired_channels.extend(self.client.channels.values())
        self.client.__init__({name: f"127.0.0.1:{rt.port}" for name, rt in self.runtimes.items()}, test_pki(), default_actor, [Remember()])  # type: ignore[misc]

    async def stop(self) -> None:
        if self.client:
            await self.client.close()
        for channel in self.retired_channels:
            await channel.close()
        for runtime in reversed(list(self.runtimes.values())):
            await runtime.stop(grace=0.5)
        self.runtimes.clear()

    async def settle_idle(self, timeout: float = 10.0) -> None:
        """Wait until every outbox is drained and every consumer has acked all it was sent."""
        deadline = asyncio.get_running_loop().time() + timeout
        for runtime in self.runtimes.values():
            assert runtime.relay is not None
            while await runtime.relay.backlog():
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"{runtime.service} outbox not drained")
                await asyncio.sleep(0.01)
        for runtime in self.runtimes.values():
            for consumer in runtime.consumers:
                while True:
                    info = await runtime.js.consumer_info(consumer.stream, consumer.name)
                    if info.num_pending + info.num_ack_pending == 0:
                        break
                    if asyncio.get_running_loop().time() > deadline:
                        raise TimeoutError(f"{consumer.name} has not caught up")
                    await asyncio.sleep(0.01)


    async def where_is(self, aggregate_id: str) -> str:
        """For a wait that timed out: where every event about `aggregate_id` stands — not in any
        outbox (LOST before commit, or never written), in an outbox unpublished (STUCK at the relay),
        published but not yet applied by a consumer (SLOW or stuck consumer: its pending counts), or
        applied by every consumer of its stream (then the wait looked at the wrong thing)."""
        found: list[str] = []
        for producer in self.runtimes.values():
            outbox = producer.db.table("outbox")
            rows = await producer.db.read(lambda c, o=outbox: _all(c, sa.select(o.c.event_id, o.c.subject, o.c.data, o.c.published_us).order_by(o.c.id)))
            for event_id, subject, data, published_us in rows:
                if envelope_pb2.Envelope.FromString(bytes(data)).aggregate_id != aggregate_id:
                    continue
                if published_us is None:
                    found.append(f"{subject} {event_id}: STUCK in {producer.service}'s outbox, unpublished (relay)")
                    continue
                for runtime in self.runtimes.values():
                    for consumer in runtime.consumers:
                        if consumer.stream != producer.service.upper() or subject not in consumer.subscriptions:
                            continue
                        inbox = runtime.db.table("inbox")
                        seen = await runtime.db.read(lambda c, i=inbox, n=consumer.name, e=event_id: _all(
                            c, sa.select(i.c.applied).where(i.c.consumer == n, i.c.event_id == e)))
                        if seen:
                            found.append(f"{subject} {event_id}: handled by {consumer.name} (applied={seen[0][0]})")
                        else:
                            info = await runtime.js.consumer_info(consumer.stream, consumer.name)
                            found.append(f"{subject} {event_id}: published, SLOW/stuck at {consumer.name} "
                                         f"({info.num_pending} pending, {info.num_ack_pending} unacknowledged, {consumer.redelivered} redelivered)")
        return "; ".join(found) or f"no event about {aggregate_id} in any outbox: LOST before commit, or never written"


async def _all(conn: Any, statement: Any) -> list[Any]:
    return list(await conn.execute(statement))


async def until(mesh: Mesh, aggregate_id: str, probe: Any, accept: Any, timeout: float = 10.0) -> Any:
    """`eventually`, and on a timeout the state of every event about `aggregate_id` (Mesh.where_is)."""
    from services.client import eventually

    try:
        return await eventually(probe, accept, timeout)
    except TimeoutError as error:
        raise AssertionError(f"{error}\nevents about {aggregate_id}: {await mesh.where_is(aggregate_id)}") from None


def metadata_of(credential: Credential) -> Any:
    return credential.metadata()
