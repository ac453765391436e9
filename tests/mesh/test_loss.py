"""Loss management across the mesh: channels, expiry on the clock, lifting, formal reports,
reissue, refunds, fraud signals and the bank notification."""

from __future__ import annotations

import time
from datetime import date, timedelta

import grpc
import pytest
import sqlalchemy as sa

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from services.loss import store as loss_store
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import HOSPITAL, Mesh, fund_of
from tests.mesh.test_story import PIN, balance, check, issue_card, settle
from tests.service.test_ops_and_errors import _counts, _refused

NAME = "孙七"


async def holder(mesh: Mesh, region: str = "370100", serial: int = 7, pin: bool = True) -> tuple[str, str, str]:
    """A registered person with an active, funded card; returns (person_id, card_no, citizen_id)."""
    client = mesh.client
    citizen_id = make_citizen_id("370102", date(1988, 8, 8), serial)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=f"reg-{serial}", citizen_id=citizen_id, name=NAME, region_code=region,
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    card = await issue_card(mesh, person.person_id, citizen_id)
    if pin:
        await client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id=f"pin-{serial}", card_no=card.card_no, old_pin="123456", new_pin=PIN))
        loss_db = mesh.runtimes["loss"].db
        await eventually(lambda: loss_db.read(lambda c: loss_store.get_card(c, card.card_no)), lambda view: view.pin_enabled)
    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id=f"alloc-{serial}", person_id=person.person_id, amount_fen=10000, period="2026-11")), lambda r: True)
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    return person.person_id, card.card_no, citizen_id


def temporary(card_no: str, rid: str, channel: int = loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, **fields) -> loss_pb2.ReportTemporaryLossRequest:  # noqa: ANN003
    return loss_pb2.ReportTemporaryLossRequest(request_id=rid, card_no=card_no, channel=channel, **fields)


async def test_temporary_loss_at_the_hotline_lapses_after_seven_days_in_jinan(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh)
    reported = await client.loss.ReportTemporaryLoss(temporary(card_no, "t1", citizen_id=citizen_id, name=NAME))
    started = time.monotonic()
    assert reported.expires_at.ToDatetime().date() == (mesh.clock.now() + timedelta(days=7)).date()
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST", timeout=1.0, interval=0.002)
    assert time.monotonic() - started < 1.0

    mesh.clock.advance(timedelta(days=6, hours=23))
    with pytest.raises(grpc.aio.AioRpcError) as still_lost:
        await settle(client, card_no, 100, "during")
    assert error_reason(still_lost.value) == "CARD_REPORTED_LOST"

    mesh.clock.advance(timedelta(hours=1))  # 7 days: the report lapses, no human action
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    assert (await settle(client, card_no, 100, "after")).acct_pay_fen == 100
    state = await client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))
    assert state.state == loss_pb2.LOSS_STATE_NONE
    assert [h.what for h in state.history] == ["reported_temporary", "settlement_attempt", "expired"]
    attempt = state.history[1]
    assert "P99990001" in attempt.detail and "100 fen" in attempt.detail


async def test_self_service_channels_need_the_enabled_pin_checked_by_cards(mesh: Mesh) -> None:
    client = await mesh.start()
    _, plain_card, plain_id = await holder(mesh, serial=11, pin=False)
    await _refused(client.loss.ReportTemporaryLoss(temporary(plain_card, "i0", loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin="123456")),
                   grpc.StatusCode.FAILED_PRECONDITION, "PIN_NOT_ENABLED")
    _, card_no, citizen_id = await holder(mesh, serial=12)
    await mesh.settle_idle()
    before = await _counts(mesh)
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "i1", loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin="000000")),
                   grpc.StatusCode.PERMISSION_DENIED, "PIN_INCORRECT")
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "i2", loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT)),
                   grpc.StatusCode.INVALID_ARGUMENT, "IDENTITY_REQUIRED")
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "i3", loss_pb2.LOSS_CHANNEL_WEBSITE, citizen_id=citizen_id, name="别人")),
                   grpc.StatusCode.PERMISSION_DENIED, "IDENTITY_MISMATCH")
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "i4")), grpc.StatusCode.INVALID_ARGUMENT, "IDENTITY_REQUIRED")
    await mesh.settle_idle()
    after = await _counts(mesh)
    # Nothing written by the loss service; the cards service counted one wrong PIN, nothing else.
    assert {k: v for k, v in after.items() if k.startswith("loss.")} == {k: v for k, v in before.items() if k.startswith("loss.")}
    ok = await client.loss.ReportTemporaryLoss(temporary(card_no, "i5", loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, pin=PIN))
    again = await client.loss.ReportTemporaryLoss(temporary(card_no, "i6", loss_pb2.LOSS_CHANNEL_APP, pin=PIN))
    assert ok.state == loss_pb2.LOSS_STATE_TEMPORARY and again.report_id == ok.report_id
    await _refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u0", card_no=card_no)), grpc.StatusCode.INVALID_ARGUMENT, "IDENTITY_REQUIRED")
    await client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u1", card_no=card_no, citizen_id=citizen_id))
    await _refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u2", card_no=card_no, citizen_id=citizen_id)),
                   grpc.StatusCode.FAILED_PRECONDITION, "NOT_REPORTED_LOST")


