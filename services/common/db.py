"""Database access shared by every service: engine, migrations, unit of work.

SQLite (one file per service, the embedded default) and PostgreSQL (asyncpg)
run the same SQLAlchemy Core code. A UnitOfWork is one transaction: the state
change, its outbox rows, inbox marks and idempotency records commit together
or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from google.protobuf import any_pb2, message, timestamp_pb2
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from services.common import access, tracing
from services.common.clock import Clock, to_micros
from services.common.errors import CommitThenRaise, FailedPrecondition, InvalidArgument
from services.common.ids import new_id
from sscard.events.v1 import envelope_pb2

T = TypeVar("T")
M = TypeVar("M", bound=message.Message)


def common_tables(metadata: sa.MetaData) -> None:
    """Tables every service has: outbox, inbox, sequences, idempotency, migrations."""
    sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        # Wall clock (not the injected business clock): measures publish lag.
        sa.Column("created_wall_us", sa.BigInteger, nullable=False),
        sa.Column("published_us", sa.BigInteger, nullable=True),
        sa.Index("ix_outbox_unpublished", "published_us", "id"),
    )
    sa.Table(
        "event_sequences", metadata,
        sa.Column("aggregate_id", sa.String(80), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "inbox", metadata,
        sa.Column("consumer", sa.String(60), primary_key=True),
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("handled_us", sa.BigInteger, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False),
    )
    sa.Table(
        "inbox_sequences", metadata,
        sa.Column("consumer", sa.String(60), primary_key=True),
        sa.Column("producer", sa.String(20), primary_key=True),
        sa.Column("aggregate_id", sa.String(80), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "dead_letters", metadata,
        sa.Column("consumer", sa.String(60), primary_key=True),
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("stream", sa.String(20), nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("error", sa.String(400), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("replayed_us", sa.BigInteger, nullable=True),
    )
    sa.Table(
        "audit_log", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject_id", sa.String(80), nullable=False, index=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("agent", sa.String(400), nullable=False),
        sa.Column("detail", sa.String(400), nullable=False),
        # The authenticated principal (kind:org/id, access.py), never a name the request claimed,
        # and the ID document the clerk recorded as checked for a window act.
        sa.Column("actor", sa.String(200), nullable=False, server_default=""),
        sa.Column("document", sa.String(64), nullable=False, server_default=""),
    )
    sa.Table(
        "idempotency", metadata,
        sa.Column("method", sa.String(60), primary_key=True),
        sa.Column("request_id", sa.String(80), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )


@dataclass(frozen=True)
class Migration:
    """One schema step. `apply` runs on a sync connection inside the migration transaction."""

    version: int
    name: str
    apply: Callable[[sa.Connection], None]


def create_all(metadata: sa.MetaData) -> Callable[[sa.Connection], None]:
    """Migration step 1 of every service: create the tables as first declared."""
    return lambda conn: metadata.create_all(conn)


def common_migrations(metadata: sa.MetaData) -> list[Migration]:
    """Steps for the shared tables added after the first release (versions 1000+)."""
    return [
        Migration(1001, "dead letters", lambda conn: metadata.tables["dead_letters"].create(conn, checkfirst=True)),
        Migration(1002, "audit actor and document", add_tables_and_columns(metadata)),
    ]


def add_tables_and_columns(metadata: sa.MetaData) -> Callable[[sa.Connection], None]:
    """A migration step that creates missing tables and adds missing columns.

    New columns must carry a `server_default` so existing rows get a value; on
    a fresh database step 1 already created everything and this does nothing.
    """

    def apply(conn: sa.Connection) -> None:
        inspector = sa.inspect(conn)
        existing_tables = set(inspector.get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in existing_tables:
                table.create(conn)
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
                    conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN {ddl}')
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn)

    return apply


_MIGRATIONS = sa.Table(
    "schema_migrations", sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("applied_us", sa.BigInteger, nullable=False),
)


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (once per file: the mode persists). Switching needs the file to
    itself, and SQLite answers "locked" at once rather than waiting while several processes or
    connections open a fresh file together (concurrent starts): retry briefly, then give up."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc).lower() or attempt == 99:
                raise
            time.sleep(0.05)  # start-up only: a connection's first moments


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=8, max_overflow=8)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take over transaction control so writers can BEGIN IMMEDIATE:
            # SQLite then serialises writers up front instead of failing on upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            _use_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            mode = "" if conn.get_execution_options().get("readonly") else " IMMEDIATE"
            conn.exec_driver_sql("BEGIN" + mode)

    else:
        # No pre-ping (a round trip per checkout on the hot path): a connection the server dropped fails
        # its first statement, is invalidated, and transact()/read() run the work again on a fresh one.
        engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=False)

    @event.listens_for(engine.sync_engine, "before_execute")
    def _before_execute(_conn: sa.Connection, statement: Any, multiparams: Any, params: Any, _options: Any) -> None:
        if isinstance(statement, (sa.Insert, sa.Update)):
            rows = [r for m in multiparams for r in (m if isinstance(m, (list, tuple)) else [m])]
            check_lengths(statement, rows + ([params] if params else []))

    return engine


SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory: the OS pages the file in as it is read
SQLITE_CACHE_KIB = 64 * 1024


def make_sqlite_sync_engine(url: str) -> sa.Engine:
    """The same SQLite file through the synchronous pysqlite driver: statements run right on the
    event loop thread (a statement on a local WAL file takes tens of microseconds; a thread hop
    per statement through aiosqlite cost more than the statement itself)."""
    engine = sa.create_engine(
        url.replace("sqlite+aiosqlite:", "sqlite+pysqlite:", 1),
        connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8, max_overflow=-1,  # never block the loop on a pool
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        _use_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # A million cards' rows and indexes do not fit SQLite's default 2 MB page cache: every
        # random lookup then costs a pread per page. Memory-map the file and keep 64 MB of pages.
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.info.pop("begun", False):  # the writer began BEGIN IMMEDIATE itself (Database._begin_immediate)
            return
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_execute")
    def _before_execute(_conn: sa.Connection, statement: Any, multiparams: Any, params: Any, _options: Any) -> None:
        if isinstance(statement, (sa.Insert, sa.Update)):
            rows = [r for m in multiparams for r in (m if isinstance(m, (list, tuple)) else [m])]
            check_lengths(statement, rows + ([params] if params else []))

    return engine


class OnLoop:
    """An AsyncConnection look-alike over a synchronous Connection: `await conn.execute(...)` runs
    the statement at once on the calling (event loop) thread, with no thread hop and no greenlet.
    `raw` is its sqlite3 connection, for the hot path's plain statements (fast_insert and friends)."""

    __slots__ = ("sync", "raw")

    def __init__(self, sync: sa.Connection) -> None:
        self.sync = sync
        self.raw = sync.connection.dbapi_connection

    async def execute(self, statement: Any, params: Any = None) -> Any:
        return self.sync.execute(statement) if params is None else self.sync.execute(statement, params)

    async def exec_driver_sql(self, statement: str, params: Any = None) -> Any:
        return self.sync.exec_driver_sql(statement) if params is None else self.sync.exec_driver_sql(statement, params)

    async def scalar(self, statement: Any, params: Any = None) -> Any:
        return self.sync.scalar(statement) if params is None else self.sync.scalar(statement, params)

    async def run_sync(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(self.sync, *args, **kwargs)


class PgDirect:
    """An AsyncConnection on PostgreSQL whose transaction has begun, with its asyncpg connection as
    `raw`: the hot path's plain statements (fast_insert and friends) go straight to asyncpg (its
    prepared-statement cache), skipping SQLAlchemy's statement building, compilation and greenlet
    switch; everything else goes through the AsyncConnection, in the same transaction.

    Writes whose outcome the caller does not read (fast_insert, fast_update(count=False)) are
    held and sent together as one statement (data-modifying CTEs) before the next statement that
    could read them and before COMMIT: a settlement's five writes cost one round trip, not five.
    A constraint they break surfaces at that point, inside the same transaction (transact retries
    or fails it exactly as before)."""

    __slots__ = ("conn", "raw", "held", "held_tables")

    def __init__(self, conn: AsyncConnection, raw: Any) -> None:
        self.conn = conn
        self.raw = raw
        self.held: list[tuple[str, tuple[Any, ...]]] = []
        self.held_tables: set[str] = set()

    @classmethod
    async def begun(cls, conn: AsyncConnection) -> "PgDirect":
        """Inside `conn.begin()`: start the driver's transaction now (SQLAlchemy starts it lazily, at
        its first statement), so that a plain statement sent to asyncpg is never outside it."""
        adapted = (await conn.get_raw_connection()).dbapi_connection
        if adapted._transaction is None:  # noqa: SLF001 - the asyncpg adapter's own transaction handle
            await adapted._start_transaction()  # noqa: SLF001
        return cls(conn, adapted.driver_connection)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    # SQLAlchemy statements may read the held writes: those go first.
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self.flush()
        return await self.conn.execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        await self.flush()
        return await self.conn.scalar(*args, **kwargs)

    async def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        await self.flush()
        return await self.conn.exec_driver_sql(*args, **kwargs)

    async def run_sync(self, *args: Any, **kwargs: Any) -> Any:
        await self.flush()
        return await self.conn.run_sync(*args, **kwargs)

    async def hold(self, table: str, sql: str, args: tuple[Any, ...]) -> None:
        """Hold a write until the next flush. The sub-statements of one statement share a snapshot:
        an UPDATE would not see a held write to its table (a row inserted, or updated twice —
        PostgreSQL applies only one of two updates of a row in one statement), so those go first."""
        if sql.startswith("UPDATE") and table in self.held_tables:
            await self.flush()
        self.held.append((sql, args))
        self.held_tables.add(table)

    async def flush(self) -> None:
        """Send the held writes: one statement, whatever their number."""
        if not self.held:
            return
        held, self.held = self.held, []
        self.held_tables.clear()
        if len(held) == 1:
            await self.call("execute", *held[0])
            return
        await self.call("execute", _chained(tuple(sql for sql, _ in held)), tuple(a for _, args in held for a in args))

    async def call(self, method: str, sql: str, args: tuple[Any, ...], reads: str = "") -> Any:
        """One plain statement, after the held writes it may read (all of them, or with `reads`
        only when one of them is to that table); asyncpg's errors become SQLAlchemy's, so callers
        (transact's retry on a unique violation or a serialization failure) see the same
        exceptions on either path."""
        if self.held and (not reads or reads in self.held_tables):
            await self.flush()
        try:
            return await getattr(self.raw, method)(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(sql, args, exc) from exc
        except asyncpg.PostgresError as exc:
            raise DBAPIError(sql, args, exc) from exc
        except (asyncpg.InterfaceError, OSError) as exc:  # the connection is gone: never hand it out again
            await self.conn.invalidate()
            raise DBAPIError(sql, args, exc, connection_invalidated=True) from exc


_CHAINS: dict[tuple[str, ...], str] = {}
_PLACEHOLDER = re.compile(r"[$](\d+)")


def _chained(statements: tuple[str, ...]) -> str:
    """Several INSERT/UPDATE statements ($n placeholders each from $1) as one: data-modifying CTEs,
    the placeholders renumbered in order. Built once per sequence of statements."""
    text = _CHAINS.get(statements)
    if text is None:
        parts, offset = [], 0
        for i, sql in enumerate(statements):
            shifted = _PLACEHOLDER.sub(lambda m, o=offset: f"${int(m.group(1)) + o}", sql)
            parts.append(f"w{i} AS ({shifted})")
            offset += max((int(n) for n in _PLACEHOLDER.findall(sql)), default=0)
        text = _CHAINS[statements] = "WITH " + ", ".join(parts) + " SELECT 1"
    return text


_SQL: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], bool], str] = {}


