"""Morning nudges at scale: 10,000 reps due in one minute, on Redis, delivered to a fake Slack.

Loads reps (50 prospects each, across 100 tenants, a few call-backs due and a recycle overdue)
under a Redis prefix of its own, then, for one worker and for two (`voicemail-coach worker`,
its clock set to the morning), puts every rep's nudge due at once and reports:

- the time to find who is due (the schedule index, as a scheduler's turn reads it),
- the time until the fake Slack has the last nudge, and the delivery rate,
- each worker's peak memory (VmHWM),

and, in the same run, a baseline: as many bare chat.postMessage calls to the same fake from
one process at the workers' concurrency, with the same Slack client. Targets: finding who is
due < 1 s; one worker's delivery rate >= 0.5x the baseline's; peak memory < 300 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and bench/policy.py would shadow
# the `policy` package; put the project root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bench._http import (
    HOST,
    Child,
    api_arguments,
    exit_with_parent,
    free_port,
    spawn,
    stop,
    wait_ready,
)
from bench._redis import delete_prefix
from bot.jobs import CONCURRENT_JOBS
from bot.records import ProspectRecord, RepProfile, ScheduledSend, SendKind
from bot.store import RedisStore

TARGET_FIND_SECONDS = 1.0
TARGET_RATE_RATIO = 0.5
TARGET_PEAK_MB = 300.0
TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
# A Wednesday: the workers' clock starts here, so the run does not depend on today's date.
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
CALLBACKS_PER_REP = 3
LOAD_CONCURRENCY = 2_000


# The fake Slack Web API (a subprocess): counts chat.postMessage per DM channel.


@dataclass
class Posts:
    by_channel: Counter[str]
    first: float = 0.0
    last: float = 0.0


def fake_slack_app() -> web.Application:
    posts = Posts(Counter())

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await api_arguments(request)
        return web.json_response(answer(posts, method, args))

    async def stats(_: web.Request) -> web.Response:
        counts = posts.by_channel
        return web.json_response(
            {"posts": sum(counts.values()), "channels": len(counts),
             "twice": sum(1 for n in counts.values() if n > 1),
             "first": posts.first, "last": posts.last}
        )  # fmt: skip

    async def reset(_: web.Request) -> web.Response:
        posts.by_channel.clear()
        posts.first = posts.last = 0.0
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/_bench/stats", stats)
    app.router.add_post("/_bench/reset", reset)
    app.on_startup.append(exit_with_parent)
    return app


def answer(posts: Posts, method: str, args: dict[str, Any]) -> dict[str, Any]:
    if method == "auth.test":
        return {"ok": True, "team_id": "TBENCH", "user_id": "UBOT", "bot_id": "BBOT"}
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": f"D{args.get('users', '')}"}}
    if method == "chat.postMessage":
        now = time.monotonic()
        posts.first = posts.first or now
        posts.last = now
        channel = str(args.get("channel", ""))
        posts.by_channel[channel] += 1
        return {"ok": True, "channel": channel, "ts": f"{now:.6f}"}
    if method == "conversations.history":
        return {"ok": True, "messages": []}
    return {"ok": True}


def serve_fake_slack(port: int) -> None:
    web.run_app(fake_slack_app(), host=HOST, port=port, print=None)


# Loading


def rep_ids(reps: int, tenants: int) -> list[tuple[str, str]]:
    return [(f"TB{n % tenants:03d}", f"UB{n:05d}") for n in range(reps)]


def rep_profile(tenant: str, user: str) -> RepProfile:
    return RepProfile(tenant, user, name=f"Rep {user}", timezone="UTC", platform="slack")


def prospects_of(tenant: str, user: str, count: int, rng: random.Random) -> list[ProspectRecord]:
    records = []
    for number in range(count):
        start = None
        if number < CALLBACKS_PER_REP:
            start = MORNING + timedelta(hours=2 + number, minutes=rng.randrange(60))
        recycle = date(2026, 11, 20) if number == CALLBACKS_PER_REP else None
        records.append(
            ProspectRecord(
                tenant, user, f"prospect {number}@company {number}", f"Prospect {number}",
                f"Company {number}", attempts=1 + number % 5, voicemails_left=number % 3,
                next_call_start=start, next_call_end=start and start + timedelta(hours=1),
                recycle_on=recycle,
            )
        )  # fmt: skip
    return records


async def load(store: RedisStore, ids: list[tuple[str, str]], prospects: int) -> float:
    started = time.perf_counter()
    rng = random.Random(7)
    writes: list[Any] = []
    for tenant, user in ids:
        writes.append(store.save_rep(rep_profile(tenant, user)))
        writes += [store.save_prospect(r) for r in prospects_of(tenant, user, prospects, rng)]
    for start in range(0, len(writes), LOAD_CONCURRENCY):
        await asyncio.gather(*writes[start : start + LOAD_CONCURRENCY])
    # The steady state: the store fills a rep's own log of calls from their prospects' logs
    # on the first read after an upgrade, once; a morning after that reads it as it is.
    for start in range(0, len(ids), LOAD_CONCURRENCY):
        await asyncio.gather(
            *(store.rep_check_ins(t, u, MORNING, MORNING) for t, u in ids[start : start + 2_000])
        )
    return time.perf_counter() - started


async def make_due(store: RedisStore, ids: list[tuple[str, str]], morning: datetime) -> None:
    sends = [ScheduledSend(t, u, SendKind.REP_NUDGE, morning, "slack") for t, u in ids]
    for start in range(0, len(sends), LOAD_CONCURRENCY):
        await asyncio.gather(*(store.schedule_send(s) for s in sends[start : start + 2_000]))


async def time_finding(store: RedisStore, morning: datetime, reps: int) -> tuple[float, int]:
    """How long the schedule index takes to say who is due (in the batches a turn reads)."""
    started = time.perf_counter()
    found = len(await store.due_sends(morning + timedelta(seconds=1), reps))
    return time.perf_counter() - started, found


# The runs


@dataclass
class Run:
    workers: int
    find_seconds: float
    found: int
    delivered: int
    twice: int
    seconds_to_last: float
    rate: float
    peak_mb: list[float]


def worker_env(redis_url: str, prefix: str, api_url: str) -> dict[str, str]:
    ours = ("SLACK_", "REDIS_URL", "VOICEMAIL_COACH_", "PORT", "TEAMS_", "MICROSOFT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | {
        "REDIS_URL": redis_url,
        "VOICEMAIL_COACH_REDIS_PREFIX": prefix,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
    }


@dataclass(frozen=True)
class Setup:
    store: RedisStore
    ids: list[tuple[str, str]]
    env: dict[str, str]
    fake: str
    logs: Path


async def run_workers(count: int, morning: datetime, setup: Setup) -> Run:
    store, ids, env, fake, logs = setup.store, setup.ids, setup.env, setup.fake, setup.logs
    await make_due(store, ids, morning)
    find_seconds, found = await time_finding(store, morning, len(ids))
    async with aiohttp.ClientSession() as session:
        await session.post(f"{fake}/_bench/reset")
        started = time.monotonic()
        workers = []
        for number in range(count):
            port = free_port()
            argv = [sys.executable, "-m", "bench.worker_at", morning.isoformat(), "worker",
                    "--port", str(port)]  # fmt: skip
            child = spawn(f"worker{count}-{number}", argv, env, None, logs)
            workers.append((child, port))
        try:
            for child, port in workers:
                await wait_ready(session, child, f"http://{HOST}:{port}/readyz")
            stats = await wait_for_posts(session, fake, len(ids), workers[0][0])
            peaks = [peak_memory_mb(child) for child, _ in workers]
        finally:
            for child, _ in workers:
                stop(child)
    last = stats["last"] - started  # from the workers' start: the nudges were due already
    spread = max(stats["last"] - stats["first"], 1e-9)
    return Run(count, find_seconds, found, stats["channels"], stats["twice"], last,
               stats["posts"] / spread, peaks)  # fmt: skip


async def wait_for_posts(
    session: aiohttp.ClientSession, fake: str, expected: int, child: Child
) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        async with session.get(f"{fake}/_bench/stats") as response:
            stats: dict[str, Any] = await response.json()
        if stats["channels"] >= expected:
            await asyncio.sleep(1.0)  # any duplicate would arrive now
            async with session.get(f"{fake}/_bench/stats") as response:
                final: dict[str, Any] = await response.json()
            return final
        await asyncio.sleep(0.2)
    raise RuntimeError(f"only {stats['channels']} of {expected} nudges arrived:\n{child.tail()}")


def peak_memory_mb(child: Child) -> float:
    status = Path(f"/proc/{child.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def baseline(api_url: str, fake: str, ids: list[tuple[str, str]]) -> float:
    """Bare chat.postMessage calls, one per rep, from one process at CONCURRENT_JOBS."""
    async with aiohttp.ClientSession() as session:
        await session.post(f"{fake}/_bench/reset")
        client = AsyncWebClient(token=TOKEN, base_url=api_url, session=session)
        queue = list(ids)
        started = time.perf_counter()

        async def post_some() -> None:
            while queue:
                _, user = queue.pop()
                await client.chat_postMessage(channel=f"D{user}", text="Good morning")

        await asyncio.gather(*(post_some() for _ in range(CONCURRENT_JOBS)))
        return len(ids) / (time.perf_counter() - started)


def report(runs: list[Run], base_rate: float, load_seconds: float, reps: int) -> bool:
    print(f"loaded in {load_seconds:.1f} s; baseline: {base_rate:,.0f} chat.postMessage/s")
    print(f"{'workers':>7} {'find due':>9} {'delivered':>9} {'twice':>5} {'to last':>8} "
          f"{'rate/s':>7} {'x base':>6} {'peak MB':>8}")  # fmt: skip
    for run in runs:
        peaks = "/".join(f"{mb:.0f}" for mb in run.peak_mb)
        print(f"{run.workers:>7} {run.find_seconds * 1000:>7.0f}ms {run.delivered:>9,} "
              f"{run.twice:>5} {run.seconds_to_last:>7.1f}s {run.rate:>7,.0f} "
              f"{run.rate / base_rate:>6.2f} {peaks:>8}")  # fmt: skip
    one = runs[0]
    checks = {
        f"finding who is due < {TARGET_FIND_SECONDS:.0f} s": all(
            r.find_seconds < TARGET_FIND_SECONDS and r.found == reps for r in runs
        ),
        f"one worker's rate >= {TARGET_RATE_RATIO}x the baseline's": one.rate
        >= TARGET_RATE_RATIO * base_rate,
        f"peak memory < {TARGET_PEAK_MB:.0f} MB": all(
            mb < TARGET_PEAK_MB for r in runs for mb in r.peak_mb
        ),
        "every rep nudged exactly once": all(r.delivered == reps and r.twice == 0 for r in runs),
    }
    for name, met in checks.items():
        print(f"target: {name}: {'met' if met else 'NOT MET'}")
    return all(checks.values())


async def bench(args: argparse.Namespace) -> int:
    prefix = f"vcbench:{uuid4().hex}"
    ids = rep_ids(args.reps, args.tenants)
    fake_port = free_port()
    fake = f"http://{HOST}:{fake_port}"
    api_url = f"{fake}/api/"
    with tempfile.TemporaryDirectory(prefix="vc-nudges-") as directory:
        logs = Path(directory)
        serve = f"from bench.nudges import serve_fake_slack; serve_fake_slack({fake_port})"
        argv = [sys.executable, "-c", serve]
        fake_child = spawn("fake-slack", argv, dict(os.environ), None, logs)
        store = RedisStore.connect(args.redis_url, prefix=prefix)
        try:
            async with aiohttp.ClientSession() as session:
                await wait_ready(session, fake_child, f"{fake}/_bench/stats")
            print(f"loading {args.reps:,} reps x {args.prospects} prospects ...", flush=True)
            load_seconds = await load(store, ids, args.prospects)
            base_rate = await baseline(api_url, fake, ids)
            env = worker_env(args.redis_url, prefix, api_url)
            setup = Setup(store, ids, env, fake, logs)
            runs = []
            for day, count in enumerate(args.workers):  # a day each: the ledger starts afresh
                runs.append(await run_workers(count, MORNING + timedelta(days=day), setup))
            met = report(runs, base_rate, load_seconds, args.reps)
        finally:
            stop(fake_child)
            print(f"cleaned up {await delete_prefix(args.redis_url, prefix):,} Redis keys")
            await store.close()
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--prospects", type=int, default=50, help="per rep")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument(
        "--workers", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2],
        help="worker counts to run, in order (1,2)",
    )  # fmt: skip
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    args = parser.parse_args(argv)
    if args.reps < 1 or args.tenants < 1 or args.prospects < 1 or min(args.workers) < 1:
        parser.error("--reps, --tenants, --prospects and --workers must be >= 1")
    started = time.perf_counter()
    code = asyncio.run(bench(args))
    print(f"total {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
