"""`make run` is `sscard up`: the whole mesh on embedded defaults, the web gateway included, and the
addresses a newcomer needs printed. Played on free ports with its own data directory."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from services.common.config import SERVICES
from services.common.natsd import free_port


def test_sscard_up_starts_the_mesh_and_the_gateway_and_prints_where(tmp_path: Path) -> None:
    web = free_port()
    env = {**os.environ, "SSCARD_DATA_DIR": str(tmp_path), "SSCARD_NATS_PORT": str(free_port()), "SSCARD_GATEWAY_ADDR": f"127.0.0.1:{web}",
           "SSCARD_TEST_PG_URL": ""}
    env.pop("SSCARD_PKI_DIR", None)
    for service in SERVICES:
        env[f"SSCARD_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
        env[f"SSCARD_{service.upper()}_METRICS_PORT"] = "0"
    up = subprocess.Popen([sys.executable, "-m", "services.cli", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("  logs") for line in lines):
            line = up.stdout.readline()  # type: ignore[union-attr]
            assert line and time.monotonic() < deadline, "sscard up did not come up:\n" + "".join(lines)
            lines.append(line)
        printed = "".join(lines)
        assert "sscard is up" in printed
        password = json.loads((tmp_path / "pki" / "secrets.json").read_text())["SSCARD_GATEWAY_STAFF_PASSWORD"]
        assert f"https://localhost:{web}/citizen" in printed and f"https://localhost:{web}/clerk" in printed and password in printed
        context = ssl.create_default_context(cafile=str(tmp_path / "pki" / "ca.pem"))
        with urllib.request.urlopen(f"https://localhost:{web}/citizen", context=context, timeout=5) as page:
            assert "社会保障卡" in page.read().decode()
        with urllib.request.urlopen(f"https://localhost:{web}/openapi.json", context=context, timeout=5) as document:
            assert "/v1/cards/{card_no}:reportTemporaryLoss" in json.loads(document.read())["paths"]
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    assert "stopped" in rest
