"""The report's charts as inline SVG (matplotlib, no pyplot): vector, so they stay sharp on a phone, and text stays
text, so they weigh little."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                               "axes.spines.right": False, "axes.titlesize": 10, "axes.titleweight": "bold"}
BAR, CAP, GOOD, BAD = "#3b6fd8", "#b3261e", "#2e7d32", "#c62828"


def spend_per_day(by_day: list[dict[str, Any]]) -> str:
    def draw(ax: Axes) -> None:
        days = [d["day"][5:] for d in by_day]
        ax.bar(days, [d["cost_usd"] for d in by_day], color=BAR, label="spent")
        if by_day and by_day[0]["daily_cap_usd"] > 0:
            ax.axhline(by_day[0]["daily_cap_usd"], color=CAP, linestyle="--", linewidth=1, label="daily cap")
        ax.set_ylabel("US$")
        ax.legend(loc="upper left", frameon=False)
        step = max(1, len(days) // 10)
        ax.set_xticks(range(0, len(days), step), days[::step], rotation=45, ha="right")

    return _figure([("Spend per day against the daily cap", draw, 2.6)])


def spend_by_provider(by_provider: list[dict[str, Any]]) -> str:
    return _figure([("Spend by provider (US$)", lambda ax: _bars(ax, by_provider, "provider", "cost_usd", "${:.2f}"),
                     _height(by_provider))])


def provider_quality(comparison: list[dict[str, Any]]) -> str:
    return _figure([
        ("Success rate by provider (%)", lambda ax: _bars(ax, comparison, "provider", "success_rate", "{:.1f}%"),
         _height(comparison)),
        ("p95 generation time by provider (s)", lambda ax: _bars(ax, comparison, "provider", "p95_s", "{:.1f}"),
         _height(comparison)),
    ])


def roi_by_theme_and_account(by_theme: list[dict[str, Any]], by_account: list[dict[str, Any]]) -> str:
    return _figure([
        ("ROI by theme (%)", lambda ax: _bars(ax, by_theme, "theme", "roi_percentage", "{:.0f}%", signed=True),
         _height(by_theme)),
        ("ROI by account (%)", lambda ax: _bars(ax, by_account, "account", "roi_percentage", "{:.0f}%", signed=True),
         _height(by_account)),
    ])


def _bars(ax: Axes, rows: list[dict[str, Any]], label: str, value: str, shown: str, signed: bool = False) -> None:
    """Horizontal bars, one per row, each with its value written at its end; rows without a value are left out."""
    rows = [r for r in rows if r[value] is not None]
    names, values = [str(r[label]) for r in rows], [float(r[value]) for r in rows]
    colors = [GOOD if v >= 0 else BAD for v in values] if signed else BAR
    bars = ax.barh(names, values, color=colors)
    ax.bar_label(bars, [shown.format(v) for v in values], padding=3, fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.2)
    if signed and rows:
        ax.axvline(0, color="#444", linewidth=0.8)
    if not rows:
        ax.set_axis_off()
        ax.text(0, 0.5, "no data in this window", va="center", transform=ax.transAxes, color="#888")


def _height(rows: list[dict[str, Any]]) -> float:
    """Inches for a bar panel: bars keep one thickness however many there are."""
    return 0.9 + 0.3 * max(len(rows), 1)


def _figure(panels: list[tuple[str, Callable[[Axes], None], float]]) -> str:
    """Panels stacked in one SVG, 5 inches wide (phone-sized text when scaled to a screen's width)."""
    heights = [height for _, _, height in panels]
    buffer = io.StringIO()
    with rc_context(STYLE):  # this report's look, without changing matplotlib's defaults for anyone else
        figure = Figure(figsize=(5.0, sum(heights)), layout="constrained")
        grid = figure.add_gridspec(len(panels), 1, height_ratios=heights)
        for index, (title, draw, _) in enumerate(panels):
            ax = figure.add_subplot(grid[index])
            ax.set_title(title, loc="left")
            draw(ax)
        figure.savefig(buffer, format="svg", metadata=dict.fromkeys(["Creator", "Date", "Format", "Type"]))
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # inline: without the XML prolog and doctype
