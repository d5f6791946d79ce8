"""A light policy check on visual prompts before a paid provider sees them, so we do not pay for refusals.

Video APIs refuse prompts that name real people or brands or involve children (reference/provider_apis.md: Sora's
guardrails, Runway's SAFETY.* failures), and some bill the attempt anyway. The check is deliberately plain: whole-word
matches against configured lists (`video_generation.prompt_policy`) plus a built-in list of words about minors. Each
category is rewritten (the term replaced by a neutral one), rejected (the prompt goes to no paid provider) or allowed.
It is no moderation system: it catches what the configuration names, and the prompt analytics show what slipped by.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from core.settings import PromptPolicy

MINOR_TERMS = ("child", "children", "kid", "kids", "toddler", "toddlers", "baby", "babies", "infant", "infants",
               "teen", "teens", "teenager", "teenagers", "preteen", "schoolgirl", "schoolboy", "schoolchildren",
               "minor", "minors", "underage", "little girl", "little boy")


@dataclass(frozen=True)
class Verdict:
    prompt: str  # what may be sent (rewritten if need be)
    outcome: Literal["passed", "rewritten", "rejected"]
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.outcome == "rejected"


class PromptReview:
    def __init__(self, policy: PromptPolicy) -> None:
        self._rules = [
            ("banned term", policy.banned_terms, "reject", ""),
            ("real person", policy.real_people, policy.people_action, "a person"),
            ("brand", policy.brands, policy.brands_action, "a product"),
            ("minors", MINOR_TERMS, policy.minors_action, "an adult"),
        ]

    def review(self, prompt: str) -> Verdict:
        text, notes = prompt, []
        for category, terms, action, neutral in self._rules:
            if action == "allow":
                continue
            for term in _found(text, terms):
                if action == "reject":
                    return Verdict(prompt, "rejected", [f"{category} {term!r}"])
                text = _word(term).sub(neutral, text)
                notes.append(f"{category} {term!r} → {neutral!r}")
        return Verdict(text, "rewritten" if notes else "passed", notes)


def fit_prompt(prompt: str, max_chars: int | None) -> str:
    """The prompt within a provider's length limit, cut at a word boundary rather than mid-word."""
    if max_chars is None or len(prompt) <= max_chars:
        return prompt
    cut = prompt[: max_chars + 1].rsplit(" ", 1)[0] if " " in prompt[:max_chars] else prompt[:max_chars]
    return cut[:max_chars].rstrip(" ,;:")


def _found(text: str, terms: Iterable[str]) -> list[str]:
    return [term for term in dict.fromkeys(t.strip() for t in terms if t.strip()) if _word(term).search(text)]


def _word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
