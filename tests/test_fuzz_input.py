"""Bad input is one line, never a traceback or a hang (issue 17 §6), as properties: whatever bytes a trend file, a
metrics import or a config file holds, reading ends, and the only exception is the documented one-line error
(InputError for `metrics import`, ConfigError for the config; a trend file only ever costs warning lines)."""
from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.engagement import import_metrics
from content.providers import provider_params
from core.daemon.cli import init_home
from core.errors import ConfigError, InputError
from core.home import Home
from core.settings import load_settings
from core.storage import Database
from tests.seeded_history import history, write_history
from trends.file_source import read_trend_folder
from trends.merge import merge
from trends.scoring import rank
from trends.store import save_trends

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)

# Values that broke or could break a reader: huge and negative numbers, digits int() refuses, NUL, a BOM, odd dates.
POISON = st.sampled_from([10**30, 2**63, 2**63 - 1, -1, 1e308, float("nan"), float("inf"), "²", "٣", "", " ", "\x00",
                          "\ufeff", "\ud800", "9" * 30, "1e999", "12,000", "NaN", "#a #b,c", "x" * 3000,
                          "2026-11-20T10:00:00Z", "2026-11-20T10:00:00+0000", "0001-01-01T00:00:00+05:00",
                          "9999-12-31T23:59:59-23:59", [5], [{"value": 5}], {"value": 5}, {"data": 5}])
# Placeholders `render` writes as raw JSON no value can produce: a 5,000-digit number (int() refuses it) and 100,000
# nested lists (the parser recurses).
HUGE, DEEP = "<huge number>", "<deep nesting>"
RAW = {json.dumps(HUGE): "9" * 5000, json.dumps(DEEP): "[" * 100_000 + "]" * 100_000}
POISON |= st.sampled_from([HUGE, DEEP])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | POISON,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=10)
TEXT = st.text(max_size=30) | POISON.map(str)


def render(value: Any, indent: int | None = None) -> str:
    text = json.dumps(value, indent=indent)
    for placeholder, raw in RAW.items():
        text = text.replace(placeholder, raw)
    return text


def document(fields: dict[str, Any], valid: dict[str, Any], wrapper: str) -> st.SearchStrategy[Any]:
    """A list of records (bare or under `wrapper`) mixing valid fields with poisoned ones, or any JSON at all."""
    records = st.lists(st.fixed_dictionaries({}, optional=fields).map(lambda bad: {**valid, **bad}), max_size=5)
    return st.one_of(records, records.map(lambda items: {wrapper: items}), JSON)


def sheet(columns: list[str]) -> st.SearchStrategy[str]:
    """A CSV: a header of known and unknown columns, rows of any text (quoted by csv.writer, so it parses)."""
    header = st.lists(st.sampled_from(columns) | st.text(max_size=8), min_size=1, max_size=8)
    rows = st.lists(st.lists(TEXT, max_size=9), max_size=5)
    return st.builds(lambda head, body: _csv([head, *body]), header, rows)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@st.composite
def file_bytes(draw: st.DrawFn, text: st.SearchStrategy[str]) -> bytes:
    """The text as UTF-8, maybe behind a BOM, maybe with a few bytes replaced, inserted or cut."""
    data = bytearray(("\ufeff" if draw(st.booleans()) else "").encode() + draw(text).encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at + draw(st.integers(0, 2))] = draw(st.binary(max_size=3))
    return bytes(data)


TREND_FIELDS = ["caption", "hashtags", "theme", "likes", "comments", "views", "timestamp", "source", "traffic", "url",
                "is_video", "sources", "title"]
TREND = {"caption": "Good one. Details here.", "theme": "food", "timestamp": "2026-11-20T10:00:00Z"}
TREND_JSON = document({field: JSON for field in TREND_FIELDS}, TREND, "trends").map(render)

METRIC_FIELDS = ["job_id", "video", "caption", "views", "reach", "likes", "comments", "saved", "shares", "follows",
                 "like_count", "comments_count", "timestamp", "captured_at", "id"]
