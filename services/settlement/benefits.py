"""The benefit engine: how a bill (医疗费总额) splits into pooled fund (统筹基金),
personal account (个人账户) and cash (现金). Pure, integer fen, no floats.

Rules (see docs/benefits.md for the worked examples):
1. 丙类 items are fully self-paid; 乙类 items have a first self-pay share
   (先行自付) set by the catalog (payment scope) of `catalog_region`: the
   HOME region's within its province, the TREATMENT region's out of province;
   the rest is eligible (政策范围内).
2. The insured pays the year's remaining deductible (起付线) out of the eligible part.
3. The fund pays the HOME region's ratio (报销比例, by care type and hospital
   level) of what is left, up to what remains of the annual cap (封顶线).
4. Everything else is the insured's share: the personal account pays it up to
   its balance, the rest is cash.
Rounding: every product rounds in the fund's favour — the self-pay share of a
乙类 item rounds up, the fund's share rounds down — so the three parts always
add up to the bill exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from services.common.errors import InvalidArgument, PermissionDenied

BASIS_POINTS = 10_000


class CatalogClass(str, Enum):
    A = "A"  # 甲类: fully covered
    B = "B"  # 乙类: first self-pay share, then covered
    C = "C"  # 丙类: fully self-paid


class CareType(str, Enum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    PHARMACY = "pharmacy"


ALLOWED_CARE = {"hospital": {CareType.OUTPATIENT, CareType.INPATIENT}, "pharmacy": {CareType.PHARMACY}}


@dataclass(frozen=True)
class LineItem:
    amount_fen: int
    catalog_class: CatalogClass
    code: str = ""


@dataclass(frozen=True)
class Institution:
    kind: str  # hospital | pharmacy
    level: int  # 1-3 for hospitals, 0 for pharmacies


@dataclass(frozen=True)
class Bill:
    institution: Institution
    care_type: CareType
    items: tuple[LineItem, ...]

    @property
    def total_fen(self) -> int:
        return sum(item.amount_fen for item in self.items)


@dataclass(frozen=True)
class YearToDate:
    """The year's accumulators: deductible already paid, fund already paid."""

    deductible_paid_fen: int = 0
    fund_paid_fen: int = 0


@dataclass(frozen=True)
class CategoryPolicy:
    """Home-region parameters for one insured category."""

    deductible_fen: int
    annual_cap_fen: int
    ratios_bp: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    def ratio_bp(self, care: CareType, level: int) -> int:
        by_level = self.ratios_bp.get(care.value, {})
        return by_level.get(level, by_level.get(0, 0))


@dataclass(frozen=True)
class BenefitPolicy:
    categories: Mapping[str, CategoryPolicy]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "BenefitPolicy":
        categories = {}
        for name in ("employee", "resident", "flexible"):
            if name not in data:
                raise ValueError(f"benefits: missing category {name!r}")
            categories[name] = _category(data[name], f"benefits.{name}")
        return cls(categories)

    def for_category(self, category: str) -> CategoryPolicy:
        try:
            return self.categories[category]
        except KeyError:
            raise InvalidArgument("UNKNOWN_CATEGORY", f"no benefit policy for insured category {category!r}") from None


@dataclass(frozen=True)
class CatalogPolicy:
    """Treatment-region catalog parameters."""

    class_b_self_pay_bp: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "CatalogPolicy":
        catalog = data.get("catalog")
        if not isinstance(catalog, Mapping) or "class_b_self_pay_bp" not in catalog:
            raise ValueError("benefits.catalog.class_b_self_pay_bp is required")
        return cls(_bp(catalog["class_b_self_pay_bp"], "benefits.catalog.class_b_self_pay_bp"))


def _bp(value: Any, where: str) -> int:
    if not isinstance(value, int) or not 0 <= value <= BASIS_POINTS:
        raise ValueError(f"{where}: basis points 0-10000 expected, got {value!r}")
    return value


