"""The contract every video provider adapter fulfils; the engine only ever sees this."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from content.briefs import Brief
from content.ffmpeg import ProgressCallback
from content.look import Look
from core.secrets import Secrets


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class GenerationRequest:
    job_id: int
    brief: Brief
    look: Look
    workdir: Path


@dataclass(frozen=True)
class GenerationResult:
    path: Path
    cost_usd: float
    provider_task_id: str | None = None


class VideoProvider(ABC):
    """One configured provider entry: a user-chosen name, a type (the adapter class) and validated params."""

    type_name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]] = NoParams
    required_env: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, params: BaseModel, secrets: Secrets) -> None:
        self.name = name
        self.params = params
        self.secrets = secrets

    def missing_requirements(self) -> list[str]:
        """What keeps this provider from running (unset environment keys); empty when ready."""
        return [key for key in self.required_env if not self.secrets.has(key)]

    @abstractmethod
    def estimate_cost(self, request: GenerationRequest) -> float:
        """USD this request is expected to cost, reserved against the budget before any call."""

    @abstractmethod
    async def generate(self, request: GenerationRequest, on_progress: ProgressCallback | None = None) -> GenerationResult:
        """Produce a video file in `request.workdir`; raise ProviderError on failure."""
