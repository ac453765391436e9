"""Settlement over real gRPC, as a hospital's HIS or a pharmacy POS uses it."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import grpc
import pytest
import sqlalchemy as sa

from cryptography.hazmat.primitives.asymmetric import ed25519

from services.client import eventually, institution
from services.common.auth import issue_ecard_token
from services.common.pki import DEV_ISSUER
from services.common.trust import Signer
from services.common.citizen_id import make_citizen_id
from services.settlement import store
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import FUND, HOSPITAL, PHARMACY, Mesh, fund_of, test_pki
from tests.mesh.test_story import PIN, balance, check
from tests.service.test_ops_and_errors import _refused

CLINIC = institution("H99990002")
BEIJING_HOSPITAL = institution("H11000001")
BEIJING_FUND = fund_of("110000")
SUSPENDED = institution("P99990009")


def items(*amounts: int, cls: int = spb.CATALOG_CLASS_A) -> list[spb.LineItem]:
    return [spb.LineItem(code=f"I{i}", catalog_class=cls, amount_fen=a) for i, a in enumerate(amounts)]


async def insured(mesh: Mesh, serial: int, category: int = identity_pb2.INSURED_CATEGORY_EMPLOYEE, fen: int = 100000, pin: bool = True) -> tuple[str, str, str]:
    """An insured person of the demo region with an active card and a funded account: (person_id, card_no, citizen_id)."""
    client = mesh.client
    citizen_id = make_citizen_id("110105", date(1980, 1, 1) + timedelta(days=serial), serial)
    unit_id = ""
    if category == identity_pb2.INSURED_CATEGORY_EMPLOYEE:
        unit_id = (await client.identity.CreateEmployerUnit(identity_pb2.CreateEmployerUnitRequest(
            request_id=f"unit-{serial}", name="示范公司", credit_code=f"91110000MA0{serial:07d}", region_code="999900"))).unit.unit_id
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=f"reg-{serial}", citizen_id=citizen_id, name="吴九", region_code="999900", insured_category=category,
        employer_unit_id=unit_id))).person
    applied = await eventually(lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id=f"apply-{serial}", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True)
    card = applied.card
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(request_id=f"h-{serial}", card_no=card.card_no,
                                                                pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(request_id=f"a-{serial}", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    if pin:
        await client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id=f"p-{serial}", card_no=card.card_no, old_pin="123456", new_pin=PIN))
    if fen:
        await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id=f"al-{serial}", person_id=person.person_id, amount_fen=fen, period="2026-11"), ), lambda r: True)
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    if pin:
        await eventually(lambda: mesh.runtimes["settlement"].db.read(lambda c: store.get_card(c, card.card_no)), lambda c: c.pin_enabled)
    return person.person_id, card.card_no, citizen_id


async def test_credentials_are_checked_on_every_call(mesh: Mesh) -> None:
    client = await mesh.start()
    request = spb.CheckCardRequest(card_no="C0000000000")
    unauth = grpc.StatusCode.UNAUTHENTICATED
    await _refused(client.settlement.CheckCard(request), unauth, "CREDENTIAL_MISSING")
    await _refused(client.settlement.CheckCard(request, metadata=(("authorization", "Bearer nonsense"),)), unauth, "CREDENTIAL_MALFORMED")
    # Signed with a key the services do not trust, under the development issuer's kid.
    forged = Signer(ed25519.Ed25519PrivateKey.generate(), "dev-issuer-1", DEV_ISSUER).mint("institution", PHARMACY.code, "settlement", org=PHARMACY.code)
    await _refused(client.settlement.CheckCard(request, metadata=(("authorization", f"Bearer {forged}"),)), unauth, "CREDENTIAL_INVALID")
    expired = Signer.from_file(test_pki() / "issuer.key", "dev-issuer-1", DEV_ISSUER).mint(
        "institution", PHARMACY.code, "settlement", ttl_s=60, now=int(time.time()) - 600, org=PHARMACY.code)
    await _refused(client.settlement.CheckCard(request, metadata=(("authorization", f"Bearer {expired}"),)), unauth, "CREDENTIAL_EXPIRED")
    await _refused(client.settlement.CheckCard(request, metadata=SUSPENDED.metadata()), grpc.StatusCode.PERMISSION_DENIED, "INSTITUTION_SUSPENDED")
    await _refused(client.settlement.SignIn(spb.SignInRequest(), metadata=FUND.metadata()), grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    await _refused(client.settlement.CreateFiling(spb.CreateFilingRequest(request_id="f", person_id="p"), metadata=HOSPITAL.metadata()),
                   grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    first = await client.settlement.SignIn(spb.SignInRequest(), metadata=PHARMACY.metadata())
    again = await client.settlement.SignIn(spb.SignInRequest(), metadata=PHARMACY.metadata())
    assert first.sign_no == again.sign_no and first.business_date
    wrong = PHARMACY.metadata(sign_no="sign_forged")
    await _refused(client.settlement.PreSettle(spb.PreSettleRequest(card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY, items=items(100)),
                                               metadata=wrong), grpc.StatusCode.FAILED_PRECONDITION, "NOT_SIGNED_IN")


async def test_presettle_settle_idempotency_revoke_and_another_institutions_settlement(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, _ = await insured(mesh, 1)
    hospital = await HOSPITAL.signed_in(client.settlement)
    clinic = await CLINIC.signed_in(client.settlement)
    bill = items(200000)  # 2,000.00 outpatient at the level-3 hospital, employee: deductible 1,300.00, 80 % of 700.00
    pre = await client.settlement.PreSettle(spb.PreSettleRequest(card_no=card_no, care_type=spb.CARE_TYPE_OUTPATIENT, items=bill), metadata=hospital)
    assert (pre.fund_pay_sumamt_fen, pre.acct_pay_fen, pre.psn_cash_pay_fen) == (56000, 100000, 44000)
    request = spb.SettleRequest(msg_id="his-0001", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_OUTPATIENT, items=bill, mdtrt_id="V1")
    first = await client.settlement.Settle(request, metadata=hospital)
    assert (first.fund_pay_sumamt_fen, first.acct_pay_fen, first.psn_cash_pay_fen, first.balance_fen) == (56000, 100000, 44000, 0)
    assert await client.settlement.Settle(request, metadata=hospital) == first  # a retry gets the first answer
    changed = spb.SettleRequest(msg_id="his-0001", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_OUTPATIENT, items=items(1))
    await _refused(client.settlement.Settle(changed, metadata=hospital), grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")

    revoke = spb.RevokeSettlementRequest(msg_id="his-0002", setl_id=first.setl_id, reason="patient left")
    await _refused(client.settlement.RevokeSettlement(revoke, metadata=clinic), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_SETTLEMENT")
    revoked = await client.settlement.RevokeSettlement(revoke, metadata=hospital)
    assert revoked.settlement.status == "revoked" and revoked.balance_fen == 100000
    assert await client.settlement.RevokeSettlement(revoke, metadata=hospital) == revoked
    await _refused(client.settlement.RevokeSettlement(spb.RevokeSettlementRequest(msg_id="his-0003", setl_id=first.setl_id), metadata=hospital),
                   grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_REVOKED")
    # The year-to-date deductible dropped the revoked bill: the same bill splits the same way again.
    again = await client.settlement.PreSettle(spb.PreSettleRequest(card_no=card_no, care_type=spb.CARE_TYPE_OUTPATIENT, items=bill), metadata=hospital)
    assert again == pre
    entries = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card_no, page_size=2), metadata=hospital)
    assert [(e.kind, e.amount_fen) for e in entries.entries] == [(spb.ENTRY_KIND_REVOCATION, 100000), (spb.ENTRY_KIND_SETTLEMENT, -100000)]
    rest = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card_no, page_size=2, page_token=entries.next_page_token), metadata=hospital)
    assert [(e.kind, e.amount_fen) for e in rest.entries] == [(spb.ENTRY_KIND_ALLOCATION, 100000)] and not rest.next_page_token
    await _refused(client.settlement.Settle(spb.SettleRequest(msg_id="x", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY, items=bill),
                                            metadata=hospital), grpc.StatusCode.PERMISSION_DENIED, "CARE_TYPE_NOT_ALLOWED")
    del person_id


async def test_reversal_of_an_unknown_outcome(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 2, category=identity_pb2.INSURED_CATEGORY_RESIDENT)
    md = await PHARMACY.signed_in(client.settlement)
    paid = await client.settlement.Settle(spb.SettleRequest(msg_id="pos-1", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY, items=items(3000)), metadata=md)
    assert paid.balance_fen == 97000
    reverse = spb.ReverseSettlementRequest(msg_id="pos-r1", original_msg_id="pos-1")
    first = await client.settlement.ReverseSettlement(reverse, metadata=md)
    assert first.outcome == "reversed" and first.setl_id == paid.setl_id
    assert await client.settlement.ReverseSettlement(reverse, metadata=md) == first
    other = await client.settlement.ReverseSettlement(spb.ReverseSettlementRequest(msg_id="pos-r2", original_msg_id="pos-1"), metadata=md)
    assert other == first
    assert await balance(client, card_no) == 100000
    # The POS timed out before "pos-2" reached us: reversing it records a no-op and blocks the late original.
    nothing = await client.settlement.ReverseSettlement(spb.ReverseSettlementRequest(msg_id="pos-r3", original_msg_id="pos-2"), metadata=md)
    assert nothing.outcome == "nothing_to_reverse"
    await _refused(client.settlement.Settle(spb.SettleRequest(msg_id="pos-2", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY, items=items(3000)),
                                            metadata=md), grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_REVERSED")
    assert await balance(client, card_no) == 100000


async def test_reconciliation_matches_or_names_the_differences(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 3, category=identity_pb2.INSURED_CATEGORY_RESIDENT)
    md = await PHARMACY.signed_in(client.settlement)
    settled = [await client.settlement.Settle(spb.SettleRequest(msg_id=f"d-{i}", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY,
                                                                items=items(1000 * (i + 1))), metadata=md) for i in range(3)]
    await client.settlement.RevokeSettlement(spb.RevokeSettlementRequest(msg_id="d-rev", setl_id=settled[0].setl_id), metadata=md)
    day = (mesh.clock.now() + timedelta(hours=8)).date().isoformat()
    totals = spb.DayTotals(count=2, medfee_sumamt_fen=5000, acct_pay_fen=5000)
    ok = await client.settlement.Reconcile(spb.ReconcileRequest(business_date=day, totals=totals), metadata=md)
    assert ok.matched and ok.ours == totals
    details = [spb.Settlement(setl_id=s.setl_id, medfee_sumamt_fen=s.medfee_sumamt_fen, acct_pay_fen=s.acct_pay_fen, status="settled") for s in settled[1:]]
    details[1].acct_pay_fen = 2999
    bad = await client.settlement.Reconcile(spb.ReconcileRequest(business_date=day, totals=totals, details=details), metadata=md)
    assert not bad.matched and [d.setl_id for d in bad.differing] == [settled[2].setl_id]
    other = await client.settlement.Reconcile(spb.ReconcileRequest(business_date=day, totals=totals), metadata=await CLINIC.signed_in(client.settlement))
    assert not other.matched and other.ours.count == 0  # an institution sees only its own settlements


async def test_out_of_region_inpatient_needs_a_filing_by_the_home_region(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, _ = await insured(mesh, 4, category=identity_pb2.INSURED_CATEGORY_RESIDENT, fen=0)
    beijing = await BEIJING_HOSPITAL.signed_in(client.settlement)
    stay = spb.SettleRequest(msg_id="bj-1", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_INPATIENT, items=items(400000))
    await _refused(client.settlement.Settle(stay, metadata=beijing), grpc.StatusCode.FAILED_PRECONDITION, "FILING_REQUIRED")
    today = mesh.clock.now().date()
    filing = spb.CreateFilingRequest(request_id="fil-1", person_id=person_id, treatment_region_code="110000",
                                     valid_from=today.isoformat(), valid_to=(today + timedelta(days=90)).isoformat())
    await _refused(client.settlement.CreateFiling(filing, metadata=BEIJING_FUND.metadata()), grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_REGION")
    created = await client.settlement.CreateFiling(filing, )
    assert (await client.settlement.ListFilings(spb.ListFilingsRequest(person_id=person_id), )).filings == [created.filing]
    paid = await client.settlement.Settle(stay, metadata=beijing)
    # Home (demo region = national defaults) resident deductible 800.00 and level-3 inpatient 65 %: 65 % of 3,200.00.
    assert (paid.fund_pay_sumamt_fen, paid.psn_cash_pay_fen) == (208000, 192000)


async def test_citizen_id_and_electronic_card_identify_the_holder(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await insured(mesh, 5, category=identity_pb2.INSURED_CATEGORY_FLEXIBLE)
    by_id = await client.settlement.CheckCard(spb.CheckCardRequest(citizen_id=citizen_id), metadata=HOSPITAL.metadata())
    # An ID number alone names the holder but does not show the account (the card was not presented).
    assert (by_id.card_no, by_id.person_id, by_id.insured_category, by_id.balance_fen) == (card_no, person_id, "flexible", 0)
    with_pin = await client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no, pin=PIN), metadata=HOSPITAL.metadata())
    assert with_pin.balance_fen == 100000
    secret = mesh.runtimes["settlement"].settings.token_secret
    token = issue_ecard_token(card_no, int(time.time()) + 60, secret)
    by_qr = await client.settlement.CheckCard(spb.CheckCardRequest(ecard_token=token), metadata=institution("H99990002").metadata())
    assert (by_qr.card_no, by_qr.balance_fen) == (card_no, 100000)
    md = await PHARMACY.signed_in(client.settlement)
    paid = await client.settlement.Settle(spb.SettleRequest(msg_id="qr-1", ecard_token=token, care_type=spb.CARE_TYPE_PHARMACY, items=items(1500)), metadata=md)
    assert paid.acct_pay_fen == 1500  # the QR code stands in for card + PIN
    stale = issue_ecard_token(card_no, int(time.time()) - 1, secret)
    await _refused(client.settlement.Settle(spb.SettleRequest(msg_id="qr-2", ecard_token=stale, care_type=spb.CARE_TYPE_PHARMACY, items=items(1)),
                                            metadata=md), grpc.StatusCode.UNAUTHENTICATED, "ECARD_TOKEN_EXPIRED")
    forged = issue_ecard_token(card_no, int(time.time()) + 60, b"wrong")
    await _refused(client.settlement.CheckCard(spb.CheckCardRequest(ecard_token=forged), metadata=md), grpc.StatusCode.UNAUTHENTICATED, "ECARD_TOKEN_INVALID")


async def test_wrong_pins_at_the_pos_lock_the_card_everywhere(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 6, category=identity_pb2.INSURED_CATEGORY_RESIDENT)
    md = await PHARMACY.signed_in(client.settlement)

    def attempt(i: int, pin: str):  # noqa: ANN202
        return client.settlement.Settle(spb.SettleRequest(msg_id=f"w-{i}", card_no=card_no, pin=pin, care_type=spb.CARE_TYPE_PHARMACY, items=items(100)), metadata=md)

    for i in range(5):
        await _refused(attempt(i, "000000"), grpc.StatusCode.PERMISSION_DENIED, "PIN_INCORRECT")
    await _refused(attempt(5, "000000"), grpc.StatusCode.FAILED_PRECONDITION, "PIN_LOCKED")
    await _refused(attempt(6, PIN), grpc.StatusCode.FAILED_PRECONDITION, "PIN_LOCKED")
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_LOCKED)
    assert await balance(client, card_no) == 100000


async def test_legacy_medical_card_balance_merges_on_activation(mesh: Mesh) -> None:
    client = await mesh.start()
    citizen_id = make_citizen_id("110105", date(1966, 6, 6), 66)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="lg", citizen_id=citizen_id, name="郑十", region_code="999900", insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person
    register = spb.RegisterLegacyAccountRequest(request_id="lg-1", person_id=person.person_id, legacy_card_no="YB-0001", balance_fen=12345)
    pending = await eventually(lambda: client.settlement.RegisterLegacyAccount(register, ), lambda r: True)
    assert pending.status == "pending"
    await _refused(client.settlement.RegisterLegacyAccount(spb.RegisterLegacyAccountRequest(
        request_id="lg-2", person_id=person.person_id, legacy_card_no="YB-0002", balance_fen=1), ),
        grpc.StatusCode.FAILED_PRECONDITION, "LEGACY_ALREADY_REGISTERED")
    card = await eventually(lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id="lg-apply", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True)
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(request_id="lg-h", card_no=card.card.card_no,
                                                                pickup_certificate_no=card.card.pickup_certificate_no, citizen_id=citizen_id))
    assert await balance(client, card.card.card_no) == 0  # not merged before activation
    await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(request_id="lg-a", card_no=card.card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))
    await eventually(lambda: balance(client, card.card.card_no), lambda b: b == 12345)
    entries = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card.card.card_no), )
    assert [(e.kind, e.amount_fen) for e in entries.entries] == [(spb.ENTRY_KIND_MOVE_IN, 12345)]


async def test_simultaneous_settlements_never_overdraw_and_the_ledger_sums_hold(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, _ = await insured(mesh, 7, category=identity_pb2.INSURED_CATEGORY_RESIDENT, fen=10000)
    md = await PHARMACY.signed_in(client.settlement)
    results = await asyncio.gather(*[
        client.settlement.Settle(spb.SettleRequest(msg_id=f"c-{i}", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY, items=items(700)), metadata=md)
        for i in range(40)
    ])
    assert sum(r.acct_pay_fen for r in results) == 10000  # 40 x 7.00 against 100.00: the account pays exactly what it had
    assert sum(r.psn_cash_pay_fen for r in results) == 40 * 700 - 10000
    assert sorted(r.balance_fen for r in results)[0] == 0 and all(r.balance_fen >= 0 for r in results)
    db = mesh.runtimes["settlement"].db
    assert await db.read(lambda c: store.entries_total(c, person_id)) == 0
    account = await db.read(lambda c: store.get_account(c, person_id))
    assert account.balance_fen == 0
    rows = await db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(store.settlements).where(store.settlements.c.person_id == person_id)))
    assert rows.scalar() == 40


@pytest.mark.parametrize("field", ["page_token"])
async def test_bad_page_token(mesh: Mesh, field: str) -> None:
    client = await mesh.start()
    _, card_no, _ = await insured(mesh, 8, category=identity_pb2.INSURED_CATEGORY_RESIDENT, fen=0, pin=False)
    await _refused(client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card_no, page_token="%%%"), ),
                   grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
