"""A loopback fake of the Telegram Bot API's sendMessage (core.telegram.org/bots/api): `POST /bot<token>/sendMessage`
with a JSON body, answered `{"ok": true, "result": <Message>}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}` — 401 for a wrong token, 400 for an unknown chat, 429 when flooded.
"""
from __future__ import annotations

import itertools
import time
from typing import Any

from aiohttp import web

from tests.fakes.base import LoopbackServer

TOKEN = "7700000000:AAFakeBotTokenForTests_abcdefghij"
CHAT_ID = "-1001234567890"


class FakeTelegram(LoopbackServer):
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refusals: list[int] = []  # error codes for the next calls (429: flood control)
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._call)

    async def _call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _refused(401, "Unauthorized")
        if request.match_info["method"] != "sendMessage":
            return _refused(404, "Not Found")
        body = await request.json()
        if str(body.get("chat_id")) != CHAT_ID:
            return _refused(400, "Bad Request: chat not found")
        if not isinstance(body.get("text"), str) or not 1 <= len(body["text"]) <= 4096:
            return _refused(400, "Bad Request: message text is empty")
        if self.refusals:
            code = self.refusals.pop(0)
            return _refused(code, "Too Many Requests: retry after 3" if code == 429 else "Internal Server Error",
                            {"retry_after": 3} if code == 429 else None)
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": int(CHAT_ID), "type": "supergroup"}, "text": body["text"]}
        self.messages.append(message)
        return web.json_response({"ok": True, "result": message})


def _refused(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return web.json_response(answer, status=code)
