"""A death and a transfer recorded for one person at the same moment: the death stays. Without the
row lock, the transfer read the person alive, waited for the death's commit, and wrote them back alive
in the new region."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import grpc
import pytest

from services.common.server import error_reason
from services.identity import store
from services.identity.domain import PersonStatus
from sscard.identity.v1 import identity_pb2 as ipb
from tests.harness import Mesh
from tests.service.test_settlement import insured


async def test_a_transfer_racing_a_recorded_death_does_not_bring_the_person_back(mesh: Mesh) -> None:
    client = await mesh.start()
    person_id, _, _ = await insured(mesh, 1903)
    runtime = mesh.runtimes["identity"]
    held, may_commit = asyncio.Event(), asyncio.Event()

    async def death(uow):  # noqa: ANN001, ANN202 - a death recorded, its transaction held open after its write
        person = await store.find_person(uow.conn, person_id=person_id, for_update=True)
        await store.update_person(uow.conn, replace(person, status=PersonStatus.DECEASED))
        held.set()
        await may_commit.wait()

    recorded = asyncio.create_task(runtime.db.transact(death))
    await held.wait()
    async def transfer_out():  # noqa: ANN202
        return await client.identity.TransferInsurance(ipb.TransferInsuranceRequest(
            request_id="race-t", person_id=person_id, to_region_code="130100", scope=ipb.TRANSFER_SCOPE_OUT_OF_PROVINCE,
            transfer_certificate_ref="ZY-RACE-1"))

    transfer = asyncio.create_task(transfer_out())
    await asyncio.sleep(0.3)
    may_commit.set()
    await recorded
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await transfer
    assert error_reason(refused.value) == "PERSON_DECEASED"
    person = await runtime.db.read(lambda c: store.find_person(c, person_id=person_id))
    assert person.status is PersonStatus.DECEASED and person.region_code == "999900"
