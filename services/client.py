"""A typed client of the whole mesh, for the CLI demo, ops commands, tests and benchmarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import trust
from services.common.access import ID_DOCUMENT_HEADER, POLICY
from services.common.pki import DEV_ISSUER
from services.common.trust import CHANNEL_OPTIONS, INSTITUTION, BearerInterceptor, Signer, channel_credentials, channel_options
from sscard.cards.v1 import cards_pb2_grpc
from sscard.identity.v1 import identity_pb2_grpc
from sscard.loss.v1 import loss_pb2_grpc
from sscard.settlement.v1 import settlement_pb2_grpc

T = TypeVar("T")


_SIGNER: list[Signer] = []
_MINTED: dict[tuple[Any, ...], tuple[str, float]] = {}
ALL_AUDIENCES = ("identity", "cards", "loss", "settlement")


def use_signer(signer: Signer) -> None:
    """The issuer key `Credential` mints with (the development issuer in `make run` and tests)."""
    _SIGNER[:] = [signer]
    _MINTED.clear()


def dev_signer(pki_dir: Path) -> Signer:
    return Signer.from_file(pki_dir / "issuer.key", "dev-issuer-1", DEV_ISSUER)


@dataclass(frozen=True)
class Credential:
    """A principal (trust.py) and, where it acts at a window, the ID document its clerk checked;
    mints short-lived signed credentials (JWT) for its calls."""

    kind: str
    id: str
    org: str = ""
    region: str = ""
    person_id: str = ""
    channel: str = ""
    document: str = ""

    @property
    def code(self) -> str:
        """An institution's code (what the HIS knows itself by)."""
        return self.org or self.id

    def token(self, ttl_s: int = 600, audiences: tuple[str, ...] = ALL_AUDIENCES) -> str:
        key = (self, ttl_s, audiences)
        token, renew_at = _MINTED.get(key, ("", 0.0))
        if time.time() >= renew_at:
            if not _SIGNER:
                raise RuntimeError("no credential issuer configured (services.client.use_signer)")
            token = _SIGNER[0].mint(self.kind, self.id, audiences, ttl_s=ttl_s, org=self.org, region=self.region,
                                    person_id=self.person_id, channel=self.channel)
            _MINTED[key] = (token, time.time() + ttl_s / 2)
        return token

    def with_document(self, document: str) -> "Credential":
        return replace(self, document=document)

    def metadata(self, ttl_s: int = 600, sign_no: str = "") -> tuple[tuple[str, str], ...]:
        pairs: tuple[tuple[str, str], ...] = (("authorization", "Bearer " + self.token(ttl_s)),)
        if self.document:
            pairs += ((ID_DOCUMENT_HEADER, self.document),)
        return pairs + ((("x-sscard-sign-no", sign_no),) if sign_no else ())

    async def signed_in(self, settlement: Any) -> tuple[tuple[str, str], ...]:
        """Sign in for the day (national 9001) and return metadata carrying the sign_no."""
        from sscard.settlement.v1 import settlement_pb2

        response = await settlement.SignIn(settlement_pb2.SignInRequest(), metadata=self.metadata())
        return self.metadata(sign_no=response.sign_no)


@dataclass(frozen=True)
class BearerToken:
    """A credential minted elsewhere (an operator's, from their identity provider)."""

    token: str
    document: str = ""

    def metadata(self, ttl_s: int = 0, sign_no: str = "") -> tuple[tuple[str, str], ...]:
        pairs: tuple[tuple[str, str], ...] = (("authorization", "Bearer " + self.token),)
        if self.document:
            pairs += ((ID_DOCUMENT_HEADER, self.document),)
        return pairs + ((("x-sscard-sign-no", sign_no),) if sign_no else ())


def institution(code: str) -> Credential:
    return Credential(INSTITUTION, code, org=code)


# --- who acts by default: the demo and the tests ----------------------------------------------

# Fund office staff of the demo region (allocations, filings, refund reviews).
FUND = Credential(trust.FUND_STAFF, "fund-op-01", org="FUND999900", region="999900")
FUND_REVIEWER = Credential(trust.FUND_STAFF, "fund-op-02", org="FUND999900", region="999900")
# An outlet clerk who checked the holder's resident ID card at the window.
CLERK = Credential(trust.CLERK, "op-0001", org="OUTLET-999900-01", region="999900", document="resident-id-card")
HOTLINE_AGENT = Credential(trust.HOTLINE, "agent-01", org="12333-999900", region="999900")
IVR_SYSTEM = Credential(trust.IVR, "ivr-01", org="12333-999900", region="999900")
BANK = Credential(trust.BANK, "teller-01", org="BANK-ICBC-999900", region="999900", document="resident-id-card")
FACTORY = Credential(trust.FACTORY, "factory-line-1", org="FACTORY-01")


def fund_of(region: str) -> Credential:
    return Credential(trust.FUND_STAFF, f"fund-op-{region}", org=f"FUND{region}", region=region)


def citizen(person_id: str, channel: str = "app") -> Credential:
    """A citizen's self-service session after real-name login, bound to one person."""
    return Credential(trust.CITIZEN, person_id, person_id=person_id, channel=channel)


def employer(unit_id: str) -> Credential:
    return Credential(trust.EMPLOYER, "handler-01", org=unit_id)


