"""Narration with espeak-ng (Debian package `espeak-ng`): one WAV per caption, so captions can follow the speech."""
from __future__ import annotations

import asyncio
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from core.settings import Voiceover


@dataclass(frozen=True)
class Clip:
    path: Path
    duration_s: float


async def narrate(texts: list[str], settings: Voiceover, workdir: Path) -> list[Clip] | None:
    """Speak each text into its own WAV; None (and a log line saying why) when narration is unavailable."""
    if not settings.enabled:
        return None
    exe = shutil.which("espeak-ng")
    if exe is None:
        logger.warning("voiceover is enabled but espeak-ng is not installed (apt-get install espeak-ng): music only")
        return None
    clips = []
    for index, text in enumerate(texts):
        path = workdir / f"voice-{index}.wav"
        process = await asyncio.create_subprocess_exec(
            exe, "-v", settings.voice, "-s", str(settings.words_per_minute), "-w", str(path), "--", text,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        if process.returncode != 0 or not path.exists():
            reason = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {process.returncode}"]
            logger.warning(f"voiceover failed ({reason[0]}): music only")
            return None
        with wave.open(str(path), "rb") as audio:
            clips.append(Clip(path, audio.getnframes() / audio.getframerate()))
    return clips
