"""Burning captions into the picture cheaply: libass draws only the frames whose picture changes.

Drawing every glyph's fill, outline and shadow on every frame (the `ass` filter over the whole video) costs about as
much as encoding the backdrop on a 2-core machine. But captions cut in and out without animation, and gradient
backdrops move in whole steps, so the picture only changes when a caption event starts or ends or the backdrop steps.
Only those frames go through libass; the `fps` filter then repeats each one until the next (x264 encodes the repeats
almost for free). The result is identical, frame for frame, to drawing every frame (tests/test_renderer.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from content.ass import Event, centis


def changed_frames(events: Sequence[Event], fps: int, duration_s: float,
                   backdrop_moves: Iterable[int] = ()) -> list[int]:
    """The frames whose picture may differ from the frame before: frame 0, caption changes, backdrop steps."""
    last = round(duration_s * fps) - 1
    frames = {0, *backdrop_moves}
    for event in events:
        start, end = centis(event.start_s), centis(event.end_s)  # the times libass sees, as written to the script
        if end > start:
            frames.update((_first_frame_at(start * 10, fps), _first_frame_at(end * 10, fps)))
    return sorted(frame for frame in frames if frame <= last)


def burn(script: str, fonts_dir: str, fps: int, frames: Iterable[int] | None, background: str, output: str) -> str:
    """Filtergraph text: captions from `script` drawn on `background` at `frames` only (None: every frame)."""
    if frames is None:
        return f"[{background}]ass={script}:fontsdir={fonts_dir}[{output}]"
    picked = "+".join(f"eq(n,{frame})" for frame in sorted(frames))
    return f"[{background}]select='{picked}',ass={script}:fontsdir={fonts_dir},fps={fps}[{output}]"


def _first_frame_at(ms: int, fps: int) -> int:
    """The first frame whose time, as ffmpeg's ass filter hands it to libass, is at or after `ms`.

    The filter computes `pts * av_q2d(time_base) * 1000` in double precision and truncates it to whole milliseconds;
    the same arithmetic here picks exactly the frames where libass's picture changes.
    """
    frame = max(ms * fps // 1000 - 1, 0)
    while int(frame * (1 / fps) * 1000) < ms:
        frame += 1
    return frame
