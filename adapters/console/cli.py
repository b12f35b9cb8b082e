"""`voicemail-coach console` and `voicemail-coach say`, registered into the CLI as a plugin."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from adapters.console.channel import interact, say
from bot.config import Config
from bot.conversation import Conversation
from bot.store import open_store


def register(commands: argparse._SubParsersAction[Any]) -> None:
    console = commands.add_parser(
        "console", help="an interactive prompt taking /voicemail lines, on the configured store"
    )
    console.set_defaults(run=lambda _: asyncio.run(run_console()))
    one_shot = commands.add_parser("say", help='one /voicemail line, e.g. say "/voicemail help"')
    one_shot.add_argument("line", help="the /voicemail line, quoted")
    one_shot.set_defaults(run=lambda args: asyncio.run(run_say(args.line)))


async def run_say(line: str) -> int:
    store = await open_store(Config.from_env())
    try:
        print(await say(Conversation(store), line))
    finally:
        await store.close()
    return 0


async def run_console() -> int:
    store = await open_store(Config.from_env())
    try:
        await interact(Conversation(store), read=input, write=print)
    finally:
        await store.close()
    return 0
