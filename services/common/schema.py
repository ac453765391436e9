"""Schema migrations on Alembic: one revision history per service, safe to start concurrently.

Each service's revisions live in `services/<service>/migrations/` (the first one, `<service>_0001`,
is the schema as the hand-written runner left it: the baseline); the shared `env.py` is in
`services/common/alembic/`. Every database records its revision in `alembic_version`.

- `upgrade` runs in one transaction. On PostgreSQL it first takes a transaction-scoped advisory
  lock (`pg_advisory_xact_lock`, one key per service), so any number of pods or Jobs may start at
  once: one migrates, the others wait, then find the database at head and do nothing. DDL is
  transactional on PostgreSQL, so a crash leaves the previous revision. On SQLite the transaction
  begins IMMEDIATE (db.make_engine), which serialises writers the same way.
- A database made by the old runner (it has `schema_migrations`, no `alembic_version`) is stamped
  to the baseline, after the old runner's remaining steps if it had not finished them.
- `offline_sql` prints the DDL of an upgrade for a DBA to review (`sscard migrate SERVICE --sql`).
- `wait_for_schema` is what a pod does when it does not migrate itself
  (`SSCARD_MIGRATE_ON_START=false`): it waits until the Job has brought the database to the
  revision this code needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from services.common.db import Database, Migration

log = logging.getLogger("sscard.schema")

SERVICES_DIR = Path(__file__).resolve().parents[1]
ENV_DIR = Path(__file__).resolve().parent / "alembic"
LEGACY_TABLE = "schema_migrations"
VERSION_TABLE = "alembic_version"


def versions_dir(service: str) -> Path:
    return SERVICES_DIR / service / "migrations"


def has_revisions(service: str) -> bool:
    return versions_dir(service).is_dir()


def baseline(service: str) -> str:
    """The revision that is the schema the hand-written runner created (legacy databases are stamped to it)."""
    return f"{service}_0001"


def lock_key(service: str) -> int:
    """The advisory lock key of a service's migrations (a stable signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(f"sscard-migrate:{service}".encode()).digest()[:8], "big", signed=True)


def config(service: str, **attributes: Any) -> Config:
    cfg = Config(attributes={"service": service, **attributes})
    cfg.set_main_option("script_location", str(ENV_DIR))
    cfg.set_main_option("version_locations", str(versions_dir(service)))
    cfg.set_main_option("path_separator", "os")
    return cfg


def script(service: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(config(service))


def head(service: str) -> str:
    (only,) = script(service).get_heads()  # one linear history per service (a test checks it)
    return only


def current(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: sa.Connection, service: str, metadata: sa.MetaData, legacy: Sequence["Migration"] = (), target: str = "head") -> list[str]:
    """Bring a service's database to `target` inside the caller's transaction; returns the revisions applied."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock_key(service)})")
    tables = set(sa.inspect(conn).get_table_names())
    if LEGACY_TABLE in tables and VERSION_TABLE not in tables:
        _adopt_legacy(conn, service, metadata, legacy)
    before = current(conn)
    command.upgrade(config(service, connection=conn), target)
    after = current(conn)
    if after == before:
        return []
    return [r.revision for r in reversed(list(script(service).iterate_revisions(after, before)))]


def _adopt_legacy(conn: sa.Connection, service: str, metadata: sa.MetaData, legacy: Sequence["Migration"]) -> None:
    """A database of the hand-written runner: finish its steps if needed, then stamp the baseline."""
    from services.common.clock import SystemClock, to_micros
    from services.common.db import _MIGRATIONS, common_migrations

    done = set(conn.execute(sa.select(_MIGRATIONS.c.version)).scalars())
    missing = [step for step in [*legacy, *common_migrations(metadata)] if step.version not in done]
    if missing:
        # The old steps build the schema from the current metadata: right only while that is the baseline.
        if head(service) != baseline(service):
            raise RuntimeError(
                f"{service}: the database was left by the old migration runner before step {missing[0].version}; "
                "run `sscard migrate` of the release before Alembic first")
        for step in missing:
            step.apply(conn)
            conn.execute(_MIGRATIONS.insert().values(version=step.version, name=step.name, applied_us=to_micros(SystemClock().now())))
    command.stamp(config(service, connection=conn), baseline(service))
    log.info("%s: database of the old migration runner stamped to %s", service, baseline(service))


def offline_sql(service: str, dialect: str, target: str = "head", out: TextIO | None = None) -> str:
    """The DDL of an upgrade (`FROM:TO` or `TO`, from an empty database by default), for review."""
    buffer = io.StringIO()
    command.upgrade(config(service, dialect=dialect, output=buffer), target, sql=True)
    text = buffer.getvalue()
    if out is not None:
        out.write(text)
    return text


def satisfied(service: str, revision: str | None) -> bool:
    """Whether a database at `revision` has the schema this code needs: at head, or at a later
    revision of a newer release (rolling updates: migrations only add, the old code keeps working)."""
    if revision is None:
        return False
    if revision == head(service):
        return True
    return not _known(script(service), revision)


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises for a revision it does not have
        return False


async def wait_for_schema(db: "Database", timeout_s: float, poll_s: float = 1.0) -> str:
    """Wait until the database is at the revision this code needs (the migrations Job's work)."""
    service = db.producer
    need = head(service)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            async with db.engine.connect() as conn:
                revision = await conn.run_sync(_current_or_none)
        except (OSError, sa.exc.DBAPIError) as error:
            revision, problem = None, f"database unreachable: {error.__class__.__name__}"
        else:
            problem = f"schema at {revision or 'nothing'}"
        if satisfied(service, revision):
            return str(revision)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{service}: {problem}, this release needs {need}: run the migrations Job (`sscard migrate {service}`)")
        log.info("%s: waiting for schema %s (%s)", service, need, problem)
        await asyncio.sleep(poll_s)


def _current_or_none(conn: sa.Connection) -> str | None:
    if VERSION_TABLE not in sa.inspect(conn).get_table_names():
        return None
    return current(conn)
