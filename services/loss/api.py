"""LossService over gRPC: proto <-> domain mapping, PIN checks through cards."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import grpc

from services.common.agents import validate_agent
from services.common import access
from services.common.app import Runtime
from services.common.clock import business_date
from services.common.db import UnitOfWork
from services.common.errors import InvalidArgument, NotFound, require
from services.common.ids import new_id
from services.common.server import from_rpc_error
from services.loss import domain, store
from services.loss.domain import CardLoss, CardView, Channel, LossState
from sscard.cards.v1 import cards_pb2, cards_pb2_grpc
from sscard.events.v1 import loss_events_pb2 as events
from sscard.loss.v1 import loss_pb2 as pb
from sscard.loss.v1 import loss_pb2_grpc

CHANNELS = {pb.LossChannel.Value("LOSS_CHANNEL_" + c.name): c for c in Channel}
STATES = {s: pb.LossState.Value("LOSS_STATE_" + s.name) for s in LossState}


def _channel(value: int) -> Channel:
    if value not in CHANNELS:
        raise InvalidArgument("INVALID_ENUM" if value else "FIELD_REQUIRED", "channel must be a known loss channel", field="channel")
    return CHANNELS[value]


def _own_channel() -> int:
    """An act without a channel is done where the caller stands: a clerk's outlet, a bank's bank; a caller with
    several channels (a citizen online) must name one."""
    principal = access.current_principal()
    own = access.LOSS_CHANNELS_BY_KIND.get(principal.kind, set()) if principal else set()
    return next(iter(own)) if len(own) == 1 else 0


class LossCore:
    """Use cases shared by the servicer, the expiry scheduler and event handlers."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.db = runtime.db

    def cards(self) -> cards_pb2_grpc.CardServiceStub:
        return cards_pb2_grpc.CardServiceStub(self.rt.peer("cards"))

    async def verify_pin(self, card_no: str, pin: str, context: grpc.aio.ServicerContext) -> None:
        """Self-service channels: the cards service checks (and counts) the PIN.

        The caller's deadline carries over: we never wait on cards longer than our own caller waits on us.
        """
        remaining = context.time_remaining()
        timeout = min(5.0, remaining) if remaining is not None else 5.0
        try:
            await self.cards().VerifyPin(cards_pb2.VerifyPinRequest(card_no=card_no, pin=pin), timeout=timeout)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None

    async def card(self, uow_or_conn: Any, card_no: str) -> CardView:
        require(card_no, "card_no")
        card = await store.get_card(getattr(uow_or_conn, "conn", uow_or_conn), card_no)
        if card is None:
            raise NotFound("CARD_NOT_FOUND", f"no card {card_no}", card_no=card_no)
        return card

    async def announce(self, uow: UnitOfWork, card: CardView, loss: CardLoss, what: str, channel: str = "") -> None:
        await uow.emit(
            f"card.{what}",
            card.card_no,
            events.CardLossChanged(
                card_no=card.card_no,
                person_id=card.person_id,
                report_id=loss.report_id,
                loss_state=loss.state.value,
                channel=channel,
                bank_code=card.bank_code,
                reported_wall_us=time.time_ns() // 1000,
            ),
        )

    async def expire_due(self) -> int:
        """Lapse temporary reports whose validity has run out: the card works again."""

        async def work(uow: UnitOfWork) -> int:
            due = await store.due_expiries(uow.conn, uow.now)
            for listed in due:
                # Read again under the row lock: a formal report or a lift committed since the list was
                # read must not be overwritten by the lapse of the temporary report it replaced.
                loss = await store.get_loss(uow.conn, listed.card_no, for_update=True)
                lapsed = domain.expire(loss, uow.now)
                if lapsed is None:
                    continue
                card = await self.card(uow, loss.card_no)
                await store.save_loss(uow.conn, lapsed)
                await store.record_history(uow, card.card_no, loss.report_id, "expired", uow.now, detail="not made formal in time")
                await self.announce(uow, card, lapsed, "expired")
            return len(due)

        return await self.db.transact(work)

    async def expiry_loop(self) -> None:
        while True:
            await self.expire_due()
            await self.rt.clock.changed(self.rt.settings.scheduler_interval_s)


