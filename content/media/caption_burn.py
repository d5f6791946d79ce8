"""Burning captions into the picture cheaply: libass draws only the frames whose picture changes.

Drawing every glyph's fill, outline and shadow on every frame (the `ass` filter over the whole video) costs about as
much as encoding the backdrop on a 2-core machine. But captions cut in and out without animation, and gradient
backdrops move in whole steps, so the picture only changes when a caption event starts or ends or the backdrop steps.
Only those frames go through libass; the `fps` filter then repeats each one until the next (x264 encodes the repeats
almost for free). The result is identical, frame for frame, to drawing every frame (tests/test_renderer.py).

The frames are listed in a `sendcmd` file rather than in a `select` expression: ffmpeg's expression parser gives up
past about a hundred terms (a Reel over ~60 s), while a command file of any length is read as data. Its commands open
a gate in front of libass over each run of changed frames: a `metadata` filter in select mode, asking for a key no
frame has, drops every frame while it is enabled and passes them all while it is not.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from content.media.ass import Event, centis

GATE = "metadata@caption_gate"
GATE_FILE = "caption_frames.cmd"
NO_SUCH_KEY = "caption_burn.draw"  # no frame carries it, so the gate, while enabled, passes nothing


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


def write_gate(folder: Path, frames: Iterable[int], fps: int) -> str:
    """The sendcmd file, written into `folder` (where ffmpeg runs), that lets only `frames` through to libass: it
    opens the gate over each run of consecutive frames, half a frame either side. Returns its name for `burn`."""
    lines = []
    for first, last in _runs(sorted(set(frames))):
        start, end = max(first - 0.5, 0) / fps, (last + 0.5) / fps
        lines.append(f"{start:.6f}-{end:.6f} [enter] {GATE} enable 0, [leave] {GATE} enable 1;")
    (folder / GATE_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return GATE_FILE


def burn(script: str, fonts_dir: str, fps: int, gate: str | None, background: str, output: str) -> str:
    """Filtergraph text: captions from `script` drawn on `background` only at the frames the command file `gate`
    (from `write_gate`) lets through; None draws every frame."""
    draw = f"ass={script}:fontsdir={fonts_dir}"
    if gate is None:
        return f"[{background}]{draw}[{output}]"
    return f"[{background}]sendcmd=f={gate},{GATE}=mode=select:key={NO_SUCH_KEY},{draw},fps={fps}[{output}]"


def _runs(frames: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted frame numbers as (first, last) runs of consecutive frames."""
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and frame == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs


def _first_frame_at(ms: int, fps: int) -> int:
    """The first frame whose time, as ffmpeg's ass filter hands it to libass, is at or after `ms`.

    The filter computes `pts * av_q2d(time_base) * 1000` in double precision and truncates it to whole milliseconds;
    the same arithmetic here picks exactly the frames where libass's picture changes.
    """
    frame = max(ms * fps // 1000 - 1, 0)
    while int(frame * (1 / fps) * 1000) < ms:
        frame += 1
    return frame
