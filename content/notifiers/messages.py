"""Each event in one line a person reads on a phone."""
from __future__ import annotations

from typing import Any


def summary(name: str, data: dict[str, Any]) -> str:
    if name == "job.done":
        return (f"✅ Reel ready — job {data.get('job_id')} for {data.get('account')}: {data.get('topic')} "
                f"(${float(data.get('cost_usd') or 0):.2f}, {data.get('provider') or 'local'})")
    if name == "job.failed":
        return f"❌ Job {data.get('job_id')} failed for {data.get('account')}: {data.get('error') or 'no reason given'}"
    if name == "budget.alert":
        return f"💸 Budget alert: {data.get('message')}"
    if name == "provider.disabled":
        return f"⛔ {data.get('provider')} disabled until {data.get('until')}: {data.get('reason')}"
    if name == "brief.review":
        beats = "\n".join(f"• {beat}" for beat in data.get("beats") or [])
        return (f"📝 Brief to review — job {data.get('job_id')} for {data.get('account')}: {data.get('topic')}\n"
                f"{data.get('hook')}\n{beats}\n{data.get('cta')}")
    if name == "post.published":
        return (f"📣 Posted on {data.get('platform')} for {data.get('account')}: "
                f"{data.get('permalink') or data.get('media_id')} (job {data.get('job_id')})")
    return f"{name}: {data}"
