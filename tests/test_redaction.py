"""Secrets never appear (issue 17 §5): providers that echo every header and our keys back in their messages leave no
key, no token made from one and no URL password in the database, the logs, the reports or the terminal."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.home import Home
from core.secrets import Secrets
from tests.conftest import edit_json, run_cli
from tests.fakes.base import FakeApi
from tests.test_providers import (
    ADAPTERS,
    cli,
    configure,
    keys,
)

WEBHOOK_PASSWORD = "hook-pass-9876"
WEBHOOK_URL = f"https://alerts:{WEBHOOK_PASSWORD}@127.0.0.1:9/hook"
# In this order: an auth refusal (the provider is disabled), a rate limit (paused), a task that fails while polled.
SCENARIOS = ("bad_key", "rate_limit", "moderation")
COMMANDS = (("config", "check"),
            ("generate", "A quiet harbour at dawn, boats rocking", "--duration", "5", "--wait", "--json"),
            ("once", "--json"),
            ("generate", "Rain on a tin roof, close up", "--duration", "5", "--wait"),
            ("status", "--json"),
            ("status",),
            ("report",))


def use_webhook(home: Home) -> None:
    edit_json(home.video_config_file,
              lambda data: data["video_generation"]["budget"].update(alert_webhook_url=WEBHOOK_URL))


def database_dump(home: Home) -> bytes:
    """Every table, every row, every column of the home's SQLite database."""
    with sqlite3.connect(home.database_file) as db:
        return "\n".join(db.iterdump()).encode()


def written_files(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["runway", "kling", "heygen"])  # a bearer key; a JWT from two keys; X-Api-Key
async def test_echoed_credentials_are_nowhere_to_be_found(kind: str, home: Home, clip: Path) -> None:  # noqa: F811
    fakes = [ADAPTERS[kind].fake(clip, scenario) for scenario in SCENARIOS]
    for fake in fakes:
        fake.echoes_secrets = True
    configure(home, {f"{kind}-{scenario}": (kind, await fake.start()) for scenario, fake in zip(SCENARIOS, fakes)})
    use_webhook(home)
    try:
        terminal = [await cli(home, *command, env=keys(kind)) for command in COMMANDS]
    finally:
        for fake in fakes:
            await fake.stop()
    tokens = {header.removeprefix("Bearer ") for fake in fakes for header in fake.authorizations} - {""}
    secrets = {*fakes[0].echoed_keys, *tokens, WEBHOOK_PASSWORD}
    dump = database_dump(home)
    assert b"you sent" in dump, "the echoes reached the database"
    places = {"database": dump, **{str(path): path.read_bytes()
                                   for path in written_files(home.logs_dir, home.reports_dir)},
              **{" ".join(command): (out + err).encode() for command, (_, out, err) in zip(COMMANDS, terminal)}}
    assert any(name.endswith("report.json") for name in places) and any(".log" in name for name in places)
    leaks = [(name, secret) for name, text in places.items() for secret in secrets if secret.encode() in text]
    assert leaks == []


def test_config_check_masks_a_webhooks_password(home: Home) -> None:
    use_webhook(home)
    result = run_cli(home.root, "config", "check")
    assert result.returncode == 0, result.stderr
    assert WEBHOOK_PASSWORD not in result.stdout + result.stderr
    assert '"alert_webhook_url": "https://alerts:***@127.0.0.1:9/hook"' in result.stdout


def test_a_token_made_from_a_key_is_masked_until_it_expires() -> None:
    secrets = Secrets({"KLING_SECRET_KEY": "sk-signing-secret"})
    secrets.register_token("eyJ.old-token", expires_at=0)  # already expired: dropped when the next one comes
    token = secrets.register_token("eyJ.new-token", expires_at=float("inf"))
    assert token == "eyJ.new-token"
    assert secrets.redact("Bearer eyJ.new-token, sk-signing-secret") == "Bearer ***, ***"
    assert secrets.redact("eyJ.old-token") == "eyJ.old-token"


def test_an_answer_is_redacted_in_every_string_it_holds() -> None:
    secrets = Secrets({"RUNWAY_API_KEY": FakeApi.key})
    answer = {"error": {"message": f"bad key {FakeApi.key}", FakeApi.key: [f"Bearer {FakeApi.key}", 3, None]},
              "callback": "https://user:hunter2@example.com/x"}
    assert secrets.redact_answer(answer) == {"error": {"message": "bad key ***", "***": ["Bearer ***", 3, None]},
                                             "callback": "https://user:***@example.com/x"}
