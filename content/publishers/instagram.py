"""Reels through the Instagram Graph API (Content Publishing): a container from the video's link, polled until
Meta has processed it, then `media_publish`; the quota read from `content_publishing_limit`.

Both login paths speak the same protocol on different hosts: Instagram Login (graph.instagram.com) and Facebook
Login for Business (graph.facebook.com). The token goes in the Authorization header, never in a URL. Graph errors
come in one envelope, `{"error": {"message", "type", "code", "error_subcode", "is_transient"}}`, mapped here onto
the engine's classes (Meta's error-code reference): 190 and permission codes are auth; 4, 17, 32 and 613 are rate
limits, the wait read from `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`, minutes); code 9 with
subcode 2207042 is the posting quota; -1, -2, 1, 2 and `is_transient` are temporary.

With `upload: direct` (Facebook Login), no hosting is needed: the container is made with `upload_type=resumable`
and the file is posted to its `uri` on rupload.facebook.com (`Authorization: OAuth`, `offset`, `file_size`), whose
errors come as `{"debug_info": {"retriable", "type", "message"}}`.
"""
from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
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
from core.bounds import MAX_COUNT, MAX_WAIT_S
from core.errors import ErrorClass
from core.secrets import Secrets
from core.settings import InstagramPublishing

HOSTS = {"instagram": "https://graph.instagram.com", "facebook": "https://graph.facebook.com"}
STATES = {"IN_PROGRESS": ContainerState.PROCESSING, "FINISHED": ContainerState.READY,
          "PUBLISHED": ContainerState.PUBLISHED, "EXPIRED": ContainerState.EXPIRED, "ERROR": ContainerState.FAILED}
AUTH_CODES = {102, 190, 10, 200, 3}
RATE_CODES = {4, 17, 32, 613, 80002}
TEMPORARY_CODES = {-2, -1, 1, 2}
QUOTA_SUBCODE = 2207042  # "You reached maximum number of posts that is allowed to be published"
QUOTA_WAIT_S = 3600.0  # the window rolls: a full quota is looked at again this much later
RATE_WAIT_S = 600.0  # a rate limit with no estimate of its own
RECENT_MEDIA = 25  # posts looked through to find one a lost publish answer made
RUPLOAD = "https://rupload.facebook.com/ig-api-upload"  # where a resumable container's bytes go
COVER_AT_MS = 1000  # the daemon's cover is the frame at 1 s (core/engine/runner.py, for a Reel of 3 s or more)
INSIGHTS = ("views", "reach", "likes", "comments", "saved", "shares")  # a Reel's metrics (`plays` is deprecated)


