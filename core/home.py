"""Where one instance keeps its files: `--home DIR` holds config/, data/ and logs/."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Home:
    """Every path the daemon reads or writes, derived from one root so instances never collide."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None = None) -> "Home":
        return cls(Path(root).expanduser().resolve() if root else PROJECT_ROOT)

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "config.json"

    @property
    def video_config_file(self) -> Path:
        return self.root / "config" / "video_config.json"

    @property
    def env_file(self) -> Path:
        return self.root / ".env"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "influencer.db"

    @property
    def videos_dir(self) -> Path:
        return self.data_dir / "videos"

    @property
    def references_dir(self) -> Path:
        """Reference videos kept for lookalikes, each with its analysis (content/media/reference.py, `kept`)."""
        return self.data_dir / "references"

    @property
    def paid_analysis_dir(self) -> Path:
        """What each video's paid analysis bought (a transcript, keyframes described), kept so it is never bought
        again (core/engine/analysis_purchases.py)."""
        return self.data_dir / "paid-analysis"

    @property
    def work_dir(self) -> Path:
        """Scratch space for renders in progress; a file only leaves it when it is complete."""
        return self.data_dir / "work"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports" / "video_analytics"

    @property
    def trend_reports_dir(self) -> Path:
        return self.data_dir / "reports" / "trends"

    @property
    def trend_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "trends"

    @property
    def beats_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "beats"

    def resolve(self, path: str) -> Path:
        """A path from a config file: absolute as written, otherwise relative to the home."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    def display(self, path: Path) -> str:
        """A short path for messages: relative to the home when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
