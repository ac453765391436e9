"""Seed fidelity (issue 16): rules of the city guides that failed across the mesh."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import grpc
import yaml

from services.client import Credential, eventually, institution
from services.common.citizen_id import make_citizen_id
from services.common.clock import business_date
from services.common.config import REPO_ROOT
from services.loss import store as loss_store
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import HOSPITAL, PHARMACY, Mesh, fund_of
from tests.service.test_settlement import insured, items

NAME = "周八"


async def register(mesh: Mesh, citizen_id: str, region: str, rid: str) -> identity_pb2.Person:
    return (await mesh.client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=rid, citizen_id=citizen_id, name=NAME, region_code=region,
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person


async def apply(mesh: Mesh, person_id: str, rid: str, channel: int = cards_pb2.APPLICATION_CHANNEL_OUTLET) -> cards_pb2.Card:
    return (await eventually(lambda: mesh.client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id=rid, person_id=person_id, channel=channel)), lambda r: True)).card


async def hand_out(mesh: Mesh, card: cards_pb2.Card, citizen_id: str) -> None:
    """Production completes on the clock, the holder picks the card up, and does not activate it."""
    client = mesh.client
    mesh.clock.set(mesh.clock.now() + timedelta(days=(date.fromisoformat(card.ready_by) - mesh.clock.now().date()).days + 1))
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)),
                     lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id=f"handout-{card.card_no}", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    loss_db = mesh.runtimes["loss"].db
    await eventually(lambda: loss_db.read(lambda c: loss_store.get_card(c, card.card_no)),
                     lambda view: view is not None and view.state == "handed_out")


async def dead_letters(mesh: Mesh, service: str) -> list:
    db = mesh.runtimes[service].db
    return list(await db.read(lambda c: c.execute(db.table("dead_letters").select())))


async def test_formal_loss_of_a_card_handed_out_but_never_activated_creates_the_reissue(mesh: Mesh) -> None:
    # Seed 002: cards are "issued first, used later"; a holder can lose one before its first use.
    mesh.overrides = {"max_deliver": 2}
    client = await mesh.start()
    citizen_id = make_citizen_id("130102", date(1990, 2, 2), 41)
    person = await register(mesh, citizen_id, "130100", "reg-41")
    card = await apply(mesh, person.person_id, "apply-41")
    await hand_out(mesh, card, citizen_id)
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f41", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=NAME))
    listed = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id)),
                              lambda r: len(r.cards) == 2)
    reissue = next(c for c in listed.cards if c.card_no != card.card_no)
    assert reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE and reissue.replaces_card_no == card.card_no
    assert reissue.fee_fen == mesh.policies.get("130100").replacement_fee_fen
    await mesh.settle_idle()
    assert await dead_letters(mesh, "cards") == []
    assert len((await client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id))).cards) == 2


async def test_an_older_persons_id_with_a_lower_case_x_is_one_id_in_every_service(mesh: Mesh) -> None:
    # Born 1958 in what became Shijiazhuang's 130102 in 1983 (python-stdnum alone refused it), typed with `x`.
    client = await mesh.start()
    upper = next(n for n in (make_citizen_id("130102", date(1958, 3, 3), s) for s in range(1000)) if n.endswith("X"))
    lower = upper.lower()
    person = await register(mesh, lower, "130100", "reg-x")
    assert person.citizen_id == upper and person.birth_date == "1958-03-03"
    found = await client.identity.GetPerson(identity_pb2.GetPersonRequest(citizen_id=lower))
    assert found.person.person_id == person.person_id
    card = await apply(mesh, person.person_id, "apply-x")
    progress = await client.cards.QueryProgress(cards_pb2.QueryProgressRequest(name=NAME, citizen_id=lower))
    assert [c.card_no for c in progress.cards] == [card.card_no]
    await hand_out(mesh, card, lower)
    await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id="activate-x", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    checked = await eventually(
        lambda: client.settlement.CheckCard(spb.CheckCardRequest(citizen_id=lower), metadata=PHARMACY.metadata()),
        lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    assert checked.card_no == card.card_no
    reported = await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="t-x", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=lower, name=NAME))
    assert reported.state == loss_pb2.LOSS_STATE_TEMPORARY
    lifted = await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u-x", card_no=card.card_no, citizen_id=lower))
    assert lifted.state == loss_pb2.LOSS_STATE_NONE


async def test_a_same_day_card_applied_at_0250_in_beijing_is_ready_today_as_settlement_counts_days(mesh: Mesh) -> None:
    client = await mesh.start()
    mesh.clock.set(datetime(2026, 11, 19, 18, 50, tzinfo=timezone.utc))  # 2026-11-20 02:50 China Standard Time
    citizen_id = make_citizen_id("110105", date(1985, 6, 14), 51)
    person = await register(mesh, citizen_id, "999900", "reg-51")
    card = await apply(mesh, person.person_id, "apply-51", cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)
    signed = await client.settlement.SignIn(spb.SignInRequest(), metadata=PHARMACY.metadata())
    assert card.ready_by == signed.business_date == "2026-11-20"
    assert card.pickup_certificate_no.startswith("LK20261120")


async def test_same_province_care_uses_the_home_catalog_and_out_of_province_care_the_treatment_catalog(mesh: Mesh, tmp_path: Path) -> None:
    # Seed 004 十四: an insured of the demo region (province 99, national catalog: 乙类 10 % self-paid) treated
    # in region 999901 of the same province (乙类 30 %) and in region 980100 of province 98 (乙类 20 %).
    regions = tmp_path / "regions"
    shutil.copytree(REPO_ROOT / "regions", regions)
    (regions / "east.yaml").write_text('code: "999901"\nname: Demo East\nbenefits: {catalog: {class_b_self_pay_bp: 3000}}\n', encoding="utf-8")
    (regions / "outer.yaml").write_text('code: "980100"\nname: Outer City\nbenefits: {catalog: {class_b_self_pay_bp: 2000}}\n', encoding="utf-8")
    institutions = yaml.safe_load((REPO_ROOT / "config" / "institutions.demo.yaml").read_text(encoding="utf-8"))
    institutions["institutions"] += [
        {"code": "H99990101", "name": "Demo East Hospital", "kind": "hospital", "level": 3, "region_code": "999901", "secret": "east-secret"},
        {"code": "H98010001", "name": "Outer City Hospital", "kind": "hospital", "level": 3, "region_code": "980100", "secret": "outer-secret"},
    ]
    (tmp_path / "institutions.yaml").write_text(yaml.safe_dump(institutions), encoding="utf-8")
    mesh.regions_dir = regions
    mesh.overrides = {"institutions_file": tmp_path / "institutions.yaml"}
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 71)  # an employee of the demo region: deductible 1,300.00, level-3 outpatient 80 %
    bill = spb.PreSettleRequest(card_no=card_no, care_type=spb.CARE_TYPE_OUTPATIENT, items=items(500000, cls=spb.CATALOG_CLASS_B))

    async def fund_share(hospital: Credential) -> int:
        return (await client.settlement.PreSettle(bill, metadata=await hospital.signed_in(client.settlement))).fund_pay_sumamt_fen

    # Home catalog: 乙 5,000.00 -> 500.00 self-paid; 4,500.00 - 1,300.00 deductible = 3,200.00; 80 % = 2,560.00.
    assert await fund_share(HOSPITAL) == 256000
    assert await fund_share(institution("H99990101")) == 256000  # same province: home catalog, not 30 %
    # Out of province: 乙 20 % -> 1,000.00 self-paid; 4,000.00 - 1,300.00 = 2,700.00; 80 % (home ratio) = 2,160.00.
    assert await fund_share(institution("H98010001")) == 216000


async def test_a_formal_loss_at_a_jinan_bank_outlet_is_reissued_there_on_the_spot(mesh: Mesh) -> None:
    from tests.mesh.test_loss import NAME as HOLDER, holder

    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, region="370100", serial=81, pin=False)
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f81", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_BANK, citizen_id=citizen_id, name=HOLDER))
    listed = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    reissue = next(c for c in listed.cards if c.card_no != card_no)
    assert reissue.channel == cards_pb2.APPLICATION_CHANNEL_BANK_OUTLET and reissue.replaces_card_no == card_no
    assert reissue.ready_by == business_date(mesh.clock.now()).isoformat()  # not 20 working days through the outlet
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=reissue.card_no)),
                     lambda r: r.card.state == cards_pb2.CARD_STATE_READY)


async def test_guangxi_takes_a_formal_loss_with_reissue_through_wechat_jinan_does_not(mesh: Mesh) -> None:
    from tests.mesh.test_loss import NAME as HOLDER, holder
    from tests.service.test_ops_and_errors import _refused

    client = await mesh.start()

    def formal(card_no: str, citizen_id: str, rid: str) -> loss_pb2.ReportFormalLossRequest:
        return loss_pb2.ReportFormalLossRequest(request_id=rid, card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_WECHAT, citizen_id=citizen_id, name=HOLDER)

    _, jinan_card, jinan_id = await holder(mesh, region="370100", serial=91, pin=False)
    await _refused(client.loss.ReportFormalLoss(formal(jinan_card, jinan_id, "w91")), grpc.StatusCode.INVALID_ARGUMENT, "CHANNEL_NOT_ALLOWED")
    person_id, card_no, citizen_id = await holder(mesh, region="450100", serial=92, pin=False)
    reported = await client.loss.ReportFormalLoss(formal(card_no, citizen_id, "w92"))
    assert reported.state == loss_pb2.LOSS_STATE_FORMAL
    listed = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    reissue = next(c for c in listed.cards if c.card_no != card_no)
    assert reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE and reissue.channel == cards_pb2.APPLICATION_CHANNEL_ONLINE


async def test_where_the_region_says_so_only_the_most_recent_recorded_expense_is_refunded(mesh: Mesh, tmp_path: Path) -> None:
    # Seed 001 ⑥: "报销一次且为挂失更换前最近一次发生的医疗费用", checked against what settlement recorded.
    from tests.mesh.test_loss import NAME as HOLDER, holder, temporary
    from tests.mesh.test_story import settle
    from tests.service.test_ops_and_errors import _refused

    regions = tmp_path / "regions"
    shutil.copytree(REPO_ROOT / "regions", regions)
    with (regions / "jinan.yaml").open("a", encoding="utf-8") as jinan:
        jinan.write("loss_period_refund: {most_recent_expense_only: true}\n")
    mesh.regions_dir = regions
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, region="370100", serial=95)
    await client.loss.ReportTemporaryLoss(temporary(card_no, "t95", citizen_id=citizen_id, name=HOLDER))
    await eventually(lambda: client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no), metadata=PHARMACY.metadata()),
                     lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    await _refused(settle(client, card_no, 3000, "m1"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    first_day = business_date(mesh.clock.now()).isoformat()
    mesh.clock.advance(timedelta(days=1))
    await _refused(settle(client, card_no, 4200, "m2"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    last_day = business_date(mesh.clock.now()).isoformat()
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f95", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=HOLDER))
    await mesh.settle_idle()

    def claim(rid: str, day: str, fen: int, institution: str = PHARMACY.code) -> loss_pb2.ClaimLossPeriodRefundRequest:
        return loss_pb2.ClaimLossPeriodRefundRequest(request_id=rid, card_no=card_no, citizen_id=citizen_id,
                                                     institution_code=institution, receipt_no=f"R-{rid}", expense_date=day, amount_fen=fen)

    await _refused(client.loss.ClaimLossPeriodRefund(claim("c1", first_day, 3000)), grpc.StatusCode.FAILED_PRECONDITION, "NOT_MOST_RECENT_EXPENSE")
    await _refused(client.loss.ClaimLossPeriodRefund(claim("c2", last_day, 4201)), grpc.StatusCode.FAILED_PRECONDITION, "NOT_MOST_RECENT_EXPENSE")
    await _refused(client.loss.ClaimLossPeriodRefund(claim("c3", last_day, 4200, "H99990001")), grpc.StatusCode.FAILED_PRECONDITION,
                   "NOT_MOST_RECENT_EXPENSE")
    claimed = (await client.loss.ClaimLossPeriodRefund(claim("c4", last_day, 4200))).claim
    review = loss_pb2.ReviewLossPeriodRefundRequest(request_id="r95", claim_id=claimed.claim_id, approve=True, reviewer="clerk-9")
    assert (await client.loss.ReviewLossPeriodRefund(review, metadata=fund_of("370100").metadata())).claim.status == loss_pb2.REFUND_STATUS_APPROVED


async def stop_consumers(mesh: Mesh, service: str, *streams: str) -> list:
    """Stop a service's consumers of these streams (its projections stop moving); returns them to restart."""
    runtime = mesh.runtimes[service]
    stopped = []
    for consumer in [c for c in runtime.consumers if c.stream in streams]:
        task = next(t for t in runtime._tasks if t.get_name() == f"{service}:{consumer.name}")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        stopped.append(consumer)
    return stopped


