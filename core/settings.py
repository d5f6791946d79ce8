"""Typed, validated configuration: `config/config.json` (content) and `config/video_config.json` (generation).

Every problem is reported as one line `file: json.path: problem`, so a user can fix it without reading code.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from core.bounds import MAX_WAIT_S
from core.errors import ConfigError
from core.font_files import primary_font_path
from core.home import Home
from core.json_input import parse_json
from core.secrets import SECRET_NAME

PlatformName = Literal["instagram_reels", "instagram_story", "instagram_feed", "instagram_square", "tiktok",
                       "youtube_shorts", "youtube", "youtube_wide"]
HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
CLOCK_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"  # HH:MM
SECRET_KEY_HINT = re.compile(r"(api[_-]?key|token|secret|password)", re.IGNORECASE)


STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""For every model of a config file: unknown keys are typos until proven otherwise, and every number is finite
(JSON's 1e999 reads as infinity)."""

WEEK_S = 7 * 86400.0
REEL_SECONDS = (5, 90)  # the lengths a Reel is made in (the platform may allow a narrower range)
MAX_CONFIG_BYTES = 1024 * 1024  # a config file is a few KiB; a bigger one is the wrong file
MAX_REFERENCE_BYTES = 5 * 1024 * 1024  # Runway's limit for an image sent inline, the smallest among the providers


class Strict(BaseModel):
    model_config = STRICT


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Berlin')") from None
    return name


# ---- config/config.json -------------------------------------------------------------------------------------------


class Schedule(Strict):
    trend_interval_hours: float = Field(6.0, gt=0, le=168, description="how often to scrape trends and make a batch")
    report_time: str = Field("23:55", pattern=CLOCK_TIME, description="daily report, HH:MM")
    timezone: str = "UTC"

    _tz = field_validator("timezone")(_check_timezone)


class SourceSettings(Strict):
    """What every trend source shares: a switch, a time limit per fetch and how long a fetch is reused."""

    enabled: bool = False
    timeout_s: float = Field(30.0, gt=0, le=MAX_WAIT_S, description="a fetch that takes longer counts as failed")
    cache_minutes: float = Field(60.0, ge=0, le=WEEK_S / 60, description="a fetch newer than this is reused "
                                                                        "(`trends --refresh` skips)")


class FileSource(SourceSettings):
    enabled: bool = True
    cache_minutes: float = Field(0.0, ge=0, le=WEEK_S / 60)
    folder: str = "data/trends"


class GoogleTrendsSource(SourceSettings):
    """Google Trends' "trending now" RSS feed, one per region (ISO 3166 code such as US, GB or US-CA)."""

    regions: list[str] = Field(["US"], min_length=1)
    theme: str = Field("news", min_length=1, description="the theme its trends get (searches carry no category)")
    url: str = Field("https://trends.google.com/trending/rss", pattern=r"^https?://")


class Feed(Strict):
    url: str = Field(pattern=r"^https?://")
    theme: str = Field(min_length=1, description="the theme every item of this feed gets")


class RssSource(SourceSettings):
    feeds: list[Feed] = []
    items_per_feed: int = Field(20, ge=1, le=200)


class InstagramSource(SourceSettings):
    """Top posts of hashtags and recent Reels of profiles, through instaloader with a logged-in session that is
    never the publishing account."""

    timeout_s: float = Field(180.0, gt=0, le=MAX_WAIT_S)
    cache_minutes: float = Field(360.0, ge=0, le=WEEK_S / 60)
    hashtags: list[str] = []
    profiles: list[str] = []
    theme: str = Field("", description="the theme its posts get; empty: the hashtag's name (profiles: 'instagram')")
    username: str = Field("", description="the scraping account; its session file is loaded, else "
                                          "INSTAGRAM_USERNAME/INSTAGRAM_PASSWORD log in")
    session_file: str = Field("data/instagram.session", description="instaloader session file, relative to --home")
    posts_per_hashtag: int = Field(9, ge=1, le=50)
    reels_per_profile: int = Field(6, ge=1, le=50)
    max_wait_s: float = Field(60.0, ge=0, le=MAX_WAIT_S,
                              description="longest pause instaloader's rate controller may take; "
                                          "a longer one ends the source for this cycle")
    breaker_hours: float = Field(6.0, gt=0, le=168,
                                 description="after a block (login, checkpoint, 'please wait', 429) the "
                                             "source rests this long")
    polite_sleep: bool = Field(True, description="instaloader's random pause before each request")
    max_connection_attempts: int = Field(2, ge=1, le=5)

    @field_validator("hashtags", "profiles")
    @classmethod
    def _bare_names(cls, value: list[str]) -> list[str]:
        return [name.strip().lstrip("#@").lower() for name in value if name.strip("#@ ")]


class TrendSources(Strict):
    file: FileSource = FileSource()
    google_trends_rss: GoogleTrendsSource = GoogleTrendsSource()
    rss: RssSource = RssSource()
    instagram: InstagramSource = InstagramSource()


class ScoreWeights(Strict):
    """Exponents of the score's five factors (trends/scoring.py): 0 switches a factor off, 2 makes it count double."""

    recency: float = Field(1.0, ge=0, le=5)
    velocity: float = Field(1.0, ge=0, le=5)
    engagement: float = Field(1.0, ge=0, le=5)
    agreement: float = Field(1.0, ge=0, le=5)
    results: float = Field(1.0, ge=0, le=5, description="the account's own videos' views by theme and hashtag "
                                                         "(trends/learning.py)")


