"""The terminal: an interactive prompt, and one-shot lines for scripts."""

from __future__ import annotations

import getpass
import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from adapters.console.adapter import ADAPTER, ConsoleAdapter, terminal_text
from adapters.console.render import render
from bot.adapters import Address, Delivery, answer
from bot.coach import Clock, Coach, utc_now
from bot.commands import Export, GrammarError, parse
from bot.scheduler import Scheduler
from bot.store import Store
from bot.types import Actor, Button, ButtonPress, Platform, Reply, Request, Role, Tone

COMMAND_PREFIX = "/voicemail"
MAX_USER_NAME = 64
_USER_NAME = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_USER_NAME}}}")
CONSOLE_TENANT = "console"


def console_actor(user: str | None = None) -> Actor:
    """You, at your own terminal, or `user` (a user name) of its tenant: every terminal user
    is an admin of the local tenant, so a script can play a manager and their reps."""
    if user is not None and not is_user_name(user):
        raise ValueError(
            f"--as {user[:40]!r} is not a user name: letters, digits, '.', '_' and '-', "
            f"at most {MAX_USER_NAME} characters, like sam or dana.lee"
        )
    return Actor(
        platform=Platform.CONSOLE,
        tenant=CONSOLE_TENANT,
        user_id=user or getpass.getuser(),
        display_name=user.capitalize() if user else os.environ.get("VOICEMAIL_COACH_NAME", ""),
        timezone=local_timezone(),
        role=Role.ADMIN,
    )


def is_user_name(text: str) -> bool:
    return bool(_USER_NAME.fullmatch(text))


def terminal_coach(store: Store, clock: Clock = utc_now) -> Coach:
    """The coach as the terminal runs it: what a rep changes reschedules their nudges (run
    `voicemail-coach nudges` to send the due ones)."""
    scheduler = Scheduler(store, None, {}, clock=clock)
    return Coach(store, clock=clock, on_schedule_change=scheduler.reschedule_user)


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


async def say(coach: Coach, line: str, actor: Actor | None = None) -> str:
    return render(await say_reply(coach, line, actor))


async def say_reply(coach: Coach, line: str, actor: Actor | None = None) -> Reply:
    """The reply to one line; an apology if the coach failed (logged, never a traceback)."""
    actor = actor or console_actor()
    said: list[Reply] = []
    adapter = ConsoleAdapter(lambda reply, _how: said.append(reply))
    request = Request(actor=actor, text=strip_prefix(line))
    await answer(adapter, coach, request, _address(actor), Delivery.ANSWER)
    return said[-1]


def _address(actor: Actor) -> Address:
    return Address(ADAPTER, actor.tenant, actor.user_id)


def asks_for_export(line: str) -> bool:
    try:
        return isinstance(parse(strip_prefix(line)), Export)
    except GrammarError:
        return False


async def export_json(store: Store, actor: Actor | None = None) -> str:
    """`export` for a script: the document alone, so that it can be piped into a JSON tool."""
    actor = actor or console_actor()
    document = await store.export_rep(actor.tenant, actor.user_id)
    return json.dumps(document, indent=2, ensure_ascii=False)


async def interact(
    coach: Coach,
    read: Callable[[str], str],
    write: Callable[[str], None],
    actor: Actor | None = None,
) -> None:
    """A prompt loop: /voicemail lines in, replies out; a number presses a check-in button."""
    actor = actor or console_actor()
    adapter = ConsoleAdapter(lambda reply, how: write(terminal_text(reply, how)))
    buttons: tuple[Button, ...] = ()  # those of the last reply, which a number presses
    subject: str | None = None  # the prospect of the last decision
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
        if not is_number(line):
            request = Request(actor=actor, text=strip_prefix(line))
        elif 1 <= button_number(line) <= len(buttons):
            request = press(actor, buttons[button_number(line) - 1])
        else:
            write(render(no_such_button(_cut(line), len(buttons), subject)))
            continue  # the buttons shown before stay pressable
        reply = await answer(adapter, coach, request, _address(actor), Delivery.ANSWER)
        if reply is not None:
            buttons, subject = reply.buttons, reply.subject or subject


MAX_BUTTON_DIGITS = 4


def is_number(line: str) -> bool:
    """A line of digits alone is a button press: no prospect is called "2"."""
    return line.isascii() and line.isdigit()


def button_number(digits: str) -> int:
    """The button a line of digits names; 0 (none) for a number too long to be one."""
    return int(digits) if len(digits) <= MAX_BUTTON_DIGITS else 0


def _cut(digits: str) -> str:
    return digits if len(digits) <= MAX_BUTTON_DIGITS else f"{digits[:MAX_BUTTON_DIGITS]}…"


def press(actor: Actor, button: Button) -> Request:
    return Request(
        actor=actor,
        button=ButtonPress(button.action_id, button.value),
        idempotency_key=uuid.uuid4().hex,
    )


def no_such_button(number: str, buttons: int, subject: str | None) -> Reply:
    """The hint for a number that presses nothing: which numbers would, or how to log."""
    if buttons:
        return Reply(
            f"There is no button {number}",
            paragraphs=(f"Type a number from 1 to {buttons} to press one of the buttons above.",),
            tone=Tone.ERROR,
        )
    prospect = subject or "Jane Doe @ Acme"
    return Reply(
        f"No button to press with {number}",
        paragraphs=(
            "A number presses a check-in button under a decision, and the last reply has none "
            "(a decision's buttons log one check-in, then they are gone).",
            f"To log another call: /voicemail log {prospect} left (or skipped, live, zero ...).",
        ),
        tone=Tone.ERROR,
    )
