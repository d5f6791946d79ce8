"""Config validation: a bad file gives one clear line and a non-zero exit, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.home import Home
from tests.conftest import edit_json, run_cli, settings_for


def assert_one_clear_line(result, *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in lines[0], lines[0]


@pytest.mark.slow
def test_init_writes_the_sample_home_and_never_overwrites(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert "wrote config/config.json, config/video_config.json, data/trends" in result.stdout
    home = Home.at(tmp_path)
    assert home.config_file.is_file() and home.video_config_file.is_file() and home.logs_dir.is_dir()
    home.config_file.write_text("{}")
    again = run_cli(tmp_path, "init")
    assert "nothing (files already there)" in again.stdout and home.config_file.read_text() == "{}"


def test_sample_config_is_valid_and_check_prints_it(home: Home) -> None:
    result = run_cli(home.root, "config", "check")
    assert result.returncode == 0, result.stderr
    assert '"default_provider": "local"' in result.stdout
    assert "local (type local): ready" in result.stdout
    assert "config OK" in result.stdout


def test_missing_file(home: Home) -> None:
    home.video_config_file.unlink()
    assert_one_clear_line(run_cli(home.root, "config", "check"), "config/video_config.json", "file not found")


def test_json_syntax_error_names_line_and_column(home: Home) -> None:
    text = home.config_file.read_text().replace('"top_n": 3,', '"top_n": 3', 1)
    home.config_file.write_text(text)
    assert_one_clear_line(run_cli(home.root, "once"), "config/config.json", "invalid JSON at line 9, column 5")


def test_negative_budget(home: Home) -> None:
    edit_json(home.video_config_file, lambda d: d["video_generation"]["budget"].update(daily_limit_usd=-5))
    assert_one_clear_line(
        run_cli(home.root, "run"),
        "config/video_config.json: video_generation.budget.daily_limit_usd: must be >= 0, got -5",
    )


def test_unknown_provider_type(home: Home) -> None:
    edit_json(home.video_config_file, lambda d: d["video_generation"]["providers"]["local"].update(type="locall"))
    assert_one_clear_line(
        run_cli(home.root, "config", "check"),
        "video_generation.providers.local.type: unknown provider type 'locall' (did you mean 'local'?)",
    )


def test_unknown_key_suggests_the_intended_one(home: Home) -> None:
    edit_json(home.video_config_file, lambda d: d["video_generation"]["budget"].update(daily_limt_usd=3))
    assert_one_clear_line(
        run_cli(home.root, "config", "check"),
        "video_generation.budget.daily_limt_usd: unknown key (did you mean 'daily_limit_usd'?)",
    )


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (lambda d: d["accounts"][1].update(nichs=["x"]), "accounts[1].nichs", "did you mean 'niches'?"),
        (lambda d: d["schedule"].update(timezone="Mars/Base"), "schedule.timezone", "unknown time zone 'Mars/Base'"),
        (lambda d: d["trends"].update(top_n=0), "trends.top_n", "must be >= 1, got 0"),
        (lambda d: d["accounts"][0]["style"]["palette"].update(text="white"), "accounts[0].style.palette.text",
         "'white' does not match"),
        (lambda d: d["accounts"][0]["style"].update(template="slideshow"), "accounts[0].style.template",
         "must be one of"),
        (lambda d: d["accounts"][0]["style"].update(font="fonts/missing.ttf"), "accounts[0].style.font",
         "font file 'fonts/missing.ttf' not found"),
        (lambda d: d["accounts"][0]["style"]["voiceover"].update(words_per_minute=20),
         "accounts[0].style.voiceover.words_per_minute", "must be >= 80"),
        (lambda d: d.update(platforms=["myspace"]), "platforms[0]", "must be one of"),
    ],
)
def test_app_config_errors_name_their_path(home: Home, change, path: str, problem: str) -> None:
    edit_json(home.config_file, change)
    with pytest.raises(ConfigError) as caught:
        settings_for(home)
    assert caught.value.path == path
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (lambda v: v.update(default_provider="pika"), "video_generation", "default_provider: no provider named 'pika'"),
        (lambda v: v["providers"]["local"]["params"].update(api_key="sk-123"), "video_generation.providers.local.params",
         "put API keys in the environment"),
        (lambda v: v["providers"]["local"]["params"].update(crf=99), "video_generation.providers.local.params.crf",
         "must be <= 23, got 99"),
        (lambda v: v.update(max_concurrent_generations=0), "video_generation.max_concurrent_generations", ">= 1"),
        (lambda v: v.update(quality_tiers={"hd": {"provider_params": {"local": {"crf": 30}}}}),
         "video_generation.quality_tiers.hd.provider_params.local.crf", "must be <= 23, got 30"),
        (lambda v: v.update(quality_tiers={"hd": {"provider_params": {"locl": {}}}}),
         "video_generation", "quality_tiers.hd.provider_params.locl: no provider named 'locl' (did you mean 'local'?)"),
    ],
)
def test_video_config_errors_name_their_path(home: Home, change, path: str, problem: str) -> None:
    edit_json(home.video_config_file, lambda d: change(d["video_generation"]))
    with pytest.raises(ConfigError) as caught:
        settings_for(home)
    assert caught.value.path == path
    assert problem in caught.value.problem


def test_two_providers_may_share_a_type_and_order_follows_config(home: Home) -> None:
    def add(d):
        providers = d["video_generation"]["providers"]
        providers["local_fast"] = {"type": "local", "priority": 1, "params": {"preset": "ultrafast"}}
        providers["local_off"] = {"type": "local", "enabled": False}
        d["video_generation"]["fallback_providers"] = ["local_fast"]

    edit_json(home.video_config_file, add)
    assert settings_for(home).video.provider_order() == ["local", "local_fast"]


def test_secrets_never_printed(home: Home) -> None:
    secret = "sk-live-supersecret-0123456789"
    (home.root / ".env").write_text(f"RUNWAY_API_KEY={secret}\n")
    env = {"DATABASE_URL": "sqlite:///" + str(home.root / "x.db"), "OPENAI_API_KEY": secret + "b"}
    result = run_cli(home.root, "config", "check", env=env)
    assert result.returncode == 0, result.stderr
    logged = (home.logs_dir / "orchestrator.log").read_text()
    for text in (result.stdout, result.stderr, logged):
        assert secret not in text