class TrendSettings(Strict):
    top_n: int = Field(3, ge=1, le=50)
    half_life_hours: float = Field(48.0, gt=0, le=8760)
    weights: ScoreWeights = ScoreWeights()
    allow_topics: list[str] = Field([], description="when set, only trends mentioning one of these words or phrases")
    block_topics: list[str] = Field([], description="trends mentioning any of these words or phrases are left out")
    memory_days: float = Field(30.0, ge=0, le=3650,
                               description="a topic that got a video this recently is not made again, "
                                           "even in other words from another source")
    sources: TrendSources = TrendSources()


class OpenAICompatible(Strict):
    """An OpenAI-compatible endpoint (OpenAI, Groq, a local Ollama or llama.cpp server, ...), off unless enabled."""

    enabled: bool = False
    base_url: str = Field("https://api.openai.com/v1", pattern=r"^https?://")
    api_key_env: str | None = Field("OPENAI_API_KEY", description="environment variable holding the key; null for "
                                                                   "a local server that needs none")


class LlmSettings(OpenAICompatible):
    """An OpenAI-compatible chat endpoint that writes briefs; any failure falls back to the template brief."""

    model: str = Field("gpt-4o-mini", min_length=1)
    timeout_s: float = Field(30.0, gt=0, le=600)
    temperature: float = Field(0.8, ge=0, le=2)
    json_mode: bool = Field(True, description="ask for response_format json_object (turn off for servers that "
                                              "reject it)")


class BriefSettings(Strict):
    llm: LlmSettings = LlmSettings()


class TranscriptSettings(OpenAICompatible):
    """A reference's speech transcribed, with word times, by an OpenAI-compatible `/audio/transcriptions` endpoint:
    bought once per video under the daily and monthly caps."""

    model: str = Field("whisper-1", min_length=1, description="a model that gives verbose_json with word times")
    # openai.com/api/pricing: whisper-1 and gpt-4o-transcribe $0.006 a minute, gpt-4o-mini-transcribe $0.003
    price_usd_per_minute: float = Field(0.006, ge=0, le=10)
    timeout_s: float = Field(120.0, gt=0, le=1800)


class KeyframeSettings(OpenAICompatible):
    """Each shot's keyframe described by a vision-capable, OpenAI-compatible chat endpoint: bought once per video
    under the daily and monthly caps, reserved at the most a keyframe can cost and charged by the tokens used."""

    model: str = Field("gpt-4o-mini", min_length=1)
    max_shots: int = Field(12, ge=1, le=100, description="keyframes described at most (spread over the video)")
    max_tokens: int = Field(120, ge=16, le=2000, description="the longest description, in tokens")
    # platform.openai.com/docs/guides/images-vision: a low-detail image is 85 tokens on gpt-4o, 2,833 on
    # gpt-4o-mini (which costs a 33rd as much a token); set it with the model
    image_tokens: int = Field(2833, ge=1, le=100_000, description="the tokens one low-detail image counts as")
    # openai.com/api/pricing: gpt-4o-mini $0.15 per million input tokens, $0.60 per million output tokens
    price_usd_per_million_input_tokens: float = Field(0.15, ge=0, le=1000)
    price_usd_per_million_output_tokens: float = Field(0.60, ge=0, le=1000)
    timeout_s: float = Field(60.0, gt=0, le=600)


class AnalysisSettings(Strict):
    """What `analyze` and a lookalike's reference may buy beyond the offline analysis: off unless enabled with a
    key."""

    transcript: TranscriptSettings = TranscriptSettings()
    keyframes: KeyframeSettings = KeyframeSettings()

    @property
    def parts(self) -> dict[str, TranscriptSettings | KeyframeSettings]:
        """Each part by the name it is configured, bought and logged under."""
        return {"transcript": self.transcript, "keyframes": self.keyframes}

    @property
    def buys_any(self) -> bool:
        return any(part.enabled for part in self.parts.values())


class Palette(Strict):
    background: list[HexColor] = Field(["#1e3c72", "#2a5298", "#e96443"], min_length=2, max_length=8)
    text: HexColor = "#ffffff"
    accent: HexColor = "#ffd166"


VoiceEngineName = Literal["espeak", "elevenlabs", "openai"]


class ElevenLabsVoice(Strict):
    """ElevenLabs' speech with character timings (key: ELEVENLABS_API_KEY)."""

    voice_id: str = Field("21m00Tcm4TlvDq8ikWAM", pattern=r"^[A-Za-z0-9]+$",
                          description="a voice of the account's voice library (default: Rachel, a premade voice)")
    model_id: str = Field("eleven_multilingual_v2", pattern=r"^[a-z0-9_]+$")
    # elevenlabs.io/pricing/api: Multilingual v2 and v3 $0.10 per 1,000 characters, Flash and Turbo $0.05.
    price_usd_per_character: float = Field(0.0001, ge=0, le=0.01, description="the model's price (set it with "
                                                                              "model_id)")
    base_url: str | None = Field(None, description="the API's address (a proxy, a test fake)")


