"""Loss rules (挂失): temporary and formal reports, lifting, expiry.

Pure: no I/O. Validity comes from the card's region policy.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import Enum

from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied


class Channel(str, Enum):
    HOTLINE_IVR = "hotline_ivr"
    HOTLINE_AGENT = "hotline_agent"
    WEBSITE = "website"
    APP = "app"
    WECHAT = "wechat"
    HOSPITAL_TERMINAL = "hospital_terminal"
    BANK = "bank"
    OUTLET = "outlet"


# Self-service channels authenticate the caller by the card's enabled PIN;
# the others by identity data (citizen ID + name) checked by a person or a real-name login.
PIN_CHANNELS = {Channel.HOTLINE_IVR, Channel.APP, Channel.HOSPITAL_TERMINAL}


class LossState(str, Enum):
    NONE = "none"
    TEMPORARY = "temporary"
    FORMAL = "formal"


@dataclass(frozen=True)
class CardView:
    """What loss knows of a card (projected from cards events)."""

    card_no: str
    person_id: str
    citizen_id: str
    name: str
    region_code: str
    state: str
    pin_enabled: bool
    bank_code: str


@dataclass(frozen=True)
class CardLoss:
    """A card's current loss state; report_id is the latest report, kept after a lift or lapse."""

    card_no: str
    state: LossState
    report_id: str = ""
    expires_at: datetime | None = None
    reissue_applied: bool = False


DEAD_STATES = {"replaced": "CARD_REPLACED", "cancelled": "CARD_CANCELLED", "failed": "CARD_NOT_ISSUED", "recalled": "CARD_NOT_ISSUED"}
UNISSUED_STATES = {"applied", "in_production", "ready"}


def check_reportable(card: CardView) -> None:
    if card.state in DEAD_STATES:
        raise FailedPrecondition(DEAD_STATES[card.state], f"card is {card.state}; nothing to report lost", card_no=card.card_no)
    if card.state in UNISSUED_STATES:
        raise FailedPrecondition("CARD_NOT_ISSUED", "the card has not been handed out yet", card_no=card.card_no)


def check_channel(channel: Channel, act: str, allowed: Collection[str]) -> None:
    """Which channels accept which act is the region's data (`loss_channels`): e.g. Guangxi takes a formal loss
    through its WeChat service, most cities only at an outlet or a partner bank."""
    if channel.value not in allowed:
        raise InvalidArgument("CHANNEL_NOT_ALLOWED", f"in this region a {act} loss report is not taken through {channel.value}",
                              field="channel", channel=channel.value)


def check_identity(card: CardView, citizen_id: str, name: str, need_name: bool = True) -> None:
    """Agent-assisted channels: the caller must give the holder's citizen ID (and name)."""
    if not citizen_id or (need_name and not name):
        raise InvalidArgument("IDENTITY_REQUIRED", "citizen_id and name of the holder are required on this channel")
    if citizen_id != card.citizen_id or (need_name and name.strip() != card.name):
        raise PermissionDenied("IDENTITY_MISMATCH", "identity data do not match the card's holder")


def requires_pin(channel: Channel) -> bool:
    return channel in PIN_CHANNELS


def check_pin_channel(card: CardView, pin: str) -> None:
    """Self-service reporting is only for holders who enabled their PIN."""
    if not card.pin_enabled:
        raise FailedPrecondition("PIN_NOT_ENABLED", "self-service loss reporting needs an enabled PIN; use the hotline agent or an outlet")
    if len(pin) != 6 or not pin.isdigit():
        raise InvalidArgument("INVALID_PIN_FORMAT", "pin must be 6 digits", field="pin")


def report_temporary(current: CardLoss, report_id: str, now: datetime, validity: timedelta) -> tuple[CardLoss, bool]:
    """临时挂失: suspends the card at once; returns (state, changed). A repeat report is the same report."""
    if current.state is LossState.FORMAL:
        return current, False
    if current.state is LossState.TEMPORARY:
        return current, False
    return CardLoss(current.card_no, LossState.TEMPORARY, report_id, now + validity), True


def report_formal(current: CardLoss, report_id: str) -> tuple[CardLoss, bool]:
    """正式挂失: irreversible; a repeat is the same report. Made formal, a temporary report stays the same loss
    (its id and start): the loss period, its recorded expenses and its one refund run from the first report."""
    if current.state is LossState.FORMAL:
        return current, False
    same_loss = current.report_id if current.state is LossState.TEMPORARY else report_id
    return CardLoss(current.card_no, LossState.FORMAL, same_loss, None, reissue_applied=True), True


def lift(current: CardLoss) -> CardLoss:
    """解挂: only a temporary report, only before any reissue."""
    if current.state is LossState.FORMAL:
        raise FailedPrecondition("LOSS_IS_FORMAL", "a formal loss report is irreversible")
    if current.reissue_applied:
        raise FailedPrecondition("REISSUE_APPLIED", "a replacement card has been applied for")
    if current.state is LossState.NONE:
        raise FailedPrecondition("NOT_REPORTED_LOST", "the card is not reported lost")
    return CardLoss(current.card_no, LossState.NONE, current.report_id)


