"""SettlementService over gRPC: authentication, sign-in, proto <-> domain, ledger postings.

Maps the national medical insurance platform's transactions (docs/his-mapping.md):
9001 SignIn, 1101 CheckCard, 2206/2303 PreSettle, 2207/2304 Settle,
2208/2305 RevokeSettlement, 2601 ReverseSettlement, 3201/3202 Reconcile.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import grpc

from services.common import access, observability, tracing
from services.common.app import Runtime
from services.common.auth import Institution, verify_ecard_token
from services.common.clock import CHINA_STANDARD_TIME, business_date, to_micros
from services.common.db import UnitOfWork
from services.common.errors import (
    CommitThenRaise, FailedPrecondition, InvalidArgument, NotFound, require,
)
from services.common.ids import new_id
from services.settlement import benefits, domain, store
from services.settlement.feeds import FeedGuard
from services.settlement.domain import Account, CardProjection
from sscard.events.v1 import settlement_events_pb2 as events
from sscard.settlement.v1 import settlement_pb2 as pb
from sscard.settlement.v1 import settlement_pb2_grpc

CARE_TYPES = {pb.CARE_TYPE_OUTPATIENT: "outpatient", pb.CARE_TYPE_INPATIENT: "inpatient", pb.CARE_TYPE_PHARMACY: "pharmacy"}
CARE_TYPE_PB = {v: k for k, v in CARE_TYPES.items()}
CLASSES = {pb.CATALOG_CLASS_A: benefits.CatalogClass.A, pb.CATALOG_CLASS_B: benefits.CatalogClass.B, pb.CATALOG_CLASS_C: benefits.CatalogClass.C}
ENTRY_KINDS = {name.removeprefix("ENTRY_KIND_").lower(): value for name, value in pb.EntryKind.items()}
MAX_ITEMS = 500
MAX_PAGE = 200


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument("INVALID_DATE", f"{field} must be YYYY-MM-DD", field=field) from None


def settlement_pb(row: Any) -> pb.Settlement:
    message = pb.Settlement(
        setl_id=row.setl_id, msg_id=row.msg_id, card_no=row.card_no, person_id=row.person_id,
        care_type=CARE_TYPE_PB.get(row.care_type, 0), medfee_sumamt_fen=row.medfee_sumamt_fen,
        fund_pay_sumamt_fen=row.fund_pay_fen, acct_pay_fen=row.acct_pay_fen, psn_cash_pay_fen=row.cash_pay_fen, status=row.status,
    )
    message.settled_at.FromMicroseconds(row.at_us)
    return message


class SettlementCore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.db = runtime.db
        self.pepper = runtime.settings.pin_pepper
        self.token_secret = runtime.settings.token_secret
        self.institutions = runtime.institutions
        self._benefits: dict[str, tuple[benefits.BenefitPolicy, benefits.CatalogPolicy]] = {}
        self._sign_nos: dict[tuple[str, str], str] = {}
        self.feeds = FeedGuard(runtime)
        runtime.background("feed-guard", self.feeds.run)

    def institution(self) -> Institution:
        """The calling designated institution (authenticated and checked active by access.py)."""
        grant = access.current()
        assert grant is not None and grant.institution is not None, "policy table: institution RPC without an institution"
        return grant.institution

    def business_date(self) -> date:
        return business_date(self.rt.clock.now())

    async def check_signed_in(self, conn: Any, context: grpc.aio.ServicerContext, institution: Institution) -> None:
        """Settlement calls carry the day's sign_no from SignIn (national 9001)."""
        sent = dict(context.invocation_metadata() or ()).get("x-sscard-sign-no", "")
        key = (institution.code, self.business_date().isoformat())
        expected = self._sign_nos.get(key)
        if expected is None:
            expected = await store.sign_no(conn, *key)
            if expected is not None:
                self._sign_nos[key] = expected  # a day's sign_no never changes once issued
        if not sent or sent != expected:
            raise FailedPrecondition("NOT_SIGNED_IN", "sign in for today (SignIn) and send x-sscard-sign-no")

    def max_pin_attempts(self, card: CardProjection) -> int:
        return self.rt.policies.get(card.region_code).pin_max_attempts if card.region_code else 6

    async def card(self, conn: Any, card_no: str = "", ecard_token: str = "", citizen_id: str = "", for_update: bool = False) -> tuple[CardProjection, bool]:
        """The card a request names (card number, e-card token or citizen ID); True if the e-card vouched for it."""
        if ecard_token:
            card_no = verify_ecard_token(ecard_token, self.token_secret, int(time.time()))
        elif citizen_id:
            account = await store.account_by_citizen_id(conn, citizen_id)
            if account is None or not account.card_no:
                raise NotFound("PERSON_HAS_NO_CARD", "no active card for this citizen ID")
            card_no = account.card_no
        require(card_no, "card_no")
        card = await store.get_card(conn, card_no, for_update)
        if card is None:
            raise NotFound("CARD_NOT_FOUND", f"no card {card_no}", card_no=card_no)
        return card, bool(ecard_token)

    async def account_of(self, conn: Any, card: CardProjection, for_update: bool = False) -> Account:
        account = await store.get_account(conn, card.person_id, for_update)
        if account is None:
            raise NotFound("ACCOUNT_NOT_FOUND", "the card's holder has no personal account")
        return account

    async def drawn_on(self, conn: Any, card: CardProjection, for_update: bool = False) -> Account:
        """The account a settlement on this card draws on: the personal account, or for an old
        medical card not yet merged, that card's own balance."""
        account = await self.account_of(conn, card, for_update)
        if card.card_state != domain.LEGACY:
            return account
        legacy = await store.legacy_account_by_card(conn, card.card_no, for_update)
        return domain.on_legacy_balance(account, card.card_no, legacy.balance_fen if legacy else 0)

    async def post_debit(self, uow: UnitOfWork, card: CardProjection, account: Account, amount_fen: int, setl_id: str) -> None:
        """Book a settlement's personal-account share: a journal entry, or the old medical card's balance."""
        if card.card_state == domain.LEGACY:
            await store.save_legacy_account(uow.conn, account.person_id, card.card_no, account.balance_fen, "pending")
            return
        await store.save_account(uow.conn, account)
        await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind="settlement", amount_fen=-amount_fen, reference=setl_id, at_us=uow.now_us)

    def bill(self, institution: Institution, care_type: int, items: Any) -> benefits.Bill:
        care = CARE_TYPES.get(care_type)
        if care is None:
            raise InvalidArgument("INVALID_ENUM" if care_type else "FIELD_REQUIRED", "care_type must be a known value", field="care_type")
        if not items:
            raise InvalidArgument("FIELD_REQUIRED", "a bill needs at least one line item", field="items")
        if len(items) > MAX_ITEMS:
            raise InvalidArgument("TOO_MANY_ITEMS", f"at most {MAX_ITEMS} line items", field="items")
        lines = []
        for index, item in enumerate(items):
            if item.catalog_class not in CLASSES:
                raise InvalidArgument("INVALID_ENUM", f"items[{index}].catalog_class must be a known value", field=f"items[{index}].catalog_class")
            domain.check_amount(item.amount_fen, f"items[{index}].amount_fen")
            lines.append(benefits.LineItem(amount_fen=item.amount_fen, catalog_class=CLASSES[item.catalog_class], code=item.code[:40]))
        bill = benefits.Bill(institution=benefits.Institution(kind=institution.kind, level=institution.level), care_type=benefits.CareType(care), items=tuple(lines))
        domain.check_amount(bill.total_fen, "items")
        benefits.check_care_type(bill)
        return bill

    def policies_of(self, region_code: str) -> tuple[benefits.BenefitPolicy, benefits.CatalogPolicy]:
        """Parsed once per region: the hot path never re-reads policy data."""
        if region_code not in self._benefits:
            raw = self.rt.policies.get(region_code).benefits
            self._benefits[region_code] = (benefits.BenefitPolicy.from_mapping(raw), benefits.CatalogPolicy.from_mapping(raw))
        return self._benefits[region_code]

    async def split(self, conn: Any, bill: benefits.Bill, account: Account, institution: Institution) -> benefits.Split:
        """Home region: deductible, ratio, cap; the catalog too unless the care is out of province."""
        treatment_region = institution.region_code or account.region_code
        if bill.care_type is benefits.CareType.INPATIENT and treatment_region != account.region_code:
            domain.check_out_of_region(account.region_code, treatment_region, bill.care_type.value,
                                       await store.person_filings(conn, account.person_id), self.business_date())
        home, _ = self.policies_of(account.region_code)
        _, catalog = self.policies_of(benefits.catalog_region(account.region_code, treatment_region))
        policy = home.for_category(account.insured_category)
        # Without a fund share (pharmacy purchases) the year's accumulators cannot matter: skip the query.
        if policy.ratio_bp(bill.care_type, bill.institution.level):
            ytd = await store.year_to_date(conn, account.person_id, self.business_date().year)
        else:
            ytd = benefits.YearToDate()
        return benefits.split_bill(bill, home=policy, treatment=catalog, ytd=ytd, account_balance_fen=account.balance_fen)

    async def refused_upstream(self, request: Any, context: grpc.aio.ServicerContext) -> str | None:
        """Why the producers of our lagging feeds say the requested card may not settle; asked only
        while a feed lags (feeds.py), so the hot path makes no call."""
        if not self.feeds.stale():
            return None

        async def read(conn: Any) -> tuple[CardProjection, Account | None] | None:
            try:
                card, _ = await self.card(conn, request.card_no, request.ecard_token, getattr(request, "citizen_id", ""))
            except NotFound:
                return None  # the transaction refuses it precisely
            return card, await store.get_account(conn, card.person_id)

        found = await self.db.read(read)
        if found is None:
            return None
        return await self.feeds.refusal_upstream(*found, context.time_remaining())

    async def usable_card(
        self, uow: UnitOfWork, card: CardProjection, pin: str, vouched: bool, institution: Institution, fen: int, upstream: str | None = None,
    ) -> None:
        """Refuse a card that may not settle, leaving a trace: the refusal event, the wrong-PIN count."""
        reason = domain.refusal_reason(card, self.max_pin_attempts(card)) or upstream
        if reason:
            tracing.caused_by(card.loss_trace if reason == "CARD_REPORTED_LOST" else "", reason)
            observability.SETTLEMENT_REFUSALS.labels("settlement", reason).inc()
            await uow.emit("card.refused", card.card_no, events.SettlementRefused(
                card_no=card.card_no, reason=reason, institution_code=institution.code, medfee_sumamt_fen=fen,
            ))
            raise CommitThenRaise(FailedPrecondition(reason, f"card {card.card_no} may not settle: {reason}", card_no=card.card_no))
        if vouched:
            return
        await self.check_pin(uow, card, pin, institution.code)

    async def check_pin(self, uow: UnitOfWork, card: CardProjection, pin: str, institution_code: str) -> None:
        """A PIN at a POS terminal: counted here and announced to the cards service, which keeps
        the one counter per card across every path (VerifyPin, IVR, e-card) and locks it."""
        updated, failure = domain.pin_attempt(card, pin, self.pepper, self.max_pin_attempts(card))
        if updated != card:
            await store.save_card(uow.conn, updated)
            await uow.emit("card.pin_attempted", card.card_no, events.PinAttempted(
                card_no=card.card_no, correct=failure is None, institution_code=institution_code))
        if failure is not None:
            observability.SETTLEMENT_REFUSALS.labels("settlement", failure.reason).inc()
            if failure.reason == "PIN_LOCKED":
                await uow.emit("card.pin_locked", card.card_no, events.PinLocked(
                    card_no=card.card_no, wrong_attempts=updated.wrong_pin_count, institution_code=institution_code))
            raise CommitThenRaise(failure)

    async def refund(self, uow: UnitOfWork, row: Any, kind: str, reference: str) -> Account:
        """Undo a settlement: the account gets its share back; the year-to-date sums drop it."""
        account = await store.get_account(uow.conn, row.person_id, for_update=True)
        if account is None:
            raise NotFound("ACCOUNT_NOT_FOUND", "the settlement's account is gone")
        legacy = await store.legacy_account_by_card(uow.conn, row.card_no, for_update=True) if row.acct_pay_fen else None
        if legacy is not None and legacy.status == "pending" and not account.closed:
            # Drawn on an old medical card not yet merged: its own balance gets the share back.
            balance = legacy.balance_fen + row.acct_pay_fen
            await store.save_legacy_account(uow.conn, row.person_id, row.card_no, balance, "pending")
            await store.set_settlement_status(uow.conn, row.setl_id, "revoked")
            return domain.on_legacy_balance(account, row.card_no, balance)
        if row.acct_pay_fen and not account.closed:
            account = domain.credit(account, row.acct_pay_fen)
            await store.save_account(uow.conn, account)
            await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind=kind, amount_fen=row.acct_pay_fen, reference=reference, at_us=uow.now_us)
        elif row.acct_pay_fen:
            # The account was already paid out (death, moving away): the refund passes through it to that payout.
            passing = replace(account, balance_fen=account.balance_fen + row.acct_pay_fen)
            await store.add_entry(uow.conn, entry_id=new_id("ent"), account=passing, kind=kind, amount_fen=row.acct_pay_fen, reference=reference, at_us=uow.now_us)
            await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind="payout", amount_fen=-row.acct_pay_fen,
                                  reference=f"after closing: {reference}"[:80], at_us=uow.now_us)
            await uow.emit("account.paid_out", account.person_id, events.AccountPaidOut(
                person_id=account.person_id, card_no=account.card_no, amount_fen=row.acct_pay_fen, reason="refund after closing"))
        await store.set_settlement_status(uow.conn, row.setl_id, "revoked")
        return account


