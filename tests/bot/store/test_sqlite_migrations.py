"""SQLite only: files made by earlier versions are brought up to date when opened."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from bot.store import SQLiteStore
from bot.store.sqlite import MIGRATIONS
from tests.bot.store.conftest import REP, TENANT, prospect


def _file_at_version(path: Path, version: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    return db


def _insert(db: sqlite3.Connection, record_json: str, key: str) -> None:
    db.execute(
        "INSERT INTO prospects VALUES (?, ?, ?, ?, NULL, NULL)", (TENANT, REP, key, record_json)
    )


async def test_the_old_default_region_us_becomes_the_time_zones_country(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = _file_at_version(path, 2)
    in_prague = replace(prospect("Eva Novak", "Skoda"), timezone="Europe/Prague")
    in_florida = replace(prospect("Al Ruiz", "Publix"), region="US-FL")
    stored_as_us = in_prague.to_json().replace('"region":""', '"region":"US"')
    assert '"region":"US"' in stored_as_us
    _insert(db, stored_as_us, in_prague.key)
    _insert(db, in_florida.to_json(), in_florida.key)
    db.close()
    store = await SQLiteStore.open(path)
    try:
        assert await store.get_prospect(TENANT, REP, in_prague.key) == in_prague
        assert await store.get_prospect(TENANT, REP, in_florida.key) == in_florida
    finally:
        await store.close()
