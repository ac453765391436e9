from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.common.natsd import NatsServer
from tests.harness import Databases, Mesh, nats_security


def pytest_report_header(config: pytest.Config) -> str:
    return f"sscard database backend: {Databases(Path('.')).backend}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability table: every fault scenario that ran, with what it injected and what it found."""
    workload = sys.modules.get("tests.reliability.workload")
    rows = getattr(workload, "TABLE", [])
    if not rows:
        return
    terminalreporter.section("reliability")
    header = ("scenario", "seed", "operations", "faults", "lost", "doubled")
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header]
    terminalreporter.write_line("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        terminalreporter.write_line("  ".join(str(row[h]).ljust(w) for h, w in zip(header, widths)))


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream", log_file=tmp_path / "nats-server.log", security=nats_security()).start()
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
