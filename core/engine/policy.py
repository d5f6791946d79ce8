"""The error policy, as one table: for each class of provider error, what the runner does about it.

    class              retries here        the provider           the job          while polling a created task
    temporary          retry.max_retries   breaker counts it      fails over       polls again, with backoff
    unknown            1                   breaker counts it      fails over       polls again, with backoff
    rate_limit         0                   paused (Retry-After)   back in queue    polls again, with backoff
    billing, auth      0                   disabled               fails over       keeps the task for later
    content_violation  0                   —                      fails            ends the attempt
    invalid_request    0                   breaker counts it      fails over       gives the task up

"Retries here" are repeats of a create call that definitely failed; a create whose outcome is unknown is looked up,
never repeated. A task given up is cancelled where the API allows, and its estimate counts as spent.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import ErrorClass


class OnProvider(StrEnum):
    """What an error does to the provider's health, shared by every worker."""

    NOTHING = "nothing"
    """The error is about the prompt, not the provider."""
    COUNT_FAILURE = "count_failure"
    """Counted by the circuit breaker: `retry.breaker_failures` in a row pause it for `retry.breaker_cooldown_s`."""
    PAUSE = "pause"
    """Paused for the rate limit's Retry-After (60 s when it gives none)."""
    DISABLE = "disable"
    """Disabled for `retry.disable_hours` (until `enable`): nothing will work until the operator acts."""


class OnJob(StrEnum):
    """What happens to the job once the attempt has ended with the error."""

    FAIL_OVER = "fail_over"
    """The next provider in the failover order gets its one try."""
    REQUEUE = "requeue"
    """Back in the queue, no provider tried counted against it: another provider, or this one later, takes it."""
    FAIL = "fail"
    """The job fails: the same prompt would be refused anywhere."""


class WhilePolling(StrEnum):
    """What a failed poll of a task the provider already accepted (and may bill) does."""

    POLL_AGAIN = "poll_again"
    """The error says nothing about the task: poll through it with backoff, until the task's deadline."""
    KEEP_TASK = "keep_task"
    """The key or account is refused: the provider is disabled, the attempt stays open to be polled when it is back."""
    END_ATTEMPT = "end_attempt"
    """The task itself was refused: the attempt ends with the error."""
    GIVE_UP = "give_up"
    """The task is abandoned: cancelled where the API allows, its estimate counted as spent."""


@dataclass(frozen=True)
class ErrorPolicy:
    """The runner's answer to one error class."""

    retries: int | None  # create-call repeats on the same provider; None: as many as `retry.max_retries`
    on_provider: OnProvider
    on_job: OnJob
    while_polling: WhilePolling


POLICY: dict[ErrorClass, ErrorPolicy] = {
    ErrorClass.TEMPORARY: ErrorPolicy(None, OnProvider.COUNT_FAILURE, OnJob.FAIL_OVER, WhilePolling.POLL_AGAIN),
    ErrorClass.UNKNOWN: ErrorPolicy(1, OnProvider.COUNT_FAILURE, OnJob.FAIL_OVER, WhilePolling.POLL_AGAIN),
    ErrorClass.RATE_LIMIT: ErrorPolicy(0, OnProvider.PAUSE, OnJob.REQUEUE, WhilePolling.POLL_AGAIN),
    ErrorClass.BILLING: ErrorPolicy(0, OnProvider.DISABLE, OnJob.FAIL_OVER, WhilePolling.KEEP_TASK),
    ErrorClass.AUTH: ErrorPolicy(0, OnProvider.DISABLE, OnJob.FAIL_OVER, WhilePolling.KEEP_TASK),
    ErrorClass.CONTENT_VIOLATION: ErrorPolicy(0, OnProvider.NOTHING, OnJob.FAIL, WhilePolling.END_ATTEMPT),
    ErrorClass.INVALID_REQUEST: ErrorPolicy(0, OnProvider.COUNT_FAILURE, OnJob.FAIL_OVER, WhilePolling.GIVE_UP),
}

