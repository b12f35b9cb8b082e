"""The terminal channel: an interactive prompt, and one-shot lines for scripts."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from adapters.console.render import render
from bot.conversation import Conversation
from bot.types import Actor, ButtonPress, Platform, Reply, Request, Role

COMMAND_PREFIX = "/voicemail"
CONSOLE_TENANT = "console"


def console_actor() -> Actor:
    """You, at your own terminal: an admin of the local tenant."""
    return Actor(
        platform=Platform.CONSOLE,
        tenant=CONSOLE_TENANT,
        user_id=getpass.getuser(),
        display_name=os.environ.get("VOICEMAIL_COACH_NAME", ""),
        timezone=local_timezone(),
        role=Role.ADMIN,
    )


def local_timezone() -> str | None:
    if zone := os.environ.get("TZ"):
        return zone.lstrip(":")
    localtime = Path("/etc/localtime")
    if localtime.is_symlink() and "zoneinfo/" in str(localtime.resolve()):
        return str(localtime.resolve()).split("zoneinfo/", 1)[1]
    return None


def strip_prefix(line: str) -> str:
    text = line.strip()
    if text.lower().startswith(COMMAND_PREFIX):
        text = text[len(COMMAND_PREFIX) :]
    return text.strip()


async def say(conversation: Conversation, line: str, actor: Actor | None = None) -> str:
    return render(await say_reply(conversation, line, actor))


async def say_reply(conversation: Conversation, line: str, actor: Actor | None = None) -> Reply:
    request = Request(actor=actor or console_actor(), text=strip_prefix(line))
    return await conversation.handle(request)


async def interact(
    conversation: Conversation,
    read: Callable[[str], str],
    write: Callable[[str], None],
    actor: Actor | None = None,
) -> None:
    """A prompt loop: /voicemail lines in, replies out; a number presses a check-in button."""
    actor = actor or console_actor()
    last: Reply | None = None
    write("Voicemail Coach. Type `/voicemail help`, or `quit`.")
    while True:
        try:
            line = read("voicemail> ").strip()
        except EOFError:
            return
        if line.lower() in ("quit", "exit"):
            return
        if not line:
            continue
        request = _press(actor, last, line) or Request(actor=actor, text=strip_prefix(line))
        last = await conversation.handle(request)
        write(render(last, numbered_buttons=True))


def _press(actor: Actor, last: Reply | None, line: str) -> Request | None:
    if last is None or not line.isdigit() or not 1 <= int(line) <= len(last.buttons):
        return None
    button = last.buttons[int(line) - 1]
    return Request(
        actor=actor,
        button=ButtonPress(button.action_id, button.value),
        idempotency_key=uuid.uuid4().hex,
    )
