"""The engine's state machines, named once: a job's status, an attempt's state, a ledger row's kind.

The values are the strings the database stores (`video_jobs.status`, `attempts.state`, `cost_ledger.kind`), so a
row read back compares equal to its member and nothing needed migrating.

    job:      queued ⇄ running → done | failed | cancelled;  queued ⇄ waiting_budget | waiting_provider;
              awaiting_approval → queued | cancelled
    attempt:  reserved → submitting → submitted → polling → downloading → optimizing → done | failed | cancelled
    money:    reserve (+estimate) … release (−estimate) [+ charge (+actual)]
    post:     scheduled → processing → publishing → published | failed;  processing → scheduled (expired)
"""
from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job stands in the queue."""

    QUEUED = "queued"
    """Waiting for a worker: runnable now, or once its `not_before` passes (a rate limit, a machine fault)."""
    RUNNING = "running"
    """Leased to a worker whose heartbeat renews the lease; a dead worker's job comes back when the lease runs out."""
    DONE = "done"
    """Its video is delivered and its attempt settled: the end."""
    FAILED = "failed"
    """Nothing more will be tried; `error` says why: the end."""
    CANCELLED = "cancelled"
    """Stopped by `cancel`, its open attempt wound up and its reservation released: the end."""
    WAITING_BUDGET = "waiting_budget"
    """Its next attempt would exceed a cap; looked at again when a budget day or month begins."""
    WAITING_PROVIDER = "waiting_provider"
    """No configured provider can take it yet (a key unset, every one disabled); looked at again at each start and
    on `enable`."""
    AWAITING_APPROVAL = "awaiting_approval"
    """Its brief waits for the operator (the persona's `review_briefs`): approving queues it, rejecting cancels it;
    nothing is reserved or spent meanwhile, and its brief may be edited."""


PENDING = (JobStatus.QUEUED, JobStatus.WAITING_BUDGET, JobStatus.WAITING_PROVIDER,
           JobStatus.AWAITING_APPROVAL)  # counted against max_queue_size


class Cancellation(StrEnum):
    """What `cancel` did."""

    CANCELLED = "cancelled"
    """The job waited with nothing open: it is cancelled now."""
    REQUESTED = "requested"
    """Its worker is alive: it stops the job at its next step, winding up the open attempt."""
    RECONCILE = "reconcile"
    """It has an attempt to wind up and no live worker: handed back to the queue, marked, for the caller to claim and
    wind up now."""


class AttemptState(StrEnum):
    """One provider's try at a job. Each state is written before the step it names is taken, so a crash leaves the
    attempt in the state that says what may have happened at the provider."""

    RESERVED = "reserved"
    """Its estimate is set aside in the ledger; nothing was sent yet."""
    SUBMITTING = "submitting"
    """The create call may have gone out: after a crash the task is looked up by the attempt's key, never resent."""
    SUBMITTED = "submitted"
    """The provider accepted the task; its id is stored, so it is polled, never created again."""
    POLLING = "polling"
    """Waiting for the provider to finish the task (progress stored for `status`)."""
    DOWNLOADING = "downloading"
    """The task succeeded (and is billed): its file is being fetched."""
    OPTIMIZING = "optimizing"
    """The file is being made platform-ready and preflighted."""
    DONE = "done"
    """Delivered; the reservation released and the charge recorded."""
    FAILED = "failed"
    """Ended by an error (its class recorded); charged only when the provider may have billed it."""
    CANCELLED = "cancelled"
    """Closed without a charge: cancelled, or interrupted before anything was sent."""


OPEN_STATES = (AttemptState.RESERVED, AttemptState.SUBMITTING, AttemptState.SUBMITTED, AttemptState.POLLING,
               AttemptState.DOWNLOADING, AttemptState.OPTIMIZING)  # holding a reservation


class LedgerKind(StrEnum):
    """A row of the append-only cost ledger; a period's spend is the sum of its rows."""

    RESERVE = "reserve"
    """+estimate, written with the attempt before any provider call."""
    RELEASE = "release"
    """−estimate, when the attempt is settled."""
    CHARGE = "charge"
    """+actual, when the provider charged (or may have)."""


class PostState(StrEnum):
    """Where a delivered video stands on one platform (`posts.state`)."""

    SCHEDULED = "scheduled"
    """Waiting for its slot (or a rate limit, a full quota, a disabled account) to pass, with no container yet."""
    PROCESSING = "processing"
    """The platform has the video in a container and is processing it; nothing is posted."""
    PUBLISHING = "publishing"
    """Processed, and a publish is due or went out: before another is sent, the platform is asked whether it landed."""
    PUBLISHED = "published"
    """Posted: its media id and link are kept. The end."""
    FAILED = "failed"
    """Refused for good (the platform could not process it, a request it rejects); `error` says why. The end."""


POST_OPEN = (PostState.SCHEDULED, PostState.PROCESSING, PostState.PUBLISHING)
