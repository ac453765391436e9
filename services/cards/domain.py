"""Card issuance rules (制卡发卡): the card's life, fees, deadlines and PINs.

Pure: no I/O. Every number comes from the region's policy.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import Enum

from services.common.calendar import add_months
from services.common.clock import business_date
from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.common.policy import RegionPolicy


class CardState(str, Enum):
    APPLIED = "applied"  # 申领
    IN_PRODUCTION = "in_production"  # 制卡
    READY = "ready"
    HANDED_OUT = "handed_out"  # 领卡
    ACTIVE = "active"  # 社保区启用
    FAILED = "failed"
    RECALLED = "recalled"
    LOCKED = "locked"
    REPLACED = "replaced"
    CANCELLED = "cancelled"  # 销卡


# States in which a person "holds" the card: a second application is refused.
HELD_STATES = {
    CardState.APPLIED, CardState.IN_PRODUCTION, CardState.READY,
    CardState.HANDED_OUT, CardState.ACTIVE, CardState.LOCKED,
}
# Held but not yet in the holder's hands: a reissue or exchange must wait for it.
BEING_MADE_STATES = {CardState.APPLIED, CardState.IN_PRODUCTION, CardState.READY}
# In the holder's hands (activated or not — "issued first, used later"): a reissue or exchange replaces it.
IN_HAND_STATES = {CardState.HANDED_OUT, CardState.ACTIVE, CardState.LOCKED}


class ApplicationKind(str, Enum):
    FIRST = "first"
    REISSUE = "reissue"  # 补卡, after a formal loss
    EXCHANGE = "exchange"  # 换卡, damaged card
    REMAKE = "remake"  # recalled for wrong printed data: free


class FailureReason(str, Enum):
    """Why production failed (制卡失败), as the city guides list them."""

    BANK_ACCOUNT_FAILED = "bank_account_failed"
    CARD_HELD_IN_PROVINCE = "card_held_in_province"
    LEFT_EMPLOYER = "left_employer"
    PHOTO_NOT_COMPLIANT = "photo_not_compliant"
    IDENTITY_CHANGED = "identity_changed"


class LossState(str, Enum):
    NONE = "none"
    TEMPORARY = "temporary"
    FORMAL = "formal"


@dataclass(frozen=True)
class PersonView:
    """What cards knows of a person (projected from identity events)."""

    person_id: str
    citizen_id: str
    name: str
    birth_date: date
    region_code: str
    deceased: bool
    employer_unit_id: str = ""


def is_member(person: PersonView | None, unit_id: str) -> bool:
    """Whether cards knows this person as staff of the employer unit (单位) applying for them."""
    return person is not None and person.employer_unit_id == unit_id


@dataclass(frozen=True)
class Card:
    card_no: str
    person_id: str
    citizen_id: str
    name: str
    region_code: str
    state: CardState
    kind: ApplicationKind
    channel: str
    pickup_certificate_no: str
    fee_fen: int
    ready_by: date
    applied_at: datetime
    pin_hash: str
    pin_salt: str
    pin_enabled: bool = False
    wrong_pin_count: int = 0
    replaces_card_no: str = ""
    replaced_by_card_no: str = ""
    failure_reason: str = ""
    loss_state: LossState = LossState.NONE
    activated_at: datetime | None = None
    delivery: str = "outlet_pickup"
    delivery_address: str = ""
    employer_unit_id: str = ""
    activation_channel: str = ""  # institution, bank_outlet, financial_zone, service_window
    handout_due: date | None = None  # a unit's (or community's) batch card: hand it out by this day


def hash_pin(pepper: bytes, salt: str, pin: str) -> str:
    """Keyed hash: a stolen database alone cannot brute-force 10^6 PINs without the pepper."""
    return hmac.new(pepper, (salt + pin).encode(), hashlib.sha256).hexdigest()


def check_pin_format(pin: str, field: str = "pin") -> None:
    if len(pin) != 6 or not pin.isdigit():
        raise InvalidArgument("INVALID_PIN_FORMAT", f"{field} must be 6 digits", field=field)


def weak_pin_reason(pin: str, birth_date: date, citizen_id: str) -> str | None:
    """Why a new PIN is refused, or None. Rules from the city guides."""
    if len(set(pin)) == 1:
        return "six equal digits"
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {-1}):
        return "a consecutive run"
    birth = birth_date.strftime("%Y%m%d")
    if pin in birth or pin in (birth[2:], birth_date.strftime("%m%d%y"), birth_date.strftime("%d%m%y")):
        return "the birth date"
    if pin in citizen_id:
        return "digits of the citizen ID"
    return None


def check_can_apply(person: PersonView, cards: list[Card], kind: ApplicationKind) -> None:
    """One active card per person: a second application is refused unless the held card is lost or being replaced."""
    if person.deceased:
        raise FailedPrecondition("PERSON_DECEASED", "the person is deceased")
    held = [c for c in cards if c.state in HELD_STATES]
    if kind is ApplicationKind.REMAKE:
        return
    if kind is ApplicationKind.FIRST and held:
        raise FailedPrecondition("CARD_ALREADY_HELD", f"the person already holds card {held[0].card_no}", card_no=held[0].card_no)
    if kind is not ApplicationKind.FIRST:
        pending = [c for c in held if c.state in BEING_MADE_STATES]
        if pending:
            raise FailedPrecondition("APPLICATION_PENDING", f"card {pending[0].card_no} is already being made", card_no=pending[0].card_no)
        if not any(c.state in IN_HAND_STATES for c in cards):
            raise FailedPrecondition("NO_CARD_TO_REPLACE", "a reissue needs a card to replace")


# The application channel of the reissue that goes with a formal loss (补卡): where the loss was reported.
REISSUE_CHANNELS = {"outlet": "outlet", "bank": "bank_outlet", "website": "online", "app": "online", "wechat": "online"}


def reissue_channel(loss_channel: str) -> str:
    """A formal loss at a partner bank's outlet is reissued there (on the spot where the region's bank outlets make
    cards); online where the loss was online; at an outlet otherwise."""
    return REISSUE_CHANNELS.get(loss_channel, "outlet")


def fee_for(kind: ApplicationKind, policy: RegionPolicy) -> int:
    """The first card and a remake after a recall are free; a reissue or exchange costs the region's fee."""
    return 0 if kind in (ApplicationKind.FIRST, ApplicationKind.REMAKE) else policy.replacement_fee_fen


