"""SQLite only: documents shared by two processes on one file, and expired ones cleared."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.store import SQLiteStore
from bot.store.sqlite import MIGRATIONS


async def test_two_stores_on_one_file_give_a_document_to_exactly_one_taker(
    tmp_path: Path,
) -> None:
    first = await SQLiteStore.open(tmp_path / "shared.db")
    second = await SQLiteStore.open(tmp_path / "shared.db")
    try:
        await first.put_document("T", "state", "s-1", "1", ttl_seconds=600)
        takers = [first, second] * 10
        taken = await asyncio.gather(*(s.take_document("T", "state", "s-1") for s in takers))
        assert sorted(taken, key=str) == ["1"] + [None] * 19
    finally:
        await first.close()
        await second.close()


async def test_writing_an_expiring_document_clears_the_expired_ones(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = SQLiteStore(tmp_path / "d.db", clock=lambda: now[0])
    await store._run(store._connect)
    try:
        await store.put_document("T", "state", "old", "1", ttl_seconds=10)
        await store.put_document("T", "slack-bot", "latest", "kept")
        now[0] += 11
        await store.put_document("T", "state", "new", "1", ttl_seconds=10)
        rows = await store._run(
            lambda: store.db.execute("SELECT kind, key FROM documents ORDER BY key").fetchall()
        )
        assert rows == [("slack-bot", "latest"), ("state", "new")]
    finally:
        await store.close()


async def test_an_existing_file_gains_the_documents_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.close()
    store = await SQLiteStore.open(path)
    try:
        await store.put_document("T", "slack-bot", "latest", "{}")
        assert await store.get_document("T", "slack-bot", "latest") == "{}"
        version = await store._run(lambda: store.db.execute("PRAGMA user_version").fetchone())
        assert version == (len(MIGRATIONS),)
    finally:
        await store.close()
