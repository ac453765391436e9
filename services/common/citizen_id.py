"""Citizen ID numbers (公民身份号码, GB 11643-1999): one form, one validation (check character and
area-code data from python-stdnum)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from stdnum import exceptions, numdb
from stdnum.cn import ric
from stdnum.util import isdigits

from services.common.errors import InvalidArgument


@dataclass(frozen=True)
class CitizenId:
    number: str
    birth_date: date
    gender: str  # "male" | "female": the 17th digit, odd for men

    @property
    def masked(self) -> str:
        return mask_citizen_id(self.number)


def normalise_citizen_id(value: str) -> str:
    """The one form a citizen ID is stored, compared and looked up in: no surrounding space, check character `X`
    upper-case. Applied wherever a citizen ID enters (parse_citizen_id, normalise_citizen_ids)."""
    return value.strip().upper()


def normalise_citizen_ids(request: Any) -> None:
    """Every string field of a request message named `citizen_id` or `*_citizen_id`, nested messages included,
    in its one form: called on every RPC at the edge, so a lookup with `x` finds what was stored with `X`."""
    for field, value in request.ListFields():
        if field.type == field.TYPE_STRING and field.name.endswith("citizen_id"):
            if field.is_repeated:
                value[:] = [normalise_citizen_id(v) for v in value]
            else:
                setattr(request, field.name, normalise_citizen_id(value))
        elif field.type == field.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            for item in (value if field.is_repeated else (value,)):
                normalise_citizen_ids(item)


@lru_cache(maxsize=4096)
def area_ever_existed(area: str) -> bool:
    """Whether a 6-digit administrative area code (行政区划代码) was ever assigned, at any time.

    An area code is given when the ID is issued, not at birth: someone born in 1960 in what became
    Shijiazhuang's 130102 in 1983 holds a valid 130102 ID, so the code's period is not compared with
    the birth year (python-stdnum's validate does, and refuses such IDs)."""
    parts = numdb.get("cn/loc").info(area)
    return any("county" in props for _prefix, props in parts)


def parse_citizen_id(value: str, field: str = "citizen_id") -> CitizenId:
    """Validate and decode an 18-character citizen ID; INVALID_CITIZEN_ID otherwise.

    Checks length, format (17 digits and a digit or X), the ISO 7064 MOD 11-2 check character, the
    embedded birth date and that the area code ever existed."""
    if not value:
        raise InvalidArgument("FIELD_REQUIRED", f"{field} is required", field=field)
    number = normalise_citizen_id(value)

    def refuse(why: str) -> InvalidArgument:
        return InvalidArgument("INVALID_CITIZEN_ID", f"{field} {why}", field=field)

    if len(number) != 18:
        raise refuse("must be 18 characters")
    if not isdigits(number[:17]) or number[17] not in "0123456789X":
        raise refuse("must be 17 digits and a digit or X")
    if number[17] != ric.calc_check_digit(number):
        raise refuse("check character (ISO 7064 MOD 11-2) does not match")
    try:
        birth = ric.get_birth_date(number)
    except exceptions.ValidationError:
        raise refuse("embedded birth date is not a date") from None
    if not area_ever_existed(number[:6]):
        raise refuse("embedded region code was never assigned")
    return CitizenId(number=number, birth_date=birth, gender="male" if int(number[16]) % 2 else "female")


def mask_citizen_id(number: str) -> str:
    """Keep region prefix and check character only: 110105**********2X style."""
    return number[:6] + "*" * max(len(number) - 8, 0) + number[-2:] if len(number) > 8 else "*" * len(number)


def make_citizen_id(region: str, birth: date, sequence: int) -> str:
    """Build a valid ID (demo data, benchmarks, tests): 6-digit region, birth date, 3-digit sequence."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")
