"""OAuth states are signed, not stored: issuing one writes nothing, a state works once."""

from __future__ import annotations

import asyncio
import sqlite3

from adapters.slack.installations import StoreOAuthStateStore
from bot.store import RedisStore, SQLiteStore, Store

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def stored_count(store: Store) -> int:
    """Rows (SQLite) or keys (Redis, under the test's own prefix) the store holds."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store._path) as db:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return sum(
                db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables
            )
    assert isinstance(store, RedisStore)
    return len([key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*")])


async def test_issuing_a_thousand_states_writes_nothing(store: Store) -> None:
    states = StoreOAuthStateStore(store, key=KEY)
    before = await stored_count(store)
    issued = {await states.async_issue() for _ in range(1000)}
    assert len(issued) == 1000
    assert await stored_count(store) == before


async def test_a_state_works_once(store: Store) -> None:
    states = StoreOAuthStateStore(store, key=KEY)
    state = await states.async_issue()
    assert await states.async_consume(state)
    assert not await states.async_consume(state)
    assert await states.async_consume(await states.async_issue())


async def test_a_tampered_or_foreign_state_is_refused(store: Store) -> None:
    states = StoreOAuthStateStore(store, key=KEY)
    state = await states.async_issue()
    nonce, expires, signature = state.split(".")
    later = str(int(expires) + 3600)
    # A character in the middle: the last one of base64 carries bits a decoder may ignore.
    flipped = "B" if signature[10] == "A" else "A"
    for forged in (
        f"{nonce}.{later}.{signature}",
        f"{nonce}x.{expires}.{signature}",
        f"{nonce}.{expires}.{signature[:10]}{flipped}{signature[11:]}",
        "",
        "not-a-state",
        "a.b.c.d",
        f"{nonce}.soon.{signature}",
    ):
        assert not await states.async_consume(forged), forged
    assert not await StoreOAuthStateStore(store, key=b"o" * 32).async_consume(state)
    assert await states.async_consume(state)


async def test_an_expired_state_is_refused(store: Store) -> None:
    clock = Clock()
    states = StoreOAuthStateStore(store, key=KEY, expiration_seconds=600, clock=clock)
    state = await states.async_issue()
    clock.now += 601
    assert not await states.async_consume(state)


async def test_of_concurrent_consumes_of_one_state_exactly_one_succeeds(store: Store) -> None:
    states = StoreOAuthStateStore(store, key=KEY)
    state = await states.async_issue()
    results = await asyncio.gather(*(states.async_consume(state) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
