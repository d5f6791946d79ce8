"""Briefs written by an LLM behind any OpenAI-compatible chat endpoint, with the template brief as the safety net.

The model gets the trend, the persona and the template's draft, and must answer one JSON object (`LlmBrief`),
validated by pydantic. No key, a timeout, a 429, any other API error, a refusal, or JSON that does not fit: the
template brief is used and one log line says why. A good answer is stored in `llm_briefs` under the trend, account,
model and prompt version, so a restart or a second planning pass never pays for the same brief twice.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from loguru import logger
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from content.briefs.brief import Brief, merge_hashtags
from core.schema import llm_briefs
from core.secrets import Secrets
from core.settings import Account, LlmSettings
from core.storage import Database, utcnow
from trends.models import Trend

PROMPT_VERSION = 1  # part of the cache key: a changed prompt writes new briefs
FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class Scene(BaseModel):
    visual_prompt: str = Field(min_length=10, max_length=600)


class LlmBrief(BaseModel):
    """What the model must return."""

    hook: str = Field(min_length=3, max_length=150)
    beats: list[str] = Field(min_length=3, max_length=6)
    cta: str = Field(min_length=3, max_length=120)
    caption: str = Field(min_length=10, max_length=2200)
    hashtags: list[str] = Field(max_length=15)
    scenes: list[Scene] = Field(min_length=1, max_length=6)


SYSTEM = """You write briefs for short vertical videos (Instagram Reels) for one creator persona.
Answer with one JSON object and nothing else, with exactly these keys:
{"hook": "the first line on screen, at most 12 words",
 "beats": ["3 to 6 short on-screen lines, each at most 14 words"],
 "cta": "a call to action, at most 10 words",
 "caption": "the post caption, 1 to 3 sentences, no hashtags",
 "hashtags": ["up to 8 relevant hashtags without #"],
 "scenes": [{"visual_prompt": "one per beat: what the camera shows, for a text-to-video model"}]}
Visual prompts describe scenery, objects, light and camera moves. Never name real people, brands or logos, and never
show children. Write the hook, beats, call to action, caption and hashtags in the persona's language (its
BCP-47 code is "language"), as a native creator would; visual prompts stay in English. Stay factual: do not invent
numbers or claims that the trend does not support."""


class BriefWriter:
    """Improves template briefs with an LLM when one is configured; otherwise hands the template brief back."""

    def __init__(self, settings: LlmSettings, secrets: Secrets, db: Database) -> None:
        self.settings = settings
        self._secrets = secrets
        self._db = db
        self._client: Any = None
        self._told_no_key = False

    async def improve(self, draft: Brief, trend: Trend, account: Account, prompt_style: str,
                      related_hashtags: Sequence[str] = ()) -> Brief:
        if not self.settings.enabled:
            return draft
        key = self._cache_key(trend, account)
        written = await self._cached(key)
        if written is None:
            written = await self._ask(draft, trend, account)
            if written is None:
                return draft
            await self._store(key, written)
        return _apply(draft, written, account, prompt_style, related_hashtags)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _ask(self, draft: Brief, trend: Trend, account: Account) -> LlmBrief | None:
        """One chat call; None (with one log line) when anything goes wrong."""
        import openai  # 1.5 s to import: paid only when an LLM is configured

        client = self._open_client(openai)
        if client is None:
            return None
        request: dict[str, Any] = {
            "model": self.settings.model, "temperature": self.settings.temperature,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": _user_message(draft, trend, account)}]}
        if self.settings.json_mode:
            request["response_format"] = {"type": "json_object"}
        topic = f"LLM brief for {trend.topic!r}"
        try:
            response = await client.chat.completions.create(**request)
        except openai.APITimeoutError:
            _fallback(topic, f"timed out after {self.settings.timeout_s:g} s")
            return None
        except openai.RateLimitError:
            _fallback(topic, "rate limited (429)")
            return None
        except openai.APIStatusError as exc:
            _fallback(topic, f"HTTP {exc.status_code}: {_api_message(exc)}")
            return None
        except openai.APIError as exc:
            _fallback(topic, f"{type(exc).__name__}: {exc}")
            return None
        choice = response.choices[0] if response.choices else None
        if choice is None:
            _fallback(topic, "the answer had no choices")
            return None
        refusal = getattr(choice.message, "refusal", None)
        if refusal or choice.finish_reason == "content_filter":
            _fallback(topic, f"the model refused: {refusal or 'content filter'}")
            return None
        try:
            return LlmBrief.model_validate_json(FENCE.sub("", (choice.message.content or "").strip()))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "answer"
            _fallback(topic, f"the answer is not a valid brief ({where}: {error['msg'].lower()})")
            return None

    def _open_client(self, openai: Any) -> Any:
        if self._client is None:
            key_name = self.settings.api_key_env
            api_key = self._secrets.get(key_name) if key_name else "not-needed"
            if not api_key:
                if not self._told_no_key:
                    self._told_no_key = True
                    logger.warning(f"LLM briefs: {key_name} is not set; template briefs are used")
                return None
            self._client = openai.AsyncOpenAI(base_url=self.settings.base_url, api_key=api_key,
                                              timeout=self.settings.timeout_s, max_retries=0)
        return self._client

    def _cache_key(self, trend: Trend, account: Account) -> str:
        parts = [trend.dedup_key, account.name, self.settings.base_url, self.settings.model, str(PROMPT_VERSION)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    async def _cached(self, key: str) -> LlmBrief | None:
        rows = await self._db.fetch_all(select(llm_briefs.c.content).where(llm_briefs.c.cache_key == key))
        return LlmBrief.model_validate(rows[0].content) if rows else None

    async def _store(self, key: str, written: LlmBrief) -> None:
        try:
            await self._db.write((insert(llm_briefs), {"cache_key": key, "model": self.settings.model,
                                                       "content": written.model_dump(), "created_at": utcnow()}))
        except IntegrityError:  # another worker wrote it first: theirs is as good
            pass


def _user_message(draft: Brief, trend: Trend, account: Account) -> str:
    return json.dumps({
        "persona": {"handle": account.handle, "description": account.persona, "niches": account.niches,
                    "language": account.language},
        "trend": {"topic": trend.topic, "details": trend.caption, "theme": trend.theme, "hashtags": trend.hashtags,
                  "sources": list(trend.sources)},
        "video": {"seconds": draft.duration_s, "aspect_ratio": draft.aspect_ratio},
        "draft": {"hook": draft.hook, "beats": draft.beats, "cta": draft.cta},
    }, ensure_ascii=False)


def _apply(draft: Brief, written: LlmBrief, account: Account, prompt_style: str,
           related_hashtags: Sequence[str]) -> Brief:
    scenes = [" ".join(scene.visual_prompt.split()) for scene in written.scenes]
    visual = f"Vertical 9:16 video. {' Then: '.join(s.rstrip('.') for s in scenes)}. {prompt_style}."
    return draft.model_copy(update={
        "hook": written.hook.strip(), "beats": [b.strip() for b in written.beats], "cta": written.cta.strip(),
        "caption": written.caption.strip(), "scene_prompts": scenes, "visual_prompt": visual,
        "hashtags": merge_hashtags(written.hashtags, account.hashtags, related_hashtags), "written_by": "llm"})


def _fallback(topic: str, reason: str) -> None:
    logger.warning(f"{topic}: {reason}; the template brief is used")
    return None


def _api_message(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else body.get("message")
    return " ".join(str(message or exc.message).split())[:200]
