"""The injected clock: every rule reads time from here, never from datetime.now().

Tests use ManualClock and advance it instead of sleeping; background schedulers
await `changed(timeout)` so an advance is noticed at once.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from typing import Protocol


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# China keeps one time zone, UTC+8 without daylight saving: every business day is a day of this zone.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def changed(self, timeout: float) -> None:
        """Return after `timeout` real seconds, or earlier if time jumped."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def changed(self, timeout: float) -> None:
        await asyncio.sleep(timeout)


class ManualClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
        self._waiters: set[asyncio.Event] = set()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def set(self, when: datetime) -> None:
        self._now = when
        for waiter in self._waiters:
            waiter.set()

    async def changed(self, timeout: float) -> None:
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


def to_micros(when: datetime) -> int:
    """Timestamps are stored as integer microseconds since the epoch (UTC)."""
    return (when - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def business_date(when: datetime) -> date:
    """The business day (营业日) an instant falls on: the date in China Standard Time, never the UTC date
    (at 02:50 in Beijing it is already the next day there, while UTC is still on the day before)."""
    return when.astimezone(CHINA_STANDARD_TIME).date()
