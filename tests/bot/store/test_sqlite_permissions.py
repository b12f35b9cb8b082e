"""The SQLite store holds chat tokens and reps' prospects: only the service's user reads it."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import StoreUnavailable, open_sqlite
from tests.conftest import open_sqlite_store

OWNER_ONLY = 0o600


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (files 0644 unless made otherwise), whatever the test runner's is."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def modes(path: Path) -> dict[str, int]:
    """The permission bits of the store's file, its -wal and -shm (all three must exist)."""
    files = {suffix: path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")}
    assert all(file.exists() for file in files.values()), sorted(map(str, files.values()))
    return {suffix or "db": stat.S_IMODE(file.stat().st_mode) for suffix, file in files.items()}


ALL_OWNER_ONLY = {"db": OWNER_ONLY, "-wal": OWNER_ONLY, "-shm": OWNER_ONLY}


@pytest.mark.usefixtures("open_umask")
async def test_a_new_store_and_its_wal_and_shm_are_the_owners_only(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with open_sqlite_store(path) as store:
        await store.put_document("T1", "slack-bot", "latest", "xoxb-secret")
        assert modes(path) == ALL_OWNER_ONLY


@pytest.mark.usefixtures("open_umask")
async def test_a_store_made_world_readable_before_is_closed_to_others(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    earlier = sqlite3.connect(path)  # as an earlier version left it: 0644, WAL open
    earlier.execute("PRAGMA journal_mode=WAL")
    earlier.execute("CREATE TABLE leftover (x)")
    earlier.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    try:
        async with open_sqlite_store(path) as store:
            await store.put_document("T1", "slack-bot", "latest", "xoxb-secret")
            assert modes(path) == ALL_OWNER_ONLY
    finally:
        earlier.close()


async def test_a_store_that_cannot_be_created_says_so_without_a_traceback(tmp_path: Path) -> None:
    taken = tmp_path / "store.db"
    taken.mkdir()  # a folder where the file should be: no user (root included) may create it
    with pytest.raises(StoreUnavailable, match="cannot open the SQLite file"):
        await open_sqlite(str(taken))
