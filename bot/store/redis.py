"""The shared store: Redis, for any number of replicas.

Every key is `{prefix}:{tenant}:{kind}:...`, tenant first, so tenants never meet. Each part
after the prefix is escaped (":" and "%"), so ids that contain colons, like Teams user ids,
cannot run into each other's keys.

    rep:{user}                  hash: profile (JSON), team-set (the key of its team's rep set)
    team:{team}                 string: TeamConfig JSON
    team-reps:{team}            set of user ids
    team-log:{team}             sorted set of check-ins by `at` (epoch seconds)
    prospect:{rep}:{key}        string: ProspectRecord JSON
    prospects:{rep}             set of the rep's prospect keys (export, erase)
    callbacks:{rep}             sorted set of prospect:{rep}:{key} keys by next_call_start (epoch
                                seconds), so one script reads the due prospects themselves
    recycles:{rep}              sorted set of prospect:{rep}:{key} keys by recycle_on (ordinal)
    log:{rep}:{key}             sorted set of the prospect's check-ins by `at`
    seen:{idempotency key}      "1", expiring after SEEN_FOR
    check-in-seq                counter that numbers check-ins
    doc:{kind}:{key}            string: a document adapters own, expiring (EX) when given a TTL

A check-in is stored as the member "{sequence:016d} {json}": unique even when two check-ins
are identical, and ordered by sequence when their times tie, as SQLite orders by row id.

Writes are Lua scripts, each atomic; WRITE_PROSPECT claims a check-in's idempotency key with
SET NX before it writes anything. A read-modify-write (change_prospect, change_rep,
change_team) sends what it read with the write, which the script makes only if that is still
what is stored; otherwise the store reads again and retries.

Queries read the sorted-set indexes, never KEYS or SCAN. DUE and SAVE_REP reach keys named in
stored values (an index's members, a rep's old team set), which one Redis allows; a Redis
Cluster would need every tenant's keys in one hash slot.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import redis.asyncio
from redis.exceptions import WatchError

from bot.batched import Batched
from bot.records import CheckIn, ProspectRecord, RepProfile, TeamConfig
from bot.store.base import (
    UNREAD,
    Change,
    DocumentChange,
    Known,
    ProspectChange,
    RepChange,
    T,
    TeamChange,
    Unread,
    check_same_prospect,
    check_ttl,
    export_document,
)
from bot.types import Role

SEEN_FOR = timedelta(days=7)
PROFILE = "profile"  # the rep hash's field holding the profile JSON (SAVE_REP writes it)

_WRITE_PROSPECT = """
local function write_prospect(prospect, callbacks, recycles, owned, body, key, next_call,
                              recycle_on)
  redis.call('SET', prospect, body)
  redis.call('SADD', owned, key)
  if next_call == '' then
    redis.call('ZREM', callbacks, prospect)
  else
    redis.call('ZADD', callbacks, next_call, prospect)
  end
  if recycle_on == '' then
    redis.call('ZREM', recycles, prospect)
  else
    redis.call('ZADD', recycles, recycle_on, prospect)
  end
end
"""

# Every write of a stored value can be made conditional on that value being the one the
# caller read: ARGV `expect` is '*' (write whatever is there), '0' (only if there is none) or
# '1' (only if it equals the next argument). A script that finds otherwise returns CONFLICT
# and writes nothing; the caller reads again and retries.
_EXPECTED = """
local function unchanged(current, expect, expected)
  if expect == '*' then return true end
  if expect == '0' then return not current end
  return current == expected
end
"""

WRITE_PROSPECT = (
    _WRITE_PROSPECT
    + _EXPECTED
    + """
-- KEYS: prospect, callbacks, recycles, owned, then with a check-in: seen, sequence, log,
--       team log
-- ARGV: expect, expected JSON, prospect JSON, prospect key, next call score or '',
--       recycle score or '', then with a check-in: '1' if it has an idempotency key,
--       seconds to remember it, check-in JSON, at score
if not unchanged(redis.call('GET', KEYS[1]), ARGV[1], ARGV[2]) then
  return -1
end
if #ARGV > 6 then
  if ARGV[7] == '1' and not redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[8]) then
    return 0
  end
  local member = string.format('%016d', redis.call('INCR', KEYS[6])) .. ' ' .. ARGV[9]
  redis.call('ZADD', KEYS[7], ARGV[10], member)
  redis.call('ZADD', KEYS[8], ARGV[10], member)
