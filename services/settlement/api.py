"""SettlementService over gRPC: authentication, proto <-> domain, the ledger posting."""

from __future__ import annotations

import base64
import time
from typing import Any

import grpc

from services.common import observability
from services.common.app import Runtime
from services.common.auth import Institution, authenticate, load_institutions
from services.common.db import UnitOfWork
from services.common.errors import CommitThenRaise, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, require
from services.common.ids import new_id
from services.settlement import benefits, domain, store
from services.settlement.domain import Account, CardProjection
from sscard.events.v1 import settlement_events_pb2 as events
from sscard.settlement.v1 import settlement_pb2 as pb
from sscard.settlement.v1 import settlement_pb2_grpc

CARE_TYPES = {pb.CARE_TYPE_OUTPATIENT: "outpatient", pb.CARE_TYPE_INPATIENT: "inpatient", pb.CARE_TYPE_PHARMACY: "pharmacy"}
CLASSES = {pb.CATALOG_CLASS_A: benefits.CatalogClass.A, pb.CATALOG_CLASS_B: benefits.CatalogClass.B, pb.CATALOG_CLASS_C: benefits.CatalogClass.C}
ENTRY_KINDS = {name.removeprefix("ENTRY_KIND_").lower(): value for name, value in pb.EntryKind.items()}
MAX_ITEMS = 500
MAX_PAGE = 200


class SettlementCore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.db = runtime.db
        self.pepper = runtime.settings.pin_pepper
        self.institutions = load_institutions(runtime.settings.institutions_file)

    def caller(self, context: grpc.aio.ServicerContext, *kinds: str) -> Institution:
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        # Credentials expire in real time, whatever the business clock says.
        institution = authenticate(metadata, self.institutions, int(time.time()))
        if institution.kind not in kinds:
            raise PermissionDenied("INSTITUTION_NOT_ALLOWED", f"a {institution.kind} may not call this")
        return institution

    async def card(self, uow_or_conn: Any, card_no: str) -> CardProjection:
        require(card_no, "card_no")
        card = await store.get_card(getattr(uow_or_conn, "conn", uow_or_conn), card_no)
        if card is None:
            raise NotFound("CARD_NOT_FOUND", f"no card {card_no}", card_no=card_no)
        return card

    async def account_of(self, conn: Any, card: CardProjection, for_update: bool = False) -> Account:
        account = await store.get_account(conn, card.person_id, for_update)
        if account is None:
            raise NotFound("ACCOUNT_NOT_FOUND", "the card's holder has no personal account")
        return account

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
        return benefits.Bill(
            institution=benefits.Institution(kind=institution.kind, level=institution.level),
            care_type=benefits.CareType(care),
            items=tuple(lines),
        )

    def split(self, bill: benefits.Bill, account: Account, institution: Institution, ytd: benefits.YearToDate) -> benefits.Split:
        home = self.rt.policies.get(account.region_code)
        treatment = self.rt.policies.get(institution.region_code or account.region_code)
        return benefits.split_bill(
            bill,
            home=benefits.BenefitPolicy.from_mapping(home.benefits).for_category(account.insured_category),
            treatment=benefits.CatalogPolicy.from_mapping(treatment.benefits),
            ytd=ytd,
            account_balance_fen=account.balance_fen,
        )


def _split_pb(split: benefits.Split) -> dict[str, int]:
    return dict(
        medfee_sumamt_fen=split.medfee_sumamt_fen,
        fund_pay_sumamt_fen=split.fund_pay_fen,
        acct_pay_fen=split.acct_pay_fen,
        psn_cash_pay_fen=split.cash_pay_fen,
    )


