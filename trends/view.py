"""`python main.py trends`: the ranked candidates with their scores and sources, and how each source last fared."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from trends.selection import Candidate


def candidate_records(candidates: list[Candidate]) -> list[dict[str, Any]]:
    return [{
        "rank": rank, "topic": c.trend.topic, "theme": c.trend.theme, "score": round(c.score, 4),
        "factors": {name: round(value, 4) for name, value in vars(c.factors).items()},
        "sources": list(c.trend.sources), "hashtags": c.trend.hashtags, "url": c.trend.url,
        "posted_at": c.trend.timestamp.isoformat(timespec="seconds"),
        "account": c.account.name if c.account else None, "passed_over": c.passed_over,
    } for rank, c in enumerate(candidates, start=1)]


def print_trends(records: list[dict[str, Any]], runs: list[dict[str, Any]], limit: int = 30) -> None:
    console = Console(width=max(Console().width, 150))
    table = Table(title=f"trends, best first ({min(limit, len(records))} of {len(records)} not yet made)")
    for column in ("#", "score", "recency", "velocity", "engagement", "results", "sources", "topic", "theme", "for"):
        table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=48 if column == "topic" else 24)
    for record in records[:limit]:
        factors = record["factors"]
        table.add_row(str(record["rank"]), f"{record['score']:.2f}", f"{factors['recency']:.2f}",
                      f"{factors['velocity']:.2f}", f"{factors['engagement']:.2f}", f"{factors['results']:.2f}",
                      " + ".join(record["sources"]),
                      record["topic"][:60], record["theme"], record["account"] or f"— {record['passed_over']}")
    console.print(table)
    if not records:
        console.print("no trends stored yet: `python main.py trends --refresh` collects them now")
    for run in runs:
        state = (f"{run['trends']} trends{' (cached)' if run['from_cache'] else ''}" if run["ok"]
                 else f"FAILED: {run['error']}")
        console.print(f"source {run['source']} at {run['ran_at']}: {state}")
