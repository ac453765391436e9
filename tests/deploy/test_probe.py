"""`sscard probe SERVICE`, the Kubernetes exec probe: the service's own gRPC health check over
mutual TLS with the certificate files the Deployment mounts (a kubelet gRPC probe has no TLS),
and `sscard migrate`, which needs only the databases (the Job mounts no certificate or key)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from services import cli
from services.common import trust
from services.common.server import GrpcServer
from tests import harness


def _tls_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    pki = harness.test_pki()
    monkeypatch.setenv("SSCARD_CARDS_ADDR", f"0.0.0.0:{port}")  # as in the Deployment
    monkeypatch.setenv("SSCARD_TLS_CA", str(pki / "ca.pem"))
    monkeypatch.setenv("SSCARD_TLS_CERT", str(pki / "cards.pem"))
    monkeypatch.setenv("SSCARD_TLS_KEY", str(pki / "cards.key"))


async def test_probe_passes_over_mtls_and_fails_when_not_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    pki = harness.test_pki()
    server = GrpcServer("127.0.0.1:0", tls=trust.server_credentials(pki / "ca.pem", pki / "cards.pem", pki / "cards.key", True))
    port = await server.start()
    try:
        _tls_env(monkeypatch, port)
        assert await asyncio.to_thread(cli.main, ["probe", "cards"]) == 0
        await server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert await asyncio.to_thread(cli.main, ["probe", "cards"]) == 1
    finally:
        await server.stop(0)
    assert await asyncio.to_thread(cli.main, ["probe", "cards", "--timeout", "0.5"]) == 1  # nothing listening


def test_migrate_needs_no_certificate_or_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("SSCARD_TLS_CA", "SSCARD_TLS_CERT", "SSCARD_TLS_KEY", "SSCARD_JWKS_FILE", "SSCARD_SIGNING_KEY"):
        monkeypatch.setenv(name, str(tmp_path / "absent"))
    monkeypatch.delenv("SSCARD_ENV", raising=False)
    monkeypatch.setenv("SSCARD_IDENTITY_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}")
    assert cli.main(["migrate", "identity"]) == 0
    assert "identity: applied migrations" in capsys.readouterr().out
