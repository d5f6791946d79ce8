"""How alike two analysed videos are (content/media/reference.py's analyses), part by part and overall.

- pacing: the shot counts' ratio and the distance between the two distributions of shot lengths (the mean gap
  between their quantiles, over the longer mean shot);
- palette: the colour difference (CIE76 ΔE in Lab) between the two videos' main colours, each weighted by how much
  of the picture and the running time it covers, 0 at a ΔE of 50 or more;
- motion: the running-time-weighted pixel change, and brightness, compared as ratios;
- loudness: 0 at 12 LU apart or more; tempo: 0 at 20 bpm apart or more, half or double a tempo counting as itself.

Each part is 0..1; the overall score is their weighted mean, 0..100.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from content.media.soundtrack import tempo_gap

WEIGHTS = {"pacing": 0.3, "palette": 0.3, "motion": 0.15, "loudness": 0.1, "tempo": 0.15}
QUANTILES = np.linspace(0, 1, 21)
PALETTE_DELTA_E = 50.0
LOUDNESS_LU = 12.0
TEMPO_BPM = 20.0


@dataclass(frozen=True)
class Similarity:
    parts: dict[str, float]
    overall: float  # 0..100


def similarity(reference: dict[str, Any], other: dict[str, Any]) -> Similarity:
    """`reference` and `other` as `analyze --json` prints them (or analysis.json holds them)."""
    parts = {"pacing": _pacing(reference, other), "palette": _palette(reference, other),
             "motion": _motion(reference, other), "loudness": _loudness(reference, other),
             "tempo": _tempo(reference.get("tempo_bpm"), other.get("tempo_bpm"))}
    overall = 100 * sum(WEIGHTS[name] * value for name, value in parts.items())
    return Similarity({name: round(value, 3) for name, value in parts.items()}, round(overall, 1))


def _lengths(analysis: dict[str, Any]) -> np.ndarray:
    return np.array([shot["end_s"] - shot["start_s"] for shot in analysis["shots"]], dtype=float)


def _pacing(a: dict[str, Any], b: dict[str, Any]) -> float:
    la, lb = _lengths(a), _lengths(b)
    counts = min(len(la), len(lb)) / max(len(la), len(lb))
    gap = float(np.abs(np.quantile(la, QUANTILES) - np.quantile(lb, QUANTILES)).mean())
    return 0.5 * counts + 0.5 * max(0.0, 1 - gap / max(la.mean(), lb.mean()))


def _palette(a: dict[str, Any], b: dict[str, Any]) -> float:
    ca, wa = _colours(a)
    cb, wb = _colours(b)
    if not len(ca) or not len(cb):
        return 0.0
    distances = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    nearest = (wa * distances.min(axis=1)).sum() / wa.sum() + (wb * distances.min(axis=0)).sum() / wb.sum()
    return max(0.0, 1 - nearest / 2 / PALETTE_DELTA_E)


def _colours(analysis: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Every shot's main colours in Lab, each weighted by its share of the picture times the shot's length."""
    colours, weights = [], []
    for shot in analysis["shots"]:
        for colour, share in shot["palette"]:
            colours.append(_lab(colour))
            weights.append(share * (shot["end_s"] - shot["start_s"]))
    return np.array(colours, dtype=float).reshape(-1, 3), np.array(weights, dtype=float)


def _lab(colour: str) -> list[float]:
    """#rrggbb (sRGB) in CIE Lab (D65)."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * linear[0] + 0.3576 * linear[1] + 0.1805 * linear[2]) / 0.95047
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    z = (0.0193 * linear[0] + 0.1192 * linear[1] + 0.9505 * linear[2]) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))]


def _weighted(analysis: dict[str, Any], field: str) -> float:
    lengths = _lengths(analysis)
    return float((np.array([shot[field] for shot in analysis["shots"]]) * lengths).sum() / lengths.sum())


def _ratio(x: float, y: float, floor: float) -> float:
    return 1 - abs(x - y) / max(x, y, floor)


def _motion(a: dict[str, Any], b: dict[str, Any]) -> float:
    return 0.5 * _ratio(_weighted(a, "motion"), _weighted(b, "motion"), 0.005) + \
        0.5 * _ratio(_weighted(a, "brightness"), _weighted(b, "brightness"), 0.05)


def _loudness(a: dict[str, Any], b: dict[str, Any]) -> float:
    la, lb = a.get("loudness_lufs"), b.get("loudness_lufs")
    if la is None or lb is None:
        return 1.0 if la is None and lb is None else 0.0
    return max(0.0, 1 - abs(la - lb) / LOUDNESS_LU)


def _tempo(a: float | None, b: float | None) -> float:
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    return max(0.0, 1 - tempo_gap(a, b) / TEMPO_BPM)
