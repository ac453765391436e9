"""Graceful stop (the Deployments' preStop `sscard drain`): health NOT_SERVING first, then the stop."""

from __future__ import annotations

import asyncio
import os
import signal

from grpc_health.v1 import health_pb2

from services import cli
from services.common.app import serve_forever
from services.common.server import GrpcServer

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class FakeRuntime:
    """What serve_forever uses of a Runtime: start, stop, the server's health."""

    def __init__(self) -> None:
        self.service = "cards"
        self.server = GrpcServer("127.0.0.1:0")
        self.server.service_names.append("sscard.cards.v1.CardService")
        self.events: list[str] = []

    async def start(self) -> int:
        self.events.append("start")
        return 0

    async def stop(self, grace: float = 2.0) -> None:
        self.events.append("stop")

    async def status(self, name: str = "") -> int:
        return (await self.server.health.Check(health_pb2.HealthCheckRequest(service=name), None)).status


async def _until(predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)


async def test_sigusr1_drains_and_the_sigterm_after_it_stops() -> None:
    runtime = FakeRuntime()
    await runtime.server.health.set("", SERVING)
    serving = asyncio.create_task(serve_forever(runtime, drain_s=30))
    await _until(lambda: runtime.events == ["start"])
    # The preStop hook: `sscard drain` signals PID 1 (here: this process) and waits.
    assert await asyncio.to_thread(cli.main, ["drain", "cards", "--wait", "0.2", "--pid", str(os.getpid())]) == 0
    assert await runtime.status() == NOT_SERVING and await runtime.status("sscard.cards.v1.CardService") == NOT_SERVING
    assert runtime.events == ["start"]  # still serving calls in flight
    os.kill(os.getpid(), signal.SIGTERM)  # the kubelet, after preStop: stops at once (no second drain wait)
    await asyncio.wait_for(serving, 5)
    assert runtime.events == ["start", "stop"]


async def test_sigterm_alone_goes_not_serving_then_waits_then_stops() -> None:
    runtime = FakeRuntime()
    await runtime.server.health.set("", SERVING)
    serving = asyncio.create_task(serve_forever(runtime, drain_s=0.5))
    await _until(lambda: runtime.events == ["start"])
    os.kill(os.getpid(), signal.SIGTERM)
    await _until(lambda: runtime.server.health._server_status.get("") == NOT_SERVING)  # noqa: SLF001
    assert runtime.events == ["start"]
    await asyncio.wait_for(serving, 5)
    assert runtime.events == ["start", "stop"]


def test_calendar_knows_which_years_have_the_official_schedule() -> None:
    """The gauge behind SscardHolidayScheduleNextYearMissing."""
    from datetime import date

    from services.common.calendar import WorkingDayCalendar

    assert WorkingDayCalendar().schedule_known(2025)
    assert not WorkingDayCalendar().schedule_known(2099)
    assert WorkingDayCalendar(replace_years={2099: ([date(2099, 1, 1)], [])}).schedule_known(2099)
