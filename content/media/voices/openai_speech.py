"""Engine `openai`: OpenAI's speech (`POST /v1/audio/speech`, raw 16-bit PCM at 24 kHz), which comes without
timings, so its words are timed by OpenAI's transcription of that very sound (`POST /v1/audio/transcriptions`,
whisper-1, verbose_json with word timestamps), each transcribed word found again in the caption's text. Through the
official SDK with its own retries off (it would send again a call whose answer was lost, paying twice): a 429 or a
5xx is asked again here (contract.retry_delay)."""
from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import openai
from openai.types.audio import TranscriptionWord

from content.media.voices.contract import (
    Speech,
    SpokenWord,
    VoiceEngine,
    VoiceError,
    retry_delay,
    word_starts,
    write_wav,
)
from core.bounds import retry_after
from core.errors import ErrorClass

T = TypeVar("T")
RATE = 24_000  # the `pcm` format's
TRANSCRIBER = "whisper-1"  # the transcription model that gives word timestamps
TIMEOUT_S = 60.0


class OpenAISpeech(VoiceEngine):
    name = "openai"
    required_env = ("OPENAI_API_KEY",)

    @property
    def price_usd_per_character(self) -> float:
        return self.settings.openai.price_usd_per_character

    def identity(self) -> str:
        return f"{self.settings.openai.voice}@{self.settings.openai.model}"

    async def speak(self, text: str, wav: Path) -> Speech:
        config = self.settings.openai
        client = openai.AsyncOpenAI(api_key=self.secrets.get("OPENAI_API_KEY"), base_url=config.base_url,
                                    max_retries=0, timeout=TIMEOUT_S)
        spoke = False
        try:
            async with client:
                audio = await asked(lambda: client.audio.speech.create(
                    model=config.model, voice=config.voice, input=text, response_format="pcm"))
                spoke = True
                duration = write_wav(wav, audio.content, RATE)
                heard = await asked(lambda: client.audio.transcriptions.create(
                    file=(wav.name, wav.read_bytes(), "audio/wav"), model=TRANSCRIBER, response_format="verbose_json",
                    timestamp_granularities=["word"], language=self.language, prompt=text))
        except openai.APIError as exc:  # the speech was made, or an answer was lost: it may have been billed
            raise VoiceError(self._why(exc), _error_class(exc),
                             billed=spoke or not isinstance(exc, openai.APIStatusError)) from None
        spoken = located(text, heard.words or [])
        if not spoken:
            raise VoiceError("OpenAI's transcription of the speech has none of the text's words", billed=True)
        return Speech(wav, duration, word_starts(text, spoken, duration))

    def _why(self, exc: openai.APIError) -> str:
        if isinstance(exc, openai.AuthenticationError):
            return f"OpenAI refused the key (HTTP {exc.status_code})"
        if isinstance(exc, openai.APIStatusError):
            return f"OpenAI refused the speech (HTTP {exc.status_code}: {self.secrets.redact(exc.message)[:200]})"
        return f"OpenAI did not answer ({type(exc).__name__})"


async def asked(call: Callable[[], Awaitable[T]]) -> T:
    """The call's answer, asked again after a refusal with a 429 or a 5xx (not billed); a call whose answer was lost
    (a dropped connection, a timeout) raises at once."""
    tries = 0
    while True:
        tries += 1
        try:
            return await call()
        except (openai.RateLimitError, openai.InternalServerError) as exc:
            delay = retry_delay(tries, retry_after(exc.response.headers))
            if delay is None:
                raise
        await asyncio.sleep(delay)


def _error_class(exc: openai.APIError) -> ErrorClass:
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ErrorClass.AUTH
    if isinstance(exc, openai.RateLimitError):
        return ErrorClass.RATE_LIMIT
    if isinstance(exc, openai.InternalServerError):
        return ErrorClass.TEMPORARY
    return ErrorClass.INVALID_REQUEST if isinstance(exc, openai.APIStatusError) else ErrorClass.UNKNOWN


def located(text: str, heard: Sequence[TranscriptionWord]) -> list[SpokenWord]:
    """Each transcribed word where it stands in `text` (in order, ignoring case and the punctuation around it);
    a word the transcription spelled otherwise ("10" for "ten") is left out, and takes its time from its neighbours."""
    folded = text.lower()
    spoken, cursor = [], 0
    for word in heard:
        needle = _bare(word.word).lower()
        at = folded.find(needle, cursor) if needle else -1
        if at >= 0:
            spoken.append(SpokenWord(at, len(needle), float(word.start)))
            cursor = at + len(needle)
    return spoken


def _bare(word: str) -> str:
    """The word without the punctuation and spaces around it."""
    keep = [i for i, char in enumerate(word) if not unicodedata.category(char).startswith(("P", "Z"))]
    return word[keep[0]:keep[-1] + 1].strip() if keep else ""