async def test_formal_loss_is_irreversible_idempotent_and_creates_one_reissue_with_the_fee(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=21)
    await client.loss.ReportTemporaryLoss(temporary(card_no, "t1", citizen_id=citizen_id, name=NAME))
    formal = loss_pb2.ReportFormalLossRequest(request_id="f1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=NAME)
    first = await client.loss.ReportFormalLoss(formal)
    replay = await client.loss.ReportFormalLoss(formal)
    second = await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f2", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_BANK, citizen_id=citizen_id, name=NAME))
    assert first == replay and second.report_id == first.report_id and first.state == loss_pb2.LOSS_STATE_FORMAL
    await _refused(client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f3", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_IVR, citizen_id=citizen_id, name=NAME)),
        grpc.StatusCode.INVALID_ARGUMENT, "CHANNEL_NOT_ALLOWED")
    await _refused(client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_BANK, citizen_id=citizen_id, name=NAME)),
        grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")
    await _refused(client.loss.LiftLoss(loss_pb2.LiftLossRequest(request_id="u1", card_no=card_no, citizen_id=citizen_id)),
                   grpc.StatusCode.FAILED_PRECONDITION, "LOSS_IS_FORMAL")
    await mesh.settle_idle()
    cards = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    await mesh.settle_idle()
    assert len((await client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id))).cards) == 2
    reissue = cards.cards[0]
    assert reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE and reissue.fee_fen == mesh.policies.get("370100").replacement_fee_fen
    # The expiry clock no longer applies to a formal report.
    mesh.clock.advance(timedelta(days=30))
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=reissue.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    assert (await check(client, card_no)).refusal_reason == "CARD_REPORTED_LOST"
    # The bank was told about the financial zone, once per change.
    loss_db = mesh.runtimes["loss"].db
    notes = await eventually(lambda: loss_db.read(lambda c: loss_store.bank_notifications_for(c, card_no)), lambda n: len(n) >= 2)
    await mesh.settle_idle()
    notes = await loss_db.read(lambda c: loss_store.bank_notifications_for(c, card_no))
    assert [(n.bank_code, n.loss_state) for n in notes] == [("QLB", "temporary"), ("QLB", "formal")]


