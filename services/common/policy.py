"""Regional policy as data (one YAML file per pooling region).

Every number a city publishes — temporary-loss validity, production days,
fees, PIN attempts, benefit parameters — lives in `regions/<code>.yaml`.
`regions/national.yaml` holds the documented national defaults that a city
file overrides key by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from services.common.calendar import WorkingDayCalendar
from services.common.errors import InvalidArgument

NATIONAL_FILE = "national.yaml"


@dataclass(frozen=True)
class RegionPolicy:
    code: str
    name: str
    province: str
    temporary_loss_validity: timedelta
    production_working_days: Mapping[str, int]
    replacement_fee_fen: int
    pin_max_attempts: int
    financial_activation_activates_social: bool
    calendar: WorkingDayCalendar
    benefits: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def production_days(self, channel: str) -> int:
        try:
            return self.production_working_days[channel]
        except KeyError:
            return self.production_working_days["default"]


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _duration(value: Mapping[str, Any], where: str) -> timedelta:
    if not isinstance(value, Mapping) or not set(value) <= {"days", "hours"} or not value:
        raise ValueError(f"{where}: expected {{days: N}} or {{hours: N}}, got {value!r}")
    delta = timedelta(days=int(value.get("days", 0)), hours=int(value.get("hours", 0)))
    if delta <= timedelta(0):
        raise ValueError(f"{where}: must be positive")
    return delta


def parse_region(data: Mapping[str, Any], where: str = "region") -> RegionPolicy:
    try:
        days = {str(k): int(v) for k, v in data["production_working_days"].items()}
        if "default" not in days or any(v < 0 for v in days.values()):
            raise ValueError(f"{where}: production_working_days needs a default and non-negative values")
        policy = RegionPolicy(
            code=str(data["code"]),
            name=str(data["name"]),
            province=str(data["province"]),
            temporary_loss_validity=_duration(data["temporary_loss_validity"], f"{where}: temporary_loss_validity"),
            production_working_days=days,
            replacement_fee_fen=int(data["replacement_fee_fen"]),
            pin_max_attempts=int(data["pin_max_attempts"]),
            financial_activation_activates_social=bool(data["financial_activation_activates_social"]),
            calendar=WorkingDayCalendar.from_mapping(data.get("calendar") or {}),
            benefits=dict(data.get("benefits") or {}),
            raw=dict(data),
        )
    except KeyError as missing:
        raise ValueError(f"{where}: missing key {missing}") from None
    if policy.replacement_fee_fen < 0 or policy.pin_max_attempts < 1:
        raise ValueError(f"{where}: fee must be >= 0 and pin_max_attempts >= 1")
    return policy


class RegionPolicies:
    """All regions known to a service, by pooling-region code."""

    def __init__(self, regions: Mapping[str, RegionPolicy]) -> None:
        self._regions = dict(regions)

    @classmethod
    def load(cls, directory: Path) -> "RegionPolicies":
        national_path = directory / NATIONAL_FILE
        national = yaml.safe_load(national_path.read_text(encoding="utf-8")) if national_path.exists() else {}
        regions: dict[str, RegionPolicy] = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name == NATIONAL_FILE:
                continue
            data = _merge(national or {}, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
            policy = parse_region(data, where=path.name)
            if policy.code in regions:
                raise ValueError(f"{path.name}: region code {policy.code} defined twice")
            regions[policy.code] = policy
        if not regions:
            raise ValueError(f"no region policy files in {directory}")
        return cls(regions)

    def get(self, code: str) -> RegionPolicy:
        try:
            return self._regions[code]
        except KeyError:
            raise InvalidArgument("UNKNOWN_REGION", f"no policy for pooling region {code!r}", region_code=code) from None

    def codes(self) -> list[str]:
        return sorted(self._regions)
