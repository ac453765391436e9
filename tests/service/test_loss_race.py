"""The expiry scheduler and a formal report acting on one card at the same moment: the formal loss
stays. Without the row lock, the scheduler read the temporary report as due, waited for the formal
report's commit, and then wrote its lapse over it — a card reported formally lost would settle again."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from services.loss import store
from services.loss.api import LossCore
from services.loss.domain import LossState
from sscard.loss.v1 import loss_pb2
from tests.harness import Mesh
from tests.service.test_settlement import insured


async def test_a_formal_report_committed_while_the_scheduler_lapses_the_temporary_one_stays(mesh: Mesh) -> None:
    client = await mesh.start()
    _, card_no, citizen_id = await insured(mesh, 1902)
    await mesh.settle_idle()
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="race-1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="吴九"))
    runtime = mesh.runtimes["loss"]
    held, may_commit = asyncio.Event(), asyncio.Event()

    async def formal(uow):  # noqa: ANN001, ANN202 - a formal report, its transaction held open after its write
        current = await store.get_loss(uow.conn, card_no, for_update=True)
        await store.save_loss(uow.conn, replace(current, state=LossState.FORMAL, expires_at=None))
        held.set()
        await may_commit.wait()

    report = asyncio.create_task(runtime.db.transact(formal))
    await held.wait()
    mesh.clock.advance(timedelta(days=40))  # the temporary report is long due
    lapse = asyncio.create_task(LossCore(runtime).expire_due())
    await asyncio.sleep(0.3)
    may_commit.set()
    await asyncio.gather(report, lapse)
    loss = await runtime.db.read(lambda c: store.get_loss(c, card_no))
    assert loss.state is LossState.FORMAL, "the scheduler's lapse overwrote the formal report"
