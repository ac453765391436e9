"""The Kubernetes manifests: valid (strict, offline), and true to the project's own rules."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from services.common.config import DEFAULT_GRPC_PORTS, DEFAULT_METRICS_PORTS, REPO_ROOT, SERVICES

spec = importlib.util.spec_from_file_location("validate_k8s", REPO_ROOT / "scripts" / "validate_k8s.py")
validate_k8s = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validate_k8s)

RENDERERS = [False] + ([True] if shutil.which("kubectl") else [])


@pytest.fixture(scope="module", params=[(o, k) for o in validate_k8s.OVERLAYS for k in RENDERERS], ids=lambda p: f"{p[0]}-{'kubectl' if p[1] else 'builtin'}")
def rendered(request):  # noqa: ANN001, ANN201
    overlay, use_kubectl = request.param
    return overlay, validate_k8s.render(overlay, use_kubectl)


def _workloads(docs):  # noqa: ANN001, ANN202
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def _containers(doc):  # noqa: ANN001, ANN202
    pod = doc["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


def test_renders_valid_under_strict_schema(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    ok, output = validate_k8s.validate(docs)
    assert ok, output


def test_strict_validation_really_rejects_a_bad_manifest(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    broken = [dict(docs[0], spec={"surprise": True})] if docs[0]["kind"] != "Namespace" else [{**docs[0], "spex": {}}]
    ok, _ = validate_k8s.validate(broken)
    assert not ok


def test_every_container_is_hardened_and_bounded(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    for doc in _workloads(docs):
        for container in _containers(doc):
            where = f"{doc['kind']}/{doc['metadata']['name']}/{container['name']}"
            security = container.get("securityContext", {})
            assert security.get("runAsNonRoot") is True, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})) and {"cpu", "memory"} <= set(resources.get("limits", {})), where


def test_services_have_mtls_exec_probes_and_the_code_default_ports(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    assert set(SERVICES) <= set(deployments)
    for name in SERVICES:
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": DEFAULT_GRPC_PORTS[name], "metrics": DEFAULT_METRICS_PORTS[name]}
        # The port speaks only TLS with client certificates: the kubelet's gRPC probe could not pass.
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert "grpc" not in container[probe], (name, probe)
            assert container[probe]["exec"]["command"] == ["sscard", "probe", name], (name, probe)
        env = {e["name"]: e for e in container["env"]}
        assert env[f"SSCARD_{name.upper()}_ADDR"]["value"].endswith(f":{DEFAULT_GRPC_PORTS[name]}")
        assert "secretKeyRef" in env["SSCARD_PIN_PEPPER"]["valueFrom"] and "secretKeyRef" in env[f"SSCARD_{name.upper()}_DB_URL"]["valueFrom"]
        service_ports = {p["name"]: p["port"] for p in services[name]["spec"]["ports"]}
        assert service_ports["grpc"] == DEFAULT_GRPC_PORTS[name]


def test_network_is_default_deny_and_prod_autoscales(rendered) -> None:  # noqa: ANN001
    overlay, docs = rendered
    policies = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny and "egress" not in deny
    nats = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats"]
    assert nats and nats[0]["spec"]["replicas"] == 3
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))
    assert int(config["data"]["SSCARD_NATS_REPLICAS"]) == nats[0]["spec"]["replicas"]  # every stream on every node
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert hpas == (set(SERVICES) if overlay == "prod" else set())
    assert all(d["metadata"].get("namespace") == "sscard" for d in docs if d["kind"] != "Namespace")


def test_region_policy_configmap_matches_the_region_files() -> None:
    assert validate_k8s.region_files_in_sync() == []


TLS_MOUNT, JWKS_MOUNT, SIGNING_MOUNT = "/etc/sscard/tls", "/etc/sscard/jwks", "/etc/sscard/signing"


def test_services_mount_tls_jwks_and_their_own_signing_key(rendered) -> None:  # noqa: ANN001
    """Every service: cert-manager's TLS Secret (tls.crt, tls.key, ca.crt), the JWKS ConfigMap, its own
    signing-key Secret, the variables pointing at them, and SSCARD_ENV=prod (dev secrets refused)."""
    _, docs = rendered
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for name in SERVICES:
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["SSCARD_ENV"]["value"] == "prod"
        assert env["SSCARD_TLS_CA"]["value"] == f"{TLS_MOUNT}/ca.crt"
        assert env["SSCARD_TLS_CERT"]["value"] == f"{TLS_MOUNT}/tls.crt"
        assert env["SSCARD_TLS_KEY"]["value"] == f"{TLS_MOUNT}/tls.key"
        assert env["SSCARD_JWKS_FILE"]["value"] == f"{JWKS_MOUNT}/jwks.json"
        assert env["SSCARD_SIGNING_KEY"]["value"] == f"{SIGNING_MOUNT}/signing.key"
        assert env["SSCARD_SIGNING_KID"]["valueFrom"]["secretKeyRef"] == {"name": f"sscard-{name}-signing", "key": "kid"}
        assert "SSCARD_TLS_CLIENT_AUTH" not in env  # the default: client certificates required
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for volume, path in (("tls", TLS_MOUNT), ("jwks", JWKS_MOUNT), ("signing", SIGNING_MOUNT)):
            assert mounts[volume]["mountPath"] == path and mounts[volume]["readOnly"] is True, (name, volume)
        assert volumes["tls"]["secret"]["secretName"] == f"sscard-{name}-tls"
        assert volumes["signing"]["secret"]["secretName"] == f"sscard-{name}-signing"
        assert [i["key"] for i in volumes["signing"]["secret"]["items"]] == ["signing.key"]
        assert volumes["tls"]["secret"]["defaultMode"] == volumes["signing"]["secret"]["defaultMode"] == 0o440
        assert volumes["jwks"]["configMap"]["name"] == "sscard-jwks"
        # The registry of institutions holds no secrets any more: a ConfigMap, not a Secret.
        assert volumes["institutions"] == {"name": "institutions", "configMap": {"name": "sscard-institutions"}}


def test_no_workload_reads_institutions_from_a_secret(rendered) -> None:  # noqa: ANN001
    """Institutions prove who they are with signed credentials; the registry is plain configuration."""
    _, docs = rendered
    for doc in _workloads(docs):
        pod = doc["spec"]["template"]["spec"]
        assert "sscard-institutions" not in {v.get("secret", {}).get("secretName") for v in pod.get("volumes", [])}, doc["metadata"]["name"]
        for container in _containers(doc):
            refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
            assert "sscard-institutions" not in refs, doc["metadata"]["name"]


def test_peers_dial_service_names_that_their_network_policies_allow(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))
    assert config["data"]["SSCARD_CARDS_TARGET"] == f"cards:{DEFAULT_GRPC_PORTS['cards']}"
    assert config["data"]["SSCARD_LOSS_TARGET"] == f"loss:{DEFAULT_GRPC_PORTS['loss']}"
    policies = {d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy"}
    assert {"loss-to-cards", "cards-from-loss", "settlement-to-loss", "loss-from-settlement"} <= policies


def test_the_bus_is_closed_every_service_connects_as_its_own_nats_user_over_tls(rendered) -> None:  # noqa: ANN001
    """ARCHITECTURE rule 12: the NATS config has TLS with client verification and one user per
    service (tests/security/test_bus.py checks the permissions); each service gets its own user,
    its password from a Secret and a client certificate from a Secret."""
    _, docs = rendered
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    nats_conf = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "nats-config")["data"]["nats.conf"]
    assert "verify: true" in nats_conf and "authorization {" in nats_conf
    statefulset = next(d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats")
    nats_env = {e["name"]: e for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))
    assert float(config["data"]["SSCARD_STREAM_MAX_AGE_S"]) > 0
    for name in SERVICES:
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["SSCARD_NATS_USER"]["value"] == name
        ref = env["SSCARD_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "sscard-nats-users", "key": name}
        assert nats_env[f"SSCARD_NATS_PASSWORD_{name.upper()}"]["valueFrom"]["secretKeyRef"] == ref  # the server checks the same secret
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["nats-tls"]["secret"]["secretName"] == f"sscard-{name}-nats-tls"
        for variable, file in (("SSCARD_NATS_CA", "ca.crt"), ("SSCARD_NATS_CERT", "tls.crt"), ("SSCARD_NATS_KEY", "tls.key")):
            assert env[variable]["value"] == f"{mounts['nats-tls']}/{file}"
