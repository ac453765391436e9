"""China's working-day calendar: holidays.China, adjusted weekend workdays, region overrides."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.calendar import WorkingDayCalendar
from services.common.policy import Calendar

CAL = WorkingDayCalendar()


def test_national_day_2026_with_its_adjusted_saturday() -> None:
    # Oct 1-7 are off; Saturday Oct 10 is a working day (调休上班); Sunday Sep 20 too.
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2026, 10, 10)) and CAL.is_working_day(date(2026, 9, 20))
    # Applied Wed Sep 30 with 4 working days: Oct 8, 9, 10 (Sat, adjusted), 12.
    assert CAL.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert CAL.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_spring_festival_2027_and_plain_weeks() -> None:
    assert CAL.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 11)
    assert CAL.add_working_days(date(2026, 11, 20), 5) == date(2026, 11, 27)
    assert CAL.add_working_days(date(2026, 11, 20), 0) == date(2026, 11, 20)
    assert CAL.add_working_days(date(2026, 11, 2), 45) == date(2027, 1, 5)  # across New Year's Day 2027


def test_a_region_file_adds_days_or_replaces_a_year() -> None:
    extra = Calendar.model_validate({"extra_holidays": ["2026-11-23"], "extra_workdays": ["2026-11-28"]}).working_days()
    assert not extra.is_working_day(date(2026, 11, 23)) and extra.is_working_day(date(2026, 11, 28))
    assert extra.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 24)
    official_2028 = Calendar.model_validate({"years": {2028: {"holidays": ["2028-01-03"], "workdays": ["2028-01-08"]}}}).working_days()
    assert not official_2028.is_working_day(date(2028, 1, 3)) and official_2028.is_working_day(date(2028, 1, 8))
    assert official_2028.is_working_day(date(2028, 1, 1)) is False  # a Saturday, not listed as a workday
    assert official_2028.is_working_day(date(2028, 10, 2))  # the library's National Day no longer applies to 2028


@pytest.mark.parametrize("mapping,message", [
    ({"extra_holidays": ["2026-13-01"]}, "extra_holidays"),
    ({"extra_holidays": ["2026-11-23"], "extra_workdays": ["2026-11-23"]}, "both"),
    ({"years": {2028: {"holidays": ["2029-01-01"]}}}, "another year"),
    ({"years": {2028: ["2028-01-01"]}}, "years.2028"),
    ({"holiday": []}, "holiday\n  Extra inputs are not permitted"),
])
def test_bad_calendar_data_is_refused_with_the_field_named(mapping: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar.model_validate(mapping)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 1, 1), -1)
