"""Attempts and money: a reservation is written with its attempt before any provider call, then settled.

The ledger is append-only. An attempt's reservation (+estimate) is later offset by a release (−estimate) and, when
the provider charged, a charge (+actual); all three carry the reservation's budget day and month so a video paid
just after midnight still counts against the day it was reserved in. Spend in a period = sum of its rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, bindparam, func, insert, select, text, update

from core.engine.alerts import BudgetAlerts
from core.engine.provider_health import locked_row
from core.engine.states import OPEN_STATES, AttemptState, LedgerKind
from core.errors import DaemonError, ErrorClass
from core.schema import attempts, budget_totals, cost_ledger, service_calls
from core.settings import Budget
from core.storage import Database, Step, Transaction, Write, as_utc, inserted_id, utcnow

CENT = 1e-9  # float slack when comparing sums of dollar amounts
VOICE = "voice"  # the provider type of an attempt that buys a Reel's speech from a paid voice engine
SLOT_RECHECK_S = 0.25  # how soon a provider at its max_concurrent is asked again for a free slot


class AttemptClosed(DaemonError):
    """The attempt was settled already (by the worker that took the job over, or by a commit of ours whose answer
    was lost): nothing was written again."""


class BudgetExceeded(DaemonError):
    """The estimate does not fit under a cap ("per-video", "daily" or "monthly"); nothing was reserved."""

    def __init__(self, message: str, cap: str) -> None:
        self.cap = cap
        super().__init__(message)


class ProviderBusy(DaemonError):
    """The provider is at its `max_concurrent` or `requests_per_minute`; try again in `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


@dataclass(frozen=True)
class ProviderLimits:
    max_concurrent: int | None = None
    requests_per_minute: int | None = None


@dataclass(frozen=True)
class Attempt:
    id: int
    job_id: int
    provider: str
    estimate_usd: float
    budget_day: str
    budget_month: str
    scene: int | None = None  # the scene it makes a clip for (None: the whole video)
    provider_type: str = ""

    @property
    def buys_voice(self) -> bool:
        return self.provider_type == VOICE

    @property
    def key(self) -> str:
        """The idempotency key sent with the create call, and used to find the task again after a crash."""
        return f"job{self.job_id}-attempt{self.id}"


@dataclass(frozen=True)
class ServiceCall:
    """A reserved paid call that is no video's (core/schema.py's service_calls)."""
    id: int
    service: str
    estimate_usd: float
    budget_day: str
    budget_month: str


@dataclass(frozen=True)
class Reservation:
    """An opened attempt, and the day's and month's committed + reserved spend including it (for the alerts)."""
    attempt: Attempt
    day_used_usd: float
    month_used_usd: float


class Ledger:
    def __init__(self, db: Database, caps: Budget) -> None:
        self.db = db
        self.caps = caps
        self.zone = ZoneInfo(caps.timezone)
        self.alerts = BudgetAlerts(db, caps)

    def periods(self, at: datetime) -> tuple[str, str]:
        local = at.astimezone(self.zone)
        return local.strftime("%Y-%m-%d"), local.strftime("%Y-%m")

    async def reserve(self, conn: Transaction, job_id: int, provider: str, provider_type: str,
                      estimate_usd: float, limits: ProviderLimits = ProviderLimits(),
                      scene: int | None = None) -> Reservation:
        """Check the provider's limits and every cap, and reserve the estimate, inside the caller's write
        transaction (the claim's, so a job is never leased without its money set aside).

        A clip for one `scene`, or the speech for the video (provider type VOICE), counts against the per-video cap
        with everything the job's other attempts were charged or hold reserved, and a whole video with its speech:
        the cap is on the video, however many tasks make it.

        The estimate is added to the day's and month's totals first and the new totals checked against the caps
        (which holds those rows locked until the transaction ends, so reservations from every process take turns);
        over a cap, it is taken back before the transaction ends, so nobody ever sees it.
        Raises ProviderBusy or BudgetExceeded, having changed nothing."""
        now = utcnow()
        day, month = self.periods(now)
        await _check_limits(conn, provider, limits, now)
        video_usd = estimate_usd + (await conn.execute(
            _JOB_SPEND if scene is not None or provider_type == VOICE else _JOB_VOICE_SPEND, {"job_id": job_id})
        ).scalar_one()
        day_used, month_used = await self._add_under_caps(conn, provider, estimate_usd, day, month, video_usd)
        attempt_id = inserted_id(await conn.execute(_INSERT_ATTEMPT, {
            "job_id": job_id, "provider": provider, "provider_type": provider_type, "state": AttemptState.RESERVED,
            "estimated_cost_usd": estimate_usd, "started_at": now, "scene": scene}))
        attempt = Attempt(attempt_id, job_id, provider, estimate_usd, day, month, scene, provider_type)
        await conn.execute(*_ledger_row(attempt, LedgerKind.RESERVE, estimate_usd, now))
        return Reservation(attempt, day_used, month_used)

    async def _add_under_caps(self, conn: Transaction, payee: str, estimate_usd: float, day: str, month: str,
                              video_usd: float | None) -> tuple[float, float]:
        """The estimate added to the day's and month's totals, which must stay under their caps (and `video_usd`,
        the video's spend with it, under the per-video cap); the new totals. Over a cap, it is taken back and
        BudgetExceeded raised."""
        periods = (f"day:{day}", f"month:{month}")
        totals: list[float] = []
        for period in periods:  # the day's row, then the month's: every writer locks them in this order
            total = (await conn.execute(_ADD_TO_TOTAL_RETURNING, {"net": estimate_usd, "one": period})).scalar()
            if total is None:  # the period's first reservation (maybe in two processes)
                await conn.execute(_ENSURE_TOTAL, {"period": period})
                total = (await conn.execute(_ADD_TO_TOTAL_RETURNING, {"net": estimate_usd, "one": period})
                         ).scalar_one()
            totals.append(total)
        checks = [("daily", totals[0], self.caps.daily_limit_usd), ("monthly", totals[1], self.caps.monthly_limit_usd)]
        if video_usd is not None:
            checks.insert(0, ("per-video", video_usd, self.caps.per_video_limit_usd))
        for label, used, cap in checks:
            if used > cap + CENT:
                for period in periods:
                    await conn.execute(_ADD_TO_TOTAL, {"net": -estimate_usd, "one": period})
                raise BudgetExceeded(
                    f"{payee}: ${estimate_usd:.2f} would exceed the {label} cap "
                    f"(${used - estimate_usd:.2f} of ${cap:.2f} used)", label)
        return totals[0], totals[1]

    async def reserve_call(self, service: str, subject: str, estimate_usd: float) -> ServiceCall:
        """A paid call that is no video's (`service` for `subject`): its estimate reserved under the daily and
        monthly caps, in a transaction of its own, before the call is made; its budget alerts raised. Raises
        BudgetExceeded, having changed nothing."""
        async def reserve(conn: Transaction) -> tuple[ServiceCall, float, float]:
            now = utcnow()
            day, month = self.periods(now)
            day_used, month_used = await self._add_under_caps(conn, service, estimate_usd, day, month, None)
            call_id = inserted_id(await conn.execute(insert(service_calls), {
                "service": service, "subject": subject, "state": AttemptState.RESERVED,
                "estimated_cost_usd": estimate_usd, "budget_day": day, "budget_month": month, "started_at": now}))
            return ServiceCall(call_id, service, estimate_usd, day, month), day_used, month_used

        call, day_used, month_used = await self.db.retrying(reserve)
        if estimate_usd:
            await self.alerts.check(call.budget_day, day_used, call.budget_month, month_used)
        return call

    async def settle_call(self, call: ServiceCall, charged_usd: float, error: str | None = None,
                          error_class: ErrorClass | None = None) -> None:
        """End a paid call: done with what it cost, or failed with `error` (and what it may have cost); its
        reservation replaced by that in the totals, once (a commit whose answer was lost is not applied again)."""
        async def settle(conn: Transaction) -> None:
            closed = await conn.execute(update(service_calls).where(
                service_calls.c.id == call.id, service_calls.c.state == AttemptState.RESERVED).values(
                state=AttemptState.DONE if error is None else AttemptState.FAILED, actual_cost_usd=charged_usd,
                error=error, error_class=error_class, finished_at=utcnow()).returning(service_calls.c.id))
            if closed.first() is None:
                raise AttemptClosed(f"paid call {call.id} ({call.service}) was settled already")
            for period in (f"day:{call.budget_day}", f"month:{call.budget_month}"):
                await conn.execute(_ADD_TO_TOTAL, {"net": charged_usd - call.estimate_usd, "one": period})

        await self.db.write(settle)

    async def call_may_be_billed(self, service: str, subject: str) -> bool:
        """Whether a call of `service` for `subject` may have been billed without its answer coming back (a stop
        left it reserved, or its answer was lost): it is not made again, so nothing is paid for twice."""
        rows = await self.db.fetch_all(select(service_calls.c.id).where(
            service_calls.c.service == service, service_calls.c.subject == subject,
            (service_calls.c.state == AttemptState.RESERVED) | (service_calls.c.error_class == ErrorClass.UNKNOWN))
            .limit(1))
        return bool(rows)

    async def alert(self, reservation: Reservation) -> None:
        """After the reservation's transaction: raise the budget alerts it crossed (each once per period)."""
        attempt = reservation.attempt
        if attempt.estimate_usd:
            await self.alerts.check(attempt.budget_day, reservation.day_used_usd, attempt.budget_month,
                                    reservation.month_used_usd)

    async def advance(self, attempt: Attempt, state: AttemptState, guard: Step | None = None, **fields: object) -> None:
        """Persist the open attempt's next state (and e.g. its provider task id) before acting on it, behind
        `guard` (the job's lease)."""
        async def step(conn: Transaction) -> None:
            if (await conn.execute(_UPDATE_OPEN, {"attempt_id": attempt.id, "state": state, **fields})).first() is None:
                raise AttemptClosed(f"attempt {attempt.id} of job {attempt.job_id} was settled already")

        await self.db.write(*_guarded(guard), step)

    async def fail(self, attempt: Attempt, error_class: str, error: str, charged_usd: float = 0.0,
                   guard: Step | None = None) -> None:
        """End the attempt failed; `error_class` is an ErrorClass, or the name of the error that failed a paid
        delivery (a MediaError)."""
        await self.close(attempt, AttemptState.FAILED, charged_usd, guard, error_class=error_class, error=error)

    async def unfinished(self, job_id: int) -> list[tuple[Attempt, str, str | None]]:
        """The job's attempts that a stop or crash left open (each with its state and task id), with their
        reservations: at most one for a whole video, one per scene for a Reel made scene by scene."""
        rows = await self.db.fetch_all(_with_reservation.where(attempts.c.job_id == job_id,
                                                               attempts.c.state.in_(OPEN_STATES)))
        return [(_attempt_of(row), row.state, row.provider_task_id) for row in rows]

    async def made_scenes(self, job_id: int) -> dict[int, tuple[Attempt, str]]:
        """The job's scenes whose clip was made and paid for: scene → its attempt and task id."""
        rows = await self.db.fetch_all(_with_reservation.where(
            attempts.c.job_id == job_id, attempts.c.state == AttemptState.DONE, attempts.c.scene.is_not(None)))
        return {row.scene: (_attempt_of(row), row.provider_task_id) for row in rows}

    async def voices_lost(self, job_id: int) -> set[str]:
        """The voice engines a call of which, for this job, may have been billed without its speech coming back
        (failed as `unknown`): not asked again for it, so no speech is paid for twice."""
        rows = await self.db.fetch_all(select(attempts.c.provider).where(
            attempts.c.job_id == job_id, attempts.c.provider_type == VOICE, attempts.c.state == AttemptState.FAILED,
            attempts.c.error_class == ErrorClass.UNKNOWN))
        return {row.provider for row in rows}

    async def charged(self, job_id: int) -> float:
        """What the job's attempts were charged, all together."""
        rows = await self.db.fetch_all(select(func.coalesce(func.sum(cost_ledger.c.amount_usd), 0.0)).where(
            cost_ledger.c.job_id == job_id, cost_ledger.c.kind == LedgerKind.CHARGE))
        return float(rows[0][0])

    async def close(self, attempt: Attempt, state: AttemptState, charged_usd: float, guard: Step | None = None,
                    **fields: str | None) -> None:
        """End an attempt: release its reservation and record the charge (if any), committed together."""
        await self.db.write(*_guarded(guard), self.settle(attempt, state, charged_usd, **fields))

    def settle(self, attempt: Attempt, state: AttemptState, charged_usd: float, **fields: str | None) -> Step:
        """The step that ends an attempt, for the caller to commit with its own writes (the job's end): it closes
        the attempt only if it is still open (else AttemptClosed undoes the transaction), so money is settled once."""

        async def step(conn: Transaction) -> None:
            now = utcnow()
            closed = await conn.execute(_UPDATE_OPEN, {"attempt_id": attempt.id, "state": state,
                                                      "actual_cost_usd": charged_usd, "finished_at": now, **fields})
            if closed.first() is None:
                raise AttemptClosed(f"attempt {attempt.id} of job {attempt.job_id} was settled already")
            entries = [(LedgerKind.RELEASE, -attempt.estimate_usd)]
            if charged_usd:
                entries.append((LedgerKind.CHARGE, charged_usd))
            for statement, parameters in _ledger_writes(attempt, entries, now):
                await conn.execute(statement, parameters)

        return step


async def _check_limits(conn: Transaction, provider: str, limits: ProviderLimits, now: datetime) -> None:
    """Count the provider's tasks in flight and requests in the last minute, holding its row: a second process
    counting at the same time waits, then sees this reservation's attempt."""
    if limits == ProviderLimits():
        return
    await locked_row(conn, provider)
    if limits.max_concurrent is not None:
        in_flight = (await conn.execute(select(func.count()).select_from(attempts).where(
            attempts.c.provider == provider, attempts.c.state.in_(OPEN_STATES)))).scalar() or 0
        if in_flight >= limits.max_concurrent:
            raise ProviderBusy(f"{provider}: {in_flight} tasks in flight (max_concurrent {limits.max_concurrent})",
                               SLOT_RECHECK_S)
    if limits.requests_per_minute is not None:
        window = now - timedelta(minutes=1)
        recent = list((await conn.execute(select(attempts.c.started_at).where(
            attempts.c.provider == provider, attempts.c.started_at > window)
            .order_by(attempts.c.started_at))).scalars())
        if len(recent) >= limits.requests_per_minute:
            wait = (as_utc(recent[-limits.requests_per_minute]) - window).total_seconds()
            raise ProviderBusy(f"{provider}: {len(recent)} requests in the last minute "
                               f"(requests_per_minute {limits.requests_per_minute})", max(wait, 0.1))


def _attempt_of(row: Any) -> Attempt:
    return Attempt(row.id, row.job_id, row.provider, row.estimated_cost_usd, row.budget_day, row.budget_month,
                   row.scene, row.provider_type)


def _guarded(guard: Step | None) -> list[Step]:
    return [guard] if guard is not None else []


def _ledger_writes(attempt: Attempt, entries: list[tuple[LedgerKind, float]], now: datetime) -> list[Write]:
    """Ledger rows (kind, amount), and their sum added to the day's and month's running totals (whose rows the
    reservation made)."""
    net = sum(amount for _, amount in entries)
    totals: list[Write] = [(_ADD_TO_TOTAL, {"net": net, "one": period})  # day, then month, as reserve locks them
                           for period in (f"day:{attempt.budget_day}", f"month:{attempt.budget_month}")]
    return [*totals, *(_ledger_row(attempt, kind, amount, now) for kind, amount in entries)]


def _ledger_row(attempt: Attempt, kind: LedgerKind, amount: float, now: datetime) -> Write:
    return _INSERT_LEDGER, {"job_id": attempt.job_id, "attempt_id": attempt.id, "provider": attempt.provider,
                            "kind": kind, "amount_usd": amount, "budget_day": attempt.budget_day,
                            "budget_month": attempt.budget_month, "created_at": now}


# Built once: a statement made per call costs more Python than SQLite takes to run it.
# One period's row at a time, the day's before the month's: two writers locking both rows in one statement could
# take them in opposite orders and deadlock.
_ADD_TO_TOTAL = update(budget_totals).where(budget_totals.c.period == bindparam("one")).values(
    amount_usd=budget_totals.c.amount_usd + bindparam("net", type_=Float))
_ADD_TO_TOTAL_RETURNING = _ADD_TO_TOTAL.returning(budget_totals.c.amount_usd)
_ENSURE_TOTAL = text("INSERT INTO budget_totals (period, amount_usd) VALUES (:period, 0) "
                     "ON CONFLICT (period) DO NOTHING")
_INSERT_ATTEMPT = insert(attempts)
_JOB_SPEND = select(func.coalesce(func.sum(cost_ledger.c.amount_usd), 0.0)).where(
    cost_ledger.c.job_id == bindparam("job_id"))
_JOB_VOICE_SPEND = _JOB_SPEND.where(cost_ledger.c.attempt_id.in_(
    select(attempts.c.id).where(attempts.c.job_id == bindparam("job_id"), attempts.c.provider_type == VOICE)))
_with_reservation = select(attempts, cost_ledger.c.budget_day, cost_ledger.c.budget_month).join(
    cost_ledger, (cost_ledger.c.attempt_id == attempts.c.id) & (cost_ledger.c.kind == LedgerKind.RESERVE))
_INSERT_LEDGER = insert(cost_ledger)
# SET: the keys passed. Only an open attempt changes: a settled one is never reopened or settled twice.
_UPDATE_OPEN = update(attempts).where(attempts.c.id == bindparam("attempt_id"), attempts.c.state.in_(OPEN_STATES)
                                       ).returning(attempts.c.id)