def _state_response(loss: CardLoss, history: list[Any]) -> pb.GetLossStateResponse:
    response = pb.GetLossStateResponse(card_no=loss.card_no, state=STATES[loss.state])
    if loss.expires_at:
        response.expires_at.FromDatetime(loss.expires_at)
    for row in history:
        record = response.history.add(report_id=row.report_id, what=row.what)
        if row.channel in {c.value for c in Channel}:
            record.channel = pb.LossChannel.Value("LOSS_CHANNEL_" + Channel(row.channel).name)
        if row.agent:
            masked_id, relationship, letter = (row.agent.split("|") + ["", "", ""])[:3]
            record.agent.citizen_id, record.agent.relationship, record.agent.entrustment_ref = masked_id, relationship, letter
        record.at.FromMicroseconds(row.at_us)
        record.detail = row.detail
    return response


def claim_to_pb(claim: domain.RefundClaim) -> pb.RefundClaim:
    return pb.RefundClaim(
        claim_id=claim.claim_id, card_no=claim.card_no, report_id=claim.report_id, institution_code=claim.institution_code,
        receipt_no=claim.receipt_no, expense_date=claim.expense_date.isoformat(), amount_fen=claim.amount_fen,
        status=pb.RefundStatus.Value("REFUND_STATUS_" + claim.status.name), review_note=claim.review_note,
    )


