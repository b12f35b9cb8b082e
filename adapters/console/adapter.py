"""The terminal adapter (bot/adapters.py's contract): `voicemail-coach console` and `say`."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.console.render import render
from bot.adapters import AdapterStatus, Address, Delivery
from bot.config import Config
from bot.types import Image, Reply

if TYPE_CHECKING:
    from aiohttp import web

    from bot.server import Services

ADAPTER = "console"
DIRECT_HEADER = "Message from Voicemail Coach:"
CHARTS_FOLDER = "charts"
NOT_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Write = Callable[[Reply, Delivery], None]


def print_reply(reply: Reply, how: Delivery) -> None:
    print(terminal_text(reply, how))


def terminal_text(reply: Reply, how: Delivery) -> str:
    """A reply as the terminal shows it; one sent on its own says who it is from."""
    text = render(reply, numbered_buttons=True)
    return f"{DIRECT_HEADER}\n{text}" if how is Delivery.DIRECT else text


class ConsoleAdapter:
    """The terminal: every reply is written to it, whoever asked; it has no routes. A reply's
    picture (a digest's chart) is saved as a PNG in `charts_dir` (by default a `charts`
    folder beside the SQLite file, VOICEMAIL_COACH_DB) and the reply shows its path."""

    name = ADAPTER

    def __init__(self, write: Write = print_reply, charts_dir: Path | None = None) -> None:
        self.write = write
        self._charts_dir = charts_dir

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None:
        from adapters.console.cli import register  # the CLI imports this module

        register(commands)

    def mount(self, app: web.Application, services: Services) -> AdapterStatus:
        return AdapterStatus(ADAPTER, True, "the terminal: voicemail-coach console or say")

    def render(self, reply: Reply) -> str:
        return render(reply, numbered_buttons=True)

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        if reply.image is not None:
            path = save_chart(reply.image, self.charts_dir)
            reply = replace(reply, image=replace(reply.image, name=str(path)))
        self.write(reply, how)

    @property
    def charts_dir(self) -> Path:
        if self._charts_dir is None:
            self._charts_dir = Path(Config.from_env().db_path).resolve().parent / CHARTS_FOLDER
        return self._charts_dir

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        return Address(ADAPTER, tenant, user_id)

    async def was_delivered(self, address: Address, ref: str) -> bool:
        """The terminal keeps no history to ask."""
        return False

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """The terminal keeps nothing of its own."""


def save_chart(image: Image, folder: Path) -> Path:
    """The PNG at `folder`/<its name>, readable by its owner only (a chart names reps). The
    name is the chart's own (one per team and day): only an older copy of the same chart is
    replaced, and a name that would leave the folder is kept to its last part."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = NOT_IN_FILE_NAME.sub("-", Path(image.name).stem).strip("-.") or "chart"
    path = folder / f"{stem}.png"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".chart-", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(image.png)
        os.replace(temporary, path)  # whole or not at all, for a reader of the folder
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
