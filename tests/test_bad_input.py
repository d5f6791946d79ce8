"""Bad input is one line, never a traceback or a hang (issue 17 §3, §4, §6, §7): config files that are folders,
FIFOs or nested past reason, numbers out of range, prompts and options that cannot make a video, databases that
cannot be used. Exit 2 for what the user must fix, 1 for what the machine refused; nothing is queued or lost."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import ConfigError, InputError
from core.home import Home
from core.storage import Database
from tests.conftest import POSTGRES_URL, CliResult, daemon_for, edit_json, query, run_cli, settings_for


def one_error_line(result: Any, code: int) -> str:
    """The command exited `code` with exactly one line on stderr, an `error:` line, and no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def stored(home: Home) -> list[Any]:
    """The jobs and the trends in `home`'s database (none, when the command never opened it)."""
    if not home.database_file.exists():
        return []
    return query(home, "SELECT 'job', id FROM video_jobs UNION ALL SELECT 'trend', id FROM trends")


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "problem"), [
    (["generate", ""], "prompt '': say what the video is about"),
    (["generate", "  \t "], "at least 3 characters"),
    (["generate", "ab"], "at least 3 characters"),
    (["generate", "x" * 501], "a topic fits in 500"),
    (["generate", "a fine topic", "--duration", "91"], "--duration 91: give a number from 5 to 90"),
    (["generate", "a fine topic", "--duration", "-5"], "--duration -5"),
    (["generate", "a fine topic", "--duration", "nan"], "--duration nan"),
    (["generate", "a fine topic", "--priority", "-1"], "--priority -1: give a number from 0 to 1000"),
    (["generate", "a fine topic", "--priority", str(10 ** 30)], "--priority 1e+30"),
    (["generate", "a fine topic", "--wait", "--timeout", "-1"], "--timeout -1"),
    (["report", "--days", "0"], "--days 0: give 1 or more"),
])
def test_a_command_given_what_cannot_work_says_so_in_one_line_and_queues_nothing(
        home: Home, argv: list[str], problem: str, cli_in_process: Callable[..., CliResult]) -> None:
    assert problem in one_error_line(cli_in_process(home.root, *argv), 2)
    assert stored(home) == [], "nothing was stored"


async def test_a_prompt_is_queued_with_its_whitespace_tidied(home: Home) -> None:
    db = await Database.open(f"sqlite:///{home.database_file}")
    daemon = daemon_for(home, settings_for(home), db)
    try:
        with pytest.raises(InputError):
            await daemon.planner.enqueue_prompt("\n\n", None, 0, "standard", None)
        job_id = await daemon.planner.enqueue_prompt("  morning   runs\tin winter ", None, 0, "standard", 30)
        rows = await db.fetch_all(text(f"SELECT t.caption FROM video_jobs j JOIN trends t ON t.dedup_key = j.trend_key "
                                       f"WHERE j.id = {job_id}"))
        assert rows[0][0] == "morning runs in winter"
    finally:
        await daemon.close()
        await db.close()


@pytest.mark.slow
def test_check_on_a_file_that_is_not_a_video_is_bad_input(home: Home, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))
    assert "not a readable video" in one_error_line(run_cli(home.root, "check", str(junk)), 2)
    assert "no such file" in one_error_line(run_cli(home.root, "check", str(tmp_path / "gone.mp4")), 2)


@pytest.mark.slow
@pytest.mark.parametrize(("make", "problem"), [
    (lambda path: path.mkdir(), "is a folder, not a file"),
    (lambda path: os.mkfifo(path), "not a regular file"),  # opening a FIFO would wait for a writer forever
    (lambda path: path.write_text("[" * 100_000 + "]" * 100_000), "invalid JSON: nested deeper than 64 levels"),
    (lambda path: path.write_text(" " * (1024 * 1024 + 1)), "larger than 1024 KiB"),
    (lambda path: path.write_bytes(b"\xff\xfe{}"), "not UTF-8 text"),
])
def test_a_config_file_that_is_not_a_config_is_one_line(home: Home, make: Any, problem: str) -> None:
    home.config_file.unlink()
    make(home.config_file)
    line = one_error_line(run_cli(home.root, "config", "check", timeout=60), 2)
    assert line.startswith(f"error: config/config.json: {problem}"), line


