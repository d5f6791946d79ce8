"""The paid parts of an analysis (content/media/paid_analysis.py) bought under the budget: each enabled part whose
endpoint has its key is reserved at its estimate against the daily and monthly caps before the call, and settled
with what it cost. What a video was sold is kept by the video's digest, so it is never bought twice. A part that
cannot be bought (over a cap, refused, unanswered) is one warning, and the analysis goes on without it."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from loguru import logger

from content.media.paid_analysis import (
    Bought,
    PaidCallError,
    describe,
    keyframes_estimate,
    transcribe,
    transcript_estimate,
)
from content.media.reference import Analysis, Extras, file_digest
from core.engine.ledger import BudgetExceeded, Ledger, ServiceCall
from core.errors import DaemonError, ErrorClass
from core.files import write_atomically
from core.secrets import Secrets
from core.settings import AnalysisSettings, OpenAICompatible

TRANSCRIPT, KEYFRAMES = "transcript", "keyframes"  # AnalysisSettings.parts, and service_calls.service
BILLED_SLACK_S = 1.0  # a transcription is billed by its sound's duration, which may run a little past the picture's


class AnalysisPurchases:
    def __init__(self, ledger: Ledger, settings: AnalysisSettings, secrets: Secrets, cache: Path) -> None:
        self.ledger = ledger
        self.settings = settings
        self.secrets = secrets
        self.cache = cache

    def extras(self) -> Extras | None:
        """What adds the paid parts to an analysis, when any is enabled."""
        return self.add_to if self.settings.buys_any else None

    async def add_to(self, analysis: Analysis, video: Path, keyframes: list[Path]) -> Analysis:
        """`analysis` with the parts the settings enable (a transcript when it has speech, its keyframes
        described), bought now or found kept."""
        digest = await asyncio.to_thread(file_digest, video)
        transcript, described = analysis.transcript, analysis.keyframes
        hearing, seeing = self.settings.transcript, self.settings.keyframes
        if self._ready(TRANSCRIPT, analysis.video) and analysis.sound.get("speech", 0.0) > 0:
            estimate = transcript_estimate(analysis.duration_s + BILLED_SLACK_S, hearing)
            transcript = await self._bought(TRANSCRIPT, digest, analysis.video, estimate, lambda: transcribe(
                video, analysis.duration_s, hearing, self.secrets)) or transcript
        if self._ready(KEYFRAMES, analysis.video) and keyframes:
            chosen = _spread(len(keyframes), seeing.max_shots)
            bought = await self._bought(KEYFRAMES, digest, analysis.video, keyframes_estimate(len(chosen), seeing),
                                        lambda: describe([keyframes[i] for i in chosen], seeing, self.secrets))
            if bought is not None:
                described = {"model": bought["model"], "cost_usd": bought["cost_usd"],
                             "shots": [{"shot": i + 1, "description": text}
                                       for i, text in zip(chosen, bought["descriptions"])]}
        return dataclasses.replace(analysis, transcript=transcript, keyframes=described)

    def _ready(self, name: str, video: str) -> bool:
        part = self.settings.parts[name]
        if not part.enabled:
            return False
        missing = missing_key(part, self.secrets)
        if missing is not None:
            logger.warning(f"{video}: analysis.{name} is enabled but {missing} is not set; not bought")
            return False
        return True

    async def _bought(self, service: str, digest: str, video: str, estimate_usd: float,
                      buy: Callable[[], Awaitable[Bought]]) -> dict[str, Any] | None:
        """The part as bought before for this video, or bought now under the caps; None when it cannot be."""
        kept = self.cache / f"{digest}-{service}.json"
        with contextlib.suppress(OSError, ValueError):
            return dict(json.loads(kept.read_text(encoding="utf-8")))
        if await self.ledger.call_may_be_billed(service, digest):
            logger.warning(f"{video}: its {service} not bought again: an earlier call for it was cut off and may "
                           "have been billed")
            return None
        try:
            call = await self.ledger.reserve_call(service, digest, estimate_usd)
        except BudgetExceeded as exc:
            logger.warning(f"{video}: its {service} not bought ({exc})")
            return None
        try:
            bought = await buy()
        except PaidCallError as exc:
            if exc.charged_usd is None:  # its answer was lost: counted in full, and not asked again
                await self._failed(call, video, exc, estimate_usd, ErrorClass.UNKNOWN)
            else:
                await self._failed(call, video, exc, exc.charged_usd)
            return None
        except (DaemonError, OSError) as exc:  # what was to be sent could not be read: nothing was
            await self._failed(call, video, exc, 0.0)
            return None
        content = {**bought.content, "cost_usd": bought.cost_usd}
        self.cache.mkdir(parents=True, exist_ok=True)
        write_atomically(kept, json.dumps(content))  # first: a stop before the settling leaves it counted in full
        await self.ledger.settle_call(call, bought.cost_usd)
        logger.info(f"{video}: its {service} bought for ${bought.cost_usd:.4f}")
        return content

    async def _failed(self, call: ServiceCall, video: str, exc: Exception, charged_usd: float,
                      error_class: ErrorClass | None = None) -> None:
        await self.ledger.settle_call(call, charged_usd, str(exc)[:500], error_class)
        logger.warning(f"{video}: its {call.service} not bought ({exc})")


def missing_key(part: OpenAICompatible, secrets: Secrets) -> str | None:
    """The environment variable the endpoint's key should be in, when it is not set."""
    return part.api_key_env if part.api_key_env is not None and not secrets.has(part.api_key_env) else None


def _spread(count: int, most: int) -> list[int]:
    """Up to `most` of `count` shots' indexes, evenly spread from the first to the last."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)}) if most > 1 else [0]
