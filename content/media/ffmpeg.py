"""ffmpeg as an async subprocess: an argument list, captured stderr, progress, a typed error, no orphans."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import imageio_ffmpeg

from core.errors import FFmpegError

ProgressCallback = Callable[[float], None]


@cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped in the imageio-ffmpeg wheel (libx264, libass, drawtext), or IMAGEIO_FFMPEG_EXE."""
    return imageio_ffmpeg.get_ffmpeg_exe()


async def run_ffmpeg(
    args: Sequence[str],
    *,
    what: str,
    duration_s: float | None = None,
    on_progress: ProgressCallback | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ffmpeg with `args` (in `cwd`, so filtergraphs can use plain relative names); returns its stderr.

    `on_progress` gets 0..1 when `duration_s` is known.
    If the caller is cancelled, the process is killed and reaped before the cancellation propagates.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd
    )
    stderr_task = asyncio.ensure_future(process.stderr.read())  # type: ignore[union-attr]
    try:
        async for raw in process.stdout:  # type: ignore[union-attr]
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if on_progress and duration_s and key == "out_time_us" and value.lstrip("-").isdigit():
                on_progress(min(max(int(value) / 1e6 / duration_s, 0.0), 1.0))
        stderr = (await stderr_task).decode(errors="replace")
        returncode = await process.wait()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
        stderr_task.cancel()
    if returncode != 0:
        raise FFmpegError(what, returncode, stderr)
    return stderr
