"""Seed fidelity (issue 16): rules of the city guides that failed across the mesh."""

from __future__ import annotations

from datetime import date, timedelta

from services.client import eventually
from services.common.citizen_id import make_citizen_id
from services.loss import store as loss_store
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from tests.harness import Mesh

NAME = "周八"


async def register(mesh: Mesh, citizen_id: str, region: str, rid: str) -> identity_pb2.Person:
    return (await mesh.client.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=rid, citizen_id=citizen_id, name=NAME, region_code=region,
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT))).person


async def apply(mesh: Mesh, person_id: str, rid: str, channel: int = cards_pb2.APPLICATION_CHANNEL_OUTLET) -> cards_pb2.Card:
    return (await eventually(lambda: mesh.client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id=rid, person_id=person_id, channel=channel)), lambda r: True)).card


async def hand_out(mesh: Mesh, card: cards_pb2.Card, citizen_id: str) -> None:
    """Production completes on the clock, the holder picks the card up, and does not activate it."""
    client = mesh.client
    mesh.clock.set(mesh.clock.now() + timedelta(days=(date.fromisoformat(card.ready_by) - mesh.clock.now().date()).days + 1))
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)),
                     lambda r: r.card.state == cards_pb2.CARD_STATE_READY)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id=f"handout-{card.card_no}", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    loss_db = mesh.runtimes["loss"].db
    await eventually(lambda: loss_db.read(lambda c: loss_store.get_card(c, card.card_no)),
                     lambda view: view is not None and view.state == "handed_out")


async def dead_letters(mesh: Mesh, service: str) -> list:
    db = mesh.runtimes[service].db
    return list(await db.read(lambda c: c.execute(db.table("dead_letters").select())))


async def test_formal_loss_of_a_card_handed_out_but_never_activated_creates_the_reissue(mesh: Mesh) -> None:
    # Seed 002: cards are "issued first, used later"; a holder can lose one before its first use.
    mesh.overrides = {"max_deliver": 2}
    client = await mesh.start()
    citizen_id = make_citizen_id("130102", date(1990, 2, 2), 41)
    person = await register(mesh, citizen_id, "130100", "reg-41")
    card = await apply(mesh, person.person_id, "apply-41")
    await hand_out(mesh, card, citizen_id)
    await client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id="f41", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=NAME))
    listed = await eventually(lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id)),
                              lambda r: len(r.cards) == 2)
    reissue = next(c for c in listed.cards if c.card_no != card.card_no)
    assert reissue.kind == cards_pb2.APPLICATION_KIND_REISSUE and reissue.replaces_card_no == card.card_no
    assert reissue.fee_fen == mesh.policies.get("130100").replacement_fee_fen
    await mesh.settle_idle()
    assert await dead_letters(mesh, "cards") == []
    assert len((await client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id))).cards) == 2
