"""Stock footage for the renderer's scenes (the `FindFootage` of content/media/footage.py): Pexels and Pixabay video
search, each clip downloaded once into `<data_dir>/footage` and credited to its creator.

`stock_footage` builds the libraries a user has keys for, in the order asked; `StockFootage` tries them in turn.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from content.providers.footage.library import StockLibrary
from content.providers.footage.pexels import Pexels
from content.providers.footage.pixabay import Pixabay
from content.providers.footage.stock import StockFootage
from core.secrets import Secrets

LIBRARIES: dict[str, type[StockLibrary]] = {"pexels": Pexels, "pixabay": Pixabay}


def stock_footage(secrets: Secrets, folder: Path, order: Sequence[str],
                  base_urls: Mapping[str, str | None]) -> StockFootage | None:
    """The libraries of `order` that have a key, or None when none has (the renderer then uses its next source)."""
    libraries = []
    for name in order:
        kind = LIBRARIES[name]
        key = secrets.get(kind.key_env)
        if key:
            libraries.append(kind(key, folder, base_urls.get(name)))
    return StockFootage(libraries) if libraries else None


__all__ = ["LIBRARIES", "Pexels", "Pixabay", "StockFootage", "StockLibrary", "stock_footage"]
