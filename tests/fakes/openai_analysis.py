"""A loopback OpenAI-compatible server for the paid parts of an analysis, as OpenAI documents them: Bearer key,
errors as `{"error": {...}}` with the status.

- `POST /v1/audio/transcriptions` (multipart: file, model, response_format, timestamp_granularities[]): it "hears"
  the test's `script`, its words spread over the loud stretches of the uploaded WAV, in order; verbose_json gives
  `duration`, `language`, `text` and, with the word granularity, `words` with start and end.
- `POST /v1/chat/completions` with an image: the image (a data URL, as the SDK sends it) is decoded and its main
  colour named, so an answer depends on the picture; `usage` counts the image at `image_tokens` plus the text.

`transcription_failures` and `chat_failures` are statuses answered, one per call, before any success; DROPPED
closes the connection unanswered (after the work is done: billed). A refusal's message echoes the caller's key, as
some servers echo a request back."""
from __future__ import annotations

import base64
import io
import time
import wave

import cv2
import numpy as np
from aiohttp import web

from tests.fakes.base import LoopbackServer, dropped

KEY = "sk-test-analysis-key-654"
DROPPED = 0
LOUD_DB = -30.0  # below the loudest 20 ms, what counts as quiet
COLOURS = {"teal": (42, 157, 143), "orange": (231, 111, 81), "navy": (29, 53, 87), "sand": (233, 196, 106),
           "white": (240, 240, 240), "black": (10, 10, 10), "red": (200, 30, 30), "green": (40, 170, 60),
           "blue": (40, 80, 200), "grey": (128, 128, 128)}


class FakeAnalysisApi(LoopbackServer):
    def __init__(self, script: str, image_tokens: int = 2833, transcription_failures: list[int] | None = None,
                 chat_failures: list[int] | None = None, transcribing_s: float = 0.0) -> None:
        self.script = script
        self.transcribing_s = transcribing_s  # how long a transcription takes (a test kills its caller meanwhile)
        self.image_tokens = image_tokens
        self.transcription_failures = list(transcription_failures or [])
        self.chat_failures = list(chat_failures or [])
        self.transcriptions: list[dict] = []
        self.chats: list[dict] = []
        self.app = web.Application(client_max_size=26 * 1024 * 1024)
        self.app.router.add_post("/v1/audio/transcriptions", self._transcription)
        self.app.router.add_post("/v1/chat/completions", self._chat)

    async def _transcription(self, request: web.Request) -> web.Response:
        refused = _unauthorised(request)
        if refused is not None:
            return refused
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or not form.get("model"):
            return _error(400, "'file' and 'model' are required.", None)
        sound = upload.file.read()
        self.transcriptions.append({"model": form.get("model"), "bytes": len(sound),
                                    "response_format": form.get("response_format"),
                                    "granularities": form.getall("timestamp_granularities[]", [])})
        failure = self.transcription_failures.pop(0) if self.transcription_failures else None
        if failure == DROPPED:
            return dropped(request)
        if failure is not None:
            return _error(failure, _echoing(request, "The server had an error while processing your request."), None)
        if self.transcribing_s:
            await self.late_answer(self.transcribing_s)
        try:
            with wave.open(io.BytesIO(sound), "rb") as audio:
                rate = audio.getframerate()
                pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2").astype(np.float32)
        except (wave.Error, EOFError):
            return _error(400, "Invalid file format. Supported formats: ['flac', 'mp3', 'wav', ...]", None)
        if form.get("response_format") != "verbose_json":
            return web.json_response({"text": self.script})
        words = _spread(self.script.split(), _loud_stretches(pcm, rate))
        if "word" not in form.getall("timestamp_granularities[]", []):
            words = []
        return web.json_response({"task": "transcribe", "language": "english", "duration": round(pcm.size / rate, 2),
                                  "text": self.script, "words": words, "segments": []})

    async def _chat(self, request: web.Request) -> web.Response:
        refused = _unauthorised(request)
        if refused is not None:
            return refused
        body = await request.json()
        if not body.get("model") or not isinstance(body.get("messages"), list):
            return _error(400, "'model' and 'messages' are required.", None)
        self.chats.append(body)
        failure = self.chat_failures.pop(0) if self.chat_failures else None
        if failure == DROPPED:
            return dropped(request)
        if failure is not None:
            return _error(failure, _echoing(request, "Invalid image."), None)
        parts = body["messages"][-1]["content"]
        images = [part["image_url"]["url"] for part in parts if part.get("type") == "image_url"]
        texts = [part["text"] for part in parts if part.get("type") == "text"]
        if len(images) != 1 or not images[0].startswith("data:image/jpeg;base64,"):
            return _error(400, "this fake describes one inline JPEG a call", None)
        picture = cv2.imdecode(np.frombuffer(base64.b64decode(images[0].split(",", 1)[1]), np.uint8),
                               cv2.IMREAD_COLOR)
        if picture is None:
            return _error(400, "You uploaded an unsupported image.", "invalid_image_format")
        content = f"A mostly {_colour_name(picture)} frame, framed wide, in even light."
        completion = min(len(content.split()) + 2, int(body.get("max_tokens") or 10_000))
        return web.json_response({
            "id": f"chatcmpl-{len(self.chats)}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": self.image_tokens + sum(len(t.split()) for t in texts),
                      "completion_tokens": completion,
                      "total_tokens": self.image_tokens + completion}})


def _loud_stretches(pcm: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """Where the sound is within LOUD_DB of its loudest 20 ms, as (start, end) seconds."""
    frame = rate // 50
    count = pcm.size // frame
    if count == 0:
        return []
    energy = 10 * np.log10(np.mean(pcm[:count * frame].reshape(count, frame) ** 2, axis=1) + 1e-9)
    loud = energy > energy.max() + LOUD_DB
    stretches, start = [], None
    for index, on in enumerate([*loud, False]):
        if on and start is None:
            start = index
        elif not on and start is not None:
            stretches.append((start / 50, index / 50))
            start = None
    return stretches


def _spread(words: list[str], stretches: list[tuple[float, float]]) -> list[dict]:
    """The words laid over the loud time in order, each an equal share of it."""
    total = sum(end - start for start, end in stretches)
    if not words or total == 0:
        return []
    share, placed, into = total / len(words), [], 0.0
    for word in words:
        at, end = _position(stretches, into), _position(stretches, into + share * 0.9)
        placed.append({"word": word.strip(".,!?"), "start": round(at, 2), "end": round(max(end, at + 0.01), 2)})
        into += share
    return placed


def _position(stretches: list[tuple[float, float]], into: float) -> float:
    """The time `into` seconds of loud time from the start."""
    for start, end in stretches:
        if into <= end - start:
            return start + into
        into -= end - start
    return stretches[-1][1]


def _colour_name(picture: np.ndarray) -> str:
    b, g, r = (float(v) for v in np.median(picture.reshape(-1, 3), axis=0))
    return min(COLOURS, key=lambda name: sum((a - c) ** 2 for a, c in zip(COLOURS[name], (r, g, b))))


def _unauthorised(request: web.Request) -> web.Response | None:
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return _error(401, "Incorrect API key provided.", "invalid_api_key")
    return None


def _echoing(request: web.Request, message: str) -> str:
    return f"{message} (request had Authorization: {request.headers.get('Authorization')})"



def _error(status: int, message: str, code: str | None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                        "code": code}}, status=status)
