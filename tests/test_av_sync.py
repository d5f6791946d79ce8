"""Sound and picture start together (issue 20: the picture started 67 ms after the sound in every file, and the AAC
encoder's priming put the sound 21 ms late), measured on decoded files."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import av
import numpy as np

from content.media.ffmpeg import ffmpeg_exe
from content.media.platforms import platform_spec
from content.media.soundtrack import Soundtrack, encode, loudness_meter, parse_loudness
from content.media.video_utils import AAC_ARGS, CONTAINER_ARGS, video_encoder_args

RATE = 48_000


def soundtrack_with_a_click(folder: Path, at_s: float, length_s: float) -> Soundtrack:
    """Quiet noise with one sharp click at `at_s`, measured as the renderer measures its mix."""
    samples = np.random.default_rng(1).normal(0, 0.05, round(RATE * length_s)).astype(np.float32)
    samples[round(RATE * at_s):round(RATE * at_s) + 48] += 0.9
    path = folder / "mix.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.repeat(samples[:, None], 2, axis=1) * 32767).astype("<i2").tobytes())
    stderr = subprocess.run([ffmpeg_exe(), "-nostats", "-i", str(path), "-af", loudness_meter(), "-f", "null", "-"],
                            capture_output=True, text=True, check=True).stderr
    return Soundtrack(path, parse_loudness(stderr))


async def test_the_sound_is_heard_when_it_was_mixed_and_both_streams_start_at_zero(tmp_path: Path) -> None:
    """A click mixed at 1.000 s is heard at 1.000 s in the delivered file (within 1 ms), and the picture's first
    frame (x264 with B-frames, as a Reel is encoded) and the sound's first sample are both at 0."""
    sound = await encode(soundtrack_with_a_click(tmp_path, 1.0, 3.0), tmp_path / "sound.m4a", AAC_ARGS)
    spec = platform_spec("instagram_reels")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=540x960:r=30:d=3",
                    *video_encoder_args(spec, fps=30), str(tmp_path / "video.mp4")], check=True)
    reel = tmp_path / "reel.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "video.mp4"), "-i", str(sound), "-map", "0:v",
                    "-map", "1:a", "-c", "copy", *CONTAINER_ARGS, str(reel)], check=True)
    with av.open(str(reel)) as container:
        first_picture = next(container.decode(video=0)).time
    with av.open(str(reel)) as container:
        first_sound = next(container.decode(audio=0)).time
    assert first_picture == first_sound == 0.0, (first_picture, first_sound)
    decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(reel), "-map", "0:a", "-f", "f32le", "-ac", "1",
                              "-"], capture_output=True, check=True).stdout
    heard = np.frombuffer(decoded, np.float32)
    click_s = (np.argmax(heard[RATE // 2:RATE * 3 // 2]) + RATE // 2) / RATE
    assert abs(click_s - 1.0) <= 0.001, click_s
