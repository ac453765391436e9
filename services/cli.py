"""`sscard`: run the mesh, play the demo story, operate it.

  sscard up                 nats-server + the four services on SQLite under $SSCARD_DATA_DIR
  sscard demo               play the story against a running mesh
  sscard serve SERVICE      run one service (what a container runs)
  sscard migrate SERVICE|all [--sql]  Alembic upgrade to head (or print the DDL for review)
  sscard loss-latency       loss report -> refusal latency, as settlement measured it
  sscard status             health, version, outbox backlog, consumer lag
  sscard outbox SERVICE     outbox rows stuck unpublished
  sscard dead-letters SERVICE / sscard replay SERVICE EVENT_ID...
  sscard audit SERVICE [--subject ID] [--action PREFIX]
  sscard card-story CARD_NO a card's story across identity, cards, loss and settlement
  sscard token KIND ID ...  a development credential (JWT) for grpcurl and scripts
  sscard probe SERVICE      Kubernetes exec probe: the service's gRPC health over mTLS
  sscard drain SERVICE      Kubernetes preStop: health NOT_SERVING, wait, then the kubelet stops it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from services.common.config import DEFAULT_NATS_PORT, SERVICES, Settings
from services.common.trust import KINDS


def _create(service: str, settings: Settings):  # noqa: ANN202 - Runtime
    from importlib import import_module

    return import_module(f"services.{service}.main").create(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    from services.common.app import serve_forever

    from services.common.observability import configure_logging

    configure_logging(os.environ.get("SSCARD_LOG_FORMAT", "json"))

    async def run() -> None:
        # gRPC aio objects must be created inside the loop that runs them.
        settings = Settings.from_env(args.service)
        await serve_forever(_create(args.service, settings), settings.drain_s)

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common import schema
    from services.ops import _database

    services = SERVICES if args.service == "all" else [args.service]
    if args.sql:
        # Offline: the DDL a DBA reviews (and may run with psql), no database opened.
        for service in services:
            dialect = args.dialect or Settings.from_env(service).db_url.split(":", 1)[0].split("+", 1)[0]
            print(f"-- sscard {service}: upgrade {args.to} ({dialect})")
            schema.offline_sql(service, dialect, args.to, out=sys.stdout)
        return 0

    # Only the databases: the migrations Job holds no certificate, signing key or issuer keys.
    async def run() -> None:
        for service in services:
            db = _database(service, Settings.from_env(service))
            try:
                applied = await db.migrate()
            finally:
                await db.close()
            print(f"{service}: applied migrations {applied or 'none (up to date)'}; at {schema.head(service)}")

    asyncio.run(run())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from services.common.natsd import NatsSecurity, NatsServer, ensure_credentials
    from services.common.pki import ensure_dev_pki

    # The embedded default is development: a local CA, certificates, issuer keys and random
    # per-install secrets under $SSCARD_DATA_DIR/pki (production mounts its own; docs/security.md).
    os.environ["SSCARD_ENV"] = "dev"
    data_dir = Settings.from_env("identity").data_dir
    pki = ensure_dev_pki(Path(os.environ.get("SSCARD_PKI_DIR", str(data_dir / "pki"))))
    os.environ["SSCARD_PKI_DIR"] = str(pki)
    for name, value in dev_secrets(pki).items():
        os.environ.setdefault(name, value)
    settings = {s: Settings.from_env(s) for s in SERVICES}
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # The bus is closed in development too: TLS from the development CA, a random password per NATS
    # user written once under the data dir (the services read theirs from there: config.nats_password).
    passwords = ensure_credentials(data_dir / "nats")
    nats_port = int(os.environ.get("SSCARD_NATS_PORT", DEFAULT_NATS_PORT))
    nats = NatsServer(data_dir / "jetstream", port=nats_port, log_file=logs / "nats-server.log",
                      security=NatsSecurity.from_pki(pki, passwords))
    try:
        nats.start()
    except TimeoutError:
        print(f"nats-server did not start on port {nats_port} (in use? set SSCARD_NATS_PORT)", file=sys.stderr)
        return 1
    env = {**os.environ, "SSCARD_NATS_URL": nats.url, "SSCARD_DATA_DIR": str(data_dir)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    stop = {"now": False}

    def on_signal(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for service in SERVICES:
            log_file = open(logs / f"{service}.log", "ab")
            children[service] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "serve", service], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        targets = {s: settings[s].grpc_addr for s in SERVICES}

        async def healthy() -> None:
            client = operator_client(targets)
            try:
                waiting = asyncio.create_task(client.wait_healthy(timeout=60))
                while not waiting.done():
                    dead = [s for s, c in children.items() if c.poll() is not None]
                    if dead:
                        waiting.cancel()
                        raise RuntimeError(f"{dead[0]} exited during start-up; see {logs / (dead[0] + '.log')}")
                    await asyncio.sleep(0.1)
                await waiting
            finally:
                await client.close()

        try:
            asyncio.run(healthy())
        except (RuntimeError, TimeoutError) as failure:
            print(f"sscard up failed: {failure}", file=sys.stderr)
            return 1
        from services.gateway.main import DEFAULT_ADDR

        gateway_addr = os.environ.get("SSCARD_GATEWAY_ADDR", DEFAULT_ADDR)
        children["gateway"] = subprocess.Popen([sys.executable, "-m", "services.cli", "gateway", "--addr", gateway_addr], env=env,
                                               stdout=open(logs / "gateway.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        if not _gateway_answers(gateway_addr, pki / "ca.pem", children["gateway"]):
            print(f"sscard up failed: the gateway did not start; see {logs / 'gateway.log'}", file=sys.stderr)
            return 1
        host, _, port = gateway_addr.rpartition(":")
        web = f"https://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
        print("sscard is up (Ctrl-C stops everything)")
        print(f"  web          {web}/citizen  (citizens)   {web}/clerk  (outlet clerks; development staff password "
              f"{os.environ['SSCARD_GATEWAY_STAFF_PASSWORD']})   {web}/openapi.json   (trust {pki / 'ca.pem'})")
        print(f"  nats-server  {nats.url}  (TLS, one user per service; JetStream store {data_dir / 'jetstream'}, config {nats.config_file})")
        for service in SERVICES:
            print(f"  {service:<11}  grpcs://{targets[service]}  db {settings[service].db_url}")
        print(f"  pki          {pki}  (CA, certificates, issuer key; `sscard token` mints credentials)")
        print(f"  regions      {', '.join(p.stem for p in sorted(settings['identity'].regions_dir.glob('*.yaml')))}")
        print(f"  institutions {settings['settlement'].institutions_file}")
        print(f"  logs         {logs}")
        while not stop["now"]:
            for service, child in children.items():
                if child.poll() is not None:
                    print(f"{service} exited with {child.returncode}; see {logs / (service + '.log')}", file=sys.stderr)
                    stop["now"] = True
            time.sleep(0.2)
    finally:
        print("stopping ...")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        nats.stop()
        print("stopped")
    return 0


def _gateway_answers(addr: str, ca_file: Path, process: "subprocess.Popen[bytes]", timeout: float = 30.0) -> bool:
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=str(ca_file))
    host, _, port = addr.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"https://localhost:{port}/healthz", context=context, timeout=1) as answer:
                return answer.status == 200
        except OSError:
            time.sleep(0.2)
    return False


def dev_secrets(pki: Path) -> dict[str, str]:
    """Random secrets made once per install for the embedded default (never the built-in ones)."""
    path = pki / "secrets.json"
    made = json.loads(path.read_text()) if path.exists() else {}
    wanted = {name: secrets.token_hex(32) for name in ("SSCARD_PIN_PEPPER", "SSCARD_TOKEN_SECRET", "SSCARD_PIN_SEAL_KEY")}
    wanted["SSCARD_GATEWAY_STAFF_PASSWORD"] = secrets.token_urlsafe(12)  # the web console's development staff login
    if set(wanted) - set(made):  # an install from before a secret existed gets it; none already made changes
        path.write_text(json.dumps({**wanted, **made}))
        os.chmod(path, 0o600)
    return json.loads(path.read_text())


def _pki_dir() -> Path:
    return Path(os.environ.get("SSCARD_PKI_DIR", str(Settings.from_env("identity").data_dir / "pki")))


def operator_credential() -> "Any":
    """The operator's credential: $SSCARD_TOKEN if set, else a development one minted with the
    local issuer key (support staff act as an outlet clerk of the operations desk)."""
    from services.client import BearerToken, Credential, dev_signer, use_signer
    from services.common import trust

    if os.environ.get("SSCARD_TOKEN"):
        return BearerToken(os.environ["SSCARD_TOKEN"])
    use_signer(dev_signer(_pki_dir()))
    return Credential(trust.CLERK, os.environ.get("USER", "operator"), org="OPS-DESK", region="999900")


def operator_client(targets: dict[str, str]) -> "Any":
    from services.client import MeshClient

    credential = operator_credential()
    return MeshClient(targets, pki_dir=_pki_dir(), actor=lambda _method, _request: credential)


def cmd_gateway(args: argparse.Namespace) -> int:
    from services.gateway.main import serve

    serve(_pki_dir(), args.addr)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from services.client import Credential, dev_signer
    from services.common.trust import Signer

    signer = Signer.from_file(Path(args.key), args.kid, args.issuer) if args.key else dev_signer(_pki_dir())
    credential = Credential(args.kind, args.id, org=args.org, region=args.region, person_id=args.person_id, channel=args.channel)
    print(signer.mint(credential.kind, credential.id, tuple(args.aud), ttl_s=args.ttl, org=credential.org, region=credential.region,
                      person_id=credential.person_id, channel=credential.channel))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from services.demo import play

    targets = {s: Settings.from_env(s).grpc_addr for s in SERVICES}
    return asyncio.run(play(targets, _pki_dir()))


def cmd_probe(args: argparse.Namespace) -> int:
    """Kubernetes exec probe: the gRPC health check of this container's own service over mutual
    TLS (its SSCARD_TLS_* files), because a kubelet gRPC probe cannot speak TLS. Exit 0 = SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from services.common.trust import channel_credentials

    settings = Settings.from_env(args.service)
    port = settings.grpc_addr.rsplit(":", 1)[1]
    # Dial the loopback, but check the certificate against the name peers use (a SAN of every service certificate).
    with grpc.secure_channel(f"127.0.0.1:{port}", channel_credentials(settings.tls_ca, settings.tls_cert, settings.tls_key),
                             options=[("grpc.ssl_target_name_override", args.service)]) as channel:
        try:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=args.timeout).status
        except grpc.RpcError as error:
            print(f"{args.service}: {error.code().name}", file=sys.stderr)
            return 1
    print(f"{args.service}: {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}")
    return 0 if status == health_pb2.HealthCheckResponse.SERVING else 1


