"""What a person needs to post a delivered video by hand, in two files beside it: `<video>.json` for scripts and
`<video>.txt` to copy from (the post's caption and hashtags first, then what the video is and what it cost).

Each file is written to a hidden partial name and renamed into place, so a reader never sees half of one.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from content.briefs.brief import Brief
from core.files import write_atomically


@dataclass(frozen=True)
class Post:
    caption: str
    hashtags: list[str]
    topic: str
    account: str
    provider: str
    cost_usd: float
    scenes: list[dict[str, Any]]  # the video's timeline (content/media/timeline.py), when its maker wrote one
    variants: dict[str, str] = field(default_factory=dict)  # other platform → its variant's file name, beside


def post_of(brief: Brief, provider: str, cost_usd: float, scenes: list[dict[str, Any]]) -> Post:
    """The post for a video made from `brief`: the LLM's caption if it wrote one, else the brief's own lines."""
    caption = brief.caption or "\n".join([brief.hook, *brief.beats, brief.cta])
    return Post(caption, list(brief.hashtags), brief.topic, brief.account, provider, round(cost_usd, 6), scenes)


def paths(video: Path) -> tuple[Path, Path]:
    """The JSON and text sidecars of `video`."""
    return video.with_suffix(".json"), video.with_suffix(".txt")


def write(video: Path, post: Post) -> None:
    """Both sidecars of `video`, each complete or absent."""
    as_json, as_text = paths(video)
    write_atomically(as_json, json.dumps({"video": video.name, **asdict(post)}, ensure_ascii=False, indent=2) + "\n")
    tags = " ".join(f"#{tag}" for tag in post.hashtags)
    extra = [f"variant for {name}: {file}" for name, file in post.variants.items()]
    extra += [f"footage: {credit['author']} on {credit['source'].capitalize()}, {credit['page_url']} "
              f"({credit['licence']})" for credit in credits(post)]
    write_atomically(as_text, f"{post.caption}\n\n{tags}\n\n---\ntopic: {post.topic}\naccount: {post.account}\n"
                      f"provider: {post.provider}\ncost: ${post.cost_usd:.2f}\n" + "".join(f"{x}\n" for x in extra))


def credits(post: Post) -> list[dict[str, str]]:
    """The stock footage the video shows, each clip once, in order of appearance."""
    found = {scene["credit"]["page_url"]: scene["credit"] for scene in post.scenes if scene.get("credit")}
    return list(found.values())
