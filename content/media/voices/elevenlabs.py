"""Engine `elevenlabs`: ElevenLabs' speech with timestamps (`POST /v1/text-to-speech/{voice_id}/with-timestamps`,
the key in `xi-api-key`). Its JSON answer holds the sound in base64 (raw 16-bit PCM at 24 kHz: `output_format
pcm_24000`, on every plan) and when each character of the text starts (`alignment`): each caption word begins with
its first character."""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
from pathlib import Path
from typing import Any

import aiohttp

from content.media.voices.contract import (
    Speech,
    SpokenWord,
    VoiceEngine,
    VoiceError,
    retry_delay,
    token_spans,
    word_starts,
    write_wav,
)
from core.bounds import retry_after
from core.errors import ErrorClass

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
RATE = 24_000
TIMEOUT_S = 60.0


class ElevenLabsEngine(VoiceEngine):
    name = "elevenlabs"
    required_env = ("ELEVENLABS_API_KEY",)

    @property
    def price_usd_per_character(self) -> float:
        return self.settings.elevenlabs.price_usd_per_character

    def identity(self) -> str:
        return f"{self.settings.elevenlabs.voice_id}@{self.settings.elevenlabs.model_id}"

    async def speak(self, text: str, wav: Path) -> Speech:
        config = self.settings.elevenlabs
        url = f"{(config.base_url or DEFAULT_BASE_URL).rstrip('/')}/v1/text-to-speech/{config.voice_id}/with-timestamps"
        answer = await self._post(url, {"text": text, "model_id": config.model_id})
        try:
            samples = base64.b64decode(answer["audio_base64"], validate=True)
            alignment = answer["alignment"]
            characters, starts = alignment["characters"], alignment["character_start_times_seconds"]
        except (KeyError, TypeError, binascii.Error) as exc:
            raise VoiceError(f"ElevenLabs answered without its sound or timings ({exc!r})", billed=True) from None
        if "".join(characters) != text or len(starts) != len(characters):
            raise VoiceError("ElevenLabs timed other characters than the text it was given", billed=True)
        duration = write_wav(wav, samples, RATE)
        spoken = [SpokenWord(at, end - at, float(starts[at])) for at, end in token_spans(text)]
        return Speech(wav, duration, word_starts(text, spoken, duration))

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer; a 429 (after its Retry-After) or a 5xx asked again (contract.retry_delay)."""
        headers = {"xi-api-key": self.secrets.get("ELEVENLABS_API_KEY") or "", "Accept": "application/json"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session:
            tries = 0
            while True:
                tries += 1
                try:
                    async with session.post(url, json=body, headers=headers,
                                            params={"output_format": f"pcm_{RATE}"}) as response:
                        if response.status == 200:
                            answer = await response.json(content_type=None)
                            if not isinstance(answer, dict):
                                raise VoiceError("ElevenLabs answered with no JSON object", billed=True)
                            return answer
                        why = self.secrets.redact(_detail(await response.text()))
                        asked = retry_after(response.headers)
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # may have been billed: not sent again
                    raise VoiceError(f"ElevenLabs did not answer ({type(exc).__name__})", billed=True) from None
                if response.status in (401, 403):
                    raise VoiceError(f"ElevenLabs refused the key (HTTP {response.status}: {why})", ErrorClass.AUTH)
                if response.status != 429 and response.status < 500:
                    raise VoiceError(f"ElevenLabs refused the request (HTTP {response.status}: {why})",
                                     ErrorClass.INVALID_REQUEST)
                delay = retry_delay(tries, asked)
                if delay is None:
                    raise VoiceError(f"ElevenLabs is unavailable (HTTP {response.status}: {why})",
                                     ErrorClass.RATE_LIMIT if response.status == 429 else ErrorClass.TEMPORARY)
                await asyncio.sleep(delay)


def _detail(text: str) -> str:
    """The error's message: `detail` is an object (status, message), a list of validation errors (422), or text."""
    try:
        detail = json.loads(text).get("detail", text)
    except (ValueError, AttributeError):
        return text[:200]
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("status") or detail)[:200]
    if isinstance(detail, list):
        return "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail)[:200]
    return str(detail)[:200]
