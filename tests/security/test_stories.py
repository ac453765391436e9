"""The attacks of issue 14, each played against the real mesh and refused with a precise status
and reason, writing nothing. (Forged and unauthorised NATS publishes: tests/security/test_bus.py.)"""

from __future__ import annotations

import grpc

from services.client import CLERK, FUND, IVR_SYSTEM, citizen, institution
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import HOSPITAL, PHARMACY, Mesh, fund_of
from tests.mesh.test_loss import NAME, holder
from tests.mesh.test_story import PIN, balance
from tests.service.test_ops_and_errors import _counts, _refused

UNAUTH, DENIED, INVALID, PRECONDITION = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                                         grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
NONE = (("authorization", "Bearer "),)  # an explicit empty credential: the test client adds none
CLERK_WITHOUT_DOCUMENT = CLERK.with_document("")


async def _unchanged(mesh: Mesh, before: dict[str, int]) -> None:
    await mesh.settle_idle()
    after = await _counts(mesh)
    assert {k: v for k, v in after.items() if not k.endswith(".audit_log")} == {k: v for k, v in before.items() if not k.endswith(".audit_log")}


async def test_money_from_nothing_is_refused(mesh: Mesh) -> None:
    """ClaimLossPeriodRefund for 10^10 fen then ReviewLossPeriodRefund(approve, reviewer="nobody")."""
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=61)
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=NAME))
    await mesh.settle_idle()
    before = await _counts(mesh)
    day = mesh.clock.now().date().isoformat()
    claim = loss_pb2.ClaimLossPeriodRefundRequest(request_id="c", card_no=card_no, citizen_id=citizen_id, institution_code="H99990001",
                                                  receipt_no="R1", expense_date=day, amount_fen=10**10)
    await _refused(client.loss.ClaimLossPeriodRefund(claim, metadata=NONE), UNAUTH, "CREDENTIAL_MALFORMED")
    await _refused(client.loss.ClaimLossPeriodRefund(claim, metadata=citizen(person_id).metadata()), DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    await _refused(client.loss.ClaimLossPeriodRefund(claim, metadata=fund_of("110000").metadata()), DENIED, "NOT_YOUR_REGION")
    # No bill was refused on the lost card: there is nothing the holder paid that could be refunded.
    await _refused(client.loss.ClaimLossPeriodRefund(claim, metadata=fund_of("370100").metadata()), PRECONDITION, "EXPENSE_NOT_RECORDED")
    review = loss_pb2.ReviewLossPeriodRefundRequest(request_id="r", claim_id="rfd_any", approve=True, reviewer="nobody")
    await _refused(client.loss.ReviewLossPeriodRefund(review, metadata=CLERK.metadata()), DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    await _unchanged(mesh, before)

    # A real bill, refused on the lost card: the fund officer who files the claim cannot approve it.
    hospital = await HOSPITAL.signed_in(client.settlement)
    await _refused(client.settlement.Settle(spb.SettleRequest(msg_id="visit", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_OUTPATIENT,
                                                              items=[spb.LineItem(code="V", catalog_class=spb.CATALOG_CLASS_A, amount_fen=3000)]),
                                            metadata=hospital), PRECONDITION, "CARD_REPORTED_LOST")
    await mesh.settle_idle()
    filer = fund_of("370100")
    claim.amount_fen = 3000
    filed = (await client.loss.ClaimLossPeriodRefund(claim, metadata=filer.metadata())).claim
    review.claim_id = filed.claim_id
    await _refused(client.loss.ReviewLossPeriodRefund(review, metadata=filer.metadata()), DENIED, "REVIEWER_IS_FILER")
    state = await client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))
    assert [h.what for h in state.history].count("refund_approved") == 0


