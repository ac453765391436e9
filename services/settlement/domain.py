"""Settlement rules: may this card settle, and posting to the personal account.

Pure: no I/O. The bill split itself (pooled fund / account / cash) is the
benefit engine in benefits.py.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace

from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied


@dataclass(frozen=True)
class CardProjection:
    """Settlement's own, event-fed view of a card: decides locally, no call on the hot path."""

    card_no: str
    person_id: str
    region_code: str
    card_state: str  # as cards says: handed_out, active, locked, replaced, cancelled, ...
    loss_state: str = "none"  # as loss says: none, temporary, formal
    pin_enabled: bool = False
    pin_hash: str = ""
    pin_salt: str = ""
    replaced_by_card_no: str = ""


@dataclass(frozen=True)
class Account:
    """医保个人账户: one per person, bound to the person's current card."""

    person_id: str
    card_no: str
    region_code: str
    insured_category: str
    balance_fen: int
    closed: bool = False


SETTLEABLE_STATES = {"handed_out", "active"}


def refusal_reason(card: CardProjection) -> str | None:
    """Why a card may not settle now, most final reason first; None if it may."""
    if card.card_state == "replaced":
        return "CARD_REPLACED"
    if card.card_state == "cancelled":
        return "CARD_CANCELLED"
    if card.loss_state in ("temporary", "formal"):
        return "CARD_REPORTED_LOST"
    if card.card_state == "locked":
        return "PIN_LOCKED"
    if card.card_state not in SETTLEABLE_STATES:
        return "CARD_NOT_ACTIVE"
    return None


def check_pin(card: CardProjection, pin: str, pepper: bytes) -> None:
    """Once the holder enabled a PIN, every card transaction needs it."""
    if not card.pin_enabled:
        return
    if not pin:
        raise PermissionDenied("PIN_REQUIRED", "this card needs its PIN")
    digest = hmac.new(pepper, (card.pin_salt + pin).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(digest, card.pin_hash):
        raise PermissionDenied("PIN_INCORRECT", "wrong PIN")


def check_amount(amount_fen: int, field: str) -> None:
    if amount_fen <= 0:
        raise InvalidArgument("INVALID_AMOUNT", f"{field} must be a positive number of fen", field=field)
    if amount_fen > 10**12:
        raise InvalidArgument("INVALID_AMOUNT", f"{field} is implausibly large", field=field)


def credit(account: Account, amount_fen: int) -> Account:
    """拨付 and refunds: the only ways money comes in."""
    if account.closed:
        raise FailedPrecondition("ACCOUNT_CLOSED", "the personal account is closed")
    check_amount(amount_fen, "amount_fen")
    return replace(account, balance_fen=account.balance_fen + amount_fen)


def debit(account: Account, amount_fen: int) -> Account:
    """Settlement debits never take the account below zero."""
    if account.closed:
        raise FailedPrecondition("ACCOUNT_CLOSED", "the personal account is closed")
    if amount_fen < 0:
        raise InvalidArgument("INVALID_AMOUNT", "debit must not be negative")
    if amount_fen > account.balance_fen:
        raise FailedPrecondition("INSUFFICIENT_BALANCE", "the personal account balance is too low")
    return replace(account, balance_fen=account.balance_fen - amount_fen)


def move_to_card(account: Account, new_card_no: str) -> Account:
    """A reissued card takes over the personal account (balance and history)."""
    return replace(account, card_no=new_card_no)
