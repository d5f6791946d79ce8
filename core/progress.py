"""Progress for long work: rich bars on a terminal, silence elsewhere (logs already tell the story)."""
from __future__ import annotations

import sys
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

# One console for log lines and progress bars on a terminal, so log lines scroll above the bars instead of through them.
TERMINAL = Console(stderr=True)


def print_to_terminal(message: str) -> None:
    TERMINAL.print(message, end="", markup=False, highlight=False, soft_wrap=True)


class ProgressView(Protocol):
    def add(self, key: int, label: str) -> None: ...
    def update(self, key: int, stage: str, fraction: float) -> None: ...
    def close(self) -> None: ...


class NullProgress:
    def add(self, key: int, label: str) -> None:
        pass

    def update(self, key: int, stage: str, fraction: float) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """One bar per job: label, current stage, percentage and ETA, drawn on stderr."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.fields[label]}"),
            TextColumn("{task.fields[stage]}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=TERMINAL,
            transient=False,
        )
        self._tasks: dict[int, TaskID] = {}
        self._progress.start()

    def add(self, key: int, label: str) -> None:
        if key in self._tasks:  # a job claimed again after a wait keeps its bar
            return
        self._tasks[key] = self._progress.add_task("", total=1.0, label=label[:38], stage="queued")

    def update(self, key: int, stage: str, fraction: float) -> None:
        if key in self._tasks:
            self._progress.update(self._tasks[key], completed=fraction, stage=stage)

    def close(self) -> None:
        self._progress.stop()


def progress_view(enabled: bool) -> ProgressView:
    return RichProgress() if enabled and sys.stderr.isatty() else NullProgress()
