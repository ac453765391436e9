"""The Grafana dashboard only charts series the services really export."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

import services.common.observability  # noqa: F401 - registers the metrics
from services.common.config import REPO_ROOT


def test_every_dashboard_query_uses_an_exported_series() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana" / "sscard-dashboard.json").read_text())
    exported = {sample_name for metric in REGISTRY.collect() if metric.name.startswith("sscard_")
                for sample_name in (metric.name, metric.name + "_total", metric.name + "_bucket", metric.name + "_count", metric.name + "_sum")}
    used = {name for panel in dashboard["panels"] for target in panel["targets"] for name in re.findall(r"sscard_[a-z_]+", target["expr"])}
    assert len(dashboard["panels"]) >= 8
    assert used and used <= exported, used - exported
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for needed in ("Settle latency", "refusals by reason", "Loss report", "Outbox", "Consumer lag"):
        assert needed in titles
