"""WCAG contrast between two sRGB colours: how the karaoke highlight is told apart from the words around it."""
from __future__ import annotations

READABLE = 3.0  # WCAG's minimum for large text: below it the lit word does not stand out from the rest


def luminance(hex_colour: str) -> float:
    """Relative luminance of #rrggbb (WCAG 2.x)."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(first: str, second: str) -> float:
    """From 1 (the same luminance) to 21 (black on white)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink_on(background: str) -> str:
    """Near-black or white, whichever reads better on `background`."""
    dark, light = "#101010", "#ffffff"
    return dark if ratio(dark, background) >= ratio(light, background) else light