def _split_pb(split: benefits.Split) -> dict[str, int]:
    return dict(
        medfee_sumamt_fen=split.medfee_sumamt_fen,
        fund_pay_sumamt_fen=split.fund_pay_fen,
        acct_pay_fen=split.acct_pay_fen,
        psn_cash_pay_fen=split.cash_pay_fen,
    )


def _totals(rows: list[Any]) -> pb.DayTotals:
    live = [r for r in rows if r.status == "settled"]
    return pb.DayTotals(
        count=len(live), medfee_sumamt_fen=sum(r.medfee_sumamt_fen for r in live), fund_pay_sumamt_fen=sum(r.fund_pay_fen for r in live),
        acct_pay_fen=sum(r.acct_pay_fen for r in live), psn_cash_pay_fen=sum(r.cash_pay_fen for r in live),
    )


class SettlementServicer(settlement_pb2_grpc.SettlementServiceServicer):
    def __init__(self, core: SettlementCore) -> None:
        self.core = core
        self.db = core.db

    async def SignIn(self, request: pb.SignInRequest, context: grpc.aio.ServicerContext) -> pb.SignInResponse:
        institution = self.core.institution()
        today = self.core.business_date()
        day = _parse_date(request.business_date, "business_date") if request.business_date else today
        if day != today:
            raise InvalidArgument("NOT_TODAY", f"sign-in is for today ({today.isoformat()})", field="business_date")

        async def work(uow: UnitOfWork) -> pb.SignInResponse:
            number = await store.sign_no(uow.conn, institution.code, day.isoformat())
            if number is None:
                number = new_id("sign")
                await store.record_sign_in(uow.conn, institution.code, day.isoformat(), number)
                await uow.audit("institution.signed_in", institution.code, channel=institution.kind, detail=day.isoformat())
            return pb.SignInResponse(sign_no=number, business_date=day.isoformat())

        return await self.db.transact(work)

    async def AllocateToAccount(self, request: pb.AllocateToAccountRequest, context: grpc.aio.ServicerContext) -> pb.AllocateToAccountResponse:
        fund = access.current_principal()
        assert fund is not None
        require(request.person_id, "person_id")
        domain.check_amount(request.amount_fen, "amount_fen")

        async def work(uow: UnitOfWork) -> pb.AllocateToAccountResponse:
            account = await store.get_account(uow.conn, request.person_id, for_update=True)
            if account is None:
                raise NotFound("ACCOUNT_NOT_FOUND", f"no personal account for {request.person_id}")
            access.check_subject(region=account.region_code)
            account = domain.credit(account, request.amount_fen)
            entry_id = new_id("ent")
            await store.save_account(uow.conn, account)
            await store.add_entry(uow.conn, entry_id=entry_id, account=account, kind="allocation", amount_fen=request.amount_fen, reference=request.period[:40], at_us=uow.now_us)
            await uow.audit("account.allocated", account.person_id, channel=fund.org, detail=f"{request.amount_fen} fen {request.period[:40]}")
            return pb.AllocateToAccountResponse(entry_id=entry_id, balance_fen=account.balance_fen)

        return await self.db.idempotent(f"AllocateToAccount@{fund.org}", request, pb.AllocateToAccountResponse, work)

    async def CheckCard(self, request: pb.CheckCardRequest, context: grpc.aio.ServicerContext) -> pb.CheckCardResponse:
        institution = self.core.institution()
        upstream = await self.core.refused_upstream(request, context)

        async def work(uow: UnitOfWork) -> pb.CheckCardResponse:
            card, vouched = await self.core.card(uow.conn, request.card_no, request.ecard_token, request.citizen_id, for_update=bool(request.pin))
            account = await self.core.drawn_on(uow.conn, card) if await store.get_account(uow.conn, card.person_id) else None
            reason = domain.refusal_reason(card, self.core.max_pin_attempts(card)) or upstream
            if not reason and account is not None and account.closed:
                reason = "ACCOUNT_CLOSED"
            presented = vouched
            if not reason and request.pin and not vouched:
                await self.core.check_pin(uow, card, request.pin, institution.code)
                presented = card.pin_enabled
            # The balance only for a card presented to this institution (PIN, e-card, or its own settlement).
            presented = presented or await store.has_settlement(uow.conn, institution.code, card.person_id)
            return pb.CheckCardResponse(
                card_no=card.card_no, person_id=card.person_id, region_code=card.region_code,
                usability=pb.CARD_USABILITY_REFUSED if reason else pb.CARD_USABILITY_USABLE, refusal_reason=reason or "",
                insured_category=account.insured_category if account else "",
                balance_fen=account.balance_fen if account and presented else 0,
            )

        if request.pin:
            return await self.db.transact(work)
        return await self.db.read(lambda conn: work(_ReadOnly(conn)))

    async def PreSettle(self, request: pb.PreSettleRequest, context: grpc.aio.ServicerContext) -> pb.PreSettleResponse:
        institution = self.core.institution()
        bill = self.core.bill(institution, request.care_type, request.items)

        async def read(conn: Any) -> pb.PreSettleResponse:
            await self.core.check_signed_in(conn, context, institution)
            card, _ = await self.core.card(conn, request.card_no, request.ecard_token)
            reason = domain.refusal_reason(card, self.core.max_pin_attempts(card))
            if reason:
                raise FailedPrecondition(reason, f"card {card.card_no} may not settle: {reason}", card_no=card.card_no)
            account = await self.core.drawn_on(conn, card)
            return pb.PreSettleResponse(**_split_pb(await self.core.split(conn, bill, account, institution)))

        return await self.db.read(read)

    async def Settle(self, request: pb.SettleRequest, context: grpc.aio.ServicerContext) -> pb.SettleResponse:
        institution = self.core.institution()
        require(request.msg_id, "msg_id")
        bill = self.core.bill(institution, request.care_type, request.items)
        upstream = await self.core.refused_upstream(request, context)

        async def work(uow: UnitOfWork) -> pb.SettleResponse:
            await self.core.check_signed_in(uow.conn, context, institution)
            if await store.reversal(uow.conn, institution.code, request.msg_id):
                raise FailedPrecondition("ALREADY_REVERSED", f"msg_id {request.msg_id} was reversed; settle again with a new msg_id")
            card, vouched = await self.core.card(uow.conn, request.card_no, request.ecard_token, for_update=True)
            await self.core.usable_card(uow, card, request.pin, vouched, institution, bill.total_fen, upstream)
            account = await self.core.drawn_on(uow.conn, card, for_update=True)
            split = await self.core.split(uow.conn, bill, account, institution)
            setl_id = new_id("setl")
            account = domain.debit(account, split.acct_pay_fen)
            if split.acct_pay_fen:
                await self.core.post_debit(uow, card, account, split.acct_pay_fen, setl_id)
            await store.insert_settlement(
                uow.conn, setl_id=setl_id, institution_code=institution.code, msg_id=request.msg_id, card_no=card.card_no,
                person_id=account.person_id, care_type=bill.care_type.value, medfee_sumamt_fen=split.medfee_sumamt_fen,
                fund_pay_fen=split.fund_pay_fen, acct_pay_fen=split.acct_pay_fen, cash_pay_fen=split.cash_pay_fen,
                deductible_fen=split.deductible_applied_fen, year=self.core.business_date().year, status="settled", at_us=uow.now_us,
            )
            settled = events.Settled(card_no=card.card_no, setl_id=setl_id, institution_code=institution.code, medfee_sumamt_fen=split.medfee_sumamt_fen)
            await uow.emit("card.settled", card.card_no, settled)
            if card.card_state == "handed_out":
                # The first swipe activates the card's social zone (cards): said only while our projection still
                # sees it handed out, so the cards service no longer reads every settlement.
                await uow.emit("card.first_settled", card.card_no, settled)
            response = pb.SettleResponse(setl_id=setl_id, balance_fen=account.balance_fen, **_split_pb(split))
            response.settled_at.FromDatetime(uow.now)
            return response

        return await self.db.idempotent(f"Settle@{institution.code}", request, pb.SettleResponse, work, key_field="msg_id")

    async def RevokeSettlement(self, request: pb.RevokeSettlementRequest, context: grpc.aio.ServicerContext) -> pb.RevokeSettlementResponse:
        institution = self.core.institution()
        require(request.msg_id, "msg_id")
        require(request.setl_id, "setl_id")

        async def work(uow: UnitOfWork) -> pb.RevokeSettlementResponse:
            await self.core.check_signed_in(uow.conn, context, institution)
            row = await store.get_settlement(uow.conn, setl_id=request.setl_id, for_update=True)
            if row is None or row.status == "void":
                raise NotFound("SETTLEMENT_NOT_FOUND", f"no settlement {request.setl_id}")
            domain.revocable(row.status, row.institution_code, institution.code)
            account = await self.core.refund(uow, row, "revocation", row.setl_id)
            await uow.audit("settlement.revoked", row.setl_id, channel=institution.code, detail=request.reason[:200])
            return pb.RevokeSettlementResponse(settlement=settlement_pb(await store.get_settlement(uow.conn, setl_id=row.setl_id)), balance_fen=account.balance_fen)

        return await self.db.idempotent(f"Revoke@{institution.code}", request, pb.RevokeSettlementResponse, work, key_field="msg_id")

    async def ReverseSettlement(self, request: pb.ReverseSettlementRequest, context: grpc.aio.ServicerContext) -> pb.ReverseSettlementResponse:
        institution = self.core.institution()
        require(request.msg_id, "msg_id")
        require(request.original_msg_id, "original_msg_id")

        async def work(uow: UnitOfWork) -> pb.ReverseSettlementResponse:
            await self.core.check_signed_in(uow.conn, context, institution)
            prior = await store.reversal(uow.conn, institution.code, request.original_msg_id)
            if prior is not None:
                return pb.ReverseSettlementResponse(outcome=prior.outcome, setl_id=prior.setl_id)
            row = await store.get_settlement(uow.conn, institution_code=institution.code, msg_id=request.original_msg_id, for_update=True)
            if row is not None and row.status == "settled":
                await self.core.refund(uow, row, "revocation", f"reversal {row.setl_id}")
                outcome, setl_id = "reversed", row.setl_id
            elif row is not None:
                outcome, setl_id = "already_revoked", row.setl_id
            else:
                # Nothing happened: a tombstone on (institution, msg_id) makes a late original fail to insert.
                outcome, setl_id = "nothing_to_reverse", ""
                await store.insert_settlement(
                    uow.conn, setl_id=new_id("void"), institution_code=institution.code, msg_id=request.original_msg_id, card_no="",
                    person_id="", care_type="", medfee_sumamt_fen=0, fund_pay_fen=0, acct_pay_fen=0, cash_pay_fen=0,
                    deductible_fen=0, year=0, status="void", at_us=uow.now_us,
                )
            await store.record_reversal(uow.conn, institution.code, request.original_msg_id, outcome, setl_id, uow.now_us)
            await uow.audit("settlement.reversed", request.original_msg_id, channel=institution.code, detail=outcome)
            return pb.ReverseSettlementResponse(outcome=outcome, setl_id=setl_id)

        return await self.db.idempotent(f"Reverse@{institution.code}", request, pb.ReverseSettlementResponse, work, key_field="msg_id")

    async def Reconcile(self, request: pb.ReconcileRequest, context: grpc.aio.ServicerContext) -> pb.ReconcileResponse:
        institution = self.core.institution()
        day = _parse_date(request.business_date, "business_date")
        if not date(2000, 1, 1) <= day <= date(9999, 12, 30):
            raise InvalidArgument("INVALID_DATE", "business_date is outside the range sscard keeps", field="business_date")
        start = datetime(day.year, day.month, day.day, tzinfo=CHINA_STANDARD_TIME)

        async def read(conn: Any) -> pb.ReconcileResponse:
            await self.core.check_signed_in(conn, context, institution)
            rows = [r for r in await store.day_settlements(conn, institution.code, to_micros(start), to_micros(start + timedelta(days=1))) if r.status != "void"]
            ours = _totals(rows)
            response = pb.ReconcileResponse(ours=ours)
            theirs = {d.setl_id: d for d in request.details}
            for row in rows:
                mine = settlement_pb(row)
                other = theirs.pop(row.setl_id, None)
                if other is None and request.details:
                    if row.status == "settled":
                        response.differing.append(mine)
                        response.differing_reasons.append("missing at the institution")
                elif other is not None:
                    fields = ("medfee_sumamt_fen", "fund_pay_sumamt_fen", "acct_pay_fen", "psn_cash_pay_fen", "status")
                    if any(getattr(other, f) != getattr(mine, f) for f in fields):
                        response.differing.append(mine)
                        response.differing_reasons.append("amounts or status differ")
            for missing in theirs.values():
                response.differing.append(missing)
                response.differing_reasons.append("unknown to the fund")
            response.matched = request.totals == ours and not response.differing
            return response

        return await self.db.read(read)

    async def CreateFiling(self, request: pb.CreateFilingRequest, context: grpc.aio.ServicerContext) -> pb.CreateFilingResponse:
        fund = access.current_principal()
        assert fund is not None
        require(request.person_id, "person_id")
        require(request.treatment_region_code, "treatment_region_code")
        self.core.rt.policies.get(request.treatment_region_code)
        valid_from, valid_to = _parse_date(request.valid_from, "valid_from"), _parse_date(request.valid_to, "valid_to")

        async def work(uow: UnitOfWork) -> pb.CreateFilingResponse:
            account = await store.get_account(uow.conn, request.person_id)
            if account is None:
                raise NotFound("ACCOUNT_NOT_FOUND", f"no insured person {request.person_id}")
            # Only the insured's home region files out-of-region care.
            access.check_subject(region=account.region_code)
            filing = domain.new_filing(new_id("fil"), account.person_id, account.region_code, request.treatment_region_code, valid_from, valid_to)
            await store.insert_filing(uow.conn, filing)
            await uow.audit("filing.created", account.person_id, channel=fund.org, detail=f"{filing.treatment_region_code} {valid_from}..{valid_to}")
            return pb.CreateFilingResponse(filing=_filing_pb(filing))

        return await self.db.idempotent(f"CreateFiling@{fund.org}", request, pb.CreateFilingResponse, work)

    async def ListFilings(self, request: pb.ListFilingsRequest, context: grpc.aio.ServicerContext) -> pb.ListFilingsResponse:
        require(request.person_id, "person_id")

        async def read(conn: Any) -> list[domain.Filing]:
            account = await store.get_account(conn, request.person_id)
            if account is None:
                raise NotFound("ACCOUNT_NOT_FOUND", f"no insured person {request.person_id}")
            access.check_subject(region=account.region_code)
            return await store.person_filings(conn, request.person_id)

        filings = await self.db.read(read)
        await self.db.audit_read("filings.listed", request.person_id)
        return pb.ListFilingsResponse(filings=[_filing_pb(f) for f in filings])

    async def RegisterLegacyAccount(self, request: pb.RegisterLegacyAccountRequest, context: grpc.aio.ServicerContext) -> pb.RegisterLegacyAccountResponse:
        fund = access.current_principal()
        assert fund is not None
        require(request.person_id, "person_id")
        require(request.legacy_card_no, "legacy_card_no")
        if len(request.legacy_card_no) > 20:
            raise InvalidArgument("INVALID_CARD_NO", "legacy_card_no has at most 20 characters", field="legacy_card_no")
        if request.balance_fen < 0:
            raise InvalidArgument("INVALID_AMOUNT", "balance_fen must not be negative", field="balance_fen")

        async def work(uow: UnitOfWork) -> pb.RegisterLegacyAccountResponse:
            account = await store.get_account(uow.conn, request.person_id, for_update=True)
            if account is None:
                raise NotFound("ACCOUNT_NOT_FOUND", f"no insured person {request.person_id}")
            access.check_subject(region=account.region_code)
            if await store.legacy_account(uow.conn, request.person_id) is not None:
                raise FailedPrecondition("LEGACY_ALREADY_REGISTERED", "this person's legacy medical card is already registered")
            if await store.get_card(uow.conn, request.legacy_card_no) is not None:
                raise FailedPrecondition("CARD_NUMBER_TAKEN", "a card with this number is already known", card_no=request.legacy_card_no)
            await store.save_legacy_account(uow.conn, request.person_id, request.legacy_card_no, request.balance_fen, "pending")
            legacy_card = domain.legacy_card(request.legacy_card_no, account.person_id, account.region_code)
            await store.save_card(uow.conn, legacy_card)
            await emit_legacy(uow, "registered", legacy_card, account)
            await uow.audit("legacy.registered", request.person_id, channel=fund.org, detail=f"{request.balance_fen} fen")
            status = "pending"
            if account.card_no:
                card = await store.get_card(uow.conn, account.card_no)
                if card is not None and card.card_state == "active":
                    await merge_legacy(uow, account)
                    status = "merged"
            return pb.RegisterLegacyAccountResponse(status=status)

        return await self.db.idempotent(f"RegisterLegacyAccount@{fund.org}", request, pb.RegisterLegacyAccountResponse, work)

    async def GetAccount(self, request: pb.GetAccountRequest, context: grpc.aio.ServicerContext) -> pb.GetAccountResponse:
        async def work(uow: UnitOfWork) -> pb.GetAccountResponse:
            card, account = await self._readable_account(uow, request)
            return pb.GetAccountResponse(person_id=account.person_id, card_no=account.card_no, balance_fen=account.balance_fen)

        return await self.db.transact(work)

    async def ListAccountEntries(self, request: pb.ListAccountEntriesRequest, context: grpc.aio.ServicerContext) -> pb.ListAccountEntriesResponse:
        if request.page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative", field="page_size")
        size = min(request.page_size or 50, MAX_PAGE)
        before = _decode_page_token(request.page_token)

        async def work(uow: UnitOfWork) -> pb.ListAccountEntriesResponse:
            card, _ = await self._readable_account(uow, request)
            rows = await store.entries(uow.conn, card.person_id, size + 1, before)
            response = pb.ListAccountEntriesResponse()
            for row in rows[:size]:
                entry = response.entries.add(
                    entry_id=row.entry_id, kind=ENTRY_KINDS.get(row.kind, 0), amount_fen=row.amount_fen,
                    balance_after_fen=row.balance_after_fen, card_no=row.card_no, reference=row.reference,
                )
                entry.at.FromMicroseconds(row.at_us)
            if len(rows) > size:
                response.next_page_token = base64.urlsafe_b64encode(str(rows[size - 1].seq).encode()).decode()
            return response

        return await self.db.transact(work)

    async def _readable_account(self, uow: UnitOfWork, request: Any) -> tuple[CardProjection, Account]:
        """The account a query may read: a citizen their own, a fund office its region's, an
        institution only a card presented to it (card + PIN, e-card token, or its own settlement).
        A wrong PIN counts like one at the POS; every read of the account is audited (PIPL)."""
        card, vouched = await self.core.card(uow.conn, request.card_no, request.ecard_token, for_update=True)
        if card.card_state == "replaced":
            raise FailedPrecondition("CARD_REPLACED", f"card {card.card_no} was replaced by {card.replaced_by_card_no}", card_no=card.card_no)
        account = await self.core.account_of(uow.conn, card)
        presented = vouched
        if access.needs("card_presented") and not presented:
            institution = self.core.institution()
            if request.pin and card.pin_enabled:
                # The holder's own (enabled) PIN: the initial 123456 proves nothing.
                await self.core.check_pin(uow, card, request.pin, institution.code)
                presented = True
            else:
                presented = await store.has_settlement(uow.conn, institution.code, card.person_id)
        access.check_subject(person_id=card.person_id, region=account.region_code, presented=presented)
        await uow.audit("account.read", account.person_id, detail=f"card {card.card_no[-4:]}")
        return card, account

