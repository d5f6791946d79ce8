"""Engine `espeak`: espeak-ng's library (Debian package espeak-ng, libespeak-ng.so.1), offline and free; each caption
word timed by the synthesizer's own word events, so the lit word follows the speech (spread by letter count it
lagged by 0.24-0.28 s on average and up to 0.8 s)."""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from functools import cache
from pathlib import Path

from content.media.voices.contract import Speech, SpokenWord, VoiceEngine, VoiceError, word_starts, write_wav
from content.media.voices.readings import japanese_reading
from core.errors import ErrorClass

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


class EspeakVoice(VoiceEngine):
    name = "espeak"

    def missing_requirements(self) -> list[str]:
        return [] if ctypes.util.find_library("espeak-ng") else ["espeak-ng (apt-get install espeak-ng)"]

    @property
    def voice(self) -> str:
        return self.settings.voice or VOICES.get(self.language, VOICES["en"])

    @property
    def reads_kana(self) -> bool:
        """Its Japanese voice, which is given kana readings (voices/readings.py)."""
        return self.voice.split("-")[0] == "ja"

    def identity(self) -> str:
        return f"{self.voice}@{self.settings.words_per_minute}" + ("+kana" if self.reads_kana else "")

    async def speak(self, text: str, wav: Path) -> Speech:
        library = ctypes.util.find_library("espeak-ng")
        if library is None:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        return await asyncio.to_thread(self._speak, library, text, wav)

    def _speak(self, name: str, text: str, wav: Path) -> Speech:
        with _SYNTHESIZER:
            library, rate = _started(name)
            if library.espeak_SetVoiceByName(self.voice.encode()) != 0:
                raise VoiceError(f"espeak-ng has no voice {self.voice!r} (espeak-ng --voices lists them)",
                                 ErrorClass.INVALID_REQUEST)
            library.espeak_SetParameter(_RATE, self.settings.words_per_minute, 0)
            if self.reads_kana:
                reading = japanese_reading(text)
                samples, words = _synthesize(library, reading.text)
                words = [reading.original(word) for word in words]
            else:
                samples, words = _synthesize(library, text)
        duration = write_wav(wav, samples, rate)
        return Speech(wav, duration, word_starts(text, words, duration))


@cache
def _started(name: str) -> tuple[ctypes.CDLL, int]:
    """The library, started once, and its sample rate."""
    library = ctypes.CDLL(name)
    rate = library.espeak_Initialize(_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        _started.cache_clear()
        raise VoiceError("espeak-ng could not start: its data files are missing")
    return library, rate


def _synthesize(library: ctypes.CDLL, text: str) -> tuple[bytes, list[SpokenWord]]:
    """The text's samples (16-bit mono) and its word events."""
    chunks: list[bytes] = []
    words: list[SpokenWord] = []

    def receive(wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _LIST_END:
            event = events[index]
            if event.type == _WORD and event.length > 0:  # a clause's end comes as a word of no characters
                words.append(SpokenWord(event.text_position - 1, event.length, event.audio_position / 1000))
            index += 1
        return 0

    callback = _Callback(receive)  # kept referenced until the synthesis is over
    library.espeak_SetSynthCallback(callback)
    encoded = text.encode()
    library.espeak_Synth(encoded, len(encoded) + 1, 0, _BY_CHARACTER, 0, _UTF8, None, None)
    library.espeak_Synchronize()
    return b"".join(chunks), words
