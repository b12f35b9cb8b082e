"""The store interface. SQLite and Redis implement it and pass one contract suite."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Generic, Protocol, TypeVar

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

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """What a change of one prospect decided: the record to store, the check-in to log with it
    (if any), and whatever the caller wants back (a decision, say)."""

    record: ProspectRecord
    result: T
    check_in: CheckIn | None = None


ProspectChange = Callable[[ProspectRecord | None], Change[T]]
# A decision's change: given the rep's profile (as the RepChange made it), their team's config
# and the stored prospect (None: there is none), what to store and answer.
DecisionChange = Callable[[RepProfile, TeamConfig, ProspectRecord | None], Change[T]]


@dataclass(frozen=True, slots=True)
class Decided(Generic[T]):
    """What change_decision wrote: the rep's profile before (None: there was none) and after,
    and the prospect's change (None when its check-in's key was seen: the prospect and its
    check-in were not written; the profile was)."""

    rep_before: RepProfile | None
    rep: RepProfile
    change: Change[T] | None


LEDGER_DAYS = 8  # a settled ledger entry outlives the week a weekly digest covers


class Unread:
    """The caller has not read the prospect: change_prospect reads it first."""


UNREAD = Unread()
# What the caller last read of a prospect (None: it was not stored), so a store that can
# check it is still current (Redis) saves a read; if it is not, the change runs again.
Known = ProspectRecord | None | Unread
# Given the stored profile (None: there is none), the profile to store (written if it differs).
RepChange = Callable[[RepProfile | None], RepProfile]
TeamChange = Callable[[TeamConfig], TeamConfig]
# Given a document's body (None: there is none), the body to store, or None to delete it.
DocumentChange = Callable[[str | None], str | None]


class Store(Protocol):
    """Every read and write names its tenant; rep-scoped ones name the rep too."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    async def get_rep(self, tenant: str, user_id: str) -> RepProfile | None: ...

    async def save_rep(self, rep: RepProfile) -> None: ...

    async def reps_in_team(self, tenant: str, team: str) -> list[RepProfile]: ...

    async def get_team(self, tenant: str, team: str) -> TeamConfig: ...

    async def save_team(self, config: TeamConfig) -> None: ...

    async def get_prospect(self, tenant: str, rep_id: str, key: str) -> ProspectRecord | None: ...

    async def save_prospect(self, record: ProspectRecord) -> None: ...

    async def record_check_in(self, record: ProspectRecord, check_in: CheckIn) -> bool:
        """Write the outcome and the updated prospect at once; False if its key was seen."""
        ...

    async def prospect_log(
        self, tenant: str, rep_id: str, key: str, limit: int = 20
    ) -> list[CheckIn]:
        """The prospect's outcomes, newest first."""
        ...

    # Read-modify-writes. Each reads the stored value, applies `change` and writes what it
    # returns with no other write landing in between (SQLite: one IMMEDIATE transaction;
    # Redis: a script that writes only if the value is still the one read, else a retry).
    # `change` must be pure: it may run more than once. If it raises, nothing is written.

    async def change_prospect(
        self, tenant: str, rep_id: str, key: str, change: ProspectChange[T], known: Known = UNREAD
    ) -> Change[T] | None:
        """The change written, or None when its check-in's key was seen (nothing written)."""
        ...

    async def change_rep(self, tenant: str, user_id: str, change: RepChange) -> RepProfile:
        """The profile as stored afterwards."""
        ...

    async def change_team(self, tenant: str, team: str, change: TeamChange) -> TeamConfig:
        """The team's config as stored afterwards."""
        ...

    async def change_decision(
        self,
        tenant: str,
        rep_id: str,
        key: str,
        rep: RepChange,
        change: DecisionChange[T],
    ) -> Decided[T]:
        """A decision's reads and writes at once: the rep's stored profile, changed by `rep`
        (written if it differs, as change_rep), the config of the team that profile is on,
        and the prospect, changed by `change` (written as change_prospect does). Nothing
        else writes the profile, the team or the prospect in between: if one changed, both
        changes run again (Redis: one script, in one round trip when the store's guesses of
        the three are current)."""
        ...

    async def callbacks_due(
        self, tenant: str, rep_id: str, until: datetime
    ) -> list[ProspectRecord]:
        """The rep's prospects whose next call-back window starts by `until`, earliest first."""
        ...

    async def recycles_due(self, tenant: str, rep_id: str, until: date) -> list[ProspectRecord]:
        """The rep's paused prospects whose recycle date is on or before `until`, earliest first."""
        ...

    async def team_check_ins(
        self, tenant: str, team: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        """The team's outcomes with since <= at < until, oldest first."""
        ...

    async def rep_check_ins(
        self, tenant: str, rep_id: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        """The rep's outcomes with since <= at < until, oldest first (read by rep, not team)."""
        ...

    async def teams_managed_by(self, tenant: str, user_id: str) -> list[TeamConfig]:
        """The teams whose managers include the user, by team id."""
        ...

    # The schedule index: each recipient's next send of each kind, by instant. Scheduling an
    # existing (tenant, user_id, kind) replaces it; finding the due ones costs O(due).

    async def schedule_send(self, send: ScheduledSend) -> None: ...

    async def unschedule_send(self, tenant: str, user_id: str, kind: SendKind) -> None: ...

    async def get_send(self, tenant: str, user_id: str, kind: SendKind) -> ScheduledSend | None: ...

    async def due_sends(self, until: datetime, limit: int) -> list[ScheduledSend]:
        """Every tenant's sends with due_at <= until, earliest first, at most `limit`."""
        ...

    async def move_send(self, send: ScheduledSend, due_at: datetime) -> bool:
        """Move the send to `due_at` if it is still stored as `send` (same due_at): of two
        schedulers that read it, exactly one moves it. True if this call moved it."""
        ...

    # The ledger: one entry per LedgerKey, claimed with a lease (wall-clock seconds: the
    # store's clock) before sending and settled after. An entry is kept LEDGER_DAYS after its
    # last write, then expires (a claim of it is FRESH again).

    async def claim_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> Claim:
        """FRESH or RECOVER: `owner` holds it for `lease_seconds`; BUSY or DONE: it does not.
        No entry, or a released one: FRESH. Held and its lease running: BUSY (to its own holder
        too). Held and its lease run out (the holder died mid-send), or unreadable: RECOVER.
        Settled: DONE. Of any number of concurrent claims, at most one holds it."""
        ...

    async def renew_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease to `lease_seconds` from now; False if it no longer holds it
        (released, settled, or claimed by another since its lease ran out)."""
        ...

    async def release_send(self, key: LedgerKey, owner: str) -> None:
        """Give the entry up unsettled (a failed attempt): the next claim is FRESH again."""
        ...

    async def settle_send(self, key: LedgerKey, owner: str, outcome: SendOutcome) -> bool:
        """Record how it ended, if `owner` still holds it (True) or nobody does (no entry, a
        released one, or another holder's run-out lease); False if another owner holds it
        now. A settled entry keeps its first outcome: settling it again is True only for the
        same owner and outcome (a retried call). Settled entries answer DONE to every claim."""
        ...

    async def send_outcome(self, key: LedgerKey) -> SendOutcome | None:
        """How the entry was settled, or None if it is not (yet)."""
        ...

    async def forget_prospect(self, tenant: str, rep_id: str, key: str) -> bool: ...

    async def forget_rep(self, tenant: str, rep_id: str) -> None:
        """Erase the rep's profile, prospects and check-ins (every index that names them), their
        scheduled sends and ledger entries, and their place among a team's managers."""
        ...

    async def export_rep(self, tenant: str, rep_id: str) -> dict[str, Any]: ...

    # Documents: opaque text that adapters own (Slack installations and OAuth states, Teams
    # conversation references), one per (tenant, kind, key), optionally expiring.

    async def put_document(
        self, tenant: str, kind: str, key: str, body: str, ttl_seconds: int | None = None
    ) -> None:
        """Write or replace; with a TTL (whole seconds, > 0) the document expires after it."""
        ...

    async def get_document(self, tenant: str, kind: str, key: str) -> str | None:
        """The body, or None if there is none or it has expired."""
        ...

    async def change_document(
        self, tenant: str, kind: str, key: str, change: DocumentChange
    ) -> str | None:
        """Read, change and write one document atomically (None from `change` deletes it); an
        expiring document keeps its expiry. The body as stored afterwards."""
        ...

    async def take_document(self, tenant: str, kind: str, key: str) -> str | None:
        """Get and delete at once: of two concurrent takes, exactly one gets the body."""
        ...

    async def delete_documents(self, tenant: str, kind: str, keys: list[str]) -> None:
        """Delete these keys of one kind; missing ones are ignored."""
        ...


def check_same_prospect(record: ProspectRecord, tenant: str, rep_id: str, key: str) -> None:
    """A change of one prospect may not write another (or another rep's, or tenant's)."""
    if (record.tenant, record.rep_id, record.key) != (tenant, rep_id, key):
        raise ValueError("a prospect's change returned a different prospect")


def check_same_rep(rep: RepProfile, tenant: str, user_id: str) -> None:
    """A change of one rep's profile may not write another's."""
    if (rep.tenant, rep.user_id) != (tenant, user_id):
        raise ValueError("a rep's change returned a different rep")


def check_ttl(ttl_seconds: int | None) -> None:
    """Both stores refuse the same TTLs: whole seconds, at least one."""
    if ttl_seconds is not None and (
        isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1
    ):
        raise ValueError(f"ttl_seconds must be a whole number of seconds >= 1, not {ttl_seconds!r}")


def epoch_seconds(moment: datetime) -> float:
    """A moment as both stores keep a scheduled send's: UTC epoch seconds. A naive datetime
    names no instant, so it is refused rather than read in the server's local time."""
    if moment.utcoffset() is None:
        raise ValueError(f"a scheduled moment needs a time zone, not naive {moment.isoformat()}")
    return moment.timestamp()


def utc_moment(seconds: float) -> datetime:
    """The aware UTC datetime of stored epoch seconds: equal to the moment stored (to the
    microsecond), and its epoch_seconds is the stored float again, so compare-and-set works."""
    return datetime.fromtimestamp(seconds, UTC)


def check_lease(lease_seconds: float) -> None:
    """Both stores refuse the same leases: a finite number of seconds above zero."""
    if (
        isinstance(lease_seconds, bool)
        or not isinstance(lease_seconds, int | float)
        or not math.isfinite(lease_seconds)
        or lease_seconds <= 0
    ):
        raise ValueError(f"lease_seconds must be a number of seconds > 0, not {lease_seconds!r}")


def without_manager(config: TeamConfig, user_id: str) -> TeamConfig:
    """The team with the user gone from its managers (an erasure). A team that is the user's own
    (its id is theirs) also loses its label, which carries their name."""
    return replace(
        config,
        managers=tuple(manager for manager in config.managers if manager != user_id),
        label="" if config.team == user_id else config.label,
    )


def export_document(
    rep: RepProfile | None, prospects: list[ProspectRecord], check_ins: list[CheckIn]
) -> dict[str, Any]:
    """A rep's data as one JSON-ready document; both stores answer `export` with it."""
    return {
        "profile": None if rep is None else _rep_json(rep),
        "prospects": [json.loads(record.to_json()) for record in prospects],
        "check_ins": [json.loads(check_in.to_json()) for check_in in check_ins],
    }


def _rep_json(rep: RepProfile) -> dict[str, Any]:
    return {
        "user_id": rep.user_id,
        "name": rep.name,
        "company": rep.company,
        "phone": rep.phone,
        "pitch": rep.pitch,
        "timezone": rep.timezone,
        "role": rep.role.value,
        "team": rep.team,
        "nudge": rep.nudge,
        "platform": rep.platform,
    }
