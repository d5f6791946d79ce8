"""What every loopback fake of a video API shares: the server, the scenario switch, a task store that advances one
step per poll, and a media host for the finished videos (with Range support, expiring links and cut transfers).

Each provider's fake (one module per API) speaks that API's documented protocol on top of this, and rejects what
the real server would reject: a missing or wrong key, a missing version header, wrong field names.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SCENARIOS = ("success", "slow", "moderation", "rate_limit", "credits", "bad_key", "server_error", "malformed",
             "expired_url", "cut_download")
SLOW_STEPS = 4  # polls a "slow" task spends running, its progress rising each time
RETRY_AFTER_S = 7
ECHOED_FIELDS = {"error", "message", "msg", "detail", "failure", "failure_reason", "task_status_msg", "status_msg"}


@dataclass
class FakeTask:
    id: str
    body: dict[str, Any]
    polls: int = 0
    cancelled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def running(self, scenario: str) -> bool:
        """One poll to start; a slow task runs SLOW_STEPS polls more."""
        steps = 1 + (SLOW_STEPS if scenario == "slow" else 0)
        return self.polls <= steps

    def progress(self) -> float:
        return round(min(self.polls / (SLOW_STEPS + 1), 0.99), 2)


def dropped(request: web.Request) -> web.Response:
    """The connection closed under the client before any answer (after the work was done: billed)."""
    assert request.transport is not None
    request.transport.abort()
    return web.Response()


class LoopbackServer:
    """An aiohttp application served on 127.0.0.1 at a free port (`url` once started)."""

    app: web.Application
    _runner: web.AppRunner | None = None
    url = ""

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def late_answer(self, delay_s: float) -> None:
        """Hold an answer back for `delay_s` (a test kills the client meanwhile), or until the server stops."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping().wait(), delay_s)

    def _stopping(self) -> asyncio.Event:
        if not hasattr(self, "_stop_event"):
            self._stop_event = asyncio.Event()
        return self._stop_event

    async def stop(self) -> None:
        self._stopping().set()  # answers held back go now, so the server's shutdown does not wait for them
        if self._runner is not None:
            await self._runner.cleanup()


class FakeApi(LoopbackServer):
    """A provider's API on 127.0.0.1. `scenario` (one of SCENARIOS) picks the failure it plays."""

    key = "test-key-123"
    echoed_keys: tuple[str, ...] = (key,)  # what `echoes_secrets` repeats besides the headers

    def __init__(self, video: Path, scenario: str = "success") -> None:
        assert scenario in SCENARIOS, scenario
        self.video = video.read_bytes()
        self.scenario = scenario
        self.creates_allowed: int | None = None  # then every create fails with a 5xx (where a fake supports it)
        self.ignores_ranges = False  # a CDN that always sends the whole file
        self.tasks: dict[str, FakeTask] = {}
        self.requests: list[str] = []  # "METHOD /path" of every call, in order
        self.media_requests: list[str | None] = []  # the Range header of each media download
        self.authorizations: set[str] = set()  # every Authorization header the client sent
        self.answer_headers: dict[str, str] = {}  # set on every answer (a poison Retry-After, a poll hint)
        self.echoes_secrets = False  # every message in a JSON answer repeats the request's headers and the keys
        self._ids = itertools.count(1)
        self._links = itertools.count(1)
        self._issued = 0  # links handed out so far
        self._valid_from: int | None = None  # "expired_url": links issued before the first download have expired
        self.app = web.Application(middlewares=[self._log, self._tamper])
        self.app.router.add_get("/media/{link:\\d+}.mp4", self._media)
        self.routes(self.app.router)

    @property
    def accepted_key(self) -> str:
        """The key (or signing secret) this server takes; in "bad_key" it is not the one the client has."""
        return "not-the-key" if self.scenario == "bad_key" else self.key

    def routes(self, router: web.UrlDispatcher) -> None:
        """The API's endpoints (each fake adds its own)."""

    def new_task(self, body: dict[str, Any], prefix: str = "task") -> FakeTask:
        task = FakeTask(f"{prefix}-{next(self._ids)}", body)
        self.tasks[task.id] = task
        return task

    def media_link(self) -> str:
        """A fresh link to the finished video. In the "expired_url" scenario every link handed out before the
        first download has expired by the time it is used: only fetching the task again gives a working one."""
        self._issued = next(self._links)
        return f"{self.url}/media/{self._issued}.mp4"

    def polled(self, task_id: str) -> FakeTask | None:
        task = self.tasks.get(task_id)
        if task is not None:
            task.polls += 1
        return task

    @web.middleware
    async def _log(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/media/"):
            self.requests.append(f"{request.method} {request.path}")
        self.authorizations.add(request.headers.get("Authorization", ""))
        return await handler(request)

    @web.middleware
    async def _tamper(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """What a careless or broken API does to its answers: `answer_headers`, and with `echoes_secrets` our
        credentials echoed back in every message (its errors, a task's failure)."""
        response = await handler(request)
        if not isinstance(response, web.Response):  # a video, streamed
            return response
        response.headers.update(self.answer_headers)
        if self.echoes_secrets and response.content_type == "application/json":
            echo = f" (you sent {dict(request.headers)} with the keys {', '.join(self.echoed_keys)})"
            response.text = json.dumps(_echoed(json.loads(response.text), echo))
        return response

    async def _media(self, request: web.Request) -> web.StreamResponse:
        """The CDN: honours `Range: bytes=N-`; in "cut_download" the first transfer breaks off halfway."""
        link = int(request.match_info["link"])
        self.media_requests.append(request.headers.get("Range"))
        if self.scenario == "expired_url" and self._valid_from is None:
            self._valid_from = self._issued + 1
        if self._valid_from is not None and link < self._valid_from:
            return web.Response(status=403, text="<Error><Code>AccessDenied</Code><Message>Request has expired"
                                                 "</Message></Error>", content_type="application/xml")
        start = 0
        if request.headers.get("Range", "").startswith("bytes=") and not self.ignores_ranges:
            start = int(request.headers["Range"][6:].split("-")[0])
        payload = self.video[start:]
        response = web.StreamResponse(status=206 if start else 200, headers={"Content-Type": "video/mp4"})
        response.content_length = len(payload)
        if start:
            response.headers["Content-Range"] = f"bytes {start}-{len(self.video) - 1}/{len(self.video)}"
        await response.prepare(request)
        if self.scenario == "cut_download" and len(self.media_requests) == 1:
            await response.write(payload[: len(payload) // 2])
            request.transport.close()  # type: ignore[union-attr]  # the connection drops mid-stream
            return response
        await response.write(payload)
        await response.write_eof()
        return response


def _echoed(answer: Any, echo: str) -> Any:
    """`answer` with `echo` added to every message in it."""
    if isinstance(answer, dict):
        return {name: value + echo if name in ECHOED_FIELDS and isinstance(value, str) else _echoed(value, echo)
                for name, value in answer.items()}
    if isinstance(answer, list):
        return [_echoed(item, echo) for item in answer]
    return answer