class OpenAIVoice(Strict):
    """OpenAI's speech, its words timed by OpenAI's transcription of it (key: OPENAI_API_KEY)."""

    model: str = Field("tts-1", pattern=r"^[a-z0-9.-]+$")
    voice: str = Field("alloy", pattern=r"^[a-z]+$")
    # openai.com/api/pricing: tts-1 $15 per million characters, and whisper-1 $0.006 a minute for the timings
    # (about 900 characters of speech): $0.000022 a character; tts-1-hd $30 per million.
    price_usd_per_character: float = Field(0.000022, ge=0, le=0.01, description="the model's price and the "
                                                                               "transcription's (set it with model)")
    base_url: str | None = Field(None, description="the API's address (a proxy, a test fake)")


class Voiceover(Strict):
    """Narration by the first engine of `engine` that can speak (espeak-ng offline, or a cloud voice with its key);
    when none can, Reels get music only."""

    enabled: bool = False
    engine: list[VoiceEngineName] = Field(["espeak"], min_length=1, description="voice engines in fallback order")
    voice: str = Field("", pattern=r"^[A-Za-z0-9_+-]*$", description="espeak-ng's voice: espeak-ng --voices lists "
                                                                    "them (default: the persona's language's)")
    words_per_minute: int = Field(165, ge=80, le=260, description="espeak-ng's speed")
    elevenlabs: ElevenLabsVoice = ElevenLabsVoice()
    openai: OpenAIVoice = OpenAIVoice()


SceneSource = Literal["library", "stock", "generated"]
CaptionPreset = Literal["classic", "pop", "word"]
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".mkv")  # what a persona's clips and references may be


class Style(Strict):
    """How a persona's Reels look and sound when the local renderer makes them."""

    template: Literal["kinetic", "list", "kenburns"] = Field(
        "kinetic", description="kinetic captions | numbered list | Ken Burns over images"
    )
    font: str = Field("DejaVu Sans", description="a bundled family or a .ttf/.otf/.ttc path under the home")
    palette: Palette = Palette()
    images_folder: str = Field("", description="the persona's photos (panned) and video clips (trimmed), one a scene")
    scene_sources: list[SceneSource] = Field(
        ["library", "stock", "generated"], min_length=1,
        description="where each scene's picture comes from, first that has one: the persona's own media, stock "
                    "footage (a Pexels or Pixabay key), generated backdrops (always, also when not listed)")
    transition: Literal["cut", "fade", "slide", "zoom"] | None = Field(
        None, description="between scenes (default: the template's own: kinetic cut, list slide, kenburns fade)")
    grade: str = Field("", description="a colour grade for the pictures: a .cube LUT file under the home (the "
                                        "captions keep their own colours)")
    reference_image: str = Field("", description="a photo of the persona (.jpg/.png under the home, at most 5 MB): "
                                                 "sent as a character reference to every provider that takes one, "
                                                 "so the influencer looks the same from video to video")
    reference_videos: list[str] = Field(
        [], description="videos under the home whose style this persona's Reels follow, one a Reel in turn: their "
                        "shots' lengths and colours, music tempo and caption pace (as `generate --like`)")
    music_mood: Literal["upbeat", "calm", "dramatic"] = "upbeat"
    music_folder: str = Field("", description="the persona's own music library, tracks in <folder>/<mood>/ "
                                              "(default: content.music_folder's)")
    voiceover: Voiceover = Voiceover()
    highlight: Literal["auto", "colour", "box"] = Field(
        "auto", description="the word being read: recoloured in the accent, or set on an accent box; auto: the "
                            "colour when it has 3:1 contrast against the text, else the box")
    uppercase: bool = Field(False, description="captions in capitals (the voiceover reads them as written)")
    captions: CaptionPreset = Field(
        "classic", description="classic: the whole caption, the word being read lit | pop: one to three words at a "
                               "time, large, each group popping in | word: one word at a time, scaling in")
    captions_per_platform: dict[PlatformName, CaptionPreset] = Field(
        {}, description="another preset on some platforms, e.g. {\"youtube_shorts\": \"classic\"}")

    @field_validator("grade")
    @classmethod
    def _cube_file(cls, value: str, info: ValidationInfo) -> str:
        if value and not value.lower().endswith(".cube"):
            raise ValueError(f"{value!r} is not a .cube LUT file")
        home_root = (info.context or {}).get("home_root")
        if value and home_root is not None and not (Path(home_root) / value).is_file():
            raise ValueError(f"no LUT file {value!r} under the home")
        return value

    @field_validator("reference_videos")
    @classmethod
    def _video_files(cls, values: list[str], info: ValidationInfo) -> list[str]:
        home_root = (info.context or {}).get("home_root")
        for value in values:
            if not value.lower().endswith(VIDEO_SUFFIXES):
                raise ValueError(f"{value!r} is not a video ({', '.join(VIDEO_SUFFIXES)})")
            if home_root is not None and not (Path(home_root) / value).is_file():
                raise ValueError(f"no video {value!r} under the home")
        return values

    @field_validator("reference_image")
    @classmethod
    def _photo_file(cls, value: str, info: ValidationInfo) -> str:
        if value and not value.lower().endswith((".jpg", ".jpeg", ".png")):
            raise ValueError(f"{value!r} is not a .jpg or .png photo")
        home_root = (info.context or {}).get("home_root")
        if not value or home_root is None:
            return value
        photo = Path(home_root) / value
        if not photo.is_file():
            raise ValueError(f"no photo {value!r} under the home")
        if photo.stat().st_size > MAX_REFERENCE_BYTES:
            raise ValueError(f"{value!r} is {photo.stat().st_size / 2**20:.1f} MB; at most 5 MB (the providers' "
                             "limit for an inline image)")
        return value

    @field_validator("scene_sources")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each source at most once")
        return value

    @field_validator("font")
    @classmethod
    def _font_exists(cls, value: str, info: ValidationInfo) -> str:
        home_root = (info.context or {}).get("home_root")
        if home_root is not None:
            primary_font_path(value, home_root)
        return value


