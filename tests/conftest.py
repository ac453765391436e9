from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.common.natsd import NatsServer
from tests.harness import Databases, Mesh


def pytest_report_header(config: pytest.Config) -> str:
    return f"sscard database backend: {Databases(Path('.')).backend}"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path)
    yield dbs
    await dbs.drop_all()


@pytest.fixture
async def mesh(nats_server: NatsServer, databases: Databases) -> AsyncIterator[Mesh]:
    harness = Mesh(nats_url=nats_server.url, databases=databases)
    yield harness
    await harness.stop()
