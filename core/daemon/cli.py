"""The commands of `main.py`, each over the daemon's rooms; README.md explains them."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from loguru import logger
from sqlalchemy.exc import DBAPIError

from content.media.credentials import ContentSigner
from content.media.gallery import render_gallery
from content.media.platforms import platform_spec
from content.media.preflight import failures, preflight
from content.media.reference import Analysis, Extras, analyze, write_comparison, write_report
from content.media.similarity import similarity
from content.providers import build_providers, provider_params
from content.providers.catalogue import print_models
from core.daemon.console import console_app
from core.daemon.daemon import Daemon
from core.daemon.provider_test import alone, try_provider
from core.engine import queue
from core.engine.analysis_purchases import AnalysisPurchases, missing_key
from core.engine.ledger import Ledger
from core.engine.publishing import PostRow, publisher_name
from core.engine.retention import expired_references, expired_videos
from core.engine.states import Cancellation, JobStatus, PostState
from core.engine.status import budget_view, job_result, job_rows, print_status
from core.engine.worker import stop_on_signals
from core.errors import ConfigError, DaemonError, InputError, MediaError, machine_fault
from core.home import PROJECT_ROOT, Home
from core.logs import setup_logging
from core.progress import progress_view
from core.secrets import Secrets
from core.settings import Settings, Style, load_settings
from core.storage import Database, database_url, is_outage, one_line
from trends.collector import latest_runs
from trends.view import candidate_records, print_trends


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; a DaemonError or a fault of the machine is one line on stderr and its exit code."""
    home = Home.at(args.home)
    secrets = Secrets.load(home.env_file)
    try:
        if args.command == "init":
            return init_home(home)
        if args.command == "check":
            return asyncio.run(check_video(args.video, args.platform, args.json))
        if args.command == "providers" and args.providers_command == "models":
            print_models(args.json)
            return 0
        quiet = getattr(args, "json", False)
        setup_logging(home, secrets, verbose=args.verbose, quiet=quiet)
        if args.command == "gallery":
            return asyncio.run(draw_gallery(home, args.account, args.out))
        if args.command == "analyze":
            return asyncio.run(analyze_video(home, secrets, args.video, args.json))
        if args.command == "compare":
            return asyncio.run(compare_videos(home, args.reference, args.video, args.json))
        settings = load_settings(home, provider_params())
        if args.command == "config":
            return asyncio.run(check_config(home, settings, secrets))
        if args.command == "providers":
            return asyncio.run(with_daemon(home, alone(settings, args.name), secrets,
                                           lambda daemon: try_provider(daemon, args.name, args.yes)))
        return asyncio.run(with_daemon(home, settings, secrets, lambda o: COMMANDS[args.command](o, args)))
    except DaemonError as exc:
        print(f"error: {secrets.redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `main.py status | head`: the reader has what it wanted; nothing more to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, DBAPIError, sqlite3.Error) as exc:  # the machine's faults are one line; a bug keeps its traceback
        problem = machine_fault(exc) or (f"the database is unavailable: {one_line(exc)}" if is_outage(exc) else None)
        if problem is None:
            raise
        print(f"error: {secrets.redact(problem)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


async def with_daemon(
    home: Home, settings: Settings, secrets: Secrets, command: Callable[[Daemon], Awaitable[int]]
) -> int:
    db = await Database.open(database_url(home, secrets))
    try:
        daemon = Daemon(home, settings, db, build_providers(settings.video, secrets, home.data_dir),
                                           secrets)
        try:
            return await command(daemon)
        finally:
            await daemon.close()
    finally:
        await db.close()


async def run_once(daemon: Daemon, args: argparse.Namespace) -> int:
    progress = progress_view(enabled=not args.json)
    try:
        result = await daemon.run_cycle(progress)
    finally:
        progress.close()
    videos = [
        {"job_id": o.job_id, "trend": o.topic, "path": str(o.path), "thumbnail": str(o.thumbnail),
         "duration_s": round(o.duration_s, 3), "cost_usd": o.cost_usd, "provider": o.provider}
        for o in result.outcomes if o.status == JobStatus.DONE
    ]
    if args.json:
        failed = [{"job_id": o.job_id, "trend": o.topic, "status": o.status, "error": o.error}
                  for o in result.outcomes if o.status != JobStatus.DONE]
        print(json.dumps({"videos": videos, "failed": failed, "report": str(result.report)}))
    else:
        for video in videos:
            print(f"{video['path']}  ({video['duration_s']:.1f} s, {video['provider']}, ${video['cost_usd']:.2f})")
        for outcome in result.outcomes:
            if outcome.status != JobStatus.DONE:
                print(f"job {outcome.job_id} {outcome.status}: {outcome.error}", file=sys.stderr)
        print(f"report: {result.report}")
    return 1 if result.failed else 0


async def run_daemon(daemon: Daemon, _args: argparse.Namespace) -> int:
    """The daemon, with the operator console beside it when `console.enabled` says so."""
    settings = daemon.settings.app.console
    runner = await start_console(daemon, settings.host, settings.port) if settings.enabled else None
    try:
        await daemon.run_forever()
    finally:
        if runner is not None:
            await runner.cleanup()
    return 0


async def generate_video(daemon: Daemon, args: argparse.Namespace) -> int:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise InputError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
    job_id = await daemon.planner.enqueue_prompt(args.prompt, args.account, args.priority, args.quality, args.duration,
                                                 args.aspect, args.like)
    if not args.wait:
        status = (await queue.job_state(daemon.db, job_id)).status  # awaiting approval, for a reviewed persona
        print(json.dumps({"id": job_id, "status": status}) if args.json else
              f"queued job {job_id}" + (" (its brief awaits approval in the console)"
                                        if status == JobStatus.AWAITING_APPROVAL else ""))
        return 0
    progress = progress_view(enabled=not args.json)
    try:
        outcome = await daemon.worker.run_job(job_id, progress, args.timeout)
    finally:
        progress.close()
    result = await job_result(daemon.db, outcome)
    report = daemon.home.data_dir / "analysis" / outcome.path.stem if args.like and outcome.path else None
    if report is not None and (report / "similarity.json").is_file():
        result["similarity"] = json.loads((report / "similarity.json").read_text(encoding="utf-8"))["similarity"]
        result["similarity_page"] = str(report / "compare.html")
    if args.json:
        print(json.dumps(result))
    elif outcome.status == JobStatus.DONE:
        print(f"{outcome.path}  ({outcome.duration_s:.1f} s, {outcome.provider}, ${outcome.cost_usd:.2f})")
        if "similarity" in result:
            parts = ", ".join(f"{name} {value:.0%}" for name, value in result["similarity"]["parts"].items())
            print(f"like {args.like.name}: {result['similarity']['overall']:g} / 100 ({parts}); "
                  f"page: {result['similarity_page']}")
    else:
        print(f"job {job_id} {outcome.status}: {outcome.error}", file=sys.stderr)
    return 0 if outcome.status == JobStatus.DONE else 1


async def run_worker(daemon: Daemon, args: argparse.Namespace) -> int:
    progress = progress_view(enabled=True)
    try:
        outcomes = await daemon.worker.work(args.drain, progress)
    finally:
        progress.close()
    done = sum(o.status == JobStatus.DONE for o in outcomes)
    print(f"worker stopped: {done} done, {len(outcomes) - done} not done")
    return 0


async def cancel_job(daemon: Daemon, args: argparse.Namespace) -> int:
    result = await daemon.worker.cancel(args.job_id, args.reason)
    print(f"job {args.job_id} cancelled" if result == Cancellation.CANCELLED
          else f"job {args.job_id} is running: its worker stops it, and releases its budget, at the next step")
    return 0


async def retry_job(daemon: Daemon, args: argparse.Namespace) -> int:
    made = await daemon.planner.retry(args.job_id)
    print(f"job {args.job_id} retried as job {made}")
    return 0


async def enable_provider(daemon: Daemon, args: argparse.Namespace) -> int:
    platform, _, account = args.provider.partition(":")
    if account:  # an account's publishing, disabled by an auth error
        if account not in {a.name for a in daemon.settings.app.accounts}:
            raise ConfigError("config/config.json", f"no account named {account!r}", "accounts")
        await daemon.publishing.health.enable(publisher_name(platform, account))
        print(f"{args.provider}: publishing enabled again; its posts are tried at their next look")
        return 0
    if args.provider not in daemon.settings.video.providers:
        raise ConfigError("config/video_config.json", f"no provider named {args.provider!r}",
                          "video_generation.providers")
    woken = await daemon.worker.enable(args.provider)
    print(f"provider {args.provider} enabled: its pause, disable and failure count are cleared; {woken} waiting "
          f"job(s) looked at again")
    return 0


async def approve_job(daemon: Daemon, args: argparse.Namespace) -> int:
    for post in await daemon.publishing.approve(args.job_id):
        slot = post.publish_at or post.not_before
        print(f"job {post.job_id}: {post.platform} {post.state}" + (
            f" for {slot:%Y-%m-%d %H:%M} UTC" if post.state == PostState.SCHEDULED else "") + (
            f" (uploaded now; {post.platform} makes it public then)" if post.publish_at else ""))
    return 0


async def publish_job(daemon: Daemon, args: argparse.Namespace) -> int:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise InputError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
    made = await daemon.publishing.publish_now(args.job_id, args.platform, args.timeout)
    if args.json:
        print(json.dumps({"posts": [post_record(post) for post in made]}))
    for post in made if not args.json else []:
        if post.state == PostState.PUBLISHED:
            print(f"job {post.job_id}: published on {post.platform}: {post.permalink or post.media_id}")
        else:
            print(f"job {post.job_id}: {post.platform} {post.state}: {post.error or 'waiting'}", file=sys.stderr)
    return 0 if all(post.state == PostState.PUBLISHED for post in made) else 1


async def list_posts(daemon: Daemon, args: argparse.Namespace) -> int:
    records = [post_record(post) for post in await daemon.publishing.all_posts()]
    if args.json:
        print(json.dumps({"posts": records}))
        return 0
    for r in records:
        shown = r["permalink"] or r["error"] or f"next look {r['not_before']}"
        print(f"post {r['id']}  job {r['job_id']}  {r['account']}  {r['platform']}  {r['state']}  {shown}")
    if not records:
        print("no posts yet: `approve JOB` schedules one, `publish JOB` posts one now")
    return 0


async def pull_post_insights(daemon: Daemon, _args: argparse.Namespace) -> int:
    result = await daemon.pull_insights(due_only=False)
    print(f"insights read for {result.pulled} post(s)")
    for line in result.failed:
        print(line, file=sys.stderr)
    return 1 if result.failed else 0


async def clean_up(daemon: Daemon, args: argparse.Namespace) -> int:
    if args.dry_run:
        expired = await expired_videos(daemon.db, daemon.settings)
        references = expired_references(daemon.home.references_dir, daemon.settings)
    else:
        expired, references = await daemon.remove_expired()
    verb = "would remove" if args.dry_run else "removed"
    for video in expired:
        shown = [daemon.home.display(path) for path in video.files] + [f"hosted {name}" for name in video.hosted]
        print(f"job {video.job_id}: {verb} {', '.join(shown)}")
    for kept in references:
        print(f"reference {kept.name}: {verb} {daemon.home.display(kept)} (unused)")
    days = daemon.settings.app.retention_days
    print(f"{len(expired)} video(s) past retention ({days} days)" if days else "retention_days is 0: nothing expires")
    return 0


def post_record(post: PostRow) -> dict[str, object]:
    return {"id": post.id, "job_id": post.job_id, "account": post.account, "platform": post.platform,
            "state": post.state, "not_before": post.not_before.isoformat(),
            "publish_at": post.publish_at.isoformat() if post.publish_at else None, "media_id": post.media_id,
            "permalink": post.permalink, "error": post.error}


async def show_status(daemon: Daemon, args: argparse.Namespace) -> int:
    ledger = daemon.ledger
    jobs, budget = await job_rows(ledger), await budget_view(ledger)
    if args.json:
        print(json.dumps({"jobs": jobs, "budget": budget}))
    else:
        print_status(jobs, budget)
    return 0


async def show_trends(daemon: Daemon, args: argparse.Namespace) -> int:
    if args.refresh:
        await daemon.planner.collect_trends(refresh=True)
    records = candidate_records(await daemon.planner.candidates())
    runs = await latest_runs(daemon.db)
    if args.json:
        print(json.dumps({"trends": records, "sources": runs}, ensure_ascii=False))
    else:
        print_trends(records, runs)
    return 0


async def write_analytics_report(daemon: Daemon, args: argparse.Namespace) -> int:
    from analytics.reports import build_report, save_report  # pandas and matplotlib: loaded for this command only
    from analytics.view import print_summary

    if args.days < 1:
        raise InputError(f"--days {args.days}: give 1 or more")
    report = await build_report(daemon.analytics(), args.days)
    paths = await save_report(report, daemon.home.reports_dir, (args.format,) if args.format else
                              ("html", "csv", "json"))
    print_summary(report)
    print(f"report: {paths[0]}")
    return 0


async def import_engagement(daemon: Daemon, args: argparse.Namespace) -> int:
    from analytics.engagement import import_metrics

    result = await import_metrics(daemon.db, args.file)
    print(f"{args.file}: imported metrics for {result.imported} video(s)")
    if result.unmatched:
        print(f"skipped {len(result.unmatched)} row(s) that name no video made here: "
              f"{'; '.join(result.unmatched[:10])}{' …' if len(result.unmatched) > 10 else ''}")
    return 0


SHUTDOWN_S = 5.0  # open event streams are closed this long after a stop


async def serve_console(daemon: Daemon, args: argparse.Namespace) -> int:
    """The operator console until SIGTERM or Ctrl-C (core/daemon/console.py)."""
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: give a port from 1 to 65535")
    runner = await start_console(daemon, args.host, args.port)
    try:
        await stop_on_signals().wait()
    finally:
        await runner.cleanup()
    return 0


async def start_console(daemon: Daemon, host: str, port: int) -> web.AppRunner:
    """The console listening on host:port, behind CONSOLE_TOKEN (one line and exit 2 without one)."""
    token = daemon.secrets.get("CONSOLE_TOKEN")
    if not token or len(token) < 16:
        raise InputError("console: set CONSOLE_TOKEN (16 characters or more) in the environment or .env: the "
                         "console's bearer token")
    runner = web.AppRunner(console_app(daemon, token), access_log=None, shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise InputError(f"console: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    print(f"console: http://{host}:{port}/ (the dashboard; the API under /api/ with "
          "Authorization: Bearer $CONSOLE_TOKEN)", flush=True)
    return runner


COMMANDS: dict[str, Callable[[Daemon, argparse.Namespace], Awaitable[int]]] = {
    "once": run_once,
    "run": run_daemon,
    "generate": generate_video,
    "worker": run_worker,
    "status": show_status,
    "trends": show_trends,
    "report": write_analytics_report,
    "metrics": import_engagement,
    "cancel": cancel_job,
    "retry": retry_job,
    "enable": enable_provider,
    "approve": approve_job,
    "publish": publish_job,
    "posts": list_posts,
    "insights": pull_post_insights,
    "cleanup": clean_up,
    "serve": serve_console,
}


async def analyzed(home: Home, video: Path, extras: Extras | None = None) -> tuple[Analysis, Path]:
    """`video` analysed (with `extras`, the paid parts, added) and written to data/analysis/<name>/ (analysis.json,
    index.html, keyframes/)."""
    if not video.is_file():
        raise InputError(f"{video}: no such file")
    try:
        analysis = await analyze(video, home.work_dir)
        return await write_report(analysis, video, home.data_dir / "analysis" / video.stem, extras)
    except MediaError as exc:
        raise InputError(str(exc)) from None


@contextlib.asynccontextmanager
async def analysis_purchases(home: Home, secrets: Secrets) -> AsyncIterator[Extras | None]:
    """What adds the paid parts to `analyze`'s analysis, under the budget, when the home's config enables any (with
    none, `analyze` needs no config, and works in any folder)."""
    if not home.config_file.is_file():
        yield None
        return
    settings = load_settings(home, provider_params())
    if not settings.app.analysis.buys_any:
        yield None
        return
    db = await Database.open(database_url(home, secrets))
    try:
        yield AnalysisPurchases(Ledger(db, settings.video.budget), settings.app.analysis, secrets,
                                home.paid_analysis_dir).add_to
    finally:
        await db.close()


async def compare_videos(home: Home, reference: Path, video: Path, as_json: bool) -> int:
    """How alike `video` is to `reference`: each part and the overall score, with both side by side in a page."""
    (ours, _), (theirs, _) = await analyzed(home, reference), await analyzed(home, video)
    result = similarity(dataclasses.asdict(ours), dataclasses.asdict(theirs))
    page = write_comparison(ours, theirs, result, home.data_dir / "analysis" / video.stem,
                            home.data_dir / "analysis" / reference.stem)
    if as_json:
        print(json.dumps({"reference": reference.name, "video": video.name, **dataclasses.asdict(result),
                          "page": str(page)}))
        return 0
    print(f"{video.name} against {reference.name}: {result.overall:g} / 100")
    print("  " + ", ".join(f"{name} {value:.0%}" for name, value in result.parts.items()))
    print(f"page: {page}")
    return 0


async def analyze_video(home: Home, secrets: Secrets, video: Path, as_json: bool) -> int:
    async with analysis_purchases(home, secrets) as extras:
        analysis, page = await analyzed(home, video, extras)
    if as_json:
        print(json.dumps({**dataclasses.asdict(analysis), "page": str(page)}))
        return 0
    rhythm = analysis.rhythm
    print(f"{video.name}: {analysis.duration_s} s, {analysis.width}x{analysis.height} at {analysis.fps:g} fps")
    print(f"shots: {rhythm['shots']} (median {rhythm['median_s']} s, {rhythm['shortest_s']}–{rhythm['longest_s']} s, "
          f"variation {rhythm['variation']}); cuts at {', '.join(f'{c:g}' for c in analysis.cuts_s) or 'none'} s")
    for number, shot in enumerate(analysis.shots, 1):
        colours = " ".join(colour for colour, _ in shot["palette"])
        print(f"  {number:>2}  {shot['start_s']:>7.2f}–{shot['end_s']:<7.2f} {colours:<23} brightness "
              f"{shot['brightness']:.2f}  contrast {shot['contrast']:.2f}  {shot['camera']}")
    tempo = f"{analysis.tempo_bpm:g} bpm" if analysis.tempo_bpm else "no music tempo"
    loud = f"{analysis.loudness_lufs:.1f} LUFS" if analysis.loudness_lufs is not None else "silent"
    shares = analysis.sound
    heard = f", speech {shares['speech']:.0%}, music {shares['music']:.0%}" if shares else ""
    print(f"sound: {loud}, {tempo}{heard}")
    if analysis.transcript:
        print(f"transcript: {analysis.transcript['text']}")
    for described in (analysis.keyframes or {}).get("shots", []):
        print(f"  shot {described['shot']:>2}: {described['description']}")
    print(f"page: {page}")
    return 0


async def check_video(path: Path, platform: str, as_json: bool) -> int:
    """Exit 0 when every rule passes, 1 when any fails; a missing or unreadable file is bad input (exit 2)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        results = await preflight(path, platform_spec(platform))
    except MediaError as exc:
        raise InputError(str(exc)) from None
    passed = not failures(results)
    if as_json:
        rules = [{"rule": r.rule, "passed": r.passed, "measured": r.measured, "expected": r.expected} for r in results]
        print(json.dumps({"video": str(path), "platform": platform, "passed": passed, "rules": rules}))
    else:
        width = max(len(r.rule) for r in results)
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.rule:<{width}}  {r.measured}  (needs {r.expected})")
        print(f"{path.name}: {'ready for' if passed else 'NOT ready for'} {platform}")
    return 0 if passed else 1


async def draw_gallery(home: Home, account: str | None, out: Path | None) -> int:
    """The style gallery of `account`'s style (from the config), or of the sample config's look, which needs no
    config; its path is printed."""
    style = Style(font="Anton", uppercase=True)
    if account is not None:
        settings = load_settings(home, provider_params())
        found = [a for a in settings.app.accounts if a.name == account]
        if not found:
            names = ", ".join(a.name for a in settings.app.accounts)
            raise InputError(f"--account: no account named {account!r} (the accounts: {names})")
        style = found[0].style
    progress = progress_view(enabled=True)
    progress.add(0, "style gallery")
    try:
        sheet = await render_gallery(style, home, out or home.data_dir / "gallery.png",
                                     lambda fraction: progress.update(0, "drawing", fraction))
    finally:
        progress.close()
    print(sheet)
    return 0


async def check_config(home: Home, settings: Settings, secrets: Secrets) -> int:
    """Print what the daemon will use; secrets appear only as set/missing, URLs with their password masked. Exit 2
    when the database cannot be opened or no enabled provider can make a video."""
    effective = {"config.json": settings.app.model_dump(mode="json"),
                 "video_config.json": {"video_generation": settings.video.model_dump(mode="json")}}
    print(secrets.redact(json.dumps(effective, indent=2)))  # a webhook's or a proxy's URL may carry a password
    print(f"\nhome: {home.root}")
    url = database_url(home, secrets)
    await (await Database.open(url)).close()  # an unusable DATABASE_URL is one line and exit 2 (1: unreachable)
    print(f"database: {secrets.redact(url)} (opened)")
    credentials = settings.app.content_credentials
    if ContentSigner.configured(credentials, secrets, home.root) is not None:  # a bad key: one line, exit 2
        print(f"content credentials: videos signed with {credentials.certificate}")
    print("providers (in failover order):")
    providers = build_providers(settings.video, secrets, home.data_dir)
    order = settings.video.provider_order()
    ready = [name for name in order if not providers[name].missing_requirements() and
             providers[name].misconfigured() is None]
    for name in order + [n for n in providers if n not in order]:
        provider = providers[name]
        missing, refusal = provider.missing_requirements(), provider.misconfigured()
        states = (["disabled"] if name not in order else []) + ([f"missing {', '.join(missing)}"] if missing else []) \
            + ([f"cannot run as configured: {refusal}"] if refusal else [])
        state = "; ".join(states) or "ready"
        warning = f" — DEPRECATED: {provider.deprecated}" if provider.deprecated else ""
        print(f"  {name} (type {provider.type_name}): {state}{warning}")
    for name, part in settings.app.analysis.parts.items():
        if part.enabled:
            unset = missing_key(part, secrets)
            print(f"paid analysis {name} ({part.model} at {part.base_url}): "
                  f"{'ready' if unset is None else f'missing {unset}'}")
    if not ready:
        print(f"config NOT OK: no enabled provider is ready ({', '.join(order) or 'none enabled'}): jobs would wait "
              "for one; set its key in the environment or .env, or enable another")
        return 2
    logger.debug("config check passed")
    print("config OK")
    return 0


def init_home(home: Home) -> int:
    """Copy the shipped sample config and trends into a new home; existing files are left alone."""
    written = []
    for relative in ("config/config.json", "config/video_config.json", "data/trends"):
        source, target = PROJECT_ROOT / relative, home.root / relative
        if source.resolve() == target.resolve() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        written.append(relative)
    for folder in (home.logs_dir, home.data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    print(f"{home.root}: wrote {', '.join(written) if written else 'nothing (files already there)'}")
    return 0

