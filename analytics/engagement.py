"""`metrics import FILE`: engagement per video from a CSV or JSON file shaped like Instagram's insights, matched to
our videos and stored as snapshots for the ROI report.

A row names its video by `job_id`, by `video` (the file name we wrote) or by `caption` (the brief's post caption);
its metrics take Instagram's names (`views`, `reach`, `likes`, `comments`, `saved`, `shares`, `follows`) or the
media object's (`like_count`, `comments_count`), flat or as a Graph API `insights.data` list. Every row is checked
before anything is stored: one bad value is one error line and nothing is imported.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from core.bounds import MAX_COUNT
from core.engine.states import JobStatus
from core.errors import InputError
from core.json_input import parse_json
from core.schema import briefs, engagement_metrics, video_jobs
from core.storage import Database, as_utc, utcnow

METRICS = ("views", "reach", "likes", "comments", "saves", "shares", "follows")
ALIASES = {"saved": "saves", "like_count": "likes", "comments_count": "comments", "plays": "views",
           "video_views": "views", "timestamp": "captured_at", "id": "media_id"}
MATCH_KEYS = ("job_id", "video", "caption")
INSIGHT = '{"name": "views", "values": [{"value": N}]}'
MAX_ID_DIGITS = 18  # a job id is a 64-bit row id
SHOWN_CHARS = 40


@dataclass
class ImportResult:
    imported: int = 0
    unmatched: list[str] = field(default_factory=list)  # "row 3 (video 'x.mp4')", one per row matching no video


async def import_metrics(db: Database, path: Path) -> ImportResult:
    """Read, validate and match every row, then store them in one transaction (a snapshot already stored for the same
    video and time is replaced)."""
    rows = read_rows(path)
    index = await _video_index(db)
    now = utcnow()
    result, snapshots = ImportResult(), []
    for number, row in rows:
        values = _snapshot(path, number, row, now)
        job_id = _match(index, row)
        if job_id is None:
            result.unmatched.append(f"row {number} ({_describe(row)})")
            continue
        snapshots.append({"job_id": job_id, **values, "source": path.name, "imported_at": now})
    await store_snapshots(db, snapshots)
    result.imported = len(snapshots)
    return result


async def store_snapshots(db: Database, snapshots: list[dict[str, Any]]) -> None:
    """Engagement snapshots stored in one transaction; one already stored for the same video and time is replaced."""
    async with db.transaction() as conn:
        for snapshot in snapshots:
            await conn.execute(delete(engagement_metrics).where(
                engagement_metrics.c.job_id == snapshot["job_id"],
                engagement_metrics.c.captured_at == snapshot["captured_at"]))
            await conn.execute(engagement_metrics.insert().values(**snapshot))


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, fields with canonical names); a CSV's first data row is row 2, a JSON list's first item row 1."""
    if not path.is_file():
        raise InputError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: byte {exc.start}: not UTF-8 text (export the file as UTF-8)") from None
    if path.suffix.lower() == ".json":
        rows = _json_rows(path, text)
    elif path.suffix.lower() == ".csv":
        rows = _csv_rows(path, text)
    else:
        raise InputError(f"{path}: expected a .csv or .json file")
    if not rows:
        raise InputError(f"{path}: no rows")
    for number, row in rows:
        if not any(key in row for key in MATCH_KEYS):
            raise InputError(f"{path}: row {number}: names no video (give job_id, video or caption)")
        if not any(metric in row for metric in METRICS):
            raise InputError(f"{path}: row {number}: has no metric ({', '.join(METRICS)})")
        if "job_id" in row:
            row["job_id"] = _job_id(path, number, row["job_id"])
    return rows


def _json_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = parse_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # nested too deep, an integer of thousands of digits
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InputError(f"{path}: expected a list of objects (or {{\"data\": [...]}}), one per video")
    return [(number, _flatten(path, number, item)) for number, item in enumerate(items, start=1)]


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    try:
        return [(number, {_canonical(k): v for k, v in row.items() if k and v not in (None, "")})
                for number, row in enumerate(reader, start=2)]
    except csv.Error as exc:  # a field over csv's 128 kB limit
        raise InputError(f"{path}: line {reader.reader.line_num}: not valid CSV ({exc})") from None


