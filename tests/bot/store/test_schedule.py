"""The schedule index: each recipient's next send of each kind, found by instant across tenants.

Contract tests run on both stores; the race runs movers in several processes on one store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
from datetime import UTC, datetime, timedelta

import pytest

from bot.records import ScheduledSend, SendKind
from bot.store import RedisStore, SQLiteStore, Store
from tests.bot.store.conftest import (
    MINUS_FIVE,
    NOW,
    OTHER_REP,
    OTHER_TENANT,
    PLUS_TWO,
    REP,
    TENANT,
    opened,
)

NUDGE, DAILY, WEEKLY = SendKind.REP_NUDGE, SendKind.DAILY_DIGEST, SendKind.WEEKLY_DIGEST
MINUTE = timedelta(minutes=1)


def send(
    user_id: str = REP,
    kind: SendKind = NUDGE,
    due_at: datetime = NOW,
    *,
    tenant: str = TENANT,
    adapter: str = "slack",
) -> ScheduledSend:
    return ScheduledSend(tenant, user_id, kind, due_at, adapter)


async def test_a_scheduled_send_round_trips_as_an_aware_utc_moment(store: Store) -> None:
    at = datetime(2025, 3, 11, 8, 0, 0, 123456, tzinfo=PLUS_TWO)
    await store.schedule_send(send(due_at=at, adapter="teams"))
    got = await store.get_send(TENANT, REP, NUDGE)
    assert got == send(due_at=at, adapter="teams")
    assert got is not None and got.due_at.tzinfo == UTC
    assert await store.get_send(TENANT, REP, DAILY) is None
    assert await store.get_send(OTHER_TENANT, REP, NUDGE) is None


async def test_scheduling_again_replaces_the_send(store: Store) -> None:
    await store.schedule_send(send(due_at=NOW))
    await store.schedule_send(send(due_at=NOW + timedelta(days=1), adapter="teams"))
    assert await store.get_send(TENANT, REP, NUDGE) == send(
        due_at=NOW + timedelta(days=1), adapter="teams"
    )
    assert await store.due_sends(NOW + timedelta(hours=23), 10) == []
    assert await store.due_sends(NOW + timedelta(days=1), 10) == [
        send(due_at=NOW + timedelta(days=1), adapter="teams")
    ]


async def test_each_kind_is_scheduled_apart(store: Store) -> None:
    await store.schedule_send(send(kind=NUDGE, due_at=NOW))
    await store.schedule_send(send(kind=DAILY, due_at=NOW + MINUTE))
    await store.schedule_send(send(kind=WEEKLY, due_at=NOW + 2 * MINUTE))
    await store.unschedule_send(TENANT, REP, DAILY)
    assert [s.kind for s in await store.due_sends(NOW + timedelta(days=1), 10)] == [NUDGE, WEEKLY]
    await store.unschedule_send(TENANT, REP, DAILY)  # already gone: nothing happens
    assert await store.get_send(TENANT, REP, DAILY) is None


async def test_due_sends_are_every_tenants_earliest_first_up_to_the_limit(store: Store) -> None:
    sends = [
        send("U-3", due_at=NOW + 3 * MINUTE),
        send("U-1", due_at=NOW - timedelta(days=2), tenant=OTHER_TENANT),
        send("U-2", due_at=(NOW + MINUTE).astimezone(MINUS_FIVE)),
        send("U-4", due_at=NOW + 4 * MINUTE, tenant=OTHER_TENANT, adapter="teams"),
        send("U-late", due_at=NOW + 4 * MINUTE + timedelta(microseconds=1)),
    ]
    for one in sends[::-1]:
        await store.schedule_send(one)
    until = NOW + 4 * MINUTE
    expected = [sends[1], sends[2], sends[0], sends[3]]
    assert await store.due_sends(until, 10) == expected
    assert await store.due_sends(until, 2) == expected[:2]
    assert await store.due_sends(until, 0) == []
    assert await store.due_sends(NOW - timedelta(days=3), 10) == []


async def test_tenants_sharing_ids_keep_their_own_sends(store: Store) -> None:
    await store.schedule_send(send(due_at=NOW, adapter="slack"))
    await store.schedule_send(send(due_at=NOW + MINUTE, tenant=OTHER_TENANT, adapter="teams"))
    await store.unschedule_send(OTHER_TENANT, REP, NUDGE)
    assert await store.get_send(TENANT, REP, NUDGE) == send(due_at=NOW, adapter="slack")
    assert await store.get_send(OTHER_TENANT, REP, NUDGE) is None
    assert await store.due_sends(NOW + MINUTE, 10) == [send(due_at=NOW)]


async def test_ids_with_any_character_stay_apart(store: Store) -> None:
    tricky = [
        send('a","b', tenant="T"),
        send("b", tenant='T","a'),
        send("29:1:2%3A", tenant="T:1", due_at=NOW + MINUTE),
        send("Zoë ☎ \\ \n", tenant="T:1", due_at=NOW + 2 * MINUTE),
    ]
    for one in tricky:
        await store.schedule_send(one)
    assert sorted(await store.due_sends(NOW + MINUTE * 2, 10), key=repr) == sorted(tricky, key=repr)
    for one in tricky:
        assert await store.get_send(one.tenant, one.user_id, one.kind) == one


async def test_a_naive_moment_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await store.schedule_send(send(due_at=NOW.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="time zone"):
        await store.due_sends(NOW.replace(tzinfo=None), 10)
    assert await store.get_send(TENANT, REP, NUDGE) is None


async def test_move_send_moves_what_was_read_and_refuses_a_stale_read(store: Store) -> None:
    at = datetime(2025, 3, 10, 13, 0, 0, 654321, tzinfo=UTC)
    await store.schedule_send(send(due_at=at))
    [due] = await store.due_sends(NOW, 10)
    assert await store.move_send(due, NOW + timedelta(hours=1)) is True
    assert await store.move_send(due, NOW + timedelta(hours=2)) is False  # read before the move
    assert await store.get_send(TENANT, REP, NUDGE) == send(due_at=NOW + timedelta(hours=1))
    assert await store.due_sends(NOW, 10) == []
    # Any offset naming the same instant is the same read.
    moved = send(due_at=(NOW + timedelta(hours=1)).astimezone(MINUS_FIVE))
    assert await store.move_send(moved, NOW + timedelta(hours=3)) is True
    # A send that is not stored is not moved (and not created).
    assert await store.move_send(send(OTHER_REP), NOW) is False
    assert await store.get_send(TENANT, OTHER_REP, NUDGE) is None


async def test_concurrent_moves_of_one_send_move_it_once(store: Store) -> None:
    await store.schedule_send(send(due_at=NOW))
    [due] = await store.due_sends(NOW, 10)
    moved = await asyncio.gather(
        *(store.move_send(due, NOW + timedelta(minutes=i + 1)) for i in range(20))
    )
    assert moved.count(True) == 1
    winner = moved.index(True)
    assert await store.get_send(TENANT, REP, NUDGE) == send(
        due_at=NOW + timedelta(minutes=winner + 1)
    )


# What the index holds when something else wrote it


async def test_redis_skips_and_drops_unreadable_index_entries(
    redis_store: RedisStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = send(due_at=NOW)
    await redis_store.schedule_send(good)
    keys, client = redis_store.keys, redis_store.client
    past = (NOW - MINUTE).timestamp()
    junk = ["not json", '["T","U"]', '["T","U","no-such-kind"]', "[1,2,3]", '{"a": 1}']
    await client.zadd(keys.schedule, {member: past for member in junk})
    await client.hset(keys.schedule_adapters, mapping={member: "slack" for member in junk})
    no_adapter = json.dumps(["T-x", "U-x", "rep_nudge"], separators=(",", ":"))
    await client.zadd(keys.schedule, {no_adapter: past, '["T","U","rep_nudge"]': "-inf"})
    await client.hset(keys.schedule_adapters, '["T","U","rep_nudge"]', "slack")
    with caplog.at_level(logging.WARNING, "voicemail_coach.store"):
        assert await redis_store.due_sends(NOW, 3) == []  # three junk entries, dropped
        assert await redis_store.due_sends(NOW, 100) == [good]
    assert await client.zrange(keys.schedule, 0, -1) == [good_member(good)]
    assert await client.hkeys(keys.schedule_adapters) == [good_member(good)]
    events = [record for record in caplog.records if record.msg == "scheduled_send_unreadable"]
    assert len(events) == len(junk) + 2
    assert "not json" not in caplog.text
    assert {getattr(record, "user", None) for record in events} >= {"U-x"}


def good_member(one: ScheduledSend) -> str:
    return json.dumps([one.tenant, one.user_id, one.kind.value], separators=(",", ":"))


async def test_redis_get_send_without_an_adapter_is_none(redis_store: RedisStore) -> None:
    await redis_store.schedule_send(send())
    await redis_store.client.hdel(redis_store.keys.schedule_adapters, good_member(send()))
    assert await redis_store.get_send(TENANT, REP, NUDGE) is None


async def test_sqlite_skips_and_drops_unreadable_rows(sqlite_store: SQLiteStore) -> None:
    good = send(due_at=NOW)
    await sqlite_store.schedule_send(good)
    await sqlite_store._run(
        lambda: sqlite_store.db.executemany(
            "INSERT INTO sends VALUES (?, ?, ?, ?, ?)",
            [
                (TENANT, "U-x", "no-such-kind", 0.0, "slack"),
                (TENANT, "U-y", "rep_nudge", 1.0, b"\xff"),
            ],
        )
    )
    assert await sqlite_store.due_sends(NOW, 2) == []
    assert await sqlite_store.due_sends(NOW, 2) == [good]


# Movers in several processes: each due send is moved exactly once


PROCESSES = 4
SENDS = 30


def move_from_a_process(
    kind: str,
    where: str,
    read: multiprocessing.synchronize.Barrier,
    won: multiprocessing.queues.Queue[list[tuple[str, str, str]]],
) -> None:
    asyncio.run(_move(kind, where, read, won))


async def _move(
    kind: str,
    where: str,
    read: multiprocessing.synchronize.Barrier,
    won: multiprocessing.queues.Queue[list[tuple[str, str, str]]],
) -> None:
    async with opened(kind, where) as store:
        # Every connection the moves use is made before they start, so they land together.
        await asyncio.gather(*(store.ping() for _ in range(SENDS)))
        read.wait(timeout=60)  # all open: read at once
        due = await store.due_sends(NOW, 1000)
        read.wait(timeout=60)  # all have read the same sends: move at once
        moved = await asyncio.gather(*(store.move_send(s, NOW + timedelta(hours=1)) for s in due))
    won.put([(s.tenant, s.user_id, s.kind.value) for s, m in zip(due, moved, strict=True) if m])


async def test_movers_in_several_processes_move_each_send_once(
    shared_store: tuple[str, str],
) -> None:
    kind, where = shared_store
    sends = [
        send(f"U-{i}", kind=list(SendKind)[i % 3], tenant=(TENANT, OTHER_TENANT)[i % 2],
             due_at=NOW - timedelta(seconds=i))
        for i in range(SENDS)
    ]  # fmt: skip
    async with opened(kind, where) as store:
        for one in sends:
            await store.schedule_send(one)
    spawn = multiprocessing.get_context("spawn")
    read = spawn.Barrier(PROCESSES)
    won: multiprocessing.queues.Queue[list[tuple[str, str, str]]] = spawn.Queue()
    movers = [
        spawn.Process(target=move_from_a_process, args=(kind, where, read, won))
        for _ in range(PROCESSES)
    ]
    for process in movers:
        process.start()
    results = [won.get(timeout=120) for _ in movers]
    for process in movers:
        process.join(timeout=60)
    assert [process.exitcode for process in movers] == [0] * PROCESSES
    every_win = [ids for result in results for ids in result]
    assert sorted(every_win) == sorted((s.tenant, s.user_id, s.kind.value) for s in sends)
    async with opened(kind, where) as store:
        assert await store.due_sends(NOW, 1000) == []
        for one in sends:
            stored = await store.get_send(one.tenant, one.user_id, one.kind)
            assert stored is not None and stored.due_at == NOW + timedelta(hours=1)
