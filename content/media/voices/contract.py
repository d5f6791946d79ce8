"""What every voice engine gives the renderer: per caption text, its sound as a WAV and when each of its words
(captions.tokens) begins by the engine's own timings, so the lit word follows the voice whoever speaks it."""
from __future__ import annotations

import wave
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from content.media.captions import tokens
from core.errors import ErrorClass
from core.secrets import Secrets
from core.settings import Voiceover

TRIES = 3  # a call refused with a 429 or a 5xx is asked this many times in all, then the next engine speaks
LONGEST_WAIT_S = 20.0  # a Retry-After longer than this: the next engine speaks rather than the Reel waiting


class VoiceError(Exception):
    """The engine could not speak (a refused key, a voice it lacks, a service down): the next engine is asked.
    `error_class` says what kind of failure, as for a provider's; `billed`: the speech was made, or the request went
    out and its answer was lost, so it may have been paid for."""

    def __init__(self, message: str, error_class: ErrorClass = ErrorClass.UNKNOWN, billed: bool = False) -> None:
        self.error_class = error_class
        self.billed = billed
        super().__init__(message)


@dataclass(frozen=True)
class Speech:
    path: Path  # a WAV
    duration_s: float
    word_starts: tuple[float, ...]  # when each caption word of its text (captions.tokens) begins, in seconds


@dataclass(frozen=True)
class SpokenWord:
    """A word as an engine timed it: where it stands in the text, and when it begins."""

    position: int  # its first character in the text, from 0
    length: int  # in characters
    start_s: float


class VoiceEngine(ABC):
    """One way of speaking a persona's captions. `speak` raises VoiceError when it cannot; an engine that lacks
    its key (`required_env`) is not asked."""

    name: ClassVar[str]
    required_env: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Voiceover, language: str, secrets: Secrets) -> None:
        self.settings = settings
        self.language = language
        self.secrets = secrets

    def missing_requirements(self) -> list[str]:
        return [key for key in self.required_env if not self.secrets.has(key)]

    @property
    def price_usd_per_character(self) -> float:
        """What one character of text costs to speak (0: free)."""
        return 0.0

    def estimate_usd(self, texts: Sequence[str]) -> float:
        return round(sum(len(text) for text in texts) * self.price_usd_per_character, 6)

    @abstractmethod
    def identity(self) -> str:
        """Everything that changes the sound it makes for a text (voice, model, speed): speech made with the same
        identity is the same, and is reused rather than paid for again."""

    @abstractmethod
    async def speak(self, text: str, wav: Path) -> Speech:
        """`text` spoken into the WAV file `wav`, with its words' starts."""


def retry_delay(tries: int, asked_s: float | None) -> float | None:
    """How long to wait before asking again after `tries` calls refused with a 429 or a 5xx (refusals are not
    billed): its Retry-After, or a doubling backoff; None when the next engine should speak instead. A call whose
    answer was lost is never sent again: it may have been billed."""
    delay = asked_s if asked_s is not None else 0.5 * 2 ** (tries - 1)
    return None if tries >= TRIES or delay > LONGEST_WAIT_S else delay


def write_wav(path: Path, samples: bytes, rate: int) -> float:
    """16-bit mono samples as a WAV file; its duration in seconds."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return len(samples) / 2 / rate


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each caption word of `text` (captions.tokens) starts and ends in it."""
    spans, cursor = [], 0
    for word, _ in tokens(text):
        at = text.index(word, cursor)
        cursor = at + len(word)
        spans.append((at, cursor))
    return spans


def word_starts(text: str, spoken: Sequence[SpokenWord], duration_s: float) -> tuple[float, ...]:
    """When each caption word of `text` begins: the start of the spoken word it falls in, or, for characters of one
    spoken word (Chinese, Japanese), a share of that word's time by position; a word with no sound of its own (a
    dash, an emoji, one the engine did not time) begins with the word before it."""
    starts: list[float] = []
    for at, end in token_spans(text):
        holding = [i for i, event in enumerate(spoken) if event.position < end]
        if not holding:
            starts.append(starts[-1] if starts else 0.0)
            continue
        event = spoken[holding[-1]]
        after = spoken[holding[-1] + 1].start_s if holding[-1] + 1 < len(spoken) else duration_s
        share = min(max((at - event.position) / max(event.length, 1), 0.0), 1.0)
        starts.append(max(event.start_s + (after - event.start_s) * share, starts[-1] if starts else 0.0))
    return tuple(min(round(start, 3), duration_s) for start in starts)
