"""Analytics over 60 seeded days (tests/seeded_history.py): every figure against sums worked out from the records,
the three report formats against each other and the ledger, the HTML in headless Chromium, and `metrics import`."""
from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from analytics.dataset import Dataset
from analytics.engagement import read_rows
from analytics.reports import FIGURE_SECTIONS, write_report
from analytics.video_analytics import VideoAnalytics, budget_alerts, cost_summary, performance_metrics, roi_analysis
from core.errors import InputError
from core.home import Home
from core.settings import AnalyticsSettings, Budget, ValueModel
from core.storage import Database
from tests.conftest import run_cli
from tests.seeded_history import NOW, ZONE, JobRecord, history, write_history

BUDGET = Budget(daily_limit_usd=40.0, monthly_limit_usd=500.0, timezone=ZONE)
MODEL = ValueModel()
RECORDS = history()
CENT = 0.005


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded database, and its 90-day report (the whole history) written in all three formats."""
    folder = tmp_path_factory.mktemp("analytics")

    async def seed() -> None:
        db = await Database.open(f"sqlite:///{folder / 'daemon.db'}")
        try:
            await write_history(db, RECORDS, folder / "videos", with_media=6)
            await write_report(analytics(db), folder / "reports", 90)
        finally:
            await db.close()

    asyncio.run(seed())
    return folder


def analytics(db: Database) -> VideoAnalytics:
    return VideoAnalytics(db, BUDGET, AnalyticsSettings(gallery_size=6), clock=lambda: NOW)


async def figures(seeded: Path, figure: Callable[[VideoAnalytics, Dataset], dict[str, Any]], days: int
                  ) -> dict[str, Any]:
    db = await Database.open(f"sqlite:///{seeded / 'daemon.db'}")
    try:
        reader = analytics(db)
        return figure(reader, await reader.dataset(days))
    finally:
        await db.close()


class Expected:
    """The window's figures, from the plain records."""

    def __init__(self, days: int) -> None:
        zone = ZoneInfo(ZONE)
        last = NOW.astimezone(zone).date()
        self.days = [(last - timedelta(days=n)).isoformat() for n in reversed(range(days))]
        start = datetime.combine(last - timedelta(days=days - 1), time(), tzinfo=zone)
        self.charges = [(r, a) for r in RECORDS for a in r.attempts
                        if a.charge is not None and a.budget_day in self.days]
        self.ended = [r for r in RECORDS if start <= r.ended_at <= NOW]
        self.made = [r for r in self.ended if r.status == "done"]

    def spend(self, match: Any = lambda r, a: True) -> float:
        return sum(a.charge for r, a in self.charges if match(r, a))


def won(job: JobRecord) -> Any:
    return next(a for a in job.attempts if a.state == "done")


def value(job: JobRecord) -> float:
    e = job.engagement[-1] if job.engagement else dict.fromkeys(["views", "likes", "comments", "saves", "shares",
                                                                 "follows"], 0)
    return (e["views"] / 1000 * MODEL.per_1k_views + e["likes"] * MODEL.per_like + e["comments"] * MODEL.per_comment
            + e["saves"] * MODEL.per_save + e["shares"] * MODEL.per_share + e["follows"] * MODEL.per_follower)


def test_the_seed_is_big_and_varied() -> None:
    assert len(RECORDS) >= 1000
    assert {r.account for r in RECORDS} >= {"mia_moves", "sam_wanders", "leo_eats"}
    assert len({a.provider for r in RECORDS for a in r.attempts}) == 4
    assert Counter(r.status for r in RECORDS).keys() == {"done", "failed", "cancelled"}


