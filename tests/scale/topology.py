"""The production topology on one machine: several instances of every service as separate
processes (`sscard serve`, as the Deployments run them) on one PostgreSQL server with a database
per service, and a JetStream cluster of three nats-servers with routes between them (streams and
the relay heartbeat bucket replicated x3). An instance or a NATS node can be SIGKILLed and started
again; clients reach a service through every instance (round robin, a dead one skipped)."""

from __future__ import annotations

import asyncio
import importlib
import os
import secrets
import signal
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from services.cli import dev_secrets
from services.client import MeshClient, Remember, default_actor
from services.common import bus
from services.common.config import SERVICES
from services.common.natsd import NatsCluster, NatsSecurity, ensure_credentials, free_port
from services.common.pki import ensure_dev_pki

ADMIN = "scale-admin"


class Topology:
    def __init__(self, workdir: Path, pg_server_url: str, pki: Path, instances: int = 2, nats_nodes: int = 3) -> None:
        """`pki`: the development PKI whose issuer key this process's credentials are minted with
        (services.client.use_signer; tests.harness.test_pki in the tests)."""
        self.workdir = workdir
        self.pg_server_url = pg_server_url
        self.instances = instances
        self.pki = ensure_dev_pki(pki)
        self.admin_password = secrets.token_hex(16)
        security = NatsSecurity.from_pki(self.pki, ensure_credentials(workdir / "nats"), {ADMIN: self.admin_password})
        self.nats = NatsCluster(workdir / "bus", security, nats_nodes)
        self.ports = {s: [free_port() for _ in range(instances)] for s in SERVICES}
        self.suffix = uuid.uuid4().hex[:8]
        self.databases = {s: f"sscard_scale_{s}_{self.suffix}" for s in SERVICES}
        base = pg_server_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.env = {**os.environ, "SSCARD_DATA_DIR": str(workdir), "SSCARD_ENV": "dev", "SSCARD_PKI_DIR": str(self.pki), **dev_secrets(self.pki),
                    "SSCARD_LOG_FORMAT": "text", "SSCARD_SCHEDULER_INTERVAL_S": "0.2", "SSCARD_NATS_URL": self.nats.url, "SSCARD_NATS_REPLICAS": "3"}
        for service in SERVICES:
            self.env[f"SSCARD_{service.upper()}_DB_URL"] = f"{base}/{self.databases[service]}"
            self.env[f"SSCARD_{service.upper()}_TARGET"] = self.target(service)
            self.env[f"SSCARD_{service.upper()}_METRICS_PORT"] = "0"
        self.processes: dict[tuple[str, int], subprocess.Popen[bytes]] = {}

    def target(self, service: str) -> str:
        """Every instance of a service, as a gRPC target (what a headless Service resolves to)."""
        return "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in self.ports[service])

    def targets(self) -> dict[str, str]:
        return {s: self.target(s) for s in SERVICES}

    async def create_databases(self) -> None:
        conn = await asyncpg.connect(self.pg_server_url)
        try:
            for name in self.databases.values():
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop_databases(self) -> None:
        conn = await asyncpg.connect(self.pg_server_url)
        try:
            for name in self.databases.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def admin(self) -> Any:
        return await bus.connect(self.nats.url, "scale-admin", user=ADMIN, password=self.admin_password,
                                 tls=bus.tls_context(self.pki / "ca.pem", self.pki / "client.pem", self.pki / "client.key"))

    async def wait_jetstream(self, timeout: float = 30.0) -> None:
        """The cluster has elected a JetStream meta leader (a stream can be created)."""
        deadline = time.monotonic() + timeout
        nc = await self.admin()
        try:
            while True:
                try:
                    await nc.jetstream().account_info()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
        finally:
            await nc.close()

    def start_instance(self, service: str, index: int) -> None:
        env = {**self.env, f"SSCARD_{service.upper()}_ADDR": f"127.0.0.1:{self.ports[service][index]}"}
        log = open(self.workdir / f"{service}-{index}.log", "ab")
        self.processes[(service, index)] = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", service],
                                                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def kill_instance(self, service: str, index: int) -> None:
        process = self.processes.pop((service, index))
        process.send_signal(signal.SIGKILL)
        process.wait()

    async def start(self) -> None:
        await self.create_databases()
        self.nats.start()
        await self.wait_jetstream()
        for service in SERVICES:
            for index in range(self.instances):
                self.start_instance(service, index)
        await self.wait_serving()

    async def wait_serving(self, timeout: float = 90.0) -> None:
        """Every instance answers its health check as SERVING."""
        for (service, index) in list(self.processes):
            client = MeshClient({**{s: "127.0.0.1:1" for s in SERVICES}, service: f"127.0.0.1:{self.ports[service][index]}"}, pki_dir=self.pki)
            try:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        if await client.health(service, timeout=1.0) == "SERVING":
                            break
                    except Exception:
                        pass
                    if self.processes[(service, index)].poll() is not None or time.monotonic() > deadline:
                        log = (self.workdir / f"{service}-{index}.log").read_text()[-2000:]
                        raise RuntimeError(f"{service}-{index} is not serving:\n{log}")
                    await asyncio.sleep(0.2)
            finally:
                await client.close()

    def client(self) -> MeshClient:
        return MeshClient(self.targets(), pki_dir=self.pki, actor=default_actor, interceptors=[Remember()])

    async def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        self.nats.stop()
        await self.drop_databases()


class SeenFromOutside:
    """What the reliability suite's workload (tests/reliability/workload.py) needs of a mesh, for the
    topology's processes: a client, each service's database (the comparison reads it), and `settle_idle`
    — every outbox drained and every durable consumer caught up — observed from outside (the database
    and the JetStream API), as an operator's `sscard status` sees it."""

    def __init__(self, topology: Topology, client: MeshClient) -> None:
        from services.common.clock import SystemClock
        from services.common.db import Database

        self.topology, self.client = topology, client
        self.runtimes: dict[str, Any] = {}
        for service in SERVICES:
            store = importlib.import_module(f"services.{service}.store")
            db = Database(topology.env[f"SSCARD_{service.upper()}_DB_URL"], store.metadata, store.MIGRATIONS, service, SystemClock())
            self.runtimes[service] = types.SimpleNamespace(service=service, db=db)

    async def settle_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for service, runtime in self.runtimes.items():
            while await bus.outbox_backlog(runtime.db):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} outbox not drained")
                await asyncio.sleep(0.02)
        nc = await self.topology.admin()
        try:
            js = nc.jetstream()
            for stream in (bus.stream_config(name).name for name in bus.STREAMS):
                while True:
                    behind = [(c.name, c.num_pending, c.num_ack_pending) for c in await js.consumers_info(stream)
                              if c.num_pending + c.num_ack_pending]
                    if not behind:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"consumers of {stream} have not caught up: {behind}")
                    await asyncio.sleep(0.02)
        finally:
            await nc.close()

    async def close(self) -> None:
        for runtime in self.runtimes.values():
            await runtime.db.close()
