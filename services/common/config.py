"""Settings from the environment, one place for every knob and default.

Embedded defaults avoid the standard ports (4222, 5432) that a developer
machine may already use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("identity", "cards", "loss", "settlement")
DEFAULT_GRPC_PORTS = {"identity": 50151, "cards": 50152, "loss": 50153, "settlement": 50154}
DEFAULT_METRICS_PORTS = {"identity": 9151, "cards": 9152, "loss": 9153, "settlement": 9154}
DEFAULT_NATS_PORT = 14222
REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


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
    peers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, **overrides: object) -> "Settings":
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
        up = service.upper()
        data_dir = Path(_env("SSCARD_DATA_DIR", str(REPO_ROOT / "var")))
        values: dict[str, object] = dict(
            service=service,
            grpc_addr=_env(f"SSCARD_{up}_ADDR", f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"),
            metrics_port=int(_env(f"SSCARD_{up}_METRICS_PORT", str(DEFAULT_METRICS_PORTS[service]))),
            db_url=_env(f"SSCARD_{up}_DB_URL", f"sqlite+aiosqlite:///{data_dir / (service + '.db')}"),
            nats_url=_env("SSCARD_NATS_URL", f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"),
            data_dir=data_dir,
            regions_dir=Path(_env("SSCARD_REGIONS_DIR", str(REPO_ROOT / "regions"))),
            institutions_file=Path(_env("SSCARD_INSTITUTIONS_FILE", str(REPO_ROOT / "config" / "institutions.demo.yaml"))),
            pin_pepper=_env("SSCARD_PIN_PEPPER", "dev-only-pin-pepper").encode(),
            token_secret=_env("SSCARD_TOKEN_SECRET", "dev-only-token-secret").encode(),
            scheduler_interval_s=float(_env("SSCARD_SCHEDULER_INTERVAL_S", "1.0")),
            # Deliveries of a failing event before it is dead-lettered for the operator.
            max_deliver=int(_env("SSCARD_MAX_DELIVER", "20")),
            loss_feed_max_lag_s=float(_env("SSCARD_LOSS_FEED_MAX_LAG_S", "1.0")),
            nats_replicas=int(_env("SSCARD_NATS_REPLICAS", "1")),
            peers={
                peer: _env(f"SSCARD_{peer.upper()}_TARGET", _env(f"SSCARD_{peer.upper()}_ADDR", f"127.0.0.1:{DEFAULT_GRPC_PORTS[peer]}"))
                for peer in SERVICES
            },
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
