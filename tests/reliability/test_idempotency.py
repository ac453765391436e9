"""Idempotency everywhere (Stripe's rules): every mutating RPC takes a request id (msg_id for an
institution's settlement messages); a replay returns the first result and changes nothing; the
same id with different content is refused with REQUEST_ID_REUSED."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from services.cards.api import CardServicer
from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.identity.api import IdentityServicer
from services.loss.api import LossServicer
from services.settlement import store
from services.settlement.api import SettlementServicer
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import Mesh
from tests.mesh.test_story import PIN
from tests.service.test_ops_and_errors import _refused

SERVICES = [(identity_pb2, IdentityServicer), (cards_pb2, CardServicer), (loss_pb2, LossServicer), (spb, SettlementServicer)]
KEYS = ("request_id", "msg_id")
# Calls that change nothing a replay could double, and why.
NOT_MUTATING = {
    "GetPerson", "ListUnitMembers", "GetCard", "ListCards", "QueryProgress", "GetLossState",
    "CheckCard", "PreSettle", "Reconcile", "ListFilings", "GetAccount", "ListAccountEntries",
    "SignIn",  # the day's sign_no: the same one however often an institution signs in
    "IssueElectronicCardToken",  # a short-lived signed token; nothing is stored
    "VerifyPin",  # each attempt is meant to count towards the lock: it is not a replayable request
}


def rpcs() -> list[tuple[str, Any, type]]:
    return [(method.name, method, servicer) for module, servicer in SERVICES
            for service in module.DESCRIPTOR.services_by_name.values() for method in service.methods]


@pytest.mark.parametrize(("name", "method", "servicer"), rpcs(), ids=[r[0] for r in rpcs()])
def test_every_mutating_rpc_takes_a_request_id_and_runs_once_per_id(name: str, method: Any, servicer: type) -> None:
    keys = [f.name for f in method.input_type.fields if f.name in KEYS]
    source = inspect.getsource(getattr(servicer, name))
    if name in NOT_MUTATING:
        assert not keys, f"{name} takes {keys} but is listed as not mutating"
        return
    assert len(keys) == 1, f"{method.full_name} changes state but takes no request_id/msg_id"
    # Database.idempotent, or its two halves where a refusal must still commit (a wrong PIN is counted).
    assert ".idempotent(" in source or (".recall(" in source and ".remember(" in source), f"{name} does not run once per request id"
    assert keys[0] == "request_id" or f'key_field="{keys[0]}"' in source, f"{name}: keyed on the wrong field"


async def replayed(call: Callable[[Message], Awaitable[Message]], request: Message, change: Callable[[Message], None]) -> Message:
    """Send, replay, then reuse the id with other content; returns the first response."""
    first = await call(request)
    assert await call(request) == first, f"{type(request).__name__}: a replay must return the first result"
    other = type(request)()
    other.CopyFrom(request)
    change(other)
    await _refused(call(other), grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")
    return first


async def test_replays_return_the_first_result_and_changed_replays_are_refused(mesh: Mesh) -> None:
    client = await mesh.start()
    citizen_id = make_citizen_id("110105", date(1979, 9, 9), 909)

    def rename(r: Message) -> None:
        r.name = "另一人"

    person = (await replayed(client.identity.RegisterPerson, identity_pb2.RegisterPersonRequest(
        request_id="i-reg", citizen_id=citizen_id, name="吴九", region_code="999900",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT), rename)).person
    await replayed(client.identity.CreateEmployerUnit, identity_pb2.CreateEmployerUnitRequest(
        request_id="i-unit", name="示范公司", credit_code="91110000MA00000909", region_code="999900"), rename)

    def other_channel(r: Message) -> None:
        r.channel = cards_pb2.APPLICATION_CHANNEL_BANK_OUTLET

    card = (await eventually(lambda: replayed(client.cards.ApplyForCard, cards_pb2.ApplyForCardRequest(
        request_id="i-apply", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE), other_channel),
        lambda r: True)).card
    assert len((await client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id))).cards) == 1
    ready = await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)

    def other_card(r: Message) -> None:
        r.card_no = "C0000000000"

    await replayed(client.cards.HandOutCard, cards_pb2.HandOutCardRequest(
        request_id="i-hand", card_no=card.card_no, pickup_certificate_no=ready.card.pickup_certificate_no, citizen_id=citizen_id), other_card)
    await replayed(client.cards.ActivateCard, cards_pb2.ActivateCardRequest(
        request_id="i-act", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET), other_card)

    def other_pin(r: Message) -> None:
        r.new_pin = "135790"

    await replayed(client.cards.ChangePin, cards_pb2.ChangePinRequest(request_id="i-pin", card_no=card.card_no, old_pin="123456", new_pin=PIN), other_pin)
    # A replayed PIN change did not run twice: the replay would have failed on the old PIN.
    await client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card.card_no, pin=PIN))

    def other_amount(r: Message) -> None:
        r.amount_fen += 1

    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id="i-al-probe", person_id=person.person_id, amount_fen=1, period="2026-11")), lambda r: True)
    allocate = spb.AllocateToAccountRequest(request_id="i-al", person_id=person.person_id, amount_fen=5000, period="2026-11")
    await replayed(lambda r: client.settlement.AllocateToAccount(r), allocate, other_amount)
    db = mesh.runtimes["settlement"].db
    assert (await db.read(lambda c: store.get_account(c, person.person_id))).balance_fen == 5001  # once, not twice

    def other_channel_too(r: Message) -> None:
        # Same caller, other content (a request id is the caller's: another principal's call is another request).
        r.pin = "000000"

    await eventually(lambda: client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card.card_no)), lambda r: True)
    report = loss_pb2.ReportTemporaryLossRequest(request_id="i-rep", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT,
                                                citizen_id=citizen_id, name="吴九")
    await replayed(client.loss.ReportTemporaryLoss, report, other_channel_too)

    def by_proxy(r: Message) -> None:
        r.agent.citizen_id = make_citizen_id("110105", date(1979, 9, 10), 910)
        r.agent.name = "代办人"
        r.agent.relationship = "spouse"
        r.agent.entrustment_ref = "WT-910"

    await replayed(client.loss.LiftLoss, loss_pb2.LiftLossRequest(request_id="i-lift", card_no=card.card_no, citizen_id=citizen_id), by_proxy)
    state = await client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card.card_no))
    assert [h.what for h in state.history].count("lifted") == 1 and [h.what for h in state.history].count("reported_temporary") == 1

    def other_balance(r: Message) -> None:
        r.balance_fen += 1

    await replayed(lambda r: client.settlement.RegisterLegacyAccount(r), spb.RegisterLegacyAccountRequest(
        request_id="i-lg", person_id=person.person_id, legacy_card_no="YB-909", balance_fen=300), other_balance)
    assert (await db.read(lambda c: store.get_account(c, person.person_id))).balance_fen == 5301

    def other_date(r: Message) -> None:
        r.date_of_death = "2026-01-01"

    await replayed(client.identity.RecordDeath, identity_pb2.RecordDeathRequest(death_certificate_ref="SW-2026-0001", 
        request_id="i-death", person_id=person.person_id, date_of_death=mesh.clock.now().date().isoformat()), other_date)
    await eventually(lambda: db.read(lambda c: store.get_account(c, person.person_id)), lambda a: a.closed)
    assert await db.read(lambda c: store.entries_total(c, person.person_id)) == 0  # paid out once
