from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import pg_url, test_pki
from tests.scale.topology import Topology


@pytest.fixture
async def topology() -> AsyncIterator[Topology]:
    url = pg_url()
    assert url is not None
    server = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    topo = Topology(Path(tempfile.mkdtemp(prefix="sscard-scale-")), server, test_pki())
    try:
        await topo.start()
        yield topo
    finally:
        await topo.stop()
