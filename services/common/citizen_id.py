"""Citizen ID numbers (公民身份号码, GB 11643-1999) via python-stdnum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum import exceptions
from stdnum.cn import ric

from services.common.errors import InvalidArgument

_WHY = {
    exceptions.InvalidLength: "must be 18 characters",
    exceptions.InvalidFormat: "must be 17 digits and a digit or X",
    exceptions.InvalidChecksum: "check character (ISO 7064 MOD 11-2) does not match",
    exceptions.InvalidComponent: "embedded birth date or region code is not valid",
}


@dataclass(frozen=True)
class CitizenId:
    number: str
    birth_date: date
    gender: str  # "male" | "female": the 17th digit, odd for men

    @property
    def masked(self) -> str:
        return mask_citizen_id(self.number)


def parse_citizen_id(value: str, field: str = "citizen_id") -> CitizenId:
    """Validate and decode an 18-character citizen ID; INVALID_CITIZEN_ID otherwise."""
    if not value:
        raise InvalidArgument("FIELD_REQUIRED", f"{field} is required", field=field)
    try:
        number = ric.validate(value)
        if len(number) != 18:
            raise exceptions.InvalidLength()
        birth = ric.get_birth_date(number)
    except exceptions.ValidationError as exc:
        why = next((text for kind, text in _WHY.items() if isinstance(exc, kind)), "is not valid")
        raise InvalidArgument("INVALID_CITIZEN_ID", f"{field} {why}", field=field) from None
    return CitizenId(number=number, birth_date=birth, gender="male" if int(number[16]) % 2 else "female")


def mask_citizen_id(number: str) -> str:
    """Keep region prefix and check character only: 110105**********2X style."""
    return number[:6] + "*" * max(len(number) - 8, 0) + number[-2:] if len(number) > 8 else "*" * len(number)


def make_citizen_id(region: str, birth: date, sequence: int) -> str:
    """Build a valid ID (demo data, benchmarks, tests): 6-digit region, birth date, 3-digit sequence."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")
