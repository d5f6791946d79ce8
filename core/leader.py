"""Leader election: of all the `run` processes on one database, one schedules trend collection and reports.

The lock lives as long as the process holding it: a PostgreSQL session advisory lock (released by the server when
the session ends, however the process died), or an flock on a file beside the SQLite database (released by the
kernel). The others work the queue and ask again now and then."""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """Take the lock if nobody holds it; True while this process holds it."""

    async def held(self) -> bool:
        """Whether this process still holds the lock (a lost database session loses it)."""

    async def release(self) -> None:
        """Let another process lead."""


class PostgresLeadership:
    """A session-level advisory lock, on a connection kept for it alone."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.key = func.hashtextextended(f"leader:{name}", 0)
        self._conn: AsyncConnection | None = None
        self._held = False

    async def acquire(self) -> bool:
        if self._held:
            return await self.held()
        try:
            if self._conn is None:
                self._conn = await self.engine.connect()
            self._held = bool((await self._conn.execute(select(func.pg_try_advisory_lock(self.key)))).scalar())
            await self._conn.commit()  # the lock is the session's: no transaction is left open with it
        except (SQLAlchemyError, OSError):
            await self._drop()
        return self._held

    async def held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            await self._conn.execute(select(1))
            await self._conn.commit()
        except (SQLAlchemyError, OSError):  # the session is gone, and the server released its lock with it
            await self._drop()
        return self._held

    async def release(self) -> None:
        if self._conn is not None and self._held:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self._conn.execute(select(func.pg_advisory_unlock(self.key)))
                await self._conn.commit()
        await self._drop()

    async def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.invalidate()  # never back to the pool: a session that may hold the lock is closed
                await conn.close()


class FileLeadership:
    """An exclusive flock on a file; the file names the holder (host:pid) for the curious."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    async def acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        file.truncate(0)
        file.write(f"{socket.gethostname()}:{os.getpid()}\n")
        file.flush()
        self._file = file
        return True

    async def held(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
