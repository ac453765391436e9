"""Operator commands: status of the mesh, stuck outbox rows, dead letters, replay,
and a card's whole story across the four services for support staff.

Commands that read a service's database run beside the service (same
SSCARD_<SERVICE>_DB_URL); the others talk gRPC and scrape /metrics. Against a cluster they use the
addresses of the environment, never 127.0.0.1 unless nothing else is set: a service at
SSCARD_<SERVICE>_TARGET (else SSCARD_<SERVICE>_ADDR), its metrics at SSCARD_<SERVICE>_METRICS_URL
(else the target's host on SSCARD_<SERVICE>_METRICS_PORT), the TLS files in SSCARD_PKI_DIR
(ca.pem, client.pem, client.key) and the credential in SSCARD_TOKEN. `--json` prints one JSON
document instead of the table.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from importlib import import_module, metadata
from typing import Any

import grpc
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from services.client import MeshClient
from services.common.clock import SystemClock, from_micros
from services.common.config import SERVICES, Settings
from services.common.db import Database
from services.common.server import error_reason


def _version() -> str:
    try:
        return metadata.version("sscard")
    except metadata.PackageNotFoundError:
        return "dev"


def target(service: str, settings: Settings) -> str:
    """Where an operator reaches a service: its target (SSCARD_<SERVICE>_TARGET / _ADDR); a listen
    address on all interfaces (0.0.0.0) means this host."""
    address = settings.peers.get(service) or settings.grpc_addr
    host, _, port = address.rpartition(":")
    return f"127.0.0.1:{port}" if host in ("0.0.0.0", "[::]", "") else address


def metrics_url(service: str, settings: Settings) -> str:
    explicit = os.environ.get(f"SSCARD_{service.upper()}_METRICS_URL")
    if explicit:
        return explicit
    host = target(service, settings).rpartition(":")[0]
    return f"http://{host}:{settings.metrics_port}/metrics"


def _scrape(url: str) -> dict[str, float]:
    """Sum of the gauges we report, from a service's /metrics."""
    wanted = {"sscard_outbox_backlog": 0.0, "sscard_consumer_lag": 0.0, "sscard_dead_letters": 0.0}
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name in wanted:
            wanted[family.name] = sum(sample.value for sample in family.samples)
    return wanted


async def status(settings: dict[str, Settings], as_json: bool = False) -> int:
    """Health, version, outbox backlog, consumer lag and dead letters of every service."""
    client = _client(settings)
    worst = 0
    rows = []
    try:
        for service in SERVICES:
            try:
                health = await client.health(service, timeout=2)
            except grpc.aio.AioRpcError as error:
                health = error.code().name
            url = metrics_url(service, settings[service])
            try:
                gauges: dict[str, float] | None = await asyncio.to_thread(_scrape, url)
            except OSError:
                gauges = None
            worst = max(worst, 0 if health == "SERVING" else 1)
            rows.append({"service": service, "address": target(service, settings[service]), "health": health, "metrics": url,
                         "outbox_backlog": gauges and int(gauges["sscard_outbox_backlog"]),
                         "consumer_lag": gauges and int(gauges["sscard_consumer_lag"]),
                         "dead_letters": gauges and int(gauges["sscard_dead_letters"])})
    finally:
        await client.close()
    if as_json:
        print(json.dumps({"version": _version(), "services": rows}, indent=2))
        return worst
    print(f"sscard {_version()}")
    print(f"{'service':<11} {'address':<32} {'health':<12} {'outbox backlog':>15} {'consumer lag':>13} {'dead letters':>13}")
    for r in rows:
        cells = ["-" if r[k] is None else str(r[k]) for k in ("outbox_backlog", "consumer_lag", "dead_letters")]
        print(f"{r['service']:<11} {r['address']:<32} {r['health']:<12} {cells[0]:>15} {cells[1]:>13} {cells[2]:>13}")
    return worst


def _database(service: str, settings: Settings) -> Database:
    store = import_module(f"services.{service}.store")
    return Database(settings.db_url, store.metadata, store.MIGRATIONS, service, SystemClock())


async def _query(service: str, settings: Settings, table: str, build: Callable[[sa.Table], Any]) -> list[Any]:
    """The rows of one query on a table of a service's database, opened and closed around it."""
    db = _database(service, settings)
    query = build(db.table(table))
    try:
        return await db.read(lambda c: _all(c, query))
    finally:
        await db.close()


