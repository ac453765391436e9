"""China's working-day calendar (工作日), per region.

Working days are Monday-Friday that are not public holidays (法定节假日, incl.
the substituted days off), plus the adjusted weekend working days (调休上班).
Data comes from the `holidays` package (`holidays.China` and its
`weekend_workdays`); a region file can add days or replace a whole year with
the official schedule published late the year before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache

import holidays


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@lru_cache(maxsize=64)
def _library_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    china = holidays.China(years=year)
    return frozenset(china), frozenset(d for d in china.weekend_workdays if d.year == year)


class WorkingDayCalendar:
    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        replace_years: Mapping[int, tuple[Iterable[date], Iterable[date]]] | None = None,
    ) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self.replace_years = {int(y): (frozenset(h), frozenset(w)) for y, (h, w) in (replace_years or {}).items()}
        clash = self.extra_holidays & self.extra_workdays
        for year, (hol, work) in self.replace_years.items():
            clash |= hol & work
            if any(d.year != year for d in hol | work):
                raise ValueError(f"calendar.years.{year}: lists a date of another year")
        if clash:
            raise ValueError(f"calendar: {sorted(clash)[0]} is listed as both holiday and workday")
        self._cache: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        if year not in self._cache:
            base = self.replace_years.get(year) or _library_year(year)
            self._cache[year] = (base[0] | {d for d in self.extra_holidays if d.year == year},
                                 base[1] | {d for d in self.extra_workdays if d.year == year})
        return self._cache[year]

    def schedule_known(self, year: int) -> bool:
        """Whether the official schedule of `year` is here (a replaced year in the region file, or the
        package's own data, which always has adjusted working weekends): without it, holidays are
        only the computed fixed days and no 调休 is known."""
        return year in self.replace_years or bool(_library_year(year)[1])

    def is_working_day(self, day: date) -> bool:
        off, on = self._year(day.year)
        if day in on:
            return True
        return day.weekday() < 5 and day not in off

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (an application on day D with 4 days is ready on the 4th
        working day after D); n == 0 is `start` itself (made the same day)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`."""
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))