def _canonical(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return ALIASES.get(key, key)


def _flatten(path: Path, number: int, item: dict[str, Any]) -> dict[str, Any]:
    """An insights object's `insights.data` list ({name, values: [{value}]} or {name, total_value: {value}}) becomes
    flat fields next to the media object's own; any other shape is a bad value."""
    row = {_canonical(k): v for k, v in item.items() if k != "insights" and v is not None}
    insights = item.get("insights") or []
    entries = insights.get("data", []) if isinstance(insights, dict) else insights
    if not isinstance(entries, list):
        raise _bad(path, number, "insights", f"{_shown(entries)} is not a list like {{\"data\": [{INSIGHT}]}}")
    for index, entry in enumerate(entries):
        name, value = _insight(path, number, f"insights.data[{index}]", entry)
        if value is not None:
            row[_canonical(name)] = value
    return row


def _insight(path: Path, number: int, where: str, entry: Any) -> tuple[str, Any]:
    """One insights entry's metric name and latest value (None: Instagram has none yet)."""
    if not isinstance(entry, dict):
        raise _bad(path, number, where, f"{_shown(entry)} is not an object like {INSIGHT}")
    if not isinstance(entry.get("name"), str):
        raise _bad(path, number, f"{where}.name", f"{_shown(entry.get('name'))} is not a metric name")
    total, values = entry.get("total_value") or {}, entry.get("values") or []
    if not isinstance(total, dict):
        raise _bad(path, number, f"{where}.total_value", f"{_shown(total)} is not an object like {{\"value\": N}}")
    if not isinstance(values, list) or not all(isinstance(value, dict) for value in values):
        raise _bad(path, number, f"{where}.values", f"{_shown(values)} is not a list like [{{\"value\": N}}]")
    value = total.get("value")
    return entry["name"], values[-1].get("value") if value is None and values else value


def _job_id(path: Path, number: int, value: Any) -> int:
    """Our job id: ASCII digits only ("²" passes str.isdigit, yet int() refuses it)."""
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
        raise _bad(path, number, "job_id", f"{_shown(value)} is not a job id (a whole number)")
    return int(text)


def _snapshot(path: Path, number: int, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {metric: _count(path, number, metric, row.get(metric, 0)) for metric in METRICS}
    values["captured_at"] = _time(path, number, row["captured_at"]) if "captured_at" in row else now
    return values


def _count(path: Path, number: int, metric: str, value: Any) -> int:
    try:
        count = float(str(value).replace(",", ""))  # "12,000" as Instagram's export writes it; str(True) fails
    except ValueError:
        count = -1.0
    if not 0 <= count <= MAX_COUNT or count != int(count):  # also refuses nan and inf
        raise _bad(path, number, metric, f"{_shown(value)} is not a whole number of 0 or more")
    return int(count)


def _time(path: Path, number: int, value: Any) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("+0000", "+00:00").replace("Z", "+00:00")))
    except ValueError:
        raise _bad(path, number, "captured_at", f"{_shown(value)} is not an ISO date and time") from None


def _bad(path: Path, number: int, field: str, problem: str) -> InputError:
    return InputError(f"{path}: row {number}: {field}: {problem}")


def _shown(value: Any) -> str:
    """A value as an error line quotes it: its repr, cut short (a 1 MB cell must not become a 1 MB line)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


@dataclass
class _VideoIndex:
    ids: set[int]
    by_file: dict[str, int]
    by_caption: dict[str, int]


async def _video_index(db: Database) -> _VideoIndex:
    """Made videos by id, file name and post caption."""
    rows = await db.fetch_all(select(video_jobs.c.id, video_jobs.c.output_path, briefs.c.content)
                              .join(briefs, briefs.c.id == video_jobs.c.brief_id)
                              .where(video_jobs.c.status == JobStatus.DONE))
    return _VideoIndex(
        ids={row.id for row in rows},
        by_file={Path(row.output_path).name: row.id for row in rows if row.output_path},
        by_caption={_words(row.content.get("caption", "")): row.id for row in rows if row.content.get("caption")},
    )


def _match(index: _VideoIndex, row: dict[str, Any]) -> int | None:
    if "job_id" in row:
        return row["job_id"] if row["job_id"] in index.ids else None
    if "video" in row:
        return index.by_file.get(Path(str(row["video"])).name)
    return index.by_caption.get(_words(str(row["caption"])))


def _words(text: str) -> str:
    return " ".join(text.split()).lower()


def _describe(row: dict[str, Any]) -> str:
    key = next(k for k in MATCH_KEYS if k in row)
    return f"{key} {_shown(row[key])}"
