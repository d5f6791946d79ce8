"""Each scene's picture, from the persona's sources in its order (`style.scene_sources`), the first that has one:
its own media library (photos panned, clips trimmed), stock footage (whatever `FindFootage` the caller passes), and
generated backdrops, which always answer.

A picture is chosen once per Reel and drawn for each frame it is delivered in (a variant for another platform is
reframed from the same pictures, never looked up again).
"""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from content.media import backgrounds
from content.media.footage import FindFootage, Footage, Wanted, orientation_of
from content.media.frame import Frame
from content.media.look import Look
from content.media.media import MediaInfo, probe
from content.media.timeline import Scene
from core.errors import MediaError


@dataclass(frozen=True)
class Picture:
    draw: Callable[[Frame], backgrounds.Input]  # the scene's ffmpeg input for a frame
    source: str  # "ai" (a provider's clip for the scene) | "library" | "stock" | "generated" | "provider"
    credit: dict[str, str] | None = None  # stock footage's attribution


async def choose(look: Look, scenes: list[Scene], frame: Frame, workdir: Path, seed: int, fps: int,
                 find_footage: FindFootage | None, made: Mapping[int, Path] | None = None) -> list[Picture]:
    """One picture a scene, chosen for `frame` (stock footage of its orientation): the clip a provider `made` for
    it, else the persona's sources in order. Library items are taken in turn (from a place set by `seed`), stock
    clips never twice in one Reel."""
    library = _library(look)
    used: set[str] = set()
    pictures = []
    for index, scene in enumerate(scenes):
        length = scene.end_s - scene.start_s + backgrounds.TRANSITION_S
        clip = (made or {}).get(index)
        picture = await _from_provider(clip, workdir, index, length, fps) if clip else None
        for source in [] if picture else look.style.scene_sources:
            if source == "library" and library:
                picture = await _from_library(library[(seed + index) % len(library)], workdir, index, length,
                                              seed, fps)
            elif source == "stock" and find_footage is not None:
                wanted = Wanted(length, orientation_of(frame.width, frame.height), frame.width, frame.height)
                found = await find_footage(scene, wanted, used)
                if found is not None:
                    used.add(found.credit.id if found.credit else str(found.path))
                    picture = _from_stock(found, workdir, index, length, fps)
            elif source == "generated":
                break
            if picture is not None:
                break
        pictures.append(picture or _generated(list(scene.palette) or look.style.palette.background, workdir, index,
                                              seed, own_colours=bool(scene.palette)))
    return pictures


def stretches(given: MediaInfo, scenes: list[Scene], workdir: Path, fps: int) -> list[Picture]:
    """A provider's video as the Reel's pictures: each scene shows the stretch of it that plays at the scene's time
    (from its start again, should the video be shorter than the Reel)."""
    link, duration_s = scratch_link(given.path, workdir, "provider"), given.duration_s

    def stretch(scene: Scene) -> Picture:
        start, length = scene.start_s % duration_s, scene.end_s - scene.start_s + backgrounds.TRANSITION_S
        return Picture(lambda frame: backgrounds.clip(link, start, length, duration_s - start, fps, frame,
                                                      given.video), "provider")

    return [stretch(scene) for scene in scenes]


def _generated(colours: list[str], workdir: Path, index: int, seed: int, own_colours: bool) -> Picture:
    def draw(frame: Frame) -> backgrounds.Input:
        return backgrounds.scene_still(workdir / f"scene-{index}-{frame.width}x{frame.height}.rgb", colours, seed,
                                       index, frame, own_colours)

    return Picture(draw, "generated")


def sourced(scenes: list[Scene], pictures: list[Picture]) -> list[Scene]:
    """The timeline saying where each scene's picture came from."""
    return [dataclasses.replace(scene, source=picture.source, credit=picture.credit)
            for scene, picture in zip(scenes, pictures)]


def _library(look: Look) -> list[Path]:
    media = backgrounds.find_media(look.images_folder) if look.images_folder else []
    if look.images_folder and not media:
        logger.warning(f"no photos or clips in {look.images_folder}: the persona's other scene sources instead")
    return media


async def _from_library(item: Path, workdir: Path, index: int, length_s: float, seed: int,
                        fps: int) -> Picture | None:
    """A photo, panned; or a clip, trimmed to the scene from a place of its own (a long clip gives each Reel
    another part of it)."""
    link = scratch_link(item, workdir, f"library-{index}")
    if item.suffix.lower() in backgrounds.IMAGE_SUFFIXES:
        return Picture(lambda frame: backgrounds.image_still(link, *backgrounds.scene_size(frame)), "library")
    info = await _moving(item, f"library clip {item.name}", f"the next source for scene {index + 1}")
    if info is None:
        return None
    spare = max(info.duration_s - length_s, 0.0)
    start = random.Random(seed * 7 + index).uniform(0, spare) if spare > 0 else 0.0
    return Picture(lambda frame: backgrounds.clip(link, start, length_s, info.duration_s, fps, frame, info.video),
                   "library")


async def _from_provider(clip: Path, workdir: Path, index: int, length_s: float, fps: int) -> Picture | None:
    """The clip a provider made for this scene alone, from its start (a short one loops)."""
    info = await _moving(clip, f"the clip made for scene {index + 1}", "the persona's sources instead")
    if info is None:
        return None
    link = scratch_link(clip, workdir, f"ai-{index}")
    return Picture(lambda frame: backgrounds.clip(link, 0.0, length_s, info.duration_s, fps, frame, info.video), "ai")


async def _moving(clip: Path, what: str, instead: str) -> MediaInfo | None:
    """`clip` probed, or None (and one log line naming `what` and what shows `instead`) when it cannot be read or
    has no picture."""
    try:
        info = await probe(clip)
    except MediaError as exc:
        logger.warning(f"{what} is unreadable ({exc}): {instead}")
        return None
    if info.video is None or info.duration_s <= 0:
        logger.warning(f"{what} has no picture: {instead}")
        return None
    return info


def _from_stock(found: Footage, workdir: Path, index: int, length_s: float, fps: int) -> Picture:
    link = scratch_link(found.path, workdir, f"stock-{index}")
    credit = dataclasses.asdict(found.credit) if found.credit else None
    return Picture(lambda frame: backgrounds.clip(link, 0.0, length_s, found.duration_s, fps, frame, found.video),
                   "stock", credit)


def scratch_link(target: Path, workdir: Path, name: str) -> Path:
    """`target` under the scratch folder, by a plain name (ffmpeg runs there; the user's names may hold anything)."""
    link = workdir / f"{name}{target.suffix.lower()}"
    link.unlink(missing_ok=True)
    link.symlink_to(target.resolve())
    return link
