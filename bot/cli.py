"""The `voicemail-coach` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, TextIO
from weakref import WeakKeyDictionary

from rich.console import Console
from rich.table import Table

from bot.adapters import installed_adapters
from bot.config import Config, ConfigError
from bot.store import StoreUnavailable
from policy import PLAYBOOKS, InvalidInput, decide
from policy.inputs import parse_decide_input
from policy.serialize import decision_to_json
from policy.sources import SEED_TITLES

if TYPE_CHECKING:
    from bot.server import Tier

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
DISTRIBUTION = "voicemail-coach"


# The platforms of each `manifest` parser; weak, so a parser that is gone takes its entry
# along (an id() key could be reused by the next parser and hand it a dead one's).
_MANIFEST_PLATFORMS: WeakKeyDictionary[argparse.ArgumentParser, argparse._SubParsersAction[Any]] = (
    WeakKeyDictionary()
)


def manifest_platforms(
    commands: argparse._SubParsersAction[Any],
) -> argparse._SubParsersAction[Any]:
    """The `manifest <platform>` subcommands, made once however many adapters add to them."""
    manifest = commands.choices.get("manifest")
    if manifest is None:
        manifest = commands.add_parser("manifest", help="print a chat platform's app manifest")
        _MANIFEST_PLATFORMS[manifest] = manifest.add_subparsers(
            title="platforms", metavar="PLATFORM"
        )
    return _MANIFEST_PLATFORMS[manifest]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; what goes wrong that a user can fix is one line on stderr, never a
    traceback, and a non-zero exit status."""
    try:
        status = run_command(argv)
        sys.stdout.flush()  # a closed pipe fails here, not after main has returned
        return status
    except ConfigError as error:
        return fail(str(error), EXIT_BAD_INPUT)
    except StoreUnavailable as error:
        return fail(str(error), EXIT_FAILED)
    except BrokenPipeError:
        discard_stdout()
        return fail(
            "the output was cut short: what read it stopped early (as `head` does); "
            "run the command alone to see all of it",
            EXIT_FAILED,
        )
    except KeyboardInterrupt:
        return fail("stopped by Ctrl-C before it finished", EXIT_INTERRUPTED)


class PipeConsole(Console):
    """Rich's console, except that a closed pipe raises BrokenPipeError for `main` to explain
    (rich's own answer is a silent SystemExit)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def run_command(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    result: int = args.run(args)
    return result


def fail(problem: str, status: int) -> int:
    print(f"voicemail-coach: {problem}", file=sys.stderr)
    return status


def discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicemail-coach",
        description="Coach outbound sales reps on whether to leave a voicemail.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(DISTRIBUTION)}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run_decide = commands.add_parser(
        "decide", help="read one decision request as JSON on stdin, print the decision as JSON"
    )
    run_decide.set_defaults(run=lambda _: run_decide_command(sys.stdin, sys.stdout, sys.stderr))

    run_playbooks = commands.add_parser("playbooks", help="show every playbook's rules")
    run_playbooks.set_defaults(run=lambda _: show_playbooks(PipeConsole()))

    run_serve = commands.add_parser(
        "serve", help="run the service: Slack and Teams (once configured) and health checks"
    )
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

    for adapter in installed_adapters():
        adapter.add_commands(commands)
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
        return fail(str(error), EXIT_BAD_INPUT)
    logs.configure()
    try:
        server.serve(config, args.host, args.port or config.port, tier)
    except (server.ListenError, StoreUnavailable) as error:
        flush_logs()  # the events before it first, then the one line saying why it stopped
        return fail(str(error), EXIT_FAILED)
    return 0


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


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
    except UnicodeDecodeError:
        print("input: not UTF-8 text; expected one JSON object", file=stderr)
        return EXIT_BAD_INPUT
    except ValueError:  # a number of thousands of digits: int() refuses it
        print("input: a number is far too long; counts are small whole numbers", file=stderr)
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
    console.print("Sources (the numbers in the source column; see docs/sources.md):")
    for number, title in SEED_TITLES.items():
        console.print(f"  {number}  {title}")
    return 0
