"""A loopback fake of the Telegram Bot API (core.telegram.org/bots/api): `POST /bot<token>/<method>` with a JSON
body, answered `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters":
{"retry_after"}}` — 401 for a wrong token, 400 for an unknown chat, 429 when flooded. sendMessage (with an inline
keyboard's buttons), getUpdates (callback queries from pressed buttons, confirmed by asking past their update_id),
answerCallbackQuery and editMessageText.
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
        self.updates: list[dict[str, Any]] = []  # not yet confirmed
        self.answered: list[dict[str, Any]] = []  # answerCallbackQuery bodies
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(500)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._call)

    async def _call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _refused(401, "Unauthorized")
        method, body = request.match_info["method"], await request.json()
        if method == "getUpdates":
            self.updates = [u for u in self.updates if u["update_id"] >= int(body.get("offset") or 0)]
            return web.json_response({"ok": True, "result": self.updates})
        if method == "answerCallbackQuery":
            self.answered.append(body)
            return web.json_response({"ok": True, "result": True})
        if method == "editMessageText":
            found = [m for m in self.messages if m["message_id"] == body.get("message_id")]
            if not found:
                return _refused(400, "Bad Request: message to edit not found")
            found[0].update(text=body["text"], reply_markup=None)
            return web.json_response({"ok": True, "result": found[0]})
        if method != "sendMessage":
            return _refused(404, "Not Found")
        if str(body.get("chat_id")) != CHAT_ID:
            return _refused(400, "Bad Request: chat not found")
        if not isinstance(body.get("text"), str) or not 1 <= len(body["text"]) <= 4096:
            return _refused(400, "Bad Request: message text is empty")
        if self.refusals:
            code = self.refusals.pop(0)
            return _refused(code, "Too Many Requests: retry after 3" if code == 429 else "Internal Server Error",
                            {"retry_after": 3} if code == 429 else None)
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": int(CHAT_ID), "type": "supergroup"}, "text": body["text"],
                   "reply_markup": body.get("reply_markup")}
        self.messages.append(message)
        return web.json_response({"ok": True, "result": message})


    def press(self, message: dict[str, Any], button: int, chat_id: int = int(CHAT_ID)) -> None:
        """The operator presses one of a message's inline buttons (in `chat_id`)."""
        data = message["reply_markup"]["inline_keyboard"][0][button]["callback_data"]
        self.updates.append({"update_id": next(self._update_ids), "callback_query": {
            "id": f"cb{next(self._ids)}", "from": {"id": 42, "is_bot": False, "first_name": "Op"},
            "message": {**message, "chat": {"id": chat_id, "type": "supergroup"}}, "chat_instance": "1",
            "data": data}})


def _refused(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return web.json_response(answer, status=code)