class SettlementServicer(settlement_pb2_grpc.SettlementServiceServicer):
    def __init__(self, core: SettlementCore) -> None:
        self.core = core
        self.db = core.db

    async def AllocateToAccount(self, request: pb.AllocateToAccountRequest, context: grpc.aio.ServicerContext) -> pb.AllocateToAccountResponse:
        authority = self.core.caller(context, "authority")
        require(request.person_id, "person_id")
        domain.check_amount(request.amount_fen, "amount_fen")

        async def work(uow: UnitOfWork) -> pb.AllocateToAccountResponse:
            account = await store.get_account(uow.conn, request.person_id, for_update=True)
            if account is None:
                raise NotFound("ACCOUNT_NOT_FOUND", f"no personal account for {request.person_id}")
            account = domain.credit(account, request.amount_fen)
            entry_id = new_id("ent")
            await store.save_account(uow.conn, account)
            await store.add_entry(uow.conn, entry_id=entry_id, account=account, kind="allocation", amount_fen=request.amount_fen, reference=request.period[:40], at_us=uow.now_us)
            await uow.audit("account.allocated", account.person_id, channel=authority.code, detail=f"{request.amount_fen} fen {request.period[:40]}")
            return pb.AllocateToAccountResponse(entry_id=entry_id, balance_fen=account.balance_fen)

        return await self.db.idempotent(f"AllocateToAccount@{authority.code}", request, pb.AllocateToAccountResponse, work)

    async def CheckCard(self, request: pb.CheckCardRequest, context: grpc.aio.ServicerContext) -> pb.CheckCardResponse:
        self.core.caller(context, "hospital", "pharmacy", "authority")
        card = await self.db.read(lambda c: self.core.card(c, request.card_no))
        reason = domain.refusal_reason(card)
        return pb.CheckCardResponse(
            card_no=card.card_no,
            person_id=card.person_id,
            region_code=card.region_code,
            usability=pb.CARD_USABILITY_REFUSED if reason else pb.CARD_USABILITY_USABLE,
            refusal_reason=reason or "",
        )

    async def PreSettle(self, request: pb.PreSettleRequest, context: grpc.aio.ServicerContext) -> pb.PreSettleResponse:
        institution = self.core.caller(context, "hospital", "pharmacy")
        bill = self.core.bill(institution, request.care_type, request.items)

        async def read(conn: Any) -> pb.PreSettleResponse:
            card = await self.core.card(conn, request.card_no)
            reason = domain.refusal_reason(card)
            if reason:
                raise FailedPrecondition(reason, f"card {card.card_no} may not settle: {reason}", card_no=card.card_no)
            account = await self.core.account_of(conn, card)
            ytd = await store.year_to_date(conn, account.person_id, self.core.rt.clock.now().year)
            return pb.PreSettleResponse(**_split_pb(self.core.split(bill, account, institution, ytd)))

        return await self.db.read(read)

    async def Settle(self, request: pb.SettleRequest, context: grpc.aio.ServicerContext) -> pb.SettleResponse:
        institution = self.core.caller(context, "hospital", "pharmacy")
        require(request.msg_id, "msg_id")
        bill = self.core.bill(institution, request.care_type, request.items)

        async def work(uow: UnitOfWork) -> pb.SettleResponse:
            card = await self.core.card(uow, request.card_no)
            reason = domain.refusal_reason(card)
            if reason:
                observability.SETTLEMENT_REFUSALS.labels("settlement", reason).inc()
                await uow.emit("card.refused", card.card_no, events.SettlementRefused(
                    card_no=card.card_no, reason=reason, institution_code=institution.code, medfee_sumamt_fen=bill.total_fen,
                ))
                raise CommitThenRaise(FailedPrecondition(reason, f"card {card.card_no} may not settle: {reason}", card_no=card.card_no))
            domain.check_pin(card, request.pin, self.core.pepper)
            account = await self.core.account_of(uow.conn, card, for_update=True)
            year = uow.now.year
            split = self.core.split(bill, account, institution, await store.year_to_date(uow.conn, account.person_id, year))
            setl_id = new_id("setl")
            account = domain.debit(account, split.acct_pay_fen)
            await store.save_account(uow.conn, account)
            if split.acct_pay_fen:
                await store.add_entry(uow.conn, entry_id=new_id("ent"), account=account, kind="settlement", amount_fen=-split.acct_pay_fen, reference=setl_id, at_us=uow.now_us)
            await store.insert_settlement(
                uow.conn, setl_id=setl_id, institution_code=institution.code, msg_id=request.msg_id, card_no=card.card_no,
                person_id=account.person_id, care_type=bill.care_type.value, medfee_sumamt_fen=split.medfee_sumamt_fen,
                fund_pay_fen=split.fund_pay_fen, acct_pay_fen=split.acct_pay_fen, cash_pay_fen=split.cash_pay_fen,
                deductible_fen=split.deductible_applied_fen, year=year, status="settled", at_us=uow.now_us,
            )
            await uow.emit("card.settled", card.card_no, events.Settled(
                card_no=card.card_no, setl_id=setl_id, institution_code=institution.code, medfee_sumamt_fen=split.medfee_sumamt_fen,
            ))
            response = pb.SettleResponse(setl_id=setl_id, balance_fen=account.balance_fen, **_split_pb(split))
            response.settled_at.FromDatetime(uow.now)
            return response

        return await self.db.idempotent(f"Settle@{institution.code}", request, pb.SettleResponse, work, key_field="msg_id")

    async def GetAccount(self, request: pb.GetAccountRequest, context: grpc.aio.ServicerContext) -> pb.GetAccountResponse:
        self.core.caller(context, "hospital", "pharmacy", "authority")

        async def read(conn: Any) -> pb.GetAccountResponse:
            card = await self._answering_card(conn, request.card_no)
            account = await self.core.account_of(conn, card)
            return pb.GetAccountResponse(person_id=account.person_id, card_no=account.card_no, balance_fen=account.balance_fen)

        return await self.db.read(read)

    async def ListAccountEntries(self, request: pb.ListAccountEntriesRequest, context: grpc.aio.ServicerContext) -> pb.ListAccountEntriesResponse:
        self.core.caller(context, "hospital", "pharmacy", "authority")
        if request.page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative", field="page_size")
        size = min(request.page_size or 50, MAX_PAGE)
        before = _decode_page_token(request.page_token)

        async def read(conn: Any) -> pb.ListAccountEntriesResponse:
            card = await self._answering_card(conn, request.card_no)
            rows = await store.entries(conn, card.person_id, size + 1, before)
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

        return await self.db.read(read)

    async def _answering_card(self, conn: Any, card_no: str) -> CardProjection:
        """Queries answer for the current card only: a replaced card is refused for good."""
        card = await self.core.card(conn, card_no)
        if card.card_state == "replaced":
            raise FailedPrecondition("CARD_REPLACED", f"card {card_no} was replaced by {card.replaced_by_card_no}", card_no=card_no)
        return card


def _decode_page_token(token: str) -> int | None:
    if not token:
        return None
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token is not one this service issued", field="page_token") from None