def community(unit_id: str) -> Credential:
    """A community (社区) or street office that enrols residents and applies for their cards in batches."""
    return Credential(trust.COMMUNITY, "community-handler-01", org=unit_id)


# Loss channels that name their own principal (loss.proto LossChannel): the caller acts as
# whoever really uses that channel.
_LOSS_CHANNEL_ACTORS = {1: IVR_SYSTEM, 2: HOTLINE_AGENT, 6: institution("H99990001"), 7: BANK, 8: CLERK}
_DEFAULT_ORDER = (CLERK, FUND, FACTORY, IVR_SYSTEM)
# person_id -> region_code of persons registered through this process (the fund office acting
# by default is the one of the person's region), and card_no -> person_id of cards seen (a
# citizen's own app acts on their card).
PERSON_REGIONS: dict[str, str] = {}
CARD_HOLDERS: dict[str, str] = {}
_CITIZEN_CHANNELS = {3: "web", 4: "app", 5: "wechat"}


class Remember(grpc.aio.UnaryUnaryClientInterceptor):
    """Remembers whose persons and cards the responses name (PERSON_REGIONS, CARD_HOLDERS)."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(details, request)
        try:
            response = await call
        except grpc.aio.AioRpcError:
            return call
        person = getattr(response, "person", None)
        if person is not None and hasattr(person, "region_code") and person.person_id:
            PERSON_REGIONS[person.person_id] = person.region_code
        fields = response.DESCRIPTOR.fields_by_name
        cards = [getattr(response, name) for name in ("card", "recalled", "remake") if name in fields and response.HasField(name)]
        cards += list(getattr(response, "cards", []))
        cards += [o.card for o in getattr(response, "outcomes", []) if o.HasField("card")]
        for card in cards:
            if card.card_no and card.person_id:
                CARD_HOLDERS[card.card_no] = card.person_id
        return call


def default_actor(method: str, request: object) -> Credential | None:
    """Who a demo or test call acts as when it names nobody: the clerk at the window where the
    policy allows one, else the fund office of the person's region, the factory, the IVR."""
    if method.endswith("/ReportTemporaryLoss"):
        channel = getattr(request, "channel", 0)
        if channel in _CITIZEN_CHANNELS:
            return citizen(CARD_HOLDERS.get(request.card_no, "unknown"), _CITIZEN_CHANNELS[channel])  # type: ignore[attr-defined]
        return _LOSS_CHANNEL_ACTORS.get(channel, CLERK)
    if method.endswith("/IssueElectronicCardToken"):
        return citizen(CARD_HOLDERS.get(request.card_no, "unknown"))  # type: ignore[attr-defined]
    kinds = {rule.kind for rule in POLICY.get(method, ())}
    chosen = next((c for c in _DEFAULT_ORDER if c.kind in kinds), None)
    if chosen is FUND:
        return fund_of(PERSON_REGIONS.get(getattr(request, "person_id", ""), "999900"))
    return chosen


class MeshClient:
    """Stubs of the four services over TLS (with the operator's client certificate when the
    PKI directory holds one). `actor(method, request)` names the credential of calls that carry none."""

    def __init__(self, targets: dict[str, str], pki_dir: Path | None = None,
                 actor: Callable[[str, Any], Any] | None = None, interceptors: list[Any] | None = None) -> None:
        self.targets = targets
        self.pki_dir = pki_dir
        self.actor = actor
        interceptors = [*(interceptors or []), BearerInterceptor(self._metadata_for)]
        if pki_dir is not None:
            cert, key = pki_dir / "client.pem", pki_dir / "client.key"
            creds = channel_credentials(pki_dir / "ca.pem", *((cert, key) if cert.exists() else (None, None)))
            self.channels = {name: grpc.aio.secure_channel(target, creds, options=channel_options(name, target), interceptors=interceptors)
                             for name, target in targets.items()}
        else:
            self.channels = {name: grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=interceptors) for name, target in targets.items()}
        self.identity = identity_pb2_grpc.IdentityServiceStub(self.channels["identity"])
        self.cards = cards_pb2_grpc.CardServiceStub(self.channels["cards"])
        self.loss = loss_pb2_grpc.LossServiceStub(self.channels["loss"])
        self.settlement = settlement_pb2_grpc.SettlementServiceStub(self.channels["settlement"])

    def _metadata_for(self, method: str, request: Any) -> tuple[tuple[str, str], ...]:
        credential = self.actor(method, request) if self.actor else None
        return credential.metadata() if credential else ()

    async def health(self, service: str, timeout: float = 2.0) -> str:
        stub = health_pb2_grpc.HealthStub(self.channels[service])
        response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    async def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for service in self.channels:
            while True:
                try:
                    if await self.health(service, timeout=1.0) == "SERVING":
                        break
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} at {self.targets[service]} is not serving")
                await asyncio.sleep(0.1)

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout: float = 10.0, interval: float = 0.005) -> T:
    """Poll `probe` until `accept(result)`; events propagate asynchronously between services."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await probe()
            if accept(result):
                return result
        except grpc.aio.AioRpcError as error:
            if time.monotonic() > deadline:
                raise
            result = error  # type: ignore[assignment]
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not reached within {timeout}s; last result: {result!r}")
        await asyncio.sleep(interval)


def any_result(_: Any) -> bool:
    return True