def ready_date(policy: RegionPolicy, channel: str, replacement: bool, applied_on: date) -> date:
    """The promised date: the region's working days for the channel (0 = the same day), or `{months: N}`
    calendar months later, moved to the next working day (Dalian: about two months after enrolment)."""
    spec = policy.production_days(channel, replacement)
    if isinstance(spec, int):
        return policy.calendar.add_working_days(applied_on, spec)
    day = add_months(applied_on, spec["months"])
    return day if policy.calendar.is_working_day(day) else policy.calendar.add_working_days(day, 1)


def new_card(
    *,
    card_no: str,
    certificate_no: str,
    person: PersonView,
    kind: ApplicationKind,
    channel: str,
    policy: RegionPolicy,
    now: datetime,
    pin_salt: str,
    pepper: bytes,
    replaces_card_no: str = "",
    delivery: str = "outlet_pickup",
    delivery_address: str = "",
) -> Card:
    replacement = kind in (ApplicationKind.REISSUE, ApplicationKind.EXCHANGE)
    ready_by = ready_date(policy, channel, replacement, business_date(now))
    return Card(
        card_no=card_no,
        person_id=person.person_id,
        citizen_id=person.citizen_id,
        name=person.name,
        region_code=person.region_code,
        state=CardState.APPLIED,
        kind=kind,
        channel=channel,
        pickup_certificate_no=certificate_no,
        fee_fen=fee_for(kind, policy),
        ready_by=ready_by,
        applied_at=now,
        pin_hash=hash_pin(pepper, pin_salt, policy.initial_pin),
        pin_salt=pin_salt,
        replaces_card_no=replaces_card_no,
        delivery=delivery,
        delivery_address=delivery_address,
        employer_unit_id=person.employer_unit_id if channel == "employer_batch" else "",
    )


def complete_production(card: Card, today: date, policy: RegionPolicy) -> Card:
    """The factory has made the card: ready for pickup from its promised date. The bank tells the unit of a
    batch card, which collects it and must hand it out within the region's days (seed 003: 10日内)."""
    if card.state is not CardState.APPLIED or today < card.ready_by:
        raise FailedPrecondition("NOT_DUE", "card is not due from production")
    due = today + timedelta(days=policy.employer_handout_days) if card.employer_unit_id else None
    return replace(card, state=CardState.READY, handout_due=due)


