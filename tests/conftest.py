"""Shared fixtures: an isolated `--home` per test, the CLI as a subprocess, synthetic media via ffmpeg, and fresh
databases of both kinds (SQLite, and PostgreSQL at TEST_POSTGRES_URL) for the engine's tests."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from sqlalchemy import select, text

from bench import fleet
from content.briefs.brief import Brief
from content.media.ffmpeg import ffmpeg_exe
from content.providers import build_providers, provider_params
from core.daemon.cli import init_home
from core.daemon.daemon import Daemon
from core.engine import queue
from core.engine.ledger import Attempt, Ledger, ProviderLimits
from core.engine.runner import JobOutcome
from core.home import Home
from core.progress import NullProgress
from core.schema import budget_totals
from core.secrets import Secrets
from core.settings import Settings, load_settings
from core.storage import Database, database_url, utcnow
from main import main
from tests.fakes.stock import StockMedia
from trends.models import Trend
from trends.store import save_trends

ROOT = Path(__file__).resolve().parent.parent
# A PostgreSQL server the engine's tests may make databases on, e.g. postgresql://postgres:postgres@127.0.0.1/postgres
# (.ci/run starts one and sets it, with REQUIRE_POSTGRES=1 so that its absence fails rather than skips).
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
DIALECTS = ["sqlite", "postgresql"]


def run_cli(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python main.py --home HOME ARGS` exactly as a user runs it."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--home", str(home), *args],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd=ROOT,
    )


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_in_process(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[..., CliResult]]:
    """`main.py --home HOME ARGS` run by `main.main` in this process: the same code as `run_cli` without an
    interpreter's start (two seconds a call); the logging it sets up is undone afterwards."""
    def run(home: Path, *args: str) -> CliResult:
        capfd.readouterr()
        code = main(["--home", str(home), *args])
        out, err = capfd.readouterr()
        return CliResult(code, out, err)

    yield run
    logger.remove()
    logger.add(sys.stderr)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh home with the shipped sample config and trends: what `main.py init` writes (called in this process;
    test_settings runs the command itself), unnarrated (see `unnarrated`), with the local renderer and the composer
    at x264's fastest preset: the tests look at what is in the picture, not at how well it is compressed
    (tests/test_renderer.py renders at the default). Providers' videos are delivered as made: the engine's tests
    follow money and states; those of the composer (tests/test_composer.py) switch it back on."""
    home = Home.at(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        assert init_home(home) == 0

    def fastest(data: dict[str, Any]) -> None:
        generation = data["video_generation"]
        generation["providers"]["local"].setdefault("params", {}).update(preset="ultrafast")
        generation["composer"] = {"preset": "ultrafast", "provider_videos": False}

    edit_json(home.video_config_file, fastest)
    edit_json(home.config_file, unnarrated)
    return home


def unnarrated(data: dict[str, Any]) -> None:
    """The sample personas without their voiceover: most tests follow money, states and pictures, and a Reel
    narrated by espeak-ng lasts as long as its speech, not its --duration (tests/test_voiceover.py narrates)."""
    for account in data["accounts"]:
        account["style"]["voiceover"]["enabled"] = False


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def settings_for(home: Home) -> Settings:
    return load_settings(home, provider_params())


def daemon_for(home: Home, settings: Settings, db: Database, secrets: Secrets | None = None) -> Daemon:
    """The daemon over `home`'s configured providers (no keys unless `secrets`)."""
    secrets = secrets or Secrets({})
    return Daemon(home, settings, db, build_providers(settings.video, secrets, home.data_dir), secrets)


async def generate_and_wait(home: Home, prompt: str, seconds: float, secrets: Secrets | None = None,
                            then: Any = None) -> tuple[JobOutcome, list[Any]]:
    """`generate --wait` in this process (so loopback fakes on this event loop serve it): the job's outcome, and the
    rows of `then` (a select) read afterwards from the same database."""
    settings = settings_for(home)
    db = await Database.open(database_url(home, Secrets.load(home.env_file)))
    daemon = daemon_for(home, settings, db, secrets)
    try:
        job_id = await daemon.planner.enqueue_prompt(prompt, None, 0, "standard", seconds)
        outcome = await daemon.worker.run_job(job_id, NullProgress())
        rows = await db.fetch_all(then) if then is not None else []
    finally:
        await daemon.close()
        await db.close()
    return outcome, rows


