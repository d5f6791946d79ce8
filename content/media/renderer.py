"""The local renderer: a brief and a persona's look become a finished Reel through ffmpeg filtergraphs (no Python
frame loops).

Steps: time the captions (to reading speed, or to the voiceover), which makes the scenes (hook, each beat, the end
card), choose each scene's picture (content/media/pictures.py), lay the captions out with the persona's template for
the platform's frame, then encode the picture (each scene's still panned or clip trimmed, graded, the scenes joined by
the persona's transition, the captions burnt in by libass → x264) and the sound (mixed, measured, brought to
-14 LUFS) side by side, and mux them; then the same for each variant's frame, with the same sound.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from content.briefs.brief import Brief
from content.media import ass, backgrounds, colour_emoji, contrast, lookalike, pictures, timeline
from content.media.captions import Segment, in_capitals, reading_timeline, speech_timeline
from content.media.ffmpeg import ProgressCallback, run_ffmpeg
from content.media.fonts import SYSTEM_FALLBACKS, FontChain, font_chain
from content.media.footage import FindFootage
from content.media.frame import FPS, Frame
from content.media.layouts import LAYOUTS
from content.media.look import Look
from content.media.media import probe
from content.media.platforms import PlatformSpec, platform_spec, variant_path
from content.media.soundtrack import Bed, build_soundtrack, choose_bed, encode
from content.media.video_utils import AAC_ARGS, CONTAINER_ARGS, video_encoder_args
from content.media.voiceover import narrate
from content.media.voices.contract import Speech
from core.settings import CaptionPreset, Style

TRANSITIONS = {"kinetic": "cut", "list": "slide", "kenburns": "fade"}  # each template's own, unless the style sets one


@dataclass(frozen=True)
class RenderOptions:
    preset: str = "veryfast"
    crf: int = 21


@dataclass(frozen=True)
class Timing:
    """When each caption shows (and the voice that speaks it), the scenes that follow from it, and the music whose
    beats they change on."""
    segments: list[Segment]
    voice: list[Speech] | None
    scenes: list[timeline.Scene]
    bed: Bed


async def time_reel(brief: Brief, look: Look, workdir: Path, length_s: float | None = None) -> Timing:
    """The Reel's timing: to the voiceover when there is one, else to reading speed over `length_s` (the length of
    a provider's video) or the brief's duration; except over a provider's video, captions and scenes change on the
    music's beats (the persona's track's, or the synthesized bed's). The engine asks it first when each scene is
    made apart."""
    workdir.mkdir(parents=True, exist_ok=True)
    like = brief.like  # its look (`following`) is the renderer's: timing needs only its tempo and cuts
    clips = await narrate(narrated_texts(brief), look.style.voiceover, workdir, look.language, look.secrets)
    bed, beats = await choose_bed(look.music_folder, look.style.music_mood, reel_seed(brief), look.beats_cache,
                                  MAX_REEL_S, like.tempo_bpm if like else None)
    if length_s is not None:
        beats = []  # the provider's video sets the times
    if like is not None:  # captions change on the reference's cuts (a voice's pauses held to the next one)
        beats = lookalike.scene_cuts(like, length_s or brief.duration_s)
    segments = speech_timeline(brief, clips, beats) if clips else reading_timeline(
        brief, length_s or brief.duration_s, beats)
    scenes = timeline.plan(brief, segments) if like is None else timeline.plan_like(
        brief, segments, lookalike.scene_cuts(like, segments[-1].end_s), like.shot_palettes)
    return Timing(segments, clips, scenes, bed)


def following(look: Look, brief: Brief, workdir: Path) -> Look:
    """The persona's look, or, for a lookalike, the look its reference gives it (content/media/lookalike.py)."""
    return lookalike.styled(look, brief.like, workdir) if brief.like else look


def narrated_texts(brief: Brief) -> list[str]:
    """What the voiceover says, one text a caption: the hook and each beat."""
    return [brief.hook, *brief.beats]


def reel_seed(brief: Brief) -> int:
    """The brief's own seed: its backdrops, its pictures' order and its music bed (so its beats are known before
    the bed is made)."""
    return int(hashlib.sha256(brief.model_dump_json().encode()).hexdigest()[:12], 16)


