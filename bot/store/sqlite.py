"""The embedded store: one SQLite file in WAL mode, used from one worker thread.

sqlite3 blocks, so every call runs on a single-thread executor: the event loop never waits
on the disk, and one connection serialises the writes, which is what SQLite wants anyway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.records import (
    CheckIn,
    Claim,
    LedgerKey,
    ProspectRecord,
    RepProfile,
    ScheduledSend,
    SendKind,
    SendOutcome,
    TeamConfig,
)
from bot.store.base import (
    LEDGER_DAYS,
    UNREAD,
    Change,
    Decided,
    DecisionChange,
    DocumentChange,
    Known,
    ProspectChange,
    RepChange,
    TeamChange,
    check_lease,
    check_same_prospect,
    check_same_rep,
    check_ttl,
    epoch_seconds,
    export_document,
    utc_moment,
    without_manager,
)
from bot.types import Role

T = TypeVar("T")
Clock = Callable[[], float]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reps (
        tenant TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT NOT NULL, company TEXT NOT NULL,
        phone TEXT NOT NULL, pitch TEXT NOT NULL, timezone TEXT, role TEXT NOT NULL,
        team TEXT NOT NULL,
        PRIMARY KEY (tenant, user_id)
    );
    CREATE INDEX reps_by_team ON reps (tenant, team);
    CREATE TABLE teams (
        tenant TEXT NOT NULL, team TEXT NOT NULL, config TEXT NOT NULL,
        PRIMARY KEY (tenant, team)
    );
    CREATE TABLE prospects (
        tenant TEXT NOT NULL, rep_id TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
        next_call REAL, recycle_on TEXT,
        PRIMARY KEY (tenant, rep_id, key)
    );
    CREATE INDEX prospects_by_next_call ON prospects (tenant, rep_id, next_call);
    CREATE INDEX prospects_by_recycle ON prospects (tenant, rep_id, recycle_on);
    CREATE TABLE check_ins (
        id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, rep_id TEXT NOT NULL, team TEXT NOT NULL,
        prospect_key TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL
    );
    CREATE INDEX check_ins_by_prospect ON check_ins (tenant, rep_id, prospect_key, at);
    CREATE INDEX check_ins_by_team ON check_ins (tenant, team, at);
    CREATE TABLE seen_keys (
        tenant TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (tenant, key)
    );
    """,
    """
    CREATE TABLE documents (
        tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
        expires_at REAL,
        PRIMARY KEY (tenant, kind, key)
    );
    CREATE INDEX documents_by_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;
    """,
    # A prospect's region used to default to "US"; now "" means "the country of its time
    # zone". A stored plain "US" was almost always that old default, and "" still gives US
    # hours to a prospect in a US zone.
    """
    UPDATE prospects SET data = json_set(data, '$.region', '')
    WHERE json_extract(data, '$.region') = 'US';
    """,
    # Scheduled sends: a rep's nudge time and platform, their check-ins read by rep, the
    # schedule index (one row per recipient and kind, by instant) and the send ledger.
    """
    ALTER TABLE reps ADD COLUMN nudge TEXT NOT NULL DEFAULT '08:00';
    ALTER TABLE reps ADD COLUMN platform TEXT NOT NULL DEFAULT '';
    CREATE INDEX check_ins_by_rep ON check_ins (tenant, rep_id, at);
    CREATE TABLE sends (
        tenant TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL, due_at REAL NOT NULL,
        adapter TEXT NOT NULL,
        PRIMARY KEY (tenant, user_id, kind)
    );
    CREATE INDEX sends_by_due ON sends (due_at);
    CREATE TABLE ledger (
        tenant TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL, local_date TEXT NOT NULL,
        state TEXT NOT NULL, owner TEXT NOT NULL, lease_until REAL NOT NULL, outcome TEXT,
        written_at REAL NOT NULL,
        PRIMARY KEY (tenant, user_id, kind, local_date)
    );
    CREATE INDEX ledger_by_age ON ledger (written_at);
    """,
)

