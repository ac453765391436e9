"""The access matrix, generated from the proto descriptors and the policy table (access.py):
every RPC called anonymously, with an expired, a wrongly signed and a wrong-audience
credential, as every principal kind the table does not name, and as each kind it does."""

from __future__ import annotations

import time

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from google.protobuf import message_factory

from services.client import Credential
from services.common import trust
from services.common.access import ID_DOCUMENT_HEADER, POLICY
from services.common.pki import DEV_ISSUER
from services.common.server import error_reason
from services.common.trust import Signer, channel_credentials
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2
from tests.harness import Mesh, test_pki

SERVICES = {
    "identity": identity_pb2.DESCRIPTOR.services_by_name["IdentityService"],
    "cards": cards_pb2.DESCRIPTOR.services_by_name["CardService"],
    "loss": loss_pb2.DESCRIPTOR.services_by_name["LossService"],
    "settlement": settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"],
}
METHODS = [(service, f"/{descriptor.full_name}/{m.name}", m) for service, descriptor in SERVICES.items() for m in descriptor.methods]

# One principal of every kind, as an operator would issue it (institutions from the registry).
PRINCIPALS = {
    trust.INSTITUTION: Credential(trust.INSTITUTION, "H99990001", org="H99990001"),
    trust.FUND_STAFF: Credential(trust.FUND_STAFF, "f1", org="FUND999900", region="999900"),
    trust.CLERK: Credential(trust.CLERK, "c1", org="OUTLET-1", region="999900"),
    trust.HOTLINE: Credential(trust.HOTLINE, "h1", org="12333"),
    trust.IVR: Credential(trust.IVR, "ivr", org="12333"),
    trust.BANK: Credential(trust.BANK, "b1", org="BANK-1"),
    trust.FACTORY: Credential(trust.FACTORY, "f1", org="FACTORY-1"),
    trust.EMPLOYER: Credential(trust.EMPLOYER, "e1", org="unit_x"),
    trust.COMMUNITY: Credential(trust.COMMUNITY, "cm1", org="COMMUNITY-1"),
    trust.CITIZEN: Credential(trust.CITIZEN, "psn_x", person_id="psn_x", channel="app"),
    trust.SERVICE: Credential(trust.SERVICE, "gateway"),
}
AUTHN_REASONS = {"CREDENTIAL_MISSING", "CREDENTIAL_MALFORMED", "CREDENTIAL_INVALID", "CREDENTIAL_EXPIRED",
                 "CREDENTIAL_WRONG_AUDIENCE", "CREDENTIAL_LIFETIME_TOO_LONG", "PRINCIPAL_KIND_NOT_ALLOWED", "NO_POLICY"}


def test_every_rpc_has_a_policy_entry_and_every_entry_an_rpc() -> None:
    names = {name for _, name, _ in METHODS}
    assert names - POLICY.keys() == set(), "RPCs without a policy entry"
    assert POLICY.keys() - names == set(), "policy entries for RPCs that do not exist"
    for name, rules in POLICY.items():
        assert rules, f"{name}: an entry allows somebody"
        assert len({r.kind for r in rules}) == len(rules), f"{name}: one rule per principal kind"


_CHANNELS: dict[str, grpc.aio.Channel] = {}


def _raw_channel(mesh: Mesh, service: str) -> grpc.aio.Channel:
    """mTLS like any sscard client, but no credential added: each call carries exactly what the test gives."""
    target = f"127.0.0.1:{mesh.runtimes[service].port}"
    if target not in _CHANNELS:
        pki = test_pki()
        _CHANNELS[target] = grpc.aio.secure_channel(target, channel_credentials(pki / "ca.pem", pki / "client.pem", pki / "client.key"))
    return _CHANNELS[target]


async def _call(mesh: Mesh, service: str, name: str, method, metadata) -> grpc.aio.AioRpcError | None:  # noqa: ANN001
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    call = _raw_channel(mesh, service).unary_unary(name, request_serializer=request_class.SerializeToString,
                                                     response_deserializer=response_class.FromString)
    try:
        await call(request_class(), metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error
    return None


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + token),)