@pytest.mark.slow
@pytest.mark.parametrize("days", [1, 30, 90])
async def test_cost_summary_matches_the_records_to_the_cent(seeded: Path, days: int) -> None:
    summary, expected = await figures(seeded, lambda a, data: cost_summary(data, a.budget), days), Expected(days)
    assert summary["total_cost_usd"] == pytest.approx(expected.spend(), abs=CENT)
    assert summary["total_videos"] == len(expected.made)
    seconds = sum(r.duration_s for r in expected.made)
    if expected.made:
        assert summary["avg_cost_per_video"] == pytest.approx(expected.spend() / len(expected.made), abs=CENT)
        assert summary["avg_cost_per_second"] == pytest.approx(expected.spend() / seconds, abs=0.00005)
    assert [d["day"] for d in summary["by_day"]] == expected.days
    for row in summary["by_day"]:
        assert row["cost_usd"] == pytest.approx(expected.spend(lambda r, a: a.budget_day == row["day"]), abs=CENT)
        assert row["daily_cap_usd"] == 40.0
    providers = {a.provider for _, a in expected.charges}
    assert {p["provider"] for p in summary["by_provider"]} == providers
    for row in summary["by_provider"]:
        assert row["cost_usd"] == pytest.approx(expected.spend(lambda r, a: a.provider == row["provider"]), abs=CENT)
        assert row["charges"] == sum(a.provider == row["provider"] for _, a in expected.charges)
    for row in summary["by_account"]:
        assert row["cost_usd"] == pytest.approx(expected.spend(lambda r, a: r.account == row["account"]), abs=CENT)
        assert row["videos"] == sum(r.account == row["account"] for r in expected.made)


async def test_performance_metrics_match_the_records(seeded: Path) -> None:
    metrics, expected = await figures(seeded, lambda _, data: performance_metrics(data), 30), Expected(30)
    ended, made = expected.ended, expected.made
    assert metrics["jobs_ended"] == len(ended) and metrics["videos_made"] == len(made)
    assert metrics["success_rate"] == pytest.approx(100 * len(made) / len(ended), abs=0.05)
    assert metrics["failover_rate"] == pytest.approx(
        100 * sum(len({a.provider for a in r.attempts}) > 1 for r in ended) / len(ended), abs=0.05)
    assert metrics["retry_rate"] == pytest.approx(
        100 * sum(max(Counter(a.provider for a in r.attempts).values()) > 1 for r in ended) / len(ended), abs=0.05)
    spans = [(won(r).finished_at - r.attempts[0].started_at).total_seconds() for r in made]
    assert metrics["generation_p50_s"] == pytest.approx(np.percentile(spans, 50), abs=0.05)
    assert metrics["generation_p95_s"] == pytest.approx(np.percentile(spans, 95), abs=0.05)
    assert metrics["cost_per_successful_second"] == pytest.approx(
        expected.spend() / sum(r.duration_s for r in made), abs=0.00005)
    views = sum(r.engagement[-1]["views"] for r in made if r.engagement)
    engaged = sum(r.engagement[-1][k] for r in made if r.engagement for k in ("likes", "comments", "saves", "shares"))
    assert metrics["avg_engagement"] == pytest.approx(engaged / views, abs=0.00005)
    for row in metrics["provider_comparison"]:
        tries = [a for r in ended for a in r.attempts if a.provider == row["provider"]]
        done = [a for a in tries if a.state == "done"]
        assert (row["attempts"], row["succeeded"]) == (len(tries), len(done))
        assert row["failed"] == sum(a.state == "failed" for a in tries)
        assert row["p95_s"] == pytest.approx(
            np.percentile([(a.finished_at - a.started_at).total_seconds() for a in done], 95), abs=0.05)
        seconds = sum(r.duration_s for r in made if won(r).provider == row["provider"])
        cost = expected.spend(lambda r, a: a.provider == row["provider"])
        assert row["cost_usd"] == pytest.approx(cost, abs=CENT)
        assert row["cost_per_successful_second"] == (pytest.approx(cost / seconds, abs=0.00005) if seconds else None)
    assert {row["provider"] for row in metrics["provider_comparison"]} == {a.provider for r in ended
                                                                          for a in r.attempts}


