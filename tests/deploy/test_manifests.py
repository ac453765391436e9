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


# --- Peers from the code, NetworkPolicies evaluated -------------------------------------------------

def dialed_peers() -> set[tuple[str, str]]:
    """(caller, peer) for every `<runtime>.peer("<service>")` call in services/<caller>/ (Runtime.peer
    opens the channel to settings.peers[<service>], i.e. SSCARD_<SERVICE>_TARGET)."""
    import ast

    found = set()
    for service in SERVICES:
        for path in (REPO_ROOT / "services" / service).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "peer"
                        and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in SERVICES):
                    found.add((service, node.args[0].value))
    return found


def _selects(selector, labels) -> bool:  # noqa: ANN001
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        value, op = labels.get(e["key"]), e["operator"]
        if (op == "In" and value not in e["values"]) or (op == "NotIn" and value in e["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


def _direction_allows(policies, pod, other, port, direction) -> bool:  # noqa: ANN001
    """Some policy selecting `pod` allows traffic to (Egress) / from (Ingress) pod labels `other` in the same namespace on `port`."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in policies:
        spec = policy["spec"]
        if direction not in spec.get("policyTypes", []) or not _selects(spec["podSelector"], pod):
            continue
        for rule in spec.get(key, []):
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port for p in ports):
                continue
            peers = rule.get(peers_key)
            if peers is None or any(set(p) == {"podSelector"} and _selects(p["podSelector"], other) for p in peers):
                return True
    return False


def _allowed(docs, source, target, port) -> bool:  # noqa: ANN001
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    labels = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in _workloads(docs)}
    return _direction_allows(policies, labels[source], labels[target], port, "Egress") and \
        _direction_allows(policies, labels[target], labels[source], port, "Ingress")


def test_the_peer_calls_found_in_the_code_are_the_known_ones() -> None:
    assert dialed_peers() >= {("loss", "cards"), ("settlement", "loss")}


def test_every_peer_the_code_dials_is_configured_and_allowed_and_nothing_else(rendered) -> None:  # noqa: ANN001
    """For each Runtime.peer call: SSCARD_<PEER>_TARGET names the peer's Service and gRPC port, the
    Service has that port, and the NetworkPolicies allow caller -> peer on it (egress and ingress);
    every service reaches NATS; no gRPC path between services is open that the code does not use."""
    _, docs = rendered
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))["data"]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    dialed = dialed_peers()
    for caller, peer in dialed:
        port = DEFAULT_GRPC_PORTS[peer]
        host, _, target_port = config[f"SSCARD_{peer.upper()}_TARGET"].partition(":")
        assert (host, int(target_port)) == (peer, port), (caller, peer)
        assert port in {p["port"] for p in services[peer]["spec"]["ports"]}
        assert _allowed(docs, caller, peer, port), f"{caller} -> {peer}:{port} not allowed by the NetworkPolicies"
    for source in SERVICES:
        assert _allowed(docs, source, "nats", 4222), source
        assert config["SSCARD_NATS_URL"] == "nats://nats:4222"
        for target in SERVICES:
            if source != target and (source, target) not in dialed:
                assert not _allowed(docs, source, target, DEFAULT_GRPC_PORTS[target]), f"{source} -> {target} open but never dialed"


def test_the_web_gateway_reaches_every_service_and_only_the_ingress_reaches_it(rendered) -> None:  # noqa: ANN001
    """The gateway (services/gateway) dials all four services with the targets it reads
    (SSCARD_<SERVICE>_TARGET), over mutual TLS from its own certificate; it is hardened like the
    rest, signs with its own key, and listens only to the ingress namespace, never to the services."""
    _, docs = rendered
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))["data"]
    gateway = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway")
    (container,) = gateway["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "gateway"
    env = {e["name"]: e for e in container["env"]}
    assert env["SSCARD_ENV"]["value"] == "prod"  # no development sign-in providers
    pki = next(v for v in gateway["spec"]["template"]["spec"]["volumes"] if v["name"] == "pki")
    assert {i["path"] for i in pki["secret"]["items"]} == {"ca.pem", "gateway.pem", "gateway.key", "client.pem", "client.key"}
    for service in SERVICES:
        port = DEFAULT_GRPC_PORTS[service]
        assert config[f"SSCARD_{service.upper()}_TARGET"] == f"{service}:{port}"
        assert _allowed(docs, "gateway", service, port), f"gateway -> {service}:{port} not allowed"
        assert not _allowed(docs, service, "gateway", 8443), f"{service} -> gateway open"
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "gateway")
    (ingress,) = policy["spec"]["ingress"]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"sscard.io/gateway": "true"}}}]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8443}]


# --- Scheduling, draining, NATS as the official chart runs it ----------------------------------------

def _spread(pod_spec, name) -> dict:  # noqa: ANN001
    return {c["topologyKey"]: c for c in pod_spec.get("topologySpreadConstraints", [])
            if c["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}}


def test_services_and_nats_spread_over_nodes_and_zones(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            name = doc["metadata"]["name"]
            spread = _spread(doc["spec"]["template"]["spec"], name)
            assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule", name
            assert spread["kubernetes.io/hostname"]["maxSkew"] == 1, name
            assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway", name


def test_services_drain_before_they_stop(rendered) -> None:  # noqa: ANN001
    """preStop `sscard drain`: health NOT_SERVING, wait, and only then the kubelet's SIGTERM; the
    grace period covers the wait and the stop."""
    _, docs = rendered
    for name in SERVICES:
        deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        assert command[:3] == ["sscard", "drain", name]
        wait = float(command[command.index("--wait") + 1])
        assert wait >= 5 and pod["terminationGracePeriodSeconds"] >= wait + 10
        # The pods wait for the migrations Job: the start-up probe gives them SSCARD_SCHEMA_WAIT_S.
        startup = container["startupProbe"]
        config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))["data"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= float(config["SSCARD_SCHEMA_WAIT_S"])


def test_nats_has_the_official_charts_lame_duck_probes_and_exporter(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    statefulset = next(d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats")
    pod = statefulset["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    nats, exporter = containers["nats"], containers["exporter"]
    conf = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "nats-config")["data"]["nats.conf"]
    assert 'pid_file: "/var/run/nats/nats.pid"' in conf and "lame_duck_duration" in conf
    assert nats["lifecycle"]["preStop"]["exec"]["command"] == ["nats-server", "-sl=ldm=/var/run/nats/nats.pid"]
    assert {m["mountPath"] for m in nats["volumeMounts"]} >= {"/var/run/nats", "/data", "/etc/nats/tls"}
    assert nats["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert nats["readinessProbe"]["httpGet"]["path"] == "/healthz?js-enabled-only=true"
    assert nats["livenessProbe"]["httpGet"]["path"] == "/healthz?js-enabled-only=true"
    assert pod["terminationGracePeriodSeconds"] >= 40  # lame-duck grace 10 s + duration 30 s
    assert "-jsz=all" in exporter["args"] and exporter["args"][-1] == "http://localhost:8222/"
    assert [p["containerPort"] for p in exporter["ports"]] == [7777]
    policies = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"}
    prometheus_ports = {p["port"] for rule in policies["allow-prometheus"]["spec"]["ingress"] for p in rule["ports"]}
    assert prometheus_ports >= {7777, *DEFAULT_METRICS_PORTS.values()}


def test_the_migrations_job_migrates_and_the_pods_only_wait(rendered) -> None:  # noqa: ANN001
    _, docs = rendered
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("sscard-config"))["data"]
    assert config["SSCARD_MIGRATE_ON_START"] == "false"
    job = next(d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "sscard-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate", "all"]
    assert {f"SSCARD_{s.upper()}_DB_URL" for s in SERVICES} <= {e["name"] for e in container["env"]}


# --- Monitoring: ServiceMonitor, alerts, runbooks ---------------------------------------------------

REQUIRED_ALERTS = {"SscardLossFeedReadThroughs", "SscardOutboxBacklog", "SscardConsumerLag", "SscardDeadLetters",
                   "SscardLossToRefusalSlow", "SscardHolidayScheduleNextYearMissing"}


def _metric_names() -> set[str]:
    from prometheus_client.metrics import MetricWrapperBase

    from services.common import observability

    names = set()
    for metric in vars(observability).values():
        if isinstance(metric, MetricWrapperBase):
            base = metric._name  # noqa: SLF001
            names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return names


def test_prod_alerts_use_real_metrics_and_each_has_a_runbook_section() -> None:
    import re

    docs = validate_k8s.render("prod", False)
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert REQUIRED_ALERTS <= set(alerts)
    known = _metric_names()
    runbooks = (REPO_ROOT / "docs" / "runbooks.md").read_text()
    sections = set(re.findall(r"^## (\w+)$", runbooks, flags=re.M))
    assert sections == set(alerts), "docs/runbooks.md: one section per alert, no other"
    for name, alert in alerts.items():
        used = set(re.findall(r"\bsscard_[a-z_]+", alert["expr"]))
        assert used and used <= known, (name, used - known)
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["runbook_url"] == f"docs/runbooks.md#{name.lower()}"
    assert 'histogram_quantile(0.99' in alerts["SscardLossToRefusalSlow"]["expr"] and alerts["SscardLossToRefusalSlow"]["expr"].endswith("> 1")


def test_prod_servicemonitor_scrapes_every_metrics_port() -> None:
    docs = validate_k8s.render("prod", False)
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    scraped = {d["metadata"]["name"] for d in docs if d["kind"] == "Service" and _selects(monitor["spec"]["selector"], d["metadata"]["labels"])
               and ports & {p["name"] for p in d["spec"]["ports"]}}
    assert set(SERVICES) | {"nats-cluster"} <= scraped


def test_monitoring_kinds_are_checked_against_a_schema_not_waved_through() -> None:
    """kubernetes-validate only warns on kinds it has no schema for: validate_k8s checks them itself."""
    docs = [d for d in validate_k8s.render("prod", False) if d["kind"] in ("PrometheusRule", "ServiceMonitor")]
    assert validate_k8s.validate(docs)[0]
    for kind, damage in (("ServiceMonitor", lambda s: s["endpoints"][0].update(prot="metrics")),
                         ("PrometheusRule", lambda s: s["groups"][0]["rules"][0].update({"for": "ten minutes"}))):
        broken = [dict(d, spec=__import__("copy").deepcopy(d["spec"])) for d in docs if d["kind"] == kind]
        damage(broken[0]["spec"])
        assert not validate_k8s.validate(broken)[0], kind
    assert not validate_k8s.validate([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])[0]