async def merge_legacy(uow: UnitOfWork, account: Account) -> Account:
    """The legacy medical card's balance moves into the personal account (once)."""
    legacy = await store.legacy_account(uow.conn, account.person_id)
    if legacy is None or legacy.status != "pending" or account.closed:
        return account
    if legacy.balance_fen:
        account = domain.credit(account, legacy.balance_fen)
        await store.save_account(uow.conn, account)
        await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind="move_in", amount_fen=legacy.balance_fen,
                              reference=f"legacy {legacy.legacy_card_no}", at_us=uow.now_us)
    await store.save_legacy_account(uow.conn, account.person_id, legacy.legacy_card_no, legacy.balance_fen, "merged")
    card = await store.get_card(uow.conn, legacy.legacy_card_no, for_update=True)
    if card is not None:
        card = domain.legacy_replaced(card, account.card_no)
        await store.save_card(uow.conn, card)
        await emit_legacy(uow, "merged", card, account)
    return account


async def emit_legacy(uow: UnitOfWork, what: str, card: CardProjection, account: Account) -> None:
    """Tell loss about the old medical card: reportable lost while it works, dead once merged."""
    await uow.emit(f"legacy.{what}", card.card_no, events.LegacyCardChanged(
        card_no=card.card_no, person_id=account.person_id, citizen_id=account.citizen_id, name=account.name,
        region_code=card.region_code, state=card.card_state, replaced_by_card_no=card.replaced_by_card_no,
    ))


def _filing_pb(filing: domain.Filing) -> pb.Filing:
    return pb.Filing(filing_id=filing.filing_id, person_id=filing.person_id, treatment_region_code=filing.treatment_region_code,
                     valid_from=filing.valid_from.isoformat(), valid_to=filing.valid_to.isoformat())


class _ReadOnly:
    """Lets a read-only query reuse a unit-of-work-shaped function."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn


def _decode_page_token(token: str) -> int | None:
    if not token:
        return None
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        value = -1
    if not 0 <= value < 2**63:
        raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token is not one this service issued", field="page_token")
    return value
