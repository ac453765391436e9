"""Each service over real gRPC: standard ops (health, reflection) and precise errors that write nothing."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY, Mesh

SERVICE_NAMES = {
    "identity": "sscard.identity.v1.IdentityService",
    "cards": "sscard.cards.v1.CardService",
    "loss": "sscard.loss.v1.LossService",
    "settlement": "sscard.settlement.v1.SettlementService",
}


async def test_every_service_is_serving_and_reflects_its_services(mesh: Mesh) -> None:
    client = await mesh.start()
    for service, full_name in SERVICE_NAMES.items():
        channel = client.channels[service]
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", full_name):
            response = await health.Check(health_pb2.HealthCheckRequest(service=name))
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = [r async for r in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))]
        listed = {s.name for s in responses[0].list_services_response.service}
        assert {full_name, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed


async def _counts(mesh: Mesh) -> dict[str, int]:
    """Rows in every table of every service: 'writes nothing' means this does not change."""
    counts: dict[str, int] = {}
    for service, runtime in mesh.runtimes.items():
        for name, table in runtime.db.metadata.tables.items():
            counts[f"{service}.{name}"] = await runtime.db.read(lambda c, t=table: _count(c, t))
    return counts


async def _count(conn, table) -> int:  # noqa: ANN001
    return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def _refused(call, code: grpc.StatusCode, reason: str) -> None:  # noqa: ANN001
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value.details()
    assert error_reason(failure.value) == reason, failure.value.details()


async def test_malformed_requests_get_precise_errors_and_write_nothing(mesh: Mesh) -> None:
    client = await mesh.start()
    valid_id = make_citizen_id("370102", date(1990, 3, 7), 456)
    person = (await client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id="r1", citizen_id=valid_id, name="李四", region_code="370100",
        insured_category=identity_pb2.INSURED_CATEGORY_FLEXIBLE))).person
    signed = await PHARMACY.signed_in(client.settlement)
    await mesh.settle_idle()
    before = await _counts(mesh)
    bad_id = valid_id[:-1] + ("0" if valid_id[-1] != "0" else "1")
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    cases = [
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="r2", citizen_id=bad_id, name="王五", region_code="370100",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), invalid, "INVALID_CITIZEN_ID"),
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="r3", citizen_id="12345", name="王五", region_code="370100",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), invalid, "INVALID_CITIZEN_ID"),
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="r4", citizen_id=make_citizen_id("370102", date(1991, 1, 1), 1), name="",
            region_code="370100", insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), invalid, "FIELD_REQUIRED"),
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            citizen_id=make_citizen_id("370102", date(1991, 1, 1), 1), name="王五", region_code="370100",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), invalid, "REQUEST_ID_REQUIRED"),
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="r5", citizen_id=make_citizen_id("370102", date(1991, 1, 1), 1), name="王五", region_code="000000",
            insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), invalid, "UNKNOWN_REGION"),
        (client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
            request_id="r1-again", citizen_id=valid_id, name="李四", region_code="370100",
            insured_category=identity_pb2.INSURED_CATEGORY_FLEXIBLE)), grpc.StatusCode.ALREADY_EXISTS, "PERSON_ALREADY_REGISTERED"),
        (client.identity.GetPerson(identity_pb2.GetPersonRequest(person_id="psn_nobody")), grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND"),
        (client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(request_id="a1", person_id="psn_nobody")), grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND"),
        (client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(request_id="a2")), invalid, "FIELD_REQUIRED"),
        (client.cards.GetCard(cards_pb2.GetCardRequest(card_no="C0000000000")), grpc.StatusCode.NOT_FOUND, "CARD_NOT_FOUND"),
        (client.cards.ChangePin(cards_pb2.ChangePinRequest(request_id="p1", card_no="C0000000000", old_pin="123456", new_pin="12ab56")), invalid, "INVALID_PIN_FORMAT"),
        (client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
            request_id="l1", card_no="C0000000000", channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=valid_id, name="李四")),
         grpc.StatusCode.NOT_FOUND, "CARD_NOT_FOUND"),
        (client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(request_id="l2", card_no="C0000000000")), invalid, "FIELD_REQUIRED"),
        (client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id="al1", person_id=person.person_id, amount_fen=0)), invalid, "INVALID_AMOUNT"),
        (client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id="al2", person_id=person.person_id, amount_fen=-500)), invalid, "INVALID_AMOUNT"),
        (client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id="al3", person_id=person.person_id, amount_fen=500), metadata=(("authorization", "Bearer x.y.z"),)),
         grpc.StatusCode.UNAUTHENTICATED, "CREDENTIAL_MALFORMED"),
        (client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id="al4", person_id=person.person_id, amount_fen=500), metadata=PHARMACY.metadata()),
         grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_KIND_NOT_ALLOWED"),
        (client.settlement.Settle(spb.SettleRequest(
            msg_id="m1", card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(catalog_class=spb.CATALOG_CLASS_A, amount_fen=-1)]), metadata=PHARMACY.metadata()), invalid, "INVALID_AMOUNT"),
        (client.settlement.Settle(spb.SettleRequest(
            msg_id="m2", card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY), metadata=PHARMACY.metadata()), invalid, "FIELD_REQUIRED"),
        (client.settlement.Settle(spb.SettleRequest(
            msg_id="m3", card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=signed),
         grpc.StatusCode.NOT_FOUND, "CARD_NOT_FOUND"),
        (client.settlement.Settle(spb.SettleRequest(
            msg_id="m4", card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=PHARMACY.metadata()),
         grpc.StatusCode.FAILED_PRECONDITION, "NOT_SIGNED_IN"),
        (client.settlement.Settle(spb.SettleRequest(
            msg_id="m5", card_no="C0000000000", care_type=spb.CARE_TYPE_INPATIENT,
            items=[spb.LineItem(catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=signed),
         grpc.StatusCode.PERMISSION_DENIED, "CARE_TYPE_NOT_ALLOWED"),
        (client.settlement.Settle(spb.SettleRequest(
            card_no="C0000000000", care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(catalog_class=spb.CATALOG_CLASS_A, amount_fen=100)]), metadata=PHARMACY.metadata()), invalid, "FIELD_REQUIRED"),
    ]
    for call, code, reason in cases:
        await _refused(call, code, reason)
    await mesh.settle_idle()
    assert await _counts(mesh) == before
