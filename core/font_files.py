"""Where the font a config names lives: a family bundled with a Python wheel we depend on, or a font file under the
home. Resolved when the config is read, so a missing font is a config error (content/media/fonts.py reads the
files)."""
from __future__ import annotations

import importlib.util
from pathlib import Path


def _package_dir(package: str) -> Path:
    """Found without importing the package (matplotlib's import costs a third of a second at every start)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, f"{package} (requirements.txt) is not installed"
    return Path(spec.origin).parent


_DEJAVU = _package_dir("matplotlib") / "mpl-data" / "fonts" / "ttf"
# Always present, since their wheels ship them. DejaVu (matplotlib's): Latin with accents, Greek, Cyrillic, Arabic,
# Hebrew, some emoji. Anton (fontpkg-anton, SIL Open Font Licence): a heavy condensed display face for Latin and
# Vietnamese captions, the look of most Reels.
BUNDLED_FONTS = {
    "DejaVu Sans": _DEJAVU / "DejaVuSans-Bold.ttf",
    "DejaVu Serif": _DEJAVU / "DejaVuSerif-Bold.ttf",
    "DejaVu Sans Mono": _DEJAVU / "DejaVuSansMono-Bold.ttf",
    "Anton": _package_dir("fontpkg_anton") / "files" / "Anton-Regular.ttf",
}
DEFAULT_FAMILY = "DejaVu Sans"
DEFAULT_FONT = BUNDLED_FONTS[DEFAULT_FAMILY]


def primary_font_path(name: str, home_root: Path) -> Path:
    """A bundled family name, or a font file path relative to the daemon's home; ValueError names the choices."""
    if name in BUNDLED_FONTS:
        return BUNDLED_FONTS[name]
    path = Path(name) if Path(name).is_absolute() else home_root / name
    if path.suffix.lower() not in {".ttf", ".otf", ".ttc"}:
        families = ", ".join(BUNDLED_FONTS)
        raise ValueError(f"{name!r} is neither a bundled family ({families}) nor a .ttf/.otf/.ttc file")
    if not path.is_file():
        raise ValueError(f"font file {name!r} not found")
    return path
