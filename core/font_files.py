"""Where the font a config names lives: a family bundled with matplotlib's wheel, or a font file under the home.
Resolved when the config is read, so a missing font is a config error (content/media/fonts.py reads the files)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

# Found without importing matplotlib (a third of a second at every start): its wheel keeps them in mpl-data/.
_MATPLOTLIB = importlib.util.find_spec("matplotlib")
assert _MATPLOTLIB is not None and _MATPLOTLIB.origin is not None, "matplotlib (requirements.txt) is not installed"
BUNDLED_DIR = Path(_MATPLOTLIB.origin).parent / "mpl-data" / "fonts" / "ttf"
# Always present (matplotlib's wheel ships them): Latin with accents, Greek, Cyrillic, Arabic, Hebrew, some emoji.
BUNDLED_FAMILIES = {
    "DejaVu Sans": "DejaVuSans-Bold.ttf",
    "DejaVu Serif": "DejaVuSerif-Bold.ttf",
    "DejaVu Sans Mono": "DejaVuSansMono-Bold.ttf",
}
DEFAULT_FAMILY = "DejaVu Sans"


def primary_font_path(name: str, home_root: Path) -> Path:
    """A bundled family name, or a font file path relative to the daemon's home; ValueError names the choices."""
    if name in BUNDLED_FAMILIES:
        return BUNDLED_DIR / BUNDLED_FAMILIES[name]
    path = Path(name) if Path(name).is_absolute() else home_root / name
    if path.suffix.lower() not in {".ttf", ".otf", ".ttc"}:
        families = ", ".join(BUNDLED_FAMILIES)
        raise ValueError(f"{name!r} is neither a bundled family ({families}) nor a .ttf/.otf/.ttc file")
    if not path.is_file():
        raise ValueError(f"font file {name!r} not found")
    return path