end
write_prospect(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
"""
)

DUE = """
-- KEYS: an index (callbacks or recycles).  ARGV: the highest score that is due.
-- Its members are the prospects' own keys, so one round trip reads them all.
local due = {}
for _, prospect in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local body = redis.call('GET', prospect)
  if body then
    due[#due + 1] = body
  end
end
return due
"""

SAVE_REP = (
    _EXPECTED
    + """
-- KEYS: rep, its team's rep set.  ARGV: user id, profile JSON, expect, expected profile JSON
if not unchanged(redis.call('HGET', KEYS[1], 'profile'), ARGV[3], ARGV[4]) then
  return -1
end
local old = redis.call('HGET', KEYS[1], 'team-set')
if old and old ~= KEYS[2] then
  redis.call('SREM', old, ARGV[1])
end
redis.call('HSET', KEYS[1], 'profile', ARGV[2], 'team-set', KEYS[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
)

SET_STRING = (
    _EXPECTED
    + """
-- KEYS: a string key.  ARGV: the new value, expect, expected value, '1' to delete instead
if not unchanged(redis.call('GET', KEYS[1]), ARGV[2], ARGV[3]) then
  return -1
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return 1
"""
)
WRITTEN, SEEN, CONFLICT = 1, 0, -1


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key the store uses, built in one place."""

    prefix: str

    def key(self, tenant: str, kind: str, *parts: str) -> str:
        return ":".join((self.prefix, _escape(tenant), kind, *map(_escape, parts)))

    def rep(self, tenant: str, user_id: str) -> str:
        return self.key(tenant, "rep", user_id)

    def team(self, tenant: str, team: str) -> str:
        return self.key(tenant, "team", team)

    def team_reps(self, tenant: str, team: str) -> str:
        return self.key(tenant, "team-reps", team)

    def team_log(self, tenant: str, team: str) -> str:
        return self.key(tenant, "team-log", team)

    def prospect(self, tenant: str, rep_id: str, key: str) -> str:
        return self.key(tenant, "prospect", rep_id, key)

    def owned(self, tenant: str, rep_id: str) -> str:
        return self.key(tenant, "prospects", rep_id)

    def callbacks(self, tenant: str, rep_id: str) -> str:
        return self.key(tenant, "callbacks", rep_id)

    def recycles(self, tenant: str, rep_id: str) -> str:
        return self.key(tenant, "recycles", rep_id)

    def log(self, tenant: str, rep_id: str, key: str) -> str:
        return self.key(tenant, "log", rep_id, key)

    def seen(self, tenant: str, key: str) -> str:
        return self.key(tenant, "seen", key)

    def sequence(self, tenant: str) -> str:
        return self.key(tenant, "check-in-seq")

    def document(self, tenant: str, kind: str, key: str) -> str:
        return self.key(tenant, "doc", kind, key)


MAX_CONNECTIONS = 64
POOL_TIMEOUT_S = 10


class RedisStore:
    def __init__(self, client: redis.asyncio.Redis, prefix: str = "vc") -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._save_rep = client.register_script(SAVE_REP)
        self._write_prospect = client.register_script(WRITE_PROSPECT)
        self._set_string = client.register_script(SET_STRING)
        self._due = client.register_script(DUE)
        # The reads every request makes share round trips with other requests' reads.
        self._reads = Batched(client)

    @classmethod
    def connect(cls, url: str, prefix: str = "vc") -> RedisStore:
        """A store on `url` that connects on first use: Redis may still be down."""
        # A blocking pool: under a burst, requests wait for a connection instead of failing
        # with MaxConnectionsError (which a rep would see as an apology).
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=MAX_CONNECTIONS, timeout=POOL_TIMEOUT_S
        )
        return cls(redis.asyncio.Redis(connection_pool=pool), prefix)

    @classmethod
    async def open(cls, url: str, prefix: str = "vc") -> RedisStore:
        """A store on `url` that answered a ping."""
        store = cls.connect(url, prefix)
        await store.ping()
        return store

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self._reads.close()
        await self.client.aclose()

    async def get_rep(self, tenant: str, user_id: str) -> RepProfile | None:
        raw = await self._reads.run("HGET", self.keys.rep(tenant, user_id), PROFILE)
        return None if raw is None else _rep_from_json(tenant, _text(raw))

    async def save_rep(self, rep: RepProfile) -> None:
        await self._write_rep(rep, ANYTHING)

    async def _write_rep(self, rep: RepProfile, expected: Expected) -> int:
        keys = [self.keys.rep(rep.tenant, rep.user_id), self.keys.team_reps(rep.tenant, rep.team)]
        written: int = await self._save_rep(
            keys=keys, args=[rep.user_id, _rep_to_json(rep), *_expectation(expected)]
        )
        return written

    async def change_rep(self, tenant: str, user_id: str, change: RepChange) -> RepProfile:
        for attempt in range(MAX_TRIES):
            raw = await self._reads.run("HGET", self.keys.rep(tenant, user_id), PROFILE)
            body = None if raw is None else _text(raw)
            stored = None if body is None else _rep_from_json(tenant, body)
            changed = change(stored)
            if changed == stored or await self._write_rep(changed, body) != CONFLICT:
                return changed
            await _back_off(attempt)
        raise StoreContention("rep profile")

    async def reps_in_team(self, tenant: str, team: str) -> list[RepProfile]:
        user_ids = sorted(map(_text, await self.client.smembers(self.keys.team_reps(tenant, team))))
        async with self.client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hget(self.keys.rep(tenant, user_id), PROFILE)
            found: list[str | None] = await pipe.execute()
        return [_rep_from_json(tenant, raw) for raw in found if raw is not None]

    async def get_team(self, tenant: str, team: str) -> TeamConfig:
        raw = await self._reads.run("GET", self.keys.team(tenant, team))
        if raw is None:
            return TeamConfig(tenant, team)
        return TeamConfig.from_json(tenant, team, _text(raw))

    async def save_team(self, config: TeamConfig) -> None:
        await self.client.set(self.keys.team(config.tenant, config.team), config.to_json())

    async def change_team(self, tenant: str, team: str, change: TeamChange) -> TeamConfig:
        key = self.keys.team(tenant, team)
        for attempt in range(MAX_TRIES):
            raw = await self._reads.run("GET", key)
            body = None if raw is None else _text(raw)
            stored = (
                TeamConfig(tenant, team)
                if body is None
                else TeamConfig.from_json(tenant, team, body)
            )
            changed = change(stored)
            if await self._change_string(key, body, changed.to_json()) != CONFLICT:
                return changed
            await _back_off(attempt)
        raise StoreContention("team settings")

    async def get_prospect(self, tenant: str, rep_id: str, key: str) -> ProspectRecord | None:
        raw = await self._reads.run("GET", self.keys.prospect(tenant, rep_id, key))
        return None if raw is None else ProspectRecord.from_json(_text(raw))

    async def save_prospect(self, record: ProspectRecord) -> None:
        await self._write_prospect(
            keys=self._prospect_keys(record), args=_prospect_args(record, ANYTHING)
        )

    async def record_check_in(self, record: ProspectRecord, check_in: CheckIn) -> bool:
        return await self._log_check_in(record, check_in, ANYTHING) == WRITTEN

    async def _log_check_in(
        self,
        record: ProspectRecord,
        check_in: CheckIn | None,
        expected: Expected,
        client: redis.asyncio.client.Pipeline | None = None,
    ) -> int:
        keys = self._prospect_keys(record)
        args = _prospect_args(record, expected)
        if check_in is not None:
            keys += self._check_in_keys(check_in)
            args += _check_in_args(check_in)
        written: int = await self._write_prospect(keys=keys, args=args, client=client)
        return written

    async def change_prospect(
        self, tenant: str, rep_id: str, key: str, change: ProspectChange[T], known: Known = UNREAD
    ) -> Change[T] | None:
        for attempt in range(MAX_TRIES):
            if attempt == 0 and not isinstance(known, Unread):
                # The stored body is the record's encoding, unless it changed meanwhile (or an
                # older version wrote it): then the write conflicts and the next try reads.
                found, body = known, None if known is None else known.to_json()
            else:
                raw = await self._reads.run("GET", self.keys.prospect(tenant, rep_id, key))
                body = None if raw is None else _text(raw)
                found = None if body is None else ProspectRecord.from_json(body)
            changed = change(found)
            check_same_prospect(changed.record, tenant, rep_id, key)
            written = await self._log_check_in(changed.record, changed.check_in, body)
            if written != CONFLICT:
                return changed if written == WRITTEN else None
            await _back_off(attempt)
        raise StoreContention("prospect")

    async def record_check_ins(self, pairs: Iterable[tuple[ProspectRecord, CheckIn]]) -> list[bool]:
        """Many check-ins in one round trip, for imports; each stays atomic and idempotent."""
        async with self.client.pipeline(transaction=False) as pipe:
            for record, check_in in pairs:
                await self._log_check_in(record, check_in, ANYTHING, client=pipe)
            written: list[int] = await pipe.execute()
        return [one == WRITTEN for one in written]

    async def prospect_log(
        self, tenant: str, rep_id: str, key: str, limit: int = 20
    ) -> list[CheckIn]:
        if limit == 0:
            return []
        members = await self.client.zrange(
            self.keys.log(tenant, rep_id, key), 0, limit - 1 if limit > 0 else -1, desc=True
        )
        return [_check_in(member) for member in _texts(members)]

    async def callbacks_due(
        self, tenant: str, rep_id: str, until: datetime
    ) -> list[ProspectRecord]:
        return await self._due_in(self.keys.callbacks(tenant, rep_id), repr(until.timestamp()))

    async def recycles_due(self, tenant: str, rep_id: str, until: date) -> list[ProspectRecord]:
        return await self._due_in(self.keys.recycles(tenant, rep_id), str(until.toordinal()))

    async def team_check_ins(
        self, tenant: str, team: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        members = await self.client.zrangebyscore(
            self.keys.team_log(tenant, team), since.timestamp(), f"({until.timestamp()!r}"
        )
        return [_check_in(member) for member in _texts(members)]

    async def forget_prospect(self, tenant: str, rep_id: str, key: str) -> bool:
        prospect = self.keys.prospect(tenant, rep_id, key)
        log = self.keys.log(tenant, rep_id, key)
        async with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(prospect, log)
                    existed = bool(await pipe.exists(prospect))
                    members = _texts(await pipe.zrange(log, 0, -1))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.delete(prospect, log)
                    pipe.zrem(self.keys.callbacks(tenant, rep_id), prospect)
                    pipe.zrem(self.keys.recycles(tenant, rep_id), prospect)
                    pipe.srem(self.keys.owned(tenant, rep_id), key)
                    for team, in_team in _by_team(members).items():
                        pipe.zrem(self.keys.team_log(tenant, team), *in_team)
                    await pipe.execute()
                    return existed
                except WatchError:
                    continue

    async def forget_rep(self, tenant: str, rep_id: str) -> None:
        keys = sorted(map(_text, await self.client.smembers(self.keys.owned(tenant, rep_id))))
        for key in keys:
            await self.forget_prospect(tenant, rep_id, key)
        rep = self.keys.rep(tenant, rep_id)
        team_set = await self.client.hget(rep, "team-set")
        async with self.client.pipeline(transaction=True) as pipe:
            if team_set is not None:
                pipe.srem(_text(team_set), rep_id)
            pipe.delete(
                rep,
                self.keys.owned(tenant, rep_id),
                self.keys.callbacks(tenant, rep_id),
                self.keys.recycles(tenant, rep_id),
            )
            await pipe.execute()

    async def export_rep(self, tenant: str, rep_id: str) -> dict[str, Any]:
        rep = await self.get_rep(tenant, rep_id)
        keys = sorted(map(_text, await self.client.smembers(self.keys.owned(tenant, rep_id))))
        prospects = await self._prospects(tenant, rep_id, keys)
        return export_document(rep, prospects, await self._rep_check_ins(tenant, rep_id, keys))

    async def put_document(
        self, tenant: str, kind: str, key: str, body: str, ttl_seconds: int | None = None
    ) -> None:
        check_ttl(ttl_seconds)
        await self.client.set(self.keys.document(tenant, kind, key), body, ex=ttl_seconds)

    async def change_document(
        self, tenant: str, kind: str, key: str, change: DocumentChange
    ) -> str | None:
        document = self.keys.document(tenant, kind, key)
        for attempt in range(MAX_TRIES):
            raw = await self.client.get(document)
            body = None if raw is None else _text(raw)
            changed = change(body)
            if changed == body or await self._change_string(document, body, changed) != CONFLICT:
                return changed
            await _back_off(attempt)
        raise StoreContention("document")

    async def _change_string(self, key: str, expected: str | None, value: str | None) -> int:
        """Set (None: delete) the string at `key` if it still holds `expected`; keeps its TTL."""
        args = [
            "" if value is None else value,
            *_expectation(expected),
            "1" if value is None else "0",
        ]
        written: int = await self._set_string(keys=[key], args=args)
        return written

    async def get_document(self, tenant: str, kind: str, key: str) -> str | None:
        raw = await self.client.get(self.keys.document(tenant, kind, key))
        return None if raw is None else _text(raw)

    async def take_document(self, tenant: str, kind: str, key: str) -> str | None:
        raw = await self.client.getdel(self.keys.document(tenant, kind, key))
        return None if raw is None else _text(raw)

    async def delete_documents(self, tenant: str, kind: str, keys: list[str]) -> None:
        if keys:
            await self.client.delete(*(self.keys.document(tenant, kind, key) for key in keys))

    async def _rep_check_ins(self, tenant: str, rep_id: str, keys: list[str]) -> list[CheckIn]:
        """Every check-in of these prospects, oldest first (ties in the order they were made)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrange(self.keys.log(tenant, rep_id, key), 0, -1, withscores=True)
            logs: list[list[tuple[str, float]]] = await pipe.execute()
        scored = sorted((score, member) for log in logs for member, score in log)
        return [_check_in(member) for _, member in scored]

    async def _due_in(self, index: str, until: str) -> list[ProspectRecord]:
        found = await self._due(keys=[index], args=[until])
        return [ProspectRecord.from_json(body) for body in _texts(found)]

    async def _prospects(self, tenant: str, rep_id: str, keys: list[str]) -> list[ProspectRecord]:
        if not keys:
            return []
        found = await self.client.mget([self.keys.prospect(tenant, rep_id, key) for key in keys])
        return [ProspectRecord.from_json(_text(raw)) for raw in found if raw is not None]

    def _prospect_keys(self, record: ProspectRecord) -> list[str]:
        return [
            self.keys.prospect(record.tenant, record.rep_id, record.key),
            self.keys.callbacks(record.tenant, record.rep_id),
            self.keys.recycles(record.tenant, record.rep_id),
            self.keys.owned(record.tenant, record.rep_id),
        ]

    def _check_in_keys(self, check_in: CheckIn) -> list[str]:
        tenant = check_in.tenant
        return [
            self.keys.seen(tenant, check_in.key),
            self.keys.sequence(tenant),
            self.keys.log(tenant, check_in.rep_id, check_in.prospect_key),
            self.keys.team_log(tenant, check_in.team),
        ]


class _Anything:
    """The expectation of a blind write: whatever is stored is overwritten."""


ANYTHING = _Anything()
Expected = str | None | _Anything  # the body read (None: there was none), or ANYTHING
MAX_TRIES = 50


class StoreContention(RuntimeError):
    """A value changed under every one of MAX_TRIES read-modify-writes."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the {what} kept changing under {MAX_TRIES} tries; try again")


def _expectation(expected: Expected) -> list[str]:
    """The `expect` and `expected` arguments of the write scripts."""
    if isinstance(expected, _Anything):
        return ["*", ""]
    return ["0", ""] if expected is None else ["1", expected]


async def _back_off(attempt: int) -> None:
    """A short random pause, growing with each try, so writers that collided spread out."""
    await asyncio.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 6)))


def _prospect_args(record: ProspectRecord, expected: Expected) -> list[str]:
    next_call = record.next_call_start
    return [
        *_expectation(expected),
        record.to_json(),
        record.key,
        "" if next_call is None else repr(next_call.timestamp()),
        "" if record.recycle_on is None else str(record.recycle_on.toordinal()),
    ]


def _check_in_args(check_in: CheckIn) -> list[str]:
    return [
        "1" if check_in.key else "0",
        str(int(SEEN_FOR.total_seconds())),
        check_in.to_json(),
        repr(check_in.at.timestamp()),
    ]


def _check_in(member: str) -> CheckIn:
    _, body = member.split(" ", 1)
    return CheckIn.from_json(body)


def _by_team(members: Sequence[str]) -> dict[str, list[str]]:
    teams: dict[str, list[str]] = {}
    for member in members:
        teams.setdefault(_check_in(member).team, []).append(member)
    return teams


def _rep_to_json(rep: RepProfile) -> str:
    fields = asdict(rep)
    del fields["tenant"]
    return json.dumps(fields)


def _rep_from_json(tenant: str, text: str) -> RepProfile:
    fields = json.loads(text)
    return RepProfile(tenant, **{**fields, "role": Role(fields["role"])})


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode()


def _texts(values: Iterable[object]) -> list[str]:
    """Plain members of a reply (the client is typed for every reply shape at once)."""
    texts = []
    for value in values:
        if not isinstance(value, str | bytes):
            raise TypeError(f"expected a member, got {type(value).__name__}")
        texts.append(_text(value))
    return texts
