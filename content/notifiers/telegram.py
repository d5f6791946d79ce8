"""A Telegram bot that tells a chat of each event (Bot API `sendMessage`).

Every Bot API answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}`. A 429 waits `retry_after` seconds, a 5xx or a dropped connection is tried again;
any other refusal (400 chat not found, 401 a revoked token, 403 the bot removed from the chat) is given up with
Telegram's words. The token is part of the URL, so no URL ever goes into a message or a log.
"""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from content.notifiers.contract import Event, Notifier, NotifyError
from content.notifiers.messages import summary
from core.secrets import Secrets
from core.settings import Telegram

API = "https://api.telegram.org"
TIMEOUT_S = 15.0


class TelegramNotifier(Notifier):
    def __init__(self, settings: Telegram, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.destination = f"telegram:{settings.chat_id}"
        self.events = frozenset(settings.events)
        self.base_url = (settings.base_url or API).rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def missing_requirements(self) -> list[str]:
        return [] if self.secrets.has(self.settings.token_env) else [self.settings.token_env]

    async def send(self, event: Event) -> None:
        await self._call("sendMessage", {"chat_id": self.settings.chat_id, "text": summary(event.name, event.data),
                                         "link_preview_options": {"is_disabled": True}})

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