async def test_death_transfer_out_and_a_withdrawn_card_stop_settlement_within_the_loss_bound_while_the_feeds_lag(mesh: Mesh) -> None:
    # Issue 16 bug 6: the fail-closed bound of a loss report (feeds.py) holds for the IDENTITY and CARDS feeds too.
    from tests.mesh.test_loss import holder
    from tests.mesh.test_story import check, settle
    from tests.service.test_ops_and_errors import _refused

    bound = 0.3
    mesh.overrides = {"loss_feed_max_lag_s": bound}
    client = await mesh.start()
    dead, dead_card, _ = await holder(mesh, serial=61)
    moved, moved_card, _ = await holder(mesh, serial=62)
    _, recalled_card, _ = await holder(mesh, serial=63)
    _, live_card, _ = await holder(mesh, serial=64)
    await mesh.settle_idle()
    stopped = await stop_consumers(mesh, "settlement", "IDENTITY", "CARDS")

    await client.identity.RecordDeath(identity_pb2.RecordDeathRequest(
        request_id="death-61", person_id=dead, date_of_death=business_date(mesh.clock.now()).isoformat(), death_certificate_ref="SW-61"))
    await client.identity.TransferInsurance(identity_pb2.TransferInsuranceRequest(
        request_id="move-62", person_id=moved, to_region_code="450100", scope=identity_pb2.TRANSFER_SCOPE_OUT_OF_PROVINCE,
        transfer_certificate_ref="ZY-62"))
    await client.cards.RecallCard(cards_pb2.RecallCardRequest(request_id="recall-63", card_no=recalled_card, what_is_wrong="photo"))
    await asyncio.sleep(bound + 0.3)

    await _refused(settle(client, dead_card, 100, "after-death"), grpc.StatusCode.FAILED_PRECONDITION, "ACCOUNT_CLOSED")
    await _refused(settle(client, moved_card, 100, "after-move"), grpc.StatusCode.FAILED_PRECONDITION, "ACCOUNT_CLOSED")
    await _refused(settle(client, recalled_card, 100, "after-recall"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_NOT_ACTIVE")
    assert (await check(client, dead_card)).refusal_reason == "ACCOUNT_CLOSED"
    assert (await settle(client, live_card, 100, "live")).acct_pay_fen == 100  # asked, and nothing stops it

    # The holder's service cannot answer while the feed lags: fail closed, retryable.
    await mesh.runtimes.pop("identity").stop()
    await _refused(settle(client, live_card, 100, "no-identity"), grpc.StatusCode.UNAVAILABLE, "HOLDER_STATE_UNKNOWN")
    runtime = mesh.runtimes["settlement"]
    for consumer in stopped:
        runtime._spawn(consumer.name, consumer.run)


async def test_an_employer_applies_for_staff_it_has_just_registered(mesh: Mesh) -> None:
    # Issue 16 bug 7: a fact the caller just created (the membership) is not denied while it crosses the bus.
    from tests.mesh.test_cards import person
    from tests.service.test_ops_and_errors import _refused

    client = await mesh.start()
    unit = (await client.identity.CreateEmployerUnit(identity_pb2.CreateEmployerUnitRequest(
        request_id="unit-7", name="大连示范有限公司", credit_code="91210200MA3C00007X", region_code="210200"))).unit
    stopped = await stop_consumers(mesh, "cards", "IDENTITY")  # the memberships are on their way, slowly
    staff = [(await person(mesh, 70 + i, "210200", category=identity_pb2.INSURED_CATEGORY_EMPLOYEE, employer_unit_id=unit.unit_id))[0]
             for i in range(2)]
    outsider, _ = await person(mesh, 79, "210200")
    batch = cards_pb2.ApplyForCardsBatchRequest(request_id="batch-7", employer_unit_id=unit.unit_id, person_ids=[*staff, outsider])
    await _refused(client.cards.ApplyForCardsBatch(batch, timeout=1.0), grpc.StatusCode.UNAVAILABLE, "MEMBERSHIP_NOT_YET_KNOWN")

    async def memberships_arrive() -> None:
        await asyncio.sleep(0.3)
        for consumer in stopped:
            mesh.runtimes["cards"]._spawn(consumer.name, consumer.run)

    applied, _ = await asyncio.gather(client.cards.ApplyForCardsBatch(batch, timeout=10.0), memberships_arrive())
    assert [o.refusal_reason for o in applied.outcomes] == ["", "", "NOT_A_MEMBER"]
    assert all(o.card.employer_unit_id == unit.unit_id for o in applied.outcomes[:2])


async def test_the_old_medical_card_settles_and_can_be_reported_lost_until_the_new_card_is_activated(mesh: Mesh) -> None:
    # Issue 16 bug 9, seeds 003 and 004: "社保卡未启用前,原医保卡正常使用"; on activation "原医保卡自动注销,
    # 医保个人账户余额自动划转至社保卡".
    from tests.mesh.test_story import check, issue_card, settle
    from tests.service.test_ops_and_errors import _refused

    client = await mesh.start()
    citizen_id = make_citizen_id("370102", date(1960, 5, 5), 93)
    person = await register(mesh, citizen_id, "370100", "reg-93")
    legacy = "YB370100000093"
    registered = await eventually(lambda: client.settlement.RegisterLegacyAccount(spb.RegisterLegacyAccountRequest(
        request_id="lg-93", person_id=person.person_id, legacy_card_no=legacy, balance_fen=5000), metadata=fund_of("370100").metadata()),
        lambda r: True)
    assert registered.status == "pending"
    assert (await settle(client, legacy, 1200, "old-1")).balance_fen == 3800  # on the old card's own balance
    assert (await check(client, legacy)).balance_fen == 3800

    await eventually(lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="t93", card_no=legacy, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name=NAME)), lambda r: True)
    await eventually(lambda: check(client, legacy), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    await _refused(settle(client, legacy, 100, "old-lost"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u93", card_no=legacy, citizen_id=citizen_id))
    await eventually(lambda: check(client, legacy), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    assert (await settle(client, legacy, 800, "old-2")).balance_fen == 3000

    card = await issue_card(mesh, person.person_id, citizen_id)  # activated at the bank outlet: the balance moves
    await eventually(lambda: check(client, card.card_no), lambda r: r.balance_fen == 3000)
    await _refused(settle(client, legacy, 100, "old-after"), grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPLACED")
    await mesh.settle_idle()
    await _refused(client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="t93-after", card_no=legacy, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name=NAME)),
        grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPLACED")
