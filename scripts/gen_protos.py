"""Regenerate Python code from protos/ into gen/ (never hand-edit gen/).

Usage: python scripts/gen_protos.py [--check]
--check regenerates into a temp dir and exits 1 if gen/ differs (stale).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
# google/api/annotations.proto (the HTTP mapping): its Python code comes from googleapis-common-protos.
THIRD_PARTY = ROOT / "third_party" / "googleapis"


def proto_files() -> list[Path]:
    return sorted(PROTOS.rglob("*.proto"))


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{THIRD_PARTY}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *[str(p.relative_to(PROTOS)) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for directory in [out / "sscard", *[d for d in (out / "sscard").rglob("*") if d.is_dir()]]:
        (directory / "__init__.py").touch()


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".proto"}


def main() -> int:
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            fresh, current = tree(Path(tmp)), tree(GEN) if GEN.exists() else {}
            stale = sorted(k for k in fresh.keys() | current.keys() if fresh.get(k) != current.get(k))
            if stale:
                print("gen/ is stale; run `make protos`:", *stale, sep="\n  ")
                return 1
            print("gen/ is up to date")
            return 0
    if GEN.exists():
        shutil.rmtree(GEN)
    generate(GEN)
    print(f"generated {len(proto_files())} protos into {GEN.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
