"""Shorts through the YouTube Data API: `videos.insert` with Google's resumable upload protocol, as the channel
whose OAuth refresh token the environment holds.

The protocol fits the publisher contract: starting a session (`create`, a POST with the video resource) posts
nothing and hands back the session's URL, kept as the container; `state` asks the session how much it holds (`PUT`
with `Content-Range: bytes */SIZE`: 308 with `Range` while incomplete, 200/201 with the video once whole, 404 once
expired); `publish` uploads the rest from there — the last byte is what posts the video — so an upload cut off by a
crash resumes where it stopped and a finished one is found, never sent twice. A vertical video of 3 minutes or less
is a Short. Errors come as `{"error": {"code", "message", "errors": [{"reason"}]}}`: `quotaExceeded` and
`uploadLimitExceeded` wait for the quota's day (it restarts at midnight Pacific), 401/403 are auth, 5xx temporary.
With `publish_at`, a Short is uploaded as soon as it is scheduled, private with `status.publishAt` at its slot, and
YouTube makes it public then.
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from content.publishers.contract import (
    Container,
    ContainerState,
    Insights,
    Posted,
    Publisher,
    PublishError,
    Quota,
    Reel,
)
from core.bounds import MAX_COUNT
from core.errors import ErrorClass
from core.secrets import Secrets
from core.settings import YouTubePublishing

API = "https://www.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
QUOTA_REASONS = {"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
TITLE_LIMIT = 100
DESCRIPTION_LIMIT = 5000
INCOMPLETE = 308  # "Resume Incomplete"


class YouTubePublisher(Publisher):
    platform = "youtube"
    poll_interval_s = 5.0  # nothing to wait for between a session and its upload

    def __init__(self, settings: YouTubePublishing, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.token_name = settings.refresh_token_env
        self.base_url = (settings.base_url or API).rstrip("/")
        self._token: tuple[str, float] | None = None  # an access token and when it stops working
        self._session: aiohttp.ClientSession | None = None

    @property
    def schedules_ahead(self) -> bool:
        return self.settings.publish_at

    def missing_requirements(self) -> list[str]:
        names = (self.settings.client_id_env, self.settings.client_secret_env, self.settings.refresh_token_env)
        return [name for name in names if not self.secrets.has(name)]

    async def quota(self) -> Quota | None:
        return None  # the Data API's units are not readable; quotaExceeded says when they ran out

    async def create(self, reel: Reel) -> str:
        size = reel.video.stat().st_size
        first, _, rest = reel.caption.partition("\n")
        video_status: dict[str, Any] = {"privacyStatus": self.settings.privacy,
                                        "selfDeclaredMadeForKids": self.settings.made_for_kids,
                                        "containsSyntheticMedia": reel.ai_generated}
        if reel.publish_at is not None:  # YouTube holds it private and makes it public then
            video_status.update(privacyStatus="private", publishAt=reel.publish_at.astimezone(
                timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        body = {"snippet": {"title": first.strip()[:TITLE_LIMIT] or "Short", "description": reel.caption[
            :DESCRIPTION_LIMIT], "categoryId": self.settings.category_id}, "status": video_status}
        status, headers, _ = await self._request(
            "POST", f"{self.base_url}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"}, json=body,
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": "video/mp4"})
        location = headers.get("Location", "")
        if not location.startswith("http"):
            raise PublishError("youtube: the upload session came back without its URL", ErrorClass.TEMPORARY)
        return f"{size}|{location}"

    async def state(self, container_id: str) -> Container:
        received, video = await self._received(container_id)
        if video is not None:
            return Container(ContainerState.PUBLISHED)
        if received is None:
            return Container(ContainerState.EXPIRED)
        return Container(ContainerState.READY)

    async def publish(self, container_id: str, reel: Reel) -> str:
        size, url = _session(container_id)
        received, video = await self._received(container_id)
        if video is not None:
            return video
        if received is None:
            raise PublishError("youtube: the upload session expired", ErrorClass.TEMPORARY)
        data = await asyncio.to_thread(_read_from, reel.video, received)  # the rest, from where the session stands
        status, _, answer = await self._request(
            "PUT", url, data=data, headers={"Content-Type": "video/mp4", "Content-Range":
                                            f"bytes {received}-{size - 1}/{size}"}, answers=(INCOMPLETE,))
        video_id = answer.get("id") if isinstance(answer, dict) else None
        if status == INCOMPLETE or not isinstance(video_id, str):
            raise PublishError("youtube: the upload stopped before its end", ErrorClass.TEMPORARY)
        return video_id

    async def find(self, container_id: str, reel: Reel) -> str | None:
        return (await self._received(container_id))[1]

    async def posted(self, media_id: str) -> Posted:
        return Posted(media_id, f"https://www.youtube.com/shorts/{media_id}")

    async def insights(self, media_id: str) -> Insights | None:
        _, _, answer = await self._request("GET", f"{self.base_url}/youtube/v3/videos",
                                           params={"part": "statistics", "id": media_id})
        items = answer.get("items") if isinstance(answer, dict) else None
        stats = items[0].get("statistics") if isinstance(items, list) and items and isinstance(items[0], dict) else None
        if not isinstance(stats, dict):
            return None
        return Insights(_count(stats, "viewCount"), 0, _count(stats, "likeCount"), _count(stats, "commentCount"),
                        0, 0)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- the upload session -------------------------------------------------------------------------------------

    async def _received(self, container_id: str) -> tuple[int | None, str | None]:
        """How many bytes the session holds and, once whole, the video's id; (None, None) once it expired."""
        size, url = _session(container_id)
        status, headers, answer = await self._request(
            "PUT", url, headers={"Content-Range": f"bytes */{size}"}, data=b"", answers=(INCOMPLETE, 404, 410))
        if status in (404, 410):
            return None, None
        if status != INCOMPLETE:
            video = answer.get("id") if isinstance(answer, dict) else None
            if not isinstance(video, str):
                raise PublishError("youtube: a finished upload answered without its video", ErrorClass.TEMPORARY)
            return size, video
        held = headers.get("Range", "")  # "bytes=0-999": the first 1000 bytes
        try:
            return (int(held.rpartition("-")[2]) + 1 if held else 0), None
        except ValueError:
            return 0, None  # an unreadable Range: send it all again

    # ---- the one HTTP boundary ----------------------------------------------------------------------------------

    async def _access_token(self) -> str:
        """An access token from the refresh token, renewed a minute before it runs out (Google's last an hour)."""
        if self._token is not None and self._token[1] > time.time() + 60:
            return self._token[0]
        form = {"grant_type": "refresh_token", "refresh_token": self.secrets.get(self.settings.refresh_token_env),
                "client_id": self.secrets.get(self.settings.client_id_env),
                "client_secret": self.secrets.get(self.settings.client_secret_env)}
        status, _, answer = await self._send("POST", self.settings.token_url or TOKEN_URL, {}, data=form)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if status >= 400 or not isinstance(token, str):
            reason = answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
            raise PublishError(f"youtube: the refresh token was refused ({reason or f'HTTP {status}'})",
                               ErrorClass.AUTH if status in (400, 401) else ErrorClass.TEMPORARY)
        lasts = answer.get("expires_in")
        expires = time.time() + (float(lasts) if isinstance(lasts, (int, float)) and 0 < lasts < 86_400 else 3600.0)
        self.secrets.register_token(token, expires)  # masked wherever it might be echoed
        self._token = (token, expires)
        return token

    async def _request(self, method: str, url: str, answers: tuple[int, ...] = (),
                       headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any, Any]:
        """An API call with the channel's access token; `answers` are statuses that are answers, not errors."""
        auth = {"Authorization": f"Bearer {await self._access_token()}", **(headers or {})}
        status, answer_headers, answer = await self._send(method, url, auth, **kwargs)
        if status >= 400 and status not in answers:
            raise api_error(status, answer)
        return status, answer_headers, answer

    async def _send(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> tuple[int, Any, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        try:
            async with self._session.request(method, url, headers=headers, **kwargs) as response:
                body = await response.read()
                try:
                    answer = self.secrets.redact_answer(json.loads(body)) if body.strip() else None
                except ValueError:
                    answer = None
                return response.status, response.headers, answer
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise PublishError(f"youtube: {method} failed ({type(exc).__name__})", ErrorClass.TEMPORARY) from None


def api_error(status: int, answer: Any) -> PublishError:
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)} if isinstance(
        error.get("errors"), list) else set()
    detail = error.get("message") if isinstance(error.get("message"), str) else ""
    message = f"youtube: HTTP {status}" + (f": {detail[:300]}" if detail else "")
    if reasons & QUOTA_REASONS:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=until_quota_day())
    if reasons & RATE_REASONS or status == 429:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=600.0)
    if status in (401, 403):
        return PublishError(message, ErrorClass.AUTH)
    if status >= 500:
        return PublishError(message, ErrorClass.TEMPORARY)
    return PublishError(message, ErrorClass.INVALID_REQUEST)


def until_quota_day() -> float:
    """Seconds until the Data API's quota restarts: midnight in California."""
    pacific = datetime.now(ZoneInfo("America/Los_Angeles"))
    midnight = datetime.combine(pacific.date() + timedelta(days=1), datetime.min.time(), tzinfo=pacific.tzinfo)
    return (midnight - pacific).total_seconds() + 60


def _session(container_id: str) -> tuple[int, str]:
    size, _, url = container_id.partition("|")
    return int(size), url


def _read_from(path: Path, offset: int) -> bytes:
    with open(path, "rb") as file:
        file.seek(offset)
        return file.read()


def _count(stats: dict[str, Any], name: str) -> int:
    """A statistic as YouTube sends it (a decimal string), 0 when missing or garbage."""
    try:
        return max(0, min(int(str(stats.get(name, "0"))), MAX_COUNT))
    except ValueError:
        return 0
