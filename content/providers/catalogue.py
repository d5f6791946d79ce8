"""Every model the built-in adapters know, one row each: what `providers models` prints and the README lists.

The rows are read from the adapters themselves (their ModelSpec tables, default prices and the shapes they send),
so the list a user reads cannot drift from what the estimates and the validation use."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.table import Table

from content.providers.http import HttpProvider
from content.providers.registry import BUILT_IN, VideoProviderRegistry
from core.secrets import Secrets


@dataclass(frozen=True)
class ModelRow:
    provider: str  # the adapter's type name
    model: str
    lengths_s: tuple[int, ...]  # at the base tier; a tier may allow fewer (see `limits`)
    ratios: tuple[str, ...]
    tiers: str  # each resolution, mode and sound with its price over the base ("1080p 4x")
    limits: str  # the tiers allowing fewer lengths, the modes allowing sound
    usd_per_second: float | None  # the base price in the sample config (None: not priced by default)
    source: str
    unusable: str | None  # why a config naming it cannot run, if it cannot


def model_rows() -> list[ModelRow]:
    """The built-in adapters' models, in the registry's order."""
    rows: list[ModelRow] = []
    for type_name in BUILT_IN:
        cls = VideoProviderRegistry.get(type_name)
        if not issubclass(cls, HttpProvider):
            continue
        prices = cls.params_model.model_fields["prices_usd_per_second"].default
        for model, spec in cls.models.items():
            provider = cls(type_name, cls.params_model.model_validate({"model": model}), Secrets({}))
            settings = {**spec.resolutions, **spec.modes}
            tiers = [f"{name} {factor:.3g}x" for name, factor in settings.items()]
            if spec.audio is not None:
                tiers.append(f"sound {spec.audio:.3g}x")
            if spec.references:
                tiers.append("reference image 1x")
            limits = [f"{setting}: {', '.join(map(str, lengths))} s" for setting, lengths in spec.lengths_at.items()
                      if setting in settings or (setting == "reference" and spec.references)]
            if spec.audio_modes:
                limits.append(f"sound in {' or '.join(spec.audio_modes)} mode only")
            rows.append(ModelRow(type_name, model, spec.durations, tuple(provider.aspect_ratios), ", ".join(tiers),
                                 "; ".join(limits), prices.get(model), spec.source, spec.unusable))
    return rows


def lengths_text(lengths: tuple[int, ...]) -> str:
    """4, 6, 8 — or 2–10 for a run of every second."""
    if len(lengths) > 3 and list(lengths) == list(range(lengths[0], lengths[-1] + 1)):
        return f"{lengths[0]}–{lengths[-1]}"
    return ", ".join(map(str, lengths))


def print_models(as_json: bool) -> None:
    """The rows as a table (or one JSON object `{"models": [...]}`)."""
    rows = model_rows()
    if as_json:
        print(json.dumps({"models": [asdict(row) for row in rows]}))
        return
    table = Table(title="models the adapters know (prices: the sample config's base, per second)")
    for column in ("type", "model", "lengths (s)", "ratios", "tiers (x base price)", "$/s", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        price = "—" if row.usd_per_second is None else f"{row.usd_per_second:g}"
        tiers = "; ".join(part for part in (row.tiers, row.limits) if part)
        table.add_row(row.provider, row.model if not row.unusable else f"{row.model} (cannot run: {row.unusable})",
                      lengths_text(row.lengths_s), ", ".join(row.ratios), tiers, price, row.source)
    Console(width=200).print(table)
