"""`voicemail-coach console` and `voicemail-coach say`, registered into the CLI as a plugin."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from adapters.console.render import render
from adapters.console.sending import InstantError, local_zone, parse_instant
from adapters.console.sending import add_commands as add_sending_commands
from adapters.console.terminal import (
    asks_for_export,
    console_actor,
    export_json,
    interact,
    say_reply,
    terminal_coach,
)
from bot.config import Config
from bot.store import open_store
from bot.types import Tone

EXIT_NOT_DONE = 2  # as for any input the command line does not accept
EXIT_INTERRUPTED = 130


def register(commands: argparse._SubParsersAction[Any]) -> None:
    console = commands.add_parser(
        "console", help="an interactive prompt taking /voicemail lines, on the configured store"
    )
    console.set_defaults(run=lambda _: run_console_command())
    one_shot = commands.add_parser(
        "say",
        help='one /voicemail line, e.g. say "/voicemail help"; exits with 2 if it was not done',
    )
    one_shot.add_argument("line", help="the /voicemail line, quoted")
    one_shot.add_argument(
        "--as", dest="user", help="say it as this user of the terminal's tenant (a user name)"
    )
    one_shot.add_argument(
        "--at", help="say it at this instant, ISO 8601 (2026-12-07T09:00; no offset: local time)"
    )
    one_shot.set_defaults(run=lambda args: asyncio.run(run_say(args.line, args.user, args.at)))
    add_sending_commands(commands)


async def run_say(line: str, user: str | None = None, at: str | None = None) -> int:
    """The reply on stdout, `export` as JSON alone; a reply saying that the line was not
    understood or not done goes to stderr instead, with a non-zero status, so that a script
    (or a pipe) notices. `user` and `at` script other users and other days."""
    try:
        actor = console_actor(user)
        moment = parse_instant(at, local_zone(), lambda: datetime.now(UTC))
    except (InstantError, ValueError) as error:
        print(f"voicemail-coach: {error}", file=sys.stderr)
        return EXIT_NOT_DONE
    store = await open_store(Config.from_env())
    try:
        if asks_for_export(line):
            print(await export_json(store, actor))
            return 0
        reply = await say_reply(terminal_coach(store, lambda: moment), line, actor)
    finally:
        await store.close()
    if reply.tone is Tone.ERROR:
        print(render(reply), file=sys.stderr)
        return EXIT_NOT_DONE
    print(render(reply))
    return 0


def run_console_command() -> int:
    # asyncio.run would answer the first Ctrl-C by cancelling the prompt's task, which only
    # notices once input() returns, after Enter: a handler of our own makes it raise at once.
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return asyncio.run(run_console())
    except KeyboardInterrupt:
        print(
            "\nvoicemail-coach: console stopped by Ctrl-C; type quit or press Ctrl-D to leave it",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


async def run_console() -> int:
    store = await open_store(Config.from_env())
    try:
        await interact(terminal_coach(store), read=input, write=print)
    finally:
        await store.close()
    return 0
