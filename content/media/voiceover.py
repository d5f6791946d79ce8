"""Narration: the persona's voice engines (settings.Voiceover.engine) asked in turn, the first that speaks every
caption wins. What an engine said is kept in the workdir under what it said and how, so a render done again (after
a crash, for the scenes of a Reel) reuses it rather than paying twice."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from loguru import logger

from content.media.voices.contract import Speech, VoiceEngine, VoiceError
from content.media.voices.elevenlabs import ElevenLabsEngine
from content.media.voices.espeak import EspeakVoice
from content.media.voices.openai_speech import OpenAISpeech
from core.secrets import Secrets
from core.settings import VoiceEngineName, Voiceover

ENGINES: dict[VoiceEngineName, type[VoiceEngine]] = {
    "espeak": EspeakVoice, "elevenlabs": ElevenLabsEngine, "openai": OpenAISpeech,
}


async def narrate(texts: list[str], settings: Voiceover, workdir: Path, language: str = "en",
                  secrets: Secrets | None = None) -> list[Speech] | None:
    """Each text spoken into its own WAV by the first engine that can, in the persona's voice or its `language`'s;
    None (and a log line saying why) when no engine can."""
    if not settings.enabled:
        return None
    for name in settings.engine:
        engine = ENGINES[name](settings, language, secrets or Secrets({}))
        missing = engine.missing_requirements()
        if missing:
            logger.warning(f"voice engine {name} skipped: it needs {', '.join(missing)}")
            continue
        try:
            spoken = [await _spoken(engine, text, workdir / "voice") for text in texts]
        except VoiceError as exc:
            logger.warning(f"voice engine {name} failed ({exc})")
            continue
        if engine.price_usd_per_character:
            logger.info(f"voiceover by {name}: {sum(map(len, texts))} characters, about "
                        f"${engine.estimate_usd(texts):.4f}")
        return spoken
    logger.warning(f"no voice engine could speak ({', '.join(settings.engine)}): music only")
    return None


async def _spoken(engine: VoiceEngine, text: str, folder: Path) -> Speech:
    """The engine's speech of `text`: made once, then read back from `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{engine.name}\n{engine.identity()}\n{text}".encode()).hexdigest()[:16]
    wav, timings = folder / f"{engine.name}-{key}.wav", folder / f"{engine.name}-{key}.json"
    if wav.is_file() and timings.is_file():
        kept = json.loads(timings.read_text(encoding="utf-8"))
        return Speech(wav, kept["duration_s"], tuple(kept["word_starts"]))
    speech = await engine.speak(text, wav)
    timings.write_text(json.dumps({"duration_s": speech.duration_s, "word_starts": speech.word_starts}),
                       encoding="utf-8")  # written last: a WAV without it was cut short and is made again
    return speech