async def render_reel(
    brief: Brief,
    look: Look,
    workdir: Path,
    output: Path,
    options: RenderOptions = RenderOptions(),
    on_progress: ProgressCallback | None = None,
    find_footage: FindFootage | None = None,
    platform: str = "instagram_reels",
    variants: Sequence[str] = (),
    over: Path | None = None,
    scene_clips: Mapping[int, Path] | None = None,
    timing: Timing | None = None,
) -> Path:
    """Render `brief` to `output` for `platform` (its frame and safe area; 30 fps, H.264 High, AAC -14 LUFS,
    faststart), its timeline beside it (content/media/timeline.py); scratch in `workdir`. Stock footage, when the
    persona's sources list it, comes from `find_footage`.

    Each of `variants` (other platforms) is reframed from the same timeline, pictures and sound — its captions laid
    out again for its frame and safe area — into `variant_path(output, name)`.

    With `over` (a video a provider made), the Reel is composed over it: its stretches are the scenes' pictures and
    its own sound, when it has any, is the bed under the voice in place of music.

    With `scene_clips` (scene index → a clip a provider made for that scene alone), those scenes show their clips;
    any other scene follows the persona's sources; `timing` is the one `time_reel` gave the engine when it asked for
    them (not timed, nor narrated, again)."""
    workdir.mkdir(parents=True, exist_ok=True)
    look = following(look, brief, workdir)
    style = look.style
    seed = reel_seed(brief)
    chain = font_chain(look.font, look.fonts_folder, look.language)
    texts = [brief.hook, *brief.beats, brief.cta, " ".join(brief.hashtags)]
    _warn_missing_glyphs(chain, texts)
    chain.link_used(workdir / "fonts", texts)

    given = await probe(over) if over is not None else None
    if timing is None:
        timing = await time_reel(brief, look, workdir, given.duration_s if given else None)  # as long as it was made
    segments, clips, scenes = timing.segments, timing.voice, timing.scenes
    duration = segments[-1].end_s
    bed = timing.bed
    if given is None:
        chosen = await pictures.choose(look, scenes, Frame.of(platform_spec(platform)), workdir, seed, FPS,
                                       find_footage, scene_clips)
    else:
        chosen = pictures.stretches(given, scenes, workdir, FPS)
        bed = Bed(given.path) if given.audio is not None else bed
    scenes = pictures.sourced(scenes, chosen)
    shown = [in_capitals(segment) for segment in segments] if style.uppercase else segments

    def picture(name: str, video: Path, progress: ProgressCallback | None) -> Coroutine[Any, Any, None]:
        spec = platform_spec(name)
        text_look = caption_look(style, name)
        events = LAYOUTS[style.template](shown, chain, text_look, brief.hashtags, Frame.of(spec))
        captions = workdir / f"captions-{name}.ass"
        captions.write_text(ass.script(events, chain.primary, text_look, Frame.of(spec)), encoding="utf-8")
        stickers = [sticker for event in events for sticker in event.stickers]
        return _encode_picture(brief, look, chosen, scenes, spec, captions, stickers, video, options, progress)

    voice = [(segment.start_s, clip) for segment, clip in zip(segments, clips or [])]
    sound = workdir / "sound.m4a"
    made = {platform: output, **{name: variant_path(output, name) for name in variants if name != platform}}
    try:  # the first picture and the sound are encoded side by side; variants after; each muxed with the sound
        async with asyncio.TaskGroup() as group:
            group.create_task(picture(platform, workdir / f"video-{platform}.mp4", on_progress))
            group.create_task(_encode_sound(look, duration, seed, voice, sound, bed))
    except ExceptionGroup as errors:
        raise errors.exceptions[0] from None
    for name in made:
        if name != platform:
            await picture(name, workdir / f"video-{name}.mp4", None)
    for name, path in made.items():
        await run_ffmpeg(["-y", "-i", f"video-{name}.mp4", "-i", sound.name, "-map", "0:v", "-map", "1:a", "-c",
                          "copy", "-t", f"{duration:.3f}", *CONTAINER_ARGS, str(path.resolve())], what="muxing",
                         cwd=workdir)
    timeline.save(output, scenes)
    return output


MAX_REEL_S = 300.0  # longer than any Reel, with its voiceover: how far ahead the bed's beats are listed
# Each caption preset (settings.CaptionPreset): how many words show at once (0: the whole caption), how they arrive.
CAPTION_PRESETS: dict[CaptionPreset, tuple[int, ass.Entrance]] = {
    "classic": (0, "none"), "pop": (3, "pop"), "word": (1, "scale"),
}


