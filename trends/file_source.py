"""Trend source `file`: JSON and CSV files in a folder, for offline runs and hand-curated topics."""
from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loguru import logger
from pydantic import ValidationError

from core.home import Home
from core.settings import FileSource
from trends.models import Trend
from trends.sources import TrendSource

SOURCE_NAME = "file"


def read_trend_folder(folder: Path) -> list[Trend]:
    """Every valid record of `*.json` and `*.csv` in `folder`; a bad record is skipped with one warning line."""
    if not folder.is_dir():
        logger.warning(f"trend source file: folder {folder} does not exist, no trends read")
        return []
    found: list[Trend] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".json", ".csv"):
            continue
        try:
            records = list(_json_records(path) if path.suffix.lower() == ".json" else _csv_records(path))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
            logger.warning(f"{path}: cannot read trends: {_one_line(exc)}")
            continue
        for where, record in records:
            try:
                found.append(Trend.model_validate({"source": SOURCE_NAME, **record}))
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(str(part) for part in error["loc"]) or "record"
                logger.warning(f"{path}: {where}: {field}: {error['msg'].lower()}, skipped")
    logger.info(f"trend source file: {len(found)} trends from {folder}")
    return found


def _json_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("trends", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise json.JSONDecodeError("expected a list of trends or {\"trends\": [...]}", "", 0)
    for index, item in enumerate(items):
        yield f"item {index}", item if isinstance(item, dict) else {}


def _csv_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row_number, row in enumerate(csv.DictReader(handle), start=2):
            yield f"row {row_number}", {k.strip(): v for k, v in row.items() if k and v not in (None, "")}


def _one_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class FileTrends(TrendSource):
    """The folder of JSON/CSV trends, as a source like the others (read in a thread: it is plain file I/O)."""

    name = SOURCE_NAME
    settings: FileSource

    def __init__(self, settings: FileSource, home: Home) -> None:
        super().__init__(settings)
        self._folder = home.resolve(settings.folder)

    async def fetch(self) -> list[Trend]:
        return await asyncio.to_thread(read_trend_folder, self._folder)
