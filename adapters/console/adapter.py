"""The terminal adapter (bot/adapters.py's contract): `voicemail-coach console` and `say`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adapters.console.render import render
from bot.adapters import AdapterStatus, Address, Delivery
from bot.types import Reply

if TYPE_CHECKING:
    from aiohttp import web

    from bot.server import Services

ADAPTER = "console"
DIRECT_HEADER = "Message from Voicemail Coach:"

Write = Callable[[Reply, Delivery], None]


def print_reply(reply: Reply, how: Delivery) -> None:
    print(terminal_text(reply, how))


def terminal_text(reply: Reply, how: Delivery) -> str:
    """A reply as the terminal shows it; one sent on its own says who it is from."""
    text = render(reply, numbered_buttons=True)
    return f"{DIRECT_HEADER}\n{text}" if how is Delivery.DIRECT else text


class ConsoleAdapter:
    """The terminal: every reply is written to it, whoever asked; it has no routes."""

    name = ADAPTER

    def __init__(self, write: Write = print_reply) -> None:
        self.write = write

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None:
        from adapters.console.cli import register  # the CLI imports this module

        register(commands)

    def mount(self, app: web.Application, services: Services) -> AdapterStatus:
        return AdapterStatus(ADAPTER, True, "the terminal: voicemail-coach console or say")

    def render(self, reply: Reply) -> str:
        return render(reply, numbered_buttons=True)

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        self.write(reply, how)

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        return Address(ADAPTER, tenant, user_id)

    async def was_delivered(self, address: Address, ref: str) -> bool:
        """The terminal keeps no history to ask."""
        return False

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """The terminal keeps nothing of its own."""