class LossServicer(loss_pb2_grpc.LossServiceServicer):
    def __init__(self, core: LossCore) -> None:
        self.core = core
        self.db = core.db

    async def ReportTemporaryLoss(
        self, request: pb.ReportTemporaryLossRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportTemporaryLossResponse:
        channel = _channel(request.channel)
        card = await self.db.read(lambda c: self.core.card(c, request.card_no))
        access.check_subject(person_id=card.person_id)
        domain.check_channel(channel, "temporary", self.core.rt.policies.get(card.region_code).loss_channels["temporary"])
        domain.check_reportable(card)
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, card.citizen_id)
        if domain.requires_pin(channel):
            domain.check_pin_channel(card, request.pin)
            await self.core.verify_pin(card.card_no, request.pin, context)
        else:
            domain.check_identity(card, request.citizen_id, request.name)

        async def work(uow: UnitOfWork) -> pb.ReportTemporaryLossResponse:
            policy = self.core.rt.policies.get(card.region_code)
            loss, changed = domain.report_temporary(
                await store.get_loss(uow.conn, card.card_no, for_update=True), new_id("rpt"), uow.now, policy.temporary_loss_validity
            )
            if changed:
                await store.save_loss(uow.conn, loss)
                await store.record_history(uow, card.card_no, loss.report_id, "reported_temporary", uow.now, channel.value, agent.describe() if agent else "")
                await self.core.announce(uow, card, loss, "reported", channel.value)
            response = pb.ReportTemporaryLossResponse(report_id=loss.report_id, state=STATES[loss.state])
            if loss.expires_at:
                response.expires_at.FromDatetime(loss.expires_at)
            return response

        return await self.db.idempotent("ReportTemporaryLoss", request, pb.ReportTemporaryLossResponse, work)

    async def ReportFormalLoss(
        self, request: pb.ReportFormalLossRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportFormalLossResponse:
        channel = _channel(request.channel)
        card = await self.db.read(lambda c: self.core.card(c, request.card_no))
        domain.check_channel(channel, "formal", self.core.rt.policies.get(card.region_code).loss_channels["formal"])
        domain.check_reportable(card)
        domain.check_identity(card, request.citizen_id, request.name)
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, card.citizen_id)

        async def work(uow: UnitOfWork) -> pb.ReportFormalLossResponse:
            loss, changed = domain.report_formal(await store.get_loss(uow.conn, card.card_no, for_update=True), new_id("rpt"))
            if changed:
                await store.save_loss(uow.conn, loss)
                await store.record_history(uow, card.card_no, loss.report_id, "reported_formal", uow.now, channel.value, agent.describe() if agent else "")
                await self.core.announce(uow, card, loss, "reported", channel.value)
            return pb.ReportFormalLossResponse(report_id=loss.report_id, state=STATES[loss.state])

        return await self.db.idempotent("ReportFormalLoss", request, pb.ReportFormalLossResponse, work)

    async def LiftLoss(self, request: pb.LiftLossRequest, context: grpc.aio.ServicerContext) -> pb.LiftLossResponse:
        channel = _channel(request.channel or _own_channel())
        card = await self.db.read(lambda c: self.core.card(c, request.card_no))
        access.check_subject(person_id=card.person_id)
        domain.check_channel(channel, "lift", self.core.rt.policies.get(card.region_code).loss_channels["lift"])
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, card.citizen_id)
        domain.check_identity(card, request.citizen_id, "", need_name=False)

        async def work(uow: UnitOfWork) -> pb.LiftLossResponse:
            current = await store.get_loss(uow.conn, card.card_no, for_update=True)
            loss = domain.lift(current)
            await store.save_loss(uow.conn, loss)
            await store.record_history(uow, card.card_no, current.report_id, "lifted", uow.now, channel.value, agent.describe() if agent else "")
            await self.core.announce(uow, card, CardLoss(card.card_no, LossState.NONE, current.report_id), "lifted", channel.value)
            return pb.LiftLossResponse(state=STATES[loss.state])

        return await self.db.idempotent("LiftLoss", request, pb.LiftLossResponse, work)

    async def GetLossState(self, request: pb.GetLossStateRequest, context: grpc.aio.ServicerContext) -> pb.GetLossStateResponse:
        async def read(conn: Any) -> pb.GetLossStateResponse:
            card = await self.core.card(conn, request.card_no)
            access.check_subject(person_id=card.person_id, region=card.region_code)
            return _state_response(await store.get_loss(conn, card.card_no), await store.history(conn, card.card_no))

        response = await self.db.read(read)
        await self.db.audit_read("loss.read", request.card_no)
        return response

    async def ClaimLossPeriodRefund(
        self, request: pb.ClaimLossPeriodRefundRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClaimLossPeriodRefundResponse:
        try:
            expense_date = date.fromisoformat(request.expense_date)
        except ValueError:
            raise InvalidArgument("INVALID_DATE", "expense_date must be YYYY-MM-DD", field="expense_date") from None
        card = await self.db.read(lambda c: self.core.card(c, request.card_no))
        filer = access.check_subject(region=card.region_code)
        domain.check_identity(card, request.citizen_id, "", need_name=False)
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, card.citizen_id)
        policy = self.core.rt.policies.get(card.region_code)

        async def work(uow: UnitOfWork) -> pb.ClaimLossPeriodRefundResponse:
            current = await store.get_loss(uow.conn, card.card_no, for_update=True)
            reported_on = await store.report_date(uow.conn, current.report_id) if current.report_id else None
            claim = domain.claim_refund(
                new_id("rfd"), current, reported_on or business_date(uow.now), await store.claim_for_report(uow.conn, current.report_id),
                request.institution_code, request.receipt_no, expense_date, request.amount_fen, business_date(uow.now), filer.actor,
                tuple(await store.expenses(uow.conn, current.report_id)) if current.report_id else (),
                policy.loss_period_refund_most_recent_only, await store.most_recent_expense(uow.conn, current.report_id),
            )
            await store.save_claim(uow.conn, claim)
            await store.record_history(uow, card.card_no, claim.report_id, "refund_claimed", uow.now, "outlet",
                                    agent.describe() if agent else "", f"{claim.amount_fen} fen at {claim.institution_code}")
            return pb.ClaimLossPeriodRefundResponse(claim=claim_to_pb(claim))

        return await self.db.idempotent("ClaimLossPeriodRefund", request, pb.ClaimLossPeriodRefundResponse, work)

    async def ReviewLossPeriodRefund(
        self, request: pb.ReviewLossPeriodRefundRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviewLossPeriodRefundResponse:
        require(request.claim_id, "claim_id")

        async def work(uow: UnitOfWork) -> pb.ReviewLossPeriodRefundResponse:
            claim = await store.get_claim(uow.conn, request.claim_id)
            if claim is None:
                raise NotFound("CLAIM_NOT_FOUND", f"no refund claim {request.claim_id}")
            card = await self.core.card(uow, claim.card_no)
            # The reviewer is the authenticated fund officer of the card's region, not whoever filed it.
            reviewer = access.check_subject(region=card.region_code, filer=claim.filed_by)
            claim = domain.review_refund(
                claim, request.approve, request.note[:200], self.core.rt.policies.get(card.region_code).loss_period_refund_most_recent_only,
                await store.most_recent_expense(uow.conn, claim.report_id),
            )
            await store.save_claim(uow.conn, claim)
            await store.record_history(uow, claim.card_no, claim.report_id, f"refund_{claim.status.value}", uow.now, detail=f"by {reviewer.actor}"[:400])
            if claim.status is domain.RefundStatus.APPROVED:
                await uow.emit("refund.approved", claim.card_no, events.RefundApproved(
                    claim_id=claim.claim_id, card_no=claim.card_no, person_id=card.person_id, amount_fen=claim.amount_fen, report_id=claim.report_id,
                ))
            return pb.ReviewLossPeriodRefundResponse(claim=claim_to_pb(claim))

        return await self.db.idempotent("ReviewLossPeriodRefund", request, pb.ReviewLossPeriodRefundResponse, work)
