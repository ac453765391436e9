"""Settlement's reactions to identity, cards and loss events: its own projections."""

from __future__ import annotations

import time
from dataclasses import replace

from services.common import observability, pinseal
from services.common.bus import Subscription
from services.common.db import UnitOfWork
from services.common.ids import new_id
from services.settlement import domain, store
from services.settlement.api import merge_legacy
from services.settlement.domain import Account, CardProjection
from sscard.events.v1 import cards_events_pb2, envelope_pb2, identity_events_pb2, loss_events_pb2
from sscard.events.v1 import settlement_events_pb2 as events

CARD_EVENTS = (
    "applied", "ready", "handed_out", "activated", "replaced", "failed", "recalled", "locked", "unlocked",
    "cancelled", "pin_changed", "holder_changed", "transferred", "pin_counted",
)


async def person_changed(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: identity_events_pb2.PersonChanged) -> None:
    account = await store.get_account(uow.conn, event.person_id, for_update=True)
    if account is None:
        account = Account(event.person_id, "", event.region_code, event.insured_category, 0, citizen_id=event.citizen_id, name=event.name)
        await store.insert_account(uow.conn, account)
        # The IDENTITY and CARDS streams are not ordered with each other: the card may have been
        # activated (and its event handled, with no account to bind) before this person arrived.
        card = await store.active_card_of(uow.conn, event.person_id)
        if card is not None:
            account = await _activate(uow, account, card.card_no)
    elif (account.citizen_id, account.insured_category, account.name) != (event.citizen_id, event.insured_category, event.name):
        account = replace(account, citizen_id=event.citizen_id, insured_category=event.insured_category or account.insured_category,
                          name=event.name or account.name)
        await store.save_account(uow.conn, account)
    if event.status == "deceased" and not account.closed:
        # Death: the balance is paid out to the heirs and the account closed (销户).
        await _close(uow, account, "payout", "death")
        await uow.emit("account.paid_out", account.person_id, events.AccountPaidOut(
            person_id=account.person_id, card_no=account.card_no, amount_fen=account.balance_fen, reason="death",
        ))
    elif envelope.event_type == "person.transferred" and not account.closed:
        if event.transfer_scope == "out_of_province":
            # 账户迁移: the balance follows the person out of the province.
            await _close(uow, account, "move_out", f"to {event.region_code}")
            await uow.emit("account.moved_out", account.person_id, events.AccountMovedOut(
                person_id=account.person_id, amount_fen=account.balance_fen, to_region_code=event.region_code,
            ))
        else:
            await store.save_account(uow.conn, replace(account, region_code=event.region_code))


async def _close(uow: UnitOfWork, account: Account, kind: str, reference: str) -> None:
    """Empty the account through one journal entry and close it."""
    closed = replace(account, balance_fen=0, closed=True)
    await store.save_account(uow.conn, closed)
    if account.balance_fen:
        await store.add_entry(uow.conn, entry_id=new_id("ent"), account=closed, kind=kind, amount_fen=-account.balance_fen, reference=reference, at_us=uow.now_us)


async def card_changed(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: cards_events_pb2.CardChanged, seal_key: bytes) -> None:
    current = await store.get_card(uow.conn, event.card_no, for_update=True)
    pin_hash, pin_salt = pinseal.unseal(seal_key, event.card_no, event.pin_seal)
    # A new PIN or an unlock at the outlet clears the POS wrong-PIN count.
    fresh_pin = envelope.event_type in ("card.pin_changed", "card.unlocked")
    card = CardProjection(
        card_no=event.card_no,
        person_id=event.person_id,
        region_code=event.region_code,
        card_state=event.state,
        loss_state=current.loss_state if current else "none",
        pin_enabled=event.pin_enabled,
        pin_hash=pin_hash,
        pin_salt=pin_salt,
        replaced_by_card_no=event.replaced_by_card_no,
        # One counter per card: the cards service's count (wrong PINs on every path) or ours, whichever is further.
        wrong_pin_count=event.wrong_pin_count if fresh_pin or current is None else max(current.wrong_pin_count, event.wrong_pin_count),
    )
    await store.save_card(uow.conn, card)
    account = await store.get_account(uow.conn, event.person_id, for_update=True)
    if account is None or account.closed:
        return
    if event.state == "active" and (not account.card_no or account.card_no == event.replaces_card_no):
        await _activate(uow, account, event.card_no)
    elif event.state == "replaced" and account.card_no == event.card_no and event.replaced_by_card_no:
        await _bind(uow, account, event.replaced_by_card_no)


