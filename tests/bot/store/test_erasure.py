"""Erasing a prospect or a rep leaves no copy of what the rep typed in the store's files or keys."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio

from bot.store import RedisStore, SQLiteStore, Store
from tests.bot.store.conftest import REP, TENANT, checked_in, prospect, rep_profile

MARKER = "Zqxmarker"


async def _fill(store: Store) -> str:
    """A rep and a prospect whose names and note carry MARKER; the prospect's key."""
    await store.save_rep(rep_profile(name=f"{MARKER} Rep", pitch=f"{MARKER} pitch"))
    record = prospect(f"{MARKER} Jones", f"{MARKER} Inc")
    await store.save_prospect(record)
    updated, check_in = checked_in(record, key="k1")
    await store.record_check_in(updated, check_in)
    return record.key


def _sqlite_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_sqlite_files_keep_no_copy_of_an_erased_rep(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    store = await SQLiteStore.open(path)
    try:
        key = await _fill(store)
        assert MARKER.encode() in _sqlite_bytes(path)
        assert await store.forget_prospect(TENANT, REP, key)
        await store.forget_rep(TENANT, REP)
        assert MARKER.encode() not in _sqlite_bytes(path)
    finally:
        await store.close()
    assert MARKER.encode() not in _sqlite_bytes(path)


async def test_redis_keeps_no_key_or_value_of_an_erased_rep(redis_store: RedisStore) -> None:
    await _fill(redis_store)
    assert await _values_under(redis_store.client, redis_store.keys.prefix) != []
    await redis_store.forget_rep(TENANT, REP)
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