INSIGHT = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["views", "saved", "reach"]) | JSON,
    "values": st.lists(st.fixed_dictionaries({}, optional={"value": JSON}) | JSON, max_size=3) | JSON,
    "total_value": st.fixed_dictionaries({"value": JSON}) | JSON})
INSIGHTS = st.lists(INSIGHT | JSON, max_size=3).flatmap(lambda data: st.sampled_from([data, {"data": data}])) | JSON
METRICS_JSON = document({**{field: JSON for field in METRIC_FIELDS}, "insights": INSIGHTS},
                        {"job_id": 1, "views": 10}, "data").map(render)


@pytest.fixture(scope="module")
def metrics_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with made videos 1…n for the rows to match; each example opens it afresh (its own event loop)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'daemon.db'}"

    async def seed() -> None:
        db = await Database.open(url)
        try:
            await write_history(db, [r for r in history(jobs=12, seed=3) if r.status == "done"])
        finally:
            await db.close()

    asyncio.run(seed())
    return url


@pytest.fixture(scope="module")
def trends_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('trends') / 'daemon.db'}"


async def _with_db(url: str, use: Any) -> Any:
    db = await Database.open(url)
    try:
        return await use(db)
    finally:
        await db.close()


@contextlib.contextmanager
def folder_with(files: dict[str, bytes]) -> Iterator[Path]:
    with TemporaryDirectory() as name:
        for file, data in files.items():
            (Path(name) / file).write_bytes(data)
        yield Path(name)


def one_line(error: Exception) -> None:
    assert str(error) and "\n" not in str(error) and "Traceback" not in str(error)


@pytest.mark.slow
@FUZZ
@given(json_file=file_bytes(TREND_JSON), csv_file=file_bytes(sheet(TREND_FIELDS)))
def test_any_trend_file_is_read_to_the_end_with_warnings_only(json_file: bytes, csv_file: bytes, trends_db: str,
                                                               caplog_loguru) -> None:
    """Whatever the files hold, the folder reads, and what it yields merges, ranks and stores (SQLite's 64 bits)."""
    with folder_with({"a.json": json_file, "b.csv": csv_file}) as folder:
        found = read_trend_folder(folder)
    asyncio.run(_with_db(trends_db, lambda db: save_trends(db, rank(merge(found), NOW, 48))))
    assert all("\n" not in line and "Traceback" not in line for line in caplog_loguru.lines)


@FUZZ
@given(name=st.sampled_from(["m.json", "m.csv"]), data=st.data())
def test_any_metrics_file_imports_or_is_one_input_error(name: str, data: st.DataObject, metrics_db: str) -> None:
    text = METRICS_JSON if name.endswith(".json") else sheet(METRIC_FIELDS + ["insights"])
    with folder_with({name: data.draw(file_bytes(text))}) as folder:
        try:
            asyncio.run(_with_db(metrics_db, lambda db: import_metrics(db, folder / name)))
        except InputError as error:
            one_line(error)


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home.at(tmp_path_factory.mktemp("home"))
    with contextlib.redirect_stdout(io.StringIO()):
        init_home(home)
    return home


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a JSON document, the document itself first."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replaced(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    """The document with the node at `path` set to `value` (or removed from its parent)."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


@st.composite
def config_mutation(draw: st.DrawFn, sample: Any) -> bytes:
    """The sample with one node replaced by any JSON value or removed, then maybe a few bytes garbled."""
    path = draw(st.sampled_from(list(_paths(sample))))
    mutated = _replaced(sample, path, draw(JSON), delete=bool(path) and draw(st.booleans()))
    text = render(mutated, indent=2)
    return draw(file_bytes(st.just(text)))


@FUZZ
@given(which=st.sampled_from(["config_file", "video_config_file"]), data=st.data())
def test_any_config_loads_or_is_one_config_error(which: str, data: st.DataObject, sample_home: Home) -> None:
    path: Path = getattr(sample_home, which)
    original = path.read_bytes()
    path.write_bytes(data.draw(config_mutation(json.loads(original))))
    try:
        load_settings(sample_home, provider_params())
    except ConfigError as error:
        one_line(error)
    finally:
        path.write_bytes(original)
