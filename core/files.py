"""Files written whole or not at all: a reader (or a run after a crash) never finds half of one."""
from __future__ import annotations

import os
import uuid
from pathlib import Path


def partial_beside(path: Path) -> Path:
    """A dot-file beside `path` of this writer's own (two writers may make the same file at once), to be moved onto
    it when complete."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")


def write_atomically(path: Path, data: bytes | str) -> None:
    """`data` (text as UTF-8) as the whole of `path`, its folder made if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_beside(path)
    partial.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(partial, path)
