"""``chatserver bench``: how many shoppers and messages one machine carries, against a bare relay.

``runner`` starts the server and load generators as processes and runs the phases; ``load`` is the
load-generator process; ``bare_relay`` the baseline server; ``report`` the table and JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chatserver bench`` (``chatserver bench faq`` times the FAQ matcher)."""
    from chatserver.bench.runner import Options

    d = Options()
    parser.add_argument(
        "what",
        nargs="?",
        choices=["chat", "faq", "reports", "search"],
        default="chat",
        help="chat: the server under load (default); faq: the FAQ matcher alone; "
        "reports: a report over many conversations; search: history search over many",
    )
    parser.add_argument(
        "--lang", default="en", help="faq: the language whose matcher is timed (default en)"
    )
    parser.add_argument(
        "--conversations",
        type=int,
        default=100_000,
        help="reports, search: conversations to seed (default 100000)",
    )
    load_options = [
        ("--shoppers", int, d.shoppers, "open shopper sockets"),
        ("--agents", int, d.agents, "agent sockets"),
        ("--rate", float, d.rate, "shopper messages per second over all shoppers; 0 = closed loop"),
        ("--duration", float, d.duration, "measured seconds per phase"),
        ("--warmup", float, d.warmup, "unmeasured seconds before each phase"),
        ("--drain", float, d.drain, "seconds to wait for late replies before counting them lost"),
    ]
    for flag, kind, default, text in load_options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default {default:g})")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run the bare websockets relay under the same load, and a closed loop on both",
    )
    parser.add_argument(
        "--churn",
        action="store_true",
        help="also time page views that open the chat (connect, hello with and without a stored "
        "token, close) on the hub and on the bare relay",
    )
    parser.add_argument(
        "--overload",
        action="store_true",
        help="also offer twice the closed loop's rate (measured in the same run) to the hub: "
        "relayed/s, p99, messages refused as overloaded, unanswered 10 s after the load stops, RSS",
    )
    parser.add_argument(
        "--overload-duration",
        type=float,
        default=d.overload_duration,
        help=f"measured seconds of the overload phase (default {d.overload_duration:g})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object on the last line"
    )
    parser.add_argument(
        "--redis-url", default="", help="run the hub on this Redis instead of the embedded backend"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="hub worker processes (more than 1 needs --redis-url)",
    )
    parser.add_argument(
        "--load-procs", type=int, default=1, help="load-generator processes (default 1)"
    )


def main(args: argparse.Namespace) -> int:
    """Run the bench the parsed arguments ask for; returns the exit code."""
    if args.what == "faq":
        from chatserver.faq.bench import run_match_bench

        run_match_bench(lang=args.lang)
        return 0
    if args.what == "reports":
        from chatserver.reports.bench import main as reports_bench

        return reports_bench(args.conversations)
    if args.what == "search":
        from chatserver.bench.search import main as search_bench

        return search_bench(args.conversations, args.redis_url)
    from chatserver.bench.report import table
    from chatserver.bench.runner import BenchFailed, Options, run_bench

    if args.workers > 1 and not args.redis_url:
        print("chatserver bench: --workers above 1 needs --redis-url", file=sys.stderr)
        return 2
    if min(args.shoppers, args.agents, args.load_procs) < 1 or args.rate < 0 or args.duration <= 0:
        print(
            "chatserver bench: shoppers, agents and load procs must be >= 1, rate >= 0, duration > 0",
            file=sys.stderr,
        )
        return 2
    options = Options(
        shoppers=args.shoppers,
        agents=args.agents,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        drain=args.drain,
        baseline=args.baseline,
        redis_url=args.redis_url,
        workers=args.workers,
        load_procs=args.load_procs,
        churn=args.churn,
        overload=args.overload,
        overload_duration=args.overload_duration,
    )
    try:
        summary = asyncio.run(run_bench(options))
    except BenchFailed as exc:
        print(f"chatserver bench: {exc}", file=sys.stderr)
        return 1
    print(table(summary), flush=True)
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0 if summary["lost"] == 0 and summary["duplicated"] == 0 else 1
