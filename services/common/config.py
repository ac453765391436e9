"""Settings from the environment, one place for every knob and default.

The typed knobs are parsed and validated by pydantic-settings (`Knobs`); a bad value stops the
process with ConfigError naming the variable (`sscard` prints it and exits 2).

Embedded defaults avoid the standard ports (4222, 5432) that a developer
machine may already use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("identity", "cards", "loss", "settlement")
DEFAULT_GRPC_PORTS = {"identity": 50151, "cards": 50152, "loss": 50153, "settlement": 50154}
DEFAULT_METRICS_PORTS = {"identity": 9151, "cards": 9152, "loss": 9153, "settlement": 9154}
DEFAULT_NATS_PORT = 14222
REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class ConfigError(ValueError):
    """A setting from the environment that cannot be used; the message names the variable."""


class Knobs(BaseSettings):
    """The typed SSCARD_* knobs shared by every service, parsed and validated by pydantic-settings
    (SSCARD_MAX_DELIVER=abc or =0 is refused at start, naming the variable, not used)."""

    model_config = SettingsConfigDict(env_prefix="SSCARD_", extra="ignore")

    scheduler_interval_s: float = Field(1.0, gt=0)
    max_deliver: int = Field(20, ge=1)
    loss_feed_max_lag_s: float = Field(1.0, gt=0)
    nats_replicas: int = Field(1, ge=1, le=5)
    tls_client_auth: Literal["require", "none"] = "require"
    token_max_lifetime_s: int = Field(3600, ge=1)
    max_receive_bytes: int = Field(1024 * 1024, ge=1024)
    max_concurrent_rpcs: int = Field(256, ge=1)
    stream_max_age_s: float = Field(30 * 86400.0, gt=0)
    migrate_on_start: bool = True
    schema_wait_s: float = Field(300.0, ge=0)
    drain_s: float = Field(0.0, ge=0)
    # OpenTelemetry (services/common/tracing.py): none, console, or otlp (OTEL_EXPORTER_OTLP_* say where).
    otel_exporter: Literal["none", "console", "otlp"] = "none"


def load_knobs() -> Knobs:
    try:
        return Knobs()
    except ValidationError as error:
        problems = []
        for e in error.errors():
            name = f"SSCARD_{str(e['loc'][0]).upper()}"
            problems.append(f"{name}={os.environ.get(name, '')!r}: {e['msg']}")
        raise ConfigError("invalid setting: " + "; ".join(problems)) from None


def _port(name: str, default: int, *, zero_disables: bool = False) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"invalid setting: {name}={raw!r}: not a port number") from None
    if value == 0 and zero_disables:
        return 0
    if not 1 <= value <= 65535:
        allowed = "0 (off) or 1-65535" if zero_disables else "1-65535"
        raise ConfigError(f"invalid setting: {name}={raw!r}: a port is {allowed}")
    return value


@dataclass(frozen=True)
class Settings:
    service: str
    grpc_addr: str
    metrics_port: int
    db_url: str
    nats_url: str
    data_dir: Path
    regions_dir: Path
    institutions_file: Path
    pin_pepper: bytes
    token_secret: bytes
    scheduler_interval_s: float
    max_deliver: int
    # Settlement: if its loss feed has not been caught up for this long, it asks the loss service directly.
    loss_feed_max_lag_s: float = 1.0
    # JetStream replicas of the event streams and the relay heartbeat bucket (3 on a 3-node cluster).
    nats_replicas: int = 1
    otel_exporter: str = "none"
    peers: dict[str, str] = field(default_factory=dict)
    # Seals the PIN verifier cards sends settlement (pinseal.py): only those two services hold it.
    pin_seal_key: bytes = b"dev-only-pin-seal-key"
    # Trust (docs/security.md): "dev" allows the development secrets; anything else refuses them.
    env: str = "prod"
    tls_ca: Path = Path("ca.pem")
    tls_cert: Path = Path("cert.pem")
    tls_key: Path = Path("key.pem")
    # Require client certificates (mTLS) on this service's port.
    tls_client_auth: bool = True
    jwks_file: Path = Path("jwks.json")
    # This service's own signing key (and its kid) for the credentials of its calls to peers.
    signing_key: Path = Path("signing.key")
    signing_kid: str = ""
    token_max_lifetime_s: int = 3600
    # Limits: requests are small; a bound on concurrent calls bounds memory.
    max_receive_bytes: int = 1024 * 1024
    max_concurrent_rpcs: int = 256
    # The bus (services/common/natsd.py): this process's NATS user and password, and the TLS files
    # it connects with (the server requires a client certificate of its CA).
    nats_user: str = ""
    nats_password: str = ""
    nats_ca: Path | None = None
    nats_cert: Path | None = None
    nats_key: Path | None = None
    # Retention of the event streams: events older than this are dropped (consumers long caught up).
    stream_max_age_s: float = 30 * 86400.0
    # Migrate the database on start (the embedded default and tests), or wait up to schema_wait_s for
    # the migrations Job to bring it to the revision this code needs (Kubernetes: false).
    migrate_on_start: bool = True
    schema_wait_s: float = 300.0
    # On SIGTERM: health NOT_SERVING, then this long before stopping (Kubernetes drains in preStop instead).
    drain_s: float = 0.0

    def secret_problems(self) -> list[str]:
        """Why this configuration may not serve outside development (empty when it may)."""
        if self.env == "dev":
            return []
        problems = []
        secrets = [("SSCARD_PIN_PEPPER", self.pin_pepper), ("SSCARD_TOKEN_SECRET", self.token_secret)]
        if self.service in ("cards", "settlement"):
            secrets.append(("SSCARD_PIN_SEAL_KEY", self.pin_seal_key))
        for name, value in secrets:
            if value.startswith(b"dev-only-") or len(value) < 16:
                problems.append(f"{name} is unset or a development value (set a random secret of 16+ bytes, or SSCARD_ENV=dev)")
        return problems

    @classmethod
    def from_env(cls, service: str, **overrides: object) -> "Settings":
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
        up = service.upper()
        data_dir = Path(_env("SSCARD_DATA_DIR", str(REPO_ROOT / "var")))
        pki = Path(_env("SSCARD_PKI_DIR", str(data_dir / "pki")))
        nats_user = _env("SSCARD_NATS_USER", service)
        knobs = load_knobs()
        values: dict[str, object] = dict(
            service=service,
            grpc_addr=_env(f"SSCARD_{up}_ADDR", f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"),
            metrics_port=_port(f"SSCARD_{up}_METRICS_PORT", DEFAULT_METRICS_PORTS[service], zero_disables=True),
            db_url=_env(f"SSCARD_{up}_DB_URL", f"sqlite+aiosqlite:///{data_dir / (service + '.db')}"),
            nats_url=_env("SSCARD_NATS_URL", f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"),
            data_dir=data_dir,
            regions_dir=Path(_env("SSCARD_REGIONS_DIR", str(REPO_ROOT / "regions"))),
            institutions_file=Path(_env("SSCARD_INSTITUTIONS_FILE", str(REPO_ROOT / "config" / "institutions.demo.yaml"))),
            pin_pepper=_env("SSCARD_PIN_PEPPER", "dev-only-pin-pepper").encode(),
            token_secret=_env("SSCARD_TOKEN_SECRET", "dev-only-token-secret").encode(),
            pin_seal_key=_env("SSCARD_PIN_SEAL_KEY", "dev-only-pin-seal-key").encode(),
            scheduler_interval_s=knobs.scheduler_interval_s,
            # Deliveries of a failing event before it is dead-lettered for the operator.
            max_deliver=knobs.max_deliver,
            loss_feed_max_lag_s=knobs.loss_feed_max_lag_s,
            nats_replicas=knobs.nats_replicas,
            otel_exporter=knobs.otel_exporter,
            env=_env("SSCARD_ENV", "prod"),
            tls_ca=Path(_env("SSCARD_TLS_CA", str(pki / "ca.pem"))),
            tls_cert=Path(_env("SSCARD_TLS_CERT", str(pki / f"{service}.pem"))),
            tls_key=Path(_env("SSCARD_TLS_KEY", str(pki / f"{service}.key"))),
            tls_client_auth=knobs.tls_client_auth == "require",
            jwks_file=Path(_env("SSCARD_JWKS_FILE", str(pki / "jwks.json"))),
            signing_key=Path(_env("SSCARD_SIGNING_KEY", str(pki / f"service-{service}.key"))),
            signing_kid=_env("SSCARD_SIGNING_KID", f"service-{service}-1"),
            token_max_lifetime_s=knobs.token_max_lifetime_s,
            max_receive_bytes=knobs.max_receive_bytes,
            max_concurrent_rpcs=knobs.max_concurrent_rpcs,
            nats_user=nats_user,
            nats_password=nats_password(nats_user, data_dir),
            nats_ca=Path(_env("SSCARD_NATS_CA", _env("SSCARD_TLS_CA", str(pki / "ca.pem")))),
            nats_cert=Path(_env("SSCARD_NATS_CERT", _env("SSCARD_TLS_CERT", str(pki / f"{service}.pem")))),
            nats_key=Path(_env("SSCARD_NATS_KEY", _env("SSCARD_TLS_KEY", str(pki / f"{service}.key")))),
            stream_max_age_s=knobs.stream_max_age_s,
            migrate_on_start=knobs.migrate_on_start,
            schema_wait_s=knobs.schema_wait_s,
            drain_s=knobs.drain_s,
            peers={
                peer: _env(f"SSCARD_{peer.upper()}_TARGET", _env(f"SSCARD_{peer.upper()}_ADDR", f"127.0.0.1:{DEFAULT_GRPC_PORTS[peer]}"))
                for peer in SERVICES
            },
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def nats_password(user: str, data_dir: Path) -> str:
    """SSCARD_NATS_PASSWORD, else the file SSCARD_NATS_PASSWORD_FILE, else the per-install file that
    `sscard up` writes (<data dir>/nats/<user>.password); empty when none is there."""
    if "SSCARD_NATS_PASSWORD" in os.environ:
        return os.environ["SSCARD_NATS_PASSWORD"]
    path = Path(_env("SSCARD_NATS_PASSWORD_FILE", str(data_dir / "nats" / f"{user}.password")))
    try:
        return path.read_text().strip()
    except OSError:
        return ""
