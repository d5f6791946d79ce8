"""Narration: the persona's voice engines (settings.Voiceover.engine) asked in turn, the first that speaks every
caption wins. What an engine said is kept in the workdir under what it said and how, and read back rather than made
again. A paid engine's speech is bought apart (`buy`, which the engine's runner reserves and settles in the budget
ledger as it does a provider's attempt): narrating spends nothing, it reads a paid engine's speech from what was
bought, or goes on to the next engine."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from loguru import logger

from content.media.voices.contract import Speech, VoiceEngine, VoiceError
from core.files import write_atomically
from core.secrets import Secrets
from core.settings import Voiceover

ENGINES = {  # by settings.VoiceEngineName: module:class, imported on first use (openai's SDK takes 1.5 s to load)
    "espeak": "content.media.voices.espeak:EspeakVoice",
    "elevenlabs": "content.media.voices.elevenlabs:ElevenLabsEngine",
    "openai": "content.media.voices.openai_speech:OpenAISpeech",
}


def engine_named(name: str, settings: Voiceover, language: str, secrets: Secrets) -> VoiceEngine | None:
    """The engine called `name` (as an attempt records it), or None when there is none by that name."""
    return _engine(name, settings, language, secrets) if name in ENGINES else None


def _engine(name: str, settings: Voiceover, language: str, secrets: Secrets) -> VoiceEngine:
    module, _, attribute = ENGINES[name].partition(":")
    engine: type[VoiceEngine] = getattr(import_module(module), attribute)
    return engine(settings, language, secrets)


def ready_engines(settings: Voiceover, language: str, secrets: Secrets) -> list[VoiceEngine]:
    """The persona's engines in its order, minus those that lack a key or a library."""
    return [engine for engine, missing in _engines(settings, language, secrets) if not missing]


def _engines(settings: Voiceover, language: str, secrets: Secrets) -> list[tuple[VoiceEngine, list[str]]]:
    """The persona's engines in its order (none when its voiceover is off), each with what it lacks to speak (a key,
    a library)."""
    made = [_engine(name, settings, language, secrets) for name in settings.engine if settings.enabled]
    return [(engine, engine.missing_requirements()) for engine in made]


async def narrate(texts: list[str], settings: Voiceover, workdir: Path, language: str = "en",
                  secrets: Secrets | None = None) -> list[Speech] | None:
    """Each text spoken into its own WAV by the first engine that can, in the persona's voice or its `language`'s;
    None (and a log line saying why) when no engine can."""
    if not settings.enabled:
        return None
    for engine, missing in _engines(settings, language, secrets or Secrets({})):
        if missing:
            logger.warning(f"voice engine {engine.name} skipped: it needs {', '.join(missing)}")
            continue
        if engine.price_usd_per_character and unbought(engine, texts, workdir):
            logger.info(f"voice engine {engine.name} skipped: its speech was not bought for this Reel")
            continue
        try:
            spoken = [await _spoken(engine, text, workdir) for text in texts]
        except VoiceError as exc:
            logger.warning(f"voice engine {engine.name} failed ({exc})")
            continue
        logger.info(f"voiceover by {engine.name}: {len(spoken)} lines, {sum(s.duration_s for s in spoken):.1f} s")
        return spoken
    logger.warning(f"no voice engine could speak ({', '.join(settings.engine)}): music only")
    return None


def unbought(engine: VoiceEngine, texts: Sequence[str], workdir: Path) -> list[str]:
    """The texts whose speech by `engine` is not kept in `workdir` yet."""
    return [text for text in texts if not all(path.is_file() for path in _kept(engine, text, workdir))]


async def buy(engine: VoiceEngine, texts: Sequence[str], workdir: Path) -> None:
    """Have a paid `engine` speak every text not bought yet, kept in `workdir` for `narrate`. Raises VoiceError
    (its `billed` saying whether the call that failed may have been paid for)."""
    wanted = unbought(engine, texts, workdir)
    for text in wanted:
        await _spoken(engine, text, workdir)
    logger.info(f"voiceover bought from {engine.name}: {sum(map(len, wanted))} characters, about "
                f"${engine.estimate_usd(wanted):.4f}")


def _kept(engine: VoiceEngine, text: str, workdir: Path) -> tuple[Path, Path]:
    """Where the engine's speech of `text` is kept: its WAV, and its timings (written last)."""
    key = hashlib.sha256(f"{engine.name}\n{engine.identity()}\n{text}".encode()).hexdigest()[:16]
    folder = workdir / "voice"
    return folder / f"{engine.name}-{key}.wav", folder / f"{engine.name}-{key}.json"


async def _spoken(engine: VoiceEngine, text: str, workdir: Path) -> Speech:
    """The engine's speech of `text`: made once, then read back."""
    wav, timings = _kept(engine, text, workdir)
    if wav.is_file() and timings.is_file():
        kept = json.loads(timings.read_text(encoding="utf-8"))
        return Speech(wav, kept["duration_s"], tuple(kept["word_starts"]))
    wav.parent.mkdir(parents=True, exist_ok=True)
    speech = await engine.speak(text, wav)
    write_atomically(timings, json.dumps({"duration_s": speech.duration_s, "word_starts": speech.word_starts}))
    # written last: a WAV without its timings was cut short, and is made again
    return speech
