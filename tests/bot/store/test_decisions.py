"""change_decision: a decision's reads (the rep's profile, their team, the prospect) and its
writes at once, on both stores; and from several processes at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.records import CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig
from bot.store import Store
from bot.store.base import Change, DecisionChange
from tests.bot.store.conftest import (
    NOW,
    OTHER_REP,
    REP,
    TEAM,
    TENANT,
    checked_in,
    opened,
    prospect,
    rep_profile,
    team_config,
)

KEY = prospect().key
Seen = tuple[RepProfile, TeamConfig, ProspectRecord | None]


def seeing(record: ProspectRecord) -> DecisionChange[Seen]:
    """A change that stores `record` and answers what it was given."""
    return lambda rep, team, found: Change(record, (rep, team, found))


def one_more_call(key: str, at_minutes: int = 0) -> DecisionChange[int]:
    """A change that logs one unanswered call (check-in key `key`) on the default prospect."""

    def change(rep: RepProfile, team: TeamConfig, found: ProspectRecord | None) -> Change[int]:
        record, check_in = checked_in(
            found or prospect(), Outcome.NO_ANSWER, NOW + timedelta(minutes=at_minutes), key=key
        )
        return Change(record, record.attempts, check_in)

    return change


def keep(stored: RepProfile | None) -> RepProfile:
    return stored or rep_profile()


async def test_a_decision_sees_the_stored_profile_its_team_and_the_prospect(store: Store) -> None:
    await store.save_rep(rep_profile())
    await store.save_team(team_config())
    await store.save_prospect(prospect(attempts=2))
    decided = await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect(attempts=3)))
    assert decided.rep_before == decided.rep == rep_profile()
    assert decided.change is not None
    assert decided.change.result == (rep_profile(), team_config(), prospect(attempts=2))
    assert await store.get_prospect(TENANT, REP, KEY) == prospect(attempts=3)


async def test_a_first_decision_makes_the_profile_and_the_prospect(store: Store) -> None:
    decided = await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect()))
    assert decided.rep_before is None and decided.rep == rep_profile()
    assert decided.change is not None
    assert decided.change.result == (rep_profile(), TeamConfig(TENANT, TEAM), None)
    assert await store.get_rep(TENANT, REP) == rep_profile()
    assert await store.get_prospect(TENANT, REP, KEY) == prospect()
    assert await store.reps_in_team(TENANT, TEAM) == [rep_profile()]


async def test_a_decision_reads_the_team_of_the_profile_as_changed(store: Store) -> None:
    await store.save_rep(rep_profile())
    west = replace(team_config(team="west"), playbook="direct")
    await store.save_team(west)
    decided = await store.change_decision(
        TENANT, REP, KEY, lambda stored: replace(keep(stored), team="west"), seeing(prospect())
    )
    assert decided.change is not None and decided.change.result[1] == west
    assert await store.reps_in_team(TENANT, "west") == [rep_profile(team="west")]
    assert await store.reps_in_team(TENANT, TEAM) == []


async def test_a_decision_sees_what_was_written_since_the_last_one(store: Store) -> None:
    """What a store remembers of the last decision (Redis guesses with it) is never what the
    next decision goes on once another write has changed it."""
    await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect(attempts=1)))
    await store.save_rep(rep_profile(pitch="a new pitch"))
    await store.save_team(team_config())
    await store.save_prospect(prospect(attempts=7))
    decided = await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect(attempts=8)))
    assert decided.change is not None
    assert decided.change.result == (
        rep_profile(pitch="a new pitch"),
        team_config(),
        prospect(attempts=7),
    )
    await store.forget_prospect(TENANT, REP, KEY)
    decided = await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect()))
    assert decided.change is not None and decided.change.result[2] is None


async def test_a_decision_with_a_check_in_logs_it_once(store: Store) -> None:
    first = await store.change_decision(TENANT, REP, KEY, keep, one_more_call("k1"))
    again = await store.change_decision(
        TENANT, REP, KEY, lambda stored: replace(keep(stored), pitch="new"), one_more_call("k1")
    )
    assert first.change is not None and first.change.result == 1
    assert again.change is None  # the key was seen: neither the prospect nor a check-in
    stored = await store.get_prospect(TENANT, REP, KEY)
    assert stored is not None and stored.attempts == 1
    assert len(await store.prospect_log(TENANT, REP, KEY)) == 1
    assert await store.get_rep(TENANT, REP) == rep_profile(pitch="new")  # the profile was


async def test_a_decision_that_raises_writes_nothing(store: Store) -> None:
    def fails(rep: RepProfile, team: TeamConfig, found: ProspectRecord | None) -> Change[None]:
        raise LookupError("no such prospect")

    with pytest.raises(LookupError):
        await store.change_decision(TENANT, REP, KEY, keep, fails)
    assert await store.get_rep(TENANT, REP) is None
    assert await store.get_prospect(TENANT, REP, KEY) is None


async def test_a_decision_may_not_write_another_reps_profile_or_prospect(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.change_decision(
            TENANT, REP, KEY, lambda _: rep_profile(OTHER_REP), seeing(prospect())
        )
    with pytest.raises(ValueError):
        await store.change_decision(TENANT, REP, KEY, keep, seeing(prospect(rep_id=OTHER_REP)))
    assert await store.get_rep(TENANT, OTHER_REP) is None
    assert await store.get_prospect(TENANT, OTHER_REP, KEY) is None


async def test_concurrent_decisions_all_count(store: Store) -> None:
    def longer_pitch(stored: RepProfile | None) -> RepProfile:
        rep = stored or rep_profile(pitch="")
        return replace(rep, pitch=rep.pitch + "x")

    await asyncio.gather(
        *(
            store.change_decision(TENANT, REP, KEY, longer_pitch, one_more_call(f"k{n}", n))
            for n in range(20)
        )
    )
    stored = await store.get_prospect(TENANT, REP, KEY)
    assert stored is not None and stored.attempts == 20
    rep = await store.get_rep(TENANT, REP)
    assert rep is not None and rep.pitch == "x" * 20


# Deciders in several processes


PROCESSES = 4
CALLS_EACH = 12


def decide_from_a_process(
    kind: str, where: str, writer: int, start: multiprocessing.synchronize.Barrier
) -> None:
    start.wait(timeout=60)
    asyncio.run(_decide(kind, where, writer))


async def _decide(kind: str, where: str, writer: int) -> None:
    def longer_pitch(stored: RepProfile | None) -> RepProfile:
        rep = stored or rep_profile(pitch="")
        return replace(rep, pitch=rep.pitch + str(writer))

    async with opened(kind, where) as store:
        for call in range(CALLS_EACH):
            change = one_more_call(f"w{writer}-{call}", call)
            await store.change_decision(TENANT, REP, KEY, longer_pitch, change)


async def test_decisions_from_concurrent_processes_all_count(
    shared_store: tuple[str, str],
) -> None:
    kind, where = shared_store
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(PROCESSES)
    deciders = [
        spawn.Process(target=decide_from_a_process, args=(kind, where, writer, start))
        for writer in range(PROCESSES)
    ]
    for process in deciders:
        process.start()
    for process in deciders:
        process.join(timeout=120)
    assert [process.exitcode for process in deciders] == [0] * PROCESSES

    async with opened(kind, where) as store:
        stored = await store.get_prospect(TENANT, REP, KEY)
        log: list[CheckIn] = await store.prospect_log(TENANT, REP, KEY, limit=1000)
        rep = await store.get_rep(TENANT, REP)
    total = PROCESSES * CALLS_EACH
    assert stored is not None and stored.attempts == total
    assert len(log) == total
    every_change = "".join(str(writer) * CALLS_EACH for writer in range(PROCESSES))
    assert rep is not None and sorted(rep.pitch) == sorted(every_change)
