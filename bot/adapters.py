"""The adapter contract: what every chat platform's adapter implements. bot/ alone defines it.

The words, used the same way everywhere in the code:

- adapter: the code that translates one chat platform (Slack, Teams, the terminal) to and from
  the neutral types of bot/ (adapters/slack, adapters/teams, adapters/console).
- tenant: whose data it is: a Slack workspace (or Enterprise Grid org), a Teams (Microsoft
  Entra) tenant, the terminal's one. Every store key starts with it.
- sales team: reps who share settings and digests (`team` in records and commands); never a
  Slack workspace, never a Teams team.
- chat: where messages are exchanged on a platform: a Slack channel or direct message, a
  Teams personal chat, group chat or channel. A rep's direct chat is theirs with the bot.
- coach: the logic from a Request to a Reply (bot/coach.py).
- conversation: a live phone conversation between a rep and a prospect (the policy's word).

An adapter is found through the `voicemail_coach.adapters` entry-point group: each entry is a
callable that returns the adapter. The server mounts every adapter; the command line lets each
add its subcommands; a worker delivers replies through the adapter a job names.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from bot.types import Reply, Request, Tone

if TYPE_CHECKING:
    from aiohttp import web

    from bot.coach import Coach
    from bot.commands import Command
    from bot.server import Services

log = logging.getLogger("voicemail_coach.adapters")

ADAPTER_PLUGINS = "voicemail_coach.adapters"
APOLOGY_HEADING = "Sorry, something went wrong on my side"
APOLOGY_DETAIL = "Nothing was saved. Please try again."
APOLOGY = f"{APOLOGY_HEADING} and {APOLOGY_DETAIL[0].lower()}{APOLOGY_DETAIL[1:]}"  # one line


class Delivery(StrEnum):
    """How a reply reaches its address."""

    ANSWER = "answer"  # the answer to a request, seen by the rep who made it
    REPLACE = "replace"  # in place of the message whose button was pressed
    DIRECT = "direct"  # proactively, in the rep's direct chat with the bot


@dataclass(frozen=True, slots=True)
class Address:
    """Where a reply goes. `target` is the adapter's own and opaque here: a Slack response_url,
    a Teams conversation reference, nothing for the terminal."""

    adapter: str
    tenant: str
    user_id: str
    target: str = ""


@dataclass(frozen=True, slots=True)
class AdapterStatus:
    name: str
    enabled: bool
    why: str


class RecipientGone(Exception):
    """The platform says the recipient cannot be reached any more (the app was uninstalled,
    the token revoked, the chat is gone or forbidden): a scheduled send skips them and counts."""


class Adapter(Protocol):
    """One chat platform's adapter."""

    name: str

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None:
        """Add this adapter's subcommands to `voicemail-coach` (none is fine)."""
        ...

    def mount(self, app: web.Application, services: Services) -> AdapterStatus:
        """Mount routes (where the web is served) and register job handlers on the server."""
        ...

    def render(self, reply: Reply) -> object:
        """The platform's form of a reply (Block Kit, an Adaptive Card, text). Pure."""
        ...

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        """Send `reply` (and its image, if any) to `address`; raises if the platform did not
        take it, RecipientGone if it never will. Pacing and the platform's rate limits
        (429 Retry-After, 5xx with backoff) are the adapter's to honour."""
        ...

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        """The address of the rep's direct chat with the bot, or None if there is none yet."""
        ...

    async def was_delivered(self, address: Address, ref: str) -> bool:
        """Whether a message sent with `Reply.ref == ref` already reached the direct chat at
        `address`: asked after a crash mid-send. False when the platform cannot tell."""
        ...

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """Erase what this adapter keeps about the rep (stored chats, cached profiles): `forget
        me` erases every copy, not only the coach's records."""
        ...


def installed_adapters() -> list[Adapter]:
    """Every adapter installed under ADAPTER_PLUGINS, in name order."""
    found: list[Adapter] = [plugin.load()() for plugin in entry_points(group=ADAPTER_PLUGINS)]
    return sorted(found, key=lambda adapter: adapter.name)


def apology() -> Reply:
    return Reply(heading=APOLOGY_HEADING, paragraphs=(APOLOGY_DETAIL,), tone=Tone.ERROR)


async def answer(
    adapter: Adapter,
    coach: Coach,
    request: Request,
    address: Address,
    how: Delivery,
    parsed: Command | None = None,
) -> Reply | None:
    """Ask the coach and deliver its reply, or apologise: the one failure path every adapter
    shares. Never raises; the reply delivered, or None if an apology went instead. `parsed`:
    the request's text as the adapter has already parsed it (Coach.handle)."""
    try:
        reply = await coach.handle(request, parsed)
    except Exception as error:
        _log_failure("coach_failed", adapter, address, error)
        await apologise(adapter, address)
        return None
    return reply if await deliver_or_apologise(adapter, reply, address, how) else None


async def deliver_or_apologise(
    adapter: Adapter, reply: Reply, address: Address, how: Delivery
) -> bool:
    """Deliver `reply`; if the platform refuses it, try an apology instead. Never raises;
    True if `reply` was delivered."""
    try:
        await adapter.deliver(reply, address, how)
    except Exception as error:
        _log_failure("delivery_failed", adapter, address, error)
        await apologise(adapter, address)
        return False
    return True


async def apologise(adapter: Adapter, address: Address) -> None:
    """The apology, as an answer the rep sees; a failure to send even that is only logged."""
    try:
        await adapter.deliver(apology(), address, Delivery.ANSWER)
    except Exception as error:
        _log_failure("apology_failed", adapter, address, error)


def _log_failure(event: str, adapter: Adapter, address: Address, error: Exception) -> None:
    """Ids and the error's type only: no names, no text, no target (it may be a capability)."""
    log.error(
        event,
        extra={
            "adapter": adapter.name,
            "tenant": address.tenant,
            "user": address.user_id,
            "error": type(error).__name__,
        },
    )
