"""Store latency, SQLite against Redis, on a realistic book of prospects.

    .venv/bin/python bench/store.py [--reps 100 --prospects 1000 --samples 2000]

Loads the same data into a temporary SQLite file and into Redis under a prefix of its own
(deleted at the end): `--reps` reps in teams of ten, `--prospects` prospects each, and a
few check-ins per prospect made with bot.checkins.apply_check_in. Then times, one request
at a time, through bot.coach.Coach as a chat request meets it:
  - a decision: profile and prospect, team, policy.decide, and the write that remembers it
    (change_prospect: atomic, and on Redis conditional on the prospect read);
  - a check-in: profile and prospect, team, apply_check_in, and its atomic write;
  - "call-backs due today": callbacks_due for one rep up to the end of their local day,
and prints p50 and p99 in milliseconds for both stores in one table.

Loading goes around the per-request paths: SQLite takes the rows in one transaction
(the schema is SQLiteStore's), Redis takes pipelined batches of check-ins.
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
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from uuid import uuid4
from zoneinfo import ZoneInfo

from bench._redis import delete_prefix
from bot.checkins import apply_check_in
from bot.coach import Coach
from bot.commands import Facts, ProspectRef
from bot.records import (
    Advice,
    CheckIn,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
    prospect_key,
)
from bot.store import RedisStore, SQLiteStore, Store
from bot.types import Actor, Platform, Tone
from policy import Action, Relationship

TENANT = "T-bench"
REPS_PER_TEAM = 10
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)  # a Wednesday, mid-morning in New York
REP_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles")
BRANDS = ("Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark", "Wayne", "Tyrell", "Soylent")
COMPANIES = tuple(f"{brand} {kind}" for brand in BRANDS for kind in ("Inc", "Labs", "Group"))
RELATIONSHIPS = (
    Relationship.STRANGER,
    Relationship.STRANGER,
    Relationship.KNOWN,
    Relationship.CLIENT,
)
DIALS = (Outcome.NO_ANSWER, Outcome.LEFT, Outcome.SKIPPED, Outcome.GATEKEEPER, Outcome.ZERO)
DIAL_WEIGHTS = (40, 30, 15, 10, 5)
TARGET_P99_MS = 5.0
LOAD_BATCH = 2_000
WARM_UP = 50

Pair = tuple[ProspectRecord, CheckIn]


@dataclass
class Book:
    """What was loaded, so requests can pick existing reps and prospects."""

    keys: dict[str, list[str]] = field(default_factory=dict)
    reps: dict[str, RepProfile] = field(default_factory=dict)
    check_ins: int = 0


# Building the data


def rep_profiles(count: int) -> list[RepProfile]:
    return [
        RepProfile(
            tenant=TENANT,
            user_id=f"U{number:05d}",
            name=f"Rep {number}",
            company="Northwind",
            phone="+1 555 010 0100",
            pitch="we cut onboarding time in half",
            timezone=REP_ZONES[number % len(REP_ZONES)],
            team=f"team-{number // REPS_PER_TEAM}",
        )
        for number in range(count)
    ]


def prospect_histories(
    rep: RepProfile, count: int, team: TeamConfig, rng: random.Random
) -> Iterator[list[Pair]]:
    """Each prospect's check-ins in order, each with the prospect as it stood after it."""
    for number in range(count):
        name, company = f"Prospect {number}", rng.choice(COMPANIES)
        record = ProspectRecord(
            TENANT,
            rep.user_id,
            prospect_key(name, company),
            name,
            company,
            relationship=rng.choice(RELATIONSHIPS),
            timezone=rng.choice((None, *REP_ZONES)),
        )
        yield list(_story(record, rep, team, rng))


def _story(
    record: ProspectRecord, rep: RepProfile, team: TeamConfig, rng: random.Random
) -> Iterator[Pair]:
    """Still being worked (15%), paused after a no or a final message (45%), or talked to."""
    roll = rng.random()
    if roll < 0.15:
        dials, ending, days_ago = rng.randint(0, 2), rng.choice(DIALS), rng.randint(1, 3)
    elif roll < 0.60:
        dials, ending, days_ago = rng.randint(1, 3), Outcome.NOT_INTERESTED, rng.randint(5, 80)
    else:
        dials, ending, days_ago = rng.randint(0, 2), Outcome.MEETING, rng.randint(3, 120)
    outcomes = [*rng.choices(DIALS, DIAL_WEIGHTS, k=dials), ending]
    at = _call_time(NOW.date() - timedelta(days=days_ago), rng)
    moments = [at - timedelta(days=2 * (len(outcomes) - 1 - step)) for step in range(len(outcomes))]
    for step, (outcome, moment) in enumerate(zip(outcomes, moments, strict=True)):
        if rng.random() < 0.7:
            advice = Advice(Action.LEAVE_VOICEMAIL, "bench-advice", moment - timedelta(minutes=2))
            record = replace(record, last_advice=advice)
        key = f"load:{record.rep_id}:{record.key}:{step}"
        record, check_in = apply_check_in(record, outcome, moment, rep=rep, team=team, key=key)
        yield record, check_in