Language = Literal["en", "es", "pt", "fr", "de", "ar", "hi", "zh", "ja"]


class InstagramPublishing(Strict):
    """Posting Reels through the Instagram Graph API, to a professional (Business or Creator) account."""

    enabled: bool = False
    login: Literal["instagram", "facebook"] = Field(
        "instagram", description="Instagram Login (graph.instagram.com) or Facebook Login for Business "
                                 "(graph.facebook.com): the kind of app the token was issued to")
    user_id: str = Field("", pattern=r"^[0-9]*$", description="the account's Instagram user id")
    token_env: str = Field("INSTAGRAM_ACCESS_TOKEN", pattern=r"^[A-Z][A-Z0-9_]*TOKEN$",
                           description="the environment variable (or .env entry) holding its access token")
    api_version: str = Field("v23.0", pattern=r"^v[0-9]+\.[0-9]+$")
    share_to_feed: bool = Field(True, description="the Reel shows in the profile's grid too")
    upload: Literal["hosted", "direct"] = Field(
        "hosted", description="hosted: Meta fetches the video from media_hosting; direct: the file is sent to Meta "
                              "itself (upload_type=resumable; Facebook Login only) and no hosting is needed")
    base_url: str | None = Field(None, pattern=r"^https?://", description="the API's address (a proxy, a test fake)")
    poll_interval_s: float = Field(60.0, gt=0, le=600, description="between two looks at a container Meta is "
                                                                   "processing (Meta asks for once a minute)")
    processing_timeout_s: float = Field(1800.0, gt=0, le=86_400, description="a container not processed by then "
                                                                             "fails the post")
    timeout_s: float = Field(60.0, gt=0, le=MAX_WAIT_S, description="for one request")

    @model_validator(mode="after")
    def _direct_needs_facebook_login(self) -> "InstagramPublishing":
        if self.upload == "direct" and self.login != "facebook":
            raise ValueError("upload \"direct\" (upload_type=resumable) is offered with Facebook Login only: set "
                             "login to \"facebook\" or upload to \"hosted\"")
        return self


class YouTubePublishing(Strict):
    """Uploading Shorts through the YouTube Data API (videos.insert, resumable), as the channel whose OAuth refresh
    token the environment holds (scope youtube.upload)."""

    enabled: bool = False
    client_id_env: str = Field("YOUTUBE_CLIENT_ID", pattern=r"^[A-Z][A-Z0-9_]*$",
                               description="the environment variable holding the OAuth client's id")
    client_secret_env: str = Field("YOUTUBE_CLIENT_SECRET", pattern=r"^[A-Z][A-Z0-9_]*SECRET$")
    refresh_token_env: str = Field("YOUTUBE_REFRESH_TOKEN", pattern=r"^[A-Z][A-Z0-9_]*TOKEN$")
    privacy: Literal["public", "unlisted", "private"] = "public"
    publish_at: bool = Field(False, description="upload each Short as soon as it is scheduled, private, with "
                                                "status.publishAt at its slot: YouTube makes it public then, "
                                                "whether or not the daemon runs (privacy must be public)")
    made_for_kids: bool = Field(False, description="status.selfDeclaredMadeForKids")
    category_id: str = Field("22", pattern=r"^[0-9]+$", description="22: People & Blogs")
    base_url: str | None = Field(None, pattern=r"^https?://", description="the API's address (a proxy, a test fake)")
    token_url: str | None = Field(None, pattern=r"^https?://", description="the OAuth token endpoint's")
    timeout_s: float = Field(120.0, gt=0, le=MAX_WAIT_S, description="for one request (an upload: all of it)")

    @model_validator(mode="after")
    def _public_when_scheduled(self) -> "YouTubePublishing":
        if self.publish_at and self.privacy != "public":
            raise ValueError("publish_at makes each Short public at its slot: privacy must be \"public\"")
        return self


class TikTokPublishing(Strict):
    """Posting videos through TikTok's Content Posting API (Direct Post, FILE_UPLOAD), as the creator whose OAuth
    refresh token the environment holds (scope video.publish)."""

    enabled: bool = False
    client_key_env: str = Field("TIKTOK_CLIENT_KEY", pattern=r"^[A-Z][A-Z0-9_]*$",
                                description="the environment variable holding the app's client key")
    client_secret_env: str = Field("TIKTOK_CLIENT_SECRET", pattern=r"^[A-Z][A-Z0-9_]*SECRET$")
    refresh_token_env: str = Field("TIKTOK_REFRESH_TOKEN", pattern=r"^[A-Z][A-Z0-9_]*TOKEN$")
    privacy: Literal["SELF_ONLY", "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR"] = Field(
        "SELF_ONLY", description="who sees the post; an app TikTok has not audited may only post SELF_ONLY")
    base_url: str | None = Field(None, pattern=r"^https?://", description="the API's address (a proxy, a test fake)")
    timeout_s: float = Field(120.0, gt=0, le=MAX_WAIT_S, description="for one request (a chunk: all of it)")