def cmd_drain(args: argparse.Namespace) -> int:
    """Kubernetes preStop: tell the container's `sscard serve` (PID 1) to drain (SIGUSR1: health
    NOT_SERVING, calls in flight go on), wait until the probe sees it, then `--wait` seconds for the
    endpoints and clients to notice; the kubelet's SIGTERM then stops the service."""
    os.kill(args.pid, signal.SIGUSR1)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    print(f"{args.service}: drained for {args.wait:g}s")
    return 0


def cmd_loss_latency(args: argparse.Namespace) -> int:
    from services.ops import print_loss_latency

    return asyncio.run(print_loss_latency(Settings.from_env("settlement")))


def _all_settings() -> dict[str, Settings]:
    return {s: Settings.from_env(s) for s in SERVICES}


def cmd_status(args: argparse.Namespace) -> int:
    from services.ops import status

    return asyncio.run(status(_all_settings(), args.json))


def cmd_outbox(args: argparse.Namespace) -> int:
    from services.ops import stuck_outbox

    return asyncio.run(stuck_outbox(args.service, Settings.from_env(args.service), args.older_than))


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from services.ops import dead_letters

    return asyncio.run(dead_letters(args.service, Settings.from_env(args.service)))


def cmd_audit(args: argparse.Namespace) -> int:
    from services.ops import print_audit

    return asyncio.run(print_audit(args.service, Settings.from_env(args.service), args.subject, args.action, args.limit, args.json))


