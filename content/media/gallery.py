"""The style gallery (`main.py gallery`): one frame per caption preset and per script, drawn exactly as a Reel's
captions are (the layout, libass, colour emoji over their places), on one contact sheet, so a persona's look can be
chosen, and checked after a change, by eye."""
from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from PIL import Image, ImageDraw, ImageFont

from content.media import ass
from content.media.captions import Segment, in_capitals, time_words
from content.media.ffmpeg import ProgressCallback, run_ffmpeg
from content.media.fonts import font_chain
from content.media.frame import Frame
from content.media.layouts import LAYOUTS
from content.media.platforms import platform_spec
from content.media.renderer import caption_layers, caption_look
from core.font_files import BUNDLED_FONTS, primary_font_path
from core.home import Home
from core.settings import CaptionPreset, Style


@dataclass(frozen=True)
class Sample:
    script: str
    language: str
    text: str


SAMPLES = (
    Sample("Latin", "en", "Five morning habits that actually stick"),
    Sample("Arabic", "ar", "خمس عادات صباحية تدوم فعلا"),
    Sample("Hindi", "hi", "सुबह की पाँच आदतें जो सच में टिकती हैं"),
    Sample("Chinese", "zh", "真正能坚持的五个早起习惯"),
    Sample("Japanese", "ja", "本当に続く朝の五つの習慣"),
    Sample("Emoji", "en", "Ship it today 🔥 👩‍💻 🇯🇵 👍🏽 1️⃣"),
)
PLATFORM = "instagram_reels"
CELL = (360, 640)  # each frame on the sheet, a third of 1080x1920
LABEL_H = 56


async def render_gallery(style: Style, home: Home, out: Path, on_progress: ProgressCallback | None = None) -> Path:
    """Frames of every preset (rows) by every script (columns) in `style`'s font, palette and template, joined into
    the contact sheet `out` (PNG or JPEG, by its suffix); `on_progress` hears the share of frames drawn."""
    presets: tuple[CaptionPreset, ...] = get_args(CaptionPreset)
    done: list[Image.Image] = []
    with tempfile.TemporaryDirectory(prefix="gallery-") as scratch:
        running = asyncio.Semaphore(os.cpu_count() or 1)

        async def frame(preset: CaptionPreset, index: int, sample: Sample) -> Image.Image:
            async with running:
                drawn = await _frame(style.model_copy(update={"captions": preset}), sample, home,
                                     Path(scratch) / f"{preset}-{index}")
            done.append(drawn)
            if on_progress is not None:
                on_progress(len(done) / (len(presets) * len(SAMPLES)))
            return drawn

        frames = await asyncio.gather(*(frame(preset, i, sample) for preset in presets
                                        for i, sample in enumerate(SAMPLES)))
        sheet = _sheet([f"{preset}" for preset in presets], [sample.script for sample in SAMPLES], list(frames))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=88) if out.suffix.lower() in {".jpg", ".jpeg"} else sheet.save(out)
    return out


async def _frame(style: Style, sample: Sample, home: Home, folder: Path) -> Image.Image:
    """The sample as a Reel's hook, seen while its second word is read (an entrance has settled by then)."""
    spec = platform_spec(PLATFORM)
    frame = Frame.of(spec)
    chain = font_chain(primary_font_path(style.font, home.root), home.resolve("data/fonts"), sample.language)
    hook = Segment("hook", 0.0, 3.0, time_words(sample.text, 0.0, 3.0))
    cta = Segment("cta", 3.0, 5.0, time_words("Follow for more", 3.0, 4.5))
    shown = [in_capitals(s) for s in (hook, cta)] if style.uppercase else [hook, cta]
    look = caption_look(style, PLATFORM)
    events = LAYOUTS[style.template](shown, chain, look, [], frame)
    chain.link_used(folder / "fonts", [event.text for event in events])
    (folder / "captions.ass").write_text(ass.script(events, chain.primary, look, frame), encoding="utf-8")
    stickers = [sticker for event in events for sticker in event.stickers]
    inputs, layers = caption_layers("captions.ass", stickers, folder, 1)
    second = hook.words[min(1, len(hook.words) - 1)]
    colours = style.palette.background
    backdrop = (f"gradients=s={frame.width}x{frame.height}:c0=0x{colours[0][1:]}:c1=0x{colours[-1][1:]}:"
                f"x0=0:y0=0:x1={frame.width}:y1={frame.height}:speed=0:seed=1:r=30:d=5")
    await run_ffmpeg(
        ["-y", "-f", "lavfi", "-i", backdrop, *inputs, "-filter_complex",
         f"[0:v]format=yuv420p,{layers},scale={CELL[0]}:{CELL[1]}:in_color_matrix=bt709:flags=lanczos,format=rgb24[v]",
         "-map", "[v]", "-ss", f"{(second.start_s + second.end_s) / 2:.3f}", "-frames:v", "1", "frame.png"],
        what=f"drawing the gallery's {style.captions} {sample.script} frame", cwd=folder)
    return Image.open(folder / "frame.png").convert("RGB")


def _sheet(rows: list[str], columns: list[str], frames: list[Image.Image]) -> Image.Image:
    """Frames in a grid, the scripts named over the columns and the presets beside the rows."""
    width, height = CELL
    sheet = Image.new("RGB", (LABEL_H * 3 + width * len(columns), LABEL_H + height * len(rows)), "#111111")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(BUNDLED_FONTS["DejaVu Sans"]), 30)
    for column, name in enumerate(columns):
        draw.text((LABEL_H * 3 + column * width + width // 2, LABEL_H // 2), name, font=font, fill="white",
                  anchor="mm")
    for row, name in enumerate(rows):
        draw.text((LABEL_H * 3 // 2, LABEL_H + row * height + height // 2), name, font=font, fill="white",
                  anchor="mm")
        for column in range(len(columns)):
            sheet.paste(frames[row * len(columns) + column], (LABEL_H * 3 + column * width, LABEL_H + row * height))
    return sheet
