"""A loopback webhook receiver that checks what a careful receiver checks: the HMAC-SHA256 signature of
`<t>.<body>` with its own secret (compared in constant time), a timestamp no more than five minutes old, and the
delivery id it has seen before (a repeat is acknowledged and dropped). It can be told to answer the next few
deliveries with a status of its choice (503: down for a moment; 410: gone for good).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.base import LoopbackServer

TOLERANCE_S = 300


@dataclass
class Received:
    delivery: str
    event: str
    body: dict[str, Any]
    signed: bool  # the signature matched and was fresh


class FakeReceiver(LoopbackServer):
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []  # every request, accepted or not
        self.accepted: dict[str, dict[str, Any]] = {}  # delivery id → body, once each
        self.answers: list[int] = []  # statuses for the next deliveries, first first
        self.app = web.Application()
        self.app.router.add_post("/hooks/influencer", self._receive)

    def _signed(self, header: str, body: bytes) -> bool:
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > TOLERANCE_S:
            return False
        expected = hmac.new(self.secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = self._signed(request.headers.get("X-Influencer-Signature", ""), body)
        delivery = request.headers.get("X-Influencer-Delivery", "")
        self.received.append(Received(delivery, request.headers.get("X-Influencer-Event", ""), json.loads(body),
                                      signed))
        if not signed:
            return web.json_response({"error": "bad signature"}, status=401)
        if self.answers:
            return web.json_response({"error": "not now"}, status=self.answers.pop(0))
        self.accepted.setdefault(delivery, json.loads(body))
        return web.json_response({"ok": True})
