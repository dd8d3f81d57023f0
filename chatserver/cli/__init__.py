"""The ``chatserver`` command: parse arguments, then hand over to the part that does the work."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatserver.domain.settings import Settings


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a file of CHAT_NAME=value lines")
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        flag = "--" + name.replace("_", "-")
        help_text = f"{field.description} (env CHAT_{name.upper()}; default: {default!s})"
        if name in ("allowed_origins", "file_types"):
            metavar = "ORIGIN" if name == "allowed_origins" else "TYPE"
            parser.add_argument(flag, dest=name, action="append", metavar=metavar, help=help_text)
        else:
            parser.add_argument(flag, dest=name, metavar=name.upper(), help=help_text)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the command line over the environment over the config file."""
    given = {
        n: getattr(args, n) for n in Settings.model_fields if getattr(args, n, None) is not None
    }
    return Settings(_env_file=args.config, **given)  # type: ignore[call-arg]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    settings = argparse.ArgumentParser(add_help=False)
    _add_settings_options(settings)

    commands.add_parser("serve", help="run the chat server", parents=[settings])

    agents = commands.add_parser("agents", help="manage agent accounts")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    add = agent_commands.add_parser(
        "add", help="create an agent (an existing name is refused)", parents=[settings]
    )
    add.add_argument("agent_id")
    add.add_argument("--name", help="display name shown to shoppers (default: the id)")
    add.add_argument("--password", help="password (default: a random one, printed)")
    add.add_argument("--role", choices=["agent", "manager", "admin"], default="agent")
    add.add_argument("--capacity", type=int, default=3, help="concurrent chats")
    passwd = agent_commands.add_parser(
        "passwd", help="set an agent's password (nothing else changes)", parents=[settings]
    )
    passwd.add_argument("agent_id")
    passwd.add_argument("--password", help="the new password (default: a random one, printed)")
    agent_commands.add_parser("list", help="list agents", parents=[settings])

    shop = commands.add_parser(
        "shop",
        help="export or import the shop's configuration (settings, FAQ, canned) as TOML files",
    )
    shop_commands = shop.add_subparsers(dest="shop_command", required=True)
    for name, text in (
        ("export", "write the stored configuration to DIR (shop.toml, faq*.toml, canned.toml)"),
        ("import", "replace the stored configuration with DIR's files, if they all load"),
    ):
        shop_command = shop_commands.add_parser(name, help=text, parents=[settings])
        shop_command.add_argument("dir", type=Path)
    remove = agent_commands.add_parser("remove", help="delete an agent", parents=[settings])
    remove.add_argument("agent_id")

    apikeys = commands.add_parser("apikeys", help="make, list and revoke the shop's API keys")
    key_commands = apikeys.add_subparsers(dest="apikeys_command", required=True)
    add_key = key_commands.add_parser("add", help="make a key (printed once)", parents=[settings])
    add_key.add_argument("name", help="what the key is for, e.g. the shop system's name")
    add_key.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=["notices:write", "choices:read"],
        help="what the key may do (repeat for several)",
    )
    key_commands.add_parser("list", help="list keys (never the keys)", parents=[settings])
    revoke_key = key_commands.add_parser("revoke", help="refuse a key", parents=[settings])
    revoke_key.add_argument("key_id")

    faq = commands.add_parser("faq", help="check the FAQ file or measure the bot on questions")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True)
    check = faq_commands.add_parser("check", help="validate a FAQ file and say what is wrong")
    check.add_argument("file", nargs="?", type=Path, default=Path("faq_data/faq.toml"))
    evaluate = faq_commands.add_parser("eval", help="score the bot on a JSONL file of questions")
    evaluate.add_argument("questions", type=Path)
    evaluate.add_argument("--faq", type=Path, default=Path("faq_data/faq.toml"))
    evaluate.add_argument("--json", action="store_true", help="print each question's result too")

    report = commands.add_parser(
        "report", help="print a report's headline figures (or one table)", parents=[settings]
    )
    report.add_argument(
        "--from",
        dest="first",
        type=date.fromisoformat,
        help="first day, YYYY-MM-DD (default: 6 days before --to)",
    )
    report.add_argument(
        "--to", dest="last", type=date.fromisoformat, help="last day, YYYY-MM-DD (default: today)"
    )
    report.add_argument("--csv", action="store_true", help="print CSV instead of aligned text")
    report.add_argument(
        "--table",
        default="summary",
        help="summary (default), response, agents, days, tags, comments, unanswered",
    )

    from chatserver.bench import add_arguments as add_bench_arguments

    bench = commands.add_parser(
        "bench", help="measure the server under load (bench faq: the matcher)"
    )
    add_bench_arguments(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "faq":
        from chatserver.faq import commands as faq_commands

        if args.faq_command == "check":
            return faq_commands.check_command(args.file)
        return faq_commands.eval_command(args.questions, args.faq, args.json)
    if args.command == "bench":
        from chatserver.bench import main as bench_main

        return bench_main(args)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        print(f"chatserver: bad setting: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from chatserver.cli.serve import serve

        return serve(settings)
    if args.command == "report":
        from chatserver.cli.report import report

        return asyncio.run(report(settings, args.first, args.last, args.table, args.csv))
    if args.command == "shop":
        from chatserver.cli import shop

        run = shop.export if args.shop_command == "export" else shop.import_
        return asyncio.run(run(settings, args))
    if args.command == "apikeys":
        from chatserver.cli import apikeys

        key_commands = {"add": apikeys.add, "list": apikeys.list_keys, "revoke": apikeys.revoke}
        return asyncio.run(key_commands[args.apikeys_command](settings, args))
    if args.command == "agents":
        from chatserver.cli import agents

        commands: dict[str, Callable[[Settings, Any], Coroutine[Any, Any, int]]] = {
            "add": agents.add,
            "passwd": agents.passwd,
            "list": agents.list_agents,
            "remove": agents.remove,
        }
        return asyncio.run(commands[args.agents_command](settings, args))
    return 2
