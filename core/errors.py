"""One documented exception tree: everything the daemon raises on purpose derives from DaemonError.

The CLI prints `str(error)` as a single line and exits non-zero; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import errno
import sqlite3
from enum import StrEnum

from core.bounds import wait_s


class DaemonError(Exception):
    """Base of every expected failure; its message is one line a user can act on."""

    exit_code = 1


class ConfigError(DaemonError):
    """A configuration file is missing, unreadable or invalid: `file: json.path: problem`."""

    exit_code = 2

    def __init__(self, file: str, problem: str, path: str = "") -> None:
        self.file = file
        self.path = path
        self.problem = problem
        location = f"{file}: {path}" if path else file
        super().__init__(f"{location}: {problem}")


class InputError(DaemonError):
    """A file the user handed to a command is invalid: `file: where: problem`; nothing of it was used."""

    exit_code = 2


class FFmpegError(DaemonError):
    """ffmpeg exited non-zero; carries the tail of its stderr."""

    def __init__(self, what: str, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:])
        super().__init__(f"ffmpeg failed while {what} (exit {returncode}): {tail or 'no output'}")


MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
MACHINE_SIGNS = ("No space left on device", "Disk quota exceeded", "Read-only file system", "Permission denied",
                 "database or disk is full", "attempt to write a readonly database")


def machine_fault(exc: BaseException) -> str | None:
    """What the machine refused, when `exc` is a full disk or a folder that cannot be written (raised directly, by
    ffmpeg or by SQLite), as opposed to a fault of the work itself: that work can be done once the operator frees
    space or fixes permissions, so it waits instead of failing."""
    if isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror)
    if isinstance(exc, FFmpegError) or isinstance(getattr(exc, "orig", None), sqlite3.Error):
        text = f"{exc} {getattr(exc, 'stderr', '')}"
        return next((sign for sign in MACHINE_SIGNS if sign in text), None)
    return None


class MediaError(DaemonError):
    """A video cannot be made to fit its platform (too long, too short, too large, unreadable)."""


class ErrorClass(StrEnum):
    """What kind of failure a provider error is; every adapter maps its API's errors onto these, and the engine's
    policy (core/engine/policy.py) acts on them. Stored in `attempts.error_class`."""

    TEMPORARY = "temporary"
    """A timeout, a 5xx, a dropped connection: the same call may work in a moment."""
    RATE_LIMIT = "rate_limit"
    """Too many requests (429, a provider's own code): wait for its Retry-After."""
    BILLING = "billing"
    """Out of credit, or the plan does not allow it: nothing works until the account is topped up."""
    AUTH = "auth"
    """The key is missing, wrong or revoked."""
    CONTENT_VIOLATION = "content_violation"
    """The provider's moderation refused the prompt or the output."""
    INVALID_REQUEST = "invalid_request"
    """The provider rejected the request as malformed (a bug, or a parameter it does not take)."""
    UNKNOWN = "unknown"
    """Anything else, including a create call whose outcome is unknown."""


class ProviderError(DaemonError):
    """A video provider could not produce a video for one attempt, classified for the engine's policy.

    `error_class` is an ErrorClass or its value (every adapter maps its API's errors onto them); `retry_after_s`
    carries a rate limit's Retry-After, bounded here for every adapter (to [0, core.bounds.MAX_WAIT_S]); `ambiguous`
    marks a create call whose outcome is unknown (a timeout), which must be reconciled, never blindly repeated.
    """

    def __init__(self, message: str, error_class: str = ErrorClass.UNKNOWN, *, retry_after_s: float | None = None,
                 ambiguous: bool = False) -> None:
        self.error_class = ErrorClass(error_class)  # ValueError for a class that is not one
        self.retry_after_s = wait_s(retry_after_s)
        self.ambiguous = ambiguous
        super().__init__(message)


class SchemaError(DaemonError):
    """The database was written by a newer version of the daemon."""
