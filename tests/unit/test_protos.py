"""buf STANDARD style, checked on the compiled descriptors (buf itself is not installable here),
and generated code that matches the protos."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import sscard
from services.common.config import REPO_ROOT


def _files():  # noqa: ANN202
    modules = [m.name for m in pkgutil.walk_packages(sscard.__path__, "sscard.") if m.name.endswith("_pb2")]
    return [importlib.import_module(name).DESCRIPTOR for name in modules]


def _violations() -> list[str]:
    problems: list[str] = []
    for file in _files():
        folder = file.name.rsplit("/", 1)[0]
        if file.package.replace(".", "/") != folder:
            problems.append(f"{file.name}: package {file.package} not in folder {folder}")
        if not re.fullmatch(r"sscard\.[a-z]+\.v\d+", file.package):
            problems.append(f"{file.name}: package {file.package} is not sscard.<name>.v<N>")
        for enum in file.enum_types_by_name.values():
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
            if enum.values[0].name != prefix + "UNSPECIFIED" or enum.values[0].number != 0:
                problems.append(f"{enum.full_name}: zero value must be {prefix}UNSPECIFIED")
            problems += [f"{enum.full_name}.{v.name}: missing prefix {prefix}" for v in enum.values if not v.name.startswith(prefix)]
        for service in file.services_by_name.values():
            if not service.name.endswith("Service"):
                problems.append(f"{service.full_name}: service names end in Service")
            for method in service.methods:
                if method.input_type.name != f"{method.name}Request":
                    problems.append(f"{method.full_name}: request must be {method.name}Request")
                if method.output_type.name != f"{method.name}Response":
                    problems.append(f"{method.full_name}: response must be {method.name}Response")
        used = [m.input_type for s in file.services_by_name.values() for m in s.methods]
        if len(used) != len(set(used)):
            problems.append(f"{file.name}: a request message is shared between RPCs")
        for message in file.message_types_by_name.values():
            problems += [f"{message.full_name}.{f.name}: fields are lower_snake_case"
                         for f in message.fields if not re.fullmatch(r"[a-z][a-z0-9_]*", f.name)]
    return problems


def test_every_proto_follows_buf_standard_style() -> None:
    assert len(_files()) >= 10
    assert _violations() == []


def test_generated_code_is_not_stale() -> None:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gen_protos.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
