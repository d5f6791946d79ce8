"""A persona's style with every path resolved against the daemon's home, as the local renderer needs it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.font_files import primary_font_path
from core.home import Home
from core.secrets import Secrets
from core.settings import Account, ContentSettings, Style


@dataclass(frozen=True)
class Look:
    style: Style
    font: Path
    fonts_folder: Path
    images_folder: Path | None
    music_folder: Path
    grade: Path | None  # a .cube LUT over the pictures
    reference_image: Path | None  # the persona's photo, for the providers that take a character reference
    beats_cache: Path  # each music track's beats, found once (content/media/beats.py)
    language: str = "en"  # the persona's: which forms its captions' Han characters take, its voice's language
    secrets: Secrets = field(default_factory=lambda: Secrets({}))  # the cloud voices' keys

    @classmethod
    def of(cls, account: Account, content: ContentSettings, home: Home) -> "Look":
        style = account.style
        return cls(
            style=style,
            font=primary_font_path(style.font, home.root),
            fonts_folder=home.resolve(content.fonts_folder),
            images_folder=home.resolve(style.images_folder) if style.images_folder else None,
            music_folder=home.resolve(style.music_folder or content.music_folder),
            grade=home.resolve(style.grade) if style.grade else None,
            reference_image=home.resolve(style.reference_image) if style.reference_image else None,
            beats_cache=home.beats_cache_dir,
            language=account.language,
            secrets=Secrets.load(home.env_file),
        )
