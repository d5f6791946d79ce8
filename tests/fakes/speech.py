"""Loopback fakes of the cloud voices, each speaking its API's documented protocol: ElevenLabs' speech with
timestamps (`xi-api-key`, JSON with the sound in base64 and each character's times; errors as `{"detail": ...}`, a
list of validation errors for 422) and OpenAI's speech and transcription (Bearer key, raw PCM back; the transcription
as verbose_json with word timestamps; errors as `{"error": {...}}`).

Both "speak" the same way: each letter a 55 ms tone, a space 80 ms of silence, a punctuation mark 150 ms, so where
each word begins can be heard in the sound. `failures` (and for OpenAI's transcription `transcription_failures`)
are statuses answered, one per call, before any success (with `retry_after` as Retry-After on a 429); DROPPED makes
the speech (so it is billed) and drops the connection before answering."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import unicodedata
import wave
from dataclasses import dataclass, field

import numpy as np
from aiohttp import web

from tests.fakes.base import LoopbackServer, dropped

ELEVENLABS_KEY = "el-test-key-789"
OPENAI_KEY = "sk-test-speech-key-321"
VOICE_ID = "21m00Tcm4TlvDq8ikWAM"
LETTER_S, SPACE_S, MARK_S = 0.055, 0.08, 0.15
RATE = 24_000
DROPPED = 0  # a failure: the speech is made, then the connection dropped unanswered


@dataclass(frozen=True)
class Said:
    """What a fake said: its sound, and when each character begins and ends."""

    pcm: bytes
    starts: list[float]
    ends: list[float]


def say(text: str, rate: int = RATE) -> Said:
    chunks, starts, ends, cursor = [], [], [], 0.0
    for index, char in enumerate(text):
        mark = unicodedata.category(char).startswith("P")
        length = SPACE_S if char.isspace() else MARK_S if mark else LETTER_S
        count = round(length * rate)
        if char.isspace() or mark:
            chunks.append(np.zeros(count))
        else:
            chunks.append(0.4 * np.sin(2 * np.pi * (220 + 20 * (index % 12)) * np.arange(count) / rate))
        starts.append(round(cursor, 3))
        cursor += count / rate
        ends.append(round(cursor, 3))
    pcm = (np.concatenate(chunks) * 32767).astype("<i2").tobytes() if chunks else b""
    return Said(pcm, starts, ends)


@dataclass
class _Failing:
    failures: list[int] = field(default_factory=list)
    retry_after: str = "1"

    def next_failure(self) -> int | None:
        return self.failures.pop(0) if self.failures else None


class FakeElevenLabs(LoopbackServer):
    """`POST /v1/text-to-speech/{voice_id}/with-timestamps`."""

    def __init__(self, failures: list[int] | None = None, retry_after: str = "1", speaking_s: float = 0.0) -> None:
        self.failing = _Failing(list(failures or []), retry_after)
        self.speaking_s = speaking_s  # how long making each speech takes, the connection open
        self.calls: list[dict] = []  # each request's body, query and key, in order
        self.said: dict[str, Said] = {}  # text → what was said for it
        self.billed: list[str] = []  # each text whose speech was made (a client gone meanwhile is billed too)
        self.app = web.Application()
        self.app.router.add_post("/v1/text-to-speech/{voice_id}/with-timestamps", self._speak)

    async def _speak(self, request: web.Request) -> web.Response:
        key = request.headers.get("xi-api-key")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        self.calls.append({"body": body, "query": dict(request.query), "key": key})
        if key != ELEVENLABS_KEY:
            return _detail(401, {"status": "invalid_api_key", "message": "Invalid API key"})
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return web.json_response({"detail": [{"loc": ["body", "text"], "msg": "Field required",
                                                  "type": "missing"}]}, status=422)
        if request.match_info["voice_id"] != VOICE_ID:
            return _detail(400, {"status": "voice_not_found", "message": "A voice with that ID was not found."})
        output = request.query.get("output_format", "mp3_44100_128")
        if output not in {"pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100"}:
            return _detail(422, {"status": "invalid_output_format", "message": f"{output} is not served here"})
        failure = self.failing.next_failure()
        if failure == DROPPED:
            self.billed.append(body["text"])
            return dropped(request)
        if failure == 429:
            return _detail(429, {"status": "too_many_concurrent_requests", "message": "Too many concurrent requests"},
                           {"Retry-After": self.failing.retry_after})
        if failure is not None:
            return _detail(failure, {"status": "internal_error", "message": "Something went wrong"})
        if self.speaking_s:
            await asyncio.sleep(self.speaking_s)  # made to the end even if the client goes (no handler cancellation)
        said = self.said[body["text"]] = say(body["text"], int(output.removeprefix("pcm_")))
        self.billed.append(body["text"])
        alignment = {"characters": list(body["text"]), "character_start_times_seconds": said.starts,
                     "character_end_times_seconds": said.ends}
        return web.json_response({"audio_base64": base64.b64encode(said.pcm).decode(), "alignment": alignment,
                                  "normalized_alignment": alignment})


class FakeOpenAISpeech(LoopbackServer):
    """`POST /v1/audio/speech` and `POST /v1/audio/transcriptions`: it transcribes only sound it made, each word as
    the text had it (without its punctuation), or as `misheard` spells it."""

    def __init__(self, failures: list[int] | None = None, retry_after: str = "1",
                 misheard: dict[str, str] | None = None, transcription_failures: list[int] | None = None) -> None:
        self.failing = _Failing(list(failures or []), retry_after)
        self.transcription_failing = _Failing(list(transcription_failures or []))
        self.misheard = misheard or {}
        self.speech_calls: list[dict] = []
        self.transcription_calls: list[dict] = []
        self.heard: dict[str, list[dict]] = {}  # text → the words the transcription gave for it
        self._made: dict[str, str] = {}  # sha256 of the PCM → its text
        self.app = web.Application()
        self.app.router.add_post("/v1/audio/speech", self._speech)
        self.app.router.add_post("/v1/audio/transcriptions", self._transcription)

    async def _speech(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        body = await request.json()
        self.speech_calls.append(body)
        if not all(isinstance(body.get(name), str) and body[name] for name in ("model", "input", "voice")):
            return _error(400, "'model', 'input' and 'voice' are required.", None)
        failure = self.failing.next_failure()
        if failure == DROPPED:
            return dropped(request)
        if failure == 429:
            return _error(429, "Rate limit reached for requests.", "rate_limit_exceeded",
                          {"retry-after": self.failing.retry_after})
        if failure is not None:
            return _error(failure, "The server had an error while processing your request.", None)
        if body.get("response_format") != "pcm":
            return _error(400, "this fake serves response_format pcm only", None)
        said = say(body["input"])
        self._made[hashlib.sha256(said.pcm).hexdigest()] = body["input"]
        return web.Response(body=said.pcm, content_type="application/octet-stream")

    async def _transcription(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        form = await request.post()
        call = {name: form.getall(name) for name in set(form.keys())}
        self.transcription_calls.append(call)
        failure = self.transcription_failing.next_failure()
        if failure is not None:
            return _error(failure, "The server had an error while processing your request.", None)
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or form.get("model") != "whisper-1":
            return _error(400, "'file' and 'model' are required.", None)
        with wave.open(io.BytesIO(upload.file.read()), "rb") as audio:
            pcm = audio.readframes(audio.getnframes())
        text = self._made.get(hashlib.sha256(pcm).hexdigest())
        if text is None:
            return _error(400, "this fake transcribes only the sound it made", None)
        words = _words(text, say(text), self.misheard)
        if form.get("response_format") != "verbose_json" or "word" not in form.getall("timestamp_granularities[]", []):
            words = []  # word timestamps come only with verbose_json and the word granularity
        self.heard[text] = words
        return web.json_response({"task": "transcribe", "language": "english", "duration": len(pcm) / 2 / RATE,
                                  "text": text, "words": words})


def _words(text: str, said: Said, misheard: dict[str, str]) -> list[dict]:
    """Whisper's words: each as the text has it without the punctuation around it, from its first letter's start."""
    words, at = [], 0
    for part in text.split():
        at = text.index(part, at)
        letters = [i for i, char in enumerate(part) if not unicodedata.category(char).startswith("P")]
        if letters:
            first, last = at + letters[0], at + letters[-1]
            word = text[first:last + 1]
            words.append({"word": misheard.get(word, word), "start": said.starts[first], "end": said.ends[last]})
        at += len(part)
    return words



def _detail(status: int, detail: dict, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)


def _error(status: int, message: str, code: str | None, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                        "code": code}}, status=status, headers=headers)