async def stuck_outbox(service: str, settings: Settings, older_than_s: float) -> int:
    """Outbox rows committed but not published for longer than `older_than_s`."""
    cutoff = (time.time_ns() // 1000) - int(older_than_s * 1_000_000)
    rows = await _query(service, settings, "outbox", lambda outbox: sa.select(
        outbox.c.id, outbox.c.event_id, outbox.c.subject, outbox.c.created_wall_us,
    ).where(outbox.c.published_us.is_(None), outbox.c.created_wall_us < cutoff).order_by(outbox.c.id))
    print(f"{len(rows)} outbox row(s) of {service} unpublished for more than {older_than_s:g}s")
    for row in rows:
        print(f"  #{row.id} {row.event_id} {row.subject} committed {from_micros(row.created_wall_us):%Y-%m-%d %H:%M:%S} UTC")
    return 1 if rows else 0


async def dead_letters(service: str, settings: Settings) -> int:
    rows = await _query(service, settings, "dead_letters", lambda table: sa.select(table).order_by(table.c.at_us))
    print(f"{len(rows)} dead letter(s) in {service}")
    for row in rows:
        state = "replayed" if row.replayed_us else "parked"
        print(f"  {row.event_id} {row.subject} consumer={row.consumer} stream={row.stream}#{row.stream_seq} {state}: {row.error}")
    return 0


async def audit_trail(service: str, settings: Settings, subject: str = "", action: str = "", limit: int = 200) -> list[Any]:
    """The audit trail of one service, newest last: who did what to whom, through which channel, when."""

    def build(table: sa.Table) -> Any:
        query = sa.select(table)
        if subject:
            query = query.where(table.c.subject_id == subject)
        if action:
            query = query.where(table.c.action.startswith(action, autoescape=True))
        return query.order_by(table.c.id.desc()).limit(limit)

    return (await _query(service, settings, "audit_log", build))[::-1]


async def print_audit(service: str, settings: Settings, subject: str, action: str, limit: int, as_json: bool = False) -> int:
    rows = await audit_trail(service, settings, subject, action, limit)
    if as_json:
        print(json.dumps([{**dict(row._mapping), "at": from_micros(row.at_us).isoformat()} for row in rows], indent=2))
        return 0
    print(f"{len(rows)} audit record(s) of {service}" + (f" for {subject}" if subject else ""))
    for row in rows:
        print(f"  {from_micros(row.at_us):%Y-%m-%d %H:%M:%S} UTC {row.action} {row.subject_id} by {row.actor or '?'}"
              f"{' (ID document ' + row.document + ')' if row.document else ''}{' via ' + row.channel if row.channel else ''}"
              f"{' for proxy ' + row.agent if row.agent else ''}{': ' + row.detail if row.detail else ''}")
    return 0


async def replay(service: str, settings: Settings, event_ids: list[str]) -> int:
    """Apply dead-lettered events again, with the service's own handlers, exactly once."""
    runtime = import_module(f"services.{service}.main").create(settings)
    from services.common import bus

    nc = await bus.connect_as(settings, name=f"sscard-ops-{service}")
    js = nc.jetstream()
    consumers = [bus.EventConsumer(runtime.db, js, durable, stream, subs) for stream, subs, durable in runtime.subscriptions]
    failures = 0
    try:
        for done, event_id in enumerate(event_ids, 1):
            for consumer in consumers:
                try:
                    applied = await consumer.replay(event_id)
                except LookupError:
                    continue
                except PermissionError as refused:  # a forged envelope (bus.ownership_problem)
                    failures += 1
                    print(f"[{done}/{len(event_ids)}] {event_id} via {consumer.name}: {refused}", file=sys.stderr)
                    break
                print(f"[{done}/{len(event_ids)}] {event_id} via {consumer.name}: {'applied' if applied else 'already applied (no effect)'}")
                break
            else:
                failures += 1
                print(f"[{done}/{len(event_ids)}] {event_id}: no such dead letter in {service}", file=sys.stderr)
    finally:
        await nc.close()
        await runtime.db.close()
    return 1 if failures else 0


def _client(settings: dict[str, Settings]) -> MeshClient:
    from services.cli import operator_client

    return operator_client({s: target(s, settings[s]) for s in SERVICES})


async def card_story(card_no: str, settings: dict[str, Settings]) -> int:
    """Everything the four services know about one card, for a support call."""
    from sscard.cards.v1 import cards_pb2
    from sscard.identity.v1 import identity_pb2
    from sscard.loss.v1 import loss_pb2
    from sscard.settlement.v1 import settlement_pb2

    client = _client(settings)

    async def ask(label: str, call: Any) -> Any:
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            print(f"{label}: {error.code().name} {error_reason(error) or ''} {error.details()}")
            return None

    try:
        card = await ask("cards", client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no)))
        if card is None:
            return 1
        c = card.card
        print(f"card {c.card_no}: {cards_pb2.CardState.Name(c.state)} ({cards_pb2.ApplicationKind.Name(c.kind)}), "
              f"region {c.region_code}, ready by {c.ready_by}, fee {c.fee_fen} fen, PIN {'enabled' if c.pin_enabled else 'initial'}")
        if c.replaces_card_no or c.replaced_by_card_no:
            print(f"  replaces {c.replaces_card_no or '-'}; replaced by {c.replaced_by_card_no or '-'}")
        person = await ask("identity", client.identity.GetPerson(identity_pb2.GetPersonRequest(person_id=c.person_id)))
        if person:
            p = person.person
            print(f"holder {p.person_id}: {identity_pb2.PersonStatus.Name(p.status)}, {identity_pb2.InsuredCategory.Name(p.insured_category)}, "
                  f"born {p.birth_date}, region {p.region_code}")
        loss = await ask("loss", client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no)))
        if loss:
            print(f"loss: {loss_pb2.LossState.Name(loss.state)}")
            for h in loss.history:
                print(f"  {h.at.ToDatetime():%Y-%m-%d %H:%M} {h.what} {loss_pb2.LossChannel.Name(h.channel)} {h.detail}")
        account = await ask("account", client.settlement.GetAccount(settlement_pb2.GetAccountRequest(card_no=card_no)))
        if account:
            print(f"personal account of {account.person_id} on {account.card_no}: balance {account.balance_fen} fen")
            entries = await client.settlement.ListAccountEntries(settlement_pb2.ListAccountEntriesRequest(card_no=card_no, page_size=20))
            for e in entries.entries:
                print(f"  {e.at.ToDatetime():%Y-%m-%d %H:%M} {settlement_pb2.EntryKind.Name(e.kind):<22} {e.amount_fen:>10} -> {e.balance_after_fen:>10} {e.reference}")
    finally:
        await client.close()
    return 0