def handout_overdue(card: Card, today: date) -> bool:
    """A batch card the unit has not handed out by its deadline."""
    return card.state is CardState.READY and card.handout_due is not None and today > card.handout_due


def hand_out(card: Card, certificate_no: str, citizen_id: str) -> Card:
    """领卡: needs the holder's ID and the pickup certificate."""
    if card.state is not CardState.READY:
        raise FailedPrecondition("CARD_NOT_READY", f"card is {card.state.value}, not ready for pickup")
    if certificate_no != card.pickup_certificate_no:
        raise PermissionDenied("CERTIFICATE_MISMATCH", "pickup certificate does not match this card")
    if citizen_id != card.citizen_id:
        raise PermissionDenied("HOLDER_MISMATCH", "the ID shown is not the holder's")
    return replace(card, state=CardState.HANDED_OUT)


def activate(card: Card, now: datetime, channel: str = "") -> Card:
    """社保区启用 (at a designated institution, a bank outlet, by the financial zone where the region says
    so, or at the service window): a handed-out card becomes usable; activating twice is a no-op."""
    if card.state is CardState.ACTIVE:
        return card
    if card.state is not CardState.HANDED_OUT:
        raise FailedPrecondition("CARD_NOT_HANDED_OUT", f"card is {card.state.value}; only a handed-out card activates")
    return replace(card, state=CardState.ACTIVE, activated_at=now, activation_channel=channel)


def replaced_by(old: Card, new_card_no: str) -> Card:
    """The old card is dead for good once its replacement is active."""
    return replace(old, state=CardState.REPLACED, replaced_by_card_no=new_card_no)


def lock(card: Card) -> Card:
    """Locked after too many wrong PINs (here or at a POS); unlocking needs the holder's ID at an outlet."""
    return replace(card, state=CardState.LOCKED)


def with_loss_state(card: Card, state: LossState) -> Card:
    """Cards mirrors the loss service's view to decide on reissues."""
    return replace(card, loss_state=state)


def cancel(card: Card, reason: str) -> Card:
    return replace(card, state=CardState.CANCELLED, failure_reason=reason)


def check_usable_for_pin(card: Card) -> None:
    if card.state is CardState.LOCKED:
        raise FailedPrecondition("PIN_LOCKED", "card is locked after too many wrong PINs; unlock at an outlet with ID")
    if card.state in (CardState.REPLACED, CardState.CANCELLED, CardState.FAILED, CardState.RECALLED):
        raise FailedPrecondition(f"CARD_{card.state.value.upper()}", f"card is {card.state.value}")


def verify_pin(card: Card, pin: str, pepper: bytes, max_attempts: int) -> tuple[Card, bool]:
    """Returns the updated card and whether the PIN matched.

    N consecutive wrong PINs (N per region) lock the card; a right PIN resets the count.
    """
    check_usable_for_pin(card)
    check_pin_format(pin)
    if hmac.compare_digest(hash_pin(pepper, card.pin_salt, pin), card.pin_hash):
        return replace(card, wrong_pin_count=0), True
    count = card.wrong_pin_count + 1
    state = CardState.LOCKED if count >= max_attempts else card.state
    return replace(card, wrong_pin_count=count, state=state), False


def count_pin_attempt(card: Card, correct: bool, max_attempts: int) -> Card:
    """A PIN checked elsewhere (a POS terminal): the same count and lock as verify_pin."""
    if correct:
        return replace(card, wrong_pin_count=0) if card.wrong_pin_count else card
    if card.state not in (CardState.ACTIVE, CardState.HANDED_OUT):
        return card
    count = card.wrong_pin_count + 1
    return replace(card, wrong_pin_count=count, state=CardState.LOCKED if count >= max_attempts else card.state)


