"""Load generator processes: closed-loop throughput and open-loop latency, over real gRPC.

Runs in its own process (multiprocessing "spawn": no gRPC object crosses a fork).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import grpc

ECHO_METHOD = "/bench.Echo/Echo"


def _channel(target: str) -> Any:
    """Mutual TLS with the run's development certificates, as every sscard client: the echo
    baseline pays the same transport as settlement."""
    import os
    from pathlib import Path

    from services.common.trust import channel_credentials, channel_options

    pki = Path(os.environ["SSCARD_PKI_DIR"])
    # Several settlement instances ("ipv4:a,b"): calls spread round robin, as every sscard client does.
    return grpc.aio.secure_channel(target, channel_credentials(pki / "ca.pem", pki / "client.pem", pki / "client.key"),
                                   options=channel_options("settlement", target))


def _settle_factory(target: str, cards: list[str], sign_md: Any) -> Any:
    from sscard.settlement.v1 import settlement_pb2 as spb
    from sscard.settlement.v1 import settlement_pb2_grpc

    channel = _channel(target)
    stub = settlement_pb2_grpc.SettlementServiceStub(channel)
    prefix = f"b{random.getrandbits(40):x}"
    counter = iter(range(10**12))

    async def call() -> None:
        request = spb.SettleRequest(
            msg_id=f"{prefix}-{next(counter)}", card_no=random.choice(cards), care_type=spb.CARE_TYPE_PHARMACY,
            items=[spb.LineItem(code="X01", catalog_class=spb.CATALOG_CLASS_A, amount_fen=500)],
        )
        await stub.Settle(request, metadata=sign_md, timeout=10)

    return channel, call


def _echo_factory(target: str) -> Any:
    channel = _channel(target)
    echo = channel.unary_unary(ECHO_METHOD, request_serializer=None, response_deserializer=None)
    payload = b"x" * 96  # about the size of a SettleRequest

    async def call() -> None:
        await echo(payload, timeout=10)

    return channel, call


async def _closed_loop(call: Any, concurrency: int, duration: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await call()
                latencies.append(time.perf_counter() - started)
            except grpc.aio.AioRpcError:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - began
    return {"ok": len(latencies), "errors": errors, "seconds": elapsed, "rate": len(latencies) / elapsed, "latencies": latencies}


async def _open_loop(call: Any, rate: float, duration: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    pending: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            await call()
            latencies.append(time.perf_counter() - scheduled)  # from the intended send time: no coordinated omission
        except grpc.aio.AioRpcError:
            errors += 1

    began = time.perf_counter()
    n = int(rate * duration)
    for i in range(n):
        scheduled = began + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return {"ok": len(latencies), "errors": errors, "seconds": time.perf_counter() - began, "rate": rate, "latencies": latencies}


def run(kind: str, target: str, mode: str, level: float, duration: float, cards: list[str] | None = None, sign_md: Any = None) -> dict[str, Any]:
    """Entry point of a load process: kind settle|echo, mode closed (level=concurrency) or open (level=rate)."""

    async def main() -> dict[str, Any]:
        channel, call = _settle_factory(target, cards or [], sign_md) if kind == "settle" else _echo_factory(target)
        try:
            for _ in range(20):  # warm up the channel
                await call()
            if mode == "closed":
                return await _closed_loop(call, int(level), duration)
            return await _open_loop(call, level, duration)
        finally:
            await channel.close()

    return asyncio.run(main())


def serve_echo(port_queue: Any) -> None:
    """The baseline: a bare grpc.aio server that echoes bytes (no protobuf, no database)."""

    async def main() -> None:
        async def echo(request: bytes, context: Any) -> bytes:
            return request

        server = grpc.aio.server()
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})])
        import os
        from pathlib import Path

        from services.common.trust import server_credentials

        pki = Path(os.environ["SSCARD_PKI_DIR"])
        port = server.add_secure_port("127.0.0.1:0", server_credentials(pki / "ca.pem", pki / "settlement.pem", pki / "settlement.key", True))
        await server.start()
        port_queue.put(port)
        await server.wait_for_termination()

    asyncio.run(main())