async def test_roi_values_engagement_with_the_model(seeded: Path) -> None:
    roi, expected = await figures(seeded, lambda a, data: roi_analysis(data, a.settings.value_model), 30), Expected(30)
    total_value = sum(value(r) for r in expected.made)
    assert roi["videos"] == len(expected.made)
    assert roi["videos_with_metrics"] == sum(bool(r.engagement) for r in expected.made) > 0
    assert roi["total_cost"] == pytest.approx(expected.spend(), abs=CENT)
    assert roi["estimated_value"] == pytest.approx(total_value, abs=CENT)
    assert roi["roi_percentage"] == pytest.approx(100 * (total_value - expected.spend()) / expected.spend(), abs=0.05)
    for key in ("theme", "account"):
        groups = roi[f"by_{key}"]
        assert sum(g["value_usd"] for g in groups) == pytest.approx(total_value, abs=CENT * len(groups))
        for group in groups:
            name = group[key]
            cost = expected.spend(lambda r, a: getattr(r, key) == name)
            worth = sum(value(r) for r in expected.made if getattr(r, key) == name)
            assert group["cost_usd"] == pytest.approx(cost, abs=CENT)
            assert group["value_usd"] == pytest.approx(worth, abs=CENT)
            assert group["roi_percentage"] == pytest.approx(100 * (worth - cost) / cost, abs=0.05)
    video = next(v for v in roi["per_video"] if v["views"])
    record = next(r for r in RECORDS if r.id == video["job_id"])
    assert video["views"] == record.engagement[-1]["views"]  # the latest snapshot, not the first
    assert video["value_usd"] == pytest.approx(value(record), abs=CENT)


def test_budget_alerts_at_75_and_90_percent() -> None:
    thresholds = BUDGET.alert_thresholds_pct
    alerts = budget_alerts(thresholds, [("daily", 10.0, 7.5), ("monthly", 200.0, 150.0)])
    assert [(a["type"], a["level"], a["threshold_pct"]) for a in alerts] == [
        ("daily", "warning", 75), ("monthly", "warning", 75)]
    alerts = budget_alerts(thresholds, [("daily", 10.0, 9.5), ("monthly", 200.0, 10.0)])
    assert [(a["type"], a["level"]) for a in alerts] == [("daily", "critical")]
    assert "$9.50 of $10.00" in alerts[0]["message"]


# ---- the report: three formats, one set of figures ----------------------------------------------------------------


def report_files(seeded: Path) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    folder = seeded / "reports" / NOW.astimezone(ZoneInfo(ZONE)).date().isoformat()
    data = json.loads((folder / "report-90d.json").read_text())
    rows = list(csv.DictReader((folder / "report-90d.csv").open()))
    return data, rows, (folder / "report-90d.html").read_text()


def test_the_report_agrees_with_the_ledger_to_the_cent(seeded: Path) -> None:
    data, rows, _ = report_files(seeded)
    with sqlite3.connect(seeded / "daemon.db") as conn:
        total = conn.execute("select sum(amount_usd) from cost_ledger where kind = 'charge'").fetchone()[0]
        per_provider = dict(conn.execute("select provider, sum(amount_usd) from cost_ledger where kind = 'charge' "
                                         "group by provider"))
        per_day = dict(conn.execute("select budget_day, sum(amount_usd) from cost_ledger where kind = 'charge' "
                                    "group by budget_day"))
    csv_figures = {(r["figure"], r["key"]): r["value"] for r in rows}
    assert data["cost"]["total_cost_usd"] == pytest.approx(total, abs=CENT) == float(csv_figures["total_cost_usd", ""])
    assert data["roi"]["total_cost"] == data["cost"]["total_cost_usd"]
    assert {p["provider"]: p["cost_usd"] for p in data["cost"]["by_provider"]} == pytest.approx(per_provider, abs=CENT)
    days = {d["day"]: d["cost_usd"] for d in data["cost"]["by_day"] if d["cost_usd"]}
    assert days == pytest.approx(per_day, abs=CENT)
    assert sum(p["cost_usd"] for p in data["performance"]["provider_comparison"]) == pytest.approx(total, abs=0.02)


