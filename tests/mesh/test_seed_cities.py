"""One story per seed city (issue 16), played through the gRPC APIs on that city's region file:
Beijing (seed 000), the two unnamed cities of guide 001, Dalian and Shijiazhuang (seed 002),
Jinan (seed 003), Nanning / Guangxi (seed 004). docs/regions.md lists the keys each one uses."""

from __future__ import annotations

from datetime import date, timedelta

import grpc

from services.client import BANK, eventually
from services.common.citizen_id import make_citizen_id
from services.common.clock import business_date
from services.settlement import store as settlement_store
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY, Mesh, fund_of
from tests.mesh.test_loss import NAME, holder, temporary
from tests.mesh.test_seed_fidelity import NAME as PERSON_NAME, apply, hand_out, register
from tests.mesh.test_story import PIN, balance, check, issue_card, settle
from tests.service.test_ops_and_errors import _refused


def today(mesh: Mesh) -> date:
    return business_date(mesh.clock.now())


async def formal(mesh: Mesh, card_no: str, citizen_id: str, rid: str, channel: int = loss_pb2.LOSS_CHANNEL_OUTLET,
                 name: str = NAME) -> cards_pb2.Card:
    """The formal loss; returns the reissue it brought (补卡)."""
    client = mesh.client
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id=rid, card_no=card_no, channel=channel, citizen_id=citizen_id, name=name))
    person_id = (await client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no))).card.person_id
    listed = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    return next(c for c in listed.cards if c.card_no != card_no)


