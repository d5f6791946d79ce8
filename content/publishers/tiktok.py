"""Videos on TikTok through the Content Posting API's Direct Post, as the creator whose OAuth refresh token the
environment holds (scope video.publish).

The protocol fits the publisher contract: `create` asks the creator's posting options (`creator_info/query`: the
privacy levels it may use, its longest video) and initialises a FILE_UPLOAD post (`video/init`), which posts nothing
and hands back a publish id and an upload URL, kept as the container. `state` asks `status/fetch`: the bytes TikTok
holds tell an upload to finish (READY) from one TikTok is processing; PUBLISH_COMPLETE is a post, FAILED its reason.
`publish` PUTs the chunks TikTok does not hold yet, in order, each with its `Content-Range` — the last one is what
posts the video — then waits for the post. An app TikTok has not audited may only post SELF_ONLY (`privacy`).
Answers come as `{"data": {...}, "error": {"code", "message", "log_id"}}`: `rate_limit_exceeded` pauses a minute,
`spam_risk_too_many_posts` (the creator's daily cap) a day, `access_token_invalid` and `scope_not_authorized` are
auth, 5xx temporary. Access tokens last a day and come from the refresh token, which TikTok may rotate: a new one is
written to .env by the token renewal.
"""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

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
from core.settings import TikTokPublishing

API = "https://open.tiktokapis.com"
TITLE_LIMIT = 2200  # UTF-16 code units
CHUNK = 10 * 1024 * 1024  # within TikTok's 5-64 MB: a cut upload resumes from the last whole chunk
AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed", "auth_removed"}
DAILY_CAP_CODES = {"spam_risk_too_many_posts", "reached_active_user_cap"}
STATUS_POLL_S = 2.0  # between two status fetches while publish waits for the post (30 fetches a minute allowed)