def test_the_csv_holds_every_json_figure(seeded: Path) -> None:
    data, rows, _ = report_files(seeded)
    leaves = 0
    for section in FIGURE_SECTIONS:
        for value in data[section].values():
            if isinstance(value, dict):
                leaves += len(value)
            elif isinstance(value, list):
                leaves += sum(len(item) - 1 for item in value)
            else:
                leaves += 1
    assert len(rows) == leaves
    for row in rows:
        assert row["value"] == ("" if (v := json_figure(data, row)) is None else str(v)), row


def json_figure(data: dict[str, Any], row: dict[str, str]) -> Any:
    section = data[row["section"]]
    name, _, field = row["figure"].partition(".")
    if not field:
        return section[name]
    if not row["key"]:
        return section[name][field]
    return next(item[field] for item in section[name] if str(next(iter(item.values()))) == row["key"])


class Tables(HTMLParser):
    """Each <table id>'s header keys and cell texts, and each headline card's figure."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.keys: dict[str, list[str]] = {}
        self.cards: dict[str, str] = {}
        self.table: str | None = None
        self.cell: list[str] | None = None
        self.card: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self.table = attributes["id"]
            self.tables[self.table], self.keys[self.table] = [], []
        elif tag == "tr" and self.table:
            self.tables[self.table].append([])
        elif tag == "th" and self.table:
            self.keys[self.table].append(attributes["data-key"] or "")
        elif tag == "td" and self.table:
            self.cell = []
        elif tag == "b" and attributes.get("data-figure"):
            self.card = attributes["data-figure"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        elif tag == "td" and self.table and self.cell is not None:
            self.tables[self.table][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "b":
            self.card = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.card:
            self.cards[self.card] = data.strip()


def number(text: str) -> float | None:
    cleaned = text.replace("$", "").replace("%", "").replace(" s", "").replace(",", "")
    return None if cleaned == "–" else float(cleaned)


def test_the_html_shows_the_json_figures(seeded: Path) -> None:
    data, _, html = report_files(seeded)
    page = Tables()
    page.feed(html)
    assert len(page.cards) == 11
    for figure, text in page.cards.items():
        section, name = figure.split(".")
        expected = data[section][name]
        assert number(text) == (None if expected is None else pytest.approx(expected, abs=0.005)), figure
    checked = 0
    for table_id in ("cost.by_day", "cost.by_provider", "cost.by_account", "performance.provider_comparison",
                     "roi.by_theme", "roi.by_account"):
        section, name = table_id.split(".")
        items = {str(next(iter(item.values()))): item for item in data[section][name]}
        keys, body = page.keys[table_id], [row for row in page.tables[table_id] if row]
        assert len(body) == len(items) > 0, table_id
        for cells in body:
            item = items[cells[0]]
            for key, text in zip(keys[1:], cells[1:]):
                expected = item[key]
                assert number(text) == (None if expected is None else pytest.approx(expected, abs=0.005)), \
                    (table_id, cells[0], key)
                checked += 1
    assert checked > 100


def test_the_html_is_one_file_with_the_charts_and_the_latest_videos(seeded: Path) -> None:
    data, _, html = report_files(seeded)
    assert html.count("<svg") == 4
    for title in ("Spend per day against the daily cap", "Spend by provider", "Success rate by provider",
                  "p95 generation time by provider", "ROI by theme", "ROI by account"):
        assert title in html
    assert len(data["videos"]) == 6
    assert html.count('class="cover" src="data:image/jpeg;base64,') == 6
    assert html.count('alt="contact sheet of') == 6
    assert set(re.findall(r'src="([a-z]+):', html)) == {"data"} and "<link" not in html and "<script" not in html
    assert not re.findall(r'(?:src|href)="(?!data:|#)', html)  # nothing to fetch: one file that opens anywhere


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
        pytest.skip("chromium is not installed")
    return found


def test_the_html_report_opens_in_headless_chromium(seeded: Path, tmp_path: Path) -> None:
    folder = seeded / "reports" / NOW.astimezone(ZoneInfo(ZONE)).date().isoformat()
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = (folder / "report-90d.html").as_uri()
    result = subprocess.run([chromium(), *flags, "--window-size=412,3000", f"--screenshot={shot}", url],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    problems = [line for line in result.stderr.splitlines()
                if "CONSOLE" in line or "Uncaught" in line or "Failed to load" in line or "net::ERR" in line]
    assert problems == []
    with Image.open(shot) as image:
        assert image.size == (412, 3000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, charts and covers drew, not a blank page
    dom = subprocess.run([chromium(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and dom.stdout.count("<svg") == 4 and "Video production report" in dom.stdout


# ---- engagement import and the report command ----------------------------------------------------------------------


async def made_videos(home: Home, count: int = 3) -> list[JobRecord]:
    db = await Database.open(f"sqlite:///{home.database_file}")
    try:
        records = [r for r in history(jobs=12, seed=3) if r.status == "done"][:count]
        for r in records:
            r.engagement = []
        await write_history(db, records)
        return records
    finally:
        await db.close()


def stored_metrics(home: Home) -> dict[int, tuple[int, tuple[int, ...]]]:
    """Per video: how many snapshots are stored, and the latest one's views, likes, comments, saves, shares, follows."""
    with sqlite3.connect(home.database_file) as conn:
        rows = conn.execute("select job_id, views, likes, comments, saves, shares, follows from engagement_metrics "
                            "order by captured_at").fetchall()
    snapshots: dict[int, list[tuple[int, ...]]] = defaultdict(list)
    for row in rows:
        snapshots[row[0]].append(tuple(row[1:]))
    return {job: (len(values), values[-1]) for job, values in snapshots.items()}


