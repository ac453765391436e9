"""Issue 16, the seed acts and numbers the API could not express: each played through the gRPC APIs
on the region file that states it (docs/regions.md names the key and the seed)."""

from __future__ import annotations

from datetime import date, timedelta

import grpc

from services.client import IVR_SYSTEM, citizen, community, eventually
from services.common.calendar import add_months
from services.common.citizen_id import make_citizen_id
from services.common.clock import business_date
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import Mesh
from tests.mesh.test_loss import NAME, holder, temporary
from tests.mesh.test_seed_fidelity import apply, hand_out, register
from tests.mesh.test_story import check, issue_card
from tests.service.test_ops_and_errors import _refused


async def test_nanning_lifts_a_loss_through_wechat_and_takes_no_temporary_loss_on_the_voice_line(mesh: Mesh) -> None:
    # Seed 004 十.1: temporary loss at the window, hospitals, online, WeChat, 12333 agents (office hours);
    # the 24 h 12333 voice line only informs. 十.2: lift at the window or through WeChat (bound).
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, region="450100", serial=301)
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "nn-ivr", channel=loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin="246810"),
                                                   metadata=IVR_SYSTEM.metadata()),
                   grpc.StatusCode.INVALID_ARGUMENT, "CHANNEL_NOT_ALLOWED")
    await client.loss.ReportTemporaryLoss(temporary(card_no, "nn-t", citizen_id=citizen_id, name=NAME))
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    me = citizen(person_id, "wechat").metadata()
    await _refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="nn-u0", card_no=card_no, citizen_id=citizen_id), metadata=me),
                   grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    lifted = await client.loss.LiftLoss(loss_pb2.LiftLossRequest(
        request_id="nn-u", card_no=card_no, citizen_id=citizen_id, channel=loss_pb2.LOSS_CHANNEL_WECHAT), metadata=me)
    assert lifted.state == loss_pb2.LOSS_STATE_NONE
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    history = (await client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))).history
    assert [(r.what, r.channel) for r in history][-1] == ("lifted", loss_pb2.LOSS_CHANNEL_WECHAT)


async def test_beijing_lifts_only_at_a_window_or_bank_and_a_citizen_acts_only_on_their_own_card(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, region="110000", serial=302)
    await client.loss.ReportTemporaryLoss(temporary(card_no, "bj-t", citizen_id=citizen_id, name=NAME))
    lift = loss_pb2.LiftLossRequest(request_id="bj-u", card_no=card_no, citizen_id=citizen_id, channel=loss_pb2.LOSS_CHANNEL_WECHAT)
    await _refused(client.loss.LiftLoss(lift, metadata=citizen(person_id, "wechat").metadata()), grpc.StatusCode.INVALID_ARGUMENT, "CHANNEL_NOT_ALLOWED")
    await _refused(client.loss.LiftLoss(lift, metadata=citizen("psn-someone-else", "wechat").metadata()), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_RECORD")
    lifted = await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="bj-u2", card_no=card_no, citizen_id=citizen_id))
    assert lifted.state == loss_pb2.LOSS_STATE_NONE  # the clerk's own channel: the outlet


async def test_guangxi_activation_at_the_service_window_is_a_channel_of_record(mesh: Mesh) -> None:
    # Seed 004 四: "特殊情况无法激活社保账户的需到...服务窗口办理社保功能激活".
    client = await mesh.start()
    citizen_id = make_citizen_id("450102", date(1980, 3, 3), 303)
    person = await register(mesh, citizen_id, "450100", "sw-reg")
    card = await apply(mesh, person.person_id, "sw-apply")
    await hand_out(mesh, card, citizen_id)
    activated = await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id="sw-a", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_SERVICE_WINDOW))
    assert activated.card.state == cards_pb2.CARD_STATE_ACTIVE
    assert activated.card.activation_channel == cards_pb2.ACTIVATION_CHANNEL_SERVICE_WINDOW
    got = (await client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no))).card
    assert got.activation_channel == cards_pb2.ACTIVATION_CHANNEL_SERVICE_WINDOW


async def test_guide_001_city_c_45_working_days_for_the_new_card_same_day_exchange_at_the_district_centre(mesh: Mesh) -> None:
    # Seed 001 ④: the social card replacing the 医保卡 takes 45 working days; a 补卡/换卡 is made on the spot at a
    # district centre and within 3 working days at a service point.
    client = await mesh.start()
    policy = mesh.policies.get("950100")
    citizen_id = make_citizen_id("370102", date(1975, 5, 5), 304)
    person = await register(mesh, citizen_id, "950100", "c-reg")
    first = await apply(mesh, person.person_id, "c-apply")
    today = business_date(mesh.clock.now())
    assert first.ready_by == policy.calendar.add_working_days(today, 45).isoformat()
    await issue_card(mesh, person.person_id, citizen_id, card=first)
    today = business_date(mesh.clock.now())
    exchange = (await client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id="c-x", person_id=person.person_id, kind=cards_pb2.APPLICATION_KIND_EXCHANGE,
        channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE))).card
    assert exchange.ready_by == today.isoformat() and exchange.fee_fen == policy.replacement_fee_fen
    assert policy.production_days("outlet", replacement=True) == 3


