"""Loguru to stderr and `logs/orchestrator.log`, with job id and provider on every line and secrets scrubbed."""
from __future__ import annotations

import logging
import logging.handlers
import sys
from typing import TYPE_CHECKING

from loguru import logger

from core.home import Home
from core.progress import print_to_terminal
from core.secrets import Secrets

if TYPE_CHECKING:
    from loguru import Record

LINE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | job={extra[job_id]} provider={extra[provider]} | {message}"
)


def setup_logging(home: Home, secrets: Secrets, *, verbose: bool = False, quiet: bool = False) -> None:
    """Configure sinks once per process; `quiet` keeps stderr to warnings (for `--json` output). Every line is
    redacted by `secrets` as it is written, so tokens registered later (a renewed JWT) are masked too."""

    def scrub(record: Record) -> None:
        record["message"] = secrets.redact(record["message"])

    home.logs_dir.mkdir(parents=True, exist_ok=True)
    stderr_level = "WARNING" if quiet else ("DEBUG" if verbose else "INFO")
    logger.remove()
    logger.configure(extra={"job_id": "-", "provider": "-"}, patcher=scrub)
    terminal = print_to_terminal if sys.stderr.isatty() else sys.stderr
    logger.add(terminal, level=stderr_level, format=LINE_FORMAT, backtrace=False, diagnose=False, colorize=False)
    log_file = LogFile(home.logs_dir / "orchestrator.log", maxBytes=10 * 1024 * 1024, backupCount=14,
                       encoding="utf-8")
    logger.add(log_file, level="DEBUG", format=LINE_FORMAT, backtrace=False, diagnose=False)


class LogFile(logging.handlers.RotatingFileHandler):
    """`logs/orchestrator.log`, rotated at 10 MB, 14 files kept. A line the machine refuses to store (a full disk)
    is lost alone: one notice on stderr the first time, instead of a traceback for every line."""

    refused = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self.refused:
            self.refused = True
            print(f"warning: {self.baseFilename}: cannot write the log ({sys.exc_info()[1]}); its lines go to "
                  "stderr only", file=sys.stderr)
