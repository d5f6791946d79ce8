"""API keys come from the environment or `<home>/.env` only, and their values never leave this module unmasked."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z0-9+]+://[^:/@\s]+:)(?P<password>[^@\s]+)(?=@)")


class Secrets:
    """Read-only view of secret values (the process environment wins over `.env`), and the one redactor of every
    text we write: it masks those values, the tokens made from them, and any URL's password."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = {name: value for name, value in values.items() if value}
        self._tokens: dict[str, float] = {}  # token → when it expires; replaced whole, never changed in place

    @classmethod
    def load(cls, env_file: Path, environ: Mapping[str, str] | None = None) -> "Secrets":
        from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
        return cls({**from_file, **(os.environ if environ is None else environ)})

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def has(self, name: str) -> bool:
        return name in self._values

    def register_token(self, token: str, expires_at: float) -> str:
        """Mask `token` (made from a key, e.g. Kling's signed JWT) like a key until it expires; returns it.

        The tokens are replaced as a whole so that a log sink in another thread always reads a complete set."""
        now = time.time()
        self._tokens = {**{t: until for t, until in self._tokens.items() if until > now}, token: expires_at}
        return token

    def renew(self, name: str, value: str, env_file: Path, old_valid_until: float) -> None:
        """A refreshed token: written to `env_file` (where secrets live, atomically) and used from now on; the old
        value stays masked until it expires."""
        from dotenv import set_key  # loaded for the rare refresh only

        set_key(env_file, name, value, quote_mode="never")
        old = self._values.get(name)
        self._values = {**self._values, name: value}
        if old:
            self.register_token(old, old_valid_until)

    def secret_values(self) -> list[str]:
        """Values to scrub from any text we write: every KEY/TOKEN/SECRET/PASSWORD, the database password and the
        registered tokens, longest first (a value inside a longer one is masked with it)."""
        values = [v for k, v in self._values.items() if SECRET_NAME.search(k) and len(v) >= 4]
        url = self._values.get("DATABASE_URL", "")
        values += [m.group("password") for m in URL_PASSWORD.finditer(url)]
        return sorted({*values, *self._tokens}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret value and any URL password replaced by `***`."""
        for value in self.secret_values():
            text = text.replace(value, "***")
        return URL_PASSWORD.sub(r"\g<scheme>***", text)

    def redact_answer(self, answer: Any) -> Any:
        """A decoded API answer (JSON or text) with every string in it redacted, keys included: whatever message is
        later built from it can carry no secret."""
        if isinstance(answer, str):
            return self.redact(answer)
        if isinstance(answer, list):
            return [self.redact_answer(item) for item in answer]
        if isinstance(answer, dict):
            return {self.redact_answer(key): self.redact_answer(value) for key, value in answer.items()}
        return answer
