"""A Telegram bot that tells a chat of each event (Bot API `sendMessage`), and takes the operator's answer to a brief
under review: its message carries Approve and Reject buttons (an inline keyboard whose `callback_data` names the
job), and the presses come back through `getUpdates` as callback queries, each answered (`answerCallbackQuery`) and
its message rewritten with the outcome (`editMessageText`). Only presses in the configured chat count.

Every Bot API answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}`. A 429 waits `retry_after` seconds, a 5xx or a dropped connection is tried again;
any other refusal (400 chat not found, 401 a revoked token, 403 the bot removed from the chat) is given up with
Telegram's words. The token is part of the URL, so no URL ever goes into a message or a log.
"""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from content.notifiers.contract import Decision, Event, Notifier, NotifyError
from content.notifiers.messages import summary
from core.secrets import Secrets
from core.settings import Telegram

API = "https://api.telegram.org"
TIMEOUT_S = 15.0
TEXT = 4096  # a message's longest text


class TelegramNotifier(Notifier):
    def __init__(self, settings: Telegram, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.destination = f"telegram:{settings.chat_id}"
        self.events = frozenset(settings.events)
        self.base_url = (settings.base_url or API).rstrip("/")
        self._offset = 0  # the first update not yet confirmed
        self._session: aiohttp.ClientSession | None = None

    def missing_requirements(self) -> list[str]:
        return [] if self.secrets.has(self.settings.token_env) else [self.settings.token_env]

    async def send(self, event: Event) -> None:
        message: dict[str, Any] = {"chat_id": self.settings.chat_id, "text": summary(event.name, event.data)[:TEXT],
                                   "link_preview_options": {"is_disabled": True}}
        if event.name == "brief.review":
            job = event.data.get("job_id")
            message["reply_markup"] = {"inline_keyboard": [[{"text": "✅ Approve", "callback_data": f"approve:{job}"},
                                                            {"text": "❌ Reject", "callback_data": f"reject:{job}"}]]}
        await self._call("sendMessage", message)

    async def decisions(self) -> list[Decision]:
        """The button presses since the last look (each update confirmed by asking past it next time)."""
        updates = await self._call("getUpdates", {"offset": self._offset, "timeout": 0,
                                                  "allowed_updates": ["callback_query"]})
        found = []
        for update in updates if isinstance(updates, list) else []:
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                continue
            self._offset = max(self._offset, update["update_id"] + 1)
            press = update.get("callback_query")
            decision = self._decision(press) if isinstance(press, dict) else None
            if decision is not None:
                found.append(decision)
        return found

    def _decision(self, press: dict[str, Any]) -> Decision | None:
        message = _object(press.get("message"))
        chat = _object(message.get("chat"))
        verb, _, job = str(press.get("data", "")).partition(":")
        if self.settings.chat_id not in {str(chat.get("id")), f"@{chat.get('username')}"}:
            return None  # a press from another chat the bot is in
        if verb not in ("approve", "reject") or not job.isdigit():
            return None
        return Decision(int(job), verb == "approve", {"id": press.get("id"), "chat_id": chat.get("id"),
                                                      "message_id": message.get("message_id"),
                                                      "text": message.get("text", "")})

    async def settle(self, decision: Decision, outcome: str) -> None:
        await self._call("answerCallbackQuery", {"callback_query_id": decision.handle["id"], "text": outcome[:200]})
        await self._call("editMessageText", {"chat_id": decision.handle["chat_id"],
                                             "message_id": decision.handle["message_id"],
                                             "text": f"{decision.handle['text']}\n\n→ {outcome}"[:TEXT]})

    async def _call(self, method: str, body: dict[str, Any]) -> Any:
        token = self.secrets.get(self.settings.token_env) or ""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        try:
            async with self._session.post(f"{self.base_url}/bot{token}/{method}", json=body) as response:
                status = response.status
                try:
                    answer = self.secrets.redact_answer(await response.json(content_type=None))
                except ValueError:
                    answer = None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise NotifyError(f"telegram: {method} failed ({type(exc).__name__})", retry=True) from None
        if isinstance(answer, dict) and answer.get("ok") is True:
            return answer.get("result")
        refusal: dict[str, Any] = answer if isinstance(answer, dict) else {}
        given = refusal.get("error_code")
        code = given if isinstance(given, int) else status
        parameters = refusal.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        description = str(refusal.get("description") or f"HTTP {status}")[:200]
        raise NotifyError(f"telegram: {description}", retry=code == 429 or code >= 500,
                          retry_after_s=float(wait) if isinstance(wait, (int, float)) else None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of an update, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}
