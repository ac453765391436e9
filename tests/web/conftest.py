"""The web channel against the real mesh: the four services and nats-server (tests/harness.py), the
gateway served by uvicorn over HTTPS on a free port in the same event loop, and Debian's Chromium
driven by Playwright (no browser download: `make test` installs the `chromium` package)."""

from __future__ import annotations

import asyncio
import os
import secrets
import ssl
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.client import dev_signer
from services.common.natsd import free_port
from services.gateway import idp
from services.gateway.app import Gateway
from tests.harness import Mesh, test_pki

CHROMIUM = os.environ.get("SSCARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = os.environ.get("SSCARD_SCREENSHOTS", "")  # a directory: the pages are saved there (docs/screenshots)


@dataclass
class Web:
    mesh: Mesh
    url: str
    pki: Path
    staff_password: str

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, verify=ssl.create_default_context(cafile=str(self.pki / "ca.pem")), **kwargs)


@pytest.fixture
async def web(mesh: Mesh) -> AsyncIterator[Web]:
    await mesh.start()
    pki = test_pki()
    password = secrets.token_urlsafe(12)
    signer = dev_signer(pki)
    gateway = Gateway({name: f"127.0.0.1:{rt.port}" for name, rt in mesh.runtimes.items()}, pki, signer, idp.Providers(signer, password))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(gateway.app(), host="127.0.0.1", port=port, log_level="warning",
                                           ssl_certfile=str(pki / "gateway.pem"), ssl_keyfile=str(pki / "gateway.key")))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the gateway did not start"
        await asyncio.sleep(0.02)
    try:
        yield Web(mesh, f"https://localhost:{port}", pki, password)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(browser: Any, phone: bool = False) -> Any:
    """A fresh browser context (its own cookies). The development CA is not in Chromium's store."""
    size = {"width": 390, "height": 844} if phone else {"width": 1200, "height": 900}
    context = await browser.new_context(ignore_https_errors=True, viewport=size, locale="zh-CN", accept_downloads=True)
    return await context.new_page()


async def screenshot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
