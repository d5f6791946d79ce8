"""The database: SQLite (WAL) by default, any SQLAlchemy async URL through DATABASE_URL; schema made on open."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.errors import ConfigError, SchemaError
from core.home import Home
from core.schema import MIGRATIONS, SCHEMA_VERSION, metadata, schema_info
from core.secrets import Secrets


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def database_url(home: Home, secrets: Secrets) -> str:
    return secrets.get("DATABASE_URL") or f"sqlite+aiosqlite:///{home.database_file}"


class Database:
    """Owns the engine; `transaction()` is the only way to write, so every write is one atomic unit."""

    def __init__(self, engine: AsyncEngine, serialize_writes: bool = False) -> None:
        self.engine = engine
        # SQLite takes one writer at a time; writers of one process queue here, in order, instead of in SQLite's
        # busy handler, which sleeps in growing steps (a 50-worker queue spent most of its time asleep there).
        self._write_lock = asyncio.Lock() if serialize_writes else contextlib.nullcontext()

    @classmethod
    async def open(cls, url: str) -> "Database":
        try:
            parsed = make_url(url)
        except Exception:
            raise ConfigError("DATABASE_URL", "not a valid database URL") from None
        if parsed.drivername.startswith("sqlite"):
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, connect_args={"timeout": 30})
            _sqlite_serialized_writes(engine)
        else:
            engine = create_async_engine(url, pool_pre_ping=True)
        db = cls(engine, serialize_writes=parsed.drivername.startswith("sqlite"))
        await db._ensure_schema()
        return db

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(write=True)  # SQLite: BEGIN IMMEDIATE (reads begin deferred)
            async with conn.begin():
                yield conn

    async def fetch_all(self, statement: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement)).all())

    async def _ensure_schema(self) -> None:
        async with self.transaction() as conn:
            await conn.run_sync(metadata.create_all)
            version = (await conn.execute(select(schema_info.c.version))).scalar()
            if version is None:
                await conn.execute(insert(schema_info).values(id=1, version=SCHEMA_VERSION))
            elif version < SCHEMA_VERSION:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step]:
                        await conn.exec_driver_sql(statement)
                await conn.execute(update(schema_info).values(version=SCHEMA_VERSION))
            elif version > SCHEMA_VERSION:
                raise SchemaError(
                    f"the database has schema version {version}, newer than this daemon's {SCHEMA_VERSION}: upgrade"
                )


def _sqlite_serialized_writes(engine: AsyncEngine) -> None:
    """WAL so readers never block, and BEGIN IMMEDIATE for writes so check-then-write is atomic across connections
    (a read-only transaction begins deferred and never waits for the write lock)."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")
