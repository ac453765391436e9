"""CardService over gRPC: proto <-> domain mapping."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import grpc

from services.cards import domain, store
from services.cards.domain import ApplicationKind, Card, CardState
from services.common.agents import validate_agent
from services.common import access, pinseal
from services.common.app import Runtime
from services.common.auth import issue_ecard_token
from services.common.clock import business_date
from services.common.db import UnitOfWork
from services.common.errors import CommitThenRaise, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable, require
from sscard.cards.v1 import cards_pb2 as pb
from sscard.cards.v1 import cards_pb2_grpc
from sscard.events.v1 import cards_events_pb2 as events
from sscard.identity.v1 import identity_pb2, identity_pb2_grpc

# How long a batch waits at most for memberships identity already recorded to reach cards over the bus.
MEMBERSHIP_WAIT_S = 5.0
# The QR code refreshes every minute in the holder's app (real time: it is a credential).
ECARD_TTL_S = 60
KINDS = {
    pb.APPLICATION_KIND_FIRST: ApplicationKind.FIRST,
    pb.APPLICATION_KIND_REISSUE: ApplicationKind.REISSUE,
    pb.APPLICATION_KIND_EXCHANGE: ApplicationKind.EXCHANGE,
}
CHANNELS = {
    pb.APPLICATION_CHANNEL_OUTLET: "outlet",
    pb.APPLICATION_CHANNEL_DISTRICT_CENTRE: "district_centre",
    pb.APPLICATION_CHANNEL_BANK_OUTLET: "bank_outlet",
    pb.APPLICATION_CHANNEL_EMPLOYER_BATCH: "employer_batch",
    pb.APPLICATION_CHANNEL_ONLINE: "online",
}
DELIVERIES = {pb.DELIVERY_OUTLET_PICKUP: "outlet_pickup", pb.DELIVERY_COURIER: "courier"}
FAILURES = {pb.FailureReason.Value("FAILURE_REASON_" + r.name): r for r in domain.FailureReason}
ACTIVATION_CHANNELS = {
    pb.ACTIVATION_CHANNEL_INSTITUTION: "institution",
    pb.ACTIVATION_CHANNEL_BANK_OUTLET: "bank_outlet",
    pb.ACTIVATION_CHANNEL_FINANCIAL_ZONE: "financial_zone",
    pb.ACTIVATION_CHANNEL_SERVICE_WINDOW: "service_window",
}
ACTIVATION_CHANNEL_PB = {name: number for number, name in ACTIVATION_CHANNELS.items()}


def card_to_pb(card: Card) -> pb.Card:
    message = pb.Card(
        card_no=card.card_no,
        person_id=card.person_id,
        citizen_id=card.citizen_id,
        name=card.name,
        region_code=card.region_code,
        state=pb.CardState.Value("CARD_STATE_" + card.state.name),
        kind=pb.ApplicationKind.Value("APPLICATION_KIND_" + card.kind.name),
        channel=pb.ApplicationChannel.Value("APPLICATION_CHANNEL_" + card.channel.upper()),
        pickup_certificate_no=card.pickup_certificate_no,
        fee_fen=card.fee_fen,
        ready_by=card.ready_by.isoformat(),
        replaces_card_no=card.replaces_card_no,
        replaced_by_card_no=card.replaced_by_card_no,
        pin_enabled=card.pin_enabled,
        failure_reason=card.failure_reason,
        delivery=pb.Delivery.Value("DELIVERY_" + card.delivery.upper()),
        employer_unit_id=card.employer_unit_id,
    )
    message.applied_at.FromDatetime(card.applied_at)
    if card.activated_at:
        message.activated_at.FromDatetime(card.activated_at)
    message.activation_channel = ACTIVATION_CHANNEL_PB.get(card.activation_channel, 0)
    if card.handout_due:
        message.handout_due = card.handout_due.isoformat()
    return message


def progress_pb(card: Card) -> pb.Card:
    """What a progress query answers: state and dates, never the pickup certificate or numbers
    that could be used to collect or act on the card."""
    full = card_to_pb(card)
    answer = pb.Card(card_no=full.card_no, state=full.state, kind=full.kind, channel=full.channel, ready_by=full.ready_by,
                     failure_reason=full.failure_reason, delivery=full.delivery, region_code=full.region_code)
    answer.applied_at.CopyFrom(full.applied_at)
    if full.HasField("activated_at"):
        answer.activated_at.CopyFrom(full.activated_at)
    return answer


def card_event(card: Card, seal_key: bytes, bank_code: str = "") -> events.CardChanged:
    return events.CardChanged(
        card_no=card.card_no,
        person_id=card.person_id,
        citizen_id=card.citizen_id,
        name=card.name,
        region_code=card.region_code,
        state=card.state.value,
        reason=card.failure_reason,
        replaces_card_no=card.replaces_card_no,
        replaced_by_card_no=card.replaced_by_card_no,
        pin_enabled=card.pin_enabled,
        pin_seal=pinseal.seal(seal_key, card.card_no, card.pin_hash, card.pin_salt),
        wrong_pin_count=card.wrong_pin_count,
        kind=card.kind.value,
        fee_fen=card.fee_fen,
        bank_code=bank_code,
    )


class CardsCore:
    """Use cases shared by the gRPC servicer, event handlers and schedulers."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.db = runtime.db
        self.pepper = runtime.settings.pin_pepper

    async def publish(self, uow: UnitOfWork, card: Card, what: str) -> None:
        bank = self.rt.policies.get(card.region_code).partner_bank
        await uow.emit(f"card.{what}", card.card_no, card_event(card, self.rt.settings.pin_seal_key, bank))

    async def load(self, uow_or_conn: Any, card_no: str) -> Card:
        """The card; in a unit of work (a write), with its row locked until the commit."""
        require(card_no, "card_no")
        writing = isinstance(uow_or_conn, UnitOfWork)
        card = await store.get_card(uow_or_conn.conn if writing else uow_or_conn, card_no, for_update=writing)
        if card is None:
            raise NotFound("CARD_NOT_FOUND", f"no card {card_no}", card_no=card_no)
        return card

    async def apply(
        self, uow: UnitOfWork, person_id: str, kind: ApplicationKind, channel: str, replaces: str = "",
        delivery: str = "outlet_pickup", address: str = "",
    ) -> Card:
        person = await store.get_person(uow.conn, person_id)
        if person is None:
            raise NotFound("PERSON_NOT_FOUND", f"no person {person_id}", person_id=person_id)
        domain.check_can_apply(person, await store.person_cards(uow.conn, person_id), kind)
        card = domain.new_card(
            card_no="C" + f"{secrets.randbelow(10**10):010d}",
            certificate_no=f"LK{business_date(uow.now):%Y%m%d}{secrets.randbelow(10**8):08d}",
            person=person,
            kind=kind,
            channel=channel,
            policy=self.rt.policies.get(person.region_code),
            now=uow.now,
            pin_salt=secrets.token_hex(16),
            pepper=self.pepper,
            replaces_card_no=replaces,
            delivery=delivery,
            delivery_address=address,
        )
        await store.insert_card(uow.conn, card)
        await self.publish(uow, card, "applied")
        return card

    async def await_members(self, person_ids: list[str], unit_id: str, context: grpc.aio.ServicerContext) -> None:
        """An employer applies for staff it has just registered: identity has recorded the membership,
        but it may still be on its way to cards over the bus. Wait for it within the call's deadline
        (at most MEMBERSHIP_WAIT_S); UNAVAILABLE / MEMBERSHIP_NOT_YET_KNOWN, retryable, if it has not
        come by then. Persons identity itself does not count in the unit are left to the batch, which
        refuses them NOT_A_MEMBER."""
        unknown = await self._not_yet_members(person_ids, unit_id)
        if not unknown:
            return
        said = await asyncio.gather(*(self._member_upstream(p, unit_id, context) for p in unknown))
        waiting = [p for p, member in zip(unknown, said) if member]
        loop = asyncio.get_running_loop()
        budget = min(MEMBERSHIP_WAIT_S, max((context.time_remaining() or MEMBERSHIP_WAIT_S) - 0.25, 0.0))
        deadline = loop.time() + budget
        while waiting:
            waiting = await self._not_yet_members(waiting, unit_id)
            if waiting and loop.time() >= deadline:
                raise Unavailable("MEMBERSHIP_NOT_YET_KNOWN", f"{len(waiting)} person(s) the unit registered are not yet known to the cards "
                                  "service; retry with the same request_id", person_id=waiting[0])
            if waiting:
                await asyncio.sleep(0.02)

    async def _not_yet_members(self, person_ids: list[str], unit_id: str) -> list[str]:
        async def read(conn: Any) -> list[str]:
            return [p for p in person_ids if not domain.is_member(await store.get_person(conn, p), unit_id)]

        return await self.db.read(read)

    async def _member_upstream(self, person_id: str, unit_id: str, context: grpc.aio.ServicerContext) -> bool:
        """Whether identity (the source of the fact) counts the person in the unit."""
        stub = identity_pb2_grpc.IdentityServiceStub(self.rt.peer("identity"))
        try:
            reply = await stub.GetPerson(identity_pb2.GetPersonRequest(person_id=person_id), timeout=min(context.time_remaining() or 2.0, 2.0))
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return False
            raise Unavailable("MEMBERSHIP_NOT_YET_KNOWN", "the unit's membership cannot be confirmed now; retry with the same request_id",
                              person_id=person_id) from None
        return reply.person.employer_unit_id == unit_id

    async def activate(self, uow: UnitOfWork, card: Card, channel: str) -> Card:
        if card.state is CardState.ACTIVE:
            return card
        card = domain.activate(card, uow.now, channel)
        if card.replaces_card_no:
            # The old card dies first, so no consumer ever sees two usable cards.
            old = await store.get_card(uow.conn, card.replaces_card_no, for_update=True)
            if old is not None and old.state is not CardState.REPLACED:
                old = domain.replaced_by(old, card.card_no)
                await store.save_card(uow.conn, old)
                await self.publish(uow, old, "replaced")
        await store.save_card(uow.conn, card)
        await self.publish(uow, card, "activated")
        await uow.audit("card.activated", card.card_no, channel=channel)
        return card

    async def complete_due_production(self) -> int:
        """The card factory's output: cards whose promised date has come are ready."""

        async def work(uow: UnitOfWork) -> int:
            today = business_date(uow.now)
            due = await store.due_cards(uow.conn, today)
            for card in due:
                card = domain.complete_production(card, today, self.rt.policies.get(card.region_code))
                await store.save_card(uow.conn, card)
                await self.publish(uow, card, "ready")
            return len(due)

        return await self.db.transact(work)

    async def production_loop(self) -> None:
        while True:
            await self.complete_due_production()
            await self.rt.clock.changed(self.rt.settings.scheduler_interval_s)