@pytest.mark.timeout(300)
async def test_access_matrix(mesh: Mesh) -> None:
    await mesh.start()
    issuer = Signer.from_file(test_pki() / "issuer.key", "dev-issuer-1", DEV_ISSUER)
    stranger = Signer(ed25519.Ed25519PrivateKey.generate(), "dev-issuer-1", DEV_ISSUER)
    failures: list[str] = []

    def expect(error: grpc.aio.AioRpcError | None, code: grpc.StatusCode, reason: str, what: str) -> None:
        got = (error.code(), error_reason(error)) if error else ("OK", None)
        if got != (code, reason):
            failures.append(f"{what}: expected {code.name}/{reason}, got {got}")

    for service, name, method in METHODS:
        short = name.rsplit("/", 1)[-1]
        expect(await _call(mesh, service, name, method, ()), grpc.StatusCode.UNAUTHENTICATED, "CREDENTIAL_MISSING", f"{short} anonymous")
        expired = issuer.mint(trust.CLERK, "c1", service, ttl_s=60, now=int(time.time()) - 3600, org="OUTLET-1")
        expect(await _call(mesh, service, name, method, _bearer(expired)), grpc.StatusCode.UNAUTHENTICATED, "CREDENTIAL_EXPIRED", f"{short} expired")
        forged = stranger.mint(trust.CLERK, "c1", service, org="OUTLET-1")
        expect(await _call(mesh, service, name, method, _bearer(forged)), grpc.StatusCode.UNAUTHENTICATED, "CREDENTIAL_INVALID", f"{short} forged")
        other = next(s for s in SERVICES if s != service)
        elsewhere = issuer.mint(trust.CLERK, "c1", other, org="OUTLET-1")
        expect(await _call(mesh, service, name, method, _bearer(elsewhere)), grpc.StatusCode.UNAUTHENTICATED,
               "CREDENTIAL_WRONG_AUDIENCE", f"{short} other audience")
        too_long = issuer.mint(trust.CLERK, "c1", service, ttl_s=24 * 3600, org="OUTLET-1")
        expect(await _call(mesh, service, name, method, _bearer(too_long)), grpc.StatusCode.UNAUTHENTICATED,
               "CREDENTIAL_LIFETIME_TOO_LONG", f"{short} day-long credential")
        allowed = {rule.kind for rule in POLICY[name]}
        for kind, credential in PRINCIPALS.items():
            metadata = credential.metadata() + ((ID_DOCUMENT_HEADER, "resident-id-card"),)
            error = await _call(mesh, service, name, method, metadata)
            if kind in allowed:
                # Past the door: what remains is about the (empty) request or the record, never who is calling.
                if error is not None and (error.code() == grpc.StatusCode.UNAUTHENTICATED or error_reason(error) in AUTHN_REASONS
                                          or error.code() == grpc.StatusCode.INTERNAL):
                    failures.append(f"{short} as {kind}: refused at the door: {error.code().name}/{error_reason(error)}")
            else:
                expect(error, grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_KIND_NOT_ALLOWED", f"{short} as {kind}")
    for channel in _CHANNELS.values():
        await channel.close()
    _CHANNELS.clear()
    assert not failures, "\n".join(failures)


async def test_health_and_reflection_need_no_credential(mesh: Mesh) -> None:
    client = await mesh.start()
    for service in SERVICES:
        assert await client.health(service) == "SERVING"


async def test_plaintext_and_certificateless_clients_are_refused(mesh: Mesh) -> None:
    """Every port is TLS with client certificates (mTLS): neither plaintext nor a client without
    a certificate gets a single RPC through, health included."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    client = await mesh.start()
    for target in client.targets.values():
        for channel in (grpc.aio.insecure_channel(target),
                        grpc.aio.secure_channel(target, grpc.ssl_channel_credentials((test_pki() / "ca.pem").read_bytes()))):
            try:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            finally:
                await channel.close()
