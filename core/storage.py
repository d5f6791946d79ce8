"""The database: SQLite (WAL) by default, PostgreSQL (asyncpg) through DATABASE_URL to scale out; schema made on open.

Both kinds are used through the same calls: `transaction()` yields a Transaction (AsyncConnection's `execute`,
`exec_driver_sql` and `run_sync`), `fetch_all` reads, `lock` serializes a critical section across every process, and
`leadership` elects the one scheduler."""
from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

from loguru import logger
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Float,
    create_engine,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.engine import URL, CursorResult, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.errors import ConfigError, DaemonError, SchemaError
from core.home import Home
from core.leader import FileLeadership, Leadership, PostgresLeadership
from core.schema import MIGRATIONS, SCHEMA_VERSION, metadata, schema_info
from core.secrets import Secrets


class Transaction(Protocol):
    """A connection inside an open transaction, as the daemon uses it: an AsyncConnection on PostgreSQL, the one
    writer connection on SQLite. Everything written through it commits together, or not at all."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    async def exec_driver_sql(self, statement: str) -> CursorResult[Any]: ...

    async def run_sync(self, function: Callable[[Connection], T]) -> T: ...


Write = tuple[Executable, dict[str, Any] | list[dict[str, Any]]]  # a statement, its parameters (of many rows)
Step = Callable[[Transaction], Awaitable[None]]  # work inside a transaction that reads before it writes (a fence)
T = TypeVar("T")
RETRIES = 5  # a transaction the server aborted to break a deadlock is run again, up to this many times
ABORTED_TO_RETRY = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure
# PostgreSQL: the connection is gone or the server is (re)starting or shutting down; connection exceptions (08…)
SERVER_GONE = {"57P01", "57P02", "57P03"}
OUTAGE_BACKOFF_MAX_S = 10.0  # the longest wait between two tries to reach a database that went away
CONNECT_TIMEOUT_S = 15.0  # a PostgreSQL server that has not answered by then is unreachable
SQLITE_BUSY_TIMEOUT_S = 30.0  # how long a write waits for another process's write lock before it is an outage
ADD_COLUMN = re.compile(r"ALTER TABLE (?P<table>\w+) ADD COLUMN (?P<column>\w+)")
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite, so text compares as time


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None, "not an INSERT"
    return int(key[0])


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class server_now(FunctionElement[datetime]):
    """The database's clock when the statement runs, plus `offset_s` seconds (a number or a bind parameter).

    Leases are timed by this one clock, which every worker on every host shares, and it is read when the statement
    runs, after any lock its transaction waited for (PostgreSQL's now() is when the transaction began)."""

    type = DateTime(timezone=True)
    inherit_cache = True

    def __init__(self, offset_s: float | ColumnElement[float] = 0.0) -> None:
        super().__init__(offset_s if isinstance(offset_s, ColumnElement) else literal(float(offset_s), Float))


@compiles(server_now, "postgresql")
def _postgres_now(element: server_now, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(clock_timestamp() + make_interval(secs => {compiler.process(element.clauses, **kw)}))"


@compiles(server_now, "sqlite")
def _sqlite_now(element: server_now, compiler: SQLCompiler, **kw: Any) -> str:
    return f"daemon_now({compiler.process(element.clauses, **kw)})"


def _sqlite_now_plus(offset_s: float) -> str:
    """SQLite's half of server_now: registered on every connection as daemon_now(seconds)."""
    return (datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=offset_s)).strftime(SQLITE_TIME_FORMAT)


def is_outage(exc: BaseException) -> bool:
    """The database went away (a restart, a cut connection, a server still starting), as opposed to a bad
    statement: the same work may succeed once it is back."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    original = getattr(exc, "orig", exc)
    state = str(getattr(original, "sqlstate", "") or "")
    if isinstance(original, sqlite3.OperationalError):  # another process held the write lock past the busy timeout
        return "locked" in str(original) or "disk is full" in str(original)
    return state in SERVER_GONE or state.startswith("08") or type(original).__name__ in (
        "ConnectionDoesNotExistError", "CannotConnectNowError")


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("DATABASE_URL",
                          f"cannot make the database's folder {folder}: {exc.strerror or exc}") from None


def _unusable(url: URL, exc: BaseException) -> DaemonError:
    """Why the database named by `url` cannot be opened, in one line without its password: a server that does not
    answer is a runtime fault (exit 1); a refused login or a missing database is configuration (exit 2)."""
    where = f"{url.database or ''} on {url.host}:{url.port or 5432}" if url.host else str(url.database)
    reason = one_line(getattr(exc, "orig", None) or exc)
    if is_outage(exc):
        return DaemonError(f"the database {where} is unreachable: {reason}")
    return ConfigError("DATABASE_URL", f"cannot use the database {where}: {reason}")


def database_url(home: Home, secrets: Secrets) -> str:
    return secrets.get("DATABASE_URL") or f"sqlite:///{home.database_file}"


class Database(ABC):
    """Owns the engine; `transaction()` is the only way to write, so every write is one atomic unit."""

    wait_out_outages = False  # set for long-running work (a worker): a database that went away is waited for

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> "Database":
        try:
            parsed = make_url(url)
        except Exception:
            raise ConfigError("DATABASE_URL", "not a valid database URL") from None
        db: Database
        if parsed.drivername.startswith("sqlite"):
            if parsed.database:
                _make_folder(Path(parsed.database).parent)
            engine = create_engine(parsed.set(drivername="sqlite+pysqlite"))
            _sqlite_serialized_writes(engine)
            db = SQLiteDatabase(engine, Path(parsed.database or "memory"))
        elif parsed.get_backend_name() in ("postgresql", "postgres"):  # whichever driver it names, asyncpg drives it
            db = PostgresDatabase(create_async_engine(
                parsed.set(drivername="postgresql+asyncpg"), pool_pre_ping=True, pool_size=10, max_overflow=10,
                connect_args={"timeout": CONNECT_TIMEOUT_S}))
        else:
            raise ConfigError("DATABASE_URL",
                              f"{parsed.drivername}: use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB")
        try:
            await db._ensure_schema()
        except BaseException as exc:
            await db.close()
            if isinstance(exc, (DBAPIError, OSError)):
                raise _unusable(parsed, exc) from None
            raise
        return db

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.engine.begin() as conn:
            yield conn

    async def fetch_all(self, statement: Any) -> list[Any]:
        return await self._riding_out_outages(lambda: self._read(statement))

    async def _read(self, statement: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement)).all())

    async def write(self, *writes: Write | Step) -> None:
        """Commit `writes` together, in one transaction of their own: statements with their parameters, and steps
        (which may read, and raise to undo the whole transaction)."""

        async def apply(conn: Transaction) -> None:
            for write in writes:
                if callable(write):
                    await write(conn)
                else:
                    await conn.execute(*write)

        await self.retrying(apply)

    async def retrying(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`work(conn)` in one transaction. When two transactions wait on each other's locks, PostgreSQL aborts one
        of them; that one is run again from the start (nothing of it was kept), after a short random wait. With
        `wait_out_outages`, a lost connection is waited out too, and the work run again once the server is back;
        work that settles money checks what it settles is still open, so a commit whose answer was lost is never
        applied twice."""

        async def attempt() -> T:
            aborted = 0
            while True:
                try:
                    async with self.transaction() as conn:
                        return await work(conn)
                except DBAPIError as exc:
                    aborted += 1
                    if getattr(exc.orig, "sqlstate", None) not in ABORTED_TO_RETRY or aborted == RETRIES:
                        raise
                    await asyncio.sleep(random.uniform(0, 0.05 * 2 ** aborted))

        return await self._riding_out_outages(attempt)

    async def _riding_out_outages(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`; while the database is unreachable and `wait_out_outages` is set, tried again with backoff (one
        log line when it goes away, one when it is back)."""
        wait, down_since = 0.5, None
        while True:
            try:
                result = await work()
            except Exception as exc:
                if not (self.wait_out_outages and is_outage(exc)):
                    raise
                if down_since is None:
                    down_since = asyncio.get_running_loop().time()
                    logger.error(f"the database is unreachable ({one_line(exc)}): waiting for it")
                await asyncio.sleep(random.uniform(wait / 2, wait))
                wait = min(wait * 2, OUTAGE_BACKOFF_MAX_S)
                continue
            if down_since is not None:
                logger.warning(f"the database is back after {asyncio.get_running_loop().time() - down_since:.1f} s")
            return result

    @abstractmethod
    async def lock(self, conn: Transaction, name: str) -> None:
        """Hold the lock `name` until the transaction of `conn` ends: for checks (a count, then a write) that no
        other process may interleave with."""

    @abstractmethod
    def leadership(self, name: str) -> Leadership:
        """The lock that elects one process (of all using this database) to do the work called `name`."""

    async def _ensure_schema(self) -> None:
        async with self.transaction() as conn:
            await self.lock(conn, "schema")  # workers started together: one creates the tables, the rest see them
            await conn.run_sync(metadata.create_all)
            version = (await conn.execute(select(schema_info.c.version))).scalar()
            if version is None:
                await conn.execute(insert(schema_info).values(id=1, version=SCHEMA_VERSION))
            elif version < SCHEMA_VERSION:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step]:
                        if not await conn.run_sync(lambda sync: _made_already(sync, statement)):
                            await conn.exec_driver_sql(statement)
                await conn.execute(update(schema_info).values(version=SCHEMA_VERSION))
            elif version > SCHEMA_VERSION:
                raise SchemaError(
                    f"the database has schema version {version}, newer than this daemon's {SCHEMA_VERSION}: upgrade"
                )


def _made_already(conn: Connection, statement: str) -> bool:
    """A column a migration adds to a table that create_all has just made whole (the database predates the table)."""
    added = ADD_COLUMN.match(statement)
    return added is not None and added["column"] in {column["name"] for column in
                                                     inspect(conn).get_columns(added["table"])}


class PostgresDatabase(Database):
    """Many processes on many hosts. Claims skip rows other workers hold (FOR UPDATE SKIP LOCKED); shared limits
    (budget totals, a provider's slots, an account's) are checked under locks they wait for."""

    async def lock(self, conn: Transaction, name: str) -> None:
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))

    def leadership(self, name: str) -> Leadership:
        return PostgresLeadership(self.engine, name)


class SQLiteDatabase(Database):
    """SQLite runs its statements right on the event loop: each takes microseconds, far less than handing it to a
    thread (aiosqlite's three or four thread hops per statement were most of the engine's cost per job). Writers of
    this process queue on an asyncio lock before BEGIN IMMEDIATE, so none of them ever waits inside SQLite; only
    another process's write can make one wait (up to SQLITE_BUSY_TIMEOUT_S)."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.sync_engine = engine
        self.path = path
        self._write_lock = asyncio.Lock()
        self._writer: Connection | None = None

    async def lock(self, conn: Transaction, name: str) -> None:
        """Nothing to take: writers already take turns (BEGIN IMMEDIATE), so no other process interleaves."""

    def leadership(self, name: str) -> Leadership:
        """A lock file beside the database: SQLite is shared by the processes of one host only."""
        return FileLeadership(self.path.with_name(f"{self.path.name}.{name}.lock"))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.sync_engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """On the one connection this process writes through (kept open: a pool checkout per write cost more than
        most of the writes)."""
        async with self._write_lock:
            if self._writer is None:
                self._writer = self.sync_engine.connect().execution_options(write=True)  # BEGIN IMMEDIATE
            with self._writer.begin():
                yield _AwaitableConnection(self._writer)

    async def _read(self, statement: Any) -> list[Any]:
        with self.sync_engine.connect() as conn:
            return list(conn.execute(statement).all())


class _AwaitableConnection:
    """The part of AsyncConnection the daemon uses, over a synchronous connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str) -> CursorResult[Any]:
        return self._conn.exec_driver_sql(statement)

    async def run_sync(self, function: Callable[[Connection], T]) -> T:
        return function(self._conn)


def _sqlite_serialized_writes(engine: Engine) -> None:
    """WAL so readers never block, and BEGIN IMMEDIATE for writes so check-then-write is atomic across connections
    (a read-only transaction begins deferred and never waits for the write lock)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()
        dbapi_connection.create_function("daemon_now", 1, _sqlite_now_plus)

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:  # straight to the driver: it is two words, and sent before every write
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get("write")
                                                  else "BEGIN")
