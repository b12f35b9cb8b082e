"""The `voicemail-coach` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table

from bot.config import Config
from policy import PLAYBOOKS, InvalidInput, decide
from policy.inputs import parse_decide_input
from policy.serialize import decision_to_json
from policy.sources import SEED_TITLES, SEEDS

if TYPE_CHECKING:
    from bot.server import Tier

EXIT_BAD_INPUT = 2
# Channels add their own subcommands (console, serve's routes ...): bot/ never imports adapters/.
COMMAND_PLUGINS = "voicemail_coach.commands"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicemail-coach",
        description="Coach outbound sales reps on whether to leave a voicemail.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run_decide = commands.add_parser(
        "decide", help="read one decision request as JSON on stdin, print the decision as JSON"
    )
    run_decide.set_defaults(run=lambda _: run_decide_command(sys.stdin, sys.stdout, sys.stderr))

    run_playbooks = commands.add_parser("playbooks", help="show every playbook's rules")
    run_playbooks.set_defaults(run=lambda _: show_playbooks(Console()))

    run_serve = commands.add_parser("serve", help="run the service (Slack, Teams, health checks)")
    run_serve.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    run_serve.add_argument("--port", type=int, help="port (PORT, else 3000)")
    run_serve.add_argument(
        "--no-worker",
        action="store_true",
        help="only answer the chat platforms; `voicemail-coach worker` processes do the jobs "
        "(needs REDIS_URL)",
    )
    run_serve.set_defaults(run=_serve)

    run_worker = commands.add_parser(
        "worker",
        help="only do the jobs the web tier queues (needs REDIS_URL); health checks on --port",
    )
    run_worker.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    run_worker.add_argument("--port", type=int, help="port (PORT, else 3000)")
    run_worker.set_defaults(run=_worker)

    for plugin in entry_points(group=COMMAND_PLUGINS):
        plugin.load()(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from bot.server import Tier

    return _run_server(args, Tier.WEB if args.no_worker else Tier.ALL)


def _worker(args: argparse.Namespace) -> int:
    from bot.server import Tier

    return _run_server(args, Tier.WORKER)


def _run_server(args: argparse.Namespace, tier: Tier) -> int:
    from bot import logs, server

    config = Config.from_env()
    try:
        server.check_tier(config, tier)
    except server.TierError as error:
        print(f"voicemail-coach: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    logs.configure()
    server.serve(config, args.host, args.port or config.port, tier)
    return 0


def run_decide_command(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    try:
        document = json.loads(stdin.read())
    except json.JSONDecodeError as error:
        print(
            f"input: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
            file=stderr,
        )
        return EXIT_BAD_INPUT
    except RecursionError:
        print(
            "input: nested too deeply; expected one JSON object as in the decide contract",
            file=stderr,
        )
        return EXIT_BAD_INPUT
    try:
        request = parse_decide_input(document, default_now=datetime.now(UTC))
        decision = decide(
            rep=request.rep,
            prospect=request.prospect,
            history=request.history,
            now=request.now,
            playbook=request.playbook,
            settings=request.settings,
        )
    except InvalidInput as error:
        print(str(error), file=stderr)
        return EXIT_BAD_INPUT
    json.dump(decision_to_json(decision), stdout, ensure_ascii=False, indent=2)
    stdout.write("\n")
    return 0


def show_playbooks(console: Console) -> int:
    for playbook in PLAYBOOKS.values():
        table = Table(
            title=f"{playbook.name}: {playbook.summary}",
            title_justify="left",
            show_lines=False,
        )
        for column in ("rule", "when", "action", "source"):
            table.add_column(column)
        for rule in playbook.rules:
            table.add_row(rule.id, rule.when, rule.then, ", ".join(rule.seeds))
        console.print(table)
        console.print()
    console.print("Sources (../shared/seeds/):")
    for number, title in SEED_TITLES.items():
        console.print(f"  {number}  {SEEDS[number]}  {title}")
    return 0