async def test_account_takeover_by_a_stranger_is_refused(mesh: Mesh) -> None:
    """ApplyForCard(REISSUE) for someone else -> GetCard's pickup certificate -> HandOutCard -> e-card with 123456."""
    client = await mesh.start()
    victim_id, victim_card, victim_citizen_id = await holder(mesh, serial=62, pin=False)
    thief_id, _, _ = await holder(mesh, serial=63)
    await mesh.settle_idle()
    before = await _counts(mesh)
    thief = citizen(thief_id).metadata()
    reissue = cards_pb2.ApplyForCardRequest(request_id="t1", person_id=victim_id, kind=cards_pb2.APPLICATION_KIND_REISSUE,
                                            channel=cards_pb2.APPLICATION_CHANNEL_ONLINE)
    await _refused(client.cards.ApplyForCard(reissue, metadata=NONE), UNAUTH, "CREDENTIAL_MALFORMED")
    await _refused(client.cards.ApplyForCard(reissue, metadata=thief), DENIED, "NOT_YOUR_RECORD")
    await _refused(client.cards.GetCard(cards_pb2.GetCardRequest(card_no=victim_card), metadata=thief), DENIED, "NOT_YOUR_RECORD")
    await _refused(client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=victim_id), metadata=thief), DENIED, "NOT_YOUR_RECORD")
    # Progress by name + ID number answers state and dates, never the pickup certificate.
    progress = await client.cards.QueryProgress(cards_pb2.QueryProgressRequest(name=NAME, citizen_id=victim_citizen_id), metadata=thief)
    assert progress.cards and all(not c.pickup_certificate_no and not c.person_id and not c.citizen_id for c in progress.cards)
    handout = cards_pb2.HandOutCardRequest(request_id="t2", card_no=victim_card, pickup_certificate_no="LK0", citizen_id=victim_citizen_id)
    await _refused(client.cards.HandOutCard(handout, metadata=thief), DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    await _refused(client.cards.HandOutCard(handout, metadata=CLERK_WITHOUT_DOCUMENT.metadata()), DENIED, "ID_DOCUMENT_NOT_CHECKED")
    token = cards_pb2.IssueElectronicCardTokenRequest(card_no=victim_card, pin="123456")
    await _refused(client.cards.IssueElectronicCardToken(token, metadata=thief), DENIED, "NOT_YOUR_RECORD")
    # Even the holder's own session: the initial PIN never mints an electronic card.
    await _refused(client.cards.IssueElectronicCardToken(token, metadata=citizen(victim_id).metadata()), PRECONDITION, "PIN_NOT_ENABLED")
    await _unchanged(mesh, before)


async def test_pin_guessing_cannot_be_reset_without_a_clerk(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=64)
    unlock = cards_pb2.UnlockCardRequest(request_id="u", card_no=card_no, citizen_id=citizen_id)
    for who, reason in ((citizen(person_id), "PRINCIPAL_KIND_NOT_ALLOWED"), (IVR_SYSTEM, "PRINCIPAL_KIND_NOT_ALLOWED"),
                        (PHARMACY, "PRINCIPAL_KIND_NOT_ALLOWED"), (CLERK_WITHOUT_DOCUMENT, "ID_DOCUMENT_NOT_CHECKED")):
        await _refused(client.cards.UnlockCard(unlock, metadata=who.metadata()), DENIED, reason)
        await _refused(client.cards.ResetPin(cards_pb2.ResetPinRequest(request_id="r", card_no=card_no, citizen_id=citizen_id),
                                             metadata=who.metadata()), DENIED, reason)
    await _refused(client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin="000000"), metadata=citizen(person_id).metadata()),
                   DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")


async def test_a_thief_cannot_lift_a_loss_or_record_life_events(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, card_no, citizen_id = await holder(mesh, serial=65)
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="l", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name=NAME))
    await mesh.settle_idle()
    before = await _counts(mesh)
    thief = citizen(person_id, "web").metadata()  # even a session bound to the holder: these are window acts
    acts = [
        (client.loss.LiftLoss, loss_pb2.LiftLossRequest(request_id="x1", card_no=card_no, citizen_id=citizen_id, channel=loss_pb2.LOSS_CHANNEL_WEBSITE)),
        (client.loss.ReportFormalLoss, loss_pb2.ReportFormalLossRequest(request_id="x2", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET,
                                                                        citizen_id=citizen_id, name=NAME)),
        (client.identity.RecordDeath, identity_pb2.RecordDeathRequest(request_id="x3", person_id=person_id, date_of_death="2026-11-01",
                                                                      death_certificate_ref="SW-1")),
        (client.identity.TransferInsurance, identity_pb2.TransferInsuranceRequest(request_id="x4", person_id=person_id, to_region_code="110000",
                                                                                  scope=identity_pb2.TRANSFER_SCOPE_OUT_OF_PROVINCE,
                                                                                  transfer_certificate_ref="ZY-1")),
        (client.identity.ChangeIdentity, identity_pb2.ChangeIdentityRequest(request_id="x5", person_id=person_id, new_name="别人")),
        (client.cards.RecallCard, cards_pb2.RecallCardRequest(request_id="x6", card_no=card_no, what_is_wrong="photo")),
    ]
    for call, request in acts:
        await _refused(call(request, metadata=NONE), UNAUTH, "CREDENTIAL_MALFORMED")
        if call is client.loss.LiftLoss:  # online only where the region lists it (Guangxi's WeChat); Jinan: not online
            await _refused(call(request, metadata=thief), INVALID, "CHANNEL_NOT_ALLOWED")
            await _refused(call(request, metadata=citizen("psn-stranger", "web").metadata()), DENIED, "NOT_YOUR_RECORD")
            continue
        await _refused(call(request, metadata=thief), DENIED, "PRINCIPAL_KIND_NOT_ALLOWED")
    # At the window: a death needs its certificate, every act the ID document checked.
    no_certificate = identity_pb2.RecordDeathRequest(request_id="x7", person_id=person_id, date_of_death="2026-11-01")
    await _refused(client.identity.RecordDeath(no_certificate, metadata=CLERK.metadata()), INVALID, "FIELD_REQUIRED")
    at_window = loss_pb2.LiftLossRequest(request_id="x8", card_no=card_no, citizen_id=citizen_id)
    await _refused(client.loss.LiftLoss(at_window, metadata=CLERK_WITHOUT_DOCUMENT.metadata()), DENIED, "ID_DOCUMENT_NOT_CHECKED")
    await _unchanged(mesh, before)


