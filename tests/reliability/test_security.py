"""Secrets stay secret and every state change leaves an audit record an operator can query.

(Credentials on every settlement call, one institution's settlements hidden from another, and
PIN brute force locking the card are proved in tests/service/test_settlement.py and
tests/mesh/test_cards.py.)"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import text_format

from services import ops
from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.clock import to_micros
from services.common.db import fingerprint
from sscard.cards.v1 import cards_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from sscard.type.v1 import agent_pb2
from tests.harness import PHARMACY, Mesh
from tests.mesh.test_story import PIN, medicine
from tests.service.test_settlement import insured

NEW_PIN, WRONG_PIN = "470258", "999111"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_pins_and_the_pepper_never_leave_and_every_change_is_audited(mesh: Mesh, capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handler, level = Everything(), root.level
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    seen: list[str] = []
    try:
        client = await mesh.start()
        _, card_no, citizen_id = await insured(mesh, 950)
        md = await PHARMACY.signed_in(client.settlement)

        async def refused(call) -> None:  # noqa: ANN001
            try:
                seen.append(text_format.MessageToString(await call))
            except grpc.aio.AioRpcError as error:
                seen.append(f"{error.code()} {error.details()} {error.trailing_metadata()} {error.debug_error_string()}")

        await refused(client.settlement.Settle(spb.SettleRequest(msg_id="s-wrong", card_no=card_no, pin=WRONG_PIN,
                                                                 care_type=spb.CARE_TYPE_PHARMACY, items=medicine(500)), metadata=md))
        await refused(client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin=WRONG_PIN)))
        await refused(client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id="s-pin", card_no=card_no, old_pin=PIN, new_pin=NEW_PIN)))
        await refused(client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no)))
        await refused(client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no, pin=NEW_PIN), metadata=md))
        await eventually(lambda: client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no)), lambda r: True)
        await mesh.settle_idle()  # the PIN change has reached the loss service (the IVR needs an enabled PIN)
        await refused(client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
            request_id="s-ivr", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin=NEW_PIN)))
        proxy = agent_pb2.Agent(citizen_id=make_citizen_id("110105", date(1981, 1, 1), 951), name="王代办", relationship="spouse", entrustment_ref="WT-951")
        await refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="s-lift", card_no=card_no, citizen_id=citizen_id, agent=proxy)))
        await refused(client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no)))
        await mesh.settle_idle()

        # The audit trail answers "who did what, through which channel, for whom, when".
        loss_trail = await ops.audit_trail("loss", mesh.settings("loss"), subject=card_no)
        changes = [r for r in loss_trail if not r.action.endswith(".read")]
        actions = [(r.action, r.channel) for r in changes]
        assert actions == [("loss.reported_temporary", "hotline_ivr"), ("loss.lifted", "outlet")], (actions, seen[-4:])
        # The actor is the authenticated principal (never a name the request claimed), with the ID
        # document the clerk recorded for a window act; reads of personal data are on the record too.
        assert [r.actor for r in changes] == ["ivr:12333-999900/ivr-01", "outlet_clerk:OUTLET-999900-01/op-0001"]
        assert changes[-1].document == "resident-id-card"
        assert [r.actor for r in loss_trail if r.action == "loss.read"] == ["outlet_clerk:OUTLET-999900-01/op-0001"] * 2
        lifted = changes[-1]
        # What `sscard audit loss --subject CARD` prints: who acted, with which document, for whom.
        capsys.readouterr()
        await ops.print_audit("loss", mesh.settings("loss"), card_no, "", 50)
        printed = capsys.readouterr().out
        assert "loss.lifted" in printed and "by outlet_clerk:OUTLET-999900-01/op-0001 (ID document resident-id-card)" in printed
        assert "for proxy " in printed and proxy.citizen_id not in printed
        assert "spouse" in lifted.agent and "WT-951" in lifted.agent and proxy.citizen_id not in lifted.agent  # the proxy, ID masked
        assert lifted.at_us == to_micros(mesh.clock.now())
        cards_trail = [r.action for r in await ops.audit_trail("cards", mesh.settings("cards"), subject=card_no) if not r.action.endswith(".read")]
        assert cards_trail[:4] == ["card.applied", "card.handed_out", "card.activated", "card.pin_changed"]
        assert cards_trail.count("card.pin_changed") == 2

        stored: list[str] = []
        for service, runtime in mesh.runtimes.items():
            for table in ("audit_log", "outbox", "idempotency", "dead_letters"):
                rows = await runtime.db.read(lambda c, t=table: c.execute(sa.select(runtime.db.table(t))))
                stored += [f"{service}.{table} {tuple(row)!r}" for row in rows]
        # A copy of the database does not let anyone confirm a PIN guess from the idempotency records.
        cards_db = mesh.runtimes["cards"].db
        records = await cards_db.read(lambda c: c.execute(sa.select(cards_db.table("idempotency")).where(cards_db.table("idempotency").c.method == "ChangePin")))
        stored_prints = {r.fingerprint for r in records}
        guess = cards_pb2.ChangePinRequest(card_no=card_no, old_pin=PIN, new_pin=NEW_PIN)
        assert fingerprint(guess, key=cards_db.fingerprint_key) in stored_prints  # the right key finds it ...
        assert hashlib.sha256(guess.SerializeToString(deterministic=True)).hexdigest() not in stored_prints  # ... a plain hash does not
        assert fingerprint(guess) not in stored_prints
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert any("PIN_INCORRECT" in line for line in seen), seen
    pepper = mesh.settings("cards").pin_pepper.decode()
    for secret in (PIN, NEW_PIN, WRONG_PIN, pepper):
        for where, lines in (("a log line", handler.lines), ("a response or error", seen), ("a stored row", stored)):
            leaks = [line for line in lines if secret in line]
            assert not leaks, f"{secret!r} appears in {where}: {leaks[0][:300]}"
    assert handler.lines, "nothing was logged: the check above proved nothing"


async def test_the_audit_trail_has_the_settlement_actor(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 952)
    md = await PHARMACY.signed_in(client.settlement)
    settled = await client.settlement.Settle(spb.SettleRequest(msg_id="a-1", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY,
                                                               items=medicine(800)), metadata=md)
    await client.settlement.RevokeSettlement(spb.RevokeSettlementRequest(msg_id="a-2", setl_id=settled.setl_id, reason="returned"), metadata=md)
    trail = await ops.audit_trail("settlement", mesh.settings("settlement"), subject=settled.setl_id)
    assert [(r.action, r.channel, r.detail) for r in trail] == [("settlement.revoked", PHARMACY.code, "returned")]