def test_a_config_saved_with_a_byte_order_mark_is_read(home: Home) -> None:
    home.config_file.write_bytes(b"\xef\xbb\xbf" + home.config_file.read_bytes())
    settings_for(home)


@pytest.mark.parametrize(("file", "change", "where"), [
    ("video", lambda d: d["video_generation"].update(lease_s=1e308), "video_generation.lease_s: must be <= 3600"),
    ("video", lambda d: d["video_generation"].setdefault("retry", {}).update(disable_hours=1e308),
     "video_generation.retry.disable_hours: must be <= 8760"),
    ("video", lambda d: d["video_generation"]["budget"].update(daily_limit_usd=float("inf")),
     "video_generation.budget.daily_limit_usd: input should be a finite number"),
    ("video", lambda d: d["video_generation"]["providers"]["runway"]["params"]["prices_usd_per_second"].update(
        {"gen4.5": -0.12}), "video_generation.providers.runway.params.prices_usd_per_second.gen4.5: must be >= 0"),
    ("video", lambda d: d["video_generation"]["providers"]["local"].update(priority=2 ** 63),
     "video_generation.providers.local.priority: must be <= 10000"),
    ("video", lambda d: d["video_generation"].update(max_queue_size=10 ** 30),
     "video_generation.max_queue_size: must be <= 1e+06"),
    ("app", lambda d: d["trends"].update(memory_days=1e308), "trends.memory_days: must be <= 3650"),
    ("app", lambda d: d["schedule"].update(trend_interval_hours=1e308),
     "schedule.trend_interval_hours: must be <= 168"),
])
def test_numbers_out_of_any_sane_range_are_refused_by_name(home: Home, file: str, change: Any, where: str) -> None:
    edit_json(home.video_config_file if file == "video" else home.config_file, change)
    with pytest.raises(ConfigError) as refused:
        settings_for(home)
    assert where in str(refused.value), str(refused.value)


def disable_all_but(home: Home, provider: str) -> None:
    def change(data: dict[str, Any]) -> None:
        generation = data["video_generation"]
        for name, entry in generation["providers"].items():
            entry["enabled"] = name == provider
        generation["default_provider"] = provider
    edit_json(home.video_config_file, change)


@pytest.mark.slow
def test_config_check_fails_when_no_enabled_provider_can_make_a_video(home: Home) -> None:
    disable_all_but(home, "runway")  # no RUNWAY_API_KEY here
    result = run_cli(home.root, "config", "check", env={"RUNWAY_API_KEY": ""})
    assert result.returncode == 2, result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("config NOT OK: no enabled provider is ready (runway)")
    assert run_cli(home.root, "config", "check", env={"RUNWAY_API_KEY": "key_123"}).returncode == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_database_url_that_cannot_be_used_is_one_line(home: Home, tmp_path: Path) -> None:
    unreachable = f"postgresql://daemon:s3cret-pw@127.0.0.1:{closed_port()}/influencer"
    for command in (["config", "check"], ["status"]):
        line = one_error_line(run_cli(home.root, *command, env={"DATABASE_URL": unreachable}), 1)
        assert "the database influencer on 127.0.0.1" in line and "is unreachable" in line, line
        assert "s3cret-pw" not in line
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    line = one_error_line(run_cli(home.root, "status", env={"DATABASE_URL": f"sqlite:///{blocked}/x.db"}), 2)
    assert line.startswith("error: DATABASE_URL: cannot make the database's folder"), line


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES_URL, reason="needs the test PostgreSQL server (TEST_POSTGRES_URL)")
def test_a_refused_login_or_a_missing_database_is_configuration(home: Home) -> None:
    from sqlalchemy.engine import make_url

    server = make_url(POSTGRES_URL)
    wrong_password = server.set(password="not-the-password").render_as_string(hide_password=False)
    line = one_error_line(run_cli(home.root, "status", env={"DATABASE_URL": wrong_password}), 2)
    assert "password authentication failed" in line and "not-the-password" not in line, line
    missing = server.set(database="no_such_database_here").render_as_string(hide_password=False)
    line = one_error_line(run_cli(home.root, "config", "check", env={"DATABASE_URL": missing}), 2)
    assert 'database "no_such_database_here" does not exist' in line, line