async def card_story_json(card_no: str, settings: dict[str, Settings]) -> int:
    """card-story --json: the same four reads as one JSON document (proto field names)."""
    from google.protobuf.json_format import MessageToDict

    from sscard.cards.v1 import cards_pb2
    from sscard.identity.v1 import identity_pb2
    from sscard.loss.v1 import loss_pb2
    from sscard.settlement.v1 import settlement_pb2

    client = _client(settings)
    story: dict[str, Any] = {"card_no": card_no, "errors": {}}

    async def ask(label: str, call: Any) -> Any:
        try:
            response = await call
        except grpc.aio.AioRpcError as error:
            story["errors"][label] = {"code": error.code().name, "reason": error_reason(error) or "", "details": error.details()}
            return None
        story[label] = MessageToDict(response, preserving_proto_field_name=True)
        return response

    try:
        card = await ask("card", client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no)))
        if card is not None:
            await ask("holder", client.identity.GetPerson(identity_pb2.GetPersonRequest(person_id=card.card.person_id)))
            await ask("loss", client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no)))
            if await ask("account", client.settlement.GetAccount(settlement_pb2.GetAccountRequest(card_no=card_no))):
                await ask("entries", client.settlement.ListAccountEntries(settlement_pb2.ListAccountEntriesRequest(card_no=card_no, page_size=20)))
    finally:
        await client.close()
    print(json.dumps(story, indent=2, ensure_ascii=False))
    return 0 if "card" in story else 1


async def print_loss_latency(settings: Settings) -> int:
    from services.settlement import store

    db = _database("settlement", settings)
    try:
        rows = await db.read(store.halts)
    finally:
        await db.close()
    if not rows:
        print("no loss reports seen by settlement yet")
        return 0
    latencies = [(r.halted_wall_us - r.reported_wall_us) / 1000 for r in rows]
    print(f"{'report':<30} {'card':<12} {'loss -> refusing (ms)':>22}")
    for row, ms in zip(rows, latencies):
        print(f"{row.report_id:<30} {row.card_no:<12} {ms:>22.1f}")
    ordered = sorted(latencies)
    print(f"n={len(ordered)} p50={statistics.median(ordered):.1f} ms p99={ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)]:.1f} ms max={ordered[-1]:.1f} ms")
    return 0


async def _all(conn: Any, stmt: Any) -> list[Any]:
    return list((await conn.execute(stmt)).all())
