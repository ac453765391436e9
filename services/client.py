"""A typed client of the whole mesh, for the CLI demo, ops commands, tests and benchmarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.auth import issue_token
from sscard.cards.v1 import cards_pb2_grpc
from sscard.identity.v1 import identity_pb2_grpc
from sscard.loss.v1 import loss_pb2_grpc
from sscard.settlement.v1 import settlement_pb2_grpc

T = TypeVar("T")


@dataclass(frozen=True)
class Credential:
    """An institution's code and secret; mints bearer tokens for its calls."""

    code: str
    secret: str

    def metadata(self, ttl_s: int = 3600, sign_no: str = "") -> tuple[tuple[str, str], ...]:
        token = (("authorization", "Bearer " + issue_token(self.code, self.secret, int(time.time()) + ttl_s)),)
        return token + ((("x-sscard-sign-no", sign_no),) if sign_no else ())

    async def signed_in(self, settlement: Any) -> tuple[tuple[str, str], ...]:
        """Sign in for the day (national 9001) and return metadata carrying the sign_no."""
        from sscard.settlement.v1 import settlement_pb2

        response = await settlement.SignIn(settlement_pb2.SignInRequest(), metadata=self.metadata())
        return self.metadata(sign_no=response.sign_no)


class MeshClient:
    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets
        self.channels = {name: grpc.aio.insecure_channel(target) for name, target in targets.items()}
        self.identity = identity_pb2_grpc.IdentityServiceStub(self.channels["identity"])
        self.cards = cards_pb2_grpc.CardServiceStub(self.channels["cards"])
        self.loss = loss_pb2_grpc.LossServiceStub(self.channels["loss"])
        self.settlement = settlement_pb2_grpc.SettlementServiceStub(self.channels["settlement"])

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
