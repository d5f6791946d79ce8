"""One normalized trend, whatever source it came from."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.bounds import MAX_COUNT

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A sentence ends at . ! ? before a space (they also sit inside "3.5" or "Yahoo!"), or after a run of marks that only
# ever end one, space or not (Chinese and Japanese set none): full-width 。！？, Devanagari's danda । and Arabic ؟.
FULL_STOPS = "。！？।؟"
SENTENCE_END = re.compile(rf"(?<=[.!?])\s+|(?<=[{FULL_STOPS}])(?![{FULL_STOPS}])\s*")
# Joiners and emoji skin tones hold a hashtag's letters or emoji together; they are not word characters to `\w`.
HASHTAG_JOINERS = frozenset("\u200c\u200d") | frozenset(map(chr, range(0x1F3FB, 0x1F400)))


def hashtag_text(tag: str) -> str:
    """A hashtag's text without '#', spaces or punctuation, composed (NFC): letters, digits and underscores, plus the
    combining marks (Hindi's vowel signs, Arabic's harakat, Thai's vowels), joiners and emoji that a plain `\\W`
    strip loses (`#योगाभ्यास` became `#यगभयस`)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", tag)
                   if ch.isalnum() or ch == "_" or ch in HASHTAG_JOINERS
                   or unicodedata.category(ch) in ("Mn", "Mc", "Me", "So"))


STOPWORDS = frozenset(
    "a an and are as at be by for from has have how i in is it its of on or our so that the this to was we what "
    "when why will with you your".split()
)


class Trend(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    caption: str = Field(min_length=3)
    hashtags: list[str] = []
    theme: str = Field(min_length=1)
    likes: int = Field(0, ge=0, le=MAX_COUNT)
    comments: int = Field(0, ge=0, le=MAX_COUNT)
    views: int = Field(0, ge=0, le=MAX_COUNT)
    timestamp: datetime
    source: str = Field(min_length=1)
    traffic: int = Field(0, ge=0, le=MAX_COUNT,
                         description="searches or clicks the source reports (Google Trends' approx_traffic)")
    url: str = ""
    is_video: bool | None = None  # None: the source does not say
    sources: tuple[str, ...] = ()  # every source that reported this topic (merged trends); defaults to (source,)

    @model_validator(mode="after")
    def _sources(self) -> "Trend":
        if not self.sources:
            object.__setattr__(self, "sources", (self.source,))
        return self

    @field_validator("hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: object) -> object:
        """CSV cells hold '#a #b' or 'a,b'; JSON holds a list. Either way: bare lowercase tags."""
        if isinstance(value, str):
            value = re.split(r"[\s,]+", value)
        if isinstance(value, list):
            return [str(tag).lstrip("#").lower() for tag in value if str(tag).strip("# ")]
        return value

    @field_validator("theme")
    @classmethod
    def _lower_theme(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    @property
    def topic(self) -> str:
        """The first sentence of the caption, without trailing hashtags: what the video is about."""
        first = SENTENCE_END.split(self.caption.strip(), maxsplit=1)[0]
        return re.sub(r"(\s#\S+)+$", "", first).strip().rstrip(".。।")

    @property
    def words(self) -> frozenset[str]:
        """The topic's meaningful words, lowercase: what `same_topic` compares across sources."""
        return frozenset(w for w in WORD.findall(self.topic.lower()) if w not in STOPWORDS and len(w) > 1)

    @property
    def text_words(self) -> frozenset[str]:
        """Every meaningful word of the caption and hashtags: a short topic found inside it is the same story."""
        text = f"{self.caption} {' '.join(self.hashtags)}".lower()
        return frozenset(w for w in WORD.findall(text) if w not in STOPWORDS and len(w) > 1)

    @property
    def dedup_key(self) -> str:
        """Same topic, whatever the punctuation, case or source: same key."""
        words = " ".join(WORD.findall(self.topic.lower()))
        return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]
