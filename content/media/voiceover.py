"""Narration by espeak-ng's library (Debian package espeak-ng, libespeak-ng.so.1): one WAV per caption, and when
each of its words begins, from the synthesizer's own word events, so the lit word follows the speech (spread by
letter count it lagged by 0.24-0.28 s on average and up to 0.8 s)."""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loguru import logger

from content.media.captions import tokens
from core.settings import Voiceover

_SYNTHESIZER = threading.Lock()  # the library is one synthesizer for the whole process
_SYNCHRONOUS, _UTF8, _BY_CHARACTER, _RATE = 2, 1, 1, 1  # speak_lib.h: output, chars, position type, rate
_WORD, _LIST_END = 1, 0  # espeak_EVENT_TYPE
# espeak-ng's voice for each persona language (Account.language), unless the persona names one.
VOICES = {"en": "en-us", "es": "es", "pt": "pt-br", "fr": "fr-fr", "de": "de", "ar": "ar", "hi": "hi", "zh": "cmn",
          "ja": "ja"}


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class NarrationError(Exception):
    """The synthesizer refused (an unknown voice, no data files)."""


@dataclass(frozen=True)
class Clip:
    path: Path
    duration_s: float
    word_starts: tuple[float, ...]  # when each caption word of its text (captions.tokens) begins, in seconds


@dataclass(frozen=True)
class _SpokenWord:
    position: int  # the word's first character in the text, from 0
    length: int  # in characters
    start_s: float


async def narrate(texts: list[str], settings: Voiceover, workdir: Path, language: str = "en") -> list[Clip] | None:
    """Speak each text into its own WAV, in the persona's voice or its `language`'s; None (and a log line saying
    why) when narration is unavailable."""
    if not settings.enabled:
        return None
    library = ctypes.util.find_library("espeak-ng")
    if library is None:
        logger.warning("voiceover is enabled but espeak-ng is not installed (apt-get install espeak-ng): music only")
        return None
    try:
        voice = settings.voice or VOICES.get(language, VOICES["en"])
        return await asyncio.to_thread(_speak_all, library, texts, voice, settings.words_per_minute, workdir)
    except NarrationError as exc:
        logger.warning(f"voiceover failed ({exc}): music only")
        return None


@cache
def _started(name: str) -> tuple[ctypes.CDLL, int]:
    """The library, started once, and its sample rate."""
    library = ctypes.CDLL(name)
    rate = library.espeak_Initialize(_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        _started.cache_clear()
        raise NarrationError("espeak-ng could not start: its data files are missing")
    return library, rate


def _speak_all(name: str, texts: list[str], voice: str, words_per_minute: int, workdir: Path) -> list[Clip]:
    with _SYNTHESIZER:
        library, rate = _started(name)
        if library.espeak_SetVoiceByName(voice.encode()) != 0:
            raise NarrationError(f"espeak-ng has no voice {voice!r} (espeak-ng --voices lists them)")
        library.espeak_SetParameter(_RATE, words_per_minute, 0)
        clips = []
        for index, text in enumerate(texts):
            samples, words = _synthesize(library, text)
            path = workdir / f"voice-{index}.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(rate)
                out.writeframes(samples)
            duration = len(samples) / 2 / rate
            clips.append(Clip(path, duration, word_starts(text, words, duration)))
        return clips


def _synthesize(library: ctypes.CDLL, text: str) -> tuple[bytes, list[_SpokenWord]]:
    """The text's samples (16-bit mono) and its word events."""
    chunks: list[bytes] = []
    words: list[_SpokenWord] = []

    def receive(wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _LIST_END:
            event = events[index]
            if event.type == _WORD and event.length > 0:  # a clause's end comes as a word of no characters
                words.append(_SpokenWord(event.text_position - 1, event.length, event.audio_position / 1000))
            index += 1
        return 0

    callback = _Callback(receive)  # kept referenced until the synthesis is over
    library.espeak_SetSynthCallback(callback)
    encoded = text.encode()
    library.espeak_Synth(encoded, len(encoded) + 1, 0, _BY_CHARACTER, 0, _UTF8, None, None)
    library.espeak_Synchronize()
    return b"".join(chunks), words


def word_starts(text: str, spoken: Sequence[_SpokenWord], duration_s: float) -> tuple[float, ...]:
    """When each caption word of `text` begins: the start of the spoken word it falls in, or, for characters of one
    spoken word (Chinese, Japanese), a share of that word's time by position; a word with no sound of its own (a
    dash, an emoji) begins with the word before it."""
    starts: list[float] = []
    cursor = 0
    for word, _ in tokens(text):
        at = text.index(word, cursor)
        cursor = at + len(word)
        holding = [i for i, event in enumerate(spoken) if event.position < cursor]
        if not holding:
            starts.append(starts[-1] if starts else 0.0)
            continue
        event = spoken[holding[-1]]
        end = spoken[holding[-1] + 1].start_s if holding[-1] + 1 < len(spoken) else duration_s
        share = min(max((at - event.position) / max(event.length, 1), 0.0), 1.0)
        starts.append(max(event.start_s + (end - event.start_s) * share, starts[-1] if starts else 0.0))
    return tuple(min(round(start, 3), duration_s) for start in starts)
