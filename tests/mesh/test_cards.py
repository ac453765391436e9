"""The card life over real gRPC, and each seed city's distinctive numbers at work."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import grpc

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from sscard.cards.v1 import cards_pb2 as cpb
from sscard.identity.v1 import identity_pb2 as ipb
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import Mesh
from tests.mesh.test_delivery import drained
from tests.mesh.test_story import PIN, balance, check, issue_card
from tests.service.test_ops_and_errors import _refused

async def person(mesh: Mesh, serial: int, region: str, name: str = "陈一", **fields) -> tuple[str, str]:  # noqa: ANN003
    citizen_id = make_citizen_id("110105", date(1975, 3, 3) + timedelta(days=serial), serial)
    registered = await mesh.client.identity.RegisterPerson(ipb.RegisterPersonRequest(
        request_id=f"reg-{serial}", citizen_id=citizen_id, name=name, region_code=region,
        insured_category=fields.pop("category", ipb.INSURED_CATEGORY_RESIDENT), **fields))
    return registered.person.person_id, citizen_id


async def apply(mesh: Mesh, person_id: str, rid: str, **fields) -> cpb.Card:  # noqa: ANN003
    response = await eventually(lambda: mesh.client.cards.ApplyForCard(cpb.ApplyForCardRequest(request_id=rid, person_id=person_id, **fields)), lambda r: True)
    return response.card


async def state_of(mesh: Mesh, card_no: str) -> int:
    return (await mesh.client.cards.GetCard(cpb.GetCardRequest(card_no=card_no))).card.state


async def test_beijing_reissue_is_ready_exactly_four_working_days_later_across_national_day(mesh: Mesh) -> None:
    mesh.clock.set(datetime(2026, 9, 1, 2, 0, tzinfo=timezone.utc))
    client = await mesh.start()
    person_id, citizen_id = await person(mesh, 1, "110000")
    card = await issue_card(mesh, person_id, citizen_id)
    mesh.clock.set(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc))  # Wednesday 10:00 in Beijing
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name="陈一"))
    cards = await eventually(lambda: client.cards.ListCards(cpb.ListCardsRequest(person_id=person_id)), lambda r: len(r.cards) == 2)
    reissue = cards.cards[0]
    assert reissue.ready_by == "2026-10-12" and reissue.fee_fen == 2000  # Oct 8, 9, 10 (adjusted Saturday), 12
    mesh.clock.set(datetime(2026, 10, 11, 2, 0, tzinfo=timezone.utc))
    await mesh.runtimes["cards"].clock.changed(0.3)
    assert await state_of(mesh, reissue.card_no) == cpb.CARD_STATE_APPLIED
    mesh.clock.set(datetime(2026, 10, 12, 1, 0, tzinfo=timezone.utc))
    await eventually(lambda: state_of(mesh, reissue.card_no), lambda s: s == cpb.CARD_STATE_READY)


async def test_guangxi_card_locks_on_the_sixth_wrong_pin_and_unlocks_at_the_outlet(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, citizen_id = await person(mesh, 2, "450100")
    card = await issue_card(mesh, person_id, citizen_id)
    for _ in range(5):
        await _refused(client.cards.VerifyPin(cpb.VerifyPinRequest(card_no=card.card_no, pin="000000")), grpc.StatusCode.PERMISSION_DENIED, "PIN_INCORRECT")
    await _refused(client.cards.VerifyPin(cpb.VerifyPinRequest(card_no=card.card_no, pin="000000")), grpc.StatusCode.FAILED_PRECONDITION, "PIN_LOCKED")
    await _refused(client.cards.VerifyPin(cpb.VerifyPinRequest(card_no=card.card_no, pin="123456")), grpc.StatusCode.FAILED_PRECONDITION, "PIN_LOCKED")
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "PIN_LOCKED")
    await _refused(client.cards.UnlockCard(cpb.UnlockCardRequest(request_id="u0", card_no=card.card_no)), grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    unlocked = await client.cards.UnlockCard(cpb.UnlockCardRequest(request_id="u1", card_no=card.card_no, citizen_id=citizen_id))
    assert unlocked.card.state == cpb.CARD_STATE_ACTIVE
    await client.cards.VerifyPin(cpb.VerifyPinRequest(card_no=card.card_no, pin="123456"))
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)


async def test_financial_zone_activation_activates_the_social_zone_only_where_the_region_says_so(mesh: Mesh) -> None:
    client = await mesh.start()
    for serial, region, allowed in [(3, "450100", True), (4, "110000", False)]:
        person_id, citizen_id = await person(mesh, serial, region)
        card = await apply(mesh, person_id, f"a{serial}")
        mesh.clock.set(datetime.combine(date.fromisoformat(card.ready_by), datetime.min.time(), timezone.utc) + timedelta(hours=1))
        await eventually(lambda: state_of(mesh, card.card_no), lambda s: s == cpb.CARD_STATE_READY)
        await client.cards.HandOutCard(cpb.HandOutCardRequest(request_id=f"h{serial}", card_no=card.card_no,
                                                              pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
        activate = client.cards.ActivateCard(cpb.ActivateCardRequest(request_id=f"x{serial}", card_no=card.card_no, channel=cpb.ACTIVATION_CHANNEL_FINANCIAL_ZONE))
        if allowed:
            assert (await activate).card.state == cpb.CARD_STATE_ACTIVE
        else:
            await _refused(activate, grpc.StatusCode.INVALID_ARGUMENT, "CHANNEL_NOT_ALLOWED")


async def test_shijiazhuang_and_dalian_use_the_national_defaults(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, _ = await person(mesh, 5, "130100")
    card = await apply(mesh, person_id, "sjz")
    today = mesh.clock.now().date()
    assert card.fee_fen == 0 and date.fromisoformat(card.ready_by) == mesh.policies.get("130100").calendar.add_working_days(today, 20)
    assert mesh.policies.get("210200").temporary_loss_validity == timedelta(days=7) and mesh.policies.get("210200").legacy_medical_card
    assert client is mesh.client


async def test_employer_batch_courier_failure_recall_and_progress(mesh: Mesh) -> None:
    client = await mesh.start()
    unit = (await client.identity.CreateEmployerUnit(ipb.CreateEmployerUnitRequest(
        request_id="u", name="济南示范有限公司", credit_code="91370100MA3C00001X", region_code="370100"))).unit
    await _refused(client.identity.CreateEmployerUnit(ipb.CreateEmployerUnitRequest(
        request_id="u2", name="重复", credit_code="91370100MA3C00001X", region_code="370100")), grpc.StatusCode.ALREADY_EXISTS, "UNIT_ALREADY_REGISTERED")
    staff = [await person(mesh, 10 + i, "370100", category=ipb.INSURED_CATEGORY_EMPLOYEE, employer_unit_id=unit.unit_id) for i in range(3)]
    outsider, _ = await person(mesh, 20, "370100")
    members = await client.identity.ListUnitMembers(ipb.ListUnitMembersRequest(unit_id=unit.unit_id))
    assert sorted(p.person_id for p in members.persons) == sorted(p for p, _ in staff)
    ids = [p for p, _ in staff] + [outsider]
    await drained(mesh)  # the cards service has heard of every new employee
    batch = await client.cards.ApplyForCardsBatch(cpb.ApplyForCardsBatchRequest(request_id="b1", employer_unit_id=unit.unit_id, person_ids=ids))
    assert [o.refusal_reason for o in batch.outcomes] == ["", "", "", "NOT_A_MEMBER"]
    assert len({o.card.pickup_certificate_no for o in batch.outcomes[:3]}) == 3
    assert all(o.card.channel == cpb.APPLICATION_CHANNEL_EMPLOYER_BATCH and o.card.employer_unit_id == unit.unit_id for o in batch.outcomes[:3])

    first = batch.outcomes[0].card
    failed = await client.cards.RecordProductionFailure(cpb.RecordProductionFailureRequest(
        request_id="pf", card_no=first.card_no, reason=cpb.FAILURE_REASON_PHOTO_NOT_COMPLIANT))
    assert failed.card.state == cpb.CARD_STATE_FAILED and failed.card.failure_reason == "PHOTO_NOT_COMPLIANT"
    courier = await apply(mesh, staff[0][0], "again", delivery=cpb.DELIVERY_COURIER, delivery_address="济南市历下区 1 号")
    assert courier.delivery == cpb.DELIVERY_COURIER
    await _refused(client.cards.ApplyForCard(cpb.ApplyForCardRequest(request_id="c2", person_id=staff[1][0])),
                   grpc.StatusCode.FAILED_PRECONDITION, "CARD_ALREADY_HELD")
    progress = await client.cards.QueryProgress(cpb.QueryProgressRequest(name="陈一", citizen_id=staff[0][1]))
    assert sorted(c.state for c in progress.cards) == [cpb.CARD_STATE_APPLIED, cpb.CARD_STATE_FAILED]
    await _refused(client.cards.QueryProgress(cpb.QueryProgressRequest(name="别人", citizen_id=staff[0][1])), grpc.StatusCode.NOT_FOUND, "NO_APPLICATION")

    issued = await issue_card(mesh, staff[1][0], staff[1][1], card=batch.outcomes[1].card)
    recalled = await client.cards.RecallCard(cpb.RecallCardRequest(request_id="r", card_no=issued.card_no, what_is_wrong="photo"))
    assert recalled.recalled.state == cpb.CARD_STATE_RECALLED
    assert recalled.remake.kind == cpb.APPLICATION_KIND_REMAKE and recalled.remake.fee_fen == 0


async def test_identity_change_fails_the_pending_application_and_transfers_reach_card_and_account(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, citizen_id = await person(mesh, 30, "110000")
    pending = await apply(mesh, person_id, "p")
    await client.identity.ChangeIdentity(ipb.ChangeIdentityRequest(request_id="n", person_id=person_id, new_name="陈壹"))
    await eventually(lambda: client.cards.GetCard(cpb.GetCardRequest(card_no=pending.card_no)),
                     lambda r: r.card.state == cpb.CARD_STATE_FAILED and r.card.failure_reason == "IDENTITY_CHANGED")
    card = await issue_card(mesh, person_id, citizen_id, card=await apply(mesh, person_id, "p2"))
    assert card.name == "陈壹"
    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id="al", person_id=person_id, amount_fen=8800, period="2026-11")), lambda r: True)
    await _refused(client.identity.TransferInsurance(ipb.TransferInsuranceRequest(transfer_certificate_ref="ZY-2026-0001", 
        request_id="t0", person_id=person_id, to_region_code="130100", scope=ipb.TRANSFER_SCOPE_WITHIN_PROVINCE)),
        grpc.StatusCode.INVALID_ARGUMENT, "SCOPE_MISMATCH")
    await client.identity.TransferInsurance(ipb.TransferInsuranceRequest(transfer_certificate_ref="ZY-2026-0001", 
        request_id="t1", person_id=person_id, to_region_code="130100", scope=ipb.TRANSFER_SCOPE_OUT_OF_PROVINCE))
    await eventually(lambda: state_of(mesh, card.card_no), lambda s: s == cpb.CARD_STATE_CANCELLED)
    await eventually(lambda: check(client, card.card_no), lambda r: r.refusal_reason == "CARD_CANCELLED")
    assert await balance(client, card.card_no) == 0
    entries = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card.card_no))
    assert [(e.kind, e.amount_fen) for e in entries.entries] == [(spb.ENTRY_KIND_MOVE_OUT, -8800), (spb.ENTRY_KIND_ALLOCATION, 8800)]


async def test_electronic_card_token_mirrors_the_physical_card(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, citizen_id = await person(mesh, 40, "370100")
    card = await issue_card(mesh, person_id, citizen_id)
    await client.cards.ChangePin(cpb.ChangePinRequest(request_id="pin", card_no=card.card_no, old_pin="123456", new_pin=PIN))
    token = await client.cards.IssueElectronicCardToken(cpb.IssueElectronicCardTokenRequest(card_no=card.card_no, pin=PIN))
    assert token.token.startswith("ecard.") and token.expires_at.seconds > 0
    await _refused(client.cards.IssueElectronicCardToken(cpb.IssueElectronicCardTokenRequest(card_no=card.card_no, pin="000000")),
                   grpc.StatusCode.PERMISSION_DENIED, "PIN_INCORRECT")
    await eventually(lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="l", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_APP, pin=PIN)), lambda r: True)
    failure = None
    for _ in range(200):
        try:
            await client.cards.IssueElectronicCardToken(cpb.IssueElectronicCardTokenRequest(card_no=card.card_no, pin=PIN))
        except grpc.aio.AioRpcError as error:
            failure = error
            break
        await mesh.runtimes["cards"].clock.changed(0.01)
    assert failure is not None and error_reason(failure) == "CARD_REPORTED_LOST"


async def test_the_first_settlement_on_a_handed_out_card_activates_it_and_later_ones_do_not_reach_cards(mesh: Mesh) -> None:
    """Settlement says "first swipe" (card.first_settled) only while it sees the card handed out; the
    cards service activates the card on it and consumes no other settlement."""
    from tests.harness import PHARMACY
    from tests.mesh.test_story import medicine

    client = await mesh.start()
    citizen_id = make_citizen_id("110105", date(1979, 3, 9), 41)
    person = (await client.identity.RegisterPerson(ipb.RegisterPersonRequest(
        request_id="fs-reg", citizen_id=citizen_id, name="王五", region_code="110000", insured_category=ipb.INSURED_CATEGORY_RESIDENT))).person
    card = (await eventually(lambda: client.cards.ApplyForCard(cpb.ApplyForCardRequest(
        request_id="fs-apply", person_id=person.person_id, channel=cpb.APPLICATION_CHANNEL_OUTLET)), lambda r: True)).card
    mesh.clock.set(mesh.clock.now() + timedelta(days=(date.fromisoformat(card.ready_by) - mesh.clock.now().date()).days))
    await eventually(lambda: client.cards.GetCard(cpb.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cpb.CARD_STATE_READY)
    await client.cards.HandOutCard(cpb.HandOutCardRequest(request_id="fs-hand", card_no=card.card_no,
                                                          pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    await eventually(lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id="fs-alloc", person_id=person.person_id, amount_fen=10000, period="2026-11")), lambda r: True)
    await eventually(lambda: check(client, card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    md = await PHARMACY.signed_in(client.settlement)
    for i in range(3):
        await client.settlement.Settle(spb.SettleRequest(msg_id=f"fs-{i}", card_no=card.card_no, care_type=spb.CARE_TYPE_PHARMACY,
                                                         items=medicine(100)), metadata=md)
    activated = await eventually(lambda: client.cards.GetCard(cpb.GetCardRequest(card_no=card.card_no)),
                                 lambda r: r.card.state == cpb.CARD_STATE_ACTIVE)
    assert activated.card.state == cpb.CARD_STATE_ACTIVE
    # Once settlement sees the card active, a settlement says nothing to cards.
    from services.settlement import store as settlement_store

    db = mesh.runtimes["settlement"].db
    await eventually(lambda: db.read(lambda c: settlement_store.get_card(c, card.card_no)), lambda view: view.card_state == "active")
    await client.settlement.Settle(spb.SettleRequest(msg_id="fs-after", card_no=card.card_no, care_type=spb.CARE_TYPE_PHARMACY,
                                                     items=medicine(100)), metadata=md)
    outbox = db.table("outbox")
    import sqlalchemy as sa

    subjects = await db.read(lambda c: _subjects(c, sa.select(outbox.c.subject).order_by(outbox.c.id)))
    assert subjects.count("sscard.settlement.card.settled") == 4
    assert 1 <= subjects.count("sscard.settlement.card.first_settled") <= 3
    assert subjects[-1] == "sscard.settlement.card.settled"


async def _subjects(conn, statement) -> list[str]:  # noqa: ANN001
    return list((await conn.execute(statement)).scalars())
