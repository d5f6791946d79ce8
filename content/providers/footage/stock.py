"""`StockFootage`: the renderer's FindFootage over stock libraries, each asked in turn until one has a clip.

A library that fails (rate-limited, down, answering garbage, too slow) costs the scene one log line and is passed
over; a rate-limited one is not asked again until its quota refills, so a Reel's later scenes do not knock on it.
"""
from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from loguru import logger

from content.media.footage import Footage, Wanted
from content.media.timeline import Scene
from content.providers.footage.library import LibraryFailed, StockLibrary


class StockFootage:
    def __init__(self, libraries: Sequence[StockLibrary]) -> None:
        self.libraries = list(libraries)

    async def __call__(self, scene: Scene, wanted: Wanted, used: set[str]) -> Footage | None:
        for library in self.libraries:
            if not library.available():
                continue
            try:
                found = await library.find(scene, wanted, used)
            except LibraryFailed as failure:
                logger.warning(f"stock footage: {library.name} passed over for the {scene.role} scene: {failure}")
                continue
            if found is not None:
                return found
        return None

    async def aclose(self) -> None:
        for library in self.libraries:
            await library.aclose()

    async def __aenter__(self) -> StockFootage:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()
