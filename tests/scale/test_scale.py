"""Two instances of every service on PostgreSQL and a three-node JetStream cluster (tests/scale/
topology.py), under a settlement load, while one instance of each service and one NATS node are
SIGKILLed and started again. Jepsen-style accounting, as in the reliability suite: the model holds
only what a client was told; afterwards every account must hold exactly that — an acknowledged
settlement missing is *lost*, one booked twice (or never acknowledged) is *doubled* — and no
settlement may start and succeed on a card more than the feed bound after its loss was reported.

`make test` runs a short load (PostgreSQL only: set SSCARD_TEST_PG_URL); `make test-scale` the long one.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from datetime import date

import grpc
import pytest

from services.client import eventually, institution
from services.common.citizen_id import make_citizen_id
from services.common.config import SERVICES
from sscard.cards.v1 import cards_pb2
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import pg_url
from tests.scale.topology import Topology

FULL = os.environ.get("SSCARD_SCALE") == "full"
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN}
FUNDED = 10_000_000
FEED_BOUND_S = 1.0  # settings.loss_feed_max_lag_s
PRICE = 100

pytestmark = pytest.mark.skipif(pg_url() is None, reason="the production topology runs on PostgreSQL: set SSCARD_TEST_PG_URL")


async def issue_card(client: object, run: str, i: int) -> tuple[str, str, str]:
    """A real card through every step (register, apply, produce, hand out, activate, fund): (card, person, citizen id)."""
    c = client  # type: ignore[assignment]
    citizen_id = make_citizen_id("110105", date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 500 + i)
    person = (await eventually(lambda: c.identity.RegisterPerson(identity_pb2.RegisterPersonRequest(
        request_id=f"{run}-r{i}", citizen_id=citizen_id, name="测试", region_code="999900",
        insured_category=identity_pb2.INSURED_CATEGORY_RESIDENT)), lambda r: True)).person
    card = (await eventually(lambda: c.cards.ApplyForCard(cards_pb2.ApplyForCardRequest(
        request_id=f"{run}-a{i}", person_id=person.person_id, channel=cards_pb2.APPLICATION_CHANNEL_DISTRICT_CENTRE)), lambda r: True)).card
    await eventually(lambda: c.cards.GetCard(cards_pb2.GetCardRequest(card_no=card.card_no)), lambda r: r.card.state == cards_pb2.CARD_STATE_READY, 30)
    await eventually(lambda: c.cards.HandOutCard(cards_pb2.HandOutCardRequest(
        request_id=f"{run}-h{i}", card_no=card.card_no, pickup_certificate_no=card.pickup_certificate_no, citizen_id=citizen_id)), lambda r: True)
    await eventually(lambda: c.cards.ActivateCard(cards_pb2.ActivateCardRequest(
        request_id=f"{run}-x{i}", card_no=card.card_no, channel=cards_pb2.ACTIVATION_CHANNEL_BANK_OUTLET)), lambda r: True)
    await eventually(lambda: c.settlement.AllocateToAccount(spb.AllocateToAccountRequest(
        request_id=f"{run}-f{i}", person_id=person.person_id, amount_fen=FUNDED, period="scale")), lambda r: True, 30)
    return card.card_no, person.person_id, citizen_id


async def test_two_instances_and_a_three_node_cluster_lose_nothing_when_instances_and_a_node_die(topology: Topology) -> None:
    client = topology.client()
    run = f"{time.time_ns():x}"
    rng = random.Random(int(os.environ.get("SSCARD_SEED", random.randrange(10**6))))
    try:
        cards = [await issue_card(client, run, i) for i in range(6 if FULL else 4)]
        holders = {card: person for card, person, _ in cards}
        md = await institution("P99990001").signed_in(client.settlement)
        await eventually(lambda: client.settlement.CheckCard(spb.CheckCardRequest(card_no=cards[-1][0]), metadata=md),
                         lambda r: r.usability == spb.CARD_USABILITY_USABLE, 30)

        accepted: dict[str, tuple[str, str, int, float]] = {}  # msg_id -> (card, setl_id, acct_pay, started)
        refused: Counter[str] = Counter()
        reported: dict[str, float] = {}  # card -> when its loss report returned
        stop = asyncio.Event()

        async def settle_worker(w: int) -> None:
            k = 0
            while not stop.is_set():
                k += 1
                msg_id, card = f"{run}-w{w}-{k}", rng.choice(cards)[0]
                started = time.time()
                while True:  # the same msg_id until a definite answer: a retry must never book twice
                    try:
                        r = await client.settlement.Settle(spb.SettleRequest(msg_id=msg_id, card_no=card, care_type=spb.CARE_TYPE_PHARMACY, items=[
                            spb.LineItem(code="X", catalog_class=spb.CATALOG_CLASS_A, amount_fen=PRICE)]), metadata=md, timeout=5)
                        accepted[msg_id] = (card, r.setl_id, r.acct_pay_fen, started)
                        break
                    except grpc.aio.AioRpcError as error:
                        if error.code() in RETRYABLE:
                            await asyncio.sleep(0.05)
                            continue
                        refused[error.code().name] += 1
                        break

        workers = [asyncio.create_task(settle_worker(w)) for w in range(8)]
        faults: list[str] = []
        pause = 3.0 if FULL else 1.5
        await asyncio.sleep(pause)
        for service in SERVICES:  # one instance of each service dies mid-load, and comes back
            topology.kill_instance(service, 0)
            faults.append(f"SIGKILL {service}-0")
            await asyncio.sleep(pause)
            topology.start_instance(service, 0)
        lost_card = cards[0][0]
        await eventually(lambda: client.loss.ReportTemporaryLoss(loss_pb2.ReportTemporaryLossRequest(
            request_id=f"{run}-loss", card_no=lost_card, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=cards[0][2], name="测试")),
            lambda r: True)
        reported[lost_card] = time.time()
        node = topology.nats.nodes[rng.randrange(len(topology.nats.nodes))]
        node.kill()
        faults.append(f"SIGKILL nats {node.cluster.server_name if node.cluster else '?'}")
        await asyncio.sleep(pause * 2)
        node.start()
        await asyncio.sleep(pause)
        stop.set()
        await asyncio.gather(*workers)
        await topology.wait_serving()

        # Every acknowledged settlement booked exactly once; nothing else booked; balances agree.
        lost = doubled = overdrawn = 0
        for card, _, _ in cards:
            person = holders[card]
            mine = {setl: pay for (c, setl, pay, _) in accepted.values() if c == card}
            entries = []
            page = ""
            while True:
                response = await client.settlement.ListAccountEntries(spb.ListAccountEntriesRequest(card_no=card, page_size=500, page_token=page))
                entries += [e for e in response.entries if e.kind == spb.ENTRY_KIND_SETTLEMENT]
                page = response.next_page_token
                if not page:
                    break
            booked = Counter(e.reference for e in entries)
            lost += sum(1 for setl in mine if booked[setl] == 0)
            doubled += sum(n - 1 for n in booked.values() if n > 1) + sum(1 for setl in booked if setl not in mine)
            account = await client.settlement.GetAccount(spb.GetAccountRequest(card_no=card))
            assert account.person_id == person
            overdrawn += account.balance_fen < 0
            assert account.balance_fen == FUNDED - sum(mine.values()), f"{card}: balance {account.balance_fen} vs the model"
        late = [m for m, (c, _, _, started) in accepted.items() if c in reported and started > reported[c] + FEED_BOUND_S]
        print(f"\nscale topology: {len(SERVICES)} services x {topology.instances} instances on PostgreSQL, "
              f"{len(topology.nats.nodes)}-node JetStream (R3)")
        print(f"{'operations':<12}{'faults':<8}{'lost':<6}{'doubled':<9}{'overdrawn':<11}{'paid after loss + bound'}")
        print(f"{len(accepted) + sum(refused.values()):<12}{len(faults):<8}{lost:<6}{doubled:<9}{overdrawn:<11}{len(late)}")
        print("faults: " + ", ".join(faults) + f"; refusals: {dict(refused)}")
        assert len(accepted) > 50, "the load did not run"
        assert (lost, doubled, overdrawn, late) == (0, 0, 0, [])
    finally:
        await client.close()