class Publishing(Strict):
    """Where and when a persona's finished Reels are posted."""

    auto_publish: bool = Field(False, description="post each finished Reel at the next slot; off: `approve JOB` "
                                                  "schedules it")
    slots: list[Annotated[str, Field(pattern=CLOCK_TIME)]] = Field(
        ["12:00", "19:00"], description="posting times (HH:MM in schedule.timezone); empty: as soon as it is made")
    best_hours: int = Field(0, ge=0, le=6, description="post on the hour at this many of the hours whose collected "
                                                       "posts engaged most (the latest viral patterns) instead of "
                                                       "`slots`; 0, or too few posts with counts yet: `slots`")
    instagram: InstagramPublishing = InstagramPublishing()
    youtube: YouTubePublishing = YouTubePublishing()
    tiktok: TikTokPublishing = TikTokPublishing()


class Account(Strict):
    """A persona the daemon produces for; only trends in its niches feed it (empty niches: every trend)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    handle: str = Field(min_length=1)
    persona: str = ""
    niches: list[str] = []
    hashtags: list[str] = []
    keywords: list[str] = Field([], description="words or phrases that make any trend this persona's, whatever its "
                                                "theme (a search for 'marathon training' has theme 'news')")
    brief_template: str = Field("default", pattern=r"^[a-z0-9_]+$")
    language: Language = Field("en", description="the language (BCP-47 code) its briefs are written in")
    style: Style = Style()
    review_briefs: bool = Field(False, description="each brief waits for the operator's approval (the console's "
                                                   "review screen) before anything is generated or spent")
    publishing: Publishing = Publishing()


class ContentSettings(Strict):
    prompt_style: str = "vibrant, cinematic, natural light, vertical framing"
    music_folder: str = Field("data/music", description="tracks in <folder>/<mood>/ are used before synthesis")
    fonts_folder: str = Field("data/fonts", description="extra fonts tried after the persona's for missing glyphs")
    default_duration_s: int = Field(15, ge=REEL_SECONDS[0], le=REEL_SECONDS[1])
    aspect_ratio: Literal["9:16"] = Field("9:16", description="kept for old configs: the first of `platforms` "
                                                               "decides each video's frame")


class ValueModel(Strict):
    """What a video's engagement is worth to you, in US dollars: the ROI report's estimated value is the sum of each
    metric times its value. Set them from what a sponsor pays or what a follower is worth to you."""

    per_1k_views: float = Field(0.5, ge=0, le=1000)
    per_like: float = Field(0.01, ge=0, le=1000)
    per_comment: float = Field(0.05, ge=0, le=1000)
    per_save: float = Field(0.05, ge=0, le=1000)
    per_share: float = Field(0.1, ge=0, le=1000)
    per_follower: float = Field(0.5, ge=0, le=1000, description="applied to the follows a video brought, when imported")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class AnalyticsSettings(Strict):
    value_model: ValueModel = ValueModel()
    weekly_report_day: Weekday = Field("mon", description="the daemon writes the 7-day report on this day")
    gallery_size: int = Field(12, ge=0, le=100, description="thumbnails and contact sheets of the latest videos "
                                                            "embedded in the report")


class MediaHosting(Strict):
    """S3-compatible object storage (AWS S3, Cloudflare R2, MinIO, Backblaze B2) that holds a video while a platform
    that pulls from a link (Instagram) fetches it; the keys are AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."""

    bucket: str = Field("", pattern=r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$", description="empty: no hosting")
    endpoint_url: str | None = Field(None, pattern=r"^https?://", description="the store's address; empty: AWS S3")
    region: str = Field("us-east-1", pattern=r"^[a-z0-9-]+$")
    prefix: str = Field("reels/", pattern=r"^[A-Za-z0-9_./-]*$", description="the folder in the bucket")
    link_expiry_s: int = Field(86_400, ge=300, le=604_800, description="how long a presigned link works (at most "
                                                                       "7 days, S3's limit)")


NotificationEvent = Literal["job.done", "job.failed", "budget.alert", "provider.disabled", "post.published",
                            "brief.review"]
ALL_EVENTS: list[NotificationEvent] = list(get_args(NotificationEvent))


class Webhook(Strict):
    """A URL told of each event as a signed JSON POST (HMAC-SHA256 with a secret from the environment)."""

    url: str = Field(pattern=r"^https?://", description="where each event is POSTed")
    secret_env: str = Field("WEBHOOK_SECRET", pattern=r"^[A-Z][A-Z0-9_]*SECRET$",
                            description="the environment variable (or .env entry) holding the signing secret")
    events: list[NotificationEvent] = Field(ALL_EVENTS, min_length=1)


class Telegram(Strict):
    """A Telegram chat told of each event by a bot (Bot API sendMessage)."""

    enabled: bool = False
    token_env: str = Field("TELEGRAM_BOT_TOKEN", pattern=r"^[A-Z][A-Z0-9_]*TOKEN$",
                           description="the environment variable (or .env entry) holding the bot's token")
    chat_id: str = Field("", pattern=r"^(-?[0-9]+|@[A-Za-z0-9_]{5,32})?$",
                         description="the chat (a user's or group's id, or @channelusername)")
    events: list[NotificationEvent] = Field(ALL_EVENTS, min_length=1)
    base_url: str | None = Field(None, pattern=r"^https?://", description="the Bot API's address (a test fake)")


class Notifications(Strict):
    """Who is told when a job ends, a budget alert fires, a provider is disabled or a Reel is posted."""

    webhooks: list[Webhook] = []
    telegram: Telegram = Telegram()

    @model_validator(mode="after")
    def _telegram_chat(self) -> "Notifications":
        if self.telegram.enabled and not self.telegram.chat_id:
            raise ValueError("telegram.chat_id: set the chat the bot writes to")
        return self


class ConsoleSettings(Strict):
    """The operator console inside `run` (`serve` runs it on its own)."""

    enabled: bool = Field(False, description="`run` serves the dashboard and API too (CONSOLE_TOKEN must be set)")
    host: str = Field("127.0.0.1", description="the address to listen on: this machine only unless changed")
    port: int = Field(8765, ge=1, le=65535)


class ContentCredentials(Strict):
    """C2PA content credentials signed into each delivered video: who made it and that AI made it, verifiable by
    anyone (Adobe's Content Credentials, `c2patool`). Off until a certificate is set."""

    certificate: str = Field("", description="the signing certificate chain (PEM, leaf first, under the home); "
                                             "empty: videos are not signed")
    key_env: str = Field("C2PA_SIGNING_KEY", pattern=r"^[A-Z][A-Z0-9_]*KEY$",
                         description="the environment variable (or .env entry) holding the certificate's private key: "
                                     "the PEM itself or the path of a PEM file")
    algorithm: Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"] = Field(
        "es256", description="the certificate key's signing algorithm")
    timestamp_url: str | None = Field(None, pattern=r"^https?://", description="an RFC 3161 time-stamp authority, "
                                      "so a signature outlives its certificate; empty: none (no network)")

    @field_validator("certificate")
    @classmethod
    def _certificate_file(cls, value: str, info: ValidationInfo) -> str:
        home_root = (info.context or {}).get("home_root")
        if not value or home_root is None:
            return value
        path = Path(home_root) / value
        if not path.is_file():
            raise ValueError(f"no certificate file {value!r} under the home")
        if b"-----BEGIN CERTIFICATE-----" not in path.read_bytes()[:1_000_000]:
            raise ValueError(f"{value!r} holds no PEM certificate")
        return value


