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
        if isinstance(value, dict) and key != "temporary_loss_validity":
            found.update(leaves(value, dotted + "."))
        else:
            found[dotted] = value
    return found


def test_every_key_of_every_city_file_is_documented_with_its_value_and_seed_source() -> None:
    rows = documented()
    files = sorted(p for p in (REPO_ROOT / "regions").glob("*.yaml") if p.name not in ("national.yaml", "demo.yaml"))
    assert len(files) == 7  # Beijing, the two cities of guide 001, Dalian, Shijiazhuang, Jinan, Nanning
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
