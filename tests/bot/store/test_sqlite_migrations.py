"""SQLite only: files made by earlier versions are brought up to date when opened."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from bot.records import DEFAULT_NUDGE, TeamConfig
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


async def test_reps_and_teams_stored_before_scheduled_sends_load_with_the_defaults(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    db = _file_at_version(path, 3)
    db.execute(
        "INSERT INTO reps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (TENANT, REP, "Ann Smith", "Acme", "+1 555 010 0100", "", "America/New_York", "rep",
         "east"),
    )  # fmt: skip
    old_team = {"playbook": "balanced", "settings": TeamConfig(TENANT).settings.as_mapping()}
    db.execute("INSERT INTO teams VALUES (?, ?, ?)", (TENANT, "east", json.dumps(old_team)))
    db.close()
    store = await SQLiteStore.open(path)
    try:
        rep = await store.get_rep(TENANT, REP)
        assert rep is not None
        assert (rep.nudge, rep.platform, rep.team) == (DEFAULT_NUDGE, "", "east")
        assert await store.get_team(TENANT, "east") == TeamConfig(TENANT, "east")
        assert await store.teams_managed_by(TENANT, REP) == []
        await store.change_team(TENANT, "east", lambda team: replace(team, managers=(REP,)))
        assert [team.team for team in await store.teams_managed_by(TENANT, REP)] == ["east"]
    finally:
        await store.close()


async def test_rep_check_ins_are_read_by_the_reps_index(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "plan.db")
    try:
        plan = await store._run(
            lambda: store.db.execute(
                "EXPLAIN QUERY PLAN SELECT data FROM check_ins "
                "WHERE tenant = ? AND rep_id = ? AND at >= ? AND at < ? ORDER BY at, id",
                (TENANT, REP, 0.0, 1.0),
            ).fetchall()
        )
        assert "check_ins_by_rep" in str(plan)
        plan = await store._run(
            lambda: store.db.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM sends WHERE due_at <= ? ORDER BY due_at LIMIT 5",
                (1.0,),
            ).fetchall()
        )
        assert "sends_by_due" in str(plan)
    finally:
        await store.close()
