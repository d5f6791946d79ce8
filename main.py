"""Command line: `python main.py [--home DIR] COMMAND ...`; `--help` lists the commands, README.md explains them.

Only the parser loads here: the daemon (core/daemon/cli.py) is imported once the arguments are read, so `--help`
and a mistyped option answer at once."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from content.media.platforms import PLATFORMS


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="AI influencer video production daemon")
    parser.add_argument("--home", metavar="DIR", help="folder holding config/, data/ and logs/ (default: project root)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("init", help="write the sample config and trends into --home (never overwrites)")
    config = commands.add_parser("config", help="configuration tools")
    config.add_subparsers(dest="config_command", required=True, metavar="ACTION").add_parser(
        "check", help="validate both config files and print the effective config, secrets masked"
    )
    once = commands.add_parser("once", help="run one full cycle, then exit")
    once.add_argument("--json", action="store_true", help="print one JSON object with the videos and report path")
    commands.add_parser("run", help="run the daemon on its schedule until SIGTERM/SIGINT")
    generate = commands.add_parser("generate", help="queue a video from a prompt (--wait: make it now)")
    generate.add_argument("prompt", help="what the video is about")
    generate.add_argument("--priority", type=int, default=0, help="higher runs first (default 0)")
    generate.add_argument("--quality", choices=["standard", "hd", "premium"], default="standard")
    generate.add_argument("--aspect", choices=["9:16", "16:9", "1:1", "4:5", "21:9"], default=None,
                          help="the frame: for the first listed platform of that shape (default: the first platform)")
    generate.add_argument("--duration", type=float, metavar="S", help="seconds (default: content.default_duration_s)")
    generate.add_argument("--account", metavar="NAME", help="persona (default: the first account)")
    generate.add_argument("--like", type=Path, metavar="VIDEO", help="follow this reference video's shots, colours, "
                          "music tempo and caption pace (kept in data/references/; a similarity report follows)")
    generate.add_argument("--wait", action="store_true", help="run the job in this process and print the result, "
                                                              "waiting through rate limits, full providers and budget")
    generate.add_argument("--timeout", type=float, metavar="S", help="with --wait: give up waiting after S seconds "
                                                                     "(the job stays queued)")
    generate.add_argument("--json", action="store_true", help="print the job as one JSON object")
    worker = commands.add_parser("worker", help="process the queue without the scheduler")
    worker.add_argument("--drain", action="store_true", help="exit when nothing is runnable")
    cancel = commands.add_parser("cancel", help="cancel a queued or running job (a running one stops at its next step)")
    cancel.add_argument("job_id", type=int)
    cancel.add_argument("--reason", default="cancelled by the operator", help="recorded with the job")
    retry = commands.add_parser("retry", help="make a failed or cancelled job again, as a new job from its brief")
    retry.add_argument("job_id", type=int)
    enable = commands.add_parser("enable", help="put a provider disabled by billing/auth errors (or paused) back in "
                                                "use")
    enable.add_argument("provider", help="the provider's name in video_config.json, or an account's publishing "
                                         "(instagram:ACCOUNT)")
    approve = commands.add_parser("approve", help="schedule a finished video at its persona's next posting slot")
    approve.add_argument("job_id", type=int)
    publish = commands.add_parser("publish", help="post a finished video now and wait until it is published")
    publish.add_argument("job_id", type=int)
    publish.add_argument("--platform", choices=["instagram", "youtube", "tiktok"],
                         help="only this platform (default: each the persona publishes to)")
    publish.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds (the post "
                                                                     "stays scheduled for the daemon)")
    publish.add_argument("--json", action="store_true", help="print the posts as one JSON object")
    insights = commands.add_parser("insights", help="engagement read back from the platforms")
    insights.add_subparsers(dest="insights_command", required=True, metavar="ACTION").add_parser(
        "pull", help="read every published post's metrics now into the ROI report's engagement table")
    cleanup = commands.add_parser("cleanup", help="remove the files of videos posted retention_days ago")
    cleanup.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    posts = commands.add_parser("posts", help="the posts: scheduled, processing, published (with links), failed")
    posts.add_argument("--json", action="store_true", help="print one JSON object")
    trends = commands.add_parser("trends", help="the current trends, ranked, with their scores and sources")
    trends.add_argument("--refresh", action="store_true", help="collect from every source now (caches skipped)")
    trends.add_argument("--json", action="store_true", help="print {trends, sources} as one JSON object")
    report = commands.add_parser("report", help="write the analytics report (cost, providers, ROI) and summarise it")
    report.add_argument("--days", type=int, default=1, metavar="N", help="the last N budget days, today included "
                                                                         "(default 1)")
    report.add_argument("--format", choices=["html", "csv", "json"], help="write only this format (default: all "
                                                                           "three; the HTML's path is printed)")
    metrics = commands.add_parser("metrics", help="engagement data for the ROI report")
    metrics_import = metrics.add_subparsers(dest="metrics_command", required=True, metavar="ACTION").add_parser(
        "import", help="load views, likes, comments, saves, shares per video from a CSV or JSON insights file")
    metrics_import.add_argument("file", type=Path, help="rows naming a video by job_id, video (file name) or caption")
    status = commands.add_parser("status", help="jobs with stage, progress, provider and cost; the budget")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    analyze = commands.add_parser("analyze", help="a reference video's shots, cuts, palette, motion, loudness and "
                                                  "tempo, as JSON and an HTML page with keyframes")
    analyze.add_argument("video", type=Path, help="the video file to analyse")
    analyze.add_argument("--json", action="store_true", help="print the analysis as one JSON object")
    compare = commands.add_parser("compare", help="how alike a video is to a reference: pacing, palette, motion, "
                                                  "loudness, tempo and one score")
    compare.add_argument("reference", type=Path, help="the reference video")
    compare.add_argument("video", type=Path, help="the video to score against it")
    compare.add_argument("--json", action="store_true", help="print the scores as one JSON object")
    check = commands.add_parser("check", help="preflight a video against a platform's spec, rule by rule")
    check.add_argument("video", type=Path, help="the video file to check")
    check.add_argument("--platform", choices=list(PLATFORMS), default="instagram_reels")
    check.add_argument("--json", action="store_true", help="print the rules as one JSON object")
    serve = commands.add_parser("serve", help="the operator console's HTTP API (bearer token: CONSOLE_TOKEN)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8765, help="default 8765")
    providers = commands.add_parser("providers", help="the video providers: their models; a real test call")
    provider_actions = providers.add_subparsers(dest="providers_command", required=True, metavar="ACTION")
    models = provider_actions.add_parser(
        "models", help="each built-in model: its lengths, ratios, tiers with their price multipliers, base price and "
                       "where the figures come from")
    models.add_argument("--json", action="store_true", help="print {models: [...]} as one JSON object")
    provider_test = provider_actions.add_parser(
        "test", help="make one real, smallest video with one provider (billed: its estimate is shown and confirmed)")
    provider_test.add_argument("name", help="the provider's name in video_config.json (it may be disabled there)")
    provider_test.add_argument("--yes", action="store_true", help="do not ask to confirm the estimated cost")
    gallery = commands.add_parser("gallery", help="draw one frame per caption preset and per script on a contact sheet")
    gallery.add_argument("--account", help="in this persona's style (default: the Anton capitals of the sample config)")
    gallery.add_argument("--out", type=Path, help="the sheet's path, .png or .jpg (default: data/gallery.png)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from core.daemon.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