async def test_institutions_and_funds_stay_in_their_lane(mesh: Mesh) -> None:
    """Any institution reading any card's account with a card number; a Beijing fund crediting a Demo City account."""
    client = await mesh.start()
    person_id, card_no, _ = await holder(mesh, serial=66)  # insured in Jinan (370100)
    await mesh.settle_idle()
    funded = await balance(client, card_no)
    before = await _counts(mesh)
    stranger = institution("H99990002")
    await _refused(client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no), metadata=stranger.metadata()), DENIED, "CARD_NOT_PRESENTED")
    assert (await client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no), metadata=stranger.metadata())).balance_fen == 0
    await _refused(client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card_no), metadata=stranger.metadata()),
                   DENIED, "CARD_NOT_PRESENTED")
    await _refused(client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(request_id="bj", person_id=person_id, amount_fen=10**8),
                                                       metadata=fund_of("110000").metadata()), DENIED, "NOT_YOUR_REGION")
    await _refused(client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no), metadata=citizen("psn_someone_else").metadata()),
                   DENIED, "NOT_YOUR_RECORD")
    await _unchanged(mesh, before)
    # Presented with the holder's PIN, the institution sees it (and the read is on the record).
    seen = await client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no, pin=PIN), metadata=stranger.metadata())
    assert seen.balance_fen == funded
    assert (await client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no), metadata=fund_of("370100").metadata())).balance_fen == funded
    await _refused(client.settlement.GetAccount(spb.GetAccountRequest(card_no=card_no), metadata=FUND.metadata()), DENIED, "NOT_YOUR_REGION")


async def test_oversized_requests_are_refused_before_they_cost_memory(mesh: Mesh) -> None:
    client = await mesh.start()
    huge = identity_pb2.RegisterPersonRequest(request_id="big", name="x" * (2 * 1024 * 1024))
    await _refused(client.identity.RegisterPerson(huge), grpc.StatusCode.RESOURCE_EXHAUSTED, None)  # type: ignore[arg-type]


async def test_inputs_that_once_gave_internal_errors_get_precise_reasons(mesh: Mesh) -> None:
    import base64

    client = await mesh.start()
    token = base64.urlsafe_b64encode(str(2**63).encode()).decode()
    await _refused(client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no="C0000000000", page_token=token)),
                   INVALID, "INVALID_PAGE_TOKEN")
    signed = await HOSPITAL.signed_in(client.settlement)
    await _refused(client.settlement.Reconcile(spb.ReconcileRequest(business_date="9999-12-31"), metadata=signed), INVALID, "INVALID_DATE")
    await _refused(client.settlement.CheckCard(spb.CheckCardRequest(ecard_token="ecard.C0000000000.9999999999.签名"), metadata=signed),
                   INVALID, "ECARD_TOKEN_MALFORMED")


async def test_one_pin_counter_per_card_across_every_path(mesh: Mesh) -> None:
    """Wrong PINs at a pharmacy POS and on the IVR line add up: the region's limit (6) locks the
    card whichever path the guesses take, and only a clerk unlocks it."""
    client = await mesh.start()
    _, card_no, citizen_id = await holder(mesh, serial=67)
    pharmacy = await PHARMACY.signed_in(client.settlement)
    for attempt in range(3):
        await _refused(client.settlement.Settle(spb.SettleRequest(
            msg_id=f"guess-{attempt}", card_no=card_no, pin="000000", care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=pharmacy), DENIED, "PIN_INCORRECT")
    await mesh.settle_idle()
    ivr = IVR_SYSTEM.metadata()
    for _ in range(2):
        await _refused(client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin="000000"), metadata=ivr), DENIED, "PIN_INCORRECT")
    await _refused(client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin="000000"), metadata=ivr), PRECONDITION, "PIN_LOCKED")
    await mesh.settle_idle()
    # Locked everywhere, the right PIN included.
    await _refused(client.settlement.Settle(spb.SettleRequest(
        msg_id="right-pin", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY,
        items=[spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=pharmacy), PRECONDITION, "PIN_LOCKED")
    await _refused(client.cards.VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin=PIN), metadata=ivr), PRECONDITION, "PIN_LOCKED")
    await client.cards.UnlockCard(cards_pb2.UnlockCardRequest(request_id="unlock", card_no=card_no, citizen_id=citizen_id), metadata=CLERK.metadata())
    await mesh.settle_idle()
    paid = await client.settlement.Settle(spb.SettleRequest(
        msg_id="after-unlock", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY,
        items=[spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=pharmacy)
    assert paid.acct_pay_fen == 100
