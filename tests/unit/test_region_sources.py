"""docs/regions.md maps every key of every city file to the guide it quotes (issue 16)."""

from __future__ import annotations

import re

import yaml

from services.common.config import REPO_ROOT

ROW = re.compile(r"^\| `(?P<file>[a-z0-9_]+\.yaml)` \| `(?P<key>[a-z_.]+)` \| `(?P<value>[^`]+)` \| (?P<source>.+) \|$")
UNLISTED = {"name", "province", "partner_bank"}  # descriptive, not guide facts


def documented() -> dict[tuple[str, str], tuple[object, str]]:
    text = (REPO_ROOT / "docs" / "regions.md").read_text(encoding="utf-8")
    rows = [ROW.match(line) for line in text.splitlines()]
    return {(m["file"], m["key"]): (yaml.safe_load(m["value"]), m["source"]) for m in rows if m}


def leaves(mapping: dict, prefix: str = "") -> dict[str, object]:
    """Dotted keys of a city file; a duration or a channel list is one value."""
    found: dict[str, object] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not set(value) <= {"days", "hours", "months"}:
            found.update(leaves(value, dotted + "."))
        else:
            found[dotted] = value
    return found


def test_every_key_of_every_city_file_is_documented_with_its_value_and_seed_source() -> None:
    rows = documented()
    files = sorted(p for p in (REPO_ROOT / "regions").glob("*.yaml") if p.name not in ("national.yaml", "demo.yaml"))
    assert len(files) == 8  # Beijing, the three cities of guide 001, Dalian, Shijiazhuang, Jinan, Nanning
    for path in files:
        for key, value in leaves(yaml.safe_load(path.read_text(encoding="utf-8"))).items():
            if key in UNLISTED:
                continue
            assert (path.name, key) in rows, f"docs/regions.md has no row for {path.name} {key}"
            listed, source = rows[(path.name, key)]
            assert listed == value, f"docs/regions.md says {path.name} {key} = {listed!r}, the file {value!r}"
            assert re.search(r"seed 00\d|national default", source), f"{path.name} {key}: no seed source"
    for file, key in rows:
        path = REPO_ROOT / "regions" / file
        assert path.exists() and key in leaves(yaml.safe_load(path.read_text(encoding="utf-8"))), f"docs/regions.md lists {file} {key}: not in the file"


# Every number a city guide states, where it lives: (seed, the guide's words, region file, dotted key, value).
# The words must be in the seed (no invented sources), the file must say the value, docs/regions.md must list it.
SEEDS = REPO_ROOT.parent / "shared" / "seeds"
GUIDE_NUMBERS = [
    ("000", "4個工作日後領取", "beijing.yaml", "production_working_days.default", 4),
    ("000", "收取制卡工本費20元", "beijing.yaml", "replacement_fee_fen", 2000),
    ("001", "預掛失的有效時間為10天", "guide001_96102.yaml", "temporary_loss_validity", {"days": 10}),
    ("001", "15個工作日後,申請補卡人", "guide001_96102.yaml", "production_working_days.default", 15),
    ("001", "時間為45個工作日", "guide001_12333.yaml", "production_working_days.default", 45),
    ("001", "區縣醫保中心可當場予以辦結", "guide001_12333.yaml", "reissue_production_working_days.district_centre", 0),
    ("001", "服務點將在3個工作日內辦結", "guide001_12333.yaml", "reissue_production_working_days.outlet", 3),
    ("001", "掛失只能24小時內有效", "guide001_962222.yaml", "temporary_loss_validity", {"hours": 24}),
    ("001", "當場辦理,當場取卡", "guide001_962222.yaml", "production_working_days.default", 0),
    ("001", "補辦費用:25元", "guide001_962222.yaml", "replacement_fee_fen", 2500),
    ("001", "報銷一次且為掛失更換前最近一次", "guide001_962222.yaml", "loss_period_refund.most_recent_expense_only", True),
    ("002", "新增人员办理参保2个月后", "dalian.yaml", "production_working_days.employer_batch", {"months": 2}),
    ("002", "社保账户初始密码为“123456”", "shijiazhuang.yaml", "initial_pin", "123456"),
    ("003", "臨時掛失有效期為7日", "jinan.yaml", "temporary_loss_validity", {"days": 7}),
    ("003", "半小時左右就可以領到新卡", "jinan.yaml", "production_working_days.bank_outlet", 0),
    ("003", "并在10日內發放給參保人", "jinan.yaml", "employer_handout_days", 10),
    ("004", "制卡周期为20个工作日", "nanning.yaml", "production_working_days.default", 20),
    ("004", "连续6次输错密码后自动锁卡", "nanning.yaml", "pin_max_attempts", 6),
    ("004", "新生儿出生3个月内", "nanning.yaml", "newborn_cover_window_months", 3),
    ("004", "通过微信公众号办理解挂", "nanning.yaml", "loss_channels.lift", ["outlet", "wechat"]),
]


def test_every_number_a_guide_states_is_a_region_key_with_that_value() -> None:
    seeds = {p.name[:3]: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")} if SEEDS.exists() else {}
    rows = documented()
    for seed, words, file, key, value in GUIDE_NUMBERS:
        if seeds:
            assert words in seeds[seed], f"seed {seed} does not say {words!r}"
        actual = leaves(yaml.safe_load((REPO_ROOT / "regions" / file).read_text(encoding="utf-8"))).get(key)
        assert actual == value, f"{file} {key}: the guide says {value!r}, the file {actual!r}"
        assert (file, key) in rows and f"seed {seed}" in rows[(file, key)][1], f"docs/regions.md: no seed {seed} row for {file} {key}"


# The numbers above, as they would look hard-coded; none may be a module constant of a service.
GUIDE_VALUES = {v for *_, v in GUIDE_NUMBERS if isinstance(v, (int, str)) and not isinstance(v, bool) and v not in (0, True)}


def test_no_guide_number_is_a_code_constant() -> None:
    import ast

    found = []
    business = [p for s in ("cards", "loss", "identity", "settlement") for p in (REPO_ROOT / "services" / s).glob("*.py")]
    for path in business + [REPO_ROOT / "services" / "common" / "policy.py", REPO_ROOT / "services" / "common" / "agents.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # Module and class level constants, dataclass field defaults and keyword defaults of functions.
            values: list[ast.expr] = []
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not isinstance(node.value, ast.Call):
                values.append(node.value)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                values += [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
            for value in values:
                if isinstance(value, ast.Constant) and type(value.value) in (int, str) and value.value in GUIDE_VALUES:
                    found.append(f"{path.relative_to(REPO_ROOT)}:{value.lineno} = {value.value!r}")
    assert not found, f"guide numbers hard-coded (make them region keys): {found}"
