"""Development secrets only in development: a service refuses to start with the built-in
`dev-only-*` pepper and e-card secret unless SSCARD_ENV=dev, and says which variables to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import Settings
from services.identity import main as identity_main
from tests.harness import trust_settings

SECRET_VARIABLES = ("SSCARD_PIN_PEPPER", "SSCARD_TOKEN_SECRET")


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str | None, **overrides: object) -> Settings:
    """Settings as `sscard serve` reads them, with the secret variables unset and certificates and
    keys from the test PKI (so nothing but the secrets can stop the runtime)."""
    for name in (*SECRET_VARIABLES, "SSCARD_ENV"):
        monkeypatch.delenv(name, raising=False)
    if env is not None:
        monkeypatch.setenv("SSCARD_ENV", env)
    trust = {k: v for k, v in trust_settings("identity").items() if k not in ("pin_pepper", "token_secret")}
    return Settings.from_env("identity", grpc_addr="127.0.0.1:0", metrics_port=0,
                             db_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}", **{**trust, **overrides})


async def test_builtin_dev_secrets_refused_without_sscard_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path, env=None)
    assert settings.env == "prod" and settings.pin_pepper.startswith(b"dev-only-") and settings.token_secret.startswith(b"dev-only-")
    with pytest.raises(RuntimeError) as refused:
        identity_main.create(settings)
    message = str(refused.value)
    assert "refuses to start" in message
    for name in SECRET_VARIABLES:
        assert name in message
    assert "SSCARD_ENV=dev" in message


async def test_short_or_one_dev_secret_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path, env="production", pin_pepper=b"0123456789abcdef0123", token_secret=b"short")
    with pytest.raises(RuntimeError) as refused:
        identity_main.create(settings)
    assert "SSCARD_TOKEN_SECRET" in str(refused.value) and "SSCARD_PIN_PEPPER" not in str(refused.value)


async def test_builtin_dev_secrets_allowed_with_sscard_env_dev(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path, env="dev")
    assert settings.secret_problems() == []
    runtime = identity_main.create(settings)
    try:
        assert runtime.service == "identity"
    finally:
        await runtime.db.close()


async def test_real_secrets_start_outside_dev(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path, env=None, pin_pepper=b"a" * 32, token_secret=b"b" * 32)
    assert settings.env == "prod" and settings.secret_problems() == []
    runtime = identity_main.create(settings)
    await runtime.db.close()