@pytest.mark.slow
async def test_metrics_import_matches_csv_and_insights_json_to_our_videos(home: Home) -> None:
    a, b, c = await made_videos(home)
    sheet = home.root / "insights.csv"
    sheet.write_text("video,views,likes,comments,saved,shares,Captured At\n"
                     f"{a.id:06d}.mp4,\"12,000\",800,30,50,20,2026-11-20T10:00:00Z\n"
                     f"someone_else.mp4,5,1,0,0,0,2026-11-20T10:00:00Z\n")
    insights = home.root / "insights.json"
    insights.write_text(json.dumps({"data": [
        {"job_id": b.id, "like_count": 40, "comments_count": 4, "timestamp": "2026-11-20T10:00:00+0000",
         "insights": {"data": [{"name": "views", "period": "lifetime", "values": [{"value": 2000}]},
                               {"name": "saved", "values": [{"value": 9}]},
                               {"name": "shares", "total_value": {"value": 3}}]}},
        {"caption": f"  Caption of video {c.id} ", "views": 100, "likes": 7},
    ]}))
    result = run_cli(home.root, "metrics", "import", str(sheet))
    assert result.returncode == 0, result.stderr
    assert "imported metrics for 1 video(s)" in result.stdout
    assert "skipped 1 row(s)" in result.stdout and "row 3 (video 'someone_else.mp4')" in result.stdout
    assert run_cli(home.root, "metrics", "import", str(insights)).returncode == 0
    assert run_cli(home.root, "metrics", "import", str(sheet)).returncode == 0  # again: replaced, not doubled
    metrics = stored_metrics(home)
    assert metrics[a.id] == (1, (12000, 800, 30, 50, 20, 0))
    assert metrics[b.id] == (1, (2000, 40, 4, 9, 3, 0))
    assert metrics[c.id] == (1, (100, 7, 0, 0, 0, 0))


@pytest.mark.parametrize("bad_row, message", [
    ("7,100,ten,", "row 3: likes: 'ten' is not a whole number of 0 or more"),
    ("7,-5,1,", "row 3: views: '-5' is not a whole number of 0 or more"),
    (",100,5,", "row 3: names no video (give job_id, video or caption)"),
    ("7,5,1,yesterday", "row 3: captured_at: 'yesterday' is not an ISO date and time"),
])
async def test_bad_metrics_are_one_line_and_nothing_is_imported(home: Home, bad_row: str, message: str) -> None:
    first = (await made_videos(home))[0]
    sheet = home.root / "insights.csv"
    sheet.write_text(f"job_id,views,likes,captured_at\n{first.id},10,1,\n{bad_row}\n")
    result = run_cli(home.root, "metrics", "import", str(sheet))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {sheet}: {message}"
    assert stored_metrics(home) == {}  # the good first row waits for a fixed file


