"""Render every kustomize overlay and validate it offline with `kubernetes-validate --strict`.

kubernetes-validate knows only the built-in kinds: for anything else it prints a WARN and passes.
So the Prometheus Operator kinds (ServiceMonitor, PrometheusRule) are checked here against
CRD_SCHEMAS, hand-written strict subsets of monitoring.coreos.com/v1 (only the fields sscard uses,
unknown fields rejected; not the operator's full CRD), and any other kind without a schema fails.

Uses `kubectl kustomize` when kubectl is installed; otherwise a small renderer
for exactly the kustomize features deploy/k8s uses (resources, namespace,
labels, configMapGenerator with files, strategic-merge patches by kind+name).

Usage: python scripts/validate_k8s.py [--sync-regions] [--no-kubectl]
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.33.0"
EMBEDDED_ONLY_REGIONS = {"demo.yaml"}


def region_files_in_sync() -> list[str]:
    """Region files whose copy in deploy/k8s/base/regions differs from regions/ (empty = in sync)."""
    wanted = {p.name: p.read_bytes() for p in (ROOT / "regions").glob("*.yaml") if p.name not in EMBEDDED_ONLY_REGIONS}
    present = {p.name: p.read_bytes() for p in (K8S / "base" / "regions").glob("*.yaml")}
    return sorted(name for name in wanted.keys() | present.keys() if wanted.get(name) != present.get(name))


def sync_regions() -> None:
    target = K8S / "base" / "regions"
    for old in target.glob("*.yaml"):
        old.unlink()
    for path in (ROOT / "regions").glob("*.yaml"):
        if path.name not in EMBEDDED_ONLY_REGIONS:
            shutil.copy(path, target / path.name)


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge, as far as our patches need: maps deep-merge, lists of named items merge by name, None deletes."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = _merge(merged[key], value)
            else:
                merged[key] = value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and all(isinstance(i, dict) and "name" in i for i in base + patch):
        by_name = {item["name"]: item for item in base}
        for item in patch:
            by_name[item["name"]] = _merge(by_name.get(item["name"], {}), item)
        return list(by_name.values())
    return patch


def _rename_config_maps(doc: Any, names: dict[str, str]) -> Any:
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            if key == "configMap" and isinstance(value, dict) and value.get("name") in names:
                value = {**value, "name": names[value["name"]]}
            out[key] = _rename_config_maps(value, names)
        return out
    if isinstance(doc, list):
        return [_rename_config_maps(v, names) for v in doc]
    return doc


def render_python(directory: Path) -> list[dict[str, Any]]:
    """The fallback renderer (no kubectl)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        docs += render_python(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    renamed: dict[str, str] = {}
    for generator in spec.get("configMapGenerator", []):
        data = {Path(f).name: (directory / f).read_text() for f in generator.get("files", [])}
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
        renamed[generator["name"]] = f"{generator['name']}-{digest}"
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": renamed[generator["name"]]}, "data": data})
    docs = [_rename_config_maps(d, renamed) for d in docs]
    for patch_ref in spec.get("patches", []):
        for patch in yaml.safe_load_all((directory / patch_ref["path"]).read_text()):
            for i, doc in enumerate(docs):
                if doc["kind"] == patch["kind"] and doc["metadata"]["name"] == patch["metadata"]["name"]:
                    docs[i] = _merge(doc, patch)
    for doc in docs:
        for entry in spec.get("labels", []):
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
        if spec.get("namespace") and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = spec["namespace"]
    return copy.deepcopy(docs)


def render(overlay: str, use_kubectl: bool = True) -> list[dict[str, Any]]:
    directory = K8S / "overlays" / overlay
    if use_kubectl and shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", str(directory)], check=True, capture_output=True, text=True).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    return render_python(directory)


_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
_LABEL_SELECTOR = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "matchLabels": _STRINGS,
        "matchExpressions": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "operator"],
            "properties": {"key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                           "values": {"type": "array", "items": {"type": "string"}}}}},
    },
}


