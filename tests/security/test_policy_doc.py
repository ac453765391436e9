"""docs/security.md's who-may-do-what table is the policy table (access.POLICY), rendered.

After changing POLICY or DESCRIPTIONS, regenerate the table with
`.venv/bin/python -m tests.security.test_policy_doc`."""

from __future__ import annotations

import re

from services.common.access import POLICY, render_markdown
from services.common.config import REPO_ROOT

DOC = REPO_ROOT / "docs" / "security.md"
BLOCK = re.compile(r"(<!-- policy-table: generated[^\n]*-->\n)(.*?)(<!-- policy-table: end -->)", re.S)


def documented_table() -> str:
    found = BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert found, f"{DOC} lost its policy-table markers"
    return found.group(2)


def test_security_doc_table_is_the_rendered_policy() -> None:
    assert documented_table() == render_markdown(), (
        "docs/security.md's table differs from access.POLICY: run `.venv/bin/python -m tests.security.test_policy_doc`")


def test_rendering_has_one_row_per_rpc_and_names_every_kind_and_condition() -> None:
    rows = render_markdown().splitlines()[2:]
    assert len(rows) == len(POLICY)
    for row, (method, rules) in zip(rows, POLICY.items()):
        assert f"`{method.rsplit('/', 1)[1]}`" in row
        for rule in rules:
            assert f"`{rule.kind}`" in row, (method, rule.kind)


def test_a_changed_policy_changes_the_rendering() -> None:
    method = next(iter(POLICY))
    assert render_markdown({**POLICY, method: POLICY[method][:1]}) != render_markdown()


def regenerate() -> None:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + render_markdown() + m.group(3), text, count=1), encoding="utf-8")


if __name__ == "__main__":
    regenerate()
