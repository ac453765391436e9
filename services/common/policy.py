"""Regional policy as data (one YAML file per pooling region).

Every number a city publishes — temporary-loss validity, production days,
fees, PIN attempts, benefit parameters — lives in `regions/<code>.yaml`, on
top of `regions/national.yaml` (the documented national defaults).

Files are validated strictly (pydantic, `extra="forbid"`): an unknown key, a
wrong type or an impossible value stops loading with the file and the key
named, so a misspelt key can never leave a city silently on national values.

How a city file combines with the national one follows the schema: a
`Section` (a group of independent settings: the file itself, `benefits`, one
insured category, `calendar`) is overridden key by key; anything else — a
number, a list, a table, a `Value` such as the duration `{hours: 24}` — is
one thought and replaces the national value whole.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError, ValidationInfo, field_validator, model_validator

from services.common.calendar import WorkingDayCalendar
from services.common.errors import InvalidArgument

NATIONAL_FILE = "national.yaml"

Fen = Annotated[int, Field(strict=True, ge=0)]
BasisPoints = Annotated[int, Field(strict=True, ge=0, le=10_000)]
HospitalLevel = Annotated[int, Field(strict=True, ge=0, le=3)]  # 0: any level (pharmacies)
WorkingDays = Annotated[int, Field(strict=True, ge=0, le=260)]  # at most a working year
Text = Annotated[str, Field(strict=True, min_length=1, max_length=100)]


def _day(value: Any) -> date:
    """A calendar day: YAML's date or a "YYYY-MM-DD" string, nothing else (no timestamps, no times of day)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    raise ValueError(f"{value!r} is not a YYYY-MM-DD date")


Day = Annotated[date, BeforeValidator(_day)]
# The loss service's channels (services/loss/domain.Channel): where a loss act can be done.
LossChannel = Literal["hotline_ivr", "hotline_agent", "website", "app", "wechat", "hospital_terminal", "bank", "outlet"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Strict):
    """Independent settings: a city file overrides the national file key by key."""


class Value(_Strict):
    """One thought: a city file's value replaces the national value whole."""


class Duration(Value):
    """`{days: 7}`, `{hours: 24}` (or both, added up)."""

    days: Annotated[int, Field(strict=True, ge=0, le=366)] = 0
    hours: Annotated[int, Field(strict=True, ge=0, le=24 * 366)] = 0

    @model_validator(mode="after")
    def _positive(self) -> "Duration":
        if not self.days and not self.hours:
            raise ValueError("a duration needs days or hours above 0")
        return self

    def to_timedelta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)


class Months(Value):
    """`{months: 2}`: a production time a guide gives in calendar months (Dalian: cards collected about two
    months after enrolment, seed 002); ready on the first working day from that date."""

    months: Annotated[int, Field(strict=True, ge=1, le=24)]


ProductionTime = Union[WorkingDays, Months]


class ProductionDays(Value):
    """Working days from application to ready (制卡), per application channel; 0 = the same day;
    or `{months: N}` where the guide counts in months."""

    default: ProductionTime
    outlet: ProductionTime | None = None
    district_centre: ProductionTime | None = None
    bank_outlet: ProductionTime | None = None
    employer_batch: ProductionTime | None = None
    online: ProductionTime | None = None


class YearSchedule(Section):
    holidays: list[Day] = []
    workdays: list[Day] = []


