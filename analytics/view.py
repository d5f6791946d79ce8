"""`report` in the terminal: the headline figures and the providers side by side, under the report's path."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from analytics.reports import shown


def print_summary(report: dict[str, Any]) -> None:
    cost, performance, roi = report["cost"], report["performance"], report["roi"]
    console = Console()
    window = report["window"]
    headline = Table(title=f"{window['from']} → {window['to']} ({window['days']} day(s), {window['timezone']})",
                     show_header=False)
    for label, value in (
        ("videos made", shown(cost["total_videos"], "count")),
        ("spent", shown(cost["total_cost_usd"], "money")),
        ("spent on analysis", shown(cost["analysis_cost_usd"], "money")),
        ("per video / per second", f"{shown(cost['avg_cost_per_video'], 'money')} / "
                                   f"{shown(cost['avg_cost_per_second'], 'per_s')}"),
        ("jobs succeeded", shown(performance["success_rate"], "pct")),
        ("generation p50 / p95", f"{shown(performance['generation_p50_s'], 'secs')} / "
                                 f"{shown(performance['generation_p95_s'], 'secs')}"),
        ("failed over / retried", f"{shown(performance['failover_rate'], 'pct')} / "
                                  f"{shown(performance['retry_rate'], 'pct')}"),
        ("estimated value / ROI", f"{shown(roi['estimated_value'], 'money')} / {shown(roi['roi_percentage'], 'pct')}"),
    ):
        headline.add_row(label, value)
    console.print(headline)
    providers = Table(title="providers")
    for column in ("provider", "attempts", "success", "p95", "spent", "per second made"):
        providers.add_column(column, justify="left" if column == "provider" else "right")
    for p in performance["provider_comparison"]:
        providers.add_row(p["provider"], shown(p["attempts"], "count"), shown(p["success_rate"], "pct"),
                          shown(p["p95_s"], "secs"), shown(p["cost_usd"], "money"),
                          shown(p["cost_per_successful_second"], "per_s"))
    if performance["provider_comparison"]:
        console.print(providers)
    for alert in report["budget"]["alerts"]:
        console.print(f"[bold red]{alert['message']}[/]" if alert["level"] == "critical" else alert["message"])
