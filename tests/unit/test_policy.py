"""Region policy files: strict validation and how a city file combines with national.yaml."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from services.common.config import REPO_ROOT, Settings
from services.common.policy import RegionFileError, RegionPolicies

CITY = 'code: "370100"\nname: 济南市 Jinan\nprovince: "37"\n'


def regions(tmp_path: Path, city: str, national: str | None = None) -> Path:
    shutil.copy(REPO_ROOT / "regions" / "national.yaml", tmp_path / "national.yaml")
    if national is not None:
        (tmp_path / "national.yaml").write_text(national, encoding="utf-8")
    (tmp_path / "city.yaml").write_text(city, encoding="utf-8")
    return tmp_path


def test_every_shipped_region_file_loads() -> None:
    policies = RegionPolicies.load(REPO_ROOT / "regions")
    assert {"110000", "370100", "450100"} <= set(policies.codes())
    assert policies.get("370100").partner_bank == "QLB" and policies.get("210200").legacy_medical_card


def test_a_duration_replaces_the_national_one_whole(tmp_path: Path) -> None:
    # national.yaml says {days: 7}: merged key by key this used to give 7 days + 24 hours.
    policy = RegionPolicies.load(regions(tmp_path, CITY + "temporary_loss_validity: {hours: 24}\n")).get("370100")
    assert policy.temporary_loss_validity == timedelta(hours=24)


def test_a_table_by_hospital_level_replaces_the_national_one_but_other_keys_are_kept(tmp_path: Path) -> None:
    city = CITY + "benefits:\n  employee:\n    deductible_fen: 100000\n    ratios_bp:\n      outpatient: {0: 7000}\n"
    employee = RegionPolicies.load(regions(tmp_path, city)).get("370100").benefits["employee"]
    assert employee["deductible_fen"] == 100000 and employee["annual_cap_fen"] == 50000000  # the cap stays national
    assert employee["ratios_bp"]["outpatient"] == {0: 7000}  # no national level 1-3 entries mixed in
    assert employee["ratios_bp"]["inpatient"] == {1: 9500, 2: 9000, 3: 8500}


def test_production_days_are_one_table(tmp_path: Path) -> None:
    policy = RegionPolicies.load(regions(tmp_path, CITY + "production_working_days: {default: 4, bank_outlet: 0}\n")).get("370100")
    assert policy.production_days("bank_outlet") == 0 and policy.production_days("outlet") == 4


@pytest.mark.parametrize("text,key", [
    ("temporary_loss_valdity: {days: 10}\n", "temporary_loss_valdity"),  # misspelt key
    ("pin_max_attempt: 3\n", "pin_max_attempt"),
    ("benefits:\n  employee:\n    deductable_fen: 1\n", "benefits.employee.deductable_fen"),
    ("temporary_loss_validity: {weeks: 1}\n", "temporary_loss_validity.weeks"),
    ("temporary_loss_validity: {hours: 0}\n", "temporary_loss_validity"),  # impossible: never valid
    ("temporary_loss_validity: {days: -1}\n", "temporary_loss_validity.days"),
    ("temporary_loss_validity: 7\n", "temporary_loss_validity"),  # wrong type
    ("pin_max_attempts: 0\n", "pin_max_attempts"),
    ("pin_max_attempts: \"6\"\n", "pin_max_attempts"),
    ("replacement_fee_fen: -2000\n", "replacement_fee_fen"),
    ("replacement_fee_fen: 20.5\n", "replacement_fee_fen"),
    ("financial_activation_activates_social: \"yes\"\n", "financial_activation_activates_social"),
    ("production_working_days: {bank_outlet: 0}\n", "production_working_days.default"),
    ("production_working_days: {default: 20, bank_outlett: 0}\n", "production_working_days.bank_outlett"),
    ("production_working_days: {default: -1}\n", "production_working_days.default"),
    ("benefits:\n  catalog: {class_b_self_pay_bp: 10001}\n", "benefits.catalog.class_b_self_pay_bp"),
    ("benefits:\n  resident:\n    ratios_bp: {inpatient: {4: 9000}}\n", "benefits.resident.ratios_bp.inpatient"),
    ("calendar: {extra_holidays: [\"2027-02-30\"]}\n", "calendar.extra_holidays.0"),
    ("calendar: {extra_holidays: [1798934400]}\n", "calendar.extra_holidays.0"),  # a timestamp is not a day
])
def test_a_bad_region_file_is_refused_naming_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(RegionFileError) as error:
        RegionPolicies.load(regions(tmp_path, CITY + text))
    assert error.value.file == "city.yaml" and error.value.key.startswith(key)
    assert str(error.value).startswith(f"city.yaml: {key}")


@pytest.mark.parametrize("city,key", [
    ('code: 370100\nname: Jinan\n', "code"),  # unquoted: YAML reads a number
    ('code: "37010"\nname: Jinan\n', "code"),
    ('code: "370100"\nname: Jinan\nprovince: "13"\n', "province"),  # not the code's first two digits
    ('name: Jinan\n', "code"),
])
def test_region_identity_is_checked(tmp_path: Path, city: str, key: str) -> None:
    with pytest.raises(RegionFileError) as error:
        RegionPolicies.load(regions(tmp_path, city))
    assert (error.value.file, error.value.key) == ("city.yaml", key)


def test_a_mistake_in_national_yaml_names_national_yaml(tmp_path: Path) -> None:
    national = (REPO_ROOT / "regions" / "national.yaml").read_text(encoding="utf-8") + "pin_max_attemps: 5\n"
    with pytest.raises(RegionFileError) as error:
        RegionPolicies.load(regions(tmp_path, CITY, national))
    assert (error.value.file, error.value.key) == ("national.yaml", "pin_max_attemps")


def test_province_defaults_to_the_first_two_digits_of_the_code(tmp_path: Path) -> None:
    assert RegionPolicies.load(regions(tmp_path, 'code: "370100"\nname: Jinan\n')).get("370100").province == "37"


def test_a_service_refuses_to_start_on_a_bad_region_file(tmp_path: Path) -> None:
    from services.cards import main

    settings = Settings.from_env("cards", regions_dir=regions(tmp_path, CITY + "temporary_loss_valdity: {hours: 24}\n"), data_dir=tmp_path)
    with pytest.raises(RegionFileError, match="city.yaml: temporary_loss_valdity"):
        main.create(settings)


def test_a_region_can_make_reissues_apart_from_first_cards(tmp_path: Path) -> None:
    city = CITY + "production_working_days: {default: 20, bank_outlet: 0}\nreissue_production_working_days: {default: 5}\n"
    policy = RegionPolicies.load(regions(tmp_path, city)).get("370100")
    assert (policy.production_days("outlet"), policy.production_days("outlet", replacement=True)) == (20, 5)
    assert policy.production_days("bank_outlet", replacement=True) == 5  # the reissue table is whole: its default
    national_only = RegionPolicies.load(regions(tmp_path, CITY + "production_working_days: {default: 20, bank_outlet: 0}\n")).get("370100")
    assert national_only.production_days("bank_outlet", replacement=True) == 0


def test_which_channels_accept_which_loss_act_is_region_data() -> None:
    import typing

    from services.common.policy import LossChannel
    from services.loss.domain import Channel

    assert set(typing.get_args(LossChannel)) == {c.value for c in Channel}
    policies = RegionPolicies.load(REPO_ROOT / "regions")
    assert "wechat" in policies.get("450100").loss_channels["formal"]  # Guangxi, seed 004 十.3
    assert policies.get("370100").loss_channels["formal"] == {"outlet", "bank"}
    assert "wechat" in policies.get("370100").loss_channels["temporary"]


def test_an_unknown_loss_channel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegionFileError) as error:
        RegionPolicies.load(regions(tmp_path, CITY + "loss_channels: {formal: [outlet, wechatt]}\n"))
    assert error.value.key == "loss_channels.formal.1"