def _sql(kind: str, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...], pg: bool = False, for_update: bool = False) -> str:
    """Plain SQL text of a hot-path statement (SQLite `?` or PostgreSQL `$n` placeholders), built once per shape."""
    cache_key = (kind + ("+lock" if for_update else ""), table.name, columns, keys, pg)
    text = _SQL.get(cache_key)
    if text is None:
        numbers = itertools.count(1)

        def mark() -> str:  # parameters in the order they are passed: SET values first, then the key
            return f"${next(numbers)}" if pg else "?"

        if kind == "insert":
            text = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(mark() for _ in columns)})"
        elif kind == "update":
            assignments = ", ".join(f"{c} = {mark()}" for c in columns)
            text = f"UPDATE {table.name} SET {assignments} WHERE {' AND '.join(f'{k} = {mark()}' for k in keys)}"
        else:
            where = " AND ".join(f"{k} = {mark()}" for k in keys)
            text = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {where}" + (" FOR UPDATE" if for_update else "")
        _SQL[cache_key] = text
    return text


def _check_row(table: sa.Table, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, str):
            length = getattr(table.c[key].type, "length", None)
            if length is not None and len(value) > length:
                raise InvalidArgument("FIELD_TOO_LONG", f"{key} is longer than {length} characters", field=key, max_length=str(length))


