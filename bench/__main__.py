"""`make bench` / `sscard bench`: settlement throughput and latency, loss-to-halt latency and relay
throughput, each printed as a ratio against a bare gRPC echo baseline measured in the same run.

The mesh runs as subprocesses on free ports in a temp directory (never the ports of `make run`,
the machine's NATS or PostgreSQL). The settlement population is seeded in bulk into the
settlement database (a bench-only path; see bench/README.md); the loss-to-halt cards go through
the full RPC path so every loss report travels loss -> NATS -> settlement for real.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import shutil
import tempfile
from collections import Counter
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from services.common.config import REPO_ROOT, SERVICES

SPAWN = multiprocessing.get_context("spawn")


def progress(text: str) -> None:
    print(f"\r  {text:<78}", end="", flush=True)


def done(text: str) -> None:
    print(f"\r  {text:<78}")


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cost_text(cost: dict[str, Any]) -> str:
    drained = f"drained in {cost['drain_s']:.1f} s" if cost["drained"] else f"NOT drained in 2 s: {cost['backlog_after']}/{cost['lag_after']}"
    return (f"cpu/settlement {cost['settlement_cpu_ms']:.2f} ms settlement, {cost['mesh_cpu_ms']:.2f} ms mesh; "
            f"backlog/lag at end {cost['backlog_end']}/{cost['lag_end']}, {drained}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))] * 1000 if ordered else float("nan")


def load(kind: str, target: str, mode: str, level: float, duration: float, cards: list[str] | None = None, sign_md: Any = None) -> dict[str, Any]:
    from bench import load as load_mod

    with SPAWN.Pool(1) as pool:
        return pool.apply(load_mod.run, (kind, target, mode, level, duration, cards, sign_md))


class Mesh:
    """nats-server + the four services as subprocesses, like `sscard up`, on free ports."""

    def __init__(self, workdir: Path, pg_url: str | None, settlement_instances: int = 1) -> None:
        from services.common.natsd import NatsSecurity, NatsServer, ensure_credentials, free_port
        from services.common.pki import ensure_dev_pki

        self.workdir = workdir
        # Like `sscard up`: TLS and one NATS user per service (the services find both under SSCARD_DATA_DIR),
        # plus a bench-only observer that reads consumer lag (as the tests' admin; no service holds it).
        import secrets

        self.observer_password = secrets.token_urlsafe(24)
        security = NatsSecurity.from_pki(ensure_dev_pki(workdir / "pki"), ensure_credentials(workdir / "nats"),
                                         extra_users={"bench-observer": self.observer_password})
        self.nats = NatsServer(workdir / "jetstream", log_file=workdir / "nats.log", security=security)
        self.ports = {s: free_port() for s in SERVICES}
        # Settlement as several processes (`--settlement-instances`), each its own port; clients spread over them.
        self.settlement_ports = [self.ports["settlement"], *(free_port() for _ in range(settlement_instances - 1))]
        from services.cli import dev_secrets
        from services.common.pki import ensure_dev_pki

        # TLS and credentials as in production; the development PKI and secrets of this run.
        pki = ensure_dev_pki(workdir / "pki")
        os.environ["SSCARD_PKI_DIR"] = str(pki)  # the load processes (spawned) find the certificates here
        self.env = {**os.environ, "SSCARD_DATA_DIR": str(workdir), "SSCARD_SCHEDULER_INTERVAL_S": "0.1", "SSCARD_LOG_FORMAT": "text",
                    "SSCARD_ENV": "dev", "SSCARD_PKI_DIR": str(pki), **dev_secrets(pki)}
        for service in SERVICES:
            self.env[f"SSCARD_{service.upper()}_ADDR"] = f"127.0.0.1:{self.ports[service]}"
            self.env[f"SSCARD_{service.upper()}_METRICS_PORT"] = "0"
            if pg_url:
                self.env[f"SSCARD_{service.upper()}_DB_URL"] = pg_url(service)
        self.env["SSCARD_SETTLEMENT_TARGET"] = self.targets()["settlement"]
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.profile_step: tuple[str, float] | None = None
        self.profile_out: Path | None = None

    def db_url(self, service: str) -> str:
        return self.env.get(f"SSCARD_{service.upper()}_DB_URL", f"sqlite+aiosqlite:///{self.workdir / (service + '.db')}")

    def pids(self) -> dict[str, list[int]]:
        """The mesh's processes: the services (settlement's instances together) and nats-server (not the load generator)."""
        pids: dict[str, list[int]] = {}
        for service, child in self.children:
            pids.setdefault(service, []).append(child.pid)
        if self.nats.process is not None:
            pids["nats"] = [self.nats.process.pid]
        return pids

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds (user + system) each mesh service has used so far, from /proc/<pid>/stat."""
        return {name: sum(_proc_cpu_s(pid) for pid in pids) for name, pids in self.pids().items()}

    async def pipeline(self) -> tuple[int, int]:
        """(unpublished outbox rows over every service, pending + unacked events over every consumer)."""
        import nats as nats_client
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine

        from services.common import bus

        backlog = 0
        for service in SERVICES:
            engine = create_async_engine(self.db_url(service))
            try:
                async with engine.connect() as conn:
                    backlog += (await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE published_us IS NULL"))).scalar() or 0
            finally:
                await engine.dispose()
        pki = self.workdir / "pki"
        nc = await nats_client.connect(self.nats.url, user="bench-observer", password=self.observer_password,
                                       tls=bus.tls_context(pki / "ca.pem", pki / "client.pem", pki / "client.key"), connect_timeout=5)
        lag = 0
        try:
            js = nc.jetstream()
            for stream in bus.STREAMS:
                for info in await js.consumers_info(stream.upper()):
                    lag += info.num_pending + info.num_ack_pending
        finally:
            await nc.close()
        return backlog, lag

    def drain(self, within_s: float = 2.0) -> dict[str, Any]:
        """The pipeline at the end of a step, then polled until empty (at most `within_s`)."""

        async def watch() -> dict[str, Any]:
            began = time.perf_counter()
            backlog, lag = first = await self.pipeline()
            while (backlog or lag) and time.perf_counter() - began < within_s:
                await asyncio.sleep(0.1)
                backlog, lag = await self.pipeline()
            return {"backlog_end": first[0], "lag_end": first[1], "backlog_after": backlog, "lag_after": lag,
                    "drained": not (backlog or lag), "drain_s": time.perf_counter() - began}

        return asyncio.run(watch())

    def step(self, target: str, mode: str, level: float, duration: float, cards: list[str], sign_md: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """One settlement load step with its cost: CPU per settlement (settlement process, whole mesh)
        over the step and the drain after it, and the outbox backlog / consumer lag at its end."""
        before = self.cpu_s()
        spy = self.profiler(duration) if self.profile_step == (mode, level) else None
        result = load("settle", target, mode, level, duration, cards, sign_md)
        if spy is not None:
            spy.wait(duration + 30)
        pipeline = self.drain()
        after = self.cpu_s()
        n = max(result["ok"], 1)
        cost = {"settlement_cpu_ms": (after["settlement"] - before["settlement"]) * 1000 / n,
                "mesh_cpu_ms": sum(after[k] - before[k] for k in after) * 1000 / n,
                "per_process_cpu_ms": {k: (after[k] - before[k]) * 1000 / n for k in after}, **pipeline}
        return result, cost

    def profiler(self, duration: float) -> subprocess.Popen[bytes] | None:
        """py-spy sampling the settlement process over one step (`--profile`; py-spy from PyPI, not pinned).
        It pauses the process for each sample (100 a second), so that step runs a little slower."""
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists():
            print("  --profile: py-spy is not installed (pip install py-spy); no profile taken")
            return None
        self.profile_out = self.workdir / "settlement-profile.txt"
        return subprocess.Popen([spy, "record", "--pid", str(self.pids()["settlement"][0]), "--duration", str(max(int(duration), 1)),
                                 "--rate", "100", "--format", "raw", "--output", str(self.profile_out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def targets(self) -> dict[str, str]:
        targets = {s: f"127.0.0.1:{p}" for s, p in self.ports.items()}
        if len(self.settlement_ports) > 1:
            targets["settlement"] = "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in self.settlement_ports)
        return targets

    def start(self) -> None:
        self.nats.start()
        self.env["SSCARD_NATS_URL"] = self.nats.url
        for service in SERVICES:
            for i, port in enumerate(self.settlement_ports if service == "settlement" else [self.ports[service]]):
                log = open(self.workdir / f"{service}{'-' + str(i) if i else ''}.log", "ab")
                env = {**self.env, f"SSCARD_{service.upper()}_ADDR": f"127.0.0.1:{port}"}
                self.children.append((service, subprocess.Popen([sys.executable, "-m", "services.cli", "serve", service], env=env,
                                                                 stdout=log, stderr=subprocess.STDOUT)))

        async def healthy() -> None:
            client = _client(self.targets())
            try:
                await client.wait_healthy(timeout=60)
            finally:
                await client.close()

        asyncio.run(healthy())

    def stop(self) -> None:
        for _, child in self.children:
            child.terminate()
        for _, child in self.children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        self.nats.stop()


async def seed(db_url: str, start: int, count: int, balance_fen: int = 10**8) -> list[str]:
    """Bench-only bulk path: persons' accounts and active cards straight into settlement's own tables."""
    from services.common.clock import SystemClock, to_micros
    from services.common.db import Database
    from services.settlement import store

    db = Database(db_url, store.metadata, store.MIGRATIONS, "settlement", SystemClock())
    await db.migrate()
    now_us = to_micros(datetime.now(timezone.utc))
    cards: list[str] = []
    chunk = 5000
    try:
        for offset in range(start, start + count, chunk):
            ids = range(offset, min(offset + chunk, start + count))
            cards_chunk = [f"B{i:010d}" for i in ids]
            async with db.engine.begin() as conn:
                await conn.execute(store.accounts.insert(), [dict(person_id=f"bp{i}", card_no=f"B{i:010d}", region_code="999900", insured_category="resident",
                                                                  balance_fen=balance_fen, closed=False, citizen_id="") for i in ids])
                await conn.execute(store.card_projections.insert(), [dict(card_no=f"B{i:010d}", person_id=f"bp{i}", region_code="999900", card_state="active",
                                                                          loss_state="none", pin_enabled=False, pin_hash="", pin_salt="", replaced_by_card_no="",
                                                                          wrong_pin_count=0) for i in ids])
                await conn.execute(store.account_entries.insert(), [dict(entry_id=f"bench-{i}", person_id=f"bp{i}", kind="allocation", amount_fen=balance_fen,
                                                                         balance_after_fen=balance_fen, card_no=f"B{i:010d}", reference="bench", at_us=now_us) for i in ids])
            cards += cards_chunk
            progress(f"seeding settlement population: {offset + len(ids) - start:,}/{count:,}")
    finally:
        await db.close()
    return cards


async def loss_to_halt(targets: dict[str, str], n: int) -> list[float]:
    """Real cards through the full path; each reported lost while a settlement loop runs on it."""
    import grpc

    from services.client import eventually, institution
    from services.common.citizen_id import make_citizen_id
    from sscard.cards.v1 import cards_pb2
    from sscard.identity.v1 import identity_pb2
    from sscard.loss.v1 import loss_pb2
    from sscard.settlement.v1 import settlement_pb2 as spb

    client = _client(targets)
    md = await institution("P99990001").signed_in(client.settlement)
    run = f"{time.time_ns():x}"
    results: list[float] = []
    try:
        for i in range(n):
            citizen_id = make_citizen_id("110105", datetime(1970 + i % 40, 1 + i % 12, 1 + i % 28).date(), i)
            person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
                request_id=f"{run}-r{i}", citizen_id=citizen_id, name="测试", region_code="999900",
                insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
            card = (await eventually(lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
                request_id=f"{run}-a{i}", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True)).card
            await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
            await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(request_id=f"{run}-h{i}", card_no=card.card_no,
                                                                        pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
            await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(request_id=f"{run}-x{i}", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
            await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
                request_id=f"{run}-f{i}", person_id=person.person_id, amount_fen=10**7, period="bench")), lambda r: True)
            await eventually(lambda: client.settlement.CheckCard(spb.CheckCardRequest(card_no=card.card_no), metadata=md), lambda r: r.usability == spb.CARD_USABILITY_USABLE)

            refused_at: list[float] = []
            stop = asyncio.Event()

            async def settle_loop(card_no: str = card.card_no, i: int = i) -> None:
                k = 0
                while not stop.is_set():
                    k += 1
                    try:
                        await client.settlement.Settle(spb.SettleRequest(msg_id=f"{run}-s{i}-{k}", card_no=card_no, care_type=spb.CARE_TYPE_PHARMACY,
                                                                         items=[spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=md)
                    except grpc.aio.AioRpcError:
                        refused_at.append(time.perf_counter())
                        return

            loop_task = asyncio.create_task(settle_loop())
            await asyncio.sleep(0.05)
            # The loss service learns of the hand-out from the cards service's event: until then it refuses with
            # FAILED_PRECONDITION (and writes nothing), so the report is retried with the same request_id.
            await eventually(lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
                request_id=f"{run}-l{i}", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="测试")),
                lambda r: True)
            returned = time.perf_counter()
            try:
                await asyncio.wait_for(loop_task, 10)
            finally:
                stop.set()
            results.append(max(refused_at[0] - returned, 0.0))
            progress(f"loss -> halt: {i + 1}/{n} cards, last {results[-1] * 1000:.1f} ms")
    finally:
        await client.close()
    return results


async def relay_throughput(nats_url: str, workdir: Path, events: int) -> float:
    """Events/s the outbox relay publishes to JetStream (rows committed in one batch, drained)."""
    from services.common import bus
    from services.common.clock import SystemClock
    from services.common.db import Database
    from services.identity import store
    from sscard.events.v1 import identity_events_pb2

    db = Database(f"sqlite+aiosqlite:///{workdir / 'relay-bench.db'}", store.metadata, store.MIGRATIONS, "identity", SystemClock())
    await db.migrate()
    from services.common.config import Settings

    # The identity service's own NATS user and certificate (the relay publishes identity events).
    nc = await bus.connect_as(Settings.from_env("identity", nats_url=nats_url, data_dir=workdir, nats_password=(workdir / "nats" / "identity.password").read_text().strip(),
                                                nats_ca=workdir / "pki" / "ca.pem", nats_cert=workdir / "pki" / "identity.pem", nats_key=workdir / "pki" / "identity.key"), "bench-relay")
    try:
        js = nc.jetstream()
        await bus.ensure_streams(js)
        relay = bus.OutboxRelay(db, js, batch=512)

        async def fill(uow: Any) -> None:
            for i in range(events):
                await uow.emit("person.registered", f"bench-person-{i}", identity_events_pb2.PersonChanged(person_id=f"bench-person-{i}"))

        await db.transact(fill)
        started = time.perf_counter()
        while await relay.publish_pending():
            pass
        return events / (time.perf_counter() - started)
    finally:
        await nc.close()
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sscard bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=int, default=None, help="the large population (default 100k; e.g. 1000000)")
    parser.add_argument("--small", type=int, default=None, help="the small population for the growth comparison")
    parser.add_argument("--duration", type=float, default=None, help="seconds per throughput step (5; 1 with --quick)")
    parser.add_argument("--rate", type=float, default=None, help="offered rate for the latency step and the loss step's backdrop (default: half the capacity measured at concurrency 32)")
    parser.add_argument("--loss-cards", type=int, default=None, help="cards reported lost in the loss -> halt step (100)")
    parser.add_argument("--relay-events", type=int, default=None)
    parser.add_argument("--pg-url", default="", help="run the mesh on PostgreSQL (a server URL; databases are created)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of the bench itself")
    parser.add_argument("--settlement-instances", type=int, default=1, help="settlement as N processes (clients spread calls over them)")
    parser.add_argument("--profile", action="store_true", help="sample the settlement process with py-spy during the concurrency-32 step")
    args = parser.parse_args(argv)
    # --quick: tiny sizes, except where a size is given explicitly.
    sizes = dict(population=(100_000, 2000), small=(10_000, 500), loss_cards=(100, 3), relay_events=(5000, 500), duration=(5.0, 1.0))
    for name, (full, quick) in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    concurrencies = [1, 8, 32, 64]
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                               "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "args": vars(args)}
    workdir = Path(tempfile.mkdtemp(prefix="sscard-bench-"))
    pg = _pg_databases(args.pg_url) if args.pg_url else None
    mesh = Mesh(workdir, pg, args.settlement_instances)
    results["backend"] = "postgresql" if pg else "sqlite"
    print(f"sscard bench — {results['machine']}, backend {results['backend']}, data in {workdir}")
    echo_queue = SPAWN.Queue()
    from bench.load import serve_echo

    echo = SPAWN.Process(target=serve_echo, args=(echo_queue,), daemon=True)
    try:
        cards = asyncio.run(seed(mesh.db_url("settlement"), 0, args.small))
        done(f"seeded {args.small:,} accounts and cards")
        mesh.start()
        done("mesh up: nats-server + identity, cards, loss, settlement")
        targets = mesh.targets()
        sign_md = asyncio.run(_sign_in(targets))
        echo.start()
        echo_target = f"127.0.0.1:{echo_queue.get(timeout=30)}"

        progress(f"throughput at {args.small:,} cards, concurrency 32")
        small, cost = mesh.step(targets["settlement"], "closed", 32, args.duration, cards, sign_md)
        results["small"] = {"population": args.small, "rate": small["rate"], "p99_ms": pct(small["latencies"], 0.99), **cost}
        done(f"{args.small:,} cards: {small['rate']:.0f} settlements/s at concurrency 32")
        done(f"  {_cost_text(cost)}")

        cards += asyncio.run(seed(mesh.db_url("settlement"), args.small, args.population - args.small))
        done(f"seeded up to {args.population:,} accounts and cards")
        results["throughput"] = []
        mesh.profile_step = ("closed", 32) if args.profile else None
        for c in concurrencies:
            progress(f"baseline echo, concurrency {c}")
            base = load("echo", echo_target, "closed", c, args.duration)
            progress(f"settlement, concurrency {c}")
            settle, cost = mesh.step(targets["settlement"], "closed", c, args.duration, cards, sign_md)
            row = {"concurrency": c, "echo_rate": base["rate"], "settle_rate": settle["rate"], "ratio": settle["rate"] / base["rate"],
                   "settle_p50_ms": pct(settle["latencies"], 0.5), "settle_p99_ms": pct(settle["latencies"], 0.99), "errors": settle["errors"], **cost}
            results["throughput"].append(row)
            done(f"concurrency {c:>2}: echo {base['rate']:>7.0f}/s  settle {settle['rate']:>6.0f}/s  ratio {row['ratio']:.2f}")
            done(f"  {_cost_text(cost)}")
        if mesh.profile_out is not None and mesh.profile_out.exists():
            results["profile"] = profile_summary(mesh.profile_out)
            print("  settlement process at concurrency 32 (py-spy; inclusive %, self %):")
            for inc, own, frame in results["profile"]:
                print(f"    {inc:5.1f} {own:5.1f}  {frame[:110]}")
        results["large"] = {"population": args.population, "rate": next(r["settle_rate"] for r in results["throughput"] if r["concurrency"] == 32)}

        capacity = next(r["settle_rate"] for r in results["throughput"] if r["concurrency"] == 32)
        if args.rate is None:  # the measure: half the capacity just measured
            args.rate = max(round(capacity / 2), 1)
        progress(f"latency at an offered {args.rate:.0f}/s")
        base = load("echo", echo_target, "open", args.rate, args.duration)
        settle, cost = mesh.step(targets["settlement"], "open", args.rate, args.duration, cards, sign_md)
        results["latency"] = {"cost": cost, "rate": args.rate, "settle": {q: pct(settle["latencies"], v) for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
                              "echo": {q: pct(base["latencies"], v) for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}, "errors": settle["errors"]}
        done(f"at {args.rate:.0f}/s: settle p50 {results['latency']['settle']['p50']:.1f} / p99 {results['latency']['settle']['p99']:.1f} ms "
             f"(echo p99 {results['latency']['echo']['p99']:.1f} ms)")
        done(f"  {_cost_text(cost)}")

        # Loss -> refusal while the population's settlements run at half capacity (open loop, its own process).
        from bench import load as load_mod

        background = SPAWN.Process(target=load_mod.run, args=("settle", targets["settlement"], "open", args.rate, 3600.0, cards, sign_md), daemon=True)
        background.start()
        try:
            halts = asyncio.run(loss_to_halt(targets, args.loss_cards))
        finally:
            background.terminate()
            background.join(10)
        results["loss_to_halt_ms"] = {"background_rate": args.rate, "n": len(halts), "p50": pct(halts, 0.5), "p99": pct(halts, 0.99), "max": max(halts) * 1000}
        done(f"loss -> halt over {len(halts)} cards: p50 {results['loss_to_halt_ms']['p50']:.1f} ms, p99 {results['loss_to_halt_ms']['p99']:.1f} ms")

        progress("outbox relay")
        results["relay_events_per_s"] = asyncio.run(relay_throughput(mesh.nats.url, workdir, args.relay_events))
        done(f"outbox relay: {results['relay_events_per_s']:.0f} events/s")
    finally:
        if echo.is_alive():
            echo.terminate()
        mesh.stop()
    results["seconds"] = time.perf_counter() - started
    _print_table(results)
    out = REPO_ROOT / "bench" / "results" / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    print(f"written {out.relative_to(REPO_ROOT)}")
    return 0


_SCAFFOLD = ("<frozen runpy>", "asyncio/", "services/cli.py", "threading.py", "selectors.py")


def profile_summary(path: Path, top: int = 25) -> list[tuple[float, float, str]]:
    """py-spy's raw stacks folded into (inclusive %, self %, frame), the event loop's scaffolding left
    out (time in gRPC's and TLS's C code shows as the self time of the loop's callbacks: not listed)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f and not any(s in f for s in _SCAFFOLD)]
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    total = max(total, 1)
    return [(100 * n / total, 100 * own[f] / total, f) for f, n in inclusive.most_common(top)]


def _client(targets: dict[str, str]) -> Any:
    """A client over TLS acting as whoever does each step in life (services.client.default_actor)."""
    from services.client import MeshClient, Remember, default_actor, dev_signer, use_signer

    pki = Path(os.environ["SSCARD_PKI_DIR"])
    use_signer(dev_signer(pki))
    return MeshClient(targets, pki_dir=pki, actor=default_actor, interceptors=[Remember()])


async def _sign_in(targets: dict[str, str]) -> Any:
    from services.client import institution

    client = _client(targets)
    try:
        return await institution("P99990001").signed_in(client.settlement)
    finally:
        await client.close()


def _pg_databases(server_url: str) -> Any:
    """Fresh databases per service on the given PostgreSQL server; returns service -> SQLAlchemy URL."""
    import asyncpg

    suffix = f"{time.time_ns():x}"[-8:]

    async def create() -> dict[str, str]:
        conn = await asyncpg.connect(server_url)
        try:
            urls = {}
            for service in SERVICES:
                await conn.execute(f'CREATE DATABASE "sscard_bench_{service}_{suffix}"')
                urls[service] = server_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/sscard_bench_{service}_{suffix}"
            return urls
        finally:
            await conn.close()

    urls = asyncio.run(create())
    return lambda service: urls[service]


def _print_table(r: dict[str, Any]) -> None:
    print()
    print(f"sscard bench ({r['backend']}, {r['machine']}), {r['seconds']:.0f} s")
    print(f"{'measure':<46} {'sscard':>12} {'echo baseline':>14} {'ratio':>7}")
    for row in r["throughput"]:
        print(f"{'settlements/s, concurrency ' + str(row['concurrency']):<46} {row['settle_rate']:>12.0f} {row['echo_rate']:>14.0f} {row['ratio']:>7.2f}")
    print(f"{'cpu ms/settlement (settlement | mesh), backlog/lag at end of step, drained <= 2 s':<46}")
    for label, cost in [*((f"  concurrency {row['concurrency']}", row) for row in r["throughput"]), ("  latency step", r["latency"]["cost"]),
                        (f"  {r['small']['population']:,} cards, c=32", r["small"])]:
        print(f"{label:<30} {cost['settlement_cpu_ms']:>6.2f} | {cost['mesh_cpu_ms']:>6.2f}   {cost['backlog_end']:>5}/{cost['lag_end']:<5} "
              f"{'yes' if cost['drained'] else 'NO'} ({cost['drain_s']:.1f} s)")
    lat = r["latency"]
    for q in ("p50", "p95", "p99"):
        label = f"latency {q} at {lat['rate']:.0f}/s offered (ms)"
        print(f"{label:<46} {lat['settle'][q]:>12.1f} {lat['echo'][q]:>14.1f} {lat['settle'][q] / max(lat['echo'][q], 1e-9):>7.1f}")
    lh = r["loss_to_halt_ms"]
    print(f"{'loss -> first refusal p50 / p99 / max (ms)':<46} {lh['p50']:>5.1f}/{lh['p99']:.1f}/{lh['max']:.1f}"
          f"   ({lh['n']} cards, settlements at {lh['background_rate']:.0f}/s meanwhile)")
    print(f"{'outbox relay (events/s)':<46} {r['relay_events_per_s']:>12.0f}")
    print(f"{'settlements/s at ' + format(r['small']['population'], ',') + ' cards (c=32)':<46} {r['small']['rate']:>12.0f}")
    print(f"{'settlements/s at ' + format(r['large']['population'], ',') + ' cards (c=32)':<46} {r['large']['rate']:>12.0f} {'':>14} {r['large']['rate'] / r['small']['rate']:>7.2f}")


if __name__ == "__main__":
    sys.exit(main())
