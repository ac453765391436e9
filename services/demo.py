"""`sscard demo`: the headline story against a running mesh, step by step, with timings."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from pathlib import Path

import grpc

from services.client import MeshClient, Remember, default_actor, dev_signer, eventually, institution, use_signer
from services.common.citizen_id import make_citizen_id
from services.common.server import error_reason
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb

T = TypeVar("T")
REGION = "999900"
PHARMACY = institution("P99990001")
PIN = "802613"


async def step(title: str, action: Callable[[], Awaitable[T]]) -> T:
    started = time.perf_counter()
    result = await action()
    print(f"  {title:<68} {1000 * (time.perf_counter() - started):8.1f} ms")
    return result


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d} yuan"


async def play(targets: dict[str, str], pki_dir: Path) -> int:
    """Each step acts as whoever does it in life (services.client.default_actor): the outlet
    clerk, the fund office, the hotline agent, the pharmacy; credentials from the local issuer."""
    use_signer(dev_signer(pki_dir))
    client = MeshClient(targets, pki_dir=pki_dir, actor=default_actor, interceptors=[Remember()])
    try:
        await client.wait_healthy(timeout=10)
        return await _story(client)
    except grpc.aio.AioRpcError as error:
        print(f"FAILED: {error.code().name} {error_reason(error)}: {error.details()}")
        return 1
    except TimeoutError as error:
        print(f"FAILED: {error}")
        return 1
    finally:
        await client.close()


async def _issue(client: MeshClient, card: cards_pb2.Card, citizen_id: str) -> cards_pb2.Card:
    await eventually(lambda: client.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)),
                     lambda r: r.card.state == cards_pb2.CARD_STATE_READY, timeout=15)
    await client.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id=f"handout-{card.card_no}", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id))
    return (await client.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id=f"activate-{card.card_no}", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET))).card


async def _story(client: MeshClient) -> int:
    run = secrets.token_hex(4)
    citizen_id = make_citizen_id("110105", date(1980 + secrets.randbelow(20), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28)), secrets.randbelow(1000))
    name = "王小明"
    md = await PHARMACY.signed_in(client.settlement)

    def settle(card_no: str, fen: int, msg: str) -> Any:
        return client.settlement.Settle(spb.SettleRequest(
            msg_id=f"{run}-{msg}", card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(code="X01", name="medicine", catalog_class=spb.CATALOG_CLASS_A, amount_fen=fen)]), metadata=md)

    def check(card_no: str) -> Any:
        return client.settlement.CheckCard(spb.CheckCardRequest(card_no=card_no), metadata=md)

    print(f"sscard demo (run {run}) against {client.targets['identity']} ...")
    person = (await step("1. register person (citizen ID validated, birth date derived)", lambda: client.identity.RegisterPerson(
        identity_pb2.RegisterPersonRequest(request_id=f"{run}-reg", citizen_id=citizen_id, name=name, region_code=REGION,
                                           insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)))).person
    applied = await step("2. apply for a card (district centre: made the same day)", lambda: eventually(
        lambda: client.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(request_id=f"{run}-apply", person_id=person.person_id,
                                                                      channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True))
    card = await step("   produced, handed out, activated", lambda: _issue(client, applied.card, citizen_id))
    await step("   holder changes the initial PIN (enables it)", lambda: client.cards.ChangePin(cards_pb2.ChangePinRequest(
        request_id=f"{run}-pin", card_no=card.card_no, old_pin="123456", new_pin=PIN)))
    await step("3. allocation of 500.00 yuan to the personal account", lambda: eventually(
        lambda: client.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
            request_id=f"{run}-alloc", person_id=person.person_id, amount_fen=50000, period="demo")), lambda r: True))
    await eventually(lambda: check(card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    paid = await step("4. pharmacy settles 35.20 yuan with the PIN", lambda: settle(card.card_no, 3520, "s1"))
    print(f"     accepted: account paid {yuan(paid.acct_pay_fen)}, balance {yuan(paid.balance_fen)}")

    await step("5. holder reports the card lost (hotline, temporary)", lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
        request_id=f"{run}-loss", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name=name)))
    reported = time.perf_counter()
    await eventually(lambda: check(card.card_no), lambda r: r.refusal_reason == "CARD_REPORTED_LOST", timeout=5, interval=0.001)
    halted_ms = 1000 * (time.perf_counter() - reported)
    try:
        await settle(card.card_no, 1000, "s2")
        print("FAILED: a lost card settled")
        return 1
    except grpc.aio.AioRpcError as error:
        print(f"     next settlement refused: {error_reason(error)} — {halted_ms:.1f} ms after the loss report returned")
    await step("6. loss lifted at the outlet with the holder's ID", lambda: client.loss.LiftLoss(loss_pb2.LiftLossRequest(
        request_id=f"{run}-lift", card_no=card.card_no, citizen_id=citizen_id)))
    await eventually(lambda: check(card.card_no), lambda r: r.usability == spb.CARD_USABILITY_USABLE)
    paid = await step("   settlement works again (10.00 yuan)", lambda: settle(card.card_no, 1000, "s3"))
    print(f"     balance {yuan(paid.balance_fen)}")

    await step("7. formal loss report at the outlet (irreversible)", lambda: client.loss.ReportFormalLoss(loss_pb2.ReportFormalLossRequest(
        request_id=f"{run}-formal", card_no=card.card_no, channel=loss_pb2.LOSS_CHANNEL_OUTLET, citizen_id=citizen_id, name=name)))
    cards = await step("   reissue application created by the cards service", lambda: eventually(
        lambda: client.cards.ListCards(cards_pb2.ListCardsRequest(person_id=person.person_id)), lambda r: len(r.cards) == 2))
    reissue = cards.cards[0]
    print(f"     new card {reissue.card_no}, fee {yuan(reissue.fee_fen)}, pickup certificate {reissue.pickup_certificate_no}")
    new_card = await step("   new card produced, handed out, activated", lambda: _issue(client, reissue, citizen_id))
    account = await step("   personal account moved to the new card", lambda: eventually(
        lambda: client.settlement.GetAccount(spb.GetAccountRequest(card_no=new_card.card_no), metadata=md), lambda r: r.card_no == new_card.card_no))
    print(f"     balance on {new_card.card_no}: {yuan(account.balance_fen)}")
    try:
        await settle(card.card_no, 1000, "s4")
        print("FAILED: the old card settled")
        return 1
    except grpc.aio.AioRpcError as error:
        print(f"     old card {card.card_no} refused for good: {error_reason(error)}")
    print(f"story complete; loss report -> first refusal: {halted_ms:.1f} ms")
    return 0