def change_pin(card: Card, new_pin: str, birth_date: date, pepper: bytes, salt: str) -> Card:
    """Set a new PIN (after the old one was verified); the first change enables it."""
    check_pin_format(new_pin, "new_pin")
    reason = weak_pin_reason(new_pin, birth_date, card.citizen_id)
    if reason:
        raise InvalidArgument("WEAK_PIN", f"new_pin is too weak: {reason}", field="new_pin")
    return replace(card, pin_hash=hash_pin(pepper, salt, new_pin), pin_salt=salt, pin_enabled=True, wrong_pin_count=0)



def fail_production(card: Card, reason: FailureReason) -> Card:
    """The factory could not make the card; the reason is shown to the applicant."""
    if card.state not in (CardState.APPLIED, CardState.IN_PRODUCTION, CardState.READY):
        raise FailedPrecondition("NOT_IN_PRODUCTION", f"card is {card.state.value}")
    return replace(card, state=CardState.FAILED, failure_reason=reason.value.upper())


def recall(card: Card) -> Card:
    """Wrong data printed (photo, name, ID): the card is recalled and remade free."""
    if card.state not in (CardState.READY, CardState.HANDED_OUT, CardState.ACTIVE):
        raise FailedPrecondition("NOT_RECALLABLE", f"a {card.state.value} card cannot be recalled")
    return replace(card, state=CardState.RECALLED)


def check_holder(card: Card, citizen_id: str) -> None:
    """Outlet services need the holder's ID (or a proxy's, with the holder's)."""
    if not citizen_id:
        raise InvalidArgument("FIELD_REQUIRED", "citizen_id of the holder is required", field="citizen_id")
    if citizen_id != card.citizen_id:
        raise PermissionDenied("HOLDER_MISMATCH", "the ID shown is not the holder's")


def unlock(card: Card, citizen_id: str) -> Card:
    check_holder(card, citizen_id)
    if card.state is not CardState.LOCKED:
        raise FailedPrecondition("CARD_NOT_LOCKED", f"card is {card.state.value}")
    return replace(card, state=CardState.ACTIVE if card.activated_at else CardState.HANDED_OUT, wrong_pin_count=0)


def reset_pin(card: Card, citizen_id: str, pepper: bytes, salt: str, initial_pin: str) -> Card:
    """Back to the region's initial PIN, not enabled, wrong count cleared (and unlocked)."""
    check_holder(card, citizen_id)
    check_usable_for_pin(replace(card, state=CardState.ACTIVE) if card.state is CardState.LOCKED else card)
    state = (CardState.ACTIVE if card.activated_at else CardState.HANDED_OUT) if card.state is CardState.LOCKED else card.state
    return replace(card, pin_hash=hash_pin(pepper, salt, initial_pin), pin_salt=salt, pin_enabled=False, wrong_pin_count=0, state=state)


def check_electronic_card(card: Card) -> None:
    """The electronic card mirrors the physical card's state."""
    if card.loss_state is not LossState.NONE:
        raise FailedPrecondition("CARD_REPORTED_LOST", "the card is reported lost")
    if card.state is CardState.LOCKED:
        raise FailedPrecondition("PIN_LOCKED", "the card is locked")
    if card.state is not CardState.ACTIVE:
        raise FailedPrecondition(f"CARD_{card.state.value.upper()}" if card.state in (CardState.REPLACED, CardState.CANCELLED) else "CARD_NOT_ACTIVE",
                                 f"card is {card.state.value}")
    if not card.pin_enabled:
        raise FailedPrecondition("PIN_NOT_ENABLED", "the electronic card needs the holder's own PIN: change the initial PIN first")


def change_holder_data(card: Card, person: PersonView) -> Card:
    """A name or ID change: a pending application fails; an issued card carries the new data."""
    if card.state in (CardState.APPLIED, CardState.IN_PRODUCTION, CardState.READY):
        return replace(card, state=CardState.FAILED, failure_reason="IDENTITY_CHANGED", name=person.name, citizen_id=person.citizen_id)
    return replace(card, name=person.name, citizen_id=person.citizen_id)


def transfer(card: Card, to_region: str, within_province: bool) -> Card:
    """Within the province the card is kept but must be re-activated in the new region; beyond it, cancelled."""
    if not within_province:
        return cancel(card, "TRANSFERRED_OUT")
    state = CardState.HANDED_OUT if card.state is CardState.ACTIVE else card.state
    return replace(card, region_code=to_region, state=state, activated_at=None if state is CardState.HANDED_OUT else card.activated_at)
