"""When the machine refuses (issue 17 §6): a full disk, a read-only home, a database locked past its busy timeout.
Each is one line, never a traceback; a job it stopped goes back to the queue instead of failing, and is made (and
paid for) once when the machine lets it."""
from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core import storage
from core.daemon.cli import init_home
from core.daemon.daemon import CycleResult
from core.engine.runner import JobOutcome
from core.home import Home
from core.progress import NullProgress
from core.schema import video_jobs
from core.storage import Database
from tests.conftest import CliResult, daemon_for, edit_json, make_clip, run_cli, settings_for, unnarrated
from tests.test_engine_faults import KeyedProvider, money


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` (root only: the test is skipped elsewhere)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def new_home(root: Path) -> Home:
    home = Home.at(root)
    with contextlib.redirect_stdout(None):
        init_home(home)
    edit_json(home.config_file, unnarrated)  # the disk is sized for an unnarrated Reel's files
    return home


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr, result.stderr


@pytest.mark.slow
async def test_a_full_disk_while_delivering_puts_the_job_back_and_it_is_not_bought_twice(
        home: Home, tmp_path: Path) -> None:
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    daemon = daemon_for(home, settings, db)
    try:
        job_id = await daemon.planner.enqueue_prompt("A video delivered onto a full disk", None, 0, "standard", 5)

        class FullDisk(KeyedProvider):
            full = True

            async def download(self, task_id: str, destination: Path) -> Path:
                if self.full:
                    raise OSError(errno.ENOSPC, "No space left on device", str(destination))
                return await super().download(task_id, destination)

        name = settings.video.default_provider
        provider = FullDisk(name, make_clip(tmp_path / "a.mp4", size="1080x1920", rate="30", seconds=5))
        daemon.runner.providers[name] = provider
        [outcome] = await daemon.worker.process_queue(NullProgress())
        assert outcome.status == "queued" and (outcome.error or "").endswith(": No space left on device")
        [row] = await db.fetch_all(select(video_jobs.c.status, video_jobs.c.not_before, video_jobs.c.error))
        assert row.status == "queued" and row.not_before is not None and row.error.startswith("waiting: ")
        assert await money(db) == {"reserve": 1.0}, "still reserved, nothing charged or released"

        provider.full = False  # the operator freed space; the wait is over
        await db.write((update(video_jobs).values(not_before=None), {}))
        [outcome] = await daemon.worker.process_queue(NullProgress())
        assert (outcome.job_id, outcome.status) == (job_id, "done")
        assert len(provider.created) == 1, "the paid task was downloaded again, never made again"
        assert await money(db) == {"reserve": 1.0, "release": -1.0, "charge": 1.0}, "charged once"
    finally:
        await daemon.close()
        await db.close()


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_render_loses_no_job(tmp_path: Path) -> None:
    """Real ffmpeg on a real 3 MB disk: the render hits ENOSPC. `once` says so in one line, the job waits in the
    queue, and once the disk has room a worker makes it."""
    with small_disk(tmp_path / "home", "3m") as root:
        home = new_home(root)
        edit_json(home.video_config_file, lambda d: d["video_generation"].setdefault("retry", {}).update(
            machine_fault_wait_s=1))
        edit_json(home.config_file, lambda d: (d["trends"].update(top_n=1), d["content"].update(default_duration_s=5)))
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'daemon.db'}"}  # the database on a disk with room
        result = run_cli(root, "once", env=env)
        no_traceback(result)
        assert result.returncode == 1
        assert result.stderr.count("the machine refused its files") == 1, result.stderr
        assert "No space left on device" in result.stderr
        statuses = [job["status"] for job in json.loads(run_cli(root, "status", "--json", env=env).stdout)["jobs"]]
        assert statuses == ["queued"]

        remount(root, "size=300m")
        time.sleep(1.1)
        result = run_cli(root, "worker", "--drain", env=env)
        no_traceback(result)
        jobs = json.loads(run_cli(root, "status", "--json", env=env).stdout)["jobs"]
        assert [job["status"] for job in jobs] == ["done"], result.stderr


@pytest.mark.slow
def test_a_read_only_home_is_one_line_and_works_once_writable(tmp_path: Path) -> None:
    with small_disk(tmp_path / "home", "50m") as root:
        new_home(root)
        remount(root, "ro")
        result = run_cli(root, "status")
        no_traceback(result)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [f"error: {root}/logs/orchestrator.log: Read-only file system"]
        remount(root, "rw")
        assert run_cli(root, "status").returncode == 0


def test_a_database_locked_past_its_busy_timeout_is_one_line_and_nothing_is_queued(
        home: Home, cli_in_process: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "SQLITE_BUSY_TIMEOUT_S", 0.5)  # 30 s in production
    assert cli_in_process(home.root, "status").returncode == 0  # the database exists
    holder = sqlite3.connect(home.database_file, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = cli_in_process(home.root, "generate", "a topic that waits for the lock")
    finally:
        holder.close()
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the database is unavailable") and "database is locked" in line, line
    assert json.loads(cli_in_process(home.root, "status", "--json").stdout)["jobs"] == []


def test_a_cycle_fails_on_a_job_the_machine_put_back_not_on_one_a_rate_limit_deferred() -> None:
    deferred = JobOutcome(1, "queued", "a topic", "mia_moves", error="runway: rate limited; back in 30 s")
    refused = JobOutcome(2, "queued", "a topic", "mia_moves", error="No space left on device", machine_refused=True)
    assert CycleResult([deferred, refused]).failed == [refused]