def make_clip(path: Path, *, size: str = "640x360", rate: str = "25", seconds: float = 4, audio: bool = True,
              extra: list[str] | None = None) -> Path:
    """A synthetic test clip (testsrc2 + optional tone) standing in for a provider's output."""
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}:r=44100", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *(extra or []), str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fakes hand out: a 5 s portrait clip already in Reels shape (H.264 High, 30 fps, closed 2 s GOPs,
    AAC 48 kHz stereo), so the engine's optimizer only remuxes it (its transcodes are tested elsewhere)."""
    return make_clip(tmp_path_factory.mktemp("media") / "made.mp4", size="1080x1920", rate="30", seconds=5,
                     extra=["-profile:v", "high", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
                            "-flags", "+cgop", "-ar", "48000", "-ac", "2"])


def brief(topic: str) -> Brief:
    return Brief(account="a", template="default", topic=topic, hook="h", beats=["1", "2", "3"], hashtags=[],
                 cta="c", visual_prompt="p", duration_s=15)


async def claim(db: Database, owner: str, lease_s: float, job_id: int | None = None,
                limits: dict[str, int] | None = None) -> queue.Job | None:
    """A bare claim (no reservation with it): the job, or None."""
    claimed = await queue.claim_next(db, owner, lease_s, job_id, limits)
    return claimed[0] if claimed else None


async def open_attempt(ledger: Ledger, job_id: int, provider: str, provider_type: str, estimate_usd: float,
                       limits: ProviderLimits = ProviderLimits()) -> Attempt:
    """What the generator does for one attempt: `reserve` in a transaction of its own, then the alerts it made due."""
    async with ledger.db.transaction() as conn:
        reservation = await ledger.reserve(conn, job_id, provider, provider_type, estimate_usd, limits)
    await ledger.alert(reservation)
    return reservation.attempt


def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server; skips the test when there is none (fails under
    REQUIRE_POSTGRES)."""
    if POSTGRES_URL:
        return POSTGRES_URL
    if os.environ.get("REQUIRE_POSTGRES"):
        pytest.fail("REQUIRE_POSTGRES is set but TEST_POSTGRES_URL is not")
    pytest.skip("no PostgreSQL server: set TEST_POSTGRES_URL=postgresql://USER:PASSWORD@HOST/postgres")


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database of `kind` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = postgres_server()
    url = fleet.create_database(server)
    try:
        yield url
    finally:
        fleet.drop_database(server, url)


@pytest.fixture(params=DIALECTS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database's URL, once for each kind the engine runs on."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def db(database: str):
    """A fresh database (of each kind) with 50 stored trends (job rows need a trend)."""
    opened = await Database.open(database)
    now = utcnow()
    await save_trends(opened, [Trend(caption=f"Trend number {i}. More.", theme="t", timestamp=now, source="test")
                               for i in range(50)])
    yield opened
    await opened.close()


@pytest.fixture
def engine_home(home: Home, database: str) -> Home:
    """A `home` whose database is a fresh one of each kind (DATABASE_URL in its .env, as a user sets it)."""
    if database.startswith("postgresql"):
        home.env_file.write_text(f"DATABASE_URL={database}\n")
    return home


async def spent(db: Database, day: str | None = None, month: str | None = None) -> float:
    """Committed plus reserved USD in a budget day or month, as the ledger's running totals hold it."""
    period = f"day:{day}" if day else f"month:{month}"
    rows = await db.fetch_all(select(budget_totals.c.amount_usd).where(budget_totals.c.period == period))
    return float(rows[0][0]) if rows else 0.0


def query(home: Home, sql: str) -> list[Any]:
    """Rows of `sql` read from `home`'s database, whichever kind it is."""

    async def read() -> list[Any]:
        opened = await Database.open(database_url(home, Secrets.load(home.env_file)))
        try:
            return [tuple(row) for row in await opened.fetch_all(text(sql))]
        finally:
            await opened.close()

    return fleet.run_apart(read())


class LogCapture:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def caplog_loguru():
    """Loguru messages emitted during the test."""

    capture = LogCapture()
    sink = logger.add(lambda message: capture.lines.append(str(message).rstrip()), level="DEBUG", format="{message}")
    yield capture
    logger.remove(sink)


@pytest.fixture(scope="session")
def stock_media(tmp_path_factory: pytest.TempPathFactory) -> StockMedia:
    """The stock fakes' video files, made once a session."""
    return StockMedia(tmp_path_factory.mktemp("stock-media"))
