"""The protos: buf lint (STANDARD) and buf breaking against the published API (`make protolint`,
buf from npm pinned in tools/), shown here to catch what they are for; generated code that matches.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.config import REPO_ROOT

BUF = REPO_ROOT / "tools" / "node_modules" / ".bin" / "buf"
needs_buf = pytest.mark.skipif(not BUF.exists(), reason="buf is installed by `make test` (npm ci --prefix tools)")


def _buf(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUF), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@needs_buf
def test_the_protos_pass_buf_lint_and_break_nothing_published() -> None:
    lint = _buf("lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    breaking = _buf("breaking", "protos", "--against", "protos/baseline.binpb")
    assert breaking.returncode == 0, breaking.stdout + breaking.stderr


@needs_buf
def test_buf_refuses_a_removed_field_and_a_badly_named_rpc(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "protos", tmp_path / "protos")
    shutil.copytree(REPO_ROOT / "third_party", tmp_path / "third_party")
    shutil.copy(REPO_ROOT / "buf.yaml", tmp_path / "buf.yaml")
    proto = tmp_path / "protos" / "sscard" / "loss" / "v1" / "loss.proto"
    text = proto.read_text()
    first_field = next(line for line in text.splitlines() if line.strip().startswith("string card_no = "))
    proto.write_text(text.replace(first_field, "", 1))
    breaking = _buf("breaking", "protos", "--against", str(REPO_ROOT / "protos" / "baseline.binpb"), cwd=tmp_path)
    assert breaking.returncode != 0 and "card_no" in breaking.stdout
    proto.write_text(text.replace("service LossService {", "service LossService {\n  rpc get_state(GetLossStateRequest) returns (GetLossStateResponse);", 1))
    lint = _buf("lint", cwd=tmp_path)
    assert lint.returncode != 0 and "get_state" in lint.stdout


def test_generated_code_is_not_stale() -> None:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gen_protos.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