class AppConfig(Strict):
    schedule: Schedule = Schedule()
    trends: TrendSettings = TrendSettings()
    briefs: BriefSettings = BriefSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    accounts: list[Account] = Field(min_length=1)
    platforms: list[PlatformName] = Field(["instagram_reels"], min_length=1, description="the first is what each "
                                          "video is made for; every other gets a variant reframed from its timeline")
    content: ContentSettings = ContentSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    media_hosting: MediaHosting = MediaHosting()
    content_credentials: ContentCredentials = ContentCredentials()
    notifications: Notifications = Notifications()
    console: ConsoleSettings = ConsoleSettings()
    retention_days: int = Field(7, ge=0, le=3650, description="a posted video's files (and their hosted copies) go "
                                                              "this many days after its last post; 0: kept")
    delete_unpublished: bool = Field(False, description="a video never posted goes too, retention_days after it was "
                                                        "made")

    @model_validator(mode="after")
    def _unique_accounts(self) -> "AppConfig":
        names = [a.name for a in self.accounts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"account names must be unique, repeated: {', '.join(duplicates)}")
        scraper = self.trends.sources.instagram.username.lstrip("@").lower()
        if scraper and scraper in {a.handle.lstrip("@").lower() for a in self.accounts}:
            raise ValueError(f"trends.sources.instagram.username: {scraper!r} publishes for an account here; scrape "
                             "with a separate account (Instagram flags automated sessions)")
        return self

    @property
    def platform(self) -> PlatformName:
        """The platform videos are made for first; the others get variants."""
        return self.platforms[0]


# ---- config/video_config.json -------------------------------------------------------------------------------------


class Budget(Strict):
    per_video_limit_usd: float = Field(2.0, ge=0, le=1_000_000)
    daily_limit_usd: float = Field(10.0, ge=0, le=1_000_000)
    monthly_limit_usd: float = Field(200.0, ge=0, le=1_000_000)
    timezone: str = Field("UTC", description="where a budget day and month begin and end")
    alert_thresholds_pct: list[int] = Field([75, 90], description="alert once per day/month at these % of a cap")
    alert_webhook_url: str | None = Field(None, description="POST each alert here as JSON (optional)")

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("alert_thresholds_pct")
    @classmethod
    def _percentages(cls, value: list[int]) -> list[int]:
        if any(not 0 < pct <= 100 for pct in value):
            raise ValueError("thresholds are percentages between 1 and 100")
        return sorted(set(value))

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ProviderConfig(Strict):
    type: str
    enabled: bool = True
    priority: int = Field(100, ge=0, le=10_000, description="lower runs first among fallbacks")
    max_concurrent: int | None = Field(None, ge=1, le=1000, description="tasks in flight at once, across all workers")
    requests_per_minute: int | None = Field(None, ge=1, le=100_000, description="create calls per rolling minute")
    params: dict[str, Any] = {}

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str, info: ValidationInfo) -> str:
        known = sorted((info.context or {}).get("provider_types", {}))
        if known and value not in known:
            hint = _did_you_mean(value, known)
            raise ValueError(f"unknown provider type {value!r}{hint} (known: {', '.join(known)})")
        return value

    @field_validator("params")
    @classmethod
    def _no_secrets(cls, params: dict[str, Any]) -> dict[str, Any]:
        return _no_secret_keys(params)


