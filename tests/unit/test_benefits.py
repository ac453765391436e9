"""The benefit engine with worked examples (amounts in fen, computed by hand in the comments)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import InvalidArgument, PermissionDenied
from services.settlement.benefits import (
    BenefitPolicy, Bill, CareType, CatalogClass, CatalogPolicy, CategoryPolicy, Institution, LineItem, YearToDate, split_bill,
)

HOME = BenefitPolicy.from_mapping({
    "employee": {"deductible_fen": 130000, "annual_cap_fen": 50000000,
                 "ratios_bp": {"outpatient": {1: 9000, 2: 8500, 3: 8000}, "inpatient": {1: 9500, 2: 9000, 3: 8500}, "pharmacy": 0}},
    "resident": {"deductible_fen": 80000, "annual_cap_fen": 25000000,
                 "ratios_bp": {"outpatient": {1: 6000, 2: 5500, 3: 5000}, "inpatient": {1: 8500, 2: 7500, 3: 6500}, "pharmacy": 0}},
    "flexible": {"deductible_fen": 130000, "annual_cap_fen": 40000000,
                 "ratios_bp": {"outpatient": {1: 8500, 2: 8000, 3: 7500}, "inpatient": {1: 9000, 2: 8500, 3: 8000}, "pharmacy": 0}},
})
HOME_CATALOG = CatalogPolicy(class_b_self_pay_bp=1000)  # 乙类: 10 % first self-pay
OTHER_CATALOG = CatalogPolicy(class_b_self_pay_bp=2000)  # the treatment region's catalog: 20 %
HOME_MAPPING = {"deductible_fen": 0, "annual_cap_fen": 0, "ratios_bp": {}}
LEVEL1, LEVEL3 = Institution("hospital", 1), Institution("hospital", 3)
PHARMACY = Institution("pharmacy", 0)


def bill(institution: Institution, care: CareType, *items: tuple[int, CatalogClass]) -> Bill:
    return Bill(institution, care, tuple(LineItem(fen, cls) for fen, cls in items))


def test_level1_outpatient_crosses_the_deductible_mid_bill() -> None:
    # Employee, 1,000.00 yuan of deductible already paid this year; 500.00 left.
    # Bill 800.00: 甲 600.00 + 乙 200.00 -> 乙 self-pay 10 % = 20.00; eligible 780.00.
    # Deductible: the remaining 300.00 of 1,300.00 is paid first -> 480.00 reimbursable.
    # Fund: 90 % of 480.00 = 432.00. Insured: 800.00 - 432.00 = 368.00, all from a 1,000.00 balance.
    split = split_bill(bill(LEVEL1, CareType.OUTPATIENT, (60000, CatalogClass.A), (20000, CatalogClass.B)),
                       HOME.for_category("employee"), HOME_CATALOG, YearToDate(100000, 0), account_balance_fen=100000)
    assert (split.self_paid_fen, split.deductible_applied_fen, split.fund_pay_fen) == (2000, 30000, 43200)
    assert (split.acct_pay_fen, split.cash_pay_fen) == (36800, 0)
    assert split.ytd == YearToDate(130000, 43200)


def test_level3_inpatient_crosses_the_annual_cap_mid_bill() -> None:
    # Employee, deductible met, fund has paid 499,000.00 of the 500,000.00 cap.
    # Bill 20,000.00 甲 + 1,000.00 丙: eligible 20,000.00; 85 % = 17,000.00 but only 1,000.00 of cap remains.
    # Fund 1,000.00; over cap 16,000.00; insured 20,000.00; account 3,000.00; cash 17,000.00.
    split = split_bill(bill(LEVEL3, CareType.INPATIENT, (2000000, CatalogClass.A), (100000, CatalogClass.C)),
                       HOME.for_category("employee"), HOME_CATALOG, YearToDate(130000, 49900000), account_balance_fen=300000)
    assert (split.self_paid_fen, split.deductible_applied_fen, split.fund_pay_fen, split.over_cap_fen) == (100000, 0, 100000, 1600000)
    assert (split.acct_pay_fen, split.cash_pay_fen) == (300000, 1700000)
    assert split.ytd.fund_paid_fen == 50000000


def test_out_of_region_inpatient_uses_the_treatment_catalog_and_home_deductible_ratio_cap() -> None:
    # Resident insured at home (deductible 800.00, level-3 inpatient 65 %), treated elsewhere where 乙 self-pay is 20 %.
    # Bill 甲 3,000.00 + 乙 1,000.00 -> 乙 self-pay 200.00 (treatment catalog); eligible 3,800.00.
    # Deductible 800.00 (home) -> 3,000.00 reimbursable; fund 65 % = 1,950.00. Insured 2,050.00; balance 0 -> cash.
    split = split_bill(bill(LEVEL3, CareType.INPATIENT, (300000, CatalogClass.A), (100000, CatalogClass.B)),
                       HOME.for_category("resident"), OTHER_CATALOG, YearToDate(), account_balance_fen=0)
    assert (split.self_paid_fen, split.deductible_applied_fen, split.fund_pay_fen) == (20000, 80000, 195000)
    assert (split.acct_pay_fen, split.cash_pay_fen) == (0, 205000)
    at_home = split_bill(bill(LEVEL3, CareType.INPATIENT, (300000, CatalogClass.A), (100000, CatalogClass.B)),
                         HOME.for_category("resident"), HOME_CATALOG, YearToDate(), account_balance_fen=0)
    assert at_home.self_paid_fen == 10000 and at_home.fund_pay_fen == 201500  # 65 % of 3,100.00


def test_pharmacy_purchase_bigger_than_the_balance_pays_the_rest_in_cash() -> None:
    split = split_bill(bill(PHARMACY, CareType.PHARMACY, (3520, CatalogClass.A), (1000, CatalogClass.C)),
                       HOME.for_category("resident"), HOME_CATALOG, YearToDate(), account_balance_fen=4000)
    assert (split.fund_pay_fen, split.acct_pay_fen, split.cash_pay_fen, split.deductible_applied_fen) == (0, 4000, 520, 0)


def test_rounding_favours_the_fund_and_the_parts_add_up_exactly() -> None:
    # 乙 item of 0.15 yuan at 10 %: self-pay 1.5 fen -> 2 fen (up); eligible 13; fund 90 % = 11.7 -> 11 (down).
    split = split_bill(bill(LEVEL1, CareType.OUTPATIENT, (15, CatalogClass.B)),
                       HOME.for_category("employee"), HOME_CATALOG, YearToDate(130000, 0), account_balance_fen=0)
    assert (split.self_paid_fen, split.fund_pay_fen, split.cash_pay_fen) == (2, 11, 4)


def test_rules_of_institution_and_bill() -> None:
    with pytest.raises(PermissionDenied) as error:
        split_bill(bill(PHARMACY, CareType.INPATIENT, (100, CatalogClass.A)), HOME.for_category("resident"), HOME_CATALOG, YearToDate(), 0)
    assert error.value.reason == "CARE_TYPE_NOT_ALLOWED"
    with pytest.raises(InvalidArgument):
        split_bill(bill(LEVEL1, CareType.OUTPATIENT), HOME.for_category("resident"), HOME_CATALOG, YearToDate(), 0)
    with pytest.raises(InvalidArgument):
        split_bill(bill(LEVEL1, CareType.OUTPATIENT, (0, CatalogClass.A)), HOME.for_category("resident"), HOME_CATALOG, YearToDate(), 0)
    with pytest.raises(ValueError, match="ratios_bp"):
        BenefitPolicy.from_mapping({c: {"deductible_fen": 1, "annual_cap_fen": 1, "ratios_bp": {"outpatient": 10001}} for c in ("employee", "resident", "flexible")})
    with pytest.raises(ValueError, match="deductible_fen"):
        BenefitPolicy.from_mapping({"employee": {}, "resident": {}, "flexible": {}})
    with pytest.raises(ValueError, match="flexible"):
        BenefitPolicy.from_mapping({"employee": HOME_MAPPING, "resident": HOME_MAPPING})


policies = st.builds(
    CategoryPolicy,
    deductible_fen=st.integers(0, 500000),
    annual_cap_fen=st.integers(0, 10**8),
    ratios_bp=st.fixed_dictionaries({"outpatient": st.fixed_dictionaries({1: st.integers(0, 10000), 3: st.integers(0, 10000)}),
                                     "inpatient": st.fixed_dictionaries({1: st.integers(0, 10000), 3: st.integers(0, 10000)})}),
)
items = st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from(list(CatalogClass))), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(policy=policies, lines=items, level=st.sampled_from([1, 3]), care=st.sampled_from([CareType.OUTPATIENT, CareType.INPATIENT]),
       b_bp=st.integers(0, 10000), ytd_d=st.integers(0, 600000), ytd_f=st.integers(0, 10**8), balance=st.integers(0, 10**8))
def test_split_invariants(policy, lines, level, care, b_bp, ytd_d, ytd_f, balance) -> None:  # noqa: ANN001
    split = split_bill(bill(Institution("hospital", level), care, *lines), policy, CatalogPolicy(b_bp), YearToDate(ytd_d, ytd_f), balance)
    assert split.fund_pay_fen + split.acct_pay_fen + split.cash_pay_fen == split.medfee_sumamt_fen
    assert min(split.fund_pay_fen, split.acct_pay_fen, split.cash_pay_fen, split.deductible_applied_fen) >= 0
    assert split.fund_pay_fen <= max(policy.annual_cap_fen - ytd_f, 0)
    assert split.acct_pay_fen <= balance
    assert split.ytd.deductible_paid_fen >= ytd_d and split.ytd.fund_paid_fen >= ytd_f
    assert split.ytd.deductible_paid_fen <= max(policy.deductible_fen, ytd_d)


def test_care_elsewhere_in_the_province_uses_the_home_catalog_out_of_province_the_treatment_one() -> None:
    from services.settlement.benefits import catalog_region

    # Guangxi guide 十四 ①: Nanning insured treated in Guilin (same province 45): Nanning's whole policy.
    assert catalog_region("450100", "450300") == "450100"
    # 十四 ②: treated in Beijing (province 11): Beijing's catalog, Nanning's deductible, ratio and cap.
    assert catalog_region("450100", "110000") == "110000"
    assert catalog_region("450100", "450100") == "450100"
