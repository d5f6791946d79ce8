"""BT.709 from end to end: what a file's colour tags say, and the filters that bring any picture to tagged BT.709 SDR.

Every Reel is H.264 8-bit BT.709 (primaries, transfer and matrix) in TV range, and says so in its stream: a player
that has to guess picks BT.601 for SD and BT.709 for HD, and a wrong guess shifts every hue. RGB (our stills, the
captions) is turned into YUV with the BT.709 matrix; a clip in another matrix is converted; an HDR clip (HLG or PQ,
BT.2020) is tone-mapped to SDR, else it comes out washed-out and grey.
"""
from __future__ import annotations

from content.media.media import VideoStream

TAG_ARGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
TAG_FRAMES = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
TO_BT709 = ":out_color_matrix=bt709:out_range=tv"  # appended to a scale filter's options
HDR_TRANSFERS = {"arib-std-b67": "HLG", "smpte2084": "PQ"}
SD_HEIGHT = 576  # an untagged clip this tall or less is taken as BT.601 (as players do), a taller one as BT.709
SCALE_MATRICES = {"bt709": "bt709", "bt470bg": "bt601", "smpte170m": "bt601", "bt2020nc": "bt2020",
                  "fcc": "fcc", "smpte240m": "smpte240m"}
# Linear light → BT.709 primaries → mobius (keeps tones under the knee as they were) → BT.709 8-bit TV range.
TONE_MAP = ("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=mobius:desat=0,"
            "zscale=t=bt709:m=bt709:r=tv,format=yuv420p,")


def is_bt709_sdr(video: VideoStream) -> bool:
    return (video.primaries, video.transfer, video.matrix, video.colour_range) == ("bt709", "bt709", "bt709", "tv") \
        and video.bit_depth == 8


def describe(video: VideoStream) -> str:
    """The colour as one phrase: `BT.709 SDR, tv range, 8-bit`, `HLG (arib-std-b67), bt2020, 10-bit`, `untagged`."""
    depth = f"{video.bit_depth}-bit"
    if video.transfer in HDR_TRANSFERS:
        return f"HDR {HDR_TRANSFERS[video.transfer]} ({video.transfer}), primaries {video.primaries}, {depth}"
    tags = {"primaries": video.primaries, "transfer": video.transfer, "matrix": video.matrix,
            "range": video.colour_range}
    if video.primaries is None and video.transfer is None and video.matrix is None:
        return f"untagged, {depth}"
    if is_bt709_sdr(video):
        return "BT.709 SDR, tv range, 8-bit"
    return ", ".join(f"{name} {value or 'unset'}" for name, value in tags.items()) + f", {depth}"


def source_matrix(video: VideoStream) -> str:
    """The matrix `video` was encoded with, as scale's in_color_matrix names it; an untagged one guessed by size."""
    if video.matrix in SCALE_MATRICES:
        return SCALE_MATRICES[video.matrix]
    return "bt601" if video.height <= SD_HEIGHT else "bt709"


def tone_map(video: VideoStream | None) -> str:
    """Filters (ending in a comma) that bring an HDR `video` to SDR BT.709 yuv420p; empty for SDR."""
    return TONE_MAP if video is not None and video.transfer in HDR_TRANSFERS else ""


def scale_options(video: VideoStream | None) -> str:
    """Options for the scale filter that resizes `video`: from its own matrix (a tone-mapped one is BT.709 by
    then) to BT.709 TV range."""
    if video is None:
        return TO_BT709
    source = "bt709" if tone_map(video) else source_matrix(video)
    return f":in_color_matrix={source}{TO_BT709}"
