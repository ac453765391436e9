"""The bus is not open (ARCHITECTURE rule 12, issue 14 item 5).

- the server: no connection without TLS, a client certificate of our CA and a user's password;
- the server: a service's NATS user publishes only its own subjects (natsd.permissions), so the
  identity service cannot forge the loss service's `refund.approved`;
- the consumer: an envelope whose producer does not own the subject it came on is never applied,
  even when someone with the bus's keys (here the test's own admin) injects it;
- retention: every stream has the configured max age, and the owner brings an existing stream to it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from google.protobuf import any_pb2

from services.client import eventually
from services.common import bus, natsd
from services.common.config import REPO_ROOT, Settings
from services.common.ids import new_id
from services.common.natsd import NatsServer
from services.settlement import store
from sscard.events.v1 import envelope_pb2, loss_events_pb2
from tests import harness
from tests.harness import Mesh, nats_connect, nats_settings
from tests.mesh.test_delivery import drained, setup_card

DAY_S = 86400.0


async def _refused(url: str, **options: Any) -> BaseException:
    """Connecting with `options` fails (no retry): returns what the client saw."""
    with pytest.raises(Exception) as failure:
        nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2, **options)
        await nc.close()  # not reached when refused
    return failure.value


def _tls(cert: str | None = "client") -> ssl.SSLContext:
    pki = harness.test_pki()
    return bus.tls_context(pki / "ca.pem", *((pki / f"{cert}.pem", pki / f"{cert}.key") if cert else (None, None)))  # type: ignore[return-value]


async def test_the_server_refuses_clients_without_tls_certificate_or_password(nats_server: NatsServer) -> None:
    admin = await nats_connect(nats_server.url)
    js = admin.jetstream()
    await bus.ensure_streams(js)
    settlement = nats_settings("settlement")
    password = str(settlement["nats_password"])

    # No credentials at all, over proper TLS with a client certificate.
    assert "Authorization Violation" in str(await _refused(nats_server.url, tls=_tls()))
    # A wrong password, and a real user's password under another user's name.
    assert "Authorization Violation" in str(await _refused(nats_server.url, tls=_tls(), user="settlement", password="guess"))
    assert "Authorization Violation" in str(await _refused(nats_server.url, tls=_tls(), user="loss", password=password))
    # The right password, but no client certificate (the server verifies clients: `verify: true`).
    assert isinstance(await _refused(nats_server.url, tls=_tls(cert=None), user="settlement", password=password), (ConnectionError, ssl.SSLError))
    # The right password, but no TLS: the client cannot even trust the server without our CA ...
    assert isinstance(await _refused(nats_server.url, user="settlement", password=password), ssl.SSLError)
    # ... and a client that skips verifying the server still has no certificate to present.
    careless = ssl.create_default_context()
    careless.check_hostname, careless.verify_mode = False, ssl.CERT_NONE
    assert isinstance(await _refused(nats_server.url, tls=careless, user="settlement", password=password), (ConnectionError, ssl.SSLError))
    # A forger speaking the plain protocol, no TLS at all: CONNECT and PUB a forged refund.
    reader, writer = await asyncio.open_connection("127.0.0.1", nats_server.port)
    info = await reader.readline()
    assert b'"tls_required":true' in info
    writer.write(b'CONNECT {"verbose":false,"user":"settlement","pass":"%s"}\r\nPUB sscard.loss.refund.approved 6\r\nforged\r\nPING\r\n' % password.encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # the server closes the connection: no PONG, no +OK
    assert b"PONG" not in answer
    writer.close()

    # Nothing forged reached any stream.
    for stream in bus.STREAMS:
        assert (await js.stream_info(stream.upper())).state.messages == 0
    # The control: the same password with TLS and the service's certificate connects.
    nc = await bus.connect(nats_server.url, "control", user="settlement", password=password,
                           tls=bus.tls_context(settlement["nats_ca"], settlement["nats_cert"], settlement["nats_key"]))
    assert nc.is_connected
    await nc.close()
    await admin.close()


async def test_a_service_user_cannot_publish_or_read_another_services_subjects(mesh: Mesh) -> None:
    await mesh.start()
    errors: list[Exception] = []

    async def on_error(error: Exception) -> None:
        errors.append(error)

    # The identity service's real NATS credentials, exactly as the mesh uses them.
    settings = mesh.settings("identity")
    nc = await bus.connect(settings.nats_url, "identity-gone-rogue", user=settings.nats_user, password=settings.nats_password,
                           tls=bus.tls_context(settings.nats_ca, settings.nats_cert, settings.nats_key), error_cb=on_error)
    js = nc.jetstream()
    loss_before = (await js.stream_info("LOSS")).state.messages

    forged = envelope_pb2.Envelope(event_id=new_id("evt"), event_type="refund.approved", producer="loss", aggregate_id="x", sequence=1)
    forged.payload.Pack(loss_events_pb2.RefundApproved(claim_id="forged", card_no="x", person_id="x", amount_fen=10**10))
    with pytest.raises((nats.errors.TimeoutError, nats.errors.Error)):
        await js.publish("sscard.loss.refund.approved", forged.SerializeToString(), timeout=1)
    await eventually(lambda: asyncio.sleep(0, errors), lambda e: any("permissions violation" in str(x).lower() for x in e))
    assert any('publish to "sscard.loss.refund.approved"' in str(x) for x in errors), errors

    # Nor may it read another service's deliveries or create a consumer on a stream it does not consume.
    errors.clear()
    await nc.subscribe("sscard.loss.>")
    await nc.subscribe("_INBOX_settlement.>")
    await nc.flush()
    await eventually(lambda: asyncio.sleep(0, errors), lambda e: len(e) >= 2)
    assert all("permissions violation for subscription" in str(x).lower() for x in errors), errors
    with pytest.raises((nats.errors.TimeoutError, nats.errors.Error)):
        await js.add_consumer("LOSS", durable_name="settlement-loss-spy", timeout=1)

    # The control: its own subjects it may publish (nobody consumes this one).
    ack = await js.publish("sscard.identity.test.own", b"not an event", timeout=5)
    assert ack.stream == "IDENTITY"
    assert (await mesh.runtimes["loss"].js.stream_info("LOSS")).state.messages == loss_before
    await nc.close()


async def _balance(mesh: Mesh, person_id: str) -> int:
    account = await mesh.runtimes["settlement"].db.read(lambda c: store.get_account(c, person_id))
    assert account is not None
    return account.balance_fen


def _refund(producer: str, person_id: str, card_no: str, amount_fen: int) -> envelope_pb2.Envelope:
    payload = any_pb2.Any()
    payload.Pack(loss_events_pb2.RefundApproved(claim_id=new_id("claim"), card_no=card_no, person_id=person_id, amount_fen=amount_fen))
    return envelope_pb2.Envelope(event_id=new_id("evt"), event_type="refund.approved", aggregate_id=card_no, sequence=1,
                                 producer=producer, payload=payload)


async def test_the_consumer_refuses_an_envelope_whose_producer_does_not_own_the_subject(mesh: Mesh) -> None:
    await mesh.start()
    card_no, _ = await setup_card(mesh, serial=71)
    await drained(mesh)
    settlement = mesh.runtimes["settlement"]
    accounts = settlement.db.table("accounts")
    person_id = (await settlement.db.read(lambda c: c.execute(sa.select(accounts.c.person_id).where(accounts.c.card_no == card_no)))).scalar()
    before = await _balance(mesh, person_id)
    loss_consumer = next(c for c in settlement.consumers if c.name == "settlement-loss")

    # Someone holding the bus's keys (the test's admin) injects an envelope that claims to be from
    # identity on the loss service's subject: the server lets it through, the consumer must not.
    admin = await nats_connect(mesh.nats_url)
    js = admin.jetstream()
    forged = _refund("identity", person_id, card_no, 10**10)
    await js.publish("sscard.loss.refund.approved", forged.SerializeToString(), headers={"Nats-Msg-Id": forged.event_id})
    await drained(mesh)
    assert await _balance(mesh, person_id) == before
    dead = settlement.db.table("dead_letters")
    inbox = settlement.db.table("inbox")
    parked = (await settlement.db.read(lambda c: c.execute(sa.select(dead).where(dead.c.event_id == forged.event_id)))).all()
    assert len(parked) == 1 and "does not own subject sscard.loss.refund.approved" in parked[0].error
    handled = (await settlement.db.read(lambda c: c.execute(sa.select(inbox).where(inbox.c.event_id == forged.event_id)))).all()
    assert handled == []  # never applied, never recorded as handled
    with pytest.raises(PermissionError):  # and the operator cannot replay it into effect
        await loss_consumer.replay(forged.event_id)
    assert await _balance(mesh, person_id) == before

    # The control: the same payload claiming the right producer is applied (so the refusal above was
    # the ownership check, not a broken payload). Only the admin can publish it; no service can.
    genuine_looking = _refund("loss", person_id, card_no, 500)
    await js.publish("sscard.loss.refund.approved", genuine_looking.SerializeToString(), headers={"Nats-Msg-Id": genuine_looking.event_id})
    await eventually(lambda: _balance(mesh, person_id), lambda b: b == before + 500)
    await admin.close()


def test_ownership_rule() -> None:
    envelope = envelope_pb2.Envelope(producer="loss")
    assert bus.ownership_problem(envelope, "sscard.loss.refund.approved", "LOSS") == ""
    assert "does not own subject" in bus.ownership_problem(envelope, "sscard.cards.card.activated", "CARDS")
    assert "does not own subject" in bus.ownership_problem(envelope, "sscard.lossy.card.reported", "LOSS")
    assert "does not own stream" in bus.ownership_problem(envelope, "sscard.loss.card.reported", "SETTLEMENT")
    assert "unknown producer" in bus.ownership_problem(envelope_pb2.Envelope(producer=""), "sscard..x", "LOSS")


async def test_streams_have_the_configured_max_age_and_the_owner_updates_its_own(mesh: Mesh) -> None:
    assert Settings.from_env("loss").stream_max_age_s == 30 * DAY_S
    mesh.overrides = {"stream_max_age_s": 7 * DAY_S}
    await mesh.start()
    js = mesh.runtimes["loss"].js
    for stream in bus.STREAMS:
        assert (await js.stream_info(stream.upper())).config.max_age == pytest.approx(7 * DAY_S)

    # An existing stream: the loss service restarted with a shorter retention updates LOSS (only
    # the owner may; the other streams keep theirs).
    mesh.overrides = {"stream_max_age_s": 2 * DAY_S}
    await mesh.restart("loss")
    js = mesh.runtimes["loss"].js
    assert (await js.stream_info("LOSS")).config.max_age == pytest.approx(2 * DAY_S)
    assert (await js.stream_info("CARDS")).config.max_age == pytest.approx(7 * DAY_S)


async def test_the_permission_table_matches_what_each_service_consumes(mesh: Mesh) -> None:
    await mesh.start()
    for service, runtime in mesh.runtimes.items():
        wired = {(c.stream, c.name) for c in runtime.consumers}
        allowed = {(stream, durable) for stream, durables in natsd.CONSUMES[service].items() for durable in durables}
        assert wired == allowed, service


def _k8s_nats_conf() -> str:
    import yaml

    docs = yaml.safe_load_all((REPO_ROOT / "deploy" / "k8s" / "base" / "nats" / "nats.yaml").read_text())
    return next(d for d in docs if d and d["kind"] == "ConfigMap")["data"]["nats.conf"]


def test_the_kubernetes_nats_config_has_the_same_users_and_permissions() -> None:
    conf = _k8s_nats_conf()
    assert natsd.authorization() in conf  # regenerate the block from natsd.authorization() when this fails
    assert "verify: true" in conf and 'ca_file: "/etc/nats/tls/ca.crt"' in conf


async def test_the_kubernetes_nats_config_runs_and_takes_passwords_from_the_environment(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """nats-server itself reads the Kubernetes config: users from the Secret's environment variables,
    TLS from the cert-manager file names (here the development PKI under those names)."""
    pki = harness.test_pki()
    tls = tmp_path / "tls"
    tls.mkdir()
    for name, source in (("tls.crt", "nats.pem"), ("tls.key", "nats.key"), ("ca.crt", "ca.pem")):
        (tls / name).write_bytes((pki / source).read_bytes())
    port, http, cluster = natsd.free_port(), natsd.free_port(), natsd.free_port()
    conf = (_k8s_nats_conf().replace("/etc/nats/tls/", f"{tls}/").replace("/data/jetstream", str(tmp_path / "js"))
            .replace("/var/run/nats/", f"{tmp_path}/")  # the pid file (lame-duck preStop), an emptyDir in the pod
            .replace("port: 4222", f"port: {port}").replace("http_port: 8222", f"http_port: {http}").replace("port: 6222", f"port: {cluster}"))
    conf = "host: 127.0.0.1\n" + conf.replace("server_name: $POD_NAME", "server_name: nats-0")
    (tmp_path / "nats.conf").write_text(conf)
    passwords = {user: natsd.generate_password() for user in natsd.USERS}
    env = {**os.environ, **{natsd.password_env_var(u): p for u, p in passwords.items()}}
    process = subprocess.Popen([natsd.nats_server_binary(), "-c", str(tmp_path / "nats.conf")], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(tmp_path / "nats.log", "wb"))
    try:
        try:
            natsd.wait_port(port, timeout=30)
        except TimeoutError:
            raise AssertionError(f"nats-server (exit {process.poll()}): {(tmp_path / 'nats.log').read_text()[-2000:]}") from None
        url = f"nats://127.0.0.1:{port}"
        nc = await bus.connect(url, "k8s-check", user="loss", password=passwords["loss"], tls=_tls("loss"), max_reconnect_attempts=0)
        assert nc.is_connected
        await nc.close()
        assert "Authorization Violation" in str(await _refused(url, tls=_tls("loss"), user="loss", password=passwords["cards"]))
        assert int((tmp_path / "nats.pid").read_text()) == process.pid  # what the preStop `-sl=ldm=...` signals
    finally:
        process.terminate()
        process.wait(10)


async def test_services_reconnect_with_their_credentials_after_a_nats_server_restart(mesh: Mesh, nats_server: NatsServer) -> None:
    """The reliability suite's NATS restart, on the closed bus: every service reconnects over TLS as
    its own user and events keep flowing (tests/reliability covers lost/doubled under load)."""
    from sscard.loss.v1 import loss_pb2
    from tests.mesh.test_story import check

    client = await mesh.start()
    card_no, citizen_id = await setup_card(mesh, serial=81)
    await drained(mesh)
    await asyncio.to_thread(nats_server.restart)
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="after-restart", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="赵六"))
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST", timeout=30)
    await drained(mesh)
    assert all(runtime.nc.is_connected for runtime in mesh.runtimes.values())
