"""Publishing: each delivered video posted once per platform, at the persona's next slot, crash-safe.

A post (`posts`, one row per job and platform: the unique key is the first guard against posting twice) goes
scheduled → processing → publishing → published. Each step is written before the call that follows it, under a
lease like a running job's: a worker whose lease ran out writes nothing more. The one call that posts (`publish`) is
preceded by `publish_sent`; a post found with it set (a crash, a lost answer, a lease taken over) asks the platform
whether its container was published, and finds the post, before anything is sent again — and a container publishes
once at most. Errors follow the engine's classes: a rate limit or a full quota waits, an auth error disables the
account's publishing until `enable <platform>:<account>`, a temporary one is tried again with backoff.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger
from sqlalchemy import Row, and_, bindparam, delete, insert, or_, select, update

from content.media.sidecar import paths as sidecar_paths
from content.publishers.contract import ContainerState, Publisher, PublishError, Reel
from content.publishers.hosting import MediaHost
from content.publishers.registry import publishers_of
from core.engine.notifications import EventName, notify
from core.engine.provider_health import ProviderHealth
from core.engine.queue import LeaseLost, holder_died_here
from core.engine.states import POST_OPEN, JobStatus, PostState
from core.errors import ErrorClass, InputError
from core.home import Home
from core.schema import posts, publisher_tokens, video_jobs
from core.secrets import Secrets
from core.settings import Account, Settings
from core.storage import Database, Transaction, as_utc, server_now, utcnow
from trends.posting_hours import best_hours

CAPTION_LIMIT = 2200  # Instagram's; the others allow more
HASHTAG_LIMIT = 30
TRIES = 8  # temporary failures in a row before a post fails
BACKOFF_FIRST_S = 5.0  # a temporary failure is tried again after 10 s, 20 s, 40 s...
BACKOFF_MAX_S = 3600.0
DISABLE_HOURS = 24 * 365  # an auth failure lasts until `enable`
TOKEN_RENEWAL = timedelta(days=7)  # how often a token that expires is renewed
HOLD_LEAD = timedelta(minutes=1)  # a slot closer than this is not worth holding a post for
AUTO_WINDOW = timedelta(days=1)  # auto_publish takes up videos finished this recently (not an old back catalogue)


@dataclass(frozen=True)
class PostRow:
    id: int
    job_id: int
    platform: str
    account: str
    state: str
    not_before: datetime
    container_id: str | None
    media_id: str | None
    permalink: str | None
    error: str | None
    publish_sent: bool  # the call that posts went out (it may have landed): looked up before anything is sent
    tries: int  # temporary failures in a row
    container_at: datetime | None
    publish_at: datetime | None  # its slot, for a platform that makes it public then itself

    @classmethod
    def of(cls, row: Row[Any]) -> "PostRow":
        return cls(row.id, row.job_id, row.platform, row.account, row.state, as_utc(row.not_before),
                   row.container_id, row.media_id, row.permalink, row.error, bool(row.publish_sent),
                   int(row.tries or 0), as_utc(row.container_at) if row.container_at else None,
                   as_utc(row.publish_at) if row.publish_at else None)


class Publishing:
    def __init__(self, settings: Settings, db: Database, secrets: Secrets, home: Home) -> None:
        self.settings = settings
        self.db = db
        self.secrets = secrets
        self.env_file = home.env_file  # where a renewed token is written
        self.patterns_dir = home.trend_reports_dir  # where the viral patterns' posting hours are read
        self.health = ProviderHealth(db)
        self.host = MediaHost(settings.app.media_hosting, secrets)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._publishers: dict[tuple[str, str], Publisher] = {}

    async def close(self) -> None:
        await asyncio.gather(*(publisher.close() for publisher in self._publishers.values()))

    # ---- scheduling ---------------------------------------------------------------------------------------------

    async def approve(self, job_id: int, platform: str | None = None, now: bool = False) -> list[PostRow]:
        """Schedule the finished job's video on each platform its persona publishes to (or `platform`): at the
        persona's next slot, or `now`. A post already there is left as it is (and returned)."""
        job = await self._finished_job(job_id)
        account = self._account(job.account)
        platforms = [p.platform for p in self._enabled(account)]
        if platform is not None:
            if platform not in platforms:
                raise InputError(f"job {job_id}: account {account.name} does not publish to {platform!r} "
                                 f"(it publishes to: {', '.join(platforms) or 'nothing'})")
            platforms = [platform]
        if not platforms:
            raise InputError(f"job {job_id}: account {account.name} publishes nowhere: set its "
                             "publishing.instagram.enabled in config/config.json")
        when = utcnow() if now else self.next_slot(account, utcnow())
        ahead = self._ahead(account)
        for name in platforms:
            await self.db.write(self._schedule_step(job_id, name, account.name, when, move_to=when if now else None,
                                                    ahead=name in ahead))
        rows = await self.db.fetch_all(select(posts).where(posts.c.job_id == job_id, posts.c.platform.in_(platforms)))
        return [PostRow.of(row) for row in rows]

    def _schedule_step(self, job_id: int, platform: str, account: str, when: datetime, move_to: datetime | None,
                       ahead: bool) -> Callable[[Transaction], Any]:
        """A post at `when` (or one already there moved to `move_to`); on a platform that schedules `ahead`, due
        at once, the platform keeping `when`."""
        async def step(conn: Transaction) -> None:
            existing = (await conn.execute(select(posts.c.id, posts.c.state).where(
                posts.c.job_id == job_id, posts.c.platform == platform))).first()
            stamp = utcnow()
            held = ahead and when > stamp
            if existing is None:
                await conn.execute(insert(posts).values(
                    job_id=job_id, platform=platform, account=account, state=PostState.SCHEDULED,
                    not_before=stamp if held else when, publish_at=when if held else None,
                    tries=0, publish_sent=False, created_at=stamp, updated_at=stamp))
            elif move_to is not None and existing.state == PostState.SCHEDULED:
                await conn.execute(update(posts).where(posts.c.id == existing.id)
                                   .values(not_before=move_to, publish_at=None, updated_at=stamp))

        return step

    async def schedule_finished(self) -> int:
        """auto_publish: every video finished in the last day by a persona that posts on its own, scheduled at the
        persona's next slot on each of its platforms (once: a job already scheduled is left alone)."""
        scheduled = 0
        since = utcnow() - AUTO_WINDOW
        for account in self.settings.app.accounts:
            platforms = [p.platform for p in self._enabled(account)] if account.publishing.auto_publish else []
            if not platforms:
                continue
            done = await self.db.fetch_all(select(video_jobs.c.id).where(
                video_jobs.c.account == account.name, video_jobs.c.status == JobStatus.DONE,
                video_jobs.c.updated_at >= since))
            have = {(r.job_id, r.platform) for r in await self.db.fetch_all(
                select(posts.c.job_id, posts.c.platform).where(posts.c.account == account.name))}
            slot, ahead = self.next_slot(account, utcnow()), self._ahead(account)
            for job in done:
                for platform in platforms:
                    if (job.id, platform) not in have:
                        await self.db.write(self._schedule_step(job.id, platform, account.name, slot, None,
                                                                platform in ahead))
                        scheduled += 1
                        logger.info(f"job {job.id}: scheduled on {platform} at {slot:%Y-%m-%d %H:%M} UTC")
        return scheduled

    def next_slot(self, account: Account, after: datetime) -> datetime:
        """The persona's first posting slot after `after` (slots are clock times in schedule.timezone, or its best
        hours; with none, `after` itself)."""
        times = self._slot_times(account)
        if not times:
            return after
        zone = ZoneInfo(self.settings.app.schedule.timezone)
        local = after.astimezone(zone)
        for days in (0, 1):
            day = local.date() + timedelta(days=days)
            for clock in times:
                candidate = datetime.combine(day, clock, tzinfo=zone)
                if candidate > local:
                    return candidate.astimezone(after.tzinfo)
        raise AssertionError("a slot comes within two days")

    def _slot_times(self, account: Account) -> list[clock_time]:
        """The persona's posting times: its best hours when it asks for them and the patterns know them, else its
        fixed slots."""
        config = account.publishing
        hours = best_hours(self.patterns_dir, config.best_hours) if config.best_hours else []
        if hours:
            return [clock_time(hour) for hour in hours]
        return sorted(clock_time(int(slot[:2]), int(slot[3:])) for slot in config.slots)  # HH:MM

    # ---- running posts ------------------------------------------------------------------------------------------

    async def run_due(self) -> list[PostRow]:
        """Advance every post that is due now, one at a time, each as far as it goes without waiting."""
        advanced = []
        for row in await self.db.fetch_all(select(posts.c.id).where(
                posts.c.state.in_(POST_OPEN), posts.c.not_before <= utcnow()).order_by(posts.c.not_before)):
            post = await self.advance(row.id)
            if post is not None:
                advanced.append(post)
        return advanced

    async def publish_now(self, job_id: int, platform: str | None = None, timeout_s: float | None = None
                          ) -> list[PostRow]:
        """`publish JOB`: the job's posts made due now and advanced, waiting through processing, until each is
        published or failed (or `timeout_s` passes: they stay scheduled for the daemon)."""
        pending = await self.approve(job_id, platform, now=True)
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while True:
            for post in pending:
                if post.state in POST_OPEN and post.not_before <= utcnow():
                    await self.advance(post.id)
            pending = [await self.post(post.id) for post in pending]
            waiting = [post for post in pending if post.state in POST_OPEN]
            if not waiting:
                return pending
            pause = max(0.05, min((p.not_before - utcnow()).total_seconds() for p in waiting))
            if deadline is not None and loop.time() + pause > deadline:
                return pending
            await asyncio.sleep(pause)

    async def all_posts(self) -> list[PostRow]:
        return [PostRow.of(row) for row in await self.db.fetch_all(select(posts).order_by(posts.c.id))]

    async def post(self, post_id: int) -> PostRow:
        return PostRow.of((await self.db.fetch_all(select(posts).where(posts.c.id == post_id)))[0])

    async def advance(self, post_id: int) -> PostRow | None:
        """Lease the post and take its steps until it must wait; None when another worker holds it or it is not
        due. Whatever goes wrong stays with this post: one line, and the next post goes on."""
        if not await self._claim(post_id):
            return None
        post = await self.post(post_id)
        try:
            await self._step_or_settle(post)
        except LeaseLost as exc:
            logger.warning(f"post {post_id}: {exc}; its new holder goes on")
            return await self.post(post_id)
        finally:
            await self._keep_replaced_tokens()
        await self._release(post.id)
        return await self.post(post_id)

    async def _step_or_settle(self, post: PostRow) -> None:
        """The post's steps; what they raise settles the post (a wait, a disable, a retry later or its end)."""
        try:
            await self._steps(post, self._publisher(post))
        except PublishError as exc:
            await self._failed_call(post, exc)
        except InputError as exc:  # the job's files are gone, or its persona no longer publishes there
            await self._fenced(post.id, state=PostState.FAILED, error=str(exc))
            logger.error(f"post {post.id} (job {post.job_id}, {post.platform}) failed: {exc}")
        except LeaseLost:
            raise
        except Exception as exc:  # a bug stays with its post: it is looked at again later, like a temporary error
            logger.opt(exception=exc).debug("the traceback")
            await self._failed_call(post, PublishError(f"unexpected {type(exc).__name__}: {exc}", ErrorClass.TEMPORARY))

    async def _steps(self, post: PostRow, publisher: Publisher) -> None:
        name = publisher_name(post.platform, post.account)
        blocked = (await self.db.retrying(self.health.unavailable)).get(name)
        if blocked is not None:
            await self._fenced(post.id, not_before=blocked[1], error=f"{name} {blocked[0]}")
            return
        state = PostState(post.state)
        if state == PostState.SCHEDULED:
            state = await self._create(post, publisher)
        if state == PostState.PROCESSING:
            state = await self._processing(await self.post(post.id), publisher)
        if state == PostState.PUBLISHING:
            await self._publishing(await self.post(post.id), publisher)

    async def _create(self, post: PostRow, publisher: Publisher) -> PostState:
        missing = publisher.missing_requirements() + (self.host.missing_requirements() if publisher.pulls_from_url
                                                       else [])
        if missing:
            raise PublishError(f"{post.platform} for {post.account} needs {', '.join(missing)}", ErrorClass.AUTH)
        quota = await publisher.quota()
        if quota is not None and quota.full:
            raise PublishError(f"{post.platform}: {quota.used} of {quota.total} posts in {quota.window_s / 3600:g} h "
                               "used", ErrorClass.RATE_LIMIT, retry_after_s=3600.0)
        reel = await self._reel(post, publisher)
        await self._renew(post.id)  # the upload may have taken a while
        container = await publisher.create(reel)
        await self._fenced(post.id, state=PostState.PROCESSING, container_id=container, container_at=utcnow(),
                           publish_sent=False, error=None)
        logger.info(f"post {post.id} (job {post.job_id}): {post.platform} has the video")  # its handle may be a
        # capability (an upload session's URL): it is kept in the post's row, not in the log
        return PostState.PROCESSING

    async def _processing(self, post: PostRow, publisher: Publisher) -> PostState:
        assert post.container_id is not None
        container = await publisher.state(post.container_id)
        if container.state == ContainerState.PROCESSING:
            started = post.container_at or utcnow()
            if (utcnow() - started).total_seconds() > publisher.processing_timeout_s:
                await self._fenced(post.id, state=PostState.FAILED,
                                   error=f"{post.platform} did not process the video in time")
                return PostState.FAILED
            await self._fenced(post.id, not_before=utcnow() + timedelta(seconds=publisher.poll_interval_s), tries=0)
            return PostState.PROCESSING
        if container.state == ContainerState.EXPIRED:
            await self._fenced(post.id, state=PostState.SCHEDULED, container_id=None, not_before=utcnow())
            logger.warning(f"post {post.id}: its container expired before it was published; a new one is made")
            return PostState.SCHEDULED
        if container.state == ContainerState.FAILED:
            await self._fenced(post.id, state=PostState.FAILED,
                               error=f"{post.platform} could not process the video: {container.detail}")
            logger.error(f"post {post.id} (job {post.job_id}) failed: {post.platform}: {container.detail}")
            return PostState.FAILED
        await self._fenced(post.id, state=PostState.PUBLISHING)
        return PostState.PUBLISHING

    async def _publishing(self, post: PostRow, publisher: Publisher) -> None:
        assert post.container_id is not None
        reel = await self._reel(post, publisher, hosted=False)
        if post.publish_sent:  # a publish went out before: did it land?
            container = await publisher.state(post.container_id)
            found = await publisher.find(post.container_id, reel)
            if found is None and container.state == ContainerState.PUBLISHED:
                raise PublishError(f"{post.platform}: the container is published but its post is not listed yet",
                                   ErrorClass.TEMPORARY)
            if found is not None:
                await self._published(post, publisher, found)
                return
            if container.state != ContainerState.READY:
                await self._fenced(post.id, state=PostState.PROCESSING)  # expired or failed: handled there
                return
        await self._fenced(post.id, publish_sent=True)  # written before the call that posts
        media_id = await publisher.publish(post.container_id, reel)
        await self._published(post, publisher, media_id)

    async def _published(self, post: PostRow, publisher: Publisher, media_id: str) -> None:
        # the post exists: record it even if this worker's lease has run out meanwhile (whoever holds it would only
        # find the same post), so its id is never lost
        permalink = (await publisher.posted(media_id)).permalink
        public = max(utcnow(), post.publish_at or utcnow())  # a post the platform holds goes public at its slot
        await self.db.write((update(posts).where(posts.c.id == post.id, posts.c.state != PostState.PUBLISHED).values(
            state=PostState.PUBLISHED, media_id=media_id, permalink=permalink, error=None, published_at=public,
            updated_at=utcnow()), {}))
        await self.health.succeeded(publisher_name(post.platform, post.account))
        logger.info(f"post {post.id} (job {post.job_id}) published on {post.platform}: {permalink or media_id}")
        await notify(self.db, EventName.POST_PUBLISHED, {
            "post_id": post.id, "job_id": post.job_id, "platform": post.platform, "account": post.account,
            "media_id": media_id, "permalink": permalink, "public_at": public.isoformat()})

    async def _failed_call(self, post: PostRow, exc: PublishError) -> None:
        post = await self.post(post.id)  # as this advance left it: a publish may have been sent meanwhile
        name = publisher_name(post.platform, post.account)
        message = self.secrets.redact(str(exc))
        if exc.error_class == ErrorClass.RATE_LIMIT:
            wait = exc.retry_after_s or 600.0
            await self.health.pause(name, wait, message)
            await self._fenced(post.id, not_before=utcnow() + timedelta(seconds=wait), error=message)
        elif exc.error_class in (ErrorClass.AUTH, ErrorClass.BILLING):
            reason = f"{message} (`enable {name}` once fixed)"
            await self.health.disable(name, DISABLE_HOURS, reason)
            await self._fenced(post.id, error=reason)
        elif exc.error_class == ErrorClass.TEMPORARY or post.publish_sent:
            # a publish that may have landed is never given up on blindly: it is looked up again
            tries = post.tries + 1
            if tries >= TRIES:  # each try began by asking whether the post had landed: it had not
                await self._fenced(post.id, state=PostState.FAILED, error=f"{message} ({tries} tries)")
                logger.error(f"post {post.id} (job {post.job_id}) failed after {tries} tries: {message}")
                return
            wait = min(BACKOFF_FIRST_S * 2 ** tries, BACKOFF_MAX_S)
            await self._fenced(post.id, tries=tries, not_before=utcnow() + timedelta(seconds=wait), error=message)
            logger.warning(f"post {post.id}: {message}; tried again in {wait:.0f} s")
        else:
            await self._fenced(post.id, state=PostState.FAILED, error=message)
            logger.error(f"post {post.id} (job {post.job_id}) failed: {message}")

    # ---- tokens -------------------------------------------------------------------------------------------------

    async def refresh_tokens(self) -> None:
        """Renew each account's token where its platform allows, a week after the last renewal (Instagram's last 60
        days): written to .env and used at once. A refusal is one line; the token in use stays as it was."""
        now = utcnow()
        renewed = {row.publisher: as_utc(row.refreshed_at)
                   for row in await self.db.fetch_all(select(publisher_tokens))}
        for account in self.settings.app.accounts:
            for publisher in self._enabled(account):
                name = publisher_name(publisher.platform, account.name)
                if name in renewed and now - renewed[name] < TOKEN_RENEWAL:
                    continue
                try:
                    fresh = await publisher.refreshed_token()
                except PublishError as exc:
                    logger.warning(f"{name}: its token was not renewed ({self.secrets.redact(str(exc))})")
                    continue
                finally:
                    await publisher.close()
                if fresh is not None:
                    await self._keep_token(name, publisher, *fresh)

    async def _keep_replaced_tokens(self) -> None:
        """Save at once a token a platform replaced while it was called (TikTok may rotate its refresh token, and
        the one in .env then stops working)."""
        for (platform, account), publisher in self._publishers.items():
            replaced = publisher.replaced_token()
            if replaced is not None:
                await self._keep_token(publisher_name(platform, account), publisher, *replaced)

    async def _keep_token(self, name: str, publisher: Publisher, token: str, lasts_s: float) -> None:
        now = utcnow()
        self.secrets.renew(publisher.token_name, token, self.env_file, time.time() + lasts_s)
        expires = now + timedelta(seconds=lasts_s)
        await self.db.write(self._token_renewed(name, now, expires))
        logger.info(f"{name}: token renewed in {self.env_file.name}, good until {expires:%Y-%m-%d} UTC")

    def _token_renewed(self, name: str, now: datetime, expires: datetime) -> Callable[[Transaction], Any]:
        async def step(conn: Transaction) -> None:
            await conn.execute(delete(publisher_tokens).where(publisher_tokens.c.publisher == name))
            await conn.execute(insert(publisher_tokens).values(publisher=name, refreshed_at=now, expires_at=expires))

        return step

    # ---- the video, as a platform is given it -------------------------------------------------------------------

    async def _reel(self, post: PostRow, publisher: Publisher, hosted: bool = True) -> Reel:
        job = (await self.db.fetch_all(select(video_jobs.c.output_path, video_jobs.c.thumbnail_path)
                                       .where(video_jobs.c.id == post.job_id)))[0]
        video = Path(job.output_path or "")
        if not video.is_file():
            raise InputError(f"job {post.job_id}: its video {video} is gone")
        cover = Path(job.thumbnail_path) if job.thumbnail_path and Path(job.thumbnail_path).is_file() else None
        caption = caption_of(video)
        # a slot already passed (the upload waited on a pause): posted as the platform's privacy says, now
        publish_at = post.publish_at if post.publish_at and post.publish_at > utcnow() + HOLD_LEAD else None
        if not (hosted and publisher.pulls_from_url):
            return Reel(video, cover, caption, publish_at=publish_at)
        video_url = await self.host.link(video, f"{post.job_id}-{post.platform}.mp4", "video/mp4")
        cover_url = await self.host.link(cover, f"{post.job_id}-{post.platform}.jpg", "image/jpeg") if cover else ""
        return Reel(video, cover, caption, video_url, cover_url, publish_at=publish_at)

    # ---- the post's row, under its lease ------------------------------------------------------------------------

    async def _claim(self, post_id: int) -> bool:
        async def claim(conn: Transaction) -> bool:
            holder = (await conn.execute(select(posts.c.lease_owner).where(posts.c.id == post_id)
                                         .with_for_update())).scalar()
            free = or_(posts.c.lease_owner.is_(None), posts.c.lease_expires_at < server_now())
            if holder is not None and holder_died_here(holder):  # a process of this host killed while it held it
                free = or_(free, posts.c.lease_owner == holder)
            result = await conn.execute(update(posts).where(
                posts.c.id == post_id, posts.c.state.in_(POST_OPEN), posts.c.not_before <= utcnow(), free,
            ).values(lease_owner=self.owner, lease_expires_at=server_now(self.settings.video.lease_s)))
            return result.rowcount == 1

        return await self.db.retrying(claim)

    async def _fenced(self, post_id: int, **values: Any) -> None:
        """Write `values` to the post only while this worker's lease on it holds (else LeaseLost, nothing written);
        the lease is renewed with it."""
        async def write(conn: Transaction) -> None:
            result = await conn.execute(update(posts).where(posts.c.id == post_id, _HELD).values(
                **values, lease_expires_at=server_now(self.settings.video.lease_s), updated_at=utcnow()),
                {"owner": self.owner})
            if result.rowcount != 1:
                raise LeaseLost(f"this worker's lease on post {post_id} ran out")

        await self.db.retrying(write)

    async def _renew(self, post_id: int) -> None:
        await self._fenced(post_id)

    async def _release(self, post_id: int) -> None:
        await self.db.write((update(posts).where(posts.c.id == post_id, posts.c.lease_owner == self.owner)
                             .values(lease_owner=None, lease_expires_at=None), {}))

    # ---- settings -----------------------------------------------------------------------------------------------

    def _account(self, name: str) -> Account:
        found = [a for a in self.settings.app.accounts if a.name == name]
        if not found:
            raise InputError(f"account {name!r} is no longer in config/config.json")
        return found[0]

    def _enabled(self, account: Account) -> list[Publisher]:
        return publishers_of(account, self.secrets)

    def _ahead(self, account: Account) -> set[str]:
        """The account's platforms that keep a post until its slot themselves."""
        return {publisher.platform for publisher in self._enabled(account) if publisher.schedules_ahead}

    def _publisher(self, post: PostRow) -> Publisher:
        key = (post.platform, post.account)
        if key not in self._publishers:
            found = [p for p in self._enabled(self._account(post.account)) if p.platform == post.platform]
            if not found:
                raise InputError(f"account {post.account} no longer publishes to {post.platform}")
            self._publishers[key] = found[0]
        return self._publishers[key]

    def look_every_s(self, longest: float) -> float:
        """How often posts should be looked at: as often as an account's platform asks, `longest` at most."""
        return min([longest, *(p.poll_interval_s for a in self.settings.app.accounts for p in self._enabled(a))])

    async def _finished_job(self, job_id: int) -> Row[Any]:
        rows = await self.db.fetch_all(select(video_jobs.c.account, video_jobs.c.status)
                                       .where(video_jobs.c.id == job_id))
        if not rows:
            raise InputError(f"no job {job_id}")
        if rows[0].status != JobStatus.DONE:
            raise InputError(f"job {job_id} is {rows[0].status}: only a finished video can be published")
        job: Row[Any] = rows[0]
        return job


def publisher_name(platform: str, account: str) -> str:
    """How an account's publishing is paused or disabled (beside the video providers): `instagram:mia_moves`."""
    return f"{platform}:{account}"


def caption_of(video: Path) -> str:
    """The post's caption, from the video's sidecar (content/media/sidecar.py): its text, then its hashtags (30 at
    most), within the caption limit."""
    as_json, _ = sidecar_paths(video)
    try:
        post = json.loads(as_json.read_text(encoding="utf-8"))
        text, tags = str(post["caption"]), [str(tag) for tag in post["hashtags"]][:HASHTAG_LIMIT]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{as_json}: cannot read the post's caption ({type(exc).__name__})") from None
    hashtags = " ".join(f"#{tag}" for tag in tags)
    return f"{text[:CAPTION_LIMIT - len(hashtags) - 2]}\n\n{hashtags}" if hashtags else text[:CAPTION_LIMIT]


_HELD = and_(posts.c.lease_owner == bindparam("owner"), posts.c.lease_expires_at > server_now())