# Ledger states. An entry is written whole by every claim, settle and release, and expires
# LEDGER_DAYS after its last write.
HELD, RELEASED, SETTLED = "held", "released", "settled"
LEDGER_SECONDS = LEDGER_DAYS * 86400
OWNER_ONLY = 0o600
log = logging.getLogger("voicemail_coach.store")


class SQLiteStore:
    def __init__(self, path: str | Path, clock: Clock = time.time) -> None:
        self._path = str(path)
        self._clock = clock  # epoch seconds, for documents' expiry and ledger leases
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: str | Path, clock: Clock = time.time) -> SQLiteStore:
        store = cls(path, clock)
        try:
            await store._run(store._connect)
        except BaseException:
            store._executor.shutdown(wait=False)
            raise
        return store

    def _connect(self) -> None:
        _restrict_to_owner(self._path)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten, not left in free pages
        self._db = db
        self._migrate(db)

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` inside one IMMEDIATE transaction: it holds the write lock from its first read,
        so no other connection (or process) writes between what it reads and what it writes."""
        return await self._run(lambda: self._in_transaction(work))

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the SQLite store is closed")
        return self._db

    async def ping(self) -> None:
        await self._run(lambda: self.db.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self.db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def get_rep(self, tenant: str, user_id: str) -> RepProfile | None:
        row = await self._run(
            lambda: self.db.execute(
                f"SELECT {REP_COLUMNS} FROM reps WHERE tenant = ? AND user_id = ?",
                (tenant, user_id),
            ).fetchone()
        )
        return None if row is None else _rep(row)

    async def save_rep(self, rep: RepProfile) -> None:
        await self._run(lambda: self._write_rep(rep))

    def _write_rep(self, rep: RepProfile) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO reps ({REP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rep.tenant, rep.user_id, rep.name, rep.company, rep.phone, rep.pitch,
             rep.timezone, rep.role.value, rep.team, rep.nudge, rep.platform),
        )  # fmt: skip

    async def reps_in_team(self, tenant: str, team: str) -> list[RepProfile]:
        rows = await self._run(
            lambda: self.db.execute(
                f"SELECT {REP_COLUMNS} FROM reps WHERE tenant = ? AND team = ? ORDER BY user_id",
                (tenant, team),
            ).fetchall()
        )
        return [_rep(row) for row in rows]

    async def get_team(self, tenant: str, team: str) -> TeamConfig:
        return await self._run(lambda: self._read_team(tenant, team))

    def _read_team(self, tenant: str, team: str) -> TeamConfig:
        row = self.db.execute(
            "SELECT config FROM teams WHERE tenant = ? AND team = ?", (tenant, team)
        ).fetchone()
        return (
            TeamConfig(tenant, team) if row is None else TeamConfig.from_json(tenant, team, row[0])
        )

    async def save_team(self, config: TeamConfig) -> None:
        await self._run(lambda: self._write_team(config))

    def _write_team(self, config: TeamConfig) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO teams VALUES (?, ?, ?)",
            (config.tenant, config.team, config.to_json()),
        )

    async def get_prospect(self, tenant: str, rep_id: str, key: str) -> ProspectRecord | None:
        row = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM prospects WHERE tenant = ? AND rep_id = ? AND key = ?",
                (tenant, rep_id, key),
            ).fetchone()
        )
        return None if row is None else ProspectRecord.from_json(row[0])

    async def save_prospect(self, record: ProspectRecord) -> None:
        await self._run(lambda: self._write_prospect(record))

    def _write_prospect(self, record: ProspectRecord) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO prospects VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.tenant,
                record.rep_id,
                record.key,
                record.to_json(),
                record.next_call_start.timestamp() if record.next_call_start else None,
                record.recycle_on.isoformat() if record.recycle_on else None,
            ),
        )

    async def record_check_in(self, record: ProspectRecord, check_in: CheckIn) -> bool:
        return await self._transaction(lambda db: self._log_check_in(db, record, check_in))

    def _log_check_in(
        self, db: sqlite3.Connection, record: ProspectRecord, check_in: CheckIn
    ) -> bool:
        """Inside a transaction: False (and nothing written) if the check-in's key was seen."""
        if check_in.key:
            seen = db.execute(
                "INSERT OR IGNORE INTO seen_keys VALUES (?, ?, ?)",
                (check_in.tenant, check_in.key, check_in.at.timestamp()),
            )
            if seen.rowcount == 0:
                return False
        db.execute(
            "INSERT INTO check_ins (tenant, rep_id, team, prospect_key, at, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (check_in.tenant, check_in.rep_id, check_in.team, check_in.prospect_key,
             check_in.at.timestamp(), check_in.to_json()),
        )  # fmt: skip
        self._write_prospect(record)
        return True

    async def change_prospect(
        self, tenant: str, rep_id: str, key: str, change: ProspectChange[T], known: Known = UNREAD
    ) -> Change[T] | None:
        # `known` saves nothing here: the transaction's own read is what holds the lock.
        return await self._transaction(
            lambda db: self._change_prospect(db, tenant, rep_id, key, change)
        )

    def _change_prospect(
        self, db: sqlite3.Connection, tenant: str, rep_id: str, key: str, change: ProspectChange[T]
    ) -> Change[T] | None:
        row = db.execute(
            "SELECT data FROM prospects WHERE tenant = ? AND rep_id = ? AND key = ?",
            (tenant, rep_id, key),
        ).fetchone()
        changed = change(None if row is None else ProspectRecord.from_json(row[0]))
        check_same_prospect(changed.record, tenant, rep_id, key)
        if changed.check_in is None:
            self._write_prospect(changed.record)
        elif not self._log_check_in(db, changed.record, changed.check_in):
            return None
        return changed

    async def change_rep(self, tenant: str, user_id: str, change: RepChange) -> RepProfile:
        return await self._transaction(lambda db: self._change_rep(db, tenant, user_id, change)[1])

    def _change_rep(
        self, db: sqlite3.Connection, tenant: str, user_id: str, change: RepChange
    ) -> tuple[RepProfile | None, RepProfile]:
        """Inside a transaction: the profile before (None: there was none) and as stored."""
        row = db.execute(
            f"SELECT {REP_COLUMNS} FROM reps WHERE tenant = ? AND user_id = ?",
            (tenant, user_id),
        ).fetchone()
        stored = None if row is None else _rep(row)
        changed = change(stored)
        if stored is None or changed != stored:
            self._write_rep(changed)
        return stored, changed

    async def change_decision(
        self,
        tenant: str,
        rep_id: str,
        key: str,
        rep: RepChange,
        change: DecisionChange[T],
    ) -> Decided[T]:
        def work(db: sqlite3.Connection) -> Decided[T]:
            def checked(stored: RepProfile | None) -> RepProfile:
                changed = rep(stored)
                check_same_rep(changed, tenant, rep_id)
                return changed

            before, after = self._change_rep(db, tenant, rep_id, checked)
            team = self._read_team(tenant, after.team)
            changed = self._change_prospect(
                db, tenant, rep_id, key, lambda found: change(after, team, found)
            )
            return Decided(before, after, changed)

        return await self._transaction(work)

    async def change_team(self, tenant: str, team: str, change: TeamChange) -> TeamConfig:
        def work(db: sqlite3.Connection) -> TeamConfig:
            changed = change(self._read_team(tenant, team))
            self._write_team(changed)
            return changed

        return await self._transaction(work)

    async def prospect_log(
        self, tenant: str, rep_id: str, key: str, limit: int = 20
    ) -> list[CheckIn]:
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM check_ins WHERE tenant = ? AND rep_id = ? AND prospect_key = ? "
                "ORDER BY at DESC, id DESC LIMIT ?",
                (tenant, rep_id, key, limit),
            ).fetchall()
        )
        return [CheckIn.from_json(row[0]) for row in rows]

    async def callbacks_due(
        self, tenant: str, rep_id: str, until: datetime
    ) -> list[ProspectRecord]:
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM prospects WHERE tenant = ? AND rep_id = ? "
                "AND next_call IS NOT NULL AND next_call <= ? ORDER BY next_call",
                (tenant, rep_id, until.timestamp()),
            ).fetchall()
        )
        return [ProspectRecord.from_json(row[0]) for row in rows]

    async def recycles_due(self, tenant: str, rep_id: str, until: date) -> list[ProspectRecord]:
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM prospects WHERE tenant = ? AND rep_id = ? "
                "AND recycle_on IS NOT NULL AND recycle_on <= ? ORDER BY recycle_on",
                (tenant, rep_id, until.isoformat()),
            ).fetchall()
        )
        return [ProspectRecord.from_json(row[0]) for row in rows]

    async def team_check_ins(
        self, tenant: str, team: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM check_ins WHERE tenant = ? AND team = ? AND at >= ? AND at < ? "
                "ORDER BY at, id",
                (tenant, team, since.timestamp(), until.timestamp()),
            ).fetchall()
        )
        return [CheckIn.from_json(row[0]) for row in rows]

    async def rep_check_ins(
        self, tenant: str, rep_id: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT data FROM check_ins WHERE tenant = ? AND rep_id = ? AND at >= ? AND at < ? "
                "ORDER BY at, id",
                (tenant, rep_id, since.timestamp(), until.timestamp()),
            ).fetchall()
        )
        return [CheckIn.from_json(row[0]) for row in rows]

    async def teams_managed_by(self, tenant: str, user_id: str) -> list[TeamConfig]:
        rows = await self._run(lambda: self._managed_teams(self.db, tenant, user_id))
        return [TeamConfig.from_json(tenant, team, config) for team, config in rows]

    @staticmethod
    def _managed_teams(db: sqlite3.Connection, tenant: str, user_id: str) -> list[Any]:
        return db.execute(
            "SELECT team, config FROM teams WHERE tenant = ? AND CASE WHEN json_valid(config) "
            "THEN EXISTS (SELECT 1 FROM json_each(config, '$.managers') WHERE value = ?) END "
            "ORDER BY team",
            (tenant, user_id),
        ).fetchall()

    # The schedule index

    async def schedule_send(self, send: ScheduledSend) -> None:
        row = (send.tenant, send.user_id, send.kind.value, epoch_seconds(send.due_at), send.adapter)
        await self._run(
            lambda: self.db.execute("INSERT OR REPLACE INTO sends VALUES (?, ?, ?, ?, ?)", row)
        )

    async def unschedule_send(self, tenant: str, user_id: str, kind: SendKind) -> None:
        await self._run(
            lambda: self.db.execute(
                "DELETE FROM sends WHERE tenant = ? AND user_id = ? AND kind = ?",
                (tenant, user_id, kind.value),
            )
        )

    async def get_send(self, tenant: str, user_id: str, kind: SendKind) -> ScheduledSend | None:
        row = await self._run(
            lambda: self.db.execute(
                "SELECT rowid, tenant, user_id, kind, due_at, adapter FROM sends "
                "WHERE tenant = ? AND user_id = ? AND kind = ?",
                (tenant, user_id, kind.value),
            ).fetchone()
        )
        return None if row is None else _send(row)

    async def due_sends(self, until: datetime, limit: int) -> list[ScheduledSend]:
        if limit <= 0:
            return []
        rows = await self._run(
            lambda: self.db.execute(
                "SELECT rowid, tenant, user_id, kind, due_at, adapter FROM sends "
                "WHERE due_at <= ? ORDER BY due_at LIMIT ?",
                (epoch_seconds(until), limit),
            ).fetchall()
        )
        due, unreadable = [], []
        for row in rows:
            send = _send(row)
            if send is None:
                unreadable.append((row[0],))
            else:
                due.append(send)
        if unreadable:  # dropped, or they would fill every batch from now on
            await self._transaction(
                lambda db: db.executemany("DELETE FROM sends WHERE rowid = ?", unreadable)
            )
        return due

    async def move_send(self, send: ScheduledSend, due_at: datetime) -> bool:
        moved = (
            epoch_seconds(due_at),
            send.tenant,
            send.user_id,
            send.kind.value,
            epoch_seconds(send.due_at),
        )
        changed = await self._transaction(
            lambda db: (
                db.execute(
                    "UPDATE sends SET due_at = ? "
                    "WHERE tenant = ? AND user_id = ? AND kind = ? AND due_at = ?",
                    moved,
                ).rowcount
            )
        )
        return bool(changed == 1)

    # The ledger

    async def claim_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> Claim:
        check_lease(lease_seconds)

        def work(db: sqlite3.Connection) -> Claim:
            now = self._clock()
            db.execute("DELETE FROM ledger WHERE written_at <= ?", (now - LEDGER_SECONDS,))
            claim = _claim(self._ledger_entry(db, key, now), now)
            if claim in (Claim.FRESH, Claim.RECOVER):
                self._write_entry(db, key, HELD, owner, now + lease_seconds, None, now)
            return claim

        return await self._transaction(work)

    async def renew_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> bool:
        check_lease(lease_seconds)

        def work(db: sqlite3.Connection) -> bool:
            now = self._clock()
            entry = self._ledger_entry(db, key, now)
            if entry is None or entry[:2] != (HELD, owner):
                return False
            self._write_entry(db, key, HELD, owner, now + lease_seconds, None, now)
            return True

        return await self._transaction(work)

    async def release_send(self, key: LedgerKey, owner: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            now = self._clock()
            entry = self._ledger_entry(db, key, now)
            if entry is not None and entry[:2] == (HELD, owner):
                self._write_entry(db, key, RELEASED, "", 0.0, None, now)

        await self._transaction(work)

    async def settle_send(self, key: LedgerKey, owner: str, outcome: SendOutcome) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            now = self._clock()
            entry = self._ledger_entry(db, key, now)
            if entry is not None:
                state, holder, lease_until, settled = entry
                if state == SETTLED:  # the first outcome stays; a retried settle is no conflict
                    return bool(holder == owner and settled == outcome.value)
                if state == HELD and holder != owner and _running(lease_until, now):
                    return False
            self._write_entry(db, key, SETTLED, owner, 0.0, outcome.value, now)
            return True

        return await self._transaction(work)

    async def send_outcome(self, key: LedgerKey) -> SendOutcome | None:
        entry = await self._run(lambda: self._ledger_entry(self.db, key, self._clock()))
        if entry is None or entry[0] != SETTLED:
            return None
        return _outcome(key, entry[3])

    def _ledger_entry(self, db: sqlite3.Connection, key: LedgerKey, now: float) -> Any:
        """(state, owner, lease_until, outcome) of the entry, or None (never written, or gone
        LEDGER_DAYS after its last write)."""
        return db.execute(
            "SELECT state, owner, lease_until, outcome FROM ledger "
            "WHERE tenant = ? AND user_id = ? AND kind = ? AND local_date = ? AND written_at > ?",
            (*_ledger_ids(key), now - LEDGER_SECONDS),
        ).fetchone()

    @staticmethod
    def _write_entry(
        db: sqlite3.Connection,
        key: LedgerKey,
        state: str,
        owner: str,
        lease_until: float,
        outcome: str | None,
        now: float,
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_ledger_ids(key), state, owner, lease_until, outcome, now),
        )

    async def forget_prospect(self, tenant: str, rep_id: str, key: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            gone = db.execute(
                "DELETE FROM prospects WHERE tenant = ? AND rep_id = ? AND key = ?",
                (tenant, rep_id, key),
            ).rowcount
            db.execute(
                "DELETE FROM check_ins WHERE tenant = ? AND rep_id = ? AND prospect_key = ?",
                (tenant, rep_id, key),
            )
            return gone > 0

        gone = await self._transaction(work)
        await self._run(self._drop_old_page_copies)
        return gone

    def _drop_old_page_copies(self) -> None:
        """After an erasure: copy the WAL into the file and empty it, so no old copy of an
        erased page stays in the WAL (secure_delete has zeroed it in the file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def forget_rep(self, tenant: str, rep_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            owner = (tenant, rep_id)
            db.execute("DELETE FROM reps WHERE tenant = ? AND user_id = ?", owner)
            db.execute("DELETE FROM prospects WHERE tenant = ? AND rep_id = ?", owner)
            db.execute("DELETE FROM check_ins WHERE tenant = ? AND rep_id = ?", owner)
            db.execute("DELETE FROM sends WHERE tenant = ? AND user_id = ?", owner)
            db.execute("DELETE FROM ledger WHERE tenant = ? AND user_id = ?", owner)
            own_team = db.execute(
                "SELECT team, config FROM teams WHERE tenant = ? AND team = ?", owner
            ).fetchall()
            for team, config in {*self._managed_teams(db, tenant, rep_id), *own_team}:
                self._write_team(
                    without_manager(TeamConfig.from_json(tenant, team, config), rep_id)
                )

        await self._transaction(work)
        await self._run(self._drop_old_page_copies)

    async def export_rep(self, tenant: str, rep_id: str) -> dict[str, Any]:
        rep = await self.get_rep(tenant, rep_id)
        prospects, check_ins = await self._run(
            lambda: (
                self.db.execute(
                    "SELECT data FROM prospects WHERE tenant = ? AND rep_id = ? ORDER BY key",
                    (tenant, rep_id),
                ).fetchall(),
                self.db.execute(
                    "SELECT data FROM check_ins WHERE tenant = ? AND rep_id = ? ORDER BY at, id",
                    (tenant, rep_id),
                ).fetchall(),
            )
        )
        return export_document(
            rep,
            [ProspectRecord.from_json(row[0]) for row in prospects],
            [CheckIn.from_json(row[0]) for row in check_ins],
        )

    async def put_document(
        self, tenant: str, kind: str, key: str, body: str, ttl_seconds: int | None = None
    ) -> None:
        check_ttl(ttl_seconds)

        def work(db: sqlite3.Connection) -> None:
            now = self._clock()
            expires_at = None if ttl_seconds is None else now + ttl_seconds
            if expires_at is not None:  # expiring documents are the ones that pile up
                db.execute(
                    "DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?",
                    (now,),
                )
            db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                (tenant, kind, key, body, expires_at),
            )

        await self._transaction(work)

    async def get_document(self, tenant: str, kind: str, key: str) -> str | None:
        row = await self._run(
            lambda: self.db.execute(
                "SELECT body FROM documents WHERE tenant = ? AND kind = ? AND key = ? "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (tenant, kind, key, self._clock()),
            ).fetchone()
        )
        return None if row is None else str(row[0])

    async def change_document(
        self, tenant: str, kind: str, key: str, change: DocumentChange
    ) -> str | None:
        def work(db: sqlite3.Connection) -> str | None:
            where = (tenant, kind, key)
            row = db.execute(
                "SELECT body, expires_at FROM documents WHERE tenant = ? AND kind = ? AND key = ?",
                where,
            ).fetchone()
            if row is not None and row[1] is not None and row[1] <= self._clock():
                row = None  # expired: as good as gone
            body = None if row is None else str(row[0])
            changed = change(body)
            if changed is None:
                db.execute("DELETE FROM documents WHERE tenant = ? AND kind = ? AND key = ?", where)
            elif changed != body:
                db.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                    (*where, changed, None if row is None else row[1]),
                )
            return changed

        return await self._transaction(work)

    async def take_document(self, tenant: str, kind: str, key: str) -> str | None:
        def work(db: sqlite3.Connection) -> Any:
            row = db.execute(
                "SELECT body, expires_at FROM documents WHERE tenant = ? AND kind = ? AND key = ?",
                (tenant, kind, key),
            ).fetchone()
            if row is not None:
                db.execute(
                    "DELETE FROM documents WHERE tenant = ? AND kind = ? AND key = ?",
                    (tenant, kind, key),
                )
            return row

        row = await self._transaction(work)
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return str(row[0])

    async def delete_documents(self, tenant: str, kind: str, keys: list[str]) -> None:
        if keys:
            await self._transaction(
                lambda db: db.executemany(
                    "DELETE FROM documents WHERE tenant = ? AND kind = ? AND key = ?",
                    [(tenant, kind, key) for key in keys],
                )
            )


def _restrict_to_owner(path: str) -> None:
    """The store holds chat tokens and reps' prospects: 0600 for its file, -wal and -shm.
    SQLite creates the -wal and -shm with the database file's mode, so the file is created
    0600 before SQLite opens it; files an earlier version left readable are closed too."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, OWNER_ONLY))
    except OSError as error:  # reported as SQLite's own failure to open would be
        raise sqlite3.OperationalError(error.strerror or type(error).__name__) from None
    for file in (path, f"{path}-wal", f"{path}-shm"):
        try:
            os.chmod(file, OWNER_ONLY)
        except FileNotFoundError:
            pass
        except OSError as error:  # another user's file: it still opens, as before
            log.warning(
                "store_file_mode_unchanged",
                extra={"file": Path(file).name, "error": type(error).__name__},
            )


REP_COLUMNS = "tenant, user_id, name, company, phone, pitch, timezone, role, team, nudge, platform"


def _rep(row: sqlite3.Row | tuple[Any, ...]) -> RepProfile:
    tenant, user_id, name, company, phone, pitch, timezone, role, team, nudge, platform = row
    return RepProfile(
        tenant, user_id, name, company, phone, pitch, timezone, Role(role), team, nudge, platform
    )


def _send(row: tuple[Any, ...]) -> ScheduledSend | None:
    """The send a row holds, or None (logged, ids only) if it cannot be read."""
    _, tenant, user_id, kind, due_at, adapter = row
    try:
        if not all(isinstance(text, str) for text in (tenant, user_id, adapter)):
            raise TypeError("ids are text")
        if isinstance(due_at, bool) or not isinstance(due_at, int | float):
            raise TypeError("due_at is a number")
        if not math.isfinite(due_at):
            raise ValueError("due_at is finite")
        return ScheduledSend(tenant, user_id, SendKind(kind), utc_moment(due_at), adapter)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        log.warning(
            "scheduled_send_unreadable",
            extra={"store": "sqlite", "row": row[0], "error": type(error).__name__},
        )
        return None


def _ledger_ids(key: LedgerKey) -> tuple[str, str, str, str]:
    return (key.tenant, key.user_id, key.kind.value, key.local_date.isoformat())


def _running(lease_until: object, now: float) -> bool:
    return isinstance(lease_until, int | float) and lease_until > now


def _claim(entry: tuple[Any, ...] | None, now: float) -> Claim:
    """What a claim of this entry answers."""
    if entry is None:
        return Claim.FRESH
    state, _, lease_until, _ = entry
    if state == SETTLED:
        return Claim.DONE
    if state == RELEASED:
        return Claim.FRESH
    if state == HELD and _running(lease_until, now):
        return Claim.BUSY
    return Claim.RECOVER  # a holder died mid-send (or the entry is unreadable): it may be out


def _outcome(key: LedgerKey, value: object) -> SendOutcome | None:
    try:
        return SendOutcome(str(value))
    except ValueError:
        log.warning(
            "ledger_entry_unreadable",
            extra={"store": "sqlite", "tenant": key.tenant, "user": key.user_id,
                   "kind": key.kind.value, "local_date": key.local_date.isoformat()},
        )  # fmt: skip
        return None