def _no_secret_keys(params: dict[str, Any]) -> dict[str, Any]:
    for key in params:
        if SECRET_KEY_HINT.search(key) or SECRET_NAME.search(key.upper()):
            raise ValueError(f"{key!r} looks like a secret: put API keys in the environment or .env, not in JSON")
    return params


QualityName = Literal["standard", "hd", "premium"]


def _is_quality_name(name: str) -> TypeGuard[QualityName]:
    return name in get_args(QualityName)


class QualityTier(Strict):
    """A quality tier: which providers may make it (in order; empty: the default order), what it asks of each (its
    model, resolution: any of the provider's `params`, overridden for this tier) and how its price scales."""

    multiplier: float = Field(1.0, ge=0, le=100, description="applied to each provider's estimate for this tier")
    providers: list[str] = []
    provider_params: dict[str, dict[str, Any]] = Field({}, description="per provider name: params for this tier")

    @field_validator("provider_params")
    @classmethod
    def _no_secrets(cls, overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for params in overrides.values():
            _no_secret_keys(params)
        return overrides


DEFAULT_TIERS: dict[QualityName, QualityTier] = {"standard": QualityTier(), "hd": QualityTier(multiplier=1.5),
                                                 "premium": QualityTier(multiplier=2.5)}


class AccountLimit(Strict):
    max_concurrent: int = Field(ge=1, le=256, description="this persona's jobs running at once")


class Composer(Strict):
    """What happens to a video a provider made: composed into the Reel (the brief's captions, the voiceover, the
    music or the video's own sound, the grade, variants for the other platforms), or delivered as made."""

    provider_videos: bool = Field(True, description="compose over providers' videos (false: deliver them as made)")
    scenes: bool = Field(True, description="ask the providers for one clip per scene, each its own paid task "
                                           "(false: one video for the whole Reel)")
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = "veryfast"
    crf: int = Field(21, ge=14, le=23, description="23 is the quality floor: speed never comes from lower quality")


class RetryPolicy(Strict):
    """How the engine treats provider errors (the classes are in core/errors.py)."""

    max_retries: int = Field(2, ge=0, le=10, description="temporary errors: retries on the same provider")
    backoff_base_s: float = Field(2.0, ge=0, le=MAX_WAIT_S,
                                  description="first retry waits up to this, doubling, full jitter")
    backoff_max_s: float = Field(60.0, ge=0, le=MAX_WAIT_S)
    max_attempts_per_job: int = Field(6, ge=1, le=50, description="hard cap on provider attempts for one job")
    breaker_failures: int = Field(5, ge=1, le=1000, description="consecutive failures that cool a provider down")
    breaker_cooldown_s: float = Field(300.0, ge=0, le=WEEK_S)
    disable_hours: float = Field(24.0, ge=0, le=8760, description="billing or auth errors disable a provider this long")
    task_deadline_s: float = Field(3600.0, ge=1, le=WEEK_S, description="a submitted task is polled through "
                                   "errors this long after its creation; then it is cancelled where the API allows "
                                   "and its estimate counts as spent")
    machine_fault_wait_s: float = Field(300.0, ge=1, le=MAX_WAIT_S, description="a job whose files the machine "
                                        "refused (a full disk, a read-only folder) waits this long in the queue")


PolicyAction = Literal["rewrite", "reject", "allow"]


class PromptPolicy(Strict):
    """Checked before a paid provider sees a prompt, so we do not pay for its moderation's refusals
    (content/briefs/prompt_policy.py). A term matches as a whole word or phrase, any case."""

    banned_terms: list[str] = Field([], description="a prompt with one of these is never sent to a paid provider")
    real_people: list[str] = Field([], description="names of real people: replaced by 'a person' (or rejected)")
    brands: list[str] = Field([], description="brand and product names: replaced by 'a product' (or rejected)")
    people_action: PolicyAction = "rewrite"
    brands_action: PolicyAction = "rewrite"
    minors_action: PolicyAction = Field("reject", description="words about children (kid, teen, schoolgirl...)")


class VideoGeneration(Strict):
    enabled: bool = True
    default_provider: str
    fallback_providers: list[str] = []
    max_concurrent_generations: int = Field(1, ge=1, le=256, description="jobs worked at once by one worker")
    max_queue_size: int = Field(500, ge=1, le=1_000_000,
                                description="an enqueue beyond this many waiting jobs is refused")
    lease_s: float = Field(60.0, ge=1, le=MAX_WAIT_S,
                           description="a worker that stops renewing for this long loses its jobs")
    account_limits: dict[str, AccountLimit] = Field({}, description="per account (persona) name")
    quality_tiers: dict[QualityName, QualityTier] = Field(DEFAULT_TIERS)
    budget: Budget = Budget()
    retry: RetryPolicy = RetryPolicy()
    prompt_policy: PromptPolicy = PromptPolicy()
    composer: Composer = Composer()
    providers: dict[str, ProviderConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_exist(self) -> "VideoGeneration":
        for field, name in [("default_provider", self.default_provider)] + [
            (f"fallback_providers[{i}]", n) for i, n in enumerate(self.fallback_providers)
        ]:
            if name not in self.providers:
                hint = _did_you_mean(name, list(self.providers))
                raise ValueError(f"{field}: no provider named {name!r}{hint} under video_generation.providers")
        for tier_name, tier in self.quality_tiers.items():
            named = [(f"providers[{i}]", n) for i, n in enumerate(tier.providers)]
            for field, name in named + [(f"provider_params.{n}", n) for n in tier.provider_params]:
                if name not in self.providers:
                    hint = _did_you_mean(name, list(self.providers))
                    raise ValueError(f"quality_tiers.{tier_name}.{field}: no provider named {name!r}{hint}")
        return self

    def params_for(self, provider: str, quality: str) -> dict[str, Any]:
        """A provider's params as a job of this quality tier uses them: its own, with the tier's on top."""
        return {**self.providers[provider].params, **self.tier(quality).provider_params.get(provider, {})}

    def tier(self, quality: str) -> QualityTier:
        if _is_quality_name(quality):
            return self.quality_tiers.get(quality, DEFAULT_TIERS.get(quality, QualityTier()))
        return QualityTier()  # neither the file nor the defaults can name another tier

    def provider_order(self, quality: str = "standard") -> list[str]:
        """Enabled providers in the order to try them: the quality tier's chain if it has one, else the default,
        listed fallbacks, then the rest by priority."""
        chain = self.tier(quality).providers
        if chain:
            return [name for name in dict.fromkeys(chain) if self.providers[name].enabled]
        listed = [self.default_provider, *self.fallback_providers]
        rest = sorted((n for n in self.providers if n not in listed), key=lambda n: (self.providers[n].priority, n))
        ordered = list(dict.fromkeys(listed + rest))
        return [name for name in ordered if self.providers[name].enabled]


class VideoConfig(Strict):
    video_generation: VideoGeneration


class Settings(BaseModel):
    """Both files, validated; what the rest of the daemon receives."""

    model_config = ConfigDict(frozen=True)

    app: AppConfig
    video: VideoGeneration


# ---- loading and error messages ----------------------------------------------------------------------------------


def load_settings(home: Home, provider_params: Mapping[str, type[BaseModel]]) -> Settings:
    """Load and validate both files; `provider_params` maps each provider type to the model of its `params`."""
    context = {"provider_types": provider_params, "home_root": home.root}
    app = _load_model(home, home.config_file, AppConfig, context)
    video = _load_model(home, home.video_config_file, VideoConfig, context).video_generation
    checks: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
        (("providers", name, "params"), name, entry.params) for name, entry in video.providers.items()]
    checks += [(("quality_tiers", tier, "provider_params", name), name, video.params_for(name, tier))
               for tier, entry in video.quality_tiers.items() for name in entry.provider_params]
    for where, name, params in checks:
        try:
            provider_params[video.providers[name].type].model_validate(params)
        except ValidationError as exc:
            raise _config_error(home.display(home.video_config_file), exc, ("video_generation", *where)) from None
    return Settings(app=app, video=video)


def _load_model(home: Home, path: Path, model: type[BaseModel], context: dict[str, Any]) -> Any:
    shown = home.display(path)
    data = _read_json(shown, path)
    if not isinstance(data, dict):
        raise ConfigError(shown, f"the top level must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _config_error(shown, exc) from None


def _read_json(shown: str, path: Path) -> Any:
    """The file's JSON; anything but a regular, readable, small, UTF-8, well-formed file is one ConfigError (a
    FIFO is never opened, so a read cannot block)."""
    if not path.exists():
        raise ConfigError(shown, "file not found (`python main.py init` writes a sample)")
    if not path.is_file():
        raise ConfigError(shown, "is a folder, not a file" if path.is_dir() else "not a regular file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(shown, f"cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(shown, f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config file")
    try:
        return parse_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(shown, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(shown, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # nested past reason, or an integer of over 4,300 digits
        raise ConfigError(shown, f"invalid JSON: {exc}") from None


def _config_error(shown: str, exc: ValidationError, prefix: tuple[Any, ...] = ()) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    path = _json_path(prefix + tuple(first["loc"]))
    problem = _describe(first, exc)
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ConfigError(shown, problem, path or "(top level)")


def _json_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        key = str(part) if str(part).isprintable() and str(part) else json.dumps(str(part))  # a "\n" key: one line
        path += f"[{part}]" if isinstance(part, int) else (f".{key}" if path else key)
    return path


def _describe(error: Mapping[str, Any], exc: ValidationError) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    comparisons = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in comparisons:
        bound = next(iter(ctx.values()))
        return f"must be {comparisons[kind]} {bound:g}, got {value!r}"
    if kind == "extra_forbidden":
        siblings = _allowed_keys(exc, error["loc"])
        return f"unknown key{_did_you_mean(str(error['loc'][-1]), siblings)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not match the expected form {ctx.get('pattern')}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {value!r}"


def _allowed_keys(exc: ValidationError, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model that rejected an unknown key, to suggest the intended one."""
    model: Any = {"AppConfig": AppConfig, "VideoConfig": VideoConfig}.get(exc.title)
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part) if isinstance(part, str) else None
        if field is None:  # a list index or a dict key: stay on the item model
            continue
        args = getattr(field.annotation, "__args__", ())
        model = args[-1] if args else field.annotation
    return list(getattr(model, "model_fields", {}))


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
