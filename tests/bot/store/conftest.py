"""Builders for the store tests: small records with realistic values, changed per test; and
stores for them: one whose clock a test moves, and one that several processes can open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bot.checkins import apply_check_in
from bot.records import Advice, CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig
from bot.store import RedisStore, SQLiteStore, Store
from bot.types import Role
from policy import Action, Relationship, Settings
from tests.conftest import delete_prefix, reachable_redis_url

TENANT = "T-acme"
OTHER_TENANT = "T-globex"
REP = "U-ann"
OTHER_REP = "U-bob"
TEAM = "east"
NOW = datetime(2025, 3, 10, 14, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.date()
PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE = timezone(timedelta(hours=-5))


def rep_profile(user_id: str = REP, *, tenant: str = TENANT, **changes: Any) -> RepProfile:
    rep = RepProfile(
        tenant=tenant,
        user_id=user_id,
        name="Ann Smith",
        company="Acme",
        phone="+1 555 010 0100",
        pitch="we cut onboarding time in half",
        timezone="America/New_York",
        role=Role.REP,
        team=TEAM,
    )
    return replace(rep, **changes)


def team_config(tenant: str = TENANT, team: str = TEAM) -> TeamConfig:
    settings = (
        Settings()
        .changed("final-attempt", 4)
        .changed(
            "scripts",
            {"final": "Hi $prospect, $rep here, last try. Call $phone, that is $phone_slow."},
        )
    )
    return TeamConfig(tenant, team, playbook="rapport-series", settings=settings)


def prospect(
    name: str = "Dana Lee",
    company: str = "Initech",
    *,
    tenant: str = TENANT,
    rep_id: str = REP,
    key: str | None = None,
    **facts: Any,
) -> ProspectRecord:
    record = ProspectRecord(
        tenant=tenant,
        rep_id=rep_id,
        key=key or f"{name.casefold()}@{company.casefold()}",
        name=name,
        company=company,
    )
    return replace(record, **facts)


def full_prospect() -> ProspectRecord:
    """A prospect with every field away from its default, zone offsets included."""
    return prospect(
        relationship=Relationship.REFERRED,
        referred_by="Sam Ortiz",
        new_in_role=True,
        open_followup="the Q2 proposal",
        expecting_response=True,
        timezone="Europe/Berlin",
        region="DE",
        last_conversation=date(2024, 11, 5),
        recycle_on=date(2025, 6, 9),
        attempts=3,
        voicemails_left=1,
        attempts_since_voicemail=2,
        dialed_zero=True,
        recent_dials=(
            datetime(2025, 3, 5, 9, 15, tzinfo=PLUS_TWO),
            datetime(2025, 3, 7, 16, 45, 30, 120000, tzinfo=MINUS_FIVE),
        ),
        next_call_start=datetime(2025, 3, 11, 8, 0, tzinfo=PLUS_TWO),
        next_call_end=datetime(2025, 3, 11, 9, 0, tzinfo=PLUS_TWO),
        last_advice=Advice(Action.FINAL_VOICEMAIL, "final-at-fifth", NOW - timedelta(minutes=5)),
    )


def due_at(record: ProspectRecord, start: datetime | None) -> ProspectRecord:
    """The record with its next call-back window starting at `start` (None: nothing due)."""
    end = None if start is None else start + timedelta(hours=1)
    return replace(record, next_call_start=start, next_call_end=end)


def checked_in(
    record: ProspectRecord,
    outcome: Outcome = Outcome.NO_ANSWER,
    at: datetime = NOW,
    *,
    key: str = "",
    team: str = TEAM,
) -> tuple[ProspectRecord, CheckIn]:
    """The prospect after this call and the log entry, as the coach would make them."""
    rep = rep_profile(record.rep_id, tenant=record.tenant, team=team)
    return apply_check_in(
        record, outcome, at, rep=rep, team=TeamConfig(record.tenant, team), key=key
    )


class Clock:
    """Epoch seconds that stand still until a test moves them (a store's lease clock)."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "redis"])
async def clocked_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    """Each store in turn, reading `clock` for its leases and expiry."""
    store: Store
    if request.param == "sqlite":
        store = await SQLiteStore.open(tmp_path / "store.db", clock=clock)
        try:
            yield store
        finally:
            await store.close()
    else:
        url, prefix = reachable_redis_url(), f"vctest:{uuid4().hex}"
        store = await RedisStore.open(url, prefix=prefix, clock=clock)
        try:
            yield store
        finally:
            await store.close()
            await delete_prefix(url, prefix)


@asynccontextmanager
async def opened(kind: str, where: str) -> AsyncIterator[Store]:
    """The store a process opens: the SQLite file at `where`, or Redis under prefix `where`."""
    store: Store
    if kind == "sqlite":
        store = await SQLiteStore.open(where)
    else:
        store = await RedisStore.open(reachable_redis_url(), prefix=where)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "redis"])
async def shared_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """(kind, where) of a store that processes can open: a file, or a Redis prefix of its own."""
    if request.param == "sqlite":
        path = tmp_path / "shared.db"
        async with opened("sqlite", str(path)):  # made and migrated before the writers race
            pass
        yield "sqlite", str(path)
    else:
        url, prefix = reachable_redis_url(), f"vctest:{uuid4().hex}"
        try:
            yield "redis", prefix
        finally:
            await delete_prefix(url, prefix)