async def test_dalian_new_employees_collect_their_cards_two_months_after_enrolment(mesh: Mesh) -> None:
    # Seed 002: "新增人员办理参保2个月后 ... 到发卡银行领卡".
    client = await mesh.start()
    unit = (await client.identity.CreateEmployerUnit(identity_pb2.CreateEmployerUnitRequest(
        request_id="dl2-u", name="大连造船有限公司", credit_code="91210200MA3C00305X", region_code="210200"))).unit
    citizen_id = make_citizen_id("210202", date(1990, 2, 2), 305)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="dl2-reg", citizen_id=citizen_id, name=NAME, region_code="210200",
        insured_category=identity_pb2.INSURED_CATEGORY_EMPLOYEE, employer_unit_id=unit.unit_id))).person
    batch = await client.cards.ApplyForCardsBatch(cards_pb2.ApplyForCardsBatchRequest(
        request_id="dl2-b", employer_unit_id=unit.unit_id, person_ids=[person.person_id]))
    card = batch.outcomes[0].card
    calendar = mesh.policies.get("210200").calendar
    due = add_months(business_date(mesh.clock.now()), 2)
    while not calendar.is_working_day(due):
        due = date.fromordinal(due.toordinal() + 1)
    assert card.ready_by == due.isoformat()
    individual = await apply(mesh, (await register(mesh, make_citizen_id("210202", date(1991, 2, 2), 306), "210200", "dl2-r2")).person_id, "dl2-a")
    assert individual.ready_by == calendar.add_working_days(business_date(mesh.clock.now()), 20).isoformat()


async def test_a_community_applies_in_a_batch_and_its_unit_must_hand_cards_out_within_10_days(mesh: Mesh) -> None:
    # Seed 002: "由单位和社区统一办理"; seed 003: the unit collects the cards from the bank "并在10日内发放给参保人".
    client = await mesh.start()
    place = (await client.identity.CreateEmployerUnit(identity_pb2.CreateEmployerUnitRequest(
        request_id="cm-u", name="新竹社区", credit_code="91370100MA3C00307X", region_code="370100"))).unit
    residents = []
    for serial in (307, 308):
        citizen_id = make_citizen_id("370102", date(1950, 7, 7), serial)
        residents.append(((await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id=f"cm-reg-{serial}", citizen_id=citizen_id, name=NAME, region_code="370100",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT, employer_unit_id=place.unit_id))).person, citizen_id))
    office = community(place.unit_id).metadata()
    batch = await client.cards.ApplyForCardsBatch(cards_pb2.ApplyForCardsBatchRequest(
        request_id="cm-b", employer_unit_id=place.unit_id, person_ids=[p.person_id for p, _ in residents]), metadata=office)
    assert [o.refusal_reason for o in batch.outcomes] == ["", ""]
    await _refused(client.cards.ApplyForCardsBatch(cards_pb2.ApplyForCardsBatchRequest(
        request_id="cm-b2", employer_unit_id="unit-elsewhere", person_ids=[residents[0][0].person_id]), metadata=office),
        grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_UNIT")
    first, second = (o.card for o in batch.outcomes)
    mesh.clock.set(mesh.clock.now() + timedelta(days=(date.fromisoformat(first.ready_by) - business_date(mesh.clock.now())).days))
    ready = await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=first.card_no), metadata=office),
                             lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    days = mesh.policies.get("370100").employer_handout_days
    assert ready.card.handout_due == (business_date(mesh.clock.now()) + timedelta(days=days)).isoformat()
    assert not ready.card.handout_overdue
    handed = await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id="cm-h1", card_no=first.card_no, pickup_certificate_no=first.pickup_certificate_no, citizen_id=residents[0][1]), metadata=office)
    assert handed.card.state == cards_pb2.CARD_STATE_HANDED_OUT
    mesh.clock.set(mesh.clock.now() + timedelta(days=days + 1))
    late = (await client.cards.GetCard(cards_pb2.GetCardRequest(card_no=second.card_no), metadata=office)).card
    assert late.state == cards_pb2.CARD_STATE_READY and late.handout_overdue
    assert not (await client.cards.GetCard(cards_pb2.GetCardRequest(card_no=first.card_no), metadata=office)).card.handout_overdue