class TikTokPublisher(Publisher):
    platform = "tiktok"
    poll_interval_s = 10.0  # TikTok processes a Reel-sized file in well under a minute

    def __init__(self, settings: TikTokPublishing, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.token_name = settings.refresh_token_env
        self.base_url = (settings.base_url or API).rstrip("/")
        self._token: tuple[str, float] | None = None  # an access token and when it stops working
        self._rotated: tuple[str, float] | None = None  # a new refresh token TikTok handed back, not yet saved
        self._session: aiohttp.ClientSession | None = None

    def missing_requirements(self) -> list[str]:
        names = (self.settings.client_key_env, self.settings.client_secret_env, self.settings.refresh_token_env)
        return [name for name in names if not self.secrets.has(name)]

    async def quota(self) -> Quota | None:
        return None  # the daily cap is not readable; spam_risk_too_many_posts says when it is reached

    async def create(self, reel: Reel) -> str:
        options = await self._call("/v2/post/publish/creator_info/query/", {})
        allowed = options.get("privacy_level_options")
        if isinstance(allowed, list) and self.settings.privacy not in allowed:
            raise PublishError(f"tiktok: the creator may not post {self.settings.privacy} (allowed: "
                               f"{', '.join(map(str, allowed))})", ErrorClass.INVALID_REQUEST)
        size = reel.video.stat().st_size
        chunk, count = chunking(size)
        answer = await self._call("/v2/post/publish/video/init/", {
            "post_info": {"title": _title(reel.caption), "privacy_level": self.settings.privacy,
                          "disable_comment": False, "disable_duet": False, "disable_stitch": False,
                          "is_aigc": reel.ai_generated},
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
                            "total_chunk_count": count}})
        publish_id, upload_url = answer.get("publish_id"), answer.get("upload_url")
        if not isinstance(publish_id, str) or not isinstance(upload_url, str) or not upload_url.startswith("http"):
            raise PublishError("tiktok: the post was initialised without its publish id or upload URL",
                               ErrorClass.TEMPORARY)
        return f"{size}|{publish_id}|{upload_url}"

    async def state(self, container_id: str) -> Container:
        size, publish_id, _ = _container(container_id)
        status = await self._status(publish_id)
        code = status.get("status")
        if code == "PUBLISH_COMPLETE":
            return Container(ContainerState.PUBLISHED)
        if code == "FAILED":
            reason = str(status.get("fail_reason") or "no reason given")
            # an upload left unfinished for an hour is dropped: a new post is initialised
            if reason in ("publish_cancelled", "file_upload_timeout"):
                return Container(ContainerState.EXPIRED, reason)
            return Container(ContainerState.FAILED, reason)
        return Container(ContainerState.READY if _held(status) < size else ContainerState.PROCESSING)

    async def publish(self, container_id: str, reel: Reel) -> str:
        size, publish_id, upload_url = _container(container_id)
        held = _held(await self._status(publish_id))
        chunk, count = chunking(size)
        first_chunk = held // chunk if held < size else count
        for index in range(first_chunk, count):
            start = index * chunk
            end = size if index == count - 1 else start + chunk  # the last chunk takes the remainder
            data = await asyncio.to_thread(_read, reel.video, start, end - start)
            status, _ = await self._send("PUT", upload_url, {
                "Content-Type": "video/mp4", "Content-Range": f"bytes {start}-{end - 1}/{size}"}, data=data)
            if status not in (201, 206):
                raise _http_error(status, None, "the upload")
        return await self._posted_id(publish_id)

    async def find(self, container_id: str, reel: Reel) -> str | None:
        _, publish_id, _ = _container(container_id)
        status = await self._status(publish_id)
        return _media_id(publish_id, status) if status.get("status") == "PUBLISH_COMPLETE" else None

    async def posted(self, media_id: str) -> Posted:
        if media_id.startswith("v_pub"):  # a private post (SELF_ONLY) has no public id nor link
            return Posted(media_id, "")
        options = await self._call("/v2/post/publish/creator_info/query/", {})
        username = options.get("creator_username")
        return Posted(media_id, f"https://www.tiktok.com/@{username}/video/{media_id}" if username else "")

    async def insights(self, media_id: str) -> Insights | None:
        if media_id.startswith("v_pub"):
            return None
        answer = await self._call("/v2/video/query/", {"filters": {"video_ids": [media_id]}},
                                  params={"fields": "id,view_count,like_count,comment_count,share_count"})
        videos = answer.get("videos")
        video = videos[0] if isinstance(videos, list) and videos and isinstance(videos[0], dict) else None
        if video is None:
            return None
        return Insights(_count(video, "view_count"), 0, _count(video, "like_count"), _count(video, "comment_count"),
                        0, _count(video, "share_count"))

    async def refreshed_token(self) -> tuple[str, float] | None:
        await self._access_token(force=True)
        return self.replaced_token()

    def replaced_token(self) -> tuple[str, float] | None:
        rotated, self._rotated = self._rotated, None
        return rotated

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _posted_id(self, publish_id: str) -> str:
        """Wait for the post the last chunk started (`processing_timeout_s` at most) and return its id."""
        deadline = time.monotonic() + self.processing_timeout_s
        while True:
            status = await self._status(publish_id)
            if status.get("status") == "PUBLISH_COMPLETE":
                return _media_id(publish_id, status)
            if status.get("status") == "FAILED":
                raise PublishError(f"tiktok: the post failed ({status.get('fail_reason') or 'no reason given'})",
                                   ErrorClass.INVALID_REQUEST)
            if time.monotonic() > deadline:
                raise PublishError("tiktok: the upload is whole but the post is not out yet", ErrorClass.TEMPORARY)
            await asyncio.sleep(STATUS_POLL_S)

    async def _status(self, publish_id: str) -> dict[str, Any]:
        return await self._call("/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    # ---- the one HTTP boundary ----------------------------------------------------------------------------------

    async def _access_token(self, force: bool = False) -> str:
        """An access token from the refresh token, renewed a minute before it runs out (TikTok's last a day)."""
        if not force and self._token is not None and self._token[1] > time.time() + 60:
            return self._token[0]
        refresh = self._rotated[0] if self._rotated else self.secrets.get(self.settings.refresh_token_env)  # the
        # rotated one until the engine has saved it
        form = {"grant_type": "refresh_token", "refresh_token": refresh,
                "client_key": self.secrets.get(self.settings.client_key_env),
                "client_secret": self.secrets.get(self.settings.client_secret_env)}
        status, answer = await self._send("POST", f"{self.base_url}/v2/oauth/token/",  # its answer carries the
                                          {"Content-Type": "application/x-www-form-urlencoded"},  # refresh token:
                                          redacted=False, data=form)  # read as sent, never logged
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if status >= 400 or not isinstance(token, str):
            reason = (answer.get("error_description") or answer.get("error")) if isinstance(answer, dict) else None
            raise PublishError(f"tiktok: the refresh token was refused ({reason or f'HTTP {status}'})",
                               ErrorClass.AUTH if status in (400, 401) else ErrorClass.TEMPORARY)
        expires = time.time() + _seconds(answer.get("expires_in"), 86_400.0)
        self.secrets.register_token(token, expires)  # masked wherever it might be echoed
        self._token = (token, expires)
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated != refresh:
            lasts = _seconds(answer.get("refresh_expires_in"), 365 * 86_400.0)
            self.secrets.register_token(rotated, time.time() + lasts)
            self._rotated = (rotated, lasts)
        return token

    async def _call(self, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
        """A JSON call with the creator's access token: its `data`, or the error it answered, classified."""
        headers = {"Authorization": f"Bearer {await self._access_token()}",
                   "Content-Type": "application/json; charset=UTF-8"}
        status, answer = await self._send("POST", f"{self.base_url}{path}", headers, json=body, params=params)
        error = answer.get("error") if isinstance(answer, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if status >= 400 or (code not in (None, "ok")):
            raise _http_error(status, error if isinstance(error, dict) else None, path.strip("/").split("/")[-1])
        data = answer.get("data") if isinstance(answer, dict) else None
        return data if isinstance(data, dict) else {}

    async def _send(self, method: str, url: str, headers: dict[str, str], redacted: bool = True,
                    **kwargs: Any) -> tuple[int, Any]:
        """One request; its JSON answer with every secret masked where it comes in (unless not `redacted`)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        try:
            async with self._session.request(method, url, headers=headers, **kwargs) as response:
                body = await response.read()
                try:
                    answer = json.loads(body) if body.strip() else None
                    answer = self.secrets.redact_answer(answer) if redacted else answer
                except ValueError:
                    answer = None
                return response.status, answer
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise PublishError(f"tiktok: {method} failed ({type(exc).__name__})", ErrorClass.TEMPORARY) from None


def chunking(size: int) -> tuple[int, int]:
    """The chunk size and count for a file of `size` bytes: CHUNK each, the last one taking the remainder (under
    twice CHUNK, within TikTok's 128 MB for a last chunk); a file smaller than CHUNK in one."""
    chunk = min(CHUNK, size)
    return chunk, max(size // chunk, 1)


def _http_error(status: int, error: dict[str, Any] | None, what: str) -> PublishError:
    code = str(error.get("code")) if error else ""
    detail = str(error.get("message") or "")[:300] if error else ""
    message = f"tiktok: {what}: " + (f"{code}: {detail}" if code else f"HTTP {status}")
    if code in DAILY_CAP_CODES:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=86_400.0)
    if code == "rate_limit_exceeded" or status == 429:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=60.0)
    if code in AUTH_CODES or status == 401:
        return PublishError(message, ErrorClass.AUTH)
    if status >= 500 or code == "internal_error":
        return PublishError(message, ErrorClass.TEMPORARY)
    return PublishError(message, ErrorClass.INVALID_REQUEST)


def _title(caption: str) -> str:
    """The caption cut to TikTok's limit, counted in UTF-16 code units as TikTok counts."""
    encoded = caption.encode("utf-16-le")[: TITLE_LIMIT * 2]
    return encoded.decode("utf-16-le", errors="ignore")


def _container(container_id: str) -> tuple[int, str, str]:
    size, _, rest = container_id.partition("|")
    publish_id, _, url = rest.partition("|")
    return int(size), publish_id, url


def _held(status: dict[str, Any]) -> int:
    held = status.get("uploaded_bytes")
    return held if isinstance(held, int) and held >= 0 else 0


def _media_id(publish_id: str, status: dict[str, Any]) -> str:
    """The public post's id; a private post has none, and is known by its publish id."""
    public = status.get("publicaly_available_post_id")  # TikTok's spelling
    return str(public[0]) if isinstance(public, list) and public else publish_id


def _read(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as file:
        file.seek(offset)
        return file.read(length)


def _seconds(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and 0 < value < 10 * 365 * 86_400 else default


def _count(stats: dict[str, Any], name: str) -> int:
    value = stats.get(name)
    return max(0, min(value, MAX_COUNT)) if isinstance(value, int) else 0
