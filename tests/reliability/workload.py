"""A seeded random workload over the real mesh, a single-threaded model of what was acknowledged,
and the comparison of every service's final state with that model.

Jepsen-style: the model holds only what a client was told succeeded. After the faults, each
service must hold exactly that — an acknowledged effect missing is *lost*, an effect applied
more than once (or never acknowledged) is *doubled*.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import sqlalchemy as sa

from services.client import eventually
from services.common.server import error_reason
from services.cards import store as cards_store
from services.settlement import store
from sscard.identity.v1 import identity_pb2
from sscard.loss.v1 import loss_pb2
from sscard.settlement.v1 import settlement_pb2 as spb
from tests.harness import PHARMACY, Mesh
from tests.mesh.test_story import PIN, medicine

FULL = os.environ.get("SSCARD_RELIABILITY") == "full"
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN}
NAME = "吴九"
RESULTS = Path(__file__).resolve().parents[2] / "var" / "reliability.json"
TABLE: list[dict[str, object]] = []


def seed_of(scenario: str) -> int:
    seed = int(os.environ.get("SSCARD_SEED", random.randrange(10**6)))
    print(f"\n{scenario}: seed {seed} (replay with SSCARD_SEED={seed})")
    return seed


@dataclass
class Model:
    """What the clients were told, applied one operation at a time."""

    funded: dict[str, int] = field(default_factory=dict)  # card_no -> fen allocated
    lost: dict[str, bool] = field(default_factory=dict)
    reports: Counter[str] = field(default_factory=Counter)
    lifts: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # msg_id -> (card_no, setl_id, acct_pay)
    revoked: set[str] = field(default_factory=set)
    reported_at: dict[str, float] = field(default_factory=dict)

    def balance(self, card_no: str) -> int:
        spent = sum(pay for msg, (card, _, pay) in self.accepted.items() if card == card_no and msg not in self.revoked)
        return self.funded[card_no] - spent


@dataclass
class Workload:
    mesh: Mesh
    seed: int
    cards: list[tuple[str, str, str]] = field(default_factory=list)  # (person_id, card_no, citizen_id)
    model: Model = field(default_factory=Model)
    ops: int = 0
    retries: int = 0
    accepted_while_lost: int = 0
    loss_bound_s: float = 1.0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._serial = 0

    async def setup(self, n_cards: int, fen: int = 50000) -> None:
        from tests.service.test_settlement import insured

        for i in range(n_cards):
            serial = 500 + i
            person_id, card_no, citizen_id = await insured(self.mesh, serial, category=identity_pb2.INSURED_CATEGORY_RESIDENT, fen=fen)
            self.cards.append((person_id, card_no, citizen_id))
            self.model.funded[card_no] = fen
            self.model.lost[card_no] = False

    async def call(self, fn, request, **kwargs):  # noqa: ANN001, ANN201
        """Call until the mesh answers: a fault may cut a call off; the client retries with the same key."""
        for _ in range(400):
            try:
                return await fn()(request, timeout=5, **kwargs)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE:
                    raise
                self.retries += 1
                await asyncio.sleep(0.05)
        raise AssertionError(f"no answer for {request!r:.200}")

    def _next(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self.seed}-{self._serial}"

    async def settle(self, card_no: str, fen: int | None = None) -> None:
        msg_id = self._next("m")
        fen = fen or self.rng.randint(100, 4000)
        request = spb.SettleRequest(msg_id=msg_id, card_no=card_no, pin=PIN, care_type=spb.CARE_TYPE_PHARMACY, items=medicine(fen))
        md = await self._signed()
        started = time.monotonic()
        try:
            response = await self.call(lambda: self.mesh.client.settlement.Settle, request, metadata=md)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, f"seed {self.seed}: {error.code()} {error.details()}"
            assert error_reason(error) == "CARD_REPORTED_LOST", f"seed {self.seed}: {error_reason(error)}"
            return
        finally:
            self.ops += 1
        # The promise: a settlement that starts later than the bound after the loss was committed is refused.
        if self.model.lost[card_no] and started - self.model.reported_at[card_no] > self.loss_bound_s:
            self.accepted_while_lost += 1
        self.model.accepted[msg_id] = (card_no, response.setl_id, response.acct_pay_fen)

    async def _signed(self):  # noqa: ANN202
        for _ in range(400):
            try:
                return await PHARMACY.signed_in(self.mesh.client.settlement)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE:
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("cannot sign in")

    async def report(self, card_no: str, citizen_id: str) -> None:
        await self.call(lambda: self.mesh.client.loss.ReportTemporaryLoss, loss_pb2.ReportTemporaryLossRequest(
            request_id=self._next("r"), card_no=card_no, channel=loss_pb2.LOSS_CHANNEL_HOTLINE_AGENT, citizen_id=citizen_id, name=NAME))
        self.ops += 1
        self.model.lost[card_no] = True
        self.model.reports[card_no] += 1
        self.model.reported_at[card_no] = time.monotonic()

    async def lift(self, card_no: str, citizen_id: str) -> None:
        await self.call(lambda: self.mesh.client.loss.LiftLoss, loss_pb2.LiftLossRequest(request_id=self._next("u"), card_no=card_no, citizen_id=citizen_id))
        self.ops += 1
        self.model.lost[card_no] = False
        self.model.lifts[card_no] += 1

    async def revoke(self) -> None:
        live = [m for m in self.model.accepted if m not in self.model.revoked]
        if not live:
            return
        msg_id = self.rng.choice(live)
        md = await self._signed()
        await self.call(lambda: self.mesh.client.settlement.RevokeSettlement, spb.RevokeSettlementRequest(
            msg_id=self._next("v"), setl_id=self.model.accepted[msg_id][1], reason="patient returned the medicine"), metadata=md)
        self.ops += 1
        self.model.revoked.add(msg_id)

    async def step(self) -> None:
        """One random operation, chosen so each is valid in the model's state."""
        _, card_no, citizen_id = self.rng.choice(self.cards)
        kind = self.rng.choices(["settle", "loss", "revoke"], weights=[6, 2, 1])[0]
        if kind == "settle":
            await self.settle(card_no)
        elif kind == "revoke":
            await self.revoke()
        elif self.model.lost[card_no]:
            await self.lift(card_no, citizen_id)
        else:
            await self.report(card_no, citizen_id)

    async def run(self, n: int) -> None:
        for _ in range(n):
            await self.step()

    async def compare(self, halts_exact: bool = True) -> tuple[int, int, list[str]]:
        """(lost, doubled, differences) between every service and the model, once the mesh is quiet:
        settlement's rows, balances, journal and refusals; the loss service's state and history;
        cards' view of the loss."""
        await self.mesh.settle_idle(timeout=120)
        client = self.mesh.client
        lost = doubled = 0
        notes: list[str] = []
        db = self.mesh.runtimes["settlement"].db
        async def pharmacy_settlements(c):  # noqa: ANN001, ANN202
            result = await c.execute(sa.select(store.settlements.c.msg_id, store.settlements.c.status)
                                     .where(store.settlements.c.institution_code == PHARMACY.code))
            return result.all()

        rows = await db.read(pharmacy_settlements)
        by_msg = Counter(r.msg_id for r in rows)
        status = {r.msg_id: r.status for r in rows}
        for msg_id in self.model.accepted:
            if by_msg[msg_id] == 0:
                lost += 1
                notes.append(f"settlement {msg_id} acknowledged but missing")
            elif by_msg[msg_id] > 1:
                doubled += by_msg[msg_id] - 1
                notes.append(f"settlement {msg_id} stored {by_msg[msg_id]} times")
            elif (status[msg_id] == "revoked") != (msg_id in self.model.revoked):
                notes.append(f"settlement {msg_id} status {status[msg_id]}, revoked in the model: {msg_id in self.model.revoked}")
                if msg_id in self.model.revoked:
                    lost += 1  # an acknowledged revocation is missing
                else:
                    doubled += 1  # a revocation nobody was told of
        phantom = [m for m in by_msg if m not in self.model.accepted]
        doubled += len(phantom)
        notes += [f"settlement {m} never acknowledged" for m in phantom]
        halts = Counter(h.card_no for h in await db.read(store.halts))
        for person_id, card_no, _ in self.cards:
            account = await db.read(lambda c, p=person_id: store.get_account(c, p))
            entries = await db.read(lambda c, p=person_id: store.entries_total(c, p))
            expected = self.model.balance(card_no)
            if account.balance_fen != expected or entries != expected:
                notes.append(f"{card_no}: balance {account.balance_fen}, journal {entries}, model {expected}")
                if min(account.balance_fen, entries) < expected:
                    doubled += 1
                else:
                    lost += 1
            state = await client.loss.GetLossState(loss_pb2.GetLossStateRequest(card_no=card_no))
            want = loss_pb2.LOSS_STATE_TEMPORARY if self.model.lost[card_no] else loss_pb2.LOSS_STATE_NONE
            if state.state != want:
                lost += 1
                notes.append(f"{card_no}: loss state {state.state}, model {want}")
            # Cards' own view (it refuses e-card tokens and second applications on it).
            card = await self.mesh.runtimes["cards"].db.read(lambda c, n=card_no: cards_store.get_card(c, n))
            if (card.loss_state.value == "temporary") != self.model.lost[card_no]:
                lost += 1
                notes.append(f"{card_no}: cards sees loss state {card.loss_state.value}, model lost={self.model.lost[card_no]}")
            history = Counter(h.what for h in state.history)
            for what, count in (("reported_temporary", self.model.reports[card_no]), ("lifted", self.model.lifts[card_no])):
                if history[what] != count:
                    lost += max(count - history[what], 0)
                    doubled += max(history[what] - count, 0)
                    notes.append(f"{card_no}: {history[what]} {what} in the loss history, model {count}")
            if halts_exact and halts[card_no] != self.model.reports[card_no]:
                lost += max(self.model.reports[card_no] - halts[card_no], 0)
                doubled += max(halts[card_no] - self.model.reports[card_no], 0)
                notes.append(f"{card_no}: settlement halted {halts[card_no]} times, model {self.model.reports[card_no]}")
            seen = await eventually(lambda c=card_no: client.settlement.CheckCard(spb.CheckCardRequest(card_no=c), metadata=PHARMACY.metadata()), lambda r: True)
            if (seen.refusal_reason == "CARD_REPORTED_LOST") != self.model.lost[card_no]:
                lost += 1
                notes.append(f"{card_no}: settlement says {seen.refusal_reason or 'usable'}, model lost={self.model.lost[card_no]}")
        return lost, doubled, notes


def record(scenario: str, seed: int, ops: int, faults: int, lost: int, doubled: int, notes: list[str]) -> None:
    row = {"scenario": scenario, "seed": seed, "operations": ops, "faults": faults, "lost": lost, "doubled": doubled}
    TABLE.append(row)
    print(f"{scenario}: {ops} operations, {faults} faults, lost {lost}, doubled {doubled}")
    for note in notes[:20]:
        print("  ", note)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(TABLE, indent=1))


async def finish(workload: Workload, scenario: str, faults: int, halts_exact: bool = True) -> None:
    lost, doubled, notes = await workload.compare(halts_exact=halts_exact)
    record(scenario, workload.seed, workload.ops, faults, lost, doubled, notes)
    assert faults > 0, f"{scenario}: no fault was injected (seed {workload.seed})"
    assert (lost, doubled) == (0, 0), f"{scenario} seed {workload.seed}: lost {lost}, doubled {doubled}: {notes[:5]}"
    assert workload.accepted_while_lost == 0, f"{scenario} seed {workload.seed}: settled a card lost longer than the bound"
