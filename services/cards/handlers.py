"""Cards' reactions to identity and loss events."""

from __future__ import annotations

from datetime import date

from services.cards import domain, store
from services.cards.api import CardsCore
from services.cards.domain import ApplicationKind, CardState, LossState, PersonView
from services.common.bus import Subscription
from services.common.db import UnitOfWork
from sscard.events.v1 import envelope_pb2, identity_events_pb2, loss_events_pb2, settlement_events_pb2


def subscriptions(core: CardsCore) -> dict[str, list[Subscription]]:
    async def person_changed(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: identity_events_pb2.PersonChanged) -> None:
        person = PersonView(
            person_id=event.person_id,
            citizen_id=event.citizen_id,
            name=event.name,
            birth_date=date.fromisoformat(event.birth_date),
            region_code=event.region_code,
            deceased=event.status == "deceased",
            employer_unit_id=event.employer_unit_id,
        )
        await store.upsert_person(uow.conn, person)
        if envelope.event_type == "person.changed":
            for card in await store.person_cards(uow.conn, person.person_id):
                if card.state in domain.HELD_STATES:
                    changed = domain.change_holder_data(card, person)
                    await store.save_card(uow.conn, changed)
                    await core.publish(uow, changed, "failed" if changed.state is CardState.FAILED else "holder_changed")
        if envelope.event_type == "person.transferred":
            within = event.transfer_scope == "within_province"
            for card in await store.person_cards(uow.conn, person.person_id):
                if card.state in domain.HELD_STATES:
                    moved = domain.transfer(card, event.region_code, within)
                    await store.save_card(uow.conn, moved)
                    await core.publish(uow, moved, "transferred" if within else "cancelled")
        if person.deceased:
            for card in await store.person_cards(uow.conn, person.person_id):
                if card.state in domain.HELD_STATES:
                    card = domain.cancel(card, "PERSON_DECEASED")
                    await store.save_card(uow.conn, card)
                    await core.publish(uow, card, "cancelled")

    async def loss_changed(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: loss_events_pb2.CardLossChanged) -> None:
        card = await store.get_card(uow.conn, event.card_no, for_update=True)
        if card is None:
            return
        await store.save_card(uow.conn, domain.with_loss_state(card, LossState(event.loss_state)))
        # A formal loss goes together with the reissue application (补卡), once.
        if event.loss_state == LossState.FORMAL.value and card.state in domain.IN_HAND_STATES:
            if await store.card_replacing(uow.conn, card.card_no) is None:
                new = await core.apply(uow, card.person_id, ApplicationKind.REISSUE, domain.reissue_channel(event.channel), replaces=card.card_no)
                await uow.audit("card.reissue_applied", new.card_no, channel="loss", detail=f"formal loss {event.report_id}")

    async def settled(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: settlement_events_pb2.Settled) -> None:
        # The first settlement at a designated institution activates the social zone.
        card = await store.get_card(uow.conn, event.card_no, for_update=True)
        if card is not None and card.state is CardState.HANDED_OUT:
            await core.activate(uow, card, f"institution:{event.institution_code}")

    async def pin_locked(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: settlement_events_pb2.PinLocked) -> None:
        # Too many wrong PINs at POS terminals: the card locks until the holder unlocks it at an outlet.
        card = await store.get_card(uow.conn, event.card_no, for_update=True)
        if card is not None and card.state in (CardState.ACTIVE, CardState.HANDED_OUT):
            card = domain.lock(card)
            await store.save_card(uow.conn, card)
            await core.publish(uow, card, "locked")
            await uow.audit("card.locked", card.card_no, channel=f"institution:{event.institution_code}", detail="too many wrong PINs at POS")

    async def pin_attempted(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: settlement_events_pb2.PinAttempted) -> None:
        card = await store.get_card(uow.conn, event.card_no, for_update=True)
        if card is None:
            return
        updated = domain.count_pin_attempt(card, event.correct, core.rt.policies.get(card.region_code).pin_max_attempts)
        if updated == card:
            return
        await store.save_card(uow.conn, updated)
        if updated.state is CardState.LOCKED and card.state is not CardState.LOCKED:
            await core.publish(uow, updated, "locked")
            await uow.audit("card.locked", card.card_no, channel=f"institution:{event.institution_code}", detail="too many wrong PINs")
        else:
            await core.publish(uow, updated, "pin_counted")

    identity = [
        Subscription(f"sscard.identity.person.{what}", identity_events_pb2.PersonChanged, person_changed)
        for what in ("registered", "deceased", "changed", "transferred")
    ]
    loss = [
        Subscription(f"sscard.loss.card.{what}", loss_events_pb2.CardLossChanged, loss_changed)
        for what in ("reported", "lifted", "expired")
    ]
    settlement = [
        Subscription("sscard.settlement.card.first_settled", settlement_events_pb2.Settled, settled, ordered=False),
        Subscription("sscard.settlement.card.pin_locked", settlement_events_pb2.PinLocked, pin_locked, ordered=False),
        Subscription("sscard.settlement.card.pin_attempted", settlement_events_pb2.PinAttempted, pin_attempted, ordered=False),
    ]
    return {"IDENTITY": identity, "LOSS": loss, "SETTLEMENT": settlement}