class CardServicer(cards_pb2_grpc.CardServiceServicer):
    def __init__(self, core: CardsCore) -> None:
        self.core = core
        self.db = core.db

    async def ApplyForCard(self, request: pb.ApplyForCardRequest, context: grpc.aio.ServicerContext) -> pb.ApplyForCardResponse:
        require(request.person_id, "person_id")
        kind = KINDS.get(request.kind or pb.APPLICATION_KIND_FIRST)
        channel = CHANNELS.get(request.channel or pb.APPLICATION_CHANNEL_OUTLET)
        delivery = DELIVERIES.get(request.delivery or pb.DELIVERY_OUTLET_PICKUP)
        if kind is None or channel is None or delivery is None or kind is ApplicationKind.REMAKE:
            raise InvalidArgument("INVALID_ENUM", "kind, channel and delivery must be known values (remakes come from RecallCard)")
        if delivery == "courier" and not request.delivery_address.strip():
            raise InvalidArgument("FIELD_REQUIRED", "delivery_address is required for courier delivery", field="delivery_address")
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref)
        access.check_subject(person_id=request.person_id)

        async def work(uow: UnitOfWork) -> pb.ApplyForCardResponse:
            replaces = ""
            if kind is not ApplicationKind.FIRST:
                held = [c for c in await store.person_cards(uow.conn, request.person_id) if c.state in domain.IN_HAND_STATES]
                replaces = held[0].card_no if held else ""
            card = await self.core.apply(uow, request.person_id, kind, channel, replaces, delivery, request.delivery_address[:200])
            await uow.audit("card.applied", card.card_no, channel=channel, agent=agent.describe() if agent else "")
            return pb.ApplyForCardResponse(card=card_to_pb(card))

        return await self.db.idempotent("ApplyForCard", request, pb.ApplyForCardResponse, work)

    async def GetCard(self, request: pb.GetCardRequest, context: grpc.aio.ServicerContext) -> pb.GetCardResponse:
        card = await self.db.read(lambda c: self.core.load(c, request.card_no))
        access.check_subject(person_id=card.person_id, unit=card.employer_unit_id)
        await self.db.audit_read("card.read", card.card_no)
        return pb.GetCardResponse(card=self._with_deadline(card))

    def _with_deadline(self, card: Card) -> pb.Card:
        message = card_to_pb(card)
        message.handout_overdue = domain.handout_overdue(card, business_date(self.core.rt.clock.now()))
        return message

    async def ListCards(self, request: pb.ListCardsRequest, context: grpc.aio.ServicerContext) -> pb.ListCardsResponse:
        require(request.person_id, "person_id")
        access.check_subject(person_id=request.person_id)
        found = await self.db.read(lambda c: store.person_cards(c, request.person_id))
        await self.db.audit_read("cards.listed", request.person_id)
        return pb.ListCardsResponse(cards=[self._with_deadline(c) for c in found])

    async def HandOutCard(self, request: pb.HandOutCardRequest, context: grpc.aio.ServicerContext) -> pb.HandOutCardResponse:
        require(request.pickup_certificate_no, "pickup_certificate_no")
        require(request.citizen_id, "citizen_id")
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, request.citizen_id)

        async def work(uow: UnitOfWork) -> pb.HandOutCardResponse:
            card = await self.core.load(uow, request.card_no)
            access.check_subject(person_id=card.person_id, unit=card.employer_unit_id)
            card = domain.hand_out(card, request.pickup_certificate_no, request.citizen_id)
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "handed_out")
            await uow.audit("card.handed_out", card.card_no, channel="outlet", agent=agent.describe() if agent else "")
            return pb.HandOutCardResponse(card=card_to_pb(card))

        return await self.db.idempotent("HandOutCard", request, pb.HandOutCardResponse, work)

    async def ActivateCard(self, request: pb.ActivateCardRequest, context: grpc.aio.ServicerContext) -> pb.ActivateCardResponse:
        channel = ACTIVATION_CHANNELS.get(request.channel)
        if channel is None:
            raise InvalidArgument("INVALID_ENUM" if request.channel else "FIELD_REQUIRED", "channel must be a known value", field="channel")

        async def work(uow: UnitOfWork) -> pb.ActivateCardResponse:
            card = await self.core.load(uow, request.card_no)
            policy = self.core.rt.policies.get(card.region_code)
            if channel == "financial_zone" and not policy.financial_activation_activates_social:
                raise InvalidArgument("CHANNEL_NOT_ALLOWED", "in this region the financial zone does not activate the social zone")
            card = await self.core.activate(uow, card, channel)
            return pb.ActivateCardResponse(card=card_to_pb(card))

        return await self.db.idempotent("ActivateCard", request, pb.ActivateCardResponse, work)

    async def ChangePin(self, request: pb.ChangePinRequest, context: grpc.aio.ServicerContext) -> pb.ChangePinResponse:
        domain.check_pin_format(request.old_pin, "old_pin")
        domain.check_pin_format(request.new_pin, "new_pin")

        async def work(uow: UnitOfWork) -> pb.ChangePinResponse:
            cached = await uow.recall("ChangePin", request.request_id, request)
            if cached is not None:
                return pb.ChangePinResponse.FromString(cached)
            card = await self.core.load(uow, request.card_no)
            access.check_subject(person_id=card.person_id)
            card = await self._verify(uow, card, request.old_pin)
            person = await store.get_person(uow.conn, card.person_id)
            if person is None:
                raise NotFound("PERSON_NOT_FOUND", "the card's holder is unknown here")
            card = domain.change_pin(card, request.new_pin, person.birth_date, self.core.pepper, secrets.token_hex(16))
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "pin_changed")
            await uow.audit("card.pin_changed", card.card_no)
            response = pb.ChangePinResponse(card=card_to_pb(card))
            await uow.remember("ChangePin", request.request_id, request, response)
            return response

        return await self.db.transact(work)

    async def VerifyPin(self, request: pb.VerifyPinRequest, context: grpc.aio.ServicerContext) -> pb.VerifyPinResponse:
        domain.check_pin_format(request.pin)

        async def work(uow: UnitOfWork) -> pb.VerifyPinResponse:
            card = await self._verify(uow, await self.core.load(uow, request.card_no), request.pin)
            return pb.VerifyPinResponse(pin_enabled=card.pin_enabled)

        return await self.db.transact(work)

    async def _verify(self, uow: UnitOfWork, card: Card, pin: str) -> Card:
        """Check a PIN; a wrong one is counted (and may lock the card) before the call fails."""
        policy = self.core.rt.policies.get(card.region_code)
        updated, ok = domain.verify_pin(card, pin, self.core.pepper, policy.pin_max_attempts)
        if updated != card:
            await store.save_card(uow.conn, updated)
            if updated.state is CardState.LOCKED:
                await self.core.publish(uow, updated, "locked")
                await uow.audit("card.locked", card.card_no, detail="too many wrong PINs")
            else:
                # Settlement's POS check counts on from here: one counter per card across every path.
                await self.core.publish(uow, updated, "pin_counted")
        if not ok and updated.state is CardState.LOCKED:
            raise CommitThenRaise(FailedPrecondition("PIN_LOCKED", "too many wrong PINs: the card is now locked"))
        if not ok:
            left = policy.pin_max_attempts - updated.wrong_pin_count
            raise CommitThenRaise(
                PermissionDenied("PIN_INCORRECT", f"wrong PIN; {left} attempt(s) left before the card locks", attempts_left=str(left))
            )
        return updated

    async def ApplyForCardsBatch(self, request: pb.ApplyForCardsBatchRequest, context: grpc.aio.ServicerContext) -> pb.ApplyForCardsBatchResponse:
        require(request.employer_unit_id, "employer_unit_id")
        require(list(request.person_ids), "person_ids")
        if len(request.person_ids) > 1000 or len(set(request.person_ids)) != len(request.person_ids):
            raise InvalidArgument("INVALID_BATCH", "a batch names at most 1000 distinct persons", field="person_ids")
        await self.core.await_members(list(request.person_ids), request.employer_unit_id, context)

        async def work(uow: UnitOfWork) -> pb.ApplyForCardsBatchResponse:
            response = pb.ApplyForCardsBatchResponse()
            for person_id in request.person_ids:
                person = await store.get_person(uow.conn, person_id)
                if not domain.is_member(person, request.employer_unit_id):
                    response.outcomes.add(person_id=person_id, refusal_reason="NOT_A_MEMBER")
                    continue
                try:
                    domain.check_can_apply(person, await store.person_cards(uow.conn, person_id), ApplicationKind.FIRST)
                except FailedPrecondition as refusal:
                    response.outcomes.add(person_id=person_id, refusal_reason=refusal.reason)
                    continue
                card = await self.core.apply(uow, person_id, ApplicationKind.FIRST, "employer_batch")
                await uow.audit("card.applied", card.card_no, channel="employer_batch", detail=request.employer_unit_id)
                response.outcomes.add(person_id=person_id, card=card_to_pb(card))
            return response

        return await self.db.idempotent("ApplyForCardsBatch", request, pb.ApplyForCardsBatchResponse, work)

    async def RecordProductionFailure(self, request: pb.RecordProductionFailureRequest, context: grpc.aio.ServicerContext) -> pb.RecordProductionFailureResponse:
        reason = FAILURES.get(request.reason)
        if reason is None:
            raise InvalidArgument("FIELD_REQUIRED" if not request.reason else "INVALID_ENUM", "reason must be a known failure reason", field="reason")

        async def work(uow: UnitOfWork) -> pb.RecordProductionFailureResponse:
            card = domain.fail_production(await self.core.load(uow, request.card_no), reason)
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "failed")
            await uow.audit("card.failed", card.card_no, channel="factory", detail=card.failure_reason)
            return pb.RecordProductionFailureResponse(card=card_to_pb(card))

        return await self.db.idempotent("RecordProductionFailure", request, pb.RecordProductionFailureResponse, work)

    async def RecallCard(self, request: pb.RecallCardRequest, context: grpc.aio.ServicerContext) -> pb.RecallCardResponse:
        require(request.what_is_wrong.strip(), "what_is_wrong")

        async def work(uow: UnitOfWork) -> pb.RecallCardResponse:
            card = domain.recall(await self.core.load(uow, request.card_no))
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "recalled")
            remake = await self.core.apply(uow, card.person_id, ApplicationKind.REMAKE, card.channel, delivery=card.delivery, address=card.delivery_address)
            await uow.audit("card.recalled", card.card_no, detail=f"{request.what_is_wrong[:100]}; remake {remake.card_no}")
            return pb.RecallCardResponse(recalled=card_to_pb(card), remake=card_to_pb(remake))

        return await self.db.idempotent("RecallCard", request, pb.RecallCardResponse, work)

    async def UnlockCard(self, request: pb.UnlockCardRequest, context: grpc.aio.ServicerContext) -> pb.UnlockCardResponse:
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, request.citizen_id)

        async def work(uow: UnitOfWork) -> pb.UnlockCardResponse:
            card = domain.unlock(await self.core.load(uow, request.card_no), request.citizen_id)
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "unlocked")
            await uow.audit("card.unlocked", card.card_no, channel="outlet", agent=agent.describe() if agent else "")
            return pb.UnlockCardResponse(card=card_to_pb(card))

        return await self.db.idempotent("UnlockCard", request, pb.UnlockCardResponse, work)

    async def ResetPin(self, request: pb.ResetPinRequest, context: grpc.aio.ServicerContext) -> pb.ResetPinResponse:
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref, request.citizen_id)

        async def work(uow: UnitOfWork) -> pb.ResetPinResponse:
            card = await self.core.load(uow, request.card_no)
            initial_pin = self.core.rt.policies.get(card.region_code).initial_pin
            card = domain.reset_pin(card, request.citizen_id, self.core.pepper, secrets.token_hex(16), initial_pin)
            await store.save_card(uow.conn, card)
            await self.core.publish(uow, card, "pin_changed")
            await uow.audit("card.pin_reset", card.card_no, channel="outlet", agent=agent.describe() if agent else "")
            return pb.ResetPinResponse(card=card_to_pb(card))

        return await self.db.idempotent("ResetPin", request, pb.ResetPinResponse, work)

    async def QueryProgress(self, request: pb.QueryProgressRequest, context: grpc.aio.ServicerContext) -> pb.QueryProgressResponse:
        require(request.name.strip(), "name")
        require(request.citizen_id, "citizen_id")
        found = await self.db.read(lambda c: store.cards_of_citizen(c, request.citizen_id))
        # Name and ID must both match: the query answers nothing to someone who knows only one.
        mine = [card for card in found if card.name == request.name.strip()]
        if not mine:
            raise NotFound("NO_APPLICATION", "no application for this name and citizen ID")
        await self.db.audit_read("progress.queried", mine[0].person_id)
        return pb.QueryProgressResponse(cards=[progress_pb(c) for c in mine])

    async def IssueElectronicCardToken(self, request: pb.IssueElectronicCardTokenRequest, context: grpc.aio.ServicerContext) -> pb.IssueElectronicCardTokenResponse:
        domain.check_pin_format(request.pin)

        async def work(uow: UnitOfWork) -> pb.IssueElectronicCardTokenResponse:
            card = await self.core.load(uow, request.card_no)
            access.check_subject(person_id=card.person_id)
            # The region's initial PIN never mints an e-card: the holder must have enabled their own.
            domain.check_electronic_card(card)
            card = await self._verify(uow, card, request.pin)
            expires = int(time.time()) + ECARD_TTL_S
            response = pb.IssueElectronicCardTokenResponse(token=issue_ecard_token(card.card_no, expires, self.core.rt.settings.token_secret))
            response.expires_at.FromSeconds(expires)
            return response

        return await self.db.transact(work)
