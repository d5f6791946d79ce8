"""Perceived quality of an encode against its source: VMAF (libvmaf, bundled in imageio-ffmpeg's ffmpeg)."""
from __future__ import annotations

import re
from pathlib import Path

from content.media.ffmpeg import run_ffmpeg
from core.errors import MediaError

_SCORE = re.compile(r"VMAF score:\s*([\d.]+)")


async def vmaf(distorted: Path, reference: Path, subsample: int = 3) -> float:
    """VMAF (0-100) of `distorted` against `reference`, scoring every `subsample`-th frame pair. Both are read as
    BT.709 (our encodes are, an untagged HD source is taken so): ffmpeg would otherwise convert the one untagged
    into the other's matrix and score the conversion, not the encode."""
    same = "setparams=colorspace=bt709:range=tv"
    graph = (
        f"[0:v]setpts=PTS-STARTPTS,{same},format=yuv420p[d];[1:v]setpts=PTS-STARTPTS,{same},format=yuv420p[r];"
        "[r][d]scale2ref=flags=bicubic[rs][ds];"
        f"[ds][rs]libvmaf=n_threads=2:n_subsample={subsample}"
    )
    stderr = await run_ffmpeg(["-i", str(distorted), "-i", str(reference), "-lavfi", graph, "-f", "null", "-"],
                              what=f"scoring {distorted.name} with VMAF")
    match = _SCORE.search(stderr)
    if match is None:
        raise MediaError(f"VMAF printed no score for {distorted.name}")
    return float(match.group(1))
