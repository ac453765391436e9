"""An event whose handler keeps failing is parked, listed for the operator, and replayed once fixed."""

from __future__ import annotations

from services import ops
from services.client import eventually
from services.common.bus import EventConsumer
from services.settlement import store as settlement_store
from sscard.loss.v1 import loss_pb2
from tests.harness import Mesh
from tests.mesh.test_delivery import drained, setup_card
from tests.mesh.test_story import check


async def test_poison_event_is_dead_lettered_then_replayed_exactly_once(mesh: Mesh, monkeypatch, capsys) -> None:  # noqa: ANN001
    mesh.overrides = {"max_deliver": 2}
    client = await mesh.start()
    card_no, citizen_id = await setup_card(mesh, serial=61)
    await drained(mesh)
    settlement = mesh.runtimes["settlement"]
    loss_consumer = next(c for c in settlement.consumers if c.name == "settlement-loss")
    subscription = loss_consumer.subscriptions["sscard.loss.card.reported"]
    healthy = subscription.handle

    async def broken(uow, envelope, payload):  # noqa: ANN001, ANN202
        raise RuntimeError("projection bug")

    loss_consumer.subscriptions["sscard.loss.card.reported"] = type(subscription)(subscription.subject, subscription.payload_type, broken)
    await client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id="t1", card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name="赵六"))
    dead = settlement.db.table("dead_letters")

    async def parked() -> list:
        return list(await settlement.db.read(lambda c: c.execute(dead.select())))

    rows = await eventually(parked, lambda r: len(r) == 1)
    assert rows[0].consumer == "settlement-loss" and "projection bug" in rows[0].error
    # The effect never happened: the projection still sees no loss. (CheckCard may already refuse the
    # card: with the loss feed stuck past the bound, settlement asks the loss service itself.)
    projection = await settlement.db.read(lambda c: settlement_store.get_card(c, card_no))
    assert projection.loss_state == "none"

    await ops.dead_letters("settlement", mesh.settings("settlement"))
    assert rows[0].event_id in capsys.readouterr().out

    loss_consumer.subscriptions["sscard.loss.card.reported"] = subscription  # the fix is deployed
    assert healthy is subscription.handle
    replayer = EventConsumer(settlement.db, settlement.js, loss_consumer.name, loss_consumer.stream, list(loss_consumer.subscriptions.values()))
    assert await replayer.replay(rows[0].event_id) is True
    assert await replayer.replay(rows[0].event_id) is False  # a second replay changes nothing
    assert (await check(client, card_no)).refusal_reason == "CARD_REPORTED_LOST"
    assert (await parked())[0].replayed_us is not None
