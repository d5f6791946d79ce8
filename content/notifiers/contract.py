"""The contract every notifier (a webhook, a chat bot) fulfils; the engine keeps the deliveries and their retries.

A notifier sends one event once per call and raises NotifyError when it did not arrive: `retry` says whether
trying again later may work (a 5xx, a timeout, a rate limit, which gives `retry_after_s`), or never will (a 4xx: a
wrong URL, a bot removed from its chat). Notifiers never touch the database.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.bounds import wait_s
from core.errors import DaemonError


class NotifyError(DaemonError):
    def __init__(self, message: str, retry: bool, retry_after_s: float | None = None) -> None:
        self.retry = retry
        self.retry_after_s = wait_s(retry_after_s)
        super().__init__(message)


@dataclass(frozen=True)
class Event:
    id: int  # the same on every try: a receiver that sees it twice drops the second
    name: str  # job.done, job.failed, budget.alert, provider.disabled, post.published
    created_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """The operator's answer to a brief under review, given through a notifier (a chat's button)."""

    job_id: int
    approve: bool
    handle: dict[str, Any]  # what the notifier needs to answer it (the button press, the message)


class Notifier(ABC):
    destination: str  # as deliveries record it: never a secret (a URL is recorded by its hash)
    events: frozenset[str]  # the events it is told of

    @abstractmethod
    def missing_requirements(self) -> list[str]:
        """What it lacks to send (an environment variable); empty when it can."""

    @abstractmethod
    async def send(self, event: Event) -> None:
        """Deliver `event`, or raise NotifyError."""

    async def decisions(self) -> list[Decision]:
        """The briefs approved or rejected through it since it was last asked (a notifier with buttons)."""
        return []

    async def settle(self, decision: Decision, outcome: str) -> None:
        """Tell the operator what came of their decision."""

    async def close(self) -> None:
        """Release its connections."""
