"""The paid parts of a video's analysis, each one call to an OpenAI-compatible endpoint through the official SDK
(its own retries off: a call resent after its answer was lost would be billed twice; a 429 or a 5xx, which is not
billed, is asked again): the speech transcribed with each word's times (`POST /audio/transcriptions`, verbose_json),
and each shot's keyframe described (`POST /chat/completions`, the image inline at low detail). What they cost is
estimated before and measured after, for the budget (core/engine/analysis_purchases.py); whatever the endpoint
answers is scrubbed of secrets before it is kept."""
from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from content.media.ffmpeg import run_ffmpeg
from content.media.voices.openai_speech import asked
from core.errors import DaemonError
from core.secrets import Secrets
from core.settings import KeyframeSettings, TranscriptSettings

RATE = 16_000  # the sound sent to be transcribed: 16 kHz mono, what speech models hear
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the transcription endpoint's file limit
PROMPT_TOKENS = 120  # the instruction beside each keyframe, at most
DESCRIBE = ("Describe this keyframe of a short vertical video in one sentence for a video editor: the subject, the "
            "setting, the framing and the light. No preamble.")


class PaidCallError(DaemonError):
    """A paid call that gave nothing, and what it cost all the same: `charged_usd`, or when its answer was lost
    (and it may have been billed in full) None."""

    def __init__(self, message: str, charged_usd: float | None) -> None:
        self.charged_usd = charged_usd
        super().__init__(message)


@dataclass(frozen=True)
class Bought:
    content: dict[str, Any]
    cost_usd: float


def transcript_estimate(duration_s: float, settings: TranscriptSettings) -> float:
    return round(duration_s / 60 * settings.price_usd_per_minute, 6)


def keyframes_estimate(count: int, settings: KeyframeSettings) -> float:
    """The most `count` descriptions can cost: every image at its token count, the instruction and a full answer."""
    tokens_in, tokens_out = count * (settings.image_tokens + PROMPT_TOKENS), count * settings.max_tokens
    return round(_tokens_cost(tokens_in, tokens_out, settings), 6)


def _tokens_cost(tokens_in: int, tokens_out: int, settings: KeyframeSettings) -> float:
    return (tokens_in * settings.price_usd_per_million_input_tokens
            + tokens_out * settings.price_usd_per_million_output_tokens) / 1e6


def _client(settings: TranscriptSettings | KeyframeSettings, secrets: Secrets) -> openai.AsyncOpenAI:
    key = secrets.get(settings.api_key_env) if settings.api_key_env else None
    return openai.AsyncOpenAI(api_key=key or "none", base_url=settings.base_url, max_retries=0,
                              timeout=settings.timeout_s)


def _failure(exc: openai.APIError, what: str, secrets: Secrets, spent_usd: float = 0.0) -> PaidCallError:
    """Refused (a status: that call is not billed), or unanswered (a lost answer may have been billed)."""
    if isinstance(exc, openai.APIStatusError):
        return PaidCallError(f"{what} refused (HTTP {exc.status_code}: {secrets.redact(exc.message)[:200]})",
                             spent_usd)
    return PaidCallError(f"{what} unanswered ({type(exc).__name__})", None)


async def transcribe(video: Path, duration_s: float, settings: TranscriptSettings, secrets: Secrets) -> Bought:
    """What is said in `video`, with each word's start and end, and what it cost by the duration billed."""
    with tempfile.TemporaryDirectory(prefix="transcript-") as folder:
        wav = Path(folder) / "speech.wav"
        await run_ffmpeg(["-y", "-i", str(video.resolve()), "-vn", "-ac", "1", "-ar", str(RATE), wav.name],
                         what=f"the sound of {video.name} to transcribe", cwd=Path(folder))
        sound = wav.read_bytes()
    if len(sound) > MAX_UPLOAD_BYTES:
        raise PaidCallError(f"{video.name}: too long to transcribe ({len(sound) >> 20} MB of sound, the endpoint "
                            f"takes {MAX_UPLOAD_BYTES >> 20} MB)", 0.0)
    try:
        async with _client(settings, secrets) as client:
            heard = await asked(lambda: client.audio.transcriptions.create(
                file=("speech.wav", sound, "audio/wav"), model=settings.model, response_format="verbose_json",
                timestamp_granularities=["word"]))
    except openai.APIError as exc:
        raise _failure(exc, "the transcription", secrets) from None
    billed_s = float(heard.duration or duration_s)
    words = [{"word": word.word, "start_s": round(float(word.start), 3), "end_s": round(float(word.end), 3)}
             for word in heard.words or []]
    return Bought(secrets.redact_answer({"model": settings.model, "language": heard.language, "text": heard.text,
                                         "words": words}),
                  transcript_estimate(billed_s, settings))


async def describe(keyframes: Sequence[Path], settings: KeyframeSettings, secrets: Secrets) -> Bought:
    """One sentence for each keyframe, in order, and what they cost by the tokens used. A refusal of one keyframe
    (a 4xx) stops the rest: they would be refused the same way."""
    descriptions: list[str] = []
    tokens_in = tokens_out = 0
    async with _client(settings, secrets) as client:
        for keyframe in keyframes:
            image = "data:image/jpeg;base64," + base64.b64encode(keyframe.read_bytes()).decode()
            try:
                answer = await asked(lambda: client.chat.completions.create(
                    model=settings.model, max_tokens=settings.max_tokens, messages=[{"role": "user", "content": [
                        {"type": "text", "text": DESCRIBE},
                        {"type": "image_url", "image_url": {"url": image, "detail": "low"}}]}]))
            except openai.APIError as exc:
                raise _failure(exc, f"describing {keyframe.name}", secrets,
                               _tokens_cost(tokens_in, tokens_out, settings)) from None
            used = answer.usage  # without it, counted at the most it can be
            tokens_in += used.prompt_tokens if used else settings.image_tokens + PROMPT_TOKENS
            tokens_out += used.completion_tokens if used else settings.max_tokens
            descriptions.append((answer.choices[0].message.content or "").strip() if answer.choices else "")
    return Bought(secrets.redact_answer({"model": settings.model, "descriptions": descriptions}),
                  round(_tokens_cost(tokens_in, tokens_out, settings), 6))
