"""Signed webhooks: each event POSTed as JSON to a URL the operator runs.

The body is `{"id", "event", "created_at", "data"}`. `X-Influencer-Signature: t=<unix time>,v1=<hex>` carries an
HMAC-SHA256, with the webhook's secret, of `<t>.<body>`: a receiver recomputes it, compares in constant time and
refuses a `t` more than five minutes old (a replay). `X-Influencer-Delivery` is the event's id, the same on every
try, so a receiver can drop a repeat; `X-Influencer-Event` is its name. A 2xx is delivered; 408, 429 (with its
`Retry-After`) and 5xx, a timeout or a refused connection are tried again; any other status is given up.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import aiohttp

from content.notifiers.contract import Event, Notifier, NotifyError
from core.secrets import Secrets
from core.settings import Webhook

TIMEOUT_S = 10.0
RETRIED = {408, 429}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Influencer-Signature` value of `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookNotifier(Notifier):
    def __init__(self, settings: Webhook, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self.destination = "webhook:" + hashlib.sha256(settings.url.encode()).hexdigest()[:16]  # a URL may hold a
        self.events = frozenset(settings.events)  # password: the database keeps its hash only
        self._session: aiohttp.ClientSession | None = None

    def missing_requirements(self) -> list[str]:
        return [] if self.secrets.has(self.settings.secret_env) else [self.settings.secret_env]

    async def send(self, event: Event) -> None:
        body = json.dumps({"id": event.id, "event": event.name, "created_at": event.created_at.isoformat(),
                           "data": event.data}, ensure_ascii=False).encode()
        secret = self.secrets.get(self.settings.secret_env) or ""
        headers = {"Content-Type": "application/json", "X-Influencer-Event": event.name,
                   "X-Influencer-Delivery": str(event.id),
                   "X-Influencer-Signature": signature(secret, int(time.time()), body)}
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        try:
            async with self._session.post(self.settings.url, data=body, headers=headers) as response:
                status, retry_after = response.status, response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # never the URL: it may hold a password
            raise NotifyError(f"webhook unreachable ({type(exc).__name__})", retry=True) from None
        if 200 <= status < 300:
            return
        retry = status in RETRIED or status >= 500
        raise NotifyError(f"webhook answered HTTP {status}", retry=retry,
                          retry_after_s=float(retry_after) if retry_after.isdigit() else None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