def _category(data: Any, where: str) -> CategoryPolicy:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping")
    try:
        deductible, cap, ratios = int(data["deductible_fen"]), int(data["annual_cap_fen"]), data["ratios_bp"]
    except KeyError as missing:
        raise ValueError(f"{where}: missing {missing}") from None
    if deductible < 0 or cap < 0:
        raise ValueError(f"{where}: deductible and cap must be >= 0")
    parsed: dict[str, dict[int, int]] = {}
    for care in CareType:
        value = ratios.get(care.value, 0)
        if isinstance(value, Mapping):
            parsed[care.value] = {int(level): _bp(bp, f"{where}.ratios_bp.{care.value}.{level}") for level, bp in value.items()}
        else:
            parsed[care.value] = {0: _bp(value, f"{where}.ratios_bp.{care.value}")}
    return CategoryPolicy(deductible, cap, parsed)


@dataclass(frozen=True)
class Split:
    medfee_sumamt_fen: int  # 医疗费总额
    self_paid_fen: int  # 丙类 + 乙类 先行自付
    deductible_applied_fen: int  # 起付线 paid by the insured in this bill
    fund_pay_fen: int  # 统筹基金支付 fund_pay_sumamt
    acct_pay_fen: int  # 个人账户支付 acct_pay
    cash_pay_fen: int  # 现金支付 psn_cash_pay
    over_cap_fen: int  # what the fund would have paid above 封顶线
    ytd: YearToDate  # accumulators after this bill


def province_of(region_code: str) -> str:
    """A pooling region's province: the first two digits of its code."""
    return region_code[:2]


def catalog_region(home_region: str, treatment_region: str) -> str:
    """Whose catalog applies to care outside the home region (异地就医, Guangxi guide 十四 ① ②): elsewhere
    in the home province the home region's whole policy, catalog included; out of province the treatment
    region's catalog (with the home region's deductible, ratio and cap, always)."""
    return home_region if province_of(treatment_region) == province_of(home_region) else treatment_region


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def check_care_type(bill: Bill) -> None:
    if bill.care_type not in ALLOWED_CARE.get(bill.institution.kind, set()):
        raise PermissionDenied("CARE_TYPE_NOT_ALLOWED", f"a {bill.institution.kind} cannot settle {bill.care_type.value} care")


def split_bill(bill: Bill, home: CategoryPolicy, treatment: CatalogPolicy, ytd: YearToDate, account_balance_fen: int) -> Split:
    """Split one bill; `home` is the insured's region, `treatment` the institution's catalog."""
    check_care_type(bill)
    if not bill.items or any(item.amount_fen <= 0 for item in bill.items):
        raise InvalidArgument("INVALID_AMOUNT", "a bill needs line items with positive amounts")
    total = bill.total_fen
    self_paid = sum(
        item.amount_fen if item.catalog_class is CatalogClass.C
        else _ceil_div(item.amount_fen * treatment.class_b_self_pay_bp, BASIS_POINTS) if item.catalog_class is CatalogClass.B
        else 0
        for item in bill.items
    )
    eligible = total - self_paid
    ratio = home.ratio_bp(bill.care_type, bill.institution.level)
    deductible = min(eligible, max(home.deductible_fen - ytd.deductible_paid_fen, 0)) if ratio else 0
    fund_uncapped = (eligible - deductible) * ratio // BASIS_POINTS
    fund = min(fund_uncapped, max(home.annual_cap_fen - ytd.fund_paid_fen, 0))
    insured_share = total - fund
    acct = min(insured_share, max(account_balance_fen, 0))
    return Split(
        medfee_sumamt_fen=total,
        self_paid_fen=self_paid,
        deductible_applied_fen=deductible,
        fund_pay_fen=fund,
        acct_pay_fen=acct,
        cash_pay_fen=insured_share - acct,
        over_cap_fen=fund_uncapped - fund,
        ytd=YearToDate(ytd.deductible_paid_fen + deductible, ytd.fund_paid_fen + fund),
    )