def _booleans(table: sa.Table) -> frozenset[str]:
    found = table.info.get("_booleans")
    if found is None:
        found = table.info["_booleans"] = frozenset(c.name for c in table.columns if isinstance(c.type, sa.Boolean))
    return found


async def fast_insert(conn: Any, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT one row: plain SQL on the loop's SQLite connection or straight to asyncpg (same length
    checks as every other write), SQLAlchemy Core on any other connection."""
    if isinstance(conn, OnLoop):
        _check_row(table, values)
        conn.raw.execute(_sql("insert", table, tuple(values), ()), tuple(values.values()))
    elif isinstance(conn, PgDirect):
        _check_row(table, values)
        await conn.hold(table.name, _sql("insert", table, tuple(values), (), pg=True), tuple(values.values()))
    else:
        await conn.execute(table.insert().values(**values))


async def fast_update(conn: Any, table: sa.Table, key: dict[str, Any], values: dict[str, Any], count: bool = True) -> int | None:
    """UPDATE the rows matching `key` (equalities); returns the row count (None with count=False:
    on PostgreSQL the write is then held and sent with the unit's others, see PgDirect)."""
    if isinstance(conn, OnLoop):
        _check_row(table, values)
        return conn.raw.execute(_sql("update", table, tuple(values), tuple(key)), (*values.values(), *key.values())).rowcount
    if isinstance(conn, PgDirect):
        _check_row(table, values)
        if not count:
            await conn.hold(table.name, _sql("update", table, tuple(values), tuple(key), pg=True), (*values.values(), *key.values()))
            return None
        status = await conn.call("execute", _sql("update", table, tuple(values), tuple(key), pg=True), (*values.values(), *key.values()))
        return int(status.rsplit(" ", 1)[-1])  # asyncpg's command tag: "UPDATE <rows>"
    where = sa.and_(*(table.c[k] == v for k, v in key.items()))
    return (await conn.execute(table.update().where(where).values(**values))).rowcount


async def fast_get(conn: Any, table: sa.Table, key: dict[str, Any], columns: tuple[str, ...] = (), for_update: bool = False) -> dict[str, Any] | None:
    """The first row matching `key` (equalities) as a dict, or None. FOR UPDATE where the backend has it."""
    names = columns or tuple(c.name for c in table.columns)
    if isinstance(conn, OnLoop):
        row = conn.raw.execute(_sql("select", table, names, tuple(key)), tuple(key.values())).fetchone()
        if row is None:
            return None
        found = dict(zip(names, row))
        for name in _booleans(table).intersection(names):
            found[name] = bool(found[name])
        return found
    if isinstance(conn, PgDirect):
        record = await conn.call("fetchrow", _sql("select", table, names, tuple(key), pg=True, for_update=for_update), tuple(key.values()))
        return dict(zip(names, record)) if record is not None else None
    query = sa.select(*(table.c[n] for n in names)).where(*(table.c[k] == v for k, v in key.items()))
    result = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return dict(result._mapping) if result is not None else None


_NUMBERED: dict[str, str] = {}


async def fast_execute(conn: Any, sql: str, args: tuple[Any, ...]) -> int:
    """One plain statement written with `?` placeholders (renumbered `$n` for PostgreSQL once per
    text), on a unit of work's connection; returns the row count."""
    if isinstance(conn, OnLoop):
        return conn.raw.execute(sql, args).rowcount
    if isinstance(conn, PgDirect):
        numbered = _NUMBERED.get(sql)
        if numbered is None:
            numbers = itertools.count(1)
            numbered = _NUMBERED[sql] = re.sub(r"\?", lambda _m: f"${next(numbers)}", sql)
        status = await conn.call("execute", numbered, args)
        return int(status.rsplit(" ", 1)[-1])
    raise TypeError(f"no plain-SQL path for {type(conn).__name__}")


_PENDING = "SELECT id, event_id, subject, data, created_wall_us FROM outbox WHERE published_us IS NULL ORDER BY id LIMIT "


async def outbox_pending(conn: Any, limit: int) -> list[tuple[int, str, str, bytes, int]]:
    """The oldest unpublished outbox rows, in commit order: (id, event_id, subject, data, created_wall_us)."""
    if isinstance(conn, OnLoop):
        return conn.raw.execute(_PENDING + "?", (limit,)).fetchall()
    if isinstance(conn, PgDirect):
        return [tuple(r) for r in await conn.call("fetch", _PENDING + "$1", (limit,))]
    raise TypeError(f"no plain-SQL path for {type(conn).__name__}")


async def outbox_mark(conn: Any, ids: list[int], published_us: int) -> None:
    """Mark outbox rows published (one statement for the whole batch)."""
    if isinstance(conn, OnLoop):
        conn.raw.execute(f"UPDATE outbox SET published_us = ? WHERE id IN ({', '.join('?' * len(ids))})", (published_us, *ids))
    elif isinstance(conn, PgDirect):
        await conn.call("execute", "UPDATE outbox SET published_us = $1 WHERE id = ANY($2::bigint[])", (published_us, ids))
    else:
        raise TypeError(f"no plain-SQL path for {type(conn).__name__}")


def _begin_waiting(raw: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE that waits for another process's write lock (run in a worker thread)."""
    raw.execute("PRAGMA busy_timeout=30000")
    try:
        raw.execute("BEGIN IMMEDIATE")
    finally:
        raw.execute("PRAGMA busy_timeout=0")


async def upsert(conn: Any, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with `key`, or insert it: portable across SQLite and PostgreSQL."""
    if not await fast_update(conn, table, key, values):
        await fast_insert(conn, table, {**key, **values})


def fingerprint(request: message.Message, skip: str = "request_id", key: bytes = b"") -> str:
    """Keyed hash of a request without its idempotency key, to detect a reused key.

    Keyed (HMAC) because requests carry PINs: with a plain hash, a copy of the
    database would let anyone confirm a PIN guess in a million tries."""
    clone = type(request)()
    clone.CopyFrom(request)
    if skip and any(f.name == skip for f in clone.DESCRIPTOR.fields):
        clone.ClearField(skip)
    return hmac.new(key, clone.SerializeToString(deterministic=True), hashlib.sha256).hexdigest()


def check_lengths(statement: Any, params: Any = None) -> None:
    """Refuse a value longer than its column before it reaches the database.

    PostgreSQL would fail the statement (an INTERNAL error to the caller) and
    SQLite would silently store it; both backends now give the same precise
    INVALID_ARGUMENT / FIELD_TOO_LONG, and the transaction writes nothing.
    """
    table = getattr(statement, "table", None)
    if table is None or not hasattr(table, "c"):
        return
    rows: list[dict[str, Any]] = []
    values = getattr(statement, "_values", None)
    if values:
        rows.append({str(k): getattr(v, "value", v) for k, v in values.items()})
    if isinstance(params, dict):
        rows.append(params)
    elif isinstance(params, list):
        rows.extend(p for p in params if isinstance(p, dict))
    for row in rows:
        for key, value in row.items():
            if not isinstance(value, str):
                continue
            column = table.c.get(key)
            length = getattr(getattr(column, "type", None), "length", None)
            if length is not None and len(value) > length:
                raise InvalidArgument("FIELD_TOO_LONG", f"{key} is longer than {length} characters", field=key, max_length=str(length))


class UnitOfWork:
    """One transaction: state changes + outbox + inbox + idempotency records."""

    def __init__(self, conn: AsyncConnection, db: "Database") -> None:
        self.conn = conn
        self._db = db
        self.emitted = 0

    @property
    def now(self):  # noqa: ANN201 - datetime
        return self._db.clock.now()

    @property
    def now_us(self) -> int:
        return to_micros(self._db.clock.now())

    async def execute(self, statement: Any, params: Any = None) -> sa.CursorResult[Any]:
        return await self.conn.execute(statement, params) if params is not None else await self.conn.execute(statement)

    async def emit(self, event_type: str, aggregate_id: str, payload: message.Message) -> str:
        """Write an event to the outbox; it is published after this transaction commits."""
        seq_table = self._db.table("event_sequences")
        if isinstance(self.conn, OnLoop):
            found = self.conn.raw.execute(
                "UPDATE event_sequences SET last_sequence = last_sequence + 1 WHERE aggregate_id = ? RETURNING last_sequence", (aggregate_id,)).fetchone()
            sequence = found[0] if found else None
        elif isinstance(self.conn, PgDirect):
            sequence = await self.conn.call(
                "fetchval", "UPDATE event_sequences SET last_sequence = last_sequence + 1 WHERE aggregate_id = $1 RETURNING last_sequence",
                (aggregate_id,), reads="event_sequences")
        else:
            result = await self.conn.execute(
                seq_table.update()
                .where(seq_table.c.aggregate_id == aggregate_id)
                .values(last_sequence=seq_table.c.last_sequence + 1)
                .returning(seq_table.c.last_sequence)
            )
            sequence = result.scalar()
        if sequence is None:
            sequence = 1
            await fast_insert(self.conn, seq_table, dict(aggregate_id=aggregate_id, last_sequence=1))
        occurred = timestamp_pb2.Timestamp()
        occurred.FromDatetime(self.now)
        packed = any_pb2.Any()
        packed.Pack(payload)
        envelope = envelope_pb2.Envelope(
            event_id=new_id("evt"),
            event_type=event_type,
            aggregate_id=aggregate_id,
            sequence=sequence,
            occurred_at=occurred,
            producer=self._db.producer,
            payload=packed,
            traceparent=tracing.current_traceparent(),
        )
        await fast_insert(self.conn, self._db.table("outbox"), dict(
            event_id=envelope.event_id,
            subject=f"sscard.{self._db.producer}.{event_type}",
            data=envelope.SerializeToString(),
            created_us=self.now_us,
            created_wall_us=time.time_ns() // 1000,
        ))
        self.emitted += 1
        return envelope.event_id

    async def audit(self, action: str, subject_id: str, channel: str = "", agent: str = "", detail: str = "") -> None:
        """Record who did what to whom, through which channel (never PINs or secrets). The actor is
        the authenticated principal of the call or event being handled (access.current)."""
        grant = access.current()
        actor = grant.principal.actor if grant else f"service:{self._db.producer}"
        await self.conn.execute(
            self._db.table("audit_log").insert().values(
                at_us=self.now_us, action=action, subject_id=subject_id, channel=channel, agent=agent, detail=detail,
                actor=actor[:200], document=grant.document if grant else "",
            )
        )

    async def recall(
        self, method: str, request_id: str, request: message.Message, key_field: str = "request_id"
    ) -> bytes | None:
        """The stored response of an earlier call with this request id, if any."""
        if not request_id:
            raise InvalidArgument("REQUEST_ID_REQUIRED", f"{key_field} is required for a mutating call", field=key_field)
        if len(request_id) > 80:
            raise InvalidArgument("INVALID_REQUEST_ID", f"{key_field} is at most 80 characters", field=key_field)
        row = await fast_get(self.conn, self._db.table("idempotency"), dict(method=method, request_id=request_id), ("fingerprint", "response"))
        if row is None:
            return None
        if row["fingerprint"] != fingerprint(request, key_field, self._db.fingerprint_key):
            raise FailedPrecondition(
                "REQUEST_ID_REUSED", f"request_id {request_id!r} was used for a different {method} request"
            )
        return bytes(row["response"])

    async def remember(
        self, method: str, request_id: str, request: message.Message, response: message.Message, key_field: str = "request_id"
    ) -> None:
        await fast_insert(self.conn, self._db.table("idempotency"), dict(
            method=method,
            request_id=request_id,
            fingerprint=fingerprint(request, key_field, self._db.fingerprint_key),
            response=response.SerializeToString(),
            created_us=self.now_us,
        ))


class Database:
    """A service's own database: engine, metadata, migrations, transactions."""

    def __init__(
        self, url: str, metadata: sa.MetaData, migrations: Sequence[Migration], producer: str, clock: Clock, secret: bytes = b""
    ) -> None:
        self.url = url
        # Keys the request fingerprints of the idempotency table (derived, so the secret itself is never the key).
        self.fingerprint_key = hmac.new(secret, b"sscard idempotency fingerprint", hashlib.sha256).digest()
        self.metadata = metadata
        self.migrations = list(migrations)
        self.producer = producer
        self.clock = clock
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer at a time; queueing writers here, in the event loop, is far
        # cheaper than letting them collide on the file lock and sleep in SQLite's busy handler.
        self._writer = asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        self._sqlite_writer: sa.Connection | None = None
        self._sync = make_sqlite_sync_engine(url) if self.is_sqlite else None
        self.on_commit: list[Callable[[], None]] = []

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]

    async def migrate(self) -> list[str]:
        """Bring the schema to head with the service's Alembic revisions (services/common/schema.py:
        one transaction, under an advisory lock on PostgreSQL); returns the revisions applied.
        A database without a revision history of its own (services/<producer>/migrations) keeps
        the hand-written steps below."""
        from services.common import schema

        if schema.has_revisions(self.producer):
            async with self.engine.begin() as conn:
                return await conn.run_sync(lambda c: schema.upgrade(c, self.producer, self.metadata, self.migrations))
        applied: list[str] = []
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda c: _MIGRATIONS.create(c, checkfirst=True))
            done = set((await conn.execute(sa.select(_MIGRATIONS.c.version))).scalars())
            for step in [*self.migrations, *common_migrations(self.metadata)]:
                if step.version in done:
                    continue
                await conn.run_sync(step.apply)
                await conn.execute(
                    _MIGRATIONS.insert().values(version=step.version, name=step.name, applied_us=to_micros(self.clock.now()))
                )
                applied.append(str(step.version))
        return applied

    async def transact(self, work: Callable[[UnitOfWork], Awaitable[T]], retries: int = 5) -> T:
        """Run `work` in one transaction, retrying on write conflicts.

        A conflict (two requests racing on the same idempotency key or
        sequence row, a serialization failure) rolls back everything and runs
        `work` again, which then sees the winner's result.
        """
        if self.is_sqlite:
            return await self._transact_sqlite(work, retries)
        for attempt in range(retries + 1):
            try:
                deferred: CommitThenRaise | None = None
                async with self._writer, self._write_connection() as conn:
                    async with conn.begin():
                        direct = await PgDirect.begun(conn)
                        uow = UnitOfWork(direct, self)  # type: ignore[arg-type]
                        try:
                            result = await work(uow)
                        except CommitThenRaise as exc:
                            deferred = exc
                        await direct.flush()  # the held writes, before COMMIT
                if uow.emitted:
                    for callback in self.on_commit:
                        callback()
                if deferred is not None:
                    raise deferred.error
                return result
            except IntegrityError:
                if attempt == retries:
                    raise
            except DBAPIError as exc:
                if attempt == retries or not (_is_retryable(exc) or exc.connection_invalidated):
                    raise
            await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _transact_sqlite(self, work: Callable[[UnitOfWork], Awaitable[T]], retries: int) -> T:
        """SQLite: the whole unit of work on the event loop thread, on the one writer connection,
        under the writer lock (statements run synchronously: SQLite serialises writers anyway)."""
        for attempt in range(retries + 1):
            try:
                deferred: CommitThenRaise | None = None
                async with self._writer:
                    conn = await self._begin_immediate()
                    try:
                        with conn.begin():
                            uow = UnitOfWork(OnLoop(conn), self)  # type: ignore[arg-type]
                            try:
                                result = await work(uow)
                            except CommitThenRaise as exc:
                                deferred = exc
                    except BaseException:
                        if conn.invalidated or conn.closed:
                            self._sqlite_writer = None
                        raise
                if uow.emitted:
                    for callback in self.on_commit:
                        callback()
                if deferred is not None:
                    raise deferred.error
                return result
            except IntegrityError:
                if attempt == retries:
                    raise
            except DBAPIError as exc:
                if attempt == retries or not _is_retryable(exc):
                    raise
            await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _begin_immediate(self) -> sa.Connection:
        """The writer connection with BEGIN IMMEDIATE taken: at once when no other process writes
        (busy timeout 0, on the loop), else waiting for the lock in a worker thread."""
        assert self._sync is not None
        if self._sqlite_writer is None or self._sqlite_writer.closed or self._sqlite_writer.invalidated:
            self._sqlite_writer = self._sync.connect()
            self._sqlite_writer.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # not through SQLAlchemy: no autobegin
        conn = self._sqlite_writer
        raw = conn.connection.dbapi_connection
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" not in text and "busy" not in text:
                raise
            await asyncio.to_thread(_begin_waiting, raw)
        conn.info["begun"] = True
        return conn

    async def idempotent(
        self,
        method: str,
        request: Any,
        response_type: type[M],
        work: Callable[[UnitOfWork], Awaitable[M]],
        key_field: str = "request_id",
    ) -> M:
        """Run a mutating call once per idempotency key: a replay returns the first response.

        `method` scopes the key (e.g. per institution for settlement msg ids).
        """
        key = getattr(request, key_field)
        grant = access.current()
        if grant is not None:
            # Keys are the caller's: another principal reusing one gets nothing of the first call.
            method = f"{method}@{grant.principal.kind}:{grant.principal.org or grant.principal.id}"
            if len(method) > 60:
                method = method[:44] + "#" + hashlib.sha256(method.encode()).hexdigest()[:15]

        async def once(uow: UnitOfWork) -> M:
            cached = await uow.recall(method, key, request, key_field)
            if cached is not None:
                if grant is not None:
                    grant.subject_checked = True  # the first call by this same caller passed the check
                return response_type.FromString(cached)
            response = await work(uow)
            await uow.remember(method, key, request, response, key_field)
            return response

        return await self.transact(once)

    @contextlib.asynccontextmanager
    async def _write_connection(self):  # noqa: ANN202 - AsyncIterator[AsyncConnection]
        """PostgreSQL: a pooled connection each time (SQLite: _transact_sqlite)."""
        async with self.engine.connect() as conn:
            yield conn

    async def audit_read(self, action: str, subject_id: str, detail: str = "") -> None:
        """Personal data was read (PIPL): who read whose record, recorded like a change."""

        async def work(uow: UnitOfWork) -> None:
            await uow.audit(action, subject_id, detail=detail)

        await self.transact(work)

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run read-only queries (no write lock on SQLite)."""
        if self._sync is not None:
            with self._sync.connect() as sync:
                sync.execution_options(readonly=True)
                with sync.begin():
                    return await work(OnLoop(sync))  # type: ignore[arg-type]
        for attempt in range(3):
            try:
                async with self.engine.connect() as conn:
                    conn = await conn.execution_options(readonly=True)
                    async with conn.begin():
                        return await work(await PgDirect.begun(conn))  # type: ignore[arg-type]
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:  # a dropped pooled connection: once more on a fresh one
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._sqlite_writer is not None:
            self._sqlite_writer.close()
            self._sqlite_writer = None
        if self._sync is not None:
            self._sync.dispose()
        await self.engine.dispose()


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("deadlock", "could not serialize", "database is locked", "serialization"))
