"""Erasing a prospect or a rep leaves no copy of what the rep typed in the store's files or keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import redis.asyncio

from bot.records import LedgerKey, ScheduledSend, SendKind, SendOutcome, TeamConfig
from bot.store import RedisStore, SQLiteStore, Store
from tests.bot.store.conftest import (
    NOW,
    REP,
    TEAM,
    TENANT,
    TODAY,
    checked_in,
    prospect,
    rep_profile,
)

MARKER = "Zqxmarker"
MARKED_REP = f"U-{MARKER}"  # a user id that carries the marker into every key that names them
CO_MANAGER = "U-dana"


async def _fill(store: Store) -> str:
    """A rep and a prospect whose names and note carry MARKER; the prospect's key."""
    await store.save_rep(rep_profile(name=f"{MARKER} Rep", pitch=f"{MARKER} pitch"))
    record = prospect(f"{MARKER} Jones", f"{MARKER} Inc")
    await store.save_prospect(record)
    updated, check_in = checked_in(record, key="k1")
    await store.record_check_in(updated, check_in)
    return record.key


async def _fill_ids(store: Store) -> None:
    """A rep whose user id carries MARKER, with everything that names them by id: check-ins,
    scheduled sends, ledger entries, a place among a team's managers; and their own team,
    whose label carries their name."""
    await store.save_rep(rep_profile(MARKED_REP))
    record = prospect(rep_id=MARKED_REP)
    for hour, key in enumerate(("k1", "k2")):
        record, check_in = checked_in(record, at=NOW + timedelta(hours=hour), key=key)
        await store.record_check_in(record, check_in)
    assert len(await store.rep_check_ins(TENANT, MARKED_REP, NOW, NOW + timedelta(days=1))) == 2
    for kind in SendKind:
        await store.schedule_send(ScheduledSend(TENANT, MARKED_REP, kind, NOW, "slack"))
        ledger = LedgerKey(TENANT, MARKED_REP, kind, TODAY)
        await store.claim_send(ledger, "worker-1", 60)
        if kind is not SendKind.WEEKLY_DIGEST:
            await store.settle_send(ledger, "worker-1", SendOutcome.SENT)
    await store.save_team(TeamConfig(TENANT, TEAM, managers=(CO_MANAGER, MARKED_REP)))
    await store.change_team(TENANT, "west", lambda team: replace(team, managers=(MARKED_REP,)))


async def _assert_only_the_marked_rep_is_gone(store: Store) -> None:
    assert await store.get_team(TENANT, TEAM) == TeamConfig(TENANT, TEAM, managers=(CO_MANAGER,))
    assert await store.teams_managed_by(TENANT, MARKED_REP) == []
    assert [team.team for team in await store.teams_managed_by(TENANT, CO_MANAGER)] == [TEAM]
    assert await store.due_sends(NOW, 10) == []
    for kind in SendKind:
        assert await store.send_outcome(LedgerKey(TENANT, MARKED_REP, kind, TODAY)) is None
    until = NOW + timedelta(days=1)
    assert await store.rep_check_ins(TENANT, MARKED_REP, NOW, until) == []


async def _fill_own_team(store: Store) -> None:
    """A manager's own team (its id is theirs), labelled with their name."""
    label = f"{MARKER} Rep's team"
    await store.save_team(TeamConfig(TENANT, REP, managers=(REP,), label=label))


def _sqlite_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_sqlite_files_keep_no_copy_of_an_erased_rep(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    store = await SQLiteStore.open(path)
    try:
        key = await _fill(store)
        await _fill_own_team(store)
        assert MARKER.encode() in _sqlite_bytes(path)
        assert await store.forget_prospect(TENANT, REP, key)
        await store.forget_rep(TENANT, REP)
        assert MARKER.encode() not in _sqlite_bytes(path)
        assert await store.get_team(TENANT, REP) == TeamConfig(TENANT, REP)
    finally:
        await store.close()
    assert MARKER.encode() not in _sqlite_bytes(path)


async def test_sqlite_files_keep_no_id_of_an_erased_rep(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    store = await SQLiteStore.open(path)
    try:
        await _fill_ids(store)
        assert MARKER.encode() in _sqlite_bytes(path)
        await store.forget_rep(TENANT, MARKED_REP)
        await _assert_only_the_marked_rep_is_gone(store)
    finally:
        await store.close()
    assert MARKER.encode() not in _sqlite_bytes(path)


async def test_redis_keeps_no_key_or_value_of_an_erased_rep(redis_store: RedisStore) -> None:
    await _fill(redis_store)
    await _fill_own_team(redis_store)
    assert await _values_under(redis_store.client, redis_store.keys.prefix) != []
    await redis_store.forget_rep(TENANT, REP)
    assert await _values_under(redis_store.client, redis_store.keys.prefix) == []
    assert await redis_store.get_team(TENANT, REP) == TeamConfig(TENANT, REP)


async def test_redis_keeps_no_id_of_an_erased_rep(redis_store: RedisStore) -> None:
    await _fill_ids(redis_store)
    assert len(await _values_under(redis_store.client, redis_store.keys.prefix)) > 5
    await redis_store.forget_rep(TENANT, MARKED_REP)
    await _assert_only_the_marked_rep_is_gone(redis_store)
    assert await _values_under(redis_store.client, redis_store.keys.prefix) == []


async def _values_under(client: redis.asyncio.Redis, prefix: str) -> list[str]:
    """Every key under `prefix` whose name or value holds MARKER."""
    found = []
    async for key in client.scan_iter(match=f"{prefix}:*"):
        if MARKER.casefold() in _text(key).casefold() or MARKER in await _value(client, key):
            found.append(_text(key))
    return found


async def _value(client: redis.asyncio.Redis, key: str) -> str:
    """A key's whole value as text, whatever its type."""
    kind = _text(await client.type(key))
    if kind == "string":
        value: object = await client.get(key)
    elif kind == "hash":
        value = await client.hgetall(key)
    elif kind == "set":
        value = await client.smembers(key)
    elif kind == "zset":
        value = await client.zrange(key, 0, -1)
    else:
        raise AssertionError(f"the store keeps no {kind} keys")
    return str(value)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode()
