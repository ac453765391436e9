"""Pure domain rules of identity, cards, loss and settlement (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from stdnum.cn import ric

from services.cards import domain as cards
from services.common.citizen_id import make_citizen_id, mask_citizen_id, parse_citizen_id
from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.identity import domain as identity
from services.loss import domain as loss
from services.settlement import domain as settlement

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
PEPPER = b"test-pepper"


def test_citizen_id_checks_and_derives() -> None:
    parsed = parse_citizen_id("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31) and parsed.gender == "female"
    assert parse_citizen_id(make_citizen_id("370102", date(1990, 3, 7), 457)).gender == "male"
    for bad, why in [("110105194912310021", "check character"), ("1101051949123", "18 characters"), ("11010519491331002" + ric.calc_check_digit("110105194913310020"), "birth date")]:
        with pytest.raises(InvalidArgument) as error:
            parse_citizen_id(bad)
        assert error.value.reason == "INVALID_CITIZEN_ID" and why in error.value.message
    assert mask_citizen_id("11010519491231002X") == "110105**********2X"


def test_registration_rules() -> None:
    person = identity.register_person("p1", "11010519491231002X", " 张三 ", "110000", identity.InsuredCategory.RESIDENT, None, "", NOW, 3)
    assert person.name == "张三" and person.status is identity.PersonStatus.UNEMPLOYED
    with pytest.raises(InvalidArgument, match="employer"):
        identity.register_person("p2", "11010519491231002X", "张三", "110000", identity.InsuredCategory.EMPLOYEE, None, "", NOW, 3)
    dead = identity.record_death(person, date(2026, 1, 1), NOW.date())
    assert dead.status is identity.PersonStatus.DECEASED
    with pytest.raises(FailedPrecondition):
        identity.record_death(dead, date(2026, 1, 1), NOW.date())
    with pytest.raises(InvalidArgument):
        identity.record_death(person, date(2027, 1, 1), NOW.date())


@pytest.mark.parametrize("pin,why", [
    ("111111", "equal"), ("123456", "run"), ("987654", "run"), ("850614", "birth"), ("19850614"[:6], "birth"), ("140685", "birth"),
])
def test_weak_pins_are_refused(pin: str, why: str) -> None:
    reason = cards.weak_pin_reason(pin, date(1985, 6, 14), "110105198506141234")
    assert reason is not None and why in reason


def test_pin_from_the_citizen_id_is_weak_and_a_good_pin_is_not() -> None:
    assert cards.weak_pin_reason("506141", date(1985, 6, 14), "110105198506141234") is not None
    assert cards.weak_pin_reason("802613", date(1985, 6, 14), "110105198506141234") is None


def _card(**changes) -> cards.Card:  # noqa: ANN003
    base = cards.Card(
        card_no="C1", person_id="p", citizen_id="110105198506141234", name="张三", region_code="110000",
        state=cards.CardState.ACTIVE, kind=cards.ApplicationKind.FIRST, channel="outlet", pickup_certificate_no="LK1",
        fee_fen=0, ready_by=date(2026, 11, 26), applied_at=NOW, pin_hash=cards.hash_pin(PEPPER, "s", "123456"), pin_salt="s",
    )
    return replace(base, **changes)


def test_wrong_pins_lock_the_card_on_the_nth_attempt_and_a_right_pin_resets() -> None:
    card = _card()
    for attempt in range(1, 6):
        card, ok = cards.verify_pin(card, "000000", PEPPER, max_attempts=6)
        assert not ok and card.state is cards.CardState.ACTIVE and card.wrong_pin_count == attempt
    card, ok = cards.verify_pin(card, "123456", PEPPER, max_attempts=6)
    assert ok and card.wrong_pin_count == 0
    for _ in range(6):
        card, ok = cards.verify_pin(card, "000000", PEPPER, max_attempts=6)
    assert card.state is cards.CardState.LOCKED
    with pytest.raises(FailedPrecondition, match="locked"):
        cards.verify_pin(card, "123456", PEPPER, max_attempts=6)


def test_card_lifecycle_guards() -> None:
    card = _card(state=cards.CardState.READY)
    with pytest.raises(PermissionDenied):
        cards.hand_out(card, "LK-other", card.citizen_id)
    with pytest.raises(PermissionDenied):
        cards.hand_out(card, "LK1", "11010519491231002X")
    handed = cards.hand_out(card, "LK1", card.citizen_id)
    with pytest.raises(FailedPrecondition):
        cards.activate(card, NOW)
    assert cards.activate(handed, NOW).state is cards.CardState.ACTIVE
    person = cards.PersonView("p", card.citizen_id, "张三", date(1985, 6, 14), "110000", False)
    with pytest.raises(FailedPrecondition, match="already holds"):
        cards.check_can_apply(person, [_card()], cards.ApplicationKind.FIRST)
    cards.check_can_apply(person, [_card(state=cards.CardState.REPLACED)], cards.ApplicationKind.FIRST)


def _view(**changes) -> loss.CardView:  # noqa: ANN003
    base = loss.CardView("C1", "p", "110105198506141234", "张三", "370100", "active", True, "QLB")
    return replace(base, **changes) if changes else base


def test_loss_reports_temporary_formal_lift_expire() -> None:
    none = loss.CardLoss("C1", loss.LossState.NONE)
    temporary, changed = loss.report_temporary(none, "r1", NOW, timedelta(days=7))
    assert changed and temporary.expires_at == NOW + timedelta(days=7)
    again, changed = loss.report_temporary(temporary, "r2", NOW, timedelta(days=7))
    assert not changed and again.report_id == "r1"
    assert loss.expire(temporary, NOW + timedelta(days=6, hours=23)) is None
    assert loss.expire(temporary, NOW + timedelta(days=7)).state is loss.LossState.NONE
    assert loss.lift(temporary).state is loss.LossState.NONE
    formal, changed = loss.report_formal(temporary, "r3")
    assert changed and formal.state is loss.LossState.FORMAL
    with pytest.raises(FailedPrecondition) as error:
        loss.lift(formal)
    assert error.value.reason == "LOSS_IS_FORMAL"
    assert loss.expire(formal, NOW + timedelta(days=30)) is None
    with pytest.raises(FailedPrecondition):
        loss.lift(none)


def test_loss_channel_rules() -> None:
    with pytest.raises(FailedPrecondition) as error:
        loss.check_pin_channel(_view(pin_enabled=False), "802613")
    assert error.value.reason == "PIN_NOT_ENABLED"
    with pytest.raises(InvalidArgument):
        loss.check_identity(_view(), "", "")
    with pytest.raises(PermissionDenied):
        loss.check_identity(_view(), "110105198506141234", "李四")
    loss.check_identity(_view(), "110105198506141234", "张三")
    for state, reason in [("cancelled", "CARD_CANCELLED"), ("replaced", "CARD_REPLACED"), ("ready", "CARD_NOT_ISSUED")]:
        with pytest.raises(FailedPrecondition) as error:
            loss.check_reportable(_view(state=state))
        assert error.value.reason == reason


def test_settlement_refusal_reasons_most_final_first() -> None:
    card = settlement.CardProjection("C1", "p", "110000", "active")
    assert settlement.refusal_reason(card, 6) is None
    assert settlement.refusal_reason(replace(card, loss_state="temporary"), 6) == "CARD_REPORTED_LOST"
    assert settlement.refusal_reason(replace(card, card_state="replaced", loss_state="formal"), 6) == "CARD_REPLACED"
    assert settlement.refusal_reason(replace(card, card_state="cancelled"), 6) == "CARD_CANCELLED"
    assert settlement.refusal_reason(replace(card, card_state="locked"), 6) == "PIN_LOCKED"
    assert settlement.refusal_reason(replace(card, card_state="ready"), 6) == "CARD_NOT_ACTIVE"


def test_what_a_producer_says_when_settlements_feed_of_it_lags() -> None:
    # feeds.py: the cards service's state of the card, the identity service's state of the holder.
    assert settlement.card_state_refusal("active") is None
    assert settlement.card_state_refusal("cancelled") == "CARD_CANCELLED"
    assert settlement.card_state_refusal("recalled") == "CARD_NOT_ACTIVE"
    assert settlement.holder_refusal(deceased=False, home_province="37", current_province="37") is None
    assert settlement.holder_refusal(deceased=True, home_province="37", current_province="37") == "ACCOUNT_CLOSED"
    assert settlement.holder_refusal(deceased=False, home_province="37", current_province="45") == "ACCOUNT_CLOSED"


def test_personal_account_never_goes_below_zero() -> None:
    account = settlement.Account("p", "C1", "110000", "resident", 1000)
    assert settlement.debit(account, 1000).balance_fen == 0
    with pytest.raises(FailedPrecondition) as error:
        settlement.debit(account, 1001)
    assert error.value.reason == "INSUFFICIENT_BALANCE"
    with pytest.raises(InvalidArgument):
        settlement.credit(account, 0)
    with pytest.raises(FailedPrecondition):
        settlement.credit(replace(account, closed=True), 100)


def test_temporary_loss_validity_is_regional_policy() -> None:
    from services.common.policy import RegionPolicies

    policies = RegionPolicies.load(__import__("services.common.config", fromlist=["REPO_ROOT"]).REPO_ROOT / "regions")
    assert policies.get("370100").temporary_loss_validity == timedelta(days=7)  # Jinan
    none = loss.CardLoss("C1", loss.LossState.NONE)
    one_day, _ = loss.report_temporary(none, "r1", NOW, timedelta(hours=24))  # the 24-hour city
    assert loss.expire(one_day, NOW + timedelta(hours=23, minutes=59)) is None
    assert loss.expire(one_day, NOW + timedelta(hours=24)) is not None


def test_newborn_cover_starts_at_birth_within_three_months_else_from_the_month_of_payment() -> None:
    assert identity.coverage_start(date(2026, 8, 31), date(2026, 11, 30), 3) == date(2026, 8, 31)
    assert identity.coverage_start(date(2026, 8, 31), date(2026, 12, 1), 3) == date(2026, 12, 1)
    assert identity.coverage_start(date(1990, 5, 5), date(2026, 11, 20), 3) == date(2026, 11, 1)


def test_identity_change_and_transfer_rules() -> None:
    person = identity.register_person("p1", "11010519491231002X", "张三", "110000", identity.InsuredCategory.RESIDENT, None, "", NOW, 3)
    renamed = identity.change_identity(person, "张叁", "")
    assert renamed.name == "张叁" and renamed.citizen_id == person.citizen_id
    new_id = make_citizen_id("110105", date(1949, 12, 31), 5)
    assert identity.change_identity(person, "", new_id).citizen_id.gender == "male"
    with pytest.raises(InvalidArgument):
        identity.change_identity(person, "张三", "")
    assert identity.transfer(person, "130100", "13", "11", within_province=False).region_code == "130100"
    with pytest.raises(InvalidArgument) as error:
        identity.transfer(person, "130100", "13", "11", within_province=True)
    assert error.value.reason == "SCOPE_MISMATCH"
    with pytest.raises(InvalidArgument):
        identity.new_employer_unit("u", "公司", "short", "110000")


def test_production_failure_recall_unlock_reset_and_the_electronic_card() -> None:
    applied = _card(state=cards.CardState.APPLIED)
    failed = cards.fail_production(applied, cards.FailureReason.PHOTO_NOT_COMPLIANT)
    assert failed.state is cards.CardState.FAILED and failed.failure_reason == "PHOTO_NOT_COMPLIANT"
    with pytest.raises(FailedPrecondition):
        cards.fail_production(_card(), cards.FailureReason.BANK_ACCOUNT_FAILED)
    assert cards.recall(_card()).state is cards.CardState.RECALLED
    assert cards.fee_for(cards.ApplicationKind.REMAKE, type("P", (), {"replacement_fee_fen": 2000})()) == 0
    locked = _card(state=cards.CardState.LOCKED, wrong_pin_count=6, activated_at=NOW)
    with pytest.raises(PermissionDenied):
        cards.unlock(locked, "11010519491231002X")
    assert cards.unlock(locked, locked.citizen_id).state is cards.CardState.ACTIVE
    reset = cards.reset_pin(locked, locked.citizen_id, PEPPER, "t", "123456")
    assert not reset.pin_enabled and reset.state is cards.CardState.ACTIVE and cards.verify_pin(reset, "123456", PEPPER, 6)[1]
    cards.check_electronic_card(_card(pin_enabled=True))
    for card, reason in [(_card(loss_state=cards.LossState.TEMPORARY), "CARD_REPORTED_LOST"), (locked, "PIN_LOCKED"),
                         (_card(pin_enabled=False), "PIN_NOT_ENABLED"),
                         (_card(state=cards.CardState.REPLACED), "CARD_REPLACED"), (_card(state=cards.CardState.HANDED_OUT), "CARD_NOT_ACTIVE")]:
        with pytest.raises(FailedPrecondition) as error:
            cards.check_electronic_card(card)
        assert error.value.reason == reason


def test_holder_changes_and_transfers_reach_the_card() -> None:
    person = cards.PersonView("p", "11010519491231002X", "李四", date(1949, 12, 31), "110000", False)
    assert cards.change_holder_data(_card(state=cards.CardState.APPLIED), person).failure_reason == "IDENTITY_CHANGED"
    kept = cards.change_holder_data(_card(), person)
    assert kept.state is cards.CardState.ACTIVE and kept.name == "李四"
    moved = cards.transfer(_card(activated_at=NOW), "110100", within_province=True)
    assert moved.state is cards.CardState.HANDED_OUT and moved.region_code == "110100"
    assert cards.transfer(_card(), "450100", within_province=False).state is cards.CardState.CANCELLED


def test_a_handed_out_card_never_activated_can_be_replaced() -> None:
    # "Issued first, used later" (seed 002): a formal loss of a card never activated creates its reissue.
    person = cards.PersonView("p", "110105198506141234", "张三", date(1985, 6, 14), "110000", False)
    handed_out = _card(state=cards.CardState.HANDED_OUT)
    cards.check_can_apply(person, [handed_out], cards.ApplicationKind.REISSUE)
    cards.check_can_apply(person, [handed_out], cards.ApplicationKind.EXCHANGE)
    with pytest.raises(FailedPrecondition, match="already holds"):
        cards.check_can_apply(person, [handed_out], cards.ApplicationKind.FIRST)
    for being_made in (cards.CardState.APPLIED, cards.CardState.READY):
        with pytest.raises(FailedPrecondition) as error:
            cards.check_can_apply(person, [handed_out, _card(card_no="C2", state=being_made)], cards.ApplicationKind.REISSUE)
        assert error.value.reason == "APPLICATION_PENDING" and error.value.metadata["card_no"] == "C2"


@pytest.mark.parametrize("area,born", [
    ("130102", date(1960, 5, 1)),  # Shijiazhuang 长安区, code assigned 1983
    ("130104", date(1982, 12, 31)),
    ("130105", date(1949, 10, 1)),
    ("440106", date(1970, 1, 1)),  # Guangzhou 天河区, code assigned 1985
])
def test_an_id_is_valid_whenever_its_area_code_was_assigned(area: str, born: date) -> None:
    number = make_citizen_id(area, born, 123)
    assert not ric.is_valid(number)  # python-stdnum compares the code's period with the birth year
    parsed = parse_citizen_id(number)
    assert parsed.number == number and parsed.birth_date == born


@pytest.mark.parametrize("body,why", [
    ("99999919600501123", "never assigned"),  # no such area code, ever
    ("11019919600501123", "never assigned"),  # a province prefix with an unassigned county
    ("13010219600230123", "birth date"),
    ("1301021960050112", "18 characters"),
    ("1301O219600501123", "17 digits"),
])
def test_ids_with_a_bad_area_date_or_format_stay_refused(body: str, why: str) -> None:
    number = body + (ric.calc_check_digit(body + "0") if len(body) == 17 and body.isdigit() else "0")
    with pytest.raises(InvalidArgument) as error:
        parse_citizen_id(number)
    assert error.value.reason == "INVALID_CITIZEN_ID" and why in error.value.message


def test_a_citizen_id_has_one_form_at_every_entry_point() -> None:
    from sscard.cards.v1 import cards_pb2
    from sscard.loss.v1 import loss_pb2

    from services.common.citizen_id import normalise_citizen_ids

    assert parse_citizen_id("11010519491231002x").number == "11010519491231002X"
    request = loss_pb2.ReportFormalLossRequest(citizen_id=" 11010519491231002x", name="x")
    request.agent.citizen_id = "11010519491231002x"
    normalise_citizen_ids(request)
    assert request.citizen_id == request.agent.citizen_id == "11010519491231002X" and request.name == "x"
    query = cards_pb2.QueryProgressRequest(citizen_id="11010519491231002x")
    normalise_citizen_ids(query)
    assert query.citizen_id == "11010519491231002X"


def test_business_dates_are_china_standard_time_days() -> None:
    from services.common.clock import business_date
    from services.common.config import REPO_ROOT
    from services.common.policy import RegionPolicies

    at_0250_cst = datetime(2026, 11, 19, 18, 50, tzinfo=timezone.utc)  # 2026-11-20 02:50 in Beijing
    assert business_date(at_0250_cst) == date(2026, 11, 20)
    assert business_date(datetime(2026, 11, 20, 15, 59, tzinfo=timezone.utc)) == date(2026, 11, 20)
    assert business_date(datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)) == date(2026, 11, 21)
    same_day = RegionPolicies.load(REPO_ROOT / "regions").get("999900")  # cards made the same day
    person = cards.PersonView("p", "110105198506141234", "张三", date(1985, 6, 14), "999900", False)
    card = cards.new_card(card_no="C9", certificate_no="LK", person=person, kind=cards.ApplicationKind.FIRST, channel="district_centre",
                          policy=same_day, now=at_0250_cst, pin_salt="s", pepper=PEPPER)
    assert card.ready_by == date(2026, 11, 20)  # not the UTC date, "yesterday"


def test_the_reissue_of_a_formal_loss_follows_the_channel_it_was_reported_at() -> None:
    assert cards.reissue_channel("bank") == "bank_outlet"  # Jinan's bank outlets make it on the spot
    assert cards.reissue_channel("outlet") == "outlet"
    assert cards.reissue_channel("wechat") == "online"


def test_a_region_may_refund_only_the_most_recent_recorded_expense() -> None:
    formal = loss.CardLoss("C1", loss.LossState.FORMAL, "rpt1")
    last = loss.RecordedExpense("P1", date(2026, 11, 21), 4200)

    def claim(institution: str, day: date, fen: int, recorded: loss.RecordedExpense | None = last) -> loss.RefundClaim:
        return loss.claim_refund("rfd", formal, date(2026, 11, 19), None, institution, "R1", day, fen, date(2026, 11, 23),
                                 recorded=(recorded,) if recorded else (), most_recent_only=True, most_recent=recorded)

    assert claim("P1", date(2026, 11, 21), 4200).amount_fen == 4200
    for institution, day, fen, recorded, reason in [
        ("P1", date(2026, 11, 20), 3000, last, "NOT_MOST_RECENT_EXPENSE"),  # an older expense
        ("H1", date(2026, 11, 21), 4200, last, "NOT_MOST_RECENT_EXPENSE"),
        ("P1", date(2026, 11, 21), 4201, last, "NOT_MOST_RECENT_EXPENSE"),  # more than was recorded
        ("P1", date(2026, 11, 21), 4200, None, "NO_RECORDED_EXPENSE"),
    ]:
        with pytest.raises(FailedPrecondition) as error:
            claim(institution, day, fen, recorded)
        assert error.value.reason == reason
    # Without the region's rule the reviewer decides; an approval re-checks it where it applies.
    anywhere = loss.claim_refund("rfd", formal, date(2026, 11, 19), None, "H1", "R1", date(2026, 11, 20), 99, date(2026, 11, 23),
                                 recorded=(loss.RecordedExpense("H1", date(2026, 11, 20), 99),))
    assert loss.review_refund(anywhere, True, "ok").status is loss.RefundStatus.APPROVED
    newer = loss.RecordedExpense("P1", date(2026, 11, 22), 100)
    with pytest.raises(FailedPrecondition, match="most recent"):
        loss.review_refund(claim("P1", date(2026, 11, 21), 4200), True, "ok", True, newer)
    assert loss.review_refund(claim("P1", date(2026, 11, 21), 4200), False, "no", True, newer).status is loss.RefundStatus.REJECTED


def test_a_temporary_loss_made_formal_stays_the_same_loss() -> None:
    temporary, _ = loss.report_temporary(loss.CardLoss("C1", loss.LossState.NONE), "r1", NOW, timedelta(days=7))
    formal, changed = loss.report_formal(temporary, "r2")
    assert changed and (formal.state, formal.report_id) == (loss.LossState.FORMAL, "r1")
    assert loss.report_formal(loss.CardLoss("C2", loss.LossState.NONE), "r3")[0].report_id == "r3"
