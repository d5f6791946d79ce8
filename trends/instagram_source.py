"""Trend source `instagram`: top posts of hashtags and recent Reels of profiles, through instaloader.

Instagram serves hashtags only to logged-in sessions, and flags automated ones, so this source loads a session file
(made once with `instaloader --login USER`, or here from INSTAGRAM_USERNAME/INSTAGRAM_PASSWORD) of a scraping account
that never publishes. It keeps instaloader's own rate controller, but a pause longer than `max_wait_s` ends the source
for this cycle instead of stalling the daemon. A login wall, a checkpoint, "Please wait a few minutes" or a 429 is a
block: one log line, and the source rests `breaker_hours` (trends/collector.py).

instaloader is blocking (requests), so it runs in a worker thread; when the collector's time limit passes, the thread
stops before its next request.
"""
from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from itertools import islice
from typing import Any

import instaloader
from instaloader.exceptions import (
    AbortDownloadException,
    BadCredentialsException,
    ConnectionException,
    InstaloaderException,
    LoginException,
    LoginRequiredException,
    QueryReturnedNotFoundException,
)
from loguru import logger

from core.home import Home
from core.secrets import Secrets
from core.settings import InstagramSource
from trends.models import Trend
from trends.sources import SourceBlocked, SourceFailed, TrendSource

BLOCK_SIGNS = ("please wait a few minutes", "login_required", "checkpoint", "challenge_required", "feedback_required",
               "logged out", "429", "too many requests")


class RateWaitTooLong(Exception):
    """instaloader's rate controller wants a longer pause than the daemon allows this source."""


class Stopped(Exception):
    """The collector gave up on this fetch (its time limit passed)."""


class _BoundedRateController(instaloader.RateController):
    """instaloader's sliding-window controller, but a pause over `max_wait_s` (or a stop) raises instead of
    blocking the thread."""

    def __init__(self, context: Any, max_wait_s: float, stop: threading.Event) -> None:
        super().__init__(context)
        self._max_wait_s = max_wait_s
        self._stop = stop

    def sleep(self, secs: float) -> None:
        if secs > self._max_wait_s:
            raise RateWaitTooLong(f"instaloader's rate controller asks to wait {secs:.0f} s")
        if self._stop.wait(secs):
            raise Stopped()

    def wait_before_query(self, query_type: str) -> None:
        if self._stop.is_set():
            raise Stopped()
        super().wait_before_query(query_type)


class InstagramPosts(TrendSource):
    name = "instagram"
    settings: InstagramSource

    def __init__(self, settings: InstagramSource, home: Home, secrets: Secrets) -> None:
        super().__init__(settings)
        self._session_file = home.resolve(settings.session_file)
        self._secrets = secrets

    async def fetch(self) -> list[Trend]:
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self._fetch_blocking, stop)
        finally:
            stop.set()

    def _fetch_blocking(self, stop: threading.Event) -> list[Trend]:
        loader = self._loader(stop)
        try:
            self._log_in(loader)
            found: list[Trend | None] = []
            for tag in self.settings.hashtags:
                found += self._guarded(f"#{tag}", lambda: [
                    self._trend(post, self.settings.theme or tag)
                    for post in islice(instaloader.Hashtag.from_name(loader.context, tag).get_top_posts(),
                                       self.settings.posts_per_hashtag)])
            for name in self.settings.profiles:
                found += self._guarded(f"@{name}", lambda: [
                    self._trend(post, self.settings.theme or "instagram")
                    for post in islice(instaloader.Profile.from_username(loader.context, name).get_reels(),
                                       self.settings.reels_per_profile)])
            return [trend for trend in found if trend is not None]
        finally:
            loader.close()

    def _loader(self, stop: threading.Event) -> instaloader.Instaloader:
        settings = self.settings
        loader = instaloader.Instaloader(
            sleep=settings.polite_sleep, quiet=True, max_connection_attempts=settings.max_connection_attempts,
            request_timeout=settings.timeout_s, download_pictures=False, download_videos=False,
            download_comments=False, save_metadata=False,
            rate_controller=lambda context: _BoundedRateController(context, settings.max_wait_s, stop))
        # instaloader prints its complaints to stderr; the daemon keeps them in its own log instead.
        loader.context.error = lambda msg, repeat_at_end=True: logger.debug(f"instaloader: {msg}")  # type: ignore
        return loader

    def _log_in(self, loader: instaloader.Instaloader) -> None:
        username = self.settings.username or self._secrets.get("INSTAGRAM_USERNAME") or ""
        password = self._secrets.get("INSTAGRAM_PASSWORD")
        if username and self._session_file.is_file():
            loader.load_session_from_file(username, str(self._session_file))
            return
        if not (username and password):
            raise SourceFailed(f"no session: put an instaloader session file at {self._session_file} and set "
                               "trends.sources.instagram.username, or set INSTAGRAM_USERNAME and INSTAGRAM_PASSWORD")
        try:
            loader.login(username, password)
        except (BadCredentialsException, LoginException, ConnectionException) as exc:
            raise SourceBlocked(f"login as {username} failed: {_first_line(exc)}", self._rest_s) from None
        self._session_file.parent.mkdir(parents=True, exist_ok=True)
        loader.save_session_to_file(str(self._session_file))
        os.chmod(self._session_file, 0o600)  # the cookies are as good as the password

    def _guarded(self, what: str, read: Callable[[], list[Trend | None]]) -> list[Trend | None]:
        """Read one hashtag or profile: a missing one is skipped; a block or a long rate wait ends the source."""
        try:
            return read()
        except RateWaitTooLong as exc:
            raise SourceBlocked(f"{what}: {exc}", self._rest_s) from None
        except Stopped:
            raise SourceFailed(f"{what}: stopped at the time limit") from None
        except (QueryReturnedNotFoundException, instaloader.ProfileNotExistsException) as exc:
            logger.warning(f"trend source instagram: {what} not found, skipped ({_first_line(exc)})")
            return []
        except (LoginRequiredException, AbortDownloadException) as exc:
            raise SourceBlocked(f"{what}: {_first_line(exc)}", self._rest_s) from None
        except (InstaloaderException, KeyError, TypeError, ValueError) as exc:
            message = _first_line(exc)
            if any(sign in message.lower() for sign in BLOCK_SIGNS):
                raise SourceBlocked(f"{what}: {message}", self._rest_s) from None
            raise SourceFailed(f"{what}: {type(exc).__name__}: {message}") from None

    def _trend(self, post: instaloader.Post, theme: str) -> Trend | None:
        caption = " ".join((post.caption or "").split())
        if len(caption) < 3:
            return None
        # A hashtag's top posts carry their comment count in the listing; asking `post.comments` would cost one more
        # request per post (instaloader falls back to the post's full metadata).
        comments = post._node.get("comments")  # noqa: SLF001
        return Trend(caption=caption, hashtags=post.caption_hashtags, theme=theme, likes=post.likes or 0,
                     comments=comments if isinstance(comments, int) else post.comments,
                     views=(post.video_view_count or 0) if post.is_video else 0, timestamp=post.date_utc,
                     source=self.name, url=f"https://www.instagram.com/p/{post.shortcode}/", is_video=post.is_video)

    @property
    def _rest_s(self) -> float:
        return self.settings.breaker_hours * 3600


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
