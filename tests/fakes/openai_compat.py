"""A loopback OpenAI-compatible chat endpoint (`POST /v1/chat/completions`), as OpenAI, Groq, Ollama and llama.cpp
serve it: Bearer key, a `chat.completion` object back, errors as `{"error": {...}}` with the status. Scenarios:
"valid" (a brief as JSON, built from the trend in the request), "malformed" (prose and a broken object), "refusal"
(`message.refusal` set, as structured outputs report it), "rate_limit" (429), "slow" (answers after `slow_s`)."""
from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from tests.fakes.base import LoopbackServer

SCENARIOS = ("valid", "malformed", "refusal", "rate_limit", "slow")
KEY = "sk-test-llm-key-456"


class FakeChatApi(LoopbackServer):
    def __init__(self, scenario: str = "valid", slow_s: float = 5.0) -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.slow_s = slow_s
        self.calls: list[dict] = []
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self._complete)

    async def _complete(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        body = await request.json()
        if not body.get("model") or not isinstance(body.get("messages"), list):
            return _error(400, "'model' and 'messages' are required.", "invalid_request_error", None)
        self.calls.append(body)
        if self.scenario == "rate_limit":
            return _error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded",
                          {"retry-after": "20"})
        if self.scenario == "slow":
            await asyncio.sleep(self.slow_s)
        message: dict = {"role": "assistant", "content": None, "refusal": None}
        if self.scenario == "refusal":
            message["refusal"] = "I'm sorry, I can't help with that request."
        elif self.scenario == "malformed":
            message["content"] = 'Sure! Here is your brief: {"hook": "Run slow to run fast", "beats": ['
        else:
            message["content"] = json.dumps(_brief(json.loads(body["messages"][-1]["content"])))
        return web.json_response({
            "id": f"chatcmpl-{len(self.calls)}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"], "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 200, "completion_tokens": 150, "total_tokens": 350}})


def _brief(request: dict) -> dict:
    topic = request["trend"]["topic"]
    return {
        "hook": f"The truth about {topic.lower()}",
        "beats": ["Start slower than feels right.", "Keep it easy for a month.", "Then add one hard day a week."],
        "cta": "Save this for your next run",
        "caption": f"What nobody tells you about {topic.lower()}. Try it this week.",
        "hashtags": ["#running", "marathon training", "fitness"],
        "scenes": [{"visual_prompt": "A runner on an empty coastal road at sunrise, tracking shot from the side"},
                   {"visual_prompt": "Close-up of running shoes hitting wet pavement, slow motion"},
                   {"visual_prompt": "A calendar with easy days circled, soft morning light, slow push in"}],
    }


def _error(status: int, message: str, kind: str, code: str | None, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code}},
                             status=status, headers=headers)
