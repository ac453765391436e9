"""Operating a cluster from a shell: settings validated with pydantic-settings (a bad value names its
variable), the operator commands dial the configured addresses (not 127.0.0.1) and print JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services import cli, ops
from services.common.config import ConfigError, Settings


@pytest.mark.parametrize("variable, value", [
    ("SSCARD_MAX_DELIVER", "twenty"), ("SSCARD_MAX_DELIVER", "0"), ("SSCARD_NATS_REPLICAS", "7"),
    ("SSCARD_MIGRATE_ON_START", "perhaps"), ("SSCARD_TLS_CLIENT_AUTH", "sometimes"), ("SSCARD_CARDS_METRICS_PORT", "99999"),
    ("SSCARD_OTEL_EXPORTER", "jaeger"),
])
def test_a_bad_value_is_refused_naming_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable}={value!r}"):
        Settings.from_env("cards")


def test_the_cli_prints_the_bad_variable_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SSCARD_SCHEMA_WAIT_S", "-1")
    assert cli.main(["migrate", "identity", "--sql"]) == 2
    assert "SSCARD_SCHEMA_WAIT_S='-1'" in capsys.readouterr().err


def test_typed_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCARD_MIGRATE_ON_START", "false")
    monkeypatch.setenv("SSCARD_MAX_DELIVER", "7")
    monkeypatch.setenv("SSCARD_LOSS_METRICS_PORT", "0")  # the bench and several instances on one host: no /metrics
    settings = Settings.from_env("loss")
    assert settings.migrate_on_start is False and settings.max_deliver == 7 and settings.metrics_port == 0


def test_operator_commands_dial_the_configured_cluster_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCARD_CARDS_TARGET", "cards.sscard.svc:50152")
    monkeypatch.setenv("SSCARD_LOSS_ADDR", "0.0.0.0:50153")  # a listen address: this host
    monkeypatch.setenv("SSCARD_SETTLEMENT_TARGET", "settlement.sscard.svc:50154")
    monkeypatch.setenv("SSCARD_SETTLEMENT_METRICS_URL", "http://prometheus-proxy:8080/settlement/metrics")
    settings = {s: Settings.from_env(s) for s in ("cards", "loss", "settlement")}
    assert ops.target("cards", settings["cards"]) == "cards.sscard.svc:50152"
    assert ops.metrics_url("cards", settings["cards"]) == "http://cards.sscard.svc:9152/metrics"
    assert ops.target("loss", settings["loss"]) == "127.0.0.1:50153"
    assert ops.metrics_url("settlement", settings["settlement"]) == "http://prometheus-proxy:8080/settlement/metrics"


def test_status_json_reports_every_service_even_when_none_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests import harness

    monkeypatch.setenv("SSCARD_PKI_DIR", str(harness.test_pki()))
    for i, service in enumerate(("identity", "cards", "loss", "settlement")):
        monkeypatch.setenv(f"SSCARD_{service.upper()}_TARGET", f"127.0.0.1:{1 + i}")  # nothing listens there
        monkeypatch.setenv(f"SSCARD_{service.upper()}_METRICS_PORT", str(5 + i))
    assert cli.main(["status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["service"] for r in report["services"]] == ["identity", "cards", "loss", "settlement"]
    assert all(r["health"] != "SERVING" and r["outbox_backlog"] is None for r in report["services"])
    assert report["services"][1]["address"] == "127.0.0.1:2" and report["services"][1]["metrics"] == "http://127.0.0.1:6/metrics"


async def test_audit_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'loss.db'}"
    monkeypatch.setenv("SSCARD_LOSS_DB_URL", url)
    db = ops._database("loss", Settings.from_env("loss"))  # noqa: SLF001
    await db.migrate()
    await db.transact(lambda uow: uow.audit("loss.reported", "C123", channel="hotline", detail="test"))
    await db.close()
    assert await asyncio.to_thread(cli.main, ["audit", "loss", "--subject", "C123", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["action"] == "loss.reported" and record["subject_id"] == "C123" and record["actor"] == "service:loss"