def expire(current: CardLoss, now: datetime) -> CardLoss | None:
    """A temporary report lapses at its expiry unless made formal; None if not due."""
    if current.state is not LossState.TEMPORARY or current.expires_at is None or now < current.expires_at:
        return None
    return replace(current, state=LossState.NONE, expires_at=None)


class RefundStatus(str, Enum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RefundClaim:
    """A claim for the one out-of-pocket medical expense paid while the card was lost."""

    claim_id: str
    card_no: str
    report_id: str
    institution_code: str
    receipt_no: str
    expense_date: date
    amount_fen: int
    status: RefundStatus = RefundStatus.PENDING_REVIEW
    review_note: str = ""
    # The authenticated principal who filed the claim (access.Principal.actor): never its reviewer.
    filed_by: str = ""


@dataclass(frozen=True)
class RecordedExpense:
    """An expense recorded under a loss report: a settlement refused on the lost card, paid out of pocket."""

    institution_code: str
    on: date
    amount_fen: int


def check_most_recent_expense(institution_code: str, expense_date: date, amount_fen: int, recorded: RecordedExpense | None) -> None:
    """Where the region says so (seed 001 ⑥: "报销一次且为挂失更换前最近一次发生的医疗费用"), only the most recent
    expense recorded before the replacement is refunded, up to its recorded amount."""
    if recorded is None:
        raise FailedPrecondition("NO_RECORDED_EXPENSE", "no medical expense was recorded on this card during the loss")
    if (institution_code, expense_date) != (recorded.institution_code, recorded.on) or amount_fen > recorded.amount_fen:
        raise FailedPrecondition(
            "NOT_MOST_RECENT_EXPENSE", "only the most recent medical expense before the replacement is refunded",
            institution_code=recorded.institution_code, expense_date=recorded.on.isoformat(), amount_fen=str(recorded.amount_fen),
        )


def claim_refund(
    claim_id: str, current: CardLoss, reported_on: date, existing: RefundClaim | None,
    institution_code: str, receipt_no: str, expense_date: date, amount_fen: int, today: date, filed_by: str = "",
    recorded: tuple[RecordedExpense, ...] = (), most_recent_only: bool = False, most_recent: RecordedExpense | None = None,
) -> RefundClaim:
    """Refunded once per loss, after review: the expense must fall within the loss period, never exceed
    what the holder paid for it — a bill settlement refused on the lost card at that institution that day
    (`recorded`, settlement is the source of truth) — and be the most recent one where the region says so."""
    if current.state is not LossState.FORMAL:
        raise FailedPrecondition("NO_FORMAL_LOSS", "a loss-period refund needs a formal loss report and the replacement")
    if existing is not None and existing.status is not RefundStatus.REJECTED:
        raise FailedPrecondition("REFUND_ALREADY_CLAIMED", f"claim {existing.claim_id} already covers this loss", claim_id=existing.claim_id)
    if amount_fen <= 0 or amount_fen > 10**10:
        raise InvalidArgument("INVALID_AMOUNT", "amount_fen must be a positive number of fen", field="amount_fen")
    if not institution_code or not receipt_no:
        raise InvalidArgument("FIELD_REQUIRED", "institution_code and receipt_no identify the expense")
    if expense_date < reported_on or expense_date > today:
        raise InvalidArgument("EXPENSE_OUTSIDE_LOSS_PERIOD", "the expense must fall between the loss report and today", field="expense_date")
    if most_recent_only:
        check_most_recent_expense(institution_code, expense_date, amount_fen, most_recent)
    paid_fen = max((e.amount_fen for e in recorded if (e.institution_code, e.on) == (institution_code, expense_date)), default=0)
    if paid_fen <= 0:
        raise FailedPrecondition("EXPENSE_NOT_RECORDED", "settlement recorded no refused settlement of this card at that institution on that day")
    if amount_fen > paid_fen:
        raise FailedPrecondition("REFUND_EXCEEDS_PAID", f"the holder paid {paid_fen} fen for that bill; no refund beyond it", paid_fen=str(paid_fen))
    return RefundClaim(claim_id, current.card_no, current.report_id, institution_code, receipt_no, expense_date, amount_fen, filed_by=filed_by)


def review_refund(
    claim: RefundClaim, approve: bool, note: str, most_recent_only: bool = False, most_recent: RecordedExpense | None = None,
) -> RefundClaim:
    """An approval checks the most-recent rule again: an expense recorded after the claim supersedes it."""
    if claim.status is not RefundStatus.PENDING_REVIEW:
        raise FailedPrecondition("REFUND_ALREADY_REVIEWED", f"claim is {claim.status.value}")
    if approve and most_recent_only:
        check_most_recent_expense(claim.institution_code, claim.expense_date, claim.amount_fen, most_recent)
    return replace(claim, status=RefundStatus.APPROVED if approve else RefundStatus.REJECTED, review_note=note)
