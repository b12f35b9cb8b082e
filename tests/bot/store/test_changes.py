"""Read-modify-writes: each store applies a change to what is stored, with no write between.

The contract tests run on both stores through the `store` fixture; the concurrency tests run
writers in several processes at once against one SQLite file and one Redis prefix, as
replicas and command-line runs meet them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.records import CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig
from bot.store import RedisStore, SQLiteStore, Store
from bot.store.base import Change
from tests.bot.store.conftest import (
    NOW,
    OTHER_REP,
    OTHER_TENANT,
    REP,
    TEAM,
    TENANT,
    checked_in,
    opened,
    prospect,
    rep_profile,
)

KEY = prospect().key


def one_more_call(key: str, at_minutes: int = 0) -> Callable[[ProspectRecord | None], Change[int]]:
    """A change that logs one unanswered call (check-in key `key`) on the default prospect."""

    def change(found: ProspectRecord | None) -> Change[int]:
        record, check_in = checked_in(
            found or prospect(), Outcome.NO_ANSWER, NOW + timedelta(minutes=at_minutes), key=key
        )
        return Change(record, record.attempts, check_in)

    return change


def becomes(other: ProspectRecord) -> Callable[[ProspectRecord | None], Change[None]]:
    return lambda _: Change(other, None)


async def test_a_change_sees_the_stored_prospect_and_writes_its_result(store: Store) -> None:
    await store.save_prospect(prospect(attempts=2))
    changed = await store.change_prospect(
        TENANT, REP, KEY, lambda found: Change(replace(found or prospect(), attempts=3), found)
    )
    assert changed is not None
    assert changed.result == prospect(attempts=2)
    assert await store.get_prospect(TENANT, REP, KEY) == prospect(attempts=3)


@pytest.mark.parametrize("stale", [prospect(attempts=1), None])
async def test_a_change_given_a_stale_read_still_changes_what_is_stored(
    store: Store, stale: ProspectRecord | None
) -> None:
    await store.save_prospect(prospect(attempts=2))

    def one_more(found: ProspectRecord | None) -> Change[None]:
        record = found or prospect()
        return Change(replace(record, attempts=record.attempts + 1), None)

    await store.change_prospect(TENANT, REP, KEY, one_more, known=stale)
    assert await store.get_prospect(TENANT, REP, KEY) == prospect(attempts=3)


async def test_a_change_given_the_current_read_writes_it(store: Store) -> None:
    await store.save_prospect(prospect(attempts=2))
    current = await store.get_prospect(TENANT, REP, KEY)
    changed = await store.change_prospect(
        TENANT, REP, KEY, lambda found: Change(prospect(attempts=5), found), known=current
    )
    assert changed is not None and changed.result == prospect(attempts=2)
    assert await store.get_prospect(TENANT, REP, KEY) == prospect(attempts=5)


async def test_a_change_of_a_new_prospect_gets_none_and_creates_it(store: Store) -> None:
    changed = await store.change_prospect(TENANT, REP, KEY, lambda found: Change(prospect(), found))
    assert changed is not None and changed.result is None
    assert await store.get_prospect(TENANT, REP, KEY) == prospect()


async def test_a_change_with_a_check_in_logs_it_with_the_prospect(store: Store) -> None:
    changed = await store.change_prospect(TENANT, REP, KEY, one_more_call("k1"))
    assert changed is not None and changed.result == 1
    assert (await store.get_prospect(TENANT, REP, KEY)) == changed.record
    assert [c.outcome for c in await store.prospect_log(TENANT, REP, KEY)] == [Outcome.NO_ANSWER]
    team_log = await store.team_check_ins(TENANT, TEAM, NOW, NOW + timedelta(seconds=1))
    assert [c.key for c in team_log] == ["k1"]


async def test_a_check_in_whose_key_was_seen_writes_nothing(store: Store) -> None:
    assert await store.change_prospect(TENANT, REP, KEY, one_more_call("once")) is not None
    assert await store.change_prospect(TENANT, REP, KEY, one_more_call("once", 5)) is None
    stored = await store.get_prospect(TENANT, REP, KEY)
    assert stored is not None and stored.attempts == 1
    assert len(await store.prospect_log(TENANT, REP, KEY)) == 1


async def test_a_change_that_raises_writes_nothing(store: Store) -> None:
    await store.save_prospect(prospect(attempts=2))

    def refuse(found: ProspectRecord | None) -> Change[None]:
        raise LookupError("no")

    with pytest.raises(LookupError):
        await store.change_prospect(TENANT, REP, KEY, refuse)
    assert await store.get_prospect(TENANT, REP, KEY) == prospect(attempts=2)
    assert await store.prospect_log(TENANT, REP, KEY) == []


async def test_a_change_may_not_write_another_reps_or_tenants_prospect(store: Store) -> None:
    for other in (prospect(rep_id=OTHER_REP), prospect(tenant=OTHER_TENANT), prospect("X Y")):
        with pytest.raises(ValueError):
            await store.change_prospect(TENANT, REP, KEY, becomes(other))
    assert await store.get_prospect(TENANT, OTHER_REP, KEY) is None
    assert await store.get_prospect(OTHER_TENANT, REP, KEY) is None


async def test_concurrent_changes_of_one_prospect_all_count(store: Store) -> None:
    calls = 20
    await asyncio.gather(
        *(store.change_prospect(TENANT, REP, KEY, one_more_call(f"k{i}", i)) for i in range(calls))
    )
    stored = await store.get_prospect(TENANT, REP, KEY)
    assert stored is not None and stored.attempts == calls
    assert len(await store.prospect_log(TENANT, REP, KEY, limit=100)) == calls


async def test_change_rep_writes_what_the_change_returns(store: Store) -> None:
    made = await store.change_rep(TENANT, REP, lambda stored: stored or rep_profile())
    assert made == rep_profile() == await store.get_rep(TENANT, REP)
    renamed = await store.change_rep(
        TENANT, REP, lambda stored: replace(stored or rep_profile(), name="Ann Lee")
    )
    assert renamed.name == "Ann Lee"
    assert await store.get_rep(TENANT, REP) == renamed
    assert [rep.user_id for rep in await store.reps_in_team(TENANT, TEAM)] == [REP]


async def test_change_rep_to_another_team_moves_the_rep(store: Store) -> None:
    await store.save_rep(rep_profile())
    await store.change_rep(TENANT, REP, lambda stored: replace(stored or rep_profile(), team="w"))
    assert await store.reps_in_team(TENANT, TEAM) == []
    assert [rep.user_id for rep in await store.reps_in_team(TENANT, "w")] == [REP]


async def test_change_team_starts_from_the_defaults_and_keeps_the_change(store: Store) -> None:
    changed = await store.change_team(
        TENANT, TEAM, lambda team: replace(team, settings=team.settings.changed("min_gap", 3))
    )
    assert changed.settings.min_gap == 3
    assert await store.get_team(TENANT, TEAM) == changed
    assert await store.get_team(OTHER_TENANT, TEAM) == TeamConfig(OTHER_TENANT, TEAM)


async def test_concurrent_changes_of_a_rep_and_a_team_all_count(store: Store) -> None:
    def longer_pitch(stored: RepProfile | None) -> RepProfile:
        rep = stored or rep_profile(pitch="")
        return replace(rep, pitch=rep.pitch + "x")

    def one_day_longer(team: TeamConfig) -> TeamConfig:
        return replace(
            team, settings=team.settings.changed("recycle_days", team.settings.recycle_days + 1)
        )

    await asyncio.gather(
        *(store.change_rep(TENANT, REP, longer_pitch) for _ in range(15)),
        *(store.change_team(TENANT, TEAM, one_day_longer) for _ in range(15)),
    )
    rep = await store.get_rep(TENANT, REP)
    assert rep is not None and rep.pitch == "x" * 15
    assert (await store.get_team(TENANT, TEAM)).settings.recycle_days == 90 + 15


async def test_change_document_creates_changes_and_deletes(store: Store) -> None:
    assert await store.change_document(TENANT, "note", "k", lambda body: body) is None
    assert await store.change_document(TENANT, "note", "k", lambda body: "a") == "a"
    assert await store.change_document(TENANT, "note", "k", lambda body: f"{body}b") == "ab"
    assert await store.get_document(TENANT, "note", "k") == "ab"
    assert await store.get_document(OTHER_TENANT, "note", "k") is None
    assert await store.change_document(TENANT, "note", "k", lambda body: None) is None
    assert await store.get_document(TENANT, "note", "k") is None


async def test_change_document_keeps_an_expiry(store: Store) -> None:
    await store.put_document(TENANT, "state", "s", "1", ttl_seconds=600)
    await store.change_document(TENANT, "state", "s", lambda body: f"{body}2")
    assert await store.get_document(TENANT, "state", "s") == "12"
    if isinstance(store, RedisStore):
        ttl = await store.client.ttl(store.keys.document(TENANT, "state", "s"))
        assert 0 < ttl <= 600
    else:
        assert isinstance(store, SQLiteStore)
        expiry = await store._run(
            lambda: store.db.execute("SELECT expires_at FROM documents").fetchone()
        )
        assert expiry[0] is not None


async def test_concurrent_changes_of_a_document_all_count(store: Store) -> None:
    await asyncio.gather(
        *(store.change_document(TENANT, "note", "k", lambda body: (body or "") + "x")
          for _ in range(20))
    )  # fmt: skip
    assert await store.get_document(TENANT, "note", "k") == "x" * 20


# Writers in several processes


PROCESSES = 4
CALLS_EACH = 12


def write_from_a_process(
    kind: str, where: str, writer: int, start: multiprocessing.synchronize.Barrier
) -> None:
    """One process: a check-in, a profile change and a document change, CALLS_EACH times,
    once all have started."""
    start.wait(timeout=60)
    asyncio.run(_write(kind, where, writer))


async def _write(kind: str, where: str, writer: int) -> None:
    def longer_pitch(stored: RepProfile | None) -> RepProfile:
        rep = stored or rep_profile(pitch="")
        return replace(rep, pitch=rep.pitch + str(writer))

    async with opened(kind, where) as store:
        for call in range(CALLS_EACH):
            await store.change_prospect(TENANT, REP, KEY, one_more_call(f"w{writer}-{call}", call))
            await store.change_rep(TENANT, REP, longer_pitch)
            await store.change_document(TENANT, "note", "k", lambda body: f"{body or ''}{writer}")


async def test_check_ins_from_concurrent_processes_all_count(shared_store: tuple[str, str]) -> None:
    kind, where = shared_store
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(PROCESSES)
    writers = [
        spawn.Process(target=write_from_a_process, args=(kind, where, writer, start))
        for writer in range(PROCESSES)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [process.exitcode for process in writers] == [0] * PROCESSES

    async with opened(kind, where) as store:
        stored = await store.get_prospect(TENANT, REP, KEY)
        log: list[CheckIn] = await store.prospect_log(TENANT, REP, KEY, limit=1000)
        rep = await store.get_rep(TENANT, REP)
        document = await store.get_document(TENANT, "note", "k")
    total = PROCESSES * CALLS_EACH
    assert stored is not None and stored.attempts == total
    assert len(log) == total
    every_change = "".join(str(writer) * CALLS_EACH for writer in range(PROCESSES))
    assert rep is not None and sorted(rep.pitch) == sorted(every_change)
    assert document is not None and sorted(document) == sorted(every_change)
