"""`sscard gateway`: the web gateway over HTTPS (uvicorn), in front of the four services."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from services.client import dev_signer
from services.common.config import SERVICES, ConfigError, Settings
from services.common.trust import Signer
from services.gateway import idp
from services.gateway.app import Gateway

DEFAULT_ADDR = "127.0.0.1:8443"


def build(pki_dir: Path, targets: dict[str, str] | None = None) -> Gateway:
    """The gateway from the environment. Development (SSCARD_ENV=dev): the development issuer key
    signs its own credential and the development sign-in providers' sessions. Otherwise its own
    service key (SSCARD_GATEWAY_SIGNING_KEY, kid SSCARD_GATEWAY_SIGNING_KID, issuer sscard-gateway;
    trusted in the JWKS for `service`, subject `gateway`) and no providers: callers bring credentials
    from the region's real-name provider and their organisation's staff login."""
    # Where each service is reached: SSCARD_<SERVICE>_TARGET (a Kubernetes Service name), else its
    # own listen address (one machine, `sscard up`).
    targets = targets or {s: os.environ.get(f"SSCARD_{s.upper()}_TARGET") or Settings.from_env(s).grpc_addr for s in SERVICES}
    if os.environ.get("SSCARD_ENV") == "dev":
        signer = dev_signer(pki_dir)
        password = os.environ.get("SSCARD_GATEWAY_STAFF_PASSWORD", "")
        if len(password) < 12:
            raise ConfigError("invalid setting: SSCARD_GATEWAY_STAFF_PASSWORD: 12 characters or more (sscard up makes one)")
        providers: idp.Providers | None = idp.Providers(signer, password)
    else:
        key = os.environ.get("SSCARD_GATEWAY_SIGNING_KEY", "")
        if not key:
            raise ConfigError("invalid setting: SSCARD_GATEWAY_SIGNING_KEY: the gateway's own signing key (PEM) is required")
        signer = Signer.from_file(Path(key), os.environ.get("SSCARD_GATEWAY_SIGNING_KID", "service-gateway-1"), "sscard-gateway")
        providers = None
    return Gateway(targets, pki_dir, signer, providers)


def serve(pki_dir: Path, addr: str = "") -> None:
    host, _, port = (addr or os.environ.get("SSCARD_GATEWAY_ADDR", DEFAULT_ADDR)).rpartition(":")
    gateway = build(pki_dir)
    config = uvicorn.Config(gateway.app(), host=host, port=int(port), log_level="warning", ssl_certfile=str(pki_dir / "gateway.pem"),
                            ssl_keyfile=str(pki_dir / "gateway.key"), proxy_headers=False, server_header=False)
    uvicorn.Server(config).run()