async def test_loss_period_refund_is_paid_once_after_review(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=31)
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=NAME))
    cards = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    mesh.clock.advance(timedelta(days=2))
    expense_day = mesh.clock.now().date().isoformat()
    # The hospital tries the lost card; settlement refuses it and the holder pays the 50.00 bill in cash.
    hospital = await HOSPITAL.signed_in(client.settlement)
    await _refused(client.settlement.Settle(spb.SettleRequest(
        msg_id="lost-visit", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_OUTPATIENT,
        items=[spb.LineItem(code="V1", name="visit", catalog_class=spb.CATALOG_CLASS_A, amount_fen=5000)]), metadata=hospital),
        grpc.StatusCode.FAILED_PRECONDITION, "CARD_REPORTED_LOST")
    await mesh.settle_idle()
    new_card = await issue_card(mesh, person_id, citizen_id, card=cards.cards[0])
    await eventually(lambda: balance(client, new_card.card_no), lambda b: b == 10000)

    def claim(rid: str, fen: int, day: str = expense_day) -> loss_pb2.ClaimLossPeriodRefundRequest:
        return loss_pb2.ClaimLossPeriodRefundRequest(request_id=rid, card_no=card_no, citizen_id=citizen_id,
                                                     institution_code="H99990001", receipt_no=f"R-{rid}", expense_date=day, amount_fen=fen)

    await _refused(client.loss.ClaimLossPeriodRefund(claim("c0", 4200, "2020-01-01")), grpc.StatusCode.INVALID_ARGUMENT, "EXPENSE_OUTSIDE_LOSS_PERIOD")
    # Never more than the cash paid for the bill settlement recorded, and only for a bill it recorded.
    await _refused(client.loss.ClaimLossPeriodRefund(claim("c-big", 10**10)), grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_PAID")
    await _refused(client.loss.ClaimLossPeriodRefund(claim("c-more", 5001)), grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_PAID")
    elsewhere = loss_pb2.ClaimLossPeriodRefundRequest(request_id="c-else", card_no=card_no, citizen_id=citizen_id, institution_code="P99990001",
                                                     receipt_no="R-else", expense_date=expense_day, amount_fen=100)
    await _refused(client.loss.ClaimLossPeriodRefund(elsewhere), grpc.StatusCode.FAILED_PRECONDITION, "EXPENSE_NOT_RECORDED")
    claimed = (await client.loss.ClaimLossPeriodRefund(claim("c1", 4200))).claim
    assert claimed.status == loss_pb2.REFUND_STATUS_PENDING_REVIEW
    await _refused(client.loss.ClaimLossPeriodRefund(claim("c2", 999)), grpc.StatusCode.FAILED_PRECONDITION, "REFUND_ALREADY_CLAIMED")
    review = loss_pb2.ReviewLossPeriodRefundRequest(request_id="r1", claim_id=claimed.claim_id, approve=True, reviewer="clerk-007")
    reviewer = fund_of("370100").metadata()
    assert (await client.loss.ReviewLossPeriodRefund(review, metadata=reviewer)).claim.status == loss_pb2.REFUND_STATUS_APPROVED
    await client.loss.ReviewLossPeriodRefund(review, metadata=reviewer)  # a replay pays nothing more
    await _refused(client.loss.ReviewLossPeriodRefund(loss_pb2.ReviewLossPeriodRefundRequest(
        request_id="r2", claim_id=claimed.claim_id, approve=True, reviewer="clerk-008"), metadata=reviewer),
        grpc.StatusCode.FAILED_PRECONDITION, "REFUND_ALREADY_REVIEWED")
    await eventually(lambda: balance(client, new_card.card_no), lambda b: b == 14200)
    await mesh.settle_idle()
    assert await balance(client, new_card.card_no) == 14200
    history = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=new_card.card_no))
    assert [(e.kind, e.amount_fen) for e in history.entries] == [(spb.ENTRY_KIND_REFUND, 4200), (spb.ENTRY_KIND_ALLOCATION, 10000)]


async def test_cards_of_the_dead_cannot_be_reported_lost(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=41)
    await client.identity.RecordDeath(identity_pb2.RecordDeathRequest(death_certificate_ref="SW-2026-0001", request_id="d1", person_id=person_id, date_of_death=mesh.clock.now().date().isoformat()))
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_CANCELLED")
    await eventually(lambda: client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no)), lambda r: True)
    await mesh.settle_idle()
    loss = mesh.runtimes["loss"]
    await eventually(lambda: loss.db.read(lambda c: loss_store.get_card(c, card_no)), lambda v: v.state == "cancelled")
    await _refused(client.loss.ReportTemporaryLoss(temporary(card_no, "x1", citizen_id=citizen_id, name=NAME)),
                   grpc.StatusCode.FAILED_PRECONDITION, "CARD_CANCELLED")
    entries = mesh.runtimes["settlement"].db.table("account_entries")
    rows = await mesh.runtimes["settlement"].db.read(lambda c: c.execute(sa.select(entries.c.kind, entries.c.amount_fen)))
    assert sorted(tuple(r) for r in rows) == [("allocation", 10000), ("payout", -10000)]


async def test_expiry_schedule_survives_a_restart_and_fires_once(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, serial=51)
    await client.loss.ReportTemporaryLoss(temporary(card_no, "t1", citizen_id=citizen_id, name=NAME))
    await eventually(lambda: check(client, card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST")
    await mesh.restart("loss")
    client = mesh.client
    mesh.clock.advance(timedelta(days=8))  # a jump well past the 7-day validity
    await eventually(lambda: check(client, card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    await mesh.restart("loss")
    mesh.clock.advance(timedelta(days=1))
    await mesh.settle_idle()
    state = await mesh.client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))
    assert [h.what for h in state.history] == ["reported_temporary", "expired"]
    outbox = mesh.runtimes["loss"].db.table("outbox")
    expired = await mesh.runtimes["loss"].db.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.subject == "sscard.loss.card.expired")))
    assert expired.scalar() == 1