class Calendar(Section):
    """On top of holidays.China: extra days, or a year's official schedule replacing the library's."""

    extra_holidays: list[Day] = []
    extra_workdays: list[Day] = []
    years: dict[Annotated[int, Field(ge=1949, le=2200)], YearSchedule] = {}

    def working_days(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(
            self.extra_holidays, self.extra_workdays, {year: (s.holidays, s.workdays) for year, s in self.years.items()}
        )

    @model_validator(mode="after")
    def _consistent(self) -> "Calendar":
        self.working_days()  # a day both holiday and workday, or a year listing another year's day
        return self


class LossChannels(Section):
    """Which channels accept which loss act (each list is the region's whole list for that act)."""

    temporary: list[LossChannel]  # 临时挂失
    formal: list[LossChannel]  # 正式挂失 with the reissue (补卡)
    lift: list[LossChannel]  # 解挂 of a temporary loss, with the card (Guangxi: the window or WeChat, seed 004 十.2)


class LossPeriodRefund(Section):
    """The refund of medical costs paid out of pocket while the card was lost (once per loss, after review)."""

    most_recent_expense_only: StrictBool  # only the most recent recorded expense before the replacement (seed 001 ⑥)


class Ratios(Section):
    """报销比例 in basis points by care type: one ratio, or a table by hospital level (replaced whole)."""

    outpatient: BasisPoints | dict[HospitalLevel, BasisPoints]
    inpatient: BasisPoints | dict[HospitalLevel, BasisPoints]
    pharmacy: BasisPoints | dict[HospitalLevel, BasisPoints]


class Category(Section):
    deductible_fen: Fen  # 起付线
    annual_cap_fen: Fen  # 封顶线
    ratios_bp: Ratios


class Catalog(Section):
    class_b_self_pay_bp: BasisPoints  # 乙类 先行自付


class Benefits(Section):
    employee: Category
    resident: Category
    flexible: Category
    catalog: Catalog


class RegionFile(Section):
    """The schema of a region file (docs/regions.md), after merging over national.yaml."""

    code: Annotated[str, Field(strict=True, pattern=r"^\d{6}$")]
    name: Text
    province: Annotated[str, Field(strict=True, pattern=r"^\d{2}$")] | None = None
    temporary_loss_validity: Duration
    loss_channels: LossChannels
    loss_period_refund: LossPeriodRefund
    production_working_days: ProductionDays
    reissue_production_working_days: ProductionDays | None = None  # reissue and exchange, where they differ
    replacement_fee_fen: Fen
    pin_max_attempts: Annotated[int, Field(strict=True, ge=1, le=99)]
    initial_pin: Annotated[str, Field(strict=True, pattern=r"^\d{6}$")]  # 社保账户初始密码 (seed 002: "123456")
    employer_handout_days: Annotated[int, Field(strict=True, ge=1, le=366)]  # a unit hands collected cards out within (seed 003: 10日)
    newborn_cover_window_months: Annotated[int, Field(strict=True, ge=0, le=12)]  # enrolled within: covered from birth (seed 004)
    financial_activation_activates_social: StrictBool
    legacy_medical_card: StrictBool = False
    partner_bank: Annotated[str, Field(strict=True, max_length=20)] = ""
    calendar: Calendar = Calendar()
    benefits: Benefits

    @field_validator("province")
    @classmethod
    def _province_of_code(cls, province: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("code", "")
        if province is not None and code and province != code[:2]:
            raise ValueError(f"{province!r} is not the first two digits of code {code!r}")
        return province


class RegionFileError(ValueError):
    """A region file that cannot be loaded: the service refuses to start."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")
        self.file, self.key, self.problem = file, key, problem


@dataclass(frozen=True)
class RegionPolicy:
    code: str
    name: str
    province: str
    temporary_loss_validity: timedelta
    production_working_days: Mapping[str, Any]
    replacement_fee_fen: int
    pin_max_attempts: int
    financial_activation_activates_social: bool
    calendar: WorkingDayCalendar
    initial_pin: str
    employer_handout_days: int
    newborn_cover_window_months: int
    benefits: Mapping[str, Any] = field(default_factory=dict)
    legacy_medical_card: bool = False
    partner_bank: str = ""
    reissue_production_working_days: Mapping[str, Any] | None = None
    loss_channels: Mapping[str, frozenset[str]] = field(default_factory=dict)
    loss_period_refund_most_recent_only: bool = False

    def production_days(self, channel: str, replacement: bool = False) -> int | Mapping[str, int]:
        """Working days (or `{"months": N}`) to make a card applied for through `channel`; a replacement
        (reissue, exchange) follows the region's own reissue table where it has one."""
        table = self.reissue_production_working_days if replacement and self.reissue_production_working_days else self.production_working_days
        return table.get(channel, table["default"])


def _section_of(annotation: Any) -> type[Section] | None:
    """The Section class an annotation names (also through `X | None`), else None."""
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, Section) else None
    if typing.get_origin(annotation) in (Union, types.UnionType):
        found = [s for s in map(_section_of, typing.get_args(annotation)) if s is not None]
        return found[0] if len(found) == 1 else None
    return None


def merge(schema: type[Section], base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: Sections key by key, every other value replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        known = schema.model_fields.get(key)
        section = _section_of(known.annotation) if known else None
        if section and isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = merge(section, base[key], value)
        else:
            merged[key] = value
    return merged


def _error(file: str, error: ValidationError) -> RegionFileError:
    problems = error.errors()
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return RegionFileError(file, key, f"{first['msg']}{more}")


def parse_region(data: Mapping[str, Any], where: str = "region") -> RegionPolicy:
    """Validate one merged region mapping; RegionFileError names `where` and the key."""
    try:
        region = RegionFile.model_validate(data)
    except ValidationError as error:
        raise _error(where, error) from None
    days = region.production_working_days.model_dump(exclude_none=True)
    reissue = region.reissue_production_working_days
    return RegionPolicy(
        code=region.code,
        name=region.name,
        province=region.province or region.code[:2],
        temporary_loss_validity=region.temporary_loss_validity.to_timedelta(),
        production_working_days=days,
        replacement_fee_fen=region.replacement_fee_fen,
        pin_max_attempts=region.pin_max_attempts,
        financial_activation_activates_social=region.financial_activation_activates_social,
        calendar=region.calendar.working_days(),
        benefits=region.benefits.model_dump(),
        legacy_medical_card=region.legacy_medical_card,
        partner_bank=region.partner_bank,
        reissue_production_working_days=reissue.model_dump(exclude_none=True) if reissue else None,
        loss_channels={act: frozenset(channels) for act, channels in region.loss_channels.model_dump().items()},
        loss_period_refund_most_recent_only=region.loss_period_refund.most_recent_expense_only,
        initial_pin=region.initial_pin,
        employer_handout_days=region.employer_handout_days,
        newborn_cover_window_months=region.newborn_cover_window_months,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RegionFileError(path.name, "", f"not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise RegionFileError(path.name, "", "expected a mapping of keys to values")
    return dict(data)


# national.yaml is validated on its own, as if it were a region, so its own mistakes name it.
_NATIONAL_STANDIN = {"code": "000000", "name": "national defaults"}


class RegionPolicies:
    """All regions known to a service, by pooling-region code."""

    def __init__(self, regions: Mapping[str, RegionPolicy]) -> None:
        self._regions = dict(regions)

    @classmethod
    def load(cls, directory: Path) -> "RegionPolicies":
        """Every `*.yaml` in `directory` over `national.yaml`; RegionFileError on the first bad file."""
        national_path = directory / NATIONAL_FILE
        national = _read(national_path) if national_path.exists() else {}
        if national:
            for key in ("code", "name", "province"):
                if key in national:
                    raise RegionFileError(NATIONAL_FILE, key, "belongs in a region's own file")
            parse_region({**national, **_NATIONAL_STANDIN}, where=NATIONAL_FILE)
        regions: dict[str, RegionPolicy] = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name == NATIONAL_FILE:
                continue
            policy = parse_region(merge(RegionFile, national, _read(path)), where=path.name)
            if policy.code in regions:
                raise RegionFileError(path.name, "code", f"region code {policy.code} defined twice")
            regions[policy.code] = policy
        if not regions:
            raise ValueError(f"no region policy files in {directory}")
        return cls(regions)

    def codes(self) -> list[str]:
        return sorted(self._regions)

    def get(self, code: str) -> RegionPolicy:
        try:
            return self._regions[code]
        except KeyError:
            raise InvalidArgument("UNKNOWN_REGION", f"no policy for pooling region {code!r}", region_code=code) from None