class InstagramPublisher(Publisher):
    platform = "instagram"

    def __init__(self, settings: InstagramPublishing, secrets: Secrets) -> None:
        self.settings = settings
        self.pulls_from_url = settings.upload == "hosted"  # else the file itself is sent
        self.secrets = secrets
        self.poll_interval_s = settings.poll_interval_s
        self.processing_timeout_s = settings.processing_timeout_s
        self.token_name = settings.token_env
        self.host = (settings.base_url or HOSTS[settings.login]).rstrip("/")
        self.base_url = f"{self.host}/{settings.api_version}"
        self._session: aiohttp.ClientSession | None = None

    def missing_requirements(self) -> list[str]:
        missing = [] if self.settings.user_id else ["publishing.instagram.user_id"]
        return missing + ([] if self.secrets.has(self.settings.token_env) else [self.settings.token_env])

    async def quota(self) -> Quota | None:
        answer = await self._call("GET", f"/{self.settings.user_id}/content_publishing_limit",
                                  params={"fields": "quota_usage,config"})
        data = answer.get("data") if isinstance(answer, dict) else None
        row: dict[str, Any] = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config: dict[str, Any] = row["config"] if isinstance(row.get("config"), dict) else {}
        used, total = row.get("quota_usage"), config.get("quota_total")
        if not isinstance(used, int) or not isinstance(total, int):
            return None  # no quota in the answer: the publish call's own refusal is the limit
        duration = config.get("quota_duration")
        return Quota(used, total, float(duration) if isinstance(duration, (int, float)) else 86_400.0)

    async def create(self, reel: Reel) -> str:
        form = {"media_type": "REELS", "caption": reel.caption,
                "share_to_feed": "true" if self.settings.share_to_feed else "false"}
        if self.pulls_from_url:
            form["video_url"] = reel.video_url
            if reel.cover_url:
                form["cover_url"] = reel.cover_url
        else:  # the bytes follow to the container's upload URI; the cover is the frame the daemon's cover shows
            form.update(upload_type="resumable", thumb_offset=str(COVER_AT_MS))
        if reel.ai_generated:
            form["is_ai_generated"] = "true"  # the "AI info" label (Instagram Platform changelog, 2026-06-22)
        answer = await self._call("POST", f"/{self.settings.user_id}/media", data=form)
        container = self._id(answer, "the container")
        if not self.pulls_from_url:
            await self._upload(self._upload_uri(answer, container), reel)
        return container

    def _upload_uri(self, answer: dict[str, Any], container: str) -> str:
        """Where the container's bytes go: the `uri` Meta answered with when it is Meta's upload host (or, with
        `base_url` set, the proxy's), else the documented address."""
        uri = answer.get("uri")
        trusted = (RUPLOAD + "/", self.settings.base_url or RUPLOAD + "/")
        if isinstance(uri, str) and uri.startswith(trusted):  # our token goes with it: nowhere else
            return uri
        return f"{RUPLOAD}/{self.settings.api_version}/{container}"

    async def _upload(self, uri: str, reel: Reel) -> None:
        """The whole file to Meta in one POST. One cut off is a temporary failure: the next try makes a new
        container (this one, never uploaded, expires unposted)."""
        data = await asyncio.to_thread(reel.video.read_bytes)
        answer = await self._call("POST", uri, data=data, scheme="OAuth",
                                  headers={"offset": "0", "file_size": str(len(data)),
                                           "Content-Type": "application/octet-stream"})
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise PublishError("instagram: the upload was not taken", ErrorClass.TEMPORARY)

    async def state(self, container_id: str) -> Container:
        answer = await self._call("GET", f"/{container_id}", params={"fields": "status_code,status"})
        code = answer.get("status_code") if isinstance(answer, dict) else None
        if code not in STATES:
            raise PublishError(f"instagram: container {container_id} is in a state this publisher does not know: "
                               f"{code!r}", ErrorClass.TEMPORARY)
        detail = answer.get("status")
        return Container(STATES[code], detail if isinstance(detail, str) else "")

    async def publish(self, container_id: str, reel: Reel) -> str:
        answer = await self._call("POST", f"/{self.settings.user_id}/media_publish",
                                  data={"creation_id": container_id})
        return self._id(answer, "the post")

    async def find(self, container_id: str, reel: Reel) -> str | None:
        answer = await self._call("GET", f"/{self.settings.user_id}/media",
                                  params={"fields": "id,caption,timestamp", "limit": str(RECENT_MEDIA)})
        media = answer.get("data") if isinstance(answer, dict) else None
        caption = self.secrets.redact(reel.caption)  # as every answer is read: redacted
        for item in media if isinstance(media, list) else []:
            if isinstance(item, dict) and item.get("caption") == caption and isinstance(item.get("id"), str):
                return str(item["id"])
        return None

    async def posted(self, media_id: str) -> Posted:
        answer = await self._call("GET", f"/{media_id}", params={"fields": "id,permalink,shortcode,timestamp"})
        link = answer.get("permalink") if isinstance(answer, dict) else None
        return Posted(media_id, link if isinstance(link, str) else "")

    async def insights(self, media_id: str) -> Insights | None:
        try:
            answer = await self._call("GET", f"/{media_id}/insights", params={"metric": ",".join(INSIGHTS)})
        except PublishError as exc:
            if "not enough viewers" in str(exc).lower():  # (#10): a small audience has no insights yet
                return None
            raise
        data = answer.get("data") if isinstance(answer, dict) else None
        counts = {name: 0 for name in INSIGHTS}
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("name") in counts:
                counts[entry["name"]] = metric_value(entry)
        if not isinstance(data, list) or not data:
            return None  # an empty set means unavailable, not zero (Meta's insights reference)
        return Insights(counts["views"], counts["reach"], counts["likes"], counts["comments"], counts["saved"],
                        counts["shares"])

    async def refreshed_token(self) -> tuple[str, float] | None:
        """Instagram Login's long-lived tokens last 60 days and are renewed, once a day at most and while still
        valid, by `refresh_access_token` (unversioned). Facebook Login's Page tokens do not expire."""
        if self.settings.login != "instagram":
            return None
        token = self.secrets.get(self.settings.token_env) or ""
        answer = await self._call("GET", f"{self.host}/refresh_access_token",
                                  params={"grant_type": "ig_refresh_token", "access_token": token}, raw=True)
        fresh, lasts = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(fresh, str) or not fresh or not isinstance(lasts, (int, float)) or not 0 < lasts < 1e9:
            raise PublishError("instagram: the token refresh answered without a token", ErrorClass.TEMPORARY)
        return fresh, float(lasts)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- the one HTTP boundary ---------------------------------------------------------------------------------

    def _id(self, answer: Any, what: str) -> str:
        value = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(value, (str, int)) or not str(value):
            raise PublishError(f"instagram: the answer has no id for {what}", ErrorClass.TEMPORARY)
        return str(value)

    async def _call(self, method: str, path: str, raw: bool = False, scheme: str = "Bearer",
                    headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        """One Graph call, its JSON answer decoded and redacted of our secrets (`raw`: a new token's answer, kept
        as sent); any failure a PublishError."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        token = self.secrets.get(self.settings.token_env) or ""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            async with self._session.request(method, url, headers={"Authorization": f"{scheme} {token}",
                                                                   **(headers or {})}, **kwargs) as response:
                body = await response.read()
                answer = self._decoded(body, raw and response.status < 400)
                if response.status >= 400 or (isinstance(answer, dict) and "error" in answer):
                    raise graph_error(response.status, answer, response.headers)
                if answer is None:
                    raise PublishError(f"instagram: the answer to {method} {path} is not JSON", ErrorClass.TEMPORARY)
                return answer
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise PublishError(f"instagram: {method} {path} failed ({type(exc).__name__})",
                               ErrorClass.TEMPORARY) from None

    def _decoded(self, body: bytes, raw: bool = False) -> Any:
        try:
            answer = json.loads(body)
        except ValueError:
            return None
        return answer if raw else self.secrets.redact_answer(answer)


def graph_error(status: int, answer: Any, headers: Mapping[str, str]) -> PublishError:
    """A Graph API error answer in the engine's classes."""
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    upload = answer.get("debug_info") if isinstance(answer, dict) else None  # rupload's own envelope
    if isinstance(upload, dict) and not error:
        error = {"message": str(upload.get("message", "")), "is_transient": upload.get("retriable") is True}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = f"instagram: HTTP {status}" + (f": {error['message']}"[:300] if isinstance(error.get("message"), str)
                                             else "")
    if code == 9 and subcode == QUOTA_SUBCODE:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=QUOTA_WAIT_S)
    if code in RATE_CODES or status == 429:
        return PublishError(message, ErrorClass.RATE_LIMIT, retry_after_s=regain_access_s(headers) or RATE_WAIT_S)
    if code in AUTH_CODES or (status in (401, 403) and code is None):
        return PublishError(message, ErrorClass.AUTH)
    if code in TEMPORARY_CODES or error.get("is_transient") is True or status >= 500:
        return PublishError(message, ErrorClass.TEMPORARY)
    return PublishError(message, ErrorClass.INVALID_REQUEST)


def regain_access_s(headers: Mapping[str, str]) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`, in seconds; None
    when the header is absent or garbage."""
    try:
        usage = json.loads(headers.get("X-Business-Use-Case-Usage") or "")
        minutes = [entry.get("estimated_time_to_regain_access") for entries in usage.values() for entry in entries]
        longest = max(float(m) for m in minutes if isinstance(m, (int, float)))
    except (ValueError, TypeError, AttributeError):
        return None
    return min(max(longest * 60.0, 0.0), MAX_WAIT_S) if longest == longest else None


def metric_value(entry: dict[str, Any]) -> int:
    """An insight's count, from `values[0].value` or `total_value.value`; 0 when it is missing or garbage."""
    values = entry.get("values")
    first = values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else {}
    total = entry.get("total_value") if isinstance(entry.get("total_value"), dict) else {}
    value = first.get("value", total.get("value") if isinstance(total, dict) else None)
    return max(0, min(int(value), MAX_COUNT)) if isinstance(value, (int, float)) and math.isfinite(value) else 0