async def test_beijing_replacement_costs_20_yuan_and_the_new_card_takes_the_account(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, region="110000", serial=201, pin=False)
    reissue = await formal(mesh, card_no, citizen_id, "bj-f")
    assert reissue.fee_fen == 2000 and reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE
    # 4 working days: never sooner than 4 calendar days, never later than a week and a holiday.
    assert 4 <= (date.fromisoformat(reissue.ready_by) - today(mesh)).days <= 12
    new = await issue_card(mesh, person_id, citizen_id, card=reissue)
    await eventually(lambda: balance(client, new.card_no), lambda b: b == 10000)
    await _refused(settle(client, card_no, 100, "bj-old"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPLACED")


async def test_guide_001_city_a_pre_loss_lapses_after_10_days_and_the_formal_loss_is_final(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, region="970100", serial=202)
    reported = await client.loss.ReportTemporaryLoss(temporary(card_no, "a-t", citizen_id=citizen_id, name=NAME))
    assert reported.expires_at.ToDatetime().date() == (mesh.clock.now() + timedelta(days=10)).date()
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")  # the event reached settlement
    mesh.clock.advance(timedelta(days=9, hours=23))
    await _refused(settle(client, card_no, 100, "a-9d"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    mesh.clock.advance(timedelta(hours=1))  # "超过有效时限自动解挂"
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    reissue = await formal(mesh, card_no, citizen_id, "a-f")
    assert (date.fromisoformat(reissue.ready_by) - today(mesh)).days >= 21  # 15 working days
    await _refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="a-u", card_no=card_no, citizen_id=citizen_id)),
                   grpc.StatusCode.FAILED_PRECONDITION, "LOSS_IS_FORMAL")


async def test_guide_001_city_b_loss_holds_24_hours_the_card_is_remade_on_the_spot_for_25_yuan_and_refunded_once(mesh: Mesh) -> None:
    client = await mesh.start()
    citizen_id = make_citizen_id("370102", date(1979, 9, 9), 203)
    person = await register(mesh, citizen_id, "960100", "b-reg")
    card = await apply(mesh, person.person_id, "b-apply")
    assert card.ready_by == today(mesh).isoformat()  # 当场办理
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id="b-h", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(request_id="b-a", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)

    await client.loss.ReportTemporaryLoss(temporary(card.card_no, "b-t1", citizen_id=citizen_id, name=PERSON_NAME))
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")  # the event reached settlement
    mesh.clock.advance(timedelta(hours=23))
    await _refused(settle(client, card.card_no, 100, "b-23h"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    mesh.clock.advance(timedelta(hours=1))  # "否则,丢失的卡重新有效"
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)

    await client.loss.ReportTemporaryLoss(temporary(card.card_no, "b-t2", citizen_id=citizen_id, name=PERSON_NAME))
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    await _refused(settle(client, card.card_no, 3000, "b-lost"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    reissue = await formal(mesh, card.card_no, citizen_id, "b-f", name=PERSON_NAME)
    assert reissue.fee_fen == 2500 and reissue.ready_by == today(mesh).isoformat()
    await mesh.settle_idle()

    def claim(rid: str) -> loss_pb2.ClaimLossPeriodRefundRequest:
        return loss_pb2.ClaimLossPeriodRefundRequest(request_id=rid, card_no=card.card_no, citizen_id=citizen_id, institution_code=PHARMACY.code,
                                                     receipt_no=f"R-{rid}", expense_date=today(mesh).isoformat(), amount_fen=3000)

    claimed = (await client.loss.ClaimLossPeriodRefund(claim("b-c1"))).claim
    await _refused(client.loss.ClaimLossPeriodRefund(claim("b-c2")), grpc.StatusCode.FAILED_PRECONDITION, "REFUND_ALREADY_CLAIMED")
    review = loss_pb2.ReviewLossPeriodRefundRequest(request_id="b-r", claim_id=claimed.claim_id, approve=True, reviewer="clerk-b")
    assert (await client.loss.ReviewLossPeriodRefund(review, metadata=fund_of("960100").metadata())).claim.status == loss_pb2.REFUND_STATUS_APPROVED


async def test_dalian_staff_get_cards_through_their_unit_and_the_old_ic_card_works_until_activation(mesh: Mesh) -> None:
    # Seed 002: "新增人员办理参保...到发卡银行领卡" through the unit; "社保卡和原医保卡将并行使用一段时间".
    client = await mesh.start()
    unit = (await client.identity.CreateEmployerUnit(identity_pb2.CreateEmployerUnitRequest(
        request_id="dl-u", name="大连港务有限公司", credit_code="91210200MA3C00204X", region_code="210200"))).unit
    citizen_id = make_citizen_id("210202", date(1970, 1, 20), 204)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="dl-reg", citizen_id=citizen_id, name=PERSON_NAME, region_code="210200",
        insured_category=identity_pb2.INSURED_CATEGORY_EMPLOYEE, employer_unit_id=unit.unit_id))).person
    batch = await client.cards.ApplyForCardsBatch(cards_pb2.ApplyForCardsBatchRequest(
        request_id="dl-b", employer_unit_id=unit.unit_id, person_ids=[person.person_id]))  # right after registering
    assert [o.refusal_reason for o in batch.outcomes] == [""]
    await eventually(lambda: client.settlement.RegisterLegacyAccount(spb.RegisterLegacyAccountRequest(
        request_id="dl-lg", person_id=person.person_id, legacy_card_no="DLIC0204", balance_fen=6000),
        metadata=fund_of("210200").metadata()), lambda r: True)
    assert (await settle(client, "DLIC0204", 1000, "dl-old")).balance_fen == 5000
    new = await issue_card(mesh, person.person_id, citizen_id, card=batch.outcomes[0].card)
    await eventually(lambda: balance(client, new.card_no), lambda b: b == 5000)
    await _refused(settle(client, "DLIC0204", 100, "dl-after"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPLACED")


async def test_shijiazhuang_an_older_holder_loses_a_card_handed_out_but_not_yet_used(mesh: Mesh) -> None:
    # Seed 002 (以石家庄为例): "先发下去,再逐步用起来"; first card free, a replacement costs the fee.
    await mesh.start()
    citizen_id = make_citizen_id("130102", date(1950, 4, 4), 205)  # 130102 was created in 1983
    person = await register(mesh, citizen_id, "130100", "sjz-reg")
    card = await apply(mesh, person.person_id, "sjz-apply")
    assert card.fee_fen == 0
    await hand_out(mesh, card, citizen_id)
    reissue = await formal(mesh, card.card_no, citizen_id, "sjz-f", name=PERSON_NAME)
    assert reissue.replaces_card_no == card.card_no and reissue.fee_fen == mesh.policies.get("130100").replacement_fee_fen


async def test_jinan_loss_lapses_after_7_days_is_lifted_at_the_bank_and_a_bank_outlet_reissues_on_the_spot(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, region="370100", serial=206)
    reported = await client.loss.ReportTemporaryLoss(temporary(card_no, "jn-t", citizen_id=citizen_id, name=NAME))
    assert reported.expires_at.ToDatetime().date() == (mesh.clock.now() + timedelta(days=7)).date()
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    lifted = await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="jn-u", card_no=card_no, citizen_id=citizen_id), metadata=BANK.metadata())
    assert lifted.state == loss_pb2.LOSS_STATE_NONE
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    reissue = await formal(mesh, card_no, citizen_id, "jn-f", channel=loss_pb2.LOSS_CHANNEL_BANK)
    assert reissue.channel == cards_pb2.APPLICATION_CHANNEL_BANK_OUTLET and reissue.ready_by == today(mesh).isoformat()  # 半小时左右


async def test_nanning_20_working_days_bank_activation_6_wrong_pins_and_the_wechat_formal_loss(mesh: Mesh) -> None:
    client = await mesh.start()
    citizen_id = make_citizen_id("450102", date(1992, 12, 12), 207)
    person = await register(mesh, citizen_id, "450100", "nn-reg")
    card = await apply(mesh, person.person_id, "nn-apply")
    assert (date.fromisoformat(card.ready_by) - today(mesh)).days >= 26  # 20 working days
    await hand_out(mesh, card, citizen_id)
    activated = await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id="nn-a", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_FINANCIAL_ZONE), metadata=BANK.metadata())
    assert activated.card.state == cards_pb2.CARD_STATE_ACTIVE  # the financial zone activates the social zone in real time
    await client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id="nn-p", card_no=card.card_no, old_pin="123456", new_pin=PIN))
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    # The POS checks the PIN on settlement's own projection: wait until the new PIN has reached it.
    settlement_db = mesh.runtimes["settlement"].db
    await eventually(lambda: settlement_db.read(lambda c: settlement_store.get_card(c, card.card_no)), lambda view: view.pin_enabled)
    for attempt in range(5):
        await _refused(settle(client, card.card_no, 100, f"nn-w{attempt}", pin="000000"), grpc.StatusCode.PERMISSION_DENIED, "PIN_INCORRECT")
    await _refused(settle(client, card.card_no, 100, "nn-w5", pin="000000"), grpc.StatusCode.FAILED_PRECONDITION, "PIN_LOCKED")
    reissue = await formal(mesh, card.card_no, citizen_id, "nn-f", channel=loss_pb2.LOSS_CHANNEL_WECHAT, name=PERSON_NAME)
    assert reissue.channel == cards_pb2.APPLICATION_CHANNEL_ONLINE