def cmd_replay(args: argparse.Namespace) -> int:
    from services.ops import replay

    return asyncio.run(replay(args.service, ops_nats(Settings.from_env(args.service)), args.event_ids))


def ops_nats(settings: Settings) -> Settings:
    """The operator's NATS identity (the read-only `ops` user, the operator's client certificate)
    unless SSCARD_NATS_USER names another: `sscard replay` only reads the parked events."""
    import dataclasses

    from services.common.config import nats_password

    if "SSCARD_NATS_USER" in os.environ:
        return settings
    pki = settings.nats_ca.parent if settings.nats_ca else settings.data_dir / "pki"
    return dataclasses.replace(
        settings, nats_user="ops", nats_password=nats_password("ops", settings.data_dir),
        nats_cert=Path(os.environ.get("SSCARD_NATS_CERT", str(pki / "client.pem"))),
        nats_key=Path(os.environ.get("SSCARD_NATS_KEY", str(pki / "client.key"))),
    )


def cmd_card_story(args: argparse.Namespace) -> int:
    from services.ops import card_story, card_story_json

    return asyncio.run((card_story_json if args.json else card_story)(args.card_no, _all_settings()))


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(args.bench_args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sscard", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start nats-server and all four services").set_defaults(func=cmd_up)
    sub.add_parser("demo", help="play the story against a running mesh").set_defaults(func=cmd_demo)
    gateway = sub.add_parser("gateway", help="the web gateway: HTTP/JSON API, citizen pages, clerk console (HTTPS)")
    gateway.add_argument("--addr", default="", help="host:port (default $SSCARD_GATEWAY_ADDR or 127.0.0.1:8443)")
    gateway.set_defaults(func=cmd_gateway)
    serve = sub.add_parser("serve", help="run one service")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("service", choices=[*SERVICES, "all"])
    migrate.add_argument("--sql", action="store_true", help="print the DDL (offline, for review) instead of applying it")
    migrate.add_argument("--dialect", choices=["postgresql", "sqlite"], default="", help="with --sql: default the configured database's")
    migrate.add_argument("--to", default="head", help="with --sql: TARGET or FROM:TO revisions (default: head from an empty database)")
    migrate.set_defaults(func=cmd_migrate)
    probe = sub.add_parser("probe", help="health of this container's service over mTLS (Kubernetes exec probe)")
    probe.add_argument("service", choices=SERVICES)
    probe.add_argument("--timeout", type=float, default=2.0)
    probe.set_defaults(func=cmd_probe)
    drain = sub.add_parser("drain", help="preStop hook: health NOT_SERVING, wait, then let the kubelet stop the service")
    drain.add_argument("service", choices=SERVICES)
    drain.add_argument("--wait", type=float, default=8.0, help="seconds to wait after NOT_SERVING (default 8)")
    drain.add_argument("--pid", type=int, default=1, help="the sscard serve process (default 1, the container's entrypoint)")
    drain.set_defaults(func=cmd_drain)
    sub.add_parser("loss-latency", help="loss report -> refusal latency per report").set_defaults(func=cmd_loss_latency)
    status = sub.add_parser("status", help="health, version, outbox backlog, consumer lag and dead letters of every service")
    status.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    status.set_defaults(func=cmd_status)
    outbox = sub.add_parser("outbox", help="list outbox rows not published in time")
    outbox.add_argument("service", choices=SERVICES)
    outbox.add_argument("--older-than", type=float, default=5.0, help="seconds (default 5)")
    outbox.set_defaults(func=cmd_outbox)
    dead = sub.add_parser("dead-letters", help="list events a consumer gave up on")
    dead.add_argument("service", choices=SERVICES)
    dead.set_defaults(func=cmd_dead_letters)
    audit = sub.add_parser("audit", help="a service's audit trail: who changed what, through which channel, when")
    audit.add_argument("service", choices=SERVICES)
    audit.add_argument("--subject", default="", help="a card number, person id, settlement id ...")
    audit.add_argument("--action", default="", help="an action prefix, e.g. loss. or card.pin")
    audit.add_argument("--limit", type=int, default=200)
    audit.add_argument("--json", action="store_true", help="the records as a JSON array")
    audit.set_defaults(func=cmd_audit)
    replay = sub.add_parser("replay", help="apply dead-lettered events again (exactly once)")
    replay.add_argument("service", choices=SERVICES)
    replay.add_argument("event_ids", nargs="+")
    replay.set_defaults(func=cmd_replay)
    story = sub.add_parser("card-story", help="a card's full story across the four services")
    story.add_argument("card_no")
    story.add_argument("--json", action="store_true", help="one JSON document (proto field names)")
    story.set_defaults(func=cmd_card_story)
    token = sub.add_parser("token", help="mint a development credential (JWT) signed by the local issuer key")
    token.add_argument("kind", choices=KINDS)
    token.add_argument("id", help="who acts: operator id, institution code, person id (citizen), service name")
    token.add_argument("--org", default="", help="organisation: outlet, bank, unit, institution or fund office code")
    token.add_argument("--region", default="", help="pooling region code (fund staff, clerks)")
    token.add_argument("--person-id", default="", help="citizen sessions: the person they are bound to")
    token.add_argument("--channel", default="", help="citizen sessions: app | web | wechat")
    token.add_argument("--aud", nargs="+", default=list(SERVICES), choices=SERVICES, help="services it is for (default: all)")
    token.add_argument("--ttl", type=int, default=600, help="seconds (the services accept at most SSCARD_TOKEN_MAX_LIFETIME_S)")
    token.add_argument("--key", default="", help="issuer private key (default: the development issuer under the PKI dir)")
    token.add_argument("--kid", default="dev-issuer-1")
    token.add_argument("--issuer", default="sscard-dev-issuer")
    token.set_defaults(func=cmd_token)
    bench = sub.add_parser("bench", help="run the benchmarks (see bench/README.md)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    from services.common.config import ConfigError

    try:
        return args.func(args)
    except ConfigError as error:
        print(f"sscard: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
