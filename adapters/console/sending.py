"""`voicemail-coach nudges` and `voicemail-coach digest`: scheduled sends from the command line.

`nudges` does what the scheduler inside `serve` does at one instant (now, or --at): it finds
the sends due then and sends them through each recipient's adapter, claiming each in the
ledger, so that a second run at the same instant sends nothing. `--dry-run` only shows them.
`digest` shows one team's digest at any instant, with its chart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from adapters.console.adapter import ConsoleAdapter, terminal_text
from adapters.console.render import render
from adapters.console.terminal import local_timezone
from bot.adapters import Adapter, Delivery, installed_adapters
from bot.charts import digest_chart_async
from bot.config import Config
from bot.digests import digest_json, digest_reply, gather_team_digest
from bot.records import SendKind
from bot.schedule import digest_period, zone_of
from bot.scheduler import SendResult
from bot.server import SERVICES, Tier, create_app
from bot.store import Store, open_store
from bot.types import Reply

EXIT_BAD_INPUT = 2
MOST_DUE = 1_000_000  # what one run sends at most: every send due, in practice


class InstantError(ValueError):
    """--at is not an instant; the message says what is accepted."""


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    nudges = commands.add_parser(
        "nudges",
        help="send the nudges and digests due now (or --at an instant); --dry-run shows them",
    )
    nudges.add_argument(
        "--at", help="the instant, ISO 8601 (2026-12-07T08:00-05:00; no offset: local time)"
    )
    nudges.add_argument(
        "--dry-run", action="store_true", help="show what is due; send and record nothing"
    )
    nudges.add_argument("--json", action="store_true", help="one JSON object a line")
    nudges.set_defaults(run=lambda args: _run(run_nudges(args, sys.stdout)))

    digest = commands.add_parser("digest", help="show one team's digest (weekly by default)")
    digest.add_argument("--team", required=True, help="the team's id (a manager's user id)")
    digest.add_argument(
        "--tenant",
        default="console",
        help="its tenant: a Slack workspace or Teams tenant id (console)",
    )
    digest.add_argument("--at", help="the morning it is for, ISO 8601 (now by default)")
    digest.add_argument("--period", choices=("daily", "weekly"), default="weekly")
    digest.add_argument("--json", action="store_true", help="the digest as one JSON object")
    digest.add_argument("--chart", type=Path, help="write the chart (PNG) to this file")
    digest.set_defaults(run=lambda args: _run(run_digest(args, sys.stdout)))  # fmt: skip


def _run(work: Any) -> int:
    result: int = asyncio.run(work)
    return result


def parse_instant(text: str | None, zone: tzinfo, now: Callable[[], datetime]) -> datetime:
    """--at as an aware instant: ISO 8601 with an offset, or without one in `zone`."""
    if text is None:
        return now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InstantError(
            f"--at {text[:40]!r} is not an ISO 8601 instant; write it like 2026-12-07T08:00 "
            "(local time) or 2026-12-07T08:00-05:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def local_zone() -> tzinfo:
    name = local_timezone()
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


async def run_nudges(args: argparse.Namespace, out: TextIO) -> int:
    try:
        at = parse_instant(args.at, local_zone(), lambda: datetime.now(UTC))
    except InstantError as error:
        print(f"voicemail-coach: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    config = Config.from_env()
    async with sending_services(config, at, quiet_terminal=args.json) as services:
        for result in await due_results(services, at, dry_run=args.dry_run):
            show_result(result, out, as_json=args.json, dry_run=args.dry_run)
    return 0


@asynccontextmanager
async def sending_services(config: Config, at: datetime, *, quiet_terminal: bool) -> Any:
    """The service's adapters mounted as a command's (they send; they serve nothing), with
    the clock at `at`. With --json the terminal's own deliveries go to stderr, so that stdout
    holds only JSON."""
    store = await open_store(config)
    app = await create_app(
        config, store, Tier.COMMAND, adapters=_adapters(quiet_terminal), clock=lambda: at
    )
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        yield app[SERVICES]
    finally:
        await runner.cleanup()


def _adapters(quiet_terminal: bool) -> list[Adapter]:
    adapters = [a for a in installed_adapters() if a.name != "console"]
    console = ConsoleAdapter(_to_stderr) if quiet_terminal else ConsoleAdapter()
    return [*adapters, console]


def _to_stderr(reply: Reply, how: Delivery) -> None:
    print(terminal_text(reply, how), file=sys.stderr)


async def due_results(services: Any, at: datetime, *, dry_run: bool) -> list[SendResult]:
    store: Store = services.store
    scheduler = services.scheduler
    results = []
    for send in await store.due_sends(at, MOST_DUE):
        if dry_run:
            results.append(await scheduler.preview(send, at))
        else:
            results.append(await scheduler.deliver_due(send, at))
    return results


def show_result(result: SendResult, out: TextIO, *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        for line in result.as_json():
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    send = result.send
    day = result.local_date.isoformat() if result.local_date else "-"
    who = f"{send.adapter} {send.tenant}/{send.user_id}"
    out.write(f"{send.kind.value} for {who} ({day}): {result.status}\n")
    if dry_run:
        for text in _rendered(result.replies):
            out.write(text + "\n")


def _rendered(replies: tuple[Reply, ...]) -> Iterator[str]:
    for reply in replies:
        yield render(reply)


async def run_digest(args: argparse.Namespace, out: TextIO) -> int:
    config = Config.from_env()
    store = await open_store(config)
    try:
        return await _print_digest(store, args, out)
    except InstantError as error:
        print(f"voicemail-coach: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        await store.close()


async def _print_digest(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    team = await store.get_team(args.tenant, args.team)
    reps = await store.reps_in_team(args.tenant, args.team)
    if not reps:
        print(
            f"voicemail-coach: team {args.team[:60]!r} of tenant {args.tenant[:60]!r} has no reps: "
            "a manager builds their team with `/voicemail team add <rep>`, and its id is the "
            "manager's user id",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    manager = await store.get_rep(args.tenant, team.managers[0]) if team.managers else None
    zone = zone_of(manager) if manager else local_zone()
    at = parse_instant(args.at, zone, lambda: datetime.now(UTC))
    kind = SendKind.DAILY_DIGEST if args.period == "daily" else SendKind.WEEKLY_DIGEST
    local_date = at.astimezone(zone).date()
    since, until = digest_period(kind, local_date, zone, team.settings.holidays_country)
    digest = await gather_team_digest(store, team, since, until, args.period)
    image = None
    if args.chart is not None:
        drawn = await digest_chart_async(digest)
        args.chart.write_bytes(drawn.png)
        image = replace(drawn, name=str(args.chart))  # the terminal shows where it went
    if args.json:
        chart = str(args.chart) if args.chart is not None else None
        out.write(json.dumps({**digest_json(digest), "chart": chart}, ensure_ascii=False) + "\n")
        return 0
    out.write("\n".join(_rendered((digest_reply(digest, image),))) + "\n")
    return 0