def _kind(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": kind}, "metadata": _METADATA, "spec": spec}}


# Hand-written strict subsets of the Prometheus Operator's v1 CRDs: the fields deploy/k8s uses.
CRD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _kind("ServiceMonitor", {
        "type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
        "properties": {
            "jobLabel": {"type": "string"},
            "selector": _LABEL_SELECTOR,
            "namespaceSelector": {"type": "object", "additionalProperties": False, "properties": {
                "any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}}},
            "endpoints": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": ["port"],
                "properties": {"port": {"type": "string", "minLength": 1}, "path": {"type": "string"}, "scheme": {"enum": ["http", "https"]},
                               "interval": _DURATION, "scrapeTimeout": _DURATION, "honorLabels": {"type": "boolean"}}}},
        },
    }),
    ("monitoring.coreos.com/v1", "PrometheusRule"): _kind("PrometheusRule", {
        "type": "object", "additionalProperties": False, "required": ["groups"],
        "properties": {"groups": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "rules"],
            "properties": {
                "name": {"type": "string", "minLength": 1}, "interval": _DURATION,
                "rules": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["expr"],
                    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                    "properties": {"alert": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}, "record": {"type": "string"},
                                   "expr": {"type": "string", "minLength": 1}, "for": _DURATION, "keep_firing_for": _DURATION,
                                   "labels": _STRINGS, "annotations": _STRINGS}}},
            }}}},
    }),
}


def validate_crds(docs: list[dict[str, Any]]) -> tuple[bool, str]:
    """The documents of kinds kubernetes-validate has no schema for: CRD_SCHEMAS, or fail."""
    import jsonschema

    ok, lines = True, []
    for doc in docs:
        schema = CRD_SCHEMAS.get((doc.get("apiVersion", ""), doc.get("kind", "")))
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if schema is None:
            ok = False
            lines.append(f"ERROR {where}: no schema for {doc.get('apiVersion')} (add one to CRD_SCHEMAS)")
            continue
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        ok &= not errors
        lines += [f"ERROR {where}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors]
        if not errors:
            lines.append(f"INFO {where}: valid against the hand-written {doc['apiVersion']} subset schema (scripts/validate_k8s.py)")
    return ok, "\n".join(lines) + ("\n" if lines else "")


def validate(docs: list[dict[str, Any]]) -> tuple[bool, str]:
    """kubernetes-validate --strict over the built-in kinds, CRD_SCHEMAS over the rest."""
    builtin = [d for d in docs if not str(d.get("apiVersion", "")).startswith("monitoring.coreos.com/")]
    custom = [d for d in docs if d not in builtin]
    binary = Path(sys.executable).parent / "kubernetes-validate"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump_all(builtin, handle, sort_keys=False)
    result = subprocess.run([str(binary), "--strict", "-k", KUBERNETES_VERSION, handle.name], capture_output=True, text=True)
    Path(handle.name).unlink()
    output = result.stdout + result.stderr
    # A kind it has no schema for is only a WARN there: not validated, so a failure here.
    failed = result.returncode != 0 or "ERROR" in result.stdout or "Couldn't find schema" in output
    crds_ok, crds_output = validate_crds(custom)
    return not failed and crds_ok, output + crds_output


def main() -> int:
    if "--sync-regions" in sys.argv:
        sync_regions()
    stale = region_files_in_sync()
    if stale:
        print(f"deploy/k8s/base/regions is out of date ({', '.join(stale)}): run with --sync-regions")
        return 1
    ok = True
    for overlay in OVERLAYS:
        for use_kubectl in ((True, False) if "--no-kubectl" not in sys.argv else (False,)):
            if use_kubectl and not shutil.which("kubectl"):
                continue
            docs = render(overlay, use_kubectl)
            passed, output = validate(docs)
            kinds = sorted({d["kind"] for d in docs})
            renderer = "kubectl kustomize" if use_kubectl else "built-in renderer"
            custom = sorted({d["kind"] for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")})
            note = f"; {', '.join(custom)} against the hand-written subset schemas" if custom else ""
            print(f"{overlay} ({renderer}): {len(docs)} documents [{', '.join(kinds)}] -> {'valid' if passed else 'INVALID'} (strict, k8s {KUBERNETES_VERSION}{note})")
            if not passed:
                print(output)
            ok &= passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
