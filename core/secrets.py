"""API keys come from the environment or `<home>/.env` only, and their values never leave this module unmasked."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z0-9+]+://[^:/@\s]+:)(?P<password>[^@\s]+)(?=@)")


class Secrets:
    """Read-only view of secret values: the process environment wins over `.env`."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = {name: value for name, value in values.items() if value}

    @classmethod
    def load(cls, env_file: Path, environ: Mapping[str, str] | None = None) -> "Secrets":
        from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
        return cls({**from_file, **(os.environ if environ is None else environ)})

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def has(self, name: str) -> bool:
        return name in self._values

    def secret_values(self) -> list[str]:
        """Values to scrub from any text we write: every KEY/TOKEN/SECRET/PASSWORD and database password."""
        values = [v for k, v in self._values.items() if SECRET_NAME.search(k) and len(v) >= 4]
        url = self._values.get("DATABASE_URL", "")
        values += [m.group("password") for m in URL_PASSWORD.finditer(url)]
        return sorted(set(values), key=len, reverse=True)


def redact(text: str, secret_values: list[str]) -> str:
    """Replace every known secret and any URL password in `text` with `***`."""
    for value in secret_values:
        text = text.replace(value, "***")
    return URL_PASSWORD.sub(r"\g<scheme>***", text)
