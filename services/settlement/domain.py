"""Settlement rules: may this card settle, and posting to the personal account.

Pure: no I/O. The bill split itself (pooled fund / account / cash) is the
benefit engine in benefits.py.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import date

from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied, SscardError


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
    wrong_pin_count: int = 0
    loss_trace: str = ""  # traceparent of the loss report (empty while tracing is off)


@dataclass(frozen=True)
class Account:
    """医保个人账户: one per person, bound to the person's current card."""

    person_id: str
    card_no: str
    region_code: str
    insured_category: str
    balance_fen: int
    closed: bool = False
    citizen_id: str = ""
    name: str = ""


# "legacy": an old medical insurance card (医保卡) keeps working until the new card's social zone is
# activated (seeds 003, 004: 社保卡未启用前,原医保卡正常使用); the activation moves its balance and
# makes it "replaced".
LEGACY = "legacy"
SETTLEABLE_STATES = {"handed_out", "active", LEGACY}


def refusal_reason(card: CardProjection, max_pin_attempts: int) -> str | None:
    """Why a card may not settle now, most final reason first; None if it may."""
    if card.card_state == "replaced":
        return "CARD_REPLACED"
    if card.card_state == "cancelled":
        return "CARD_CANCELLED"
    if card.loss_state in ("temporary", "formal"):
        return "CARD_REPORTED_LOST"
    if card.card_state == "locked" or card.wrong_pin_count >= max_pin_attempts:
        return "PIN_LOCKED"
    if card.card_state not in SETTLEABLE_STATES:
        return "CARD_NOT_ACTIVE"
    return None


def card_state_refusal(card_state: str) -> str | None:
    """Why a card in this state (as the cards service says it) may not settle, final states first."""
    return refusal_reason(CardProjection(card_no="", person_id="", region_code="", card_state=card_state), max_pin_attempts=1 << 30)


def holder_refusal(deceased: bool, home_province: str, current_province: str) -> str | None:
    """Death (销户, payout to the heirs) and a move out of the province (账户迁移) close the
    personal account: nothing settles on it again."""
    if deceased or home_province != current_province:
        return "ACCOUNT_CLOSED"
    return None


def legacy_card(card_no: str, person_id: str, region_code: str) -> CardProjection:
    """The old medical card as settlement sees it until the new card's activation."""
    return CardProjection(card_no=card_no, person_id=person_id, region_code=region_code, card_state=LEGACY)


def legacy_replaced(card: CardProjection, new_card_no: str) -> CardProjection:
    """The new card's activation cancels the old medical card automatically (原医保卡自动注销)."""
    return replace(card, card_state="replaced", replaced_by_card_no=new_card_no)


def on_legacy_balance(account: Account, legacy_card_no: str, legacy_balance_fen: int) -> Account:
    """A settlement on the old card draws on its own balance: the account as the old card carries it."""
    return replace(account, card_no=legacy_card_no, balance_fen=legacy_balance_fen)


def pin_attempt(card: CardProjection, pin: str, pepper: bytes, max_attempts: int) -> tuple[CardProjection, SscardError | None]:
    """Check the PIN at the POS. Once the holder enabled a PIN every card transaction needs it;
    wrong PINs count, and the region's N-th consecutive one locks the card. Returns the updated
    projection and the refusal (None when the PIN is right or not needed)."""
    if not card.pin_enabled:
        return card, None
    if not pin:
        return card, PermissionDenied("PIN_REQUIRED", "this card needs its PIN")
    digest = hmac.new(pepper, (card.pin_salt + pin).encode(), hashlib.sha256).hexdigest()
    if hmac.compare_digest(digest, card.pin_hash):
        return (replace(card, wrong_pin_count=0) if card.wrong_pin_count else card), None
    count = card.wrong_pin_count + 1
    if count >= max_attempts:
        return replace(card, wrong_pin_count=count), FailedPrecondition("PIN_LOCKED", "too many wrong PINs: the card is locked; unlock at an outlet with ID")
    left = max_attempts - count
    return replace(card, wrong_pin_count=count), PermissionDenied("PIN_INCORRECT", f"wrong PIN; {left} attempt(s) left", attempts_left=str(left))


@dataclass(frozen=True)
class Filing:
    """异地就医备案: inpatient care outside the home region, approved by the home region."""

    filing_id: str
    person_id: str
    treatment_region_code: str
    valid_from: date
    valid_to: date

    def covers(self, region_code: str, day: date) -> bool:
        return self.treatment_region_code == region_code and self.valid_from <= day <= self.valid_to


def check_out_of_region(home_region: str, treatment_region: str, care_type: str, filings: list[Filing], today: date) -> None:
    """In-province outpatient and pharmacy purchases settle directly; inpatient care elsewhere needs a filing."""
    if care_type != "inpatient" or not treatment_region or treatment_region == home_region:
        return
    if not any(f.covers(treatment_region, today) for f in filings):
        raise FailedPrecondition("FILING_REQUIRED", f"inpatient care in {treatment_region} needs a filing (备案) by region {home_region}")


def new_filing(filing_id: str, person_id: str, home_region: str, treatment_region: str, valid_from: date, valid_to: date) -> Filing:
    if treatment_region == home_region:
        raise InvalidArgument("SAME_REGION", "a filing is for care outside the home region", field="treatment_region_code")
    if valid_to < valid_from:
        raise InvalidArgument("INVALID_PERIOD", "valid_to is before valid_from", field="valid_to")
    return Filing(filing_id, person_id, treatment_region, valid_from, valid_to)


def revocable(status: str, owner: str, caller: str) -> None:
    """Only the institution that settled may revoke, and only once."""
    if owner != caller:
        raise PermissionDenied("NOT_YOUR_SETTLEMENT", "an institution may only revoke its own settlements")
    if status != "settled":
        raise FailedPrecondition("ALREADY_REVOKED", f"the settlement is {status}")


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
