"""The contract every publisher (a platform's posting API) fulfils; the engine only ever sees this.

Posting is a few steps the engine persists one by one, so that a crash between any two never posts a video twice:
`create` a container for the Reel (nothing is posted yet), wait until the platform has processed it (`state`), then
`publish` it — the one call that posts. A container publishes once at most (the platform refuses a second time), and
`find` tells whether it already has, so a publish whose answer was lost is looked up, never repeated blindly.
Publishers raise PublishError with the engine's error classes; they never touch the database.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from core.bounds import wait_s
from core.errors import DaemonError, ErrorClass


class PublishError(DaemonError):
    """A platform refused or failed a publishing call, classified like a provider's errors: a rate limit pauses the
    account's publishing for `retry_after_s`, an auth error disables it until `enable`, a temporary one is tried again
    later, anything else fails the post with this line."""

    def __init__(self, message: str, error_class: str = ErrorClass.UNKNOWN, *,
                 retry_after_s: float | None = None) -> None:
        self.error_class = ErrorClass(error_class)
        self.retry_after_s = wait_s(retry_after_s)
        super().__init__(message)


@dataclass(frozen=True)
class Reel:
    """A delivered video as a platform is given it."""

    video: Path
    cover: Path | None
    caption: str  # with its hashtags
    video_url: str = ""  # where the platform fetches it from, for one that pulls (Instagram)
    cover_url: str = ""
    ai_generated: bool = True  # the platform's AI disclosure, where it has a field for it
    publish_at: datetime | None = None  # for a platform that schedules ahead: when it makes the post public


class ContainerState(StrEnum):
    PROCESSING = "processing"  # the platform is still fetching or transcoding it
    READY = "ready"  # processed: it may be published
    PUBLISHED = "published"  # already posted (a publish whose answer was lost landed)
    EXPIRED = "expired"  # not published in time: a new container is needed
    FAILED = "failed"  # the platform could not process it


@dataclass(frozen=True)
class Container:
    state: ContainerState
    detail: str = ""  # the platform's own words for a failure


@dataclass(frozen=True)
class Quota:
    """Posts the account may still publish in the platform's rolling window."""

    used: int
    total: int
    window_s: float

    @property
    def full(self) -> bool:
        return self.used >= self.total


@dataclass(frozen=True)
class Posted:
    media_id: str
    permalink: str


@dataclass(frozen=True)
class Insights:
    """A post's lifetime metrics as the platform counts them now."""

    views: int
    reach: int
    likes: int
    comments: int
    saves: int
    shares: int


class Publisher(ABC):
    """One account on one platform."""

    platform: str  # as `posts.platform` records it
    pulls_from_url = False  # the platform fetches the video from a link (which media hosting provides)
    poll_interval_s = 60.0  # between two looks at a video the platform is processing
    processing_timeout_s = 1800.0  # a video not processed by then is given up
    token_name = ""  # the environment variable (or .env entry) of its token

    @property
    def schedules_ahead(self) -> bool:
        """It takes a post before its slot and makes it public at `Reel.publish_at` itself (so a post is uploaded
        as soon as it is scheduled, and goes out on time whether or not the daemon runs then)."""
        return False

    @abstractmethod
    def missing_requirements(self) -> list[str]:
        """What it lacks to post (an environment variable, a setting); empty when it can."""

    @abstractmethod
    async def quota(self) -> Quota | None:
        """The account's publishing quota now, where the platform tells it."""

    @abstractmethod
    async def create(self, reel: Reel) -> str:
        """Hand the platform the Reel to process; returns its container's id. Posts nothing."""

    @abstractmethod
    async def state(self, container_id: str) -> Container:
        """Where the container stands."""

    @abstractmethod
    async def publish(self, container_id: str, reel: Reel) -> str:
        """Post the processed container (of `reel`); returns the post's media id."""

    @abstractmethod
    async def find(self, container_id: str, reel: Reel) -> str | None:
        """The media id of the post made from this container, when it was published."""

    @abstractmethod
    async def posted(self, media_id: str) -> Posted:
        """The post's public details."""

    @abstractmethod
    async def insights(self, media_id: str) -> Insights | None:
        """The post's metrics now; None when the platform has none to give yet (too few viewers, a delay)."""

    async def refreshed_token(self) -> tuple[str, float] | None:
        """A new token for the account and the seconds it lasts, where the platform lets a token be renewed by
        itself; None where it need not or cannot be."""
        return None

    def replaced_token(self) -> tuple[str, float] | None:
        """A token the platform replaced the stored one with during this publisher's calls, and the seconds it
        lasts, once (the engine saves it at once); None when none was."""
        return None

    async def close(self) -> None:
        """Release the publisher's connections."""
