"""Durable provider health: rate-limit pauses, billing/auth disables and the circuit breaker, shared by every worker
through the database (so a restart, or another worker, sees the same pause)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import Row, bindparam, select, text, update

from core.engine.notifications import EventName, notify
from core.schema import provider_state
from core.storage import Database, Transaction, as_utc, utcnow


class ProviderHealth:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._failing: set[str] = set()  # providers this process counted failures for: a success must reset them

    async def unavailable(self, conn: Transaction) -> dict[str, tuple[str, datetime]]:
        """Every provider that is paused or disabled now: why, and until when (one read for all of them)."""
        now, blocked = utcnow(), {}
        for row in (await conn.execute(_ALL)).all():
            if row.disabled_until and as_utc(row.disabled_until) > now:
                until = as_utc(row.disabled_until)
                blocked[row.provider] = (f"disabled until {until:%Y-%m-%d %H:%M} UTC: {row.disable_reason}", until)
            elif row.paused_until and as_utc(row.paused_until) > now:
                until = as_utc(row.paused_until)
                blocked[row.provider] = (f"paused until {until:%H:%M:%S} UTC: {row.pause_reason}", until)
        return blocked

    async def pause(self, provider: str, seconds: float, reason: str) -> None:
        """Pause until now + `seconds`, or keep a later pause already in place."""
        until = utcnow() + timedelta(seconds=seconds)
        async with self.db.transaction() as conn:
            row = await locked_row(conn, provider)
            if row.paused_until is None or as_utc(row.paused_until) < until:
                await _set(conn, provider, paused_until=until, pause_reason=reason)
        logger.warning(f"provider {provider} paused for {seconds:.0f} s: {reason}")

    async def disable(self, provider: str, hours: float, reason: str) -> None:
        until = utcnow() + timedelta(hours=hours)
        async with self.db.transaction() as conn:
            await locked_row(conn, provider)
            await _set(conn, provider, disabled_until=until, disable_reason=reason)
        logger.error(f"provider {provider} disabled until {until:%Y-%m-%d %H:%M} UTC: {reason}")
        await notify(self.db, EventName.PROVIDER_DISABLED, {"provider": provider, "until": until.isoformat(),
                                                            "reason": reason})

    async def enable(self, provider: str) -> None:
        """The operator's override: clear a disable and a pause."""
        async with self.db.transaction() as conn:
            await locked_row(conn, provider)
            await _set(conn, provider, disabled_until=None, disable_reason=None, paused_until=None,
                       pause_reason=None, consecutive_failures=0)

    async def failed(self, provider: str, threshold: int, cooldown_s: float) -> None:
        """Count a failure; at `threshold` in a row the breaker opens (a pause of `cooldown_s`)."""
        self._failing.add(provider)
        async with self.db.transaction() as conn:
            count = (await locked_row(conn, provider)).consecutive_failures + 1
            await _set(conn, provider, consecutive_failures=0 if count >= threshold else count)
        if count >= threshold:
            await self.pause(provider, cooldown_s, f"{count} failures in a row (circuit breaker)")

    async def succeeded(self, provider: str) -> None:
        if provider not in self._failing:
            return
        self._failing.discard(provider)
        async with self.db.transaction() as conn:
            await locked_row(conn, provider)
            await _set(conn, provider, consecutive_failures=0)


async def locked_row(conn: Transaction, provider: str) -> Row[Any]:
    """The provider's row (made on first use), locked until the transaction ends: every process that changes a
    provider's state, or counts its slots and requests to take one, does it holding this lock."""
    await conn.execute(_ENSURE_ROW, {"provider": provider})
    return (await conn.execute(_LOCK_ROW, {"provider": provider})).one()


async def _set(conn: Transaction, provider: str, **values: datetime | str | int | None) -> None:
    await conn.execute(update(provider_state).where(provider_state.c.provider == provider).values(**values))


_ALL = select(provider_state)
_ENSURE_ROW = text("INSERT INTO provider_state (provider, consecutive_failures) VALUES (:provider, 0) "
                   "ON CONFLICT (provider) DO NOTHING")
_LOCK_ROW = select(provider_state).where(provider_state.c.provider == bindparam("provider")).with_for_update()