def test_unreadable_metrics_files_are_one_clear_error(tmp_path: Path) -> None:
    cases = {"latin1.csv": b"job_id,views\n1,\xff\n", "list.json": b'{"views": 1}', "broken.json": b"[{",
             "sheet.xlsx": b"PK", "empty.csv": b"job_id,views\n"}
    messages = {"latin1.csv": "byte 15: not UTF-8 text", "list.json": "expected a list of objects",
                "broken.json": "line 1: not valid JSON", "sheet.xlsx": "expected a .csv or .json file",
                "empty.csv": "no rows"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=re.escape(f"{tmp_path / name}: {messages[name]}")):
            read_rows(tmp_path / name)
    with pytest.raises(InputError, match="not a file"):
        read_rows(tmp_path)



@pytest.mark.parametrize("name, content, message", [
    ("digit.json", [{"job_id": "²", "views": 1}], "row 1: job_id: '²' is not a job id (a whole number)"),
    ("digit.csv", "job_id,views\n²,1\n", "row 2: job_id: '²' is not a job id (a whole number)"),
    ("bare.json", [{"job_id": 1, "insights": {"data": [{"name": "views", "values": [5]}]}}],
     'row 1: insights.data[0].values: [5] is not a list like [{"value": N}]'),
    ("number.json", [{"job_id": 1, "views": 1, "insights": 5}], "row 1: insights: 5 is not a list like"),
    ("name.json", [{"job_id": 1, "insights": [{"name": 5, "values": [{"value": 1}]}]}],
     "row 1: insights.data[0].name: 5 is not a metric name"),
    ("total.json", [{"video": "a.mp4", "insights": [{"name": "views", "total_value": 5}]}],
     'row 1: insights.data[0].total_value: 5 is not an object like {"value": N}'),
    ("entry.json", [{"video": "a.mp4", "views": 1}, {"video": "b.mp4", "insights": {"data": ["views"]}}],
     "row 2: insights.data[0]: 'views' is not an object like"),
    ("deep.json", "[" * 100_000, "not valid JSON (nested deeper than 64 levels)"),
    ("digits.json", "[" + "1" * 5000 + "]", "not valid JSON (a number of over 4300 digits)"),
    ("cell.csv", "video,views\n" + "x" * 200_000 + ",1\n", "line 2: not valid CSV (field larger than field limit"),
])
def test_malformed_metrics_are_one_line_naming_row_and_field(tmp_path: Path, name: str, content: Any,
                                                             message: str) -> None:
    """Each of these once raised a traceback (ValueError, AttributeError, TypeError, RecursionError, csv.Error)."""
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(InputError) as raised:
        read_rows(path)
    assert str(raised.value).startswith(f"{path}: {message}") and "\n" not in str(raised.value)


async def test_a_malformed_job_id_exits_2_and_imports_nothing(home: Home) -> None:
    first = (await made_videos(home))[0]
    sheet = home.root / "insights.json"
    sheet.write_text(json.dumps([{"job_id": first.id, "views": 5}, {"job_id": "²", "views": 1}]))
    result = run_cli(home.root, "metrics", "import", str(sheet))
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {sheet}: row 2: job_id: '²' is not a job id "
                                                              "(a whole number)")
    assert stored_metrics(home) == {}

@pytest.mark.slow
async def test_report_command_prints_a_summary_and_writes_the_asked_format(home: Home) -> None:
    await made_videos(home)
    result = run_cli(home.root, "report", "--days", "90", "--format", "csv")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert path.name == "report-90d.csv" and path.is_file()
    assert not path.with_suffix(".html").exists() and not path.with_suffix(".json").exists()
    assert "videos made" in result.stdout and "providers" in result.stdout
    bad = run_cli(home.root, "report", "--days", "0")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --days 0: give 1 or more"
