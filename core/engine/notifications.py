"""Notifications: an event is recorded where it happens (a job ends, a budget alert fires, a provider is disabled, a
Reel is posted) and the leading daemon delivers it to each destination that asked for it, every few seconds.

Each delivery is recorded (`deliveries`): sent, retrying (after 10 s, 20 s, 40 s... an hour at most, or the wait
the receiver asked for) or failed (a refusal that trying again cannot change, or 8 tries). Delivery is at least
once: a receiver deduplicates by the event's id. Events are delivered for a day; a destination added later gets
that day's. Recording never fails the work it tells of: a database that refuses it costs the notice, with a line.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from enum import StrEnum
from typing import Any

from loguru import logger
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from content.notifiers.contract import Decision, Event, Notifier, NotifyError
from content.notifiers.registry import notifiers_of
from core.engine import review
from core.errors import DaemonError
from core.schema import deliveries, notifications
from core.secrets import Secrets
from core.settings import Notifications
from core.storage import Database, as_utc, utcnow

TRIES = 8
BACKOFF_FIRST_S = 10.0
BACKOFF_MAX_S = 3600.0
KEPT = timedelta(days=1)  # events older than this are no longer delivered
BATCH = 100  # deliveries per destination per round


class EventName(StrEnum):
    JOB_DONE = "job.done"
    JOB_FAILED = "job.failed"
    BUDGET_ALERT = "budget.alert"
    PROVIDER_DISABLED = "provider.disabled"
    POST_PUBLISHED = "post.published"
    BRIEF_REVIEW = "brief.review"


class DeliveryState(StrEnum):
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


async def notify(db: Database, event: EventName, data: dict[str, Any]) -> None:
    """Record that `event` happened, to be delivered by the daemon."""
    try:
        await db.write((insert(notifications).values(event=str(event), payload=data, created_at=utcnow()), {}))
    except Exception as exc:  # the notice is lost, never the work it tells of
        logger.warning(f"{event} not recorded for notification ({type(exc).__name__})")


class Deliveries:
    def __init__(self, settings: Notifications, db: Database, secrets: Secrets) -> None:
        self.db = db
        self.notifiers = notifiers_of(settings, secrets)
        self._warned: set[str] = set()
        self._unread: dict[str, str] = {}  # the last failure to read each notifier's answers

    async def close(self) -> None:
        await asyncio.gather(*(notifier.close() for notifier in self.notifiers))

    async def send_due(self) -> int:
        """Deliver every due event to each destination, one at a time; returns how many arrived."""
        sent = 0
        for notifier in self.notifiers:
            missing = notifier.missing_requirements()
            if missing:
                if notifier.destination not in self._warned:
                    logger.warning(f"{notifier.destination}: not notified, {', '.join(missing)} is not set")
                    self._warned.add(notifier.destination)
                continue
            for row in await self._due(notifier):
                sent += await self._deliver(notifier, row)
        return sent

    async def take_decisions(self) -> int:
        """The briefs approved or rejected through a notifier (Telegram's buttons), carried out and answered; returns
        how many were. A notifier that cannot be asked now is asked again next round."""
        taken = 0
        for notifier in self.notifiers:
            if notifier.missing_requirements():
                continue
            try:
                for decision in await notifier.decisions():
                    await notifier.settle(decision, await self._carry_out(decision, notifier.destination))
                    taken += 1
                self._unread.pop(notifier.destination, None)
            except NotifyError as exc:  # said once, not every round, until it changes
                if self._unread.get(notifier.destination) != str(exc):
                    logger.warning(f"{notifier.destination}: its answers were not read ({exc})")
                self._unread[notifier.destination] = str(exc)
        return taken

    async def _carry_out(self, decision: Decision, destination: str) -> str:
        try:
            if decision.approve:
                await review.approve(self.db, decision.job_id)
            else:
                await review.reject(self.db, decision.job_id, f"rejected on {destination.partition(':')[0]}")
        except DaemonError as exc:
            return str(exc)
        verb = "approved: queued" if decision.approve else "rejected"
        logger.info(f"job {decision.job_id}: {verb} through {destination}")
        return f"job {decision.job_id} {verb}"

    async def _due(self, notifier: Notifier) -> list[Any]:
        now = utcnow()
        ours = and_(deliveries.c.notification_id == notifications.c.id,
                    deliveries.c.destination == notifier.destination)
        query = (select(notifications, deliveries.c.id.label("delivery_id"), deliveries.c.tries)
                 .select_from(notifications.outerjoin(deliveries, ours))
                 .where(notifications.c.created_at >= now - KEPT, notifications.c.event.in_(notifier.events),
                        or_(deliveries.c.id.is_(None), and_(deliveries.c.state == DeliveryState.RETRYING,
                                                            deliveries.c.next_at <= now)))
                 .order_by(notifications.c.id).limit(BATCH))
        return list(await self.db.fetch_all(query))

    async def _deliver(self, notifier: Notifier, row: Any) -> int:
        event = Event(row.id, row.event, as_utc(row.created_at), dict(row.payload))
        tries = int(row.tries or 0) + 1
        try:
            await notifier.send(event)
        except NotifyError as exc:
            if exc.retry and tries < TRIES:
                wait = exc.retry_after_s or min(BACKOFF_FIRST_S * 2 ** (tries - 1), BACKOFF_MAX_S)
                await self._record(row, notifier, DeliveryState.RETRYING, tries, str(exc), wait)
                logger.warning(f"{notifier.destination}: {event.name} {event.id} not delivered ({exc}); tried "
                               f"again in {wait:.0f} s")
            else:
                await self._record(row, notifier, DeliveryState.FAILED, tries, str(exc))
                logger.error(f"{notifier.destination}: {event.name} {event.id} given up after {tries} "
                             f"tr{'y' if tries == 1 else 'ies'}: {exc}")
            return 0
        await self._record(row, notifier, DeliveryState.SENT, tries)
        return 1

    async def _record(self, row: Any, notifier: Notifier, state: DeliveryState, tries: int, error: str | None = None,
                      wait_s: float | None = None) -> None:
        values = {"state": str(state), "tries": tries, "error": error, "updated_at": utcnow(),
                  "next_at": utcnow() + timedelta(seconds=wait_s) if wait_s is not None else None}
        if row.delivery_id is not None:
            await self.db.write((update(deliveries).where(deliveries.c.id == row.delivery_id).values(**values), {}))
            return
        try:
            await self.db.write((insert(deliveries).values(notification_id=row.id, destination=notifier.destination,
                                                           **values), {}))
        except IntegrityError:  # another process recorded it meanwhile (a leadership handed over mid-round)
            pass
