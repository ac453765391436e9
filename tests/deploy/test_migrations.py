"""Schema migrations on Alembic (services/common/schema.py): one linear history per service whose
head is exactly the tables store.py declares; concurrent starts on PostgreSQL are safe (advisory
lock); databases of the old hand-written runner are adopted; `sscard migrate --sql` prints the DDL
offline; pods that do not migrate wait for the revision they need."""

from __future__ import annotations

import asyncio
import uuid
from importlib import import_module
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from services import cli
from services.common import schema
from services.common.clock import SystemClock
from services.common.config import SERVICES
from services.common.db import _MIGRATIONS, Database, common_migrations
from tests import harness

TRIALS, STARTS = 10, 10


def _database(service: str, url: str) -> Database:
    store = import_module(f"services.{service}.store")
    return Database(url, store.metadata, store.MIGRATIONS, service, SystemClock())


def _sqlite(tmp_path: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}"


async def _fresh_pg_database(prefix: str) -> tuple[str, str]:
    base = harness.pg_url()
    name = f"sscard_mig_{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    root = base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{root}/{name}"


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(harness.pg_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _schema_drift(db: Database) -> list:
    """What differs between the database and store.py's metadata (empty = the same); the old
    runner's schema_migrations stays behind in adopted databases, as history."""
    async with db.engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), db.metadata))
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "schema_migrations")]


async def _revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(schema.current)


def test_one_linear_history_per_service_starting_at_the_baseline() -> None:
    for service in SERVICES:
        scripts = schema.script(service)
        assert len(scripts.get_heads()) == 1, service
        revisions = list(scripts.walk_revisions())
        assert revisions[-1].revision == schema.baseline(service) and revisions[-1].down_revision is None
        assert all(r.revision.startswith(f"{service}_") for r in revisions), service


@pytest.mark.parametrize("service", SERVICES)
async def test_sqlite_head_is_what_store_declares_and_migrate_is_idempotent(tmp_path: Path, service: str) -> None:
    db = _database(service, _sqlite(tmp_path, service))
    try:
        history = [r.revision for r in reversed(list(schema.script(service).walk_revisions()))]
        assert history[0] == schema.baseline(service) and history[-1] == schema.head(service)
        assert await db.migrate() == history
        assert await db.migrate() == []
        assert await _revision(db) == schema.head(service)
        # A column added to store.py without a revision fails here.
        assert await _schema_drift(db) == []
    finally:
        await db.close()


async def test_concurrent_starts_on_sqlite_are_serialised(tmp_path: Path) -> None:
    dbs = [_database("settlement", _sqlite(tmp_path, "settlement")) for _ in range(5)]
    try:
        results = await asyncio.gather(*(db.migrate() for db in dbs))
        revisions = len(list(schema.script("settlement").walk_revisions()))
        assert sorted(map(len, results)) == [0, 0, 0, 0, revisions]
    finally:
        for db in dbs:
            await db.close()


@pytest.mark.skipif(harness.pg_url() is None, reason="needs PostgreSQL: runs when SSCARD_TEST_PG_URL is set (.ci/run and make test-pg set it)")
async def test_ten_concurrent_migration_starts_on_fresh_postgresql_ten_of_ten_clean() -> None:
    """Each trial: a fresh database, then 10 starts at once (each its own engine and connection, as
    10 pods would be). Clean = no start fails, exactly one applies the revisions, all see head, and
    the schema is exactly store.py's. The hand-written runner crashed 2 of 3 in 5 of 5 trials."""
    clean = 0
    for trial in range(TRIALS):
        for service in ("settlement", "cards"):
            name, url = await _fresh_pg_database(service)
            dbs = [_database(service, url) for _ in range(STARTS)]
            try:
                results = await asyncio.gather(*(db.migrate() for db in dbs), return_exceptions=True)
                failures = [r for r in results if isinstance(r, BaseException)]
                assert not failures, f"trial {trial}: {failures[0]!r}"
                history = [r.revision for r in reversed(list(schema.script(service).walk_revisions()))]
                assert sorted(results, key=len) == [[]] * (STARTS - 1) + [history], f"trial {trial}: {results}"
                assert {await _revision(db) for db in dbs} == {schema.head(service)}
                assert await _schema_drift(dbs[0]) == []
            finally:
                for db in dbs:
                    await db.close()
                await _drop_pg_database(name)
        clean += 1
    assert clean == TRIALS


