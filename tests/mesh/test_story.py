"""The foundation story, end to end: four services, a real nats-server, real gRPC sockets."""

from __future__ import annotations

import time
from datetime import date, timedelta

import grpc
import pytest

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY, Mesh

PIN = "802613"


def medicine(fen: int) -> list[spb.LineItem]:
    return [spb.LineItem(code="X01", name="amoxicillin", catalog_class=spb.CATALOG_CLASS_A, amount_fen=fen)]


async def settle(client, card_no: str, fen: int, msg_id: str, pin: str = PIN) -> spb.SettleResponse:  # noqa: ANN001
    return await client.settlement.Settle(
        spb.SettleRequest(msg_id=msg_id, card_no=card_no, pin=pin, care_type=spb.CARE_TYPE_PHARMACY, items=medicine(fen)),
        metadata=await PHARMACY.signed_in(client.settlement),
    )


async def balance(client, card_no: str) -> int:  # noqa: ANN001
    return (await client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no))).balance_fen


async def check(client, card_no: str) -> spb.CheckCardResponse:  # noqa: ANN001
    return await client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no), metadata=PHARMACY.metadata())


async def issue_card(mesh: Mesh, person_id: str, citizen_id: str, kind: int = cards_pb2.APPLICATION_KIND_FIRST, card: cards_pb2.Card | None = None) -> cards_pb2.Card:
    """Apply (unless given), let production complete on the clock, hand out, activate."""
    client = mesh.client
    if card is None:
        applied = await eventually(
            lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
                request_id=f"apply-{person_id}-{kind}", person_id=person_id, kind=kind, channel=cards_pb2.APPLICATION_CHANNEL_OUTLET)),
            lambda r: True,
        )
        card = applied.card
    ready_by = date.fromisoformat(card.ready_by)
    assert ready_by > mesh.clock.now().date(), "production takes working days in the test region"
    mesh.clock.set(mesh.clock.now() + timedelta(days=(ready_by - mesh.clock.now().date()).days))
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)),
                     lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id=f"handout-{card.card_no}", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    activated = await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id=f"activate-{card.card_no}", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    assert activated.card.state == cards_pb2.CARD_STATE_ACTIVE
    # Other services learn of the activation through events; wait until loss and settlement have.
    from services.loss import store as loss_store
    from services.settlement import store as settlement_store

    for service, store in (("loss", loss_store), ("settlement", settlement_store)):
        if service in mesh.runtimes:
            db = mesh.runtimes[service].db
            await eventually(lambda: db.read(lambda c: store.get_card(c, card.card_no)),
                             lambda view: view is not None and getattr(view, "state", getattr(view, "card_state", "")) == "active")
    return activated.card


async def test_story(mesh: Mesh) -> None:
    client = await mesh.start()
    await client.wait_healthy()
    citizen_id = make_citizen_id("110105", date(1985, 6, 14), 123)

    # 1. Register a person with a valid citizen ID.
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="reg-1", citizen_id=citizen_id, name="张三", region_code="110000",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    assert person.birth_date == "1985-06-14" and person.gender == identity_pb2.GENDER_MALE

    # 2. Apply, production completes on the clock, hand out, activate; enable the PIN.
    card = await issue_card(mesh, person.person_id, citizen_id)
    await client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id="pin-1", card_no=card.card_no, old_pin="123456", new_pin=PIN))

    # 3. Allocation of 500.00 yuan.
    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id="alloc-1", person_id=person.person_id, amount_fen=50000, period="2026-11")), lambda r: True)

    # 4. The pharmacy settles 35.20 with the right PIN.
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    paid = await eventually(lambda: settle(client, card.card_no, 3520, "msg-1"), lambda r: True)
    assert (paid.acct_pay_fen, paid.balance_fen) == (3520, 46480)

    # 5. Temporary loss: the next settlement is refused within 1 s, the balance unchanged.
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="loss-1", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="张三"))
    reported = time.monotonic()
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST", timeout=1.0, interval=0.002)
    assert time.monotonic() - reported < 1.0
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await settle(client, card.card_no, 1000, "msg-2")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(refused.value) == "CARD_REPORTED_LOST"
    assert await balance(client, card.card_no) == 46480

    # 8. Restart settlement between 5 and 6: nothing lost, nothing applied twice.
    await mesh.restart("settlement")
    await client.wait_healthy()
    assert (await check(client, card.card_no)).refusal_reason == "CARD_REPORTED_LOST"
    assert await balance(client, card.card_no) == 46480

    # 6. Lift the loss: settlement works again.
    await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="lift-1", card_no=card.card_no, citizen_id=citizen_id))
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    assert (await settle(client, card.card_no, 1000, "msg-3")).balance_fen == 45480

    # 7. Formal loss: a reissue application exists with the fee; the new card takes over the account.
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="formal-1", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name="张三"))
    cards = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id)), lambda r: len(r.cards) == 2)
    reissue = cards.cards[0]
    assert reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE and reissue.replaces_card_no == card.card_no
    assert reissue.fee_fen == mesh.policies.get("110000").replacement_fee_fen > 0
    new_card = await issue_card(mesh, person.person_id, citizen_id, card=reissue)
    await eventually(lambda: balance(client, new_card.card_no), lambda b: b == 45480)
    history = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=new_card.card_no), metadata=PHARMACY.metadata())
    assert [e.amount_fen for e in history.entries] == [-1000, -3520, 50000]
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_REPLACED")
    with pytest.raises(grpc.aio.AioRpcError) as old:
        await settle(client, card.card_no, 1000, "msg-4")
    assert error_reason(old.value) == "CARD_REPLACED"
    assert (await settle(client, new_card.card_no, 1000, "msg-5")).balance_fen == 44480
