"""Per-model truth: what each model makes (lengths, resolutions, modes, sound) and how its price moves with them.

A provider entry's `prices_usd_per_second` holds each model's base price: its base resolution and mode, without
sound. What changes the bill, and what the vendor refuses, is in each adapter's table of ModelSpecs, with where the
figures come from and when they were read. Estimates multiply the base by the tier asked for, so a reservation
covers what the video will cost; validation reads the same table before anything is sent, so a request the vendor
would reject never fails over to another (paid) provider instead of making the video.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tier:
    """What an entry asks of its model besides the length ("" where the API has no such setting)."""

    resolution: str = ""
    mode: str = ""
    audio: bool = False
    reference: bool = False  # the persona's photo goes along as a character reference


@dataclass(frozen=True)
class ModelSpec:
    """One model as its vendor documents it. Multipliers are over the base price (base resolution and mode, silent);
    a tier missing from `resolutions` or `modes` is one the model does not make (an empty mapping: not checked)."""

    durations: tuple[int, ...]
    source: str  # where these figures come from, and when they were read
    resolutions: Mapping[str, float] = field(default_factory=dict)
    modes: Mapping[str, float] = field(default_factory=dict)
    audio: float | None = None  # the price with sound over the silent one; None: the model makes no sound
    audio_modes: tuple[str, ...] = ()  # the only modes in which it makes sound (empty: any)
    lengths_at: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # a resolution, mode or "reference"
    references: bool = False  # it takes a character reference image (the same face from video to video)
    unusable: str | None = None  # why the model cannot make a video from text at all

    def refusal(self, model: str, tier: Tier) -> str | None:
        """Why the vendor would refuse this model at this tier, or None when it takes it."""
        if self.unusable:
            return f"{model} {self.unusable}"
        if tier.resolution and self.resolutions and tier.resolution not in self.resolutions:
            return f"{model} makes {', '.join(self.resolutions)}, not {tier.resolution}"
        if tier.mode and self.modes and tier.mode not in self.modes:
            return f"{model} runs in {' or '.join(self.modes)} mode, not {tier.mode}"
        if tier.audio and self.audio is None:
            return f"{model} makes no sound (turn audio off)"
        if tier.audio and self.audio_modes and tier.mode not in self.audio_modes:
            return f"{model} makes sound in {' or '.join(self.audio_modes)} mode only"
        if tier.reference and not self.references:
            return f"{model} takes no reference image"
        if not self.lengths(tier):
            return f"{model} makes no length at {tier.resolution or tier.mode}"
        return None

    def lengths(self, tier: Tier) -> tuple[int, ...]:
        """The lengths it makes at this tier (1080p Veo: 8 s only)."""
        allowed = set(self.durations)
        for setting in (tier.resolution, tier.mode, "reference" if tier.reference else ""):
            if setting in self.lengths_at:
                allowed &= set(self.lengths_at[setting])
        return tuple(sorted(allowed))

    def factor(self, tier: Tier) -> float:
        """The tier's price over the base."""
        sound = (self.audio or 1.0) if tier.audio else 1.0
        return self.resolutions.get(tier.resolution, 1.0) * self.modes.get(tier.mode, 1.0) * sound
