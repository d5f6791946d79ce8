"""The one portable schema (SQLAlchemy Core) behind trends → briefs → jobs → attempts → ledger → posts."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

SCHEMA_VERSION = 11
# What each version adds to the one before, applied in order to an older database (create_all adds new tables).
MIGRATIONS = {
    2: [
        "ALTER TABLE video_jobs ADD COLUMN quality VARCHAR(16) NOT NULL DEFAULT 'standard'",
        "ALTER TABLE video_jobs ADD COLUMN not_before TIMESTAMP",
        "ALTER TABLE video_jobs ADD COLUMN lease_owner VARCHAR(96)",
        "ALTER TABLE video_jobs ADD COLUMN lease_expires_at TIMESTAMP",
        "ALTER TABLE video_jobs ADD COLUMN cancel_reason TEXT",
        "ALTER TABLE attempts ADD COLUMN progress FLOAT",
        "UPDATE attempts SET state = 'done' WHERE state = 'succeeded'",
        "UPDATE attempts SET state = 'reserved' WHERE state = 'running'",  # reconciled (released) on the next run
        "INSERT INTO budget_totals (period, amount_usd) SELECT 'day:' || budget_day, SUM(amount_usd) "
        "FROM cost_ledger GROUP BY budget_day",
        "INSERT INTO budget_totals (period, amount_usd) SELECT 'month:' || budget_month, SUM(amount_usd) "
        "FROM cost_ledger GROUP BY budget_month",
    ],
    3: [  # the claim's order (priority high to low, then oldest) read straight off the index, with no sort
        "DROP INDEX IF EXISTS ix_video_jobs_claim",
        "CREATE INDEX ix_video_jobs_claim_order ON video_jobs (status, priority DESC, id)",
    ],
    4: [  # trends from several sources: search traffic, a link, media type, and every source that reported it
        "ALTER TABLE trends ADD COLUMN traffic INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE trends ADD COLUMN url TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE trends ADD COLUMN is_video BOOLEAN",
        "ALTER TABLE trends ADD COLUMN sources JSON NOT NULL DEFAULT '[]'",
    ],
    5: [  # a provider's in-flight tasks and last minute's requests, counted at every reservation, read off indexes
        "CREATE INDEX IF NOT EXISTS ix_attempts_provider_state ON attempts (provider, state)",
        "CREATE INDEX IF NOT EXISTS ix_attempts_provider_started ON attempts (provider, started_at)",
    ],
    6: ["ALTER TABLE video_jobs ADD COLUMN timeline JSON"],  # the delivered video's scenes
    7: ["ALTER TABLE attempts ADD COLUMN scene INTEGER"],  # a clip for one scene of the Reel (NULL: the whole video)
    8: [],  # posts and publisher_tokens: create_all makes the new tables
    9: ["ALTER TABLE posts ADD COLUMN publish_at TIMESTAMP"],  # a slot the platform itself keeps (publishAt)
    10: [],  # notifications and their deliveries: create_all makes the new tables
    11: [],  # service_calls: create_all makes the new table
}

metadata = MetaData()

schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

trends = Table(
    "trends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedup_key", String(64), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("topic", Text, nullable=False),
    Column("caption", Text, nullable=False),
    Column("theme", String(64), nullable=False),
    Column("hashtags", JSON, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("views", Integer, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("traffic", Integer, nullable=False, server_default="0"),
    Column("url", Text, nullable=False, server_default=""),
    Column("is_video", Boolean),
    Column("sources", JSON, nullable=False, server_default="[]"),
)

# One row per trend source per collection: what it delivered or why not. A blocked source rests until `rest_until`
# (its circuit breaker, seen by every worker and every restart); the report lists the failures.
trend_source_runs = Table(
    "trend_source_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("ran_at", DateTime(timezone=True), nullable=False, index=True),
    Column("ok", Boolean, nullable=False),
    Column("trends", Integer, nullable=False),
    Column("from_cache", Boolean, nullable=False),
    Column("error", Text),
    Column("rest_until", DateTime(timezone=True)),
)

# What an LLM wrote for a trend and account, so a restart (or a second planning pass) never pays for it again.
llm_briefs = Table(
    "llm_briefs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cache_key", String(64), nullable=False, unique=True),  # trend, account, model and prompt version
    Column("model", String(128), nullable=False),
    Column("content", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Prompt analytics: how each job's prompt fared (passed, rewritten or rejected by the policy; then done or failed,
# and how), by theme, so themes and wordings that fail moderation show up.
prompt_outcomes = Table(
    "prompt_outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("video_jobs.id"), nullable=False, index=True),
    Column("account", String(64), nullable=False),
    Column("theme", String(64), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("verdict", String(16), nullable=False),  # passed | rewritten | rejected
    Column("policy_notes", Text),
    Column("outcome", String(16), nullable=False),  # done | failed | cancelled
    Column("error_class", String(32)),
    Column("provider", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Engagement snapshots per video, imported from Instagram insights (`metrics import`); the latest one per video is what
# the ROI report values. Re-importing the same snapshot replaces it rather than counting it twice.
engagement_metrics = Table(
    "engagement_metrics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("video_jobs.id"), nullable=False, index=True),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("views", Integer, nullable=False),
    Column("reach", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("saves", Integer, nullable=False),
    Column("shares", Integer, nullable=False),
    Column("follows", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("job_id", "captured_at"),
)

briefs = Table(
    "briefs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("trend_id", Integer, ForeignKey("trends.id"), nullable=False),
    Column("account", String(64), nullable=False),
    Column("template", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

video_jobs = Table(
    "video_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("brief_id", Integer, ForeignKey("briefs.id"), nullable=False),
    # One video per trend, ever: the unique key is what makes "never twice" hold even under races.
    Column("trend_key", String(64), nullable=False, unique=True),
    Column("account", String(64), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("status", String(32), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("aspect_ratio", String(8), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("quality", String(16), nullable=False, server_default="standard"),
    Column("not_before", DateTime(timezone=True)),  # a queued job waits until then (all its providers paused)
    # A running job belongs to the worker holding its lease; a lease not renewed in time lets another claim it.
    Column("lease_owner", String(96)),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("cancel_reason", Text),  # set by `cancel` for a running job; its worker stops at the next step
    Column("output_path", Text),
    Column("thumbnail_path", Text),
    Column("timeline", JSON),  # the delivered video's scenes (content/media/timeline.py), when its maker wrote them
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_video_jobs_claim_order", "status", text("priority DESC"), "id"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("video_jobs.id"), nullable=False, index=True),
    Column("provider", String(64), nullable=False),
    Column("provider_type", String(32), nullable=False),
    Column("scene", Integer),  # the scene of the Reel this attempt makes a clip for; NULL: the whole video
    # reserved → submitting → submitted → polling → downloading → optimizing → done | failed | cancelled
    Column("state", String(32), nullable=False),
    Column("provider_task_id", Text),  # a multi-part video lists its parts
    Column("progress", Float),
    Column("estimated_cost_usd", Float, nullable=False),
    Column("actual_cost_usd", Float),
    Column("error_class", String(32)),
    Column("error", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_attempts_provider_state", "provider", "state"),
    Index("ix_attempts_provider_started", "provider", "started_at"),
)

# Durable provider health: a rate-limit pause, a billing/auth disable, the circuit breaker's failure count.
provider_state = Table(
    "provider_state",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("paused_until", DateTime(timezone=True)),
    Column("pause_reason", Text),
    Column("disabled_until", DateTime(timezone=True)),
    Column("disable_reason", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
)

# One row per budget alert ever raised: the unique key is what makes "once per period per threshold" hold.
budget_alerts = Table(
    "budget_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(16), nullable=False),  # daily | monthly
    Column("period", String(10), nullable=False),  # 2026-11-21 | 2026-11
    Column("threshold_pct", Integer, nullable=False),
    Column("used_usd", Float, nullable=False),
    Column("cap_usd", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("scope", "period", "threshold_pct"),
)

# The running sum of the ledger per budget period ("day:2026-11-21", "month:2026-11"), kept in the same transaction
# as every ledger row: checking a cap reads one row instead of summing the period.
budget_totals = Table(
    "budget_totals",
    metadata,
    Column("period", String(16), primary_key=True),
    Column("amount_usd", Float, nullable=False),
)

# Append-only: a reservation, its release and the final charge are separate rows, never updates.
cost_ledger = Table(
    "cost_ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("video_jobs.id"), nullable=False, index=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_usd", Float, nullable=False),
    Column("budget_day", String(10), nullable=False, index=True),
    Column("budget_month", String(7), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A paid call that is no video's (a reference's transcript, its keyframes described): reserved → done | failed. Its
# estimate is added to budget_totals when reserved and replaced by what it cost when settled, so the daily and
# monthly caps hold it with the videos; one a stop left reserved stays counted at its estimate, and like one whose
# answer was lost, is not made again for its subject (it may have been billed).
service_calls = Table(
    "service_calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(32), nullable=False),  # transcript | keyframes
    Column("subject", String(64), nullable=False),  # what it was bought for: the video's digest
    Column("state", String(16), nullable=False),
    Column("estimated_cost_usd", Float, nullable=False),
    Column("actual_cost_usd", Float),
    Column("error_class", String(32)),  # `unknown`: its answer was lost, so it may have been billed
    Column("error", Text),
    Column("budget_day", String(10), nullable=False, index=True),
    Column("budget_month", String(7), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_service_calls_subject", "subject", "service"),
)

# A delivered video on one platform: scheduled → processing → publishing → published | failed. One row per job and
# platform, ever (the unique key is what makes "never posted twice" hold under races); leased like a running job.
posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("video_jobs.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("account", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),  # its slot, or the next look at it
    Column("lease_owner", String(96)),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("container_id", Text),  # the platform's handle on the video it is processing
    Column("container_at", DateTime(timezone=True)),  # when that container was made (it is given up after a timeout)
    Column("publish_sent", Boolean, nullable=False, default=False),  # a publish call went out: look before resending
    Column("media_id", Text),
    Column("permalink", Text),
    Column("tries", Integer, nullable=False, default=0),  # temporary failures in a row
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),  # when it went (or goes) public
    Column("publish_at", DateTime(timezone=True)),  # its slot, for a platform that holds an upload until then
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("job_id", "platform", name="uq_posts_job_platform"),
    Index("ix_posts_due", "state", "not_before"),
)

# What happened that someone asked to be told of (core/engine/notifications.py), and each destination's delivery.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),  # also the delivery's id a receiver deduplicates by
    Column("event", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notification_id", Integer, ForeignKey("notifications.id"), nullable=False),
    Column("destination", String(64), nullable=False),  # `webhook:<hash of its URL>`, `telegram:<chat>`
    Column("state", String(16), nullable=False),  # sent | retrying | failed
    Column("tries", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("notification_id", "destination", name="uq_deliveries_notification_destination"),
)

# When each account's platform token was last renewed (the token itself lives in the environment or .env only).
publisher_tokens = Table(
    "publisher_tokens",
    metadata,
    Column("publisher", String(96), primary_key=True),  # `instagram:mia_moves`
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
