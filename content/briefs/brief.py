"""Trend → video brief, with jinja2 templates users can edit in `content/briefs/templates/`."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError
from core.settings import Account, CaptionPreset, ContentSettings, Language
from trends.models import SENTENCE_END, Trend, hashtag_text

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
PHRASEBOOK = Path(__file__).resolve().parent / "phrases.json"  # the templates' words, per persona language
EARLIER_TEMPLATE_DIR = TEMPLATE_DIR.parent.parent / "templates"  # content/templates/: users' own, still read
MAX_HASHTAGS = 8


class Likeness(BaseModel):
    """What a lookalike takes from its reference video (`generate --like`, a persona's `reference_videos`): its
    shots' lengths and colours, its music's tempo, how much text it shows; the renderer follows them."""

    model_config = ConfigDict(frozen=True)

    reference: str  # the reference's folder under the home (data/references/<digest>): its analysis, for the report
    shot_lengths_s: list[float] = Field(min_length=1)
    shot_palettes: list[list[str]] = Field(min_length=1)  # each shot's main colours, #rrggbb, the largest first
    tempo_bpm: float | None = None
    captions: CaptionPreset = "classic"  # the caption preset nearest its on-screen text


class Brief(BaseModel):
    """Everything a provider or the local renderer needs to make one video."""

    model_config = ConfigDict(frozen=True)

    account: str
    template: str
    topic: str
    hook: str = Field(min_length=1)
    beats: list[str] = Field(min_length=3, max_length=6)
    hashtags: list[str]
    cta: str = Field(min_length=1)
    visual_prompt: str = Field(min_length=1)
    duration_s: float = Field(gt=0)
    aspect_ratio: Literal["9:16", "16:9", "1:1", "4:5", "21:9"] = "9:16"  # its platform's frame
    theme: str = ""
    caption: str = ""  # the post's caption, when an LLM wrote one
    scene_prompts: list[str] = []  # one visual prompt per scene, when an LLM wrote them
    written_by: Literal["template", "llm"] = "template"
    like: Likeness | None = None  # the reference video it follows, if any


class BriefBuilder:
    """Renders one template per account; the template's lines become the brief's fields."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR, phrasebook: Path = PHRASEBOOK) -> None:
        self._phrasebook = _read_phrasebook(phrasebook)
        self._env = Environment(
            loader=FileSystemLoader([template_dir, EARLIER_TEMPLATE_DIR]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    def build(self, trend: Trend, account: Account, content: ContentSettings,
              related_hashtags: Sequence[str] = ()) -> Brief:
        """The template's brief; `related_hashtags` (those that travel with the trend's, from the viral patterns)
        fill the hashtag list after the trend's and the account's own."""
        name = f"{account.brief_template}.j2"
        seed = int(hashlib.sha256(f"{trend.dedup_key}:{account.name}".encode()).hexdigest(), 16)

        def fill(phrase: str) -> str:
            """A phrase with the persona's handle, the trend's theme and its topic in their places."""
            try:
                return phrase.format(handle=account.handle, theme=trend.theme, topic=trend.topic)
            except (KeyError, IndexError, ValueError) as exc:
                raise TemplateError(f"phrase {phrase!r} of {PHRASEBOOK.name}: {exc!r} is not a place") from None

        try:
            text = self._env.get_template(name).render(
                topic=trend.topic,
                details=_details(trend),
                trend=trend,
                account=account,
                content=content,
                pick=lambda options: options[seed % len(options)],
                phrases=self._phrases(account.language),
                fill=fill,
            )
        except TemplateNotFound:
            raise ConfigError(f"content/briefs/templates/{name}", "brief template not found") from None
        except TemplateError as exc:
            raise ConfigError(f"content/briefs/templates/{name}", f"template error: {exc}") from None
        fields = _parse_lines(text, name)
        try:
            return Brief(
                account=account.name,
                template=account.brief_template,
                topic=trend.topic,
                hook=fields["HOOK"][0],
                beats=fields["BEAT"],
                hashtags=merge_hashtags(trend.hashtags, account.hashtags, related_hashtags),
                cta=fields["CTA"][0],
                visual_prompt=fields["PROMPT"][0],
                duration_s=content.default_duration_s,
                aspect_ratio=content.aspect_ratio,
                theme=trend.theme,
            )
        except (KeyError, IndexError, ValidationError) as exc:
            problem = f"missing line {exc}" if isinstance(exc, KeyError) else _first_error(exc)
            raise ConfigError(f"content/briefs/templates/{name}", f"bad brief: {problem}") from None

    def _phrases(self, language: str) -> dict[str, str | list[str]]:
        """The phrasebook's words in `language`, each one it lacks in English."""
        return {**self._phrasebook["en"], **self._phrasebook.get(language, {})}


def _read_phrasebook(path: Path) -> dict[str, dict[str, str | list[str]]]:
    """Language → phrase name → a phrase or the phrases to pick from. English must be there (the fallback), and every
    other language's phrase must be one of English's, of its kind: a typo'd name would silently stay English, and a
    phrase where a list belongs would be picked from letter by letter."""
    where = f"content/briefs/{path.name}"
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(where, f"unreadable phrasebook: {exc}") from None
    if not isinstance(book, dict) or not isinstance(book.get("en"), dict):
        raise ConfigError(where, "must be an object of languages, \"en\" among them")
    english = book["en"]
    for language, phrases in book.items():
        if language not in get_args(Language):
            raise ConfigError(where, f"{language}: not a persona language ({', '.join(get_args(Language))})")
        for key, value in (phrases.items() if isinstance(phrases, dict) else [("", None)]):
            if not (isinstance(value, str) or (isinstance(value, list) and value
                                               and all(isinstance(item, str) for item in value))):
                raise ConfigError(where, f"{language}.{key}: must be a phrase or a list of phrases")
            if key not in english or isinstance(value, list) != isinstance(english[key], list):
                raise ConfigError(where, f"{language}.{key}: English has no such "
                                         f"{'list of phrases' if isinstance(value, list) else 'phrase'}")
    return book


def _details(trend: Trend) -> list[str]:
    """The caption's sentences after the topic sentence, hashtags removed."""
    sentences = SENTENCE_END.split(trend.caption.strip())[1:]
    cleaned = (" ".join(word for word in s.split() if not word.startswith("#")) for s in sentences)
    return [s for s in cleaned if s]


def _parse_lines(text: str, name: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in ("HOOK", "BEAT", "CTA", "PROMPT"):
            raise ConfigError(f"content/briefs/templates/{name}",
                              f"line {line!r} does not start with HOOK/BEAT/CTA/PROMPT:")
        fields.setdefault(key.strip(), []).append(" ".join(value.split()))
    return fields


def merge_hashtags(first: Sequence[str], account_tags: Sequence[str], related: Sequence[str] = ()) -> list[str]:
    """Up to five of `first` (the trend's, or the LLM's), the account's own, then related ones: at most eight."""
    cleaned = (hashtag_text(tag.lower()) for tag in [*first[:5], *account_tags, *related])
    return list(dict.fromkeys(tag for tag in cleaned if tag))[:MAX_HASHTAGS]


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(map(str, error['loc']))}: {error['msg'].lower()}"
    return str(exc)
