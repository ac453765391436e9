"""Hostile input to every RPC of every service: wrong values, huge strings, overflowing amounts,
unknown enums, missing fields. Nothing crashes, every refusal is precise, a refusal writes nothing.

Fast subset in `make test`; `make reliability` (SSCARD_RELIABILITY=full) sends 1,000 per RPC.
"""

from __future__ import annotations

import os
import random

import grpc
import pytest
from google.protobuf import descriptor

from services.common.server import error_reason
from tests.harness import PHARMACY, Mesh
from tests.service.test_ops_and_errors import _counts

PER_RPC = 1000 if os.environ.get("SSCARD_RELIABILITY") == "full" else 12
PRECISE = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS,
           grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}
# Calls that legitimately write on success even with arbitrary input (a sign-in needs no arguments).
WRITES_ON_SUCCESS = {"SignIn"}
STRINGS = ["", " ", "0", "-1", "X" * 5000, "💥" * 300, "\x00\x01\x02", "' OR 1=1 --", "11010519491231002X", "C0000000000",
           "2026-02-30", "99999999", "psn_" + "9" * 40, "../../etc/passwd", "%s%n", "999900", "123456"]
INTS = [0, -1, 1, -(2**63), 2**63 - 1, 2**31 - 1, -(2**31), 10**15, 7, 3520]


def random_message(cls, rng: random.Random, depth: int = 0):  # noqa: ANN001, ANN201
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if rng.random() < 0.3:
            continue  # missing field
        count = rng.choice([0, 1, 2, 600]) if field.is_repeated else 1
        values = [_value(field, rng, depth) for _ in range(min(count, 3) if count != 600 else 600)]
        values = [v for v in values if v is not None]
        if field.is_repeated:
            target = getattr(message, field.name)
            for value in values:
                target.add().CopyFrom(value) if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE else target.append(value)
        elif values:
            if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
                getattr(message, field.name).CopyFrom(values[0])
            else:
                setattr(message, field.name, values[0])
    return message


def _value(field, rng: random.Random, depth: int):  # noqa: ANN001, ANN202
    kind = field.type
    if kind == descriptor.FieldDescriptor.TYPE_STRING:
        return rng.choice(STRINGS) if rng.random() < 0.8 else "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40)))
    if kind in (descriptor.FieldDescriptor.TYPE_INT64, descriptor.FieldDescriptor.TYPE_SINT64, descriptor.FieldDescriptor.TYPE_SFIXED64):
        return rng.choice(INTS)
    if kind in (descriptor.FieldDescriptor.TYPE_INT32, descriptor.FieldDescriptor.TYPE_SINT32):
        return rng.choice([v for v in INTS if -(2**31) <= v < 2**31])
    if kind == descriptor.FieldDescriptor.TYPE_UINT64:
        return rng.choice([0, 1, 2**64 - 1])
    if kind == descriptor.FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == descriptor.FieldDescriptor.TYPE_ENUM:
        return rng.choice([0, 1, 2, 3, 99, -7])  # proto3 enums are open: unknown values arrive
    if kind == descriptor.FieldDescriptor.TYPE_MESSAGE and depth < 2:
        from google.protobuf import message_factory

        return random_message(message_factory.GetMessageClass(field.message_type), rng, depth + 1)
    return None


def _rpcs(client):  # noqa: ANN001, ANN202
    from google.protobuf import message_factory

    from sscard.cards.v1 import cards_pb2
    from sscard.identity.v1 import identity_pb2
    from sscard.loss.v1 import loss_pb2
    from sscard.settlement.v1 import settlement_pb2

    for module, stub in ((identity_pb2, client.identity), (cards_pb2, client.cards), (loss_pb2, client.loss), (settlement_pb2, client.settlement)):
        (service,) = module.DESCRIPTOR.services_by_name.values()
        for method in service.methods:
            yield method.name, getattr(stub, method.name), message_factory.GetMessageClass(method.input_type)


async def test_hostile_requests_get_precise_errors_and_write_nothing(mesh: Mesh) -> None:
    client = await mesh.start()
    seed = int(os.environ.get("SSCARD_SEED", random.randrange(10**6)))
    print(f"\nmalformed-input seed {seed} (replay with SSCARD_SEED={seed})")
    rng = random.Random(seed)
    signed = await PHARMACY.signed_in(client.settlement)
    await mesh.settle_idle()
    table = []
    for name, call, request_type in _rpcs(client):
        before = await _counts(mesh)
        ok = refused = 0
        for _ in range(PER_RPC):
            request = random_message(request_type, rng)
            metadata = rng.choice([signed, PHARMACY.metadata(), ()])
            try:
                await call(request, metadata=metadata, timeout=10)
                ok += 1
            except grpc.aio.AioRpcError as error:
                assert error.code() in PRECISE, f"{name} seed {seed}: {error.code().name} {error.details()} for {request!r:.300}"
                assert error_reason(error), f"{name} seed {seed}: no ErrorInfo reason for {error.code().name}"
                refused += 1
        await mesh.settle_idle()
        if ok == 0 or name in WRITES_ON_SUCCESS:
            after = await _counts(mesh)
            changed = {k for k in after if after[k] != before[k] and not k.endswith(".sign_ins")}
            assert not changed, f"{name} seed {seed}: refused requests wrote to {sorted(changed)}"
        table.append((name, PER_RPC, ok, refused))
    for runtime in mesh.runtimes.values():
        assert runtime.server.port and all(not t.done() for t in runtime._tasks), f"{runtime.service} lost a background task"
    print(f"{'rpc':<32} {'sent':>6} {'ok':>5} {'refused':>8}  (crashes: 0)")
    for row in table:
        print(f"{row[0]:<32} {row[1]:>6} {row[2]:>5} {row[3]:>8}")
    assert len(table) >= 40


@pytest.mark.parametrize("amount", [0, -1, -(2**63), 2**63 - 1])
async def test_amount_edges_on_allocation_are_refused(mesh: Mesh, amount: int) -> None:
    from sscard.settlement.v1 import settlement_pb2 as spb

    client = await mesh.start()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(request_id="a", person_id="psn_x", amount_fen=amount))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and error_reason(refused.value) == "INVALID_AMOUNT"