def _call_time(day: date, rng: random.Random) -> datetime:
    """Some time in a US working day."""
    start = datetime.combine(day, clock(13, 0), tzinfo=UTC)
    return start + timedelta(minutes=rng.randrange(0, 8 * 60))


# Loading


class SQLiteLoader:
    """Rows straight into SQLiteStore's tables, in one transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.execute("BEGIN")

    def add(self, histories: list[list[Pair]]) -> None:
        finals = [history[-1][0] for history in histories]
        check_ins = [check_in for history in histories for _, check_in in history]
        self.db.executemany(
            "INSERT OR REPLACE INTO prospects VALUES (?, ?, ?, ?, ?, ?)",
            [_prospect_row(record) for record in finals],
        )
        self.db.executemany(
            "INSERT INTO check_ins (tenant, rep_id, team, prospect_key, at, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [_check_in_row(check_in) for check_in in check_ins],
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO seen_keys VALUES (?, ?, ?)",
            [(c.tenant, c.key, c.at.timestamp()) for c in check_ins],
        )

    def finish(self) -> None:
        self.db.execute("COMMIT")


def _prospect_row(record: ProspectRecord) -> tuple[object, ...]:
    next_call = record.next_call_start
    recycle_on = record.recycle_on
    return (
        record.tenant,
        record.rep_id,
        record.key,
        record.to_json(),
        None if next_call is None else next_call.timestamp(),
        None if recycle_on is None else recycle_on.isoformat(),
    )


def _check_in_row(check_in: CheckIn) -> tuple[object, ...]:
    return (
        check_in.tenant,
        check_in.rep_id,
        check_in.team,
        check_in.prospect_key,
        check_in.at.timestamp(),
        check_in.to_json(),
    )


async def load_redis(store: RedisStore, histories: list[list[Pair]]) -> None:
    pairs = [pair for history in histories for pair in history]
    for start in range(0, len(pairs), LOAD_BATCH):
        written = await store.record_check_ins(pairs[start : start + LOAD_BATCH])
        assert all(written), "a loaded check-in was refused as a duplicate"


async def load(
    sqlite: SQLiteStore, redis_store: RedisStore, reps: int, prospects: int
) -> tuple[Book, dict[str, float]]:
    book, seconds = Book(), {"sqlite": 0.0, "redis": 0.0}
    rng = random.Random(20250312)
    teams = {rep.team: TeamConfig(TENANT, rep.team) for rep in rep_profiles(reps)}
    for store in (sqlite, redis_store):
        for rep in rep_profiles(reps):
            await store.save_rep(rep)
        for team in teams.values():
            await store.save_team(team)
    loader = SQLiteLoader(sqlite.db)
    for rep in rep_profiles(reps):
        histories = list(prospect_histories(rep, prospects, teams[rep.team], rng))
        book.reps[rep.user_id] = rep
        book.keys[rep.user_id] = [history[-1][0].key for history in histories]
        book.check_ins += sum(map(len, histories))
        started = time.perf_counter()
        loader.add(histories)
        seconds["sqlite"] += time.perf_counter() - started
        started = time.perf_counter()
        await load_redis(redis_store, histories)
        seconds["redis"] += time.perf_counter() - started
    started = time.perf_counter()
    loader.finish()
    seconds["sqlite"] += time.perf_counter() - started
    return book, seconds


# The requests


async def decision_request(store: Store, rep_id: str, key: str, now: datetime) -> None:
    """`/voicemail <name> @ <company>`, through the coach a chat request meets."""
    reply = await Coach(store, clock=lambda: now).ask(_actor(rep_id), _who(key), Facts())
    assert reply.tone is Tone.DECISION


async def check_in_request(store: Store, rep_id: str, key: str, now: datetime) -> None:
    """`/voicemail log <name> @ <company> no-answer`, likewise."""
    coach = Coach(store, clock=lambda: now)
    reply = await coach.log_outcome(_actor(rep_id), _who(key), Outcome.NO_ANSWER, "", uuid4().hex)
    assert reply.tone is Tone.DONE


def _actor(rep_id: str) -> Actor:
    return Actor(platform=Platform.SLACK, tenant=TENANT, user_id=rep_id)


def _who(key: str) -> ProspectRef:
    name, company = key.split("@", 1)  # the bench's keys are its names, case-folded
    return ProspectRef(name, company)


def end_of_local_day(rep: RepProfile, now: datetime) -> datetime:
    zone = ZoneInfo(rep.timezone or "UTC")
    return datetime.combine(now.astimezone(zone).date(), clock.max, tzinfo=zone)


# Measuring


Request = Callable[[Store, str, str, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p99_ms: float


async def time_requests(store: Store, request: Request, book: Book, samples: int) -> Timing:
    """Latency of `samples` requests one after another, on prospects picked at random."""
    rng = random.Random(7)  # the same picks for both stores
    reps = sorted(book.keys)
    durations: list[float] = []
    for number in range(WARM_UP + samples):
        rep_id = rng.choice(reps)
        key = rng.choice(book.keys[rep_id])
        now = NOW + timedelta(seconds=number)
        started = time.perf_counter()
        await request(store, rep_id, key, now)
        if number >= WARM_UP:
            durations.append(time.perf_counter() - started)
    return _percentiles(durations)


async def time_callbacks_due(store: Store, book: Book, samples: int) -> tuple[Timing, float]:
    """Latency of "call-backs due today" for a random rep, and how many were due on average."""
    rng = random.Random(11)
    reps = sorted(book.reps)
    durations: list[float] = []
    found: list[int] = []
    for number in range(WARM_UP + samples):
        rep = book.reps[rng.choice(reps)]
        started = time.perf_counter()
        due = await store.callbacks_due(TENANT, rep.user_id, end_of_local_day(rep, NOW))
        if number >= WARM_UP:
            durations.append(time.perf_counter() - started)
            found.append(len(due))
    return _percentiles(durations), statistics.fmean(found)


def _percentiles(durations: list[float]) -> Timing:
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    return Timing(p50_ms=cuts[49] * 1000, p99_ms=cuts[98] * 1000)


REQUESTS: tuple[tuple[str, Request], ...] = (
    ("decision request", decision_request),
    ("check-in write", check_in_request),
)


async def measure(stores: dict[str, Store], book: Book, samples: int) -> list[Row]:
    """Each kind of request on each store in turn; both stores see the same requests."""
    rows: list[Row] = []
    for label, request in REQUESTS:
        timings = {
            name: await time_requests(s, request, book, samples) for name, s in stores.items()
        }
        rows.append(Row(label, timings))
    timings, due = {}, {}
    for name, store in stores.items():
        timings[name], due[name] = await time_callbacks_due(store, book, samples)
    assert len(set(due.values())) == 1, f"the stores disagree on what is due: {due}"
    rows.append(Row(f"call-backs due today ({due['redis']:.0f} avg)", timings))
    return rows


@dataclass(frozen=True)
class Row:
    label: str
    timings: dict[str, Timing]


def table(rows: list[Row]) -> str:
    header = (
        f"{'operation':<36}{'sqlite p50':>12}{'sqlite p99':>12}"
        f"{'redis p50':>12}{'redis p99':>12}   redis p99 < {TARGET_P99_MS:g} ms"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        sqlite, shared = row.timings["sqlite"], row.timings["redis"]
        verdict = "met" if shared.p99_ms < TARGET_P99_MS else "NOT MET"
        lines.append(
            f"{row.label:<36}{sqlite.p50_ms:>9.3f} ms{sqlite.p99_ms:>9.3f} ms"
            f"{shared.p50_ms:>9.3f} ms{shared.p99_ms:>9.3f} ms   {verdict}"
        )
    return "\n".join(lines)


# Running


async def run(reps: int, prospects: int, samples: int, redis_url: str) -> bool:
    """Load, time and print; whether every Redis p99 met its target."""
    prefix = f"vcbench:{uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="vc-bench-") as directory:
        sqlite = await SQLiteStore.open(Path(directory) / "bench.db")
        shared = await RedisStore.open(redis_url, prefix=prefix)
        try:
            print(f"loading {reps} reps x {prospects:,} prospects ...", flush=True)
            book, load_seconds = await load(sqlite, shared, reps, prospects)
            print(
                f"loaded {reps * prospects:,} prospects and {book.check_ins:,} check-ins "
                f"(sqlite {load_seconds['sqlite']:.1f} s, redis {load_seconds['redis']:.1f} s); "
                f"timing {samples:,} requests of each kind per store, one at a time",
                flush=True,
            )
            rows = await measure({"sqlite": sqlite, "redis": shared}, book, samples)
            print()
            print(table(rows))
            return all(row.timings["redis"].p99_ms < TARGET_P99_MS for row in rows)
        finally:
            await sqlite.close()
            print(f"\ncleaned up {await delete_prefix(redis_url, prefix):,} Redis keys")
            await shared.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--prospects", type=int, default=1_000, help="per rep")
    parser.add_argument("--samples", type=int, default=2_000, help="timed requests per kind")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    met = asyncio.run(run(args.reps, args.prospects, args.samples, args.redis_url))
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