async def _activate(uow: UnitOfWork, account: Account, card_no: str) -> Account:
    """An activated card takes the account, and the holder's legacy account merges into it."""
    return await merge_legacy(uow, await _bind(uow, account, card_no))


async def _bind(uow: UnitOfWork, account: Account, card_no: str) -> Account:
    """The account follows the person's current card; history stays with the account."""
    old = account.card_no
    account = replace(account, card_no=card_no)
    await store.save_account(uow.conn, account)
    if old and old != card_no:
        await uow.emit("account.moved", account.person_id, events.AccountMoved(
            person_id=account.person_id, old_card_no=old, new_card_no=card_no, balance_fen=account.balance_fen,
        ))
        await uow.audit("account.moved", account.person_id, detail=f"{old}->{card_no}")
    return account


async def loss_changed(uow: UnitOfWork, env: envelope_pb2.Envelope, event: loss_events_pb2.CardLossChanged) -> None:
    current = await store.get_card(uow.conn, event.card_no, for_update=True) or CardProjection(
        card_no=event.card_no, person_id=event.person_id, region_code="", card_state="unknown"
    )
    lost = event.loss_state in ("temporary", "formal")
    await store.save_card(uow.conn, replace(current, loss_state=event.loss_state, loss_trace=env.traceparent[:64] if lost else ""))
    if event.loss_state in ("temporary", "formal") and event.reported_wall_us:
        halted = time.time_ns() // 1000
        if await store.record_halt(uow.conn, event.report_id, event.card_no, event.reported_wall_us, halted):
            observability.LOSS_REFUSAL_LATENCY.labels("settlement").observe(max(halted - event.reported_wall_us, 0) / 1e6)


async def refund_approved(uow: UnitOfWork, _env: envelope_pb2.Envelope, event: loss_events_pb2.RefundApproved) -> None:
    """Pay an approved loss-period refund into the personal account (once: the inbox guards it)."""
    account = await store.get_account(uow.conn, event.person_id, for_update=True)
    if account is None or account.closed:
        return
    account = domain.credit(account, event.amount_fen)
    await store.save_account(uow.conn, account)
    await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind="refund", amount_fen=event.amount_fen, reference=event.claim_id, at_us=uow.now_us)


def subscriptions(pin_seal_key: bytes) -> dict[str, list[Subscription]]:
    async def card_changed_sealed(uow: UnitOfWork, envelope: envelope_pb2.Envelope, event: cards_events_pb2.CardChanged) -> None:
        await card_changed(uow, envelope, event, pin_seal_key)

    return {
        "IDENTITY": [
            Subscription(f"sscard.identity.person.{what}", identity_events_pb2.PersonChanged, person_changed)
            for what in ("registered", "deceased", "changed", "transferred")
        ],
        "CARDS": [Subscription(f"sscard.cards.card.{what}", cards_events_pb2.CardChanged, card_changed_sealed) for what in CARD_EVENTS],
        "LOSS": [
            Subscription(f"sscard.loss.card.{what}", loss_events_pb2.CardLossChanged, loss_changed)
            for what in ("reported", "lifted", "expired")
        ] + [Subscription("sscard.loss.refund.approved", loss_events_pb2.RefundApproved, refund_approved, ordered=False)],
    }