def caption_look(style: Style, platform: str) -> ass.TextLook:
    """The persona's caption colours and preset on `platform`, the lit word boxed when its colour alone would not
    stand out."""
    stands_out = contrast.ratio(style.palette.text, style.palette.accent) >= contrast.READABLE
    highlight = style.highlight if style.highlight != "auto" else "colour" if stands_out else "box"
    preset = next((p for name, p in style.captions_per_platform.items() if name == platform), style.captions)
    words_at_once, entrance = CAPTION_PRESETS[preset]
    return ass.TextLook(style.palette.text, style.palette.accent, boxed=style.template == "kenburns",
                        highlight=highlight, words_at_once=words_at_once, entrance=entrance)


async def _encode_picture(
    brief: Brief, look: Look, chosen: list[pictures.Picture], scenes: list[timeline.Scene], spec: PlatformSpec,
    captions: Path, stickers: list[colour_emoji.Sticker], video: Path, options: RenderOptions,
    on_progress: ProgressCallback | None,
) -> None:
    """Scenes (graded) → captions → colour emoji → x264, in one ffmpeg run, in the frame of `spec`."""
    duration = scenes[-1].end_s
    lengths = [scene.end_s - scene.start_s for scene in scenes]
    frame = Frame.of(spec)
    backdrop = backgrounds.scenes([picture.draw(frame) for picture in chosen], lengths, FPS,
                                  look.style.transition or TRANSITIONS[look.style.template], frame)
    grade = pictures.scratch_link(look.grade, video.parent, "grade").name if look.grade else None
    sticker_args, over_captions = caption_layers(captions.name, stickers, video.parent, len(backdrop.inputs))
    graph = ";".join(
        [backgrounds.prepare_chain(i, still, None if scene.palette and scene.source == "generated" else grade)
         for i, (still, scene) in enumerate(zip(backdrop.inputs, scenes))]  # a lookalike's own colours ungraded
        + [backdrop.graph, f"[bg]{over_captions}[v]"]
    )
    await run_ffmpeg(
        ["-y", *[arg for still in backdrop.inputs for arg in still.args], *sticker_args, "-filter_complex", graph,
         "-map", "[v]",
         "-t", f"{duration:.3f}", "-r", str(FPS),
         *video_encoder_args(spec, fps=FPS, preset=options.preset, crf=options.crf),
         video.name],
        what=f"rendering '{brief.topic[:40]}' for {spec.name}", duration_s=duration, on_progress=on_progress,
        cwd=video.parent,
    )


def caption_layers(captions: str, stickers: Sequence[colour_emoji.Sticker], folder: Path,
                   first_input: int) -> tuple[list[str], str]:
    """The inputs and the filter chain that draw the ASS file `captions` (in `folder`, fonts in its fonts/) and then
    each colour emoji over the place it keeps, while it is shown; the emoji's pictures are inputs from
    `first_input` on, turned to YUV with the BT.709 matrix like the rest of the frame. Each picture is one frame,
    converted once and held by the overlay (eof_action=repeat): a looped input would decode and convert it again
    for every frame of the Reel (a sixth of the render's time for nine emoji)."""
    args: list[str] = []
    chain = f"ass={captions}:fontsdir=fonts"
    for index, sticker in enumerate(stickers, start=first_input):
        picture = colour_emoji.draw(sticker, folder / "emoji").relative_to(folder)
        args += ["-i", str(picture)]
        x, y = round(sticker.x - sticker.side / 2), round(sticker.y - sticker.side / 2)
        chain += (f"[c{index}];[{index}:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[e{index}];"
                  f"[c{index}][e{index}]overlay={x}:{y}:eof_action=repeat:"
                  f"enable='between(t,{sticker.start_s:.3f},{sticker.end_s:.3f})'")
    return args, chain


async def _encode_sound(look: Look, duration_s: float, seed: int, voice: list[tuple[float, Speech]],
                        sound: Path, bed: Bed) -> None:
    """The bed — music, or a provider video's own sound — and narration mixed, measured, then brought to -14 LUFS
    while encoding to AAC."""
    soundtrack = await build_soundtrack(sound.parent, duration_s, seed, look.style.music_mood, bed, voice)
    await encode(soundtrack, sound, AAC_ARGS)


def _warn_missing_glyphs(chain: FontChain, texts: list[str]) -> None:
    missing = chain.missing(" ".join(texts))
    if missing:
        shown = " ".join(f"{ch} (U+{ord(ch):04X})" for ch in missing[:8])
        packages = ", ".join(package for _, package, _ in SYSTEM_FALLBACKS)
        logger.warning(f"no installed font draws {shown}; left out of the captions (Debian fonts: {packages})")
