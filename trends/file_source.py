"""Trend source `file`: JSON and CSV files in a folder, for offline runs and hand-curated topics."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loguru import logger
from pydantic import ValidationError

from core.home import Home
from core.json_input import parse_json
from core.settings import FileSource
from trends.models import Trend
from trends.sources import TrendSource

SOURCE_NAME = "file"
MAX_FILE_BYTES = 4 * 2**20
"""A trend file larger than 4 MB is refused whole: a hand-curated folder holds kilobytes (the samples are 12 kB), and
a runaway export must not fill the memory of the cycle that reads it."""
MAX_HASHTAGS = 30
MAX_HASHTAG_CHARS = 100
TEXT_LIMITS = {"caption": 2200, "theme": 100, "source": 100, "url": 2048}
"""A record over these is no post (Instagram allows 2,200 characters and 30 hashtags) and is skipped: 10,000 hashtags
once took 7 GB and minutes in the pattern analysis (which pairs every hashtag with every other)."""
MAX_TRENDS = 500
"""The folder's first 500 valid trends are read, the rest are not: merging compares every trend with every other, and
500 already take seconds."""


def read_trend_folder(folder: Path) -> list[Trend]:
    """Every valid record of `*.json` and `*.csv` in `folder`; a bad record or file is skipped with one warning line."""
    if not folder.is_dir():
        logger.warning(f"trend source file: folder {folder} does not exist, no trends read")
        return []
    found: list[Trend] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".json", ".csv") and len(found) <= MAX_TRENDS:
            found += _read_file(path)
    if len(found) > MAX_TRENDS:
        logger.warning(f"trend source file: over {MAX_TRENDS} trends in {folder}, only the first {MAX_TRENDS} read")
        del found[MAX_TRENDS:]
    logger.info(f"trend source file: {len(found)} trends from {folder}")
    return found


def _read_file(path: Path) -> list[Trend]:
    """The file's valid trends; a file that cannot be read at all is one warning line and none."""
    try:
        text = _read_text(path)
        records = list(_json_records(text) if path.suffix.lower() == ".json" else _csv_records(text))
    except (OSError, ValueError, csv.Error) as exc:  # ValueError: not UTF-8, not JSON, too deep
        logger.warning(f"{path}: cannot read trends: {_one_line(exc)}")
        return []
    return [trend for where, record in records if (trend := _trend(path, where, record)) is not None]


def _read_text(path: Path) -> str:
    """The file's text, read without ever blocking: a regular file only (opening a FIFO waits for a writer for good,
    so it is opened non-blocking and refused), at most MAX_FILE_BYTES, and a UTF-8 BOM (Excel's CSV) dropped."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES // 2**20} MB")
    return data.decode("utf-8-sig")


def _json_records(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    data = parse_json(text)
    items = data.get("trends", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("expected a list of trends or {\"trends\": [...]}")
    for index, item in enumerate(items):
        yield f"item {index}", item if isinstance(item, dict) else {}


def _csv_records(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for row_number, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
        yield f"row {row_number}", {k.strip(): v for k, v in row.items() if k and v not in (None, "")}


def _trend(path: Path, where: str, record: dict[str, Any]) -> Trend | None:
    """The record as a trend, or None after one warning line: it is invalid, too large to be a post or unstorable."""
    try:
        trend = Trend.model_validate({"source": SOURCE_NAME, **record, "sources": ()})  # merging names sources
    except ValidationError as exc:
        error = exc.errors()[0]
        problem = f"{'.'.join(str(part) for part in error['loc']) or 'record'}: {error['msg'].lower()}"
    else:
        unfit = _unfit(trend)
        if unfit is None:
            return trend
        problem = unfit
    logger.warning(f"{path}: {where}: {problem}, skipped")
    return None


def _unfit(trend: Trend) -> str | None:
    """Which field of a valid trend is over its limit or holds a NUL (PostgreSQL stores none), and how (None: fine)."""
    texts = {field: getattr(trend, field) for field in TEXT_LIMITS}
    for field, text in texts.items():
        if len(text) > TEXT_LIMITS[field]:
            return f"{field}: {len(text)} characters, at most {TEXT_LIMITS[field]}"
    if len(trend.hashtags) > MAX_HASHTAGS:
        return f"hashtags: {len(trend.hashtags)} of them, at most {MAX_HASHTAGS}"
    longest = max(trend.hashtags, key=len, default="")
    if len(longest) > MAX_HASHTAG_CHARS:
        return f"hashtags: one has {len(longest)} characters, at most {MAX_HASHTAG_CHARS}"
    texts["hashtags"] = " ".join(trend.hashtags)
    nul = next((field for field, text in texts.items() if "\x00" in text), None)
    return None if nul is None else f"{nul}: holds a NUL character"


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