def _legacy_create(conn: sa.Connection, db: Database, versions: list[int]) -> None:
    """What the hand-written runner left: every table, and schema_migrations with `versions`."""
    db.metadata.create_all(conn)
    _MIGRATIONS.create(conn)
    for step in [*db.migrations, *common_migrations(db.metadata)]:
        if step.version in versions:
            conn.execute(_MIGRATIONS.insert().values(version=step.version, name=step.name, applied_us=0))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_database_of_the_old_runner_is_stamped_to_the_baseline_keeping_its_rows(tmp_path: Path, backend: str) -> None:
    if backend == "postgresql" and harness.pg_url() is None:
        pytest.skip("the PostgreSQL variant runs when SSCARD_TEST_PG_URL names a server (.ci/run and make test-pg set it); the SQLite variant ran")
    name, url = await _fresh_pg_database("legacy") if backend == "postgresql" else ("", _sqlite(tmp_path, "identity"))
    db = _database("identity", url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: _legacy_create(c, db, [1, 2, 1001, 1002]))
            await conn.execute(db.table("outbox").insert().values(event_id="evt-1", subject="s", data=b"x", created_us=1, created_wall_us=1))
        assert await db.migrate() == []  # stamped, nothing run
        assert await _revision(db) == schema.baseline("identity")
        async with db.engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(db.table("outbox")))).scalar() == 1
        assert await _schema_drift(db) == []
    finally:
        await db.close()
        if name:
            await _drop_pg_database(name)


async def test_an_unfinished_database_of_the_old_runner_is_finished_then_stamped(tmp_path: Path) -> None:
    db = _database("identity", _sqlite(tmp_path, "identity"))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: _legacy_create(c, db, [1, 2, 1001]))
            await conn.exec_driver_sql("ALTER TABLE audit_log DROP COLUMN document")  # step 1002 not run
        assert await db.migrate() == []
        assert await _revision(db) == schema.baseline("identity")
        assert await _schema_drift(db) == []
    finally:
        await db.close()


def test_sql_prints_reviewable_ddl_without_a_database(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for service in SERVICES:  # nothing listens there: --sql must not connect
        monkeypatch.setenv(f"SSCARD_{service.upper()}_DB_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    assert cli.main(["migrate", "all", "--sql"]) == 0
    out = capsys.readouterr().out
    for service in SERVICES:
        assert f"-- sscard {service}: upgrade head (postgresql)" in out
        assert f"pg_advisory_xact_lock({schema.lock_key(service)})" in out
        assert f"-- Running upgrade  -> {schema.baseline(service)}" in out
        for table in import_module(f"services.{service}.store").metadata.tables:
            assert f"CREATE TABLE {table} (" in out, (service, table)
    assert "CREATE TABLE alembic_version" in out and out.count("COMMIT;") == len(SERVICES)
    assert "INSERT INTO alembic_version (version_num) VALUES ('settlement_0001')" in out
    assert cli.main(["migrate", "loss", "--sql", "--dialect", "sqlite"]) == 0
    assert "CREATE TABLE card_losses (" in capsys.readouterr().out


async def test_a_pod_that_does_not_migrate_waits_for_the_revision_it_needs(tmp_path: Path) -> None:
    db = _database("loss", _sqlite(tmp_path, "loss"))
    try:
        with pytest.raises(RuntimeError, match=r"schema at nothing, this release needs loss_0001: run the migrations Job"):
            await schema.wait_for_schema(db, timeout_s=0.3, poll_s=0.1)
        waiting = asyncio.create_task(schema.wait_for_schema(db, timeout_s=30, poll_s=0.05))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await _database("loss", _sqlite(tmp_path, "loss")).migrate()  # the Job
        assert await asyncio.wait_for(waiting, 10) == schema.head("loss")
        # A later release's revision (a rolling update: the Job ran first) also satisfies the old pods.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'loss_9999'")
        assert await schema.wait_for_schema(db, timeout_s=1) == "loss_9999"
    finally:
        await db.close()
