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
    rep-log:{rep}               sorted set of the rep's check-ins by `at` (the same members);
                                a rep whose check-ins predate it has theirs copied in from
                                their prospects' logs on the first read (BUILD_REP_LOG)
    rep-logs                    set of the user ids whose rep-log is complete
    teams                       set of the tenant's team ids, written with each team (a team
                                saved before it existed has no managers: teams_managed_by and
                                forget_rep miss none)
    ledger:{user}:{kind}:{date} hash: one send's ledger entry (state, owner, lease_until,
                                outcome), expiring LEDGER_DAYS after its last write
    ledgers:{user}              sorted set of the user's ledger entry keys by expiry (erase)
    seen:{idempotency key}      "1", expiring after SEEN_FOR
    check-in-seq                counter that numbers check-ins
    doc:{kind}:{key}            string: a document adapters own, expiring (EX) when given a TTL

The schedule index is the one thing shared by tenants: due_sends reads every tenant's at once.
Its two keys have no tenant part (`{prefix}:schedule`, `{prefix}:schedule-adapters`), so no
tenant's key can be named like them:

    schedule                    sorted set of sends by due_at (epoch seconds); each member is
                                the JSON array [tenant, user id, kind], whatever the ids hold
    schedule-adapters           hash: member -> the adapter the send goes through

Schedule and ledger entries read back are treated as untrusted: a schedule entry that cannot
be read is skipped, dropped and logged with ids only; a ledger entry that cannot be read
answers RECOVER to a claim (it may have been sent) and None to send_outcome.

A check-in is stored as the member "{sequence:016d} {json}": unique even when two check-ins
are identical, and ordered by sequence when their times tie, as SQLite orders by row id.

Writes are Lua scripts, each atomic; WRITE_PROSPECT claims a check-in's idempotency key with
SET NX before it writes anything. A read-modify-write (change_prospect, change_rep,
change_team) sends what it read with the write, which the script makes only if that is still
what is stored; otherwise the store reads again and retries.

Queries read the sorted-set indexes, never KEYS or SCAN. DUE, SAVE_REP and FORGET_LEDGER reach
keys named in stored values (an index's members, a rep's old team set, a user's ledger
entries), which one Redis allows; a Redis Cluster would need every tenant's keys in one hash
slot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import redis.asyncio
from redis.exceptions import NoScriptError, WatchError

from bot.batched import Batched
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
    T,
    TeamChange,
    Unread,
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

SEEN_FOR = timedelta(days=7)
LEDGER_KEPT = timedelta(days=LEDGER_DAYS)
Clock = Callable[[], float]
log = logging.getLogger("voicemail_coach.store")
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

# A check-in: false (nothing written) if its idempotency key was seen. k: the first of its 5
# KEYS (seen, sequence, log, team log, rep log); a: the first of its 4 ARGV.
_LOG_CHECK_IN = """
local function log_check_in(k, a)
  if ARGV[a] == '1' and not redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[a + 1]) then
    return false
  end
  local member = string.format('%016d', redis.call('INCR', KEYS[k + 1])) .. ' ' .. ARGV[a + 2]
  redis.call('ZADD', KEYS[k + 2], ARGV[a + 3], member)
  redis.call('ZADD', KEYS[k + 3], ARGV[a + 3], member)
  redis.call('ZADD', KEYS[k + 4], ARGV[a + 3], member)
  return true
end
"""

WRITE_PROSPECT = (
    _WRITE_PROSPECT
    + _EXPECTED
    + _LOG_CHECK_IN
    + """
-- KEYS: prospect, callbacks, recycles, owned, then with a check-in: seen, sequence, log,
--       team log, rep log
-- ARGV: expect, expected JSON, prospect JSON, prospect key, next call score or '',
--       recycle score or '', then with a check-in: '1' if it has an idempotency key,
--       seconds to remember it, check-in JSON, at score
if not unchanged(redis.call('GET', KEYS[1]), ARGV[1], ARGV[2]) then
  return -1
end
if #ARGV > 6 and not log_check_in(5, 7) then
  return 0
end
write_prospect(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
"""
)

# A decision (change_decision): SAVE_REP's write and WRITE_PROSPECT's, made only if the rep's
# profile, their team's config and the prospect are all as the caller guessed; otherwise
# nothing is written and the answer carries the three as they are, for the next try.
DECIDE = (
    _WRITE_PROSPECT
    + _EXPECTED
    + _LOG_CHECK_IN
    + """
-- KEYS: rep, the rep set of the profile's team, team, prospect, callbacks, recycles, owned,
--       then with a check-in: seen, sequence, log, team log, rep log
-- ARGV: the expect and expected of the profile (1-2), of the team (3-4), of the prospect
--       (5-6); '1' to write the profile (7), user id (8), profile JSON (9); prospect JSON
--       (10), prospect key (11), next call score or '' (12), recycle score or '' (13); then
--       with a check-in (14-17): '1' if it has an idempotency key, seconds to remember it,
--       check-in JSON, at score
-- Answers {-1, profile, team, prospect} (a conflict), {0} (the check-in's key was seen: only
-- the profile was written) or {1}.
local rep = redis.call('HGET', KEYS[1], 'profile')
local team = redis.call('GET', KEYS[3])
local prospect = redis.call('GET', KEYS[4])
if not (unchanged(rep, ARGV[1], ARGV[2]) and unchanged(team, ARGV[3], ARGV[4])
        and unchanged(prospect, ARGV[5], ARGV[6])) then
  return {-1, rep, team, prospect}
end
if ARGV[7] == '1' then
  local old = redis.call('HGET', KEYS[1], 'team-set')
  if old and old ~= KEYS[2] then
    redis.call('SREM', old, ARGV[8])
  end
  redis.call('HSET', KEYS[1], 'profile', ARGV[9], 'team-set', KEYS[2])
  redis.call('SADD', KEYS[2], ARGV[8])
end
if #ARGV > 13 and not log_check_in(8, 14) then
  return {0}
end
write_prospect(KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[10], ARGV[11], ARGV[12], ARGV[13])
return {1}
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
-- KEYS: a string key, optionally a set.  ARGV: the new value, expect, expected value, '1' to
-- delete instead, then with a set: the member to add to it when the value is written
if not unchanged(redis.call('GET', KEYS[1]), ARGV[2], ARGV[3]) then
  return -1
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  if #KEYS > 1 then
    redis.call('SADD', KEYS[2], ARGV[5])
  end
end
return 1
"""
)
WRITTEN, SEEN, CONFLICT = 1, 0, -1

# The schedule index. A member is due when its score is; its adapter is read beside it.
DUE_SENDS = """
-- KEYS: schedule, schedule adapters.  ARGV: the highest due score, the most to return
local due = {}
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0,
                         ARGV[2])
for i = 1, #found, 2 do
  due[#due + 1] = {found[i], found[i + 1], redis.call('HGET', KEYS[2], found[i])}
end
return due
"""

MOVE_SEND = """
-- KEYS: schedule.  ARGV: member, the due_at it was read with, the new due_at
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

SCHEDULE_SEND = """
-- KEYS: schedule, schedule adapters.  ARGV: member, due_at, adapter
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
"""

DROP_SENDS = """
-- KEYS: schedule, schedule adapters.  ARGV: pairs of a member and 'always' (it cannot be read)
-- or 'unless-adapter' (only while it still has no adapter: a new schedule_send may fix it)
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == 'always' or redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
return 1
"""

# The ledger: each script reads one entry (a hash; anything else there counts as unreadable)
# and writes it whole, with its expiry, and files its key in the user's ledger index.
# ARGV of every ledger script: owner, now (epoch seconds), then its own, then the
# entry's expiry in milliseconds and the epoch second it expires at.
_LEDGER = """
local function read_entry(entry)
  local kind = redis.call('TYPE', entry)['ok']
  if kind == 'none' then return nil end
  if kind ~= 'hash' then return {state = 'unreadable'} end
  local got = redis.call('HMGET', entry, 'state', 'owner', 'lease_until', 'outcome')
  return {state = got[1] or 'unreadable', owner = got[2], lease_until = tonumber(got[3] or ''),
          outcome = got[4]}
end
local function running(entry, now)
  return entry.lease_until ~= nil and entry.lease_until > now
end
local function write_entry(entry, index, ...)
  local keep, expires_at = ARGV[#ARGV - 1], ARGV[#ARGV]
  redis.call('DEL', entry)
  redis.call('HSET', entry, ...)
  redis.call('PEXPIRE', entry, keep)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[2])
  redis.call('ZADD', index, expires_at, entry)
  redis.call('PEXPIRE', index, keep)
end
local now = tonumber(ARGV[2])
local entry = read_entry(KEYS[1])
"""

CLAIM_SEND = (
    _LEDGER
    + """
-- ARGV[3]: the lease's end
local answer = 'fresh'
if entry then
  if entry.state == 'settled' then return 'done' end
  if entry.state == 'held' and running(entry, now) then return 'busy' end
  -- a holder died mid-send, or the entry is unreadable: it may have gone out
  if entry.state ~= 'released' then answer = 'recover' end
end
write_entry(KEYS[1], KEYS[2], 'state', 'held', 'owner', ARGV[1], 'lease_until', ARGV[3])
return answer
"""
)

RENEW_SEND = (
    _LEDGER
    + """
-- ARGV[3]: the lease's new end
if not entry or entry.state ~= 'held' or entry.owner ~= ARGV[1] then return 0 end
write_entry(KEYS[1], KEYS[2], 'state', 'held', 'owner', ARGV[1], 'lease_until', ARGV[3])
return 1
"""
)

RELEASE_SEND = (
    _LEDGER
    + """
if not entry or entry.state ~= 'held' or entry.owner ~= ARGV[1] then return 0 end
write_entry(KEYS[1], KEYS[2], 'state', 'released', 'owner', '', 'lease_until', '0')
return 1
"""
)

SETTLE_SEND = (
    _LEDGER
    + """
-- ARGV[3]: the outcome
if entry then
  if entry.state == 'settled' then  -- the first outcome stays; a retried settle is no conflict
    if entry.owner == ARGV[1] and entry.outcome == ARGV[3] then return 1 end
    return 0
  end
  if entry.state == 'held' and entry.owner ~= ARGV[1] and running(entry, now) then return 0 end
end
write_entry(KEYS[1], KEYS[2], 'state', 'settled', 'owner', ARGV[1], 'lease_until', '0',
            'outcome', ARGV[3])
return 1
"""
)

SEND_OUTCOME = (
    _LEDGER
    + """
if entry and entry.state == 'settled' then return entry.outcome or '' end
return false
"""
)

BUILD_REP_LOG = """
-- KEYS: the rep's log, the set of complete rep logs, then the logs of the rep's prospects.
-- ARGV: the rep's user id.  Check-ins written meanwhile are in both logs already: adding
-- them again changes nothing.
for i = 3, #KEYS do
  local found = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for first = 1, #found, 1000 do
    local scored = {}
    for j = first, math.min(first + 999, #found), 2 do
      scored[#scored + 1] = found[j + 1]
      scored[#scored + 1] = found[j]
    end
    redis.call('ZADD', KEYS[1], unpack(scored))
  end
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

FORGET_LEDGER = """
-- KEYS: the user's ledger index.  Its members are the entries' own keys.
for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', entry)
end
redis.call('DEL', KEYS[1])
return 1
"""


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

    def rep_log(self, tenant: str, rep_id: str) -> str:
        return self.key(tenant, "rep-log", rep_id)

    def rep_logs(self, tenant: str) -> str:
        return self.key(tenant, "rep-logs")

    def teams(self, tenant: str) -> str:
        return self.key(tenant, "teams")

    def ledger(self, key: LedgerKey) -> str:
        return self.key(
            key.tenant, "ledger", key.user_id, key.kind.value, key.local_date.isoformat()
        )

    def ledgers(self, tenant: str, user_id: str) -> str:
        return self.key(tenant, "ledgers", user_id)

    @property
    def schedule(self) -> str:
        return f"{self.prefix}:schedule"

    @property
    def schedule_adapters(self) -> str:
        return f"{self.prefix}:schedule-adapters"


MAX_CONNECTIONS = 64
POOL_TIMEOUT_S = 10


class RedisStore:
    def __init__(
        self, client: redis.asyncio.Redis, prefix: str = "vc", clock: Clock = time.time
    ) -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._clock = clock  # epoch seconds, for ledger leases
        self._save_rep = client.register_script(SAVE_REP)
        self._write_prospect = client.register_script(WRITE_PROSPECT)
        self._set_string = client.register_script(SET_STRING)
        self._due = client.register_script(DUE)
        self._due_sends = client.register_script(DUE_SENDS)
        self._move_send = client.register_script(MOVE_SEND)
        self._schedule_send = client.register_script(SCHEDULE_SEND)
        self._drop_sends = client.register_script(DROP_SENDS)
        self._claim_send = client.register_script(CLAIM_SEND)
        self._renew_send = client.register_script(RENEW_SEND)
        self._release_send = client.register_script(RELEASE_SEND)
        self._settle_send = client.register_script(SETTLE_SEND)
        self._send_outcome = client.register_script(SEND_OUTCOME)
        self._forget_ledger = client.register_script(FORGET_LEDGER)
        self._build_rep_log = client.register_script(BUILD_REP_LOG)
        self._decide = client.register_script(DECIDE)
        self._guesses = Guesses()
        # The reads every request makes share round trips with other requests' reads.
        self._reads = Batched(client)

    @classmethod
    def connect(cls, url: str, prefix: str = "vc", clock: Clock = time.time) -> RedisStore:
        """A store on `url` that connects on first use: Redis may still be down."""
        # A blocking pool: under a burst, requests wait for a connection instead of failing
        # with MaxConnectionsError (which a rep would see as an apology).
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=MAX_CONNECTIONS, timeout=POOL_TIMEOUT_S
        )
        return cls(redis.asyncio.Redis(connection_pool=pool), prefix, clock)

    @classmethod
    async def open(cls, url: str, prefix: str = "vc", clock: Clock = time.time) -> RedisStore:
        """A store on `url` that answered a ping."""
        store = cls.connect(url, prefix, clock)
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

    async def change_decision(
        self,
        tenant: str,
        rep_id: str,
        key: str,
        rep: RepChange,
        change: DecisionChange[T],
    ) -> Decided[T]:
        """One DECIDE script: the first try goes on this store's guesses of the three values
        (those it last read or wrote; nothing stored, for those it has not seen), each try
        after a conflict on what the conflict answered."""
        rep_key, prospect = self.keys.rep(tenant, rep_id), self.keys.prospect(tenant, rep_id, key)
        guesses = self._guesses
        rep_body, prospect_body = guesses.get(rep_key), guesses.get(prospect)
        for attempt in range(MAX_TRIES):
            stored = None if rep_body is None else _rep_from_json(tenant, rep_body)
            after = rep(stored)
            check_same_rep(after, tenant, rep_id)
            team_key = self.keys.team(tenant, after.team)
            team_body = guesses.get(team_key)
            team = (
                TeamConfig(tenant, after.team)
                if team_body is None
                else TeamConfig.from_json(tenant, after.team, team_body)
            )
            changed = change(
                after, team, None if prospect_body is None else _prospect(prospect_body)
            )
            check_same_prospect(changed.record, tenant, rep_id, key)
            rep_json = None if after == stored else _rep_to_json(after)
            record_json = changed.record.to_json()
            keys = [
                rep_key,
                self.keys.team_reps(tenant, after.team),
                team_key,
                *self._prospect_keys(changed.record),
            ]
            args = [
                *_expectation(rep_body),
                *_expectation(team_body),
                *_expectation(prospect_body),
                "0" if rep_json is None else "1",
                rep_id,
                rep_json or "",
                *_record_args(changed.record, record_json),
            ]
            if changed.check_in is not None:
                keys += self._check_in_keys(changed.check_in)
                args += _check_in_args(changed.check_in)
            answer = await self._shared_trip(self._decide, keys=keys, args=args)
            written = int(answer[0])
            if written == CONFLICT:
                rep_body, team_body, prospect_body = (_text_or_none(body) for body in answer[1:4])
                guesses.keep(rep_key, rep_body)
                guesses.keep(team_key, team_body)
                guesses.keep(prospect, prospect_body)
                if attempt:  # the first try's guesses may have been old: only retries wait
                    await _back_off(attempt - 1)
                continue
            guesses.keep(rep_key, rep_body if rep_json is None else rep_json)
            guesses.keep(team_key, team_body)
            guesses.keep(prospect, record_json if written == WRITTEN else prospect_body)
            return Decided(stored, after, changed if written == WRITTEN else None)
        raise StoreContention("decision")

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
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.team(config.tenant, config.team), config.to_json())
            pipe.sadd(self.keys.teams(config.tenant), config.team)
            await pipe.execute()

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
            listed = (self.keys.teams(tenant), team)
            if await self._change_string(key, body, changed.to_json(), listed) != CONFLICT:
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

    async def rep_check_ins(
        self, tenant: str, rep_id: str, since: datetime, until: datetime
    ) -> list[CheckIn]:
        log, scores = self.keys.rep_log(tenant, rep_id), (since.timestamp(), until.timestamp())
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.sismember(self.keys.rep_logs(tenant), rep_id)
            pipe.zrangebyscore(log, scores[0], f"({scores[1]!r}")
            complete, members = await pipe.execute()
        if not complete:
            await self._complete_rep_log(tenant, rep_id)
            members = await self.client.zrangebyscore(log, scores[0], f"({scores[1]!r}")
        return [_check_in(member) for member in _texts(members)]

    async def _complete_rep_log(self, tenant: str, rep_id: str) -> None:
        """Copy in the check-ins a rep logged before the rep log existed (once per rep). A rep
        with no prospects has nothing to copy, and is not named anywhere for it."""
        keys = sorted(map(_text, await self.client.smembers(self.keys.owned(tenant, rep_id))))
        if not keys:
            return
        await self._build_rep_log(
            keys=[
                self.keys.rep_log(tenant, rep_id),
                self.keys.rep_logs(tenant),
                *(self.keys.log(tenant, rep_id, key) for key in keys),
            ],
            args=[rep_id],
        )

    async def teams_managed_by(self, tenant: str, user_id: str) -> list[TeamConfig]:
        teams = await self._team_ids(tenant)
        if not teams:
            return []
        found = await self.client.mget([self.keys.team(tenant, team) for team in teams])
        configs = [
            TeamConfig.from_json(tenant, team, _text(raw))
            for team, raw in zip(teams, found, strict=True)
            if raw is not None
        ]
        return [config for config in configs if user_id in config.managers]

    # The schedule index

    async def schedule_send(self, send: ScheduledSend) -> None:
        member = _send_member(send.tenant, send.user_id, send.kind)
        await self._shared_trip(
            self._schedule_send,
            keys=[self.keys.schedule, self.keys.schedule_adapters],
            args=[member, repr(epoch_seconds(send.due_at)), send.adapter],
        )

    async def unschedule_send(self, tenant: str, user_id: str, kind: SendKind) -> None:
        member = _send_member(tenant, user_id, kind)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self.keys.schedule, member)
            pipe.hdel(self.keys.schedule_adapters, member)
            await pipe.execute()

    async def get_send(self, tenant: str, user_id: str, kind: SendKind) -> ScheduledSend | None:
        member = _send_member(tenant, user_id, kind)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zscore(self.keys.schedule, member)
            pipe.hget(self.keys.schedule_adapters, member)
            score, adapter = await pipe.execute()
        if score is None:
            return None
        return _send(member, score, adapter)

    async def due_sends(self, until: datetime, limit: int) -> list[ScheduledSend]:
        if limit <= 0:
            return []
        found = await self._due_sends(
            keys=[self.keys.schedule, self.keys.schedule_adapters],
            args=[repr(epoch_seconds(until)), str(limit)],
        )
        due, unreadable = [], []
        for entry in found if isinstance(found, list) else ():
            send = _due_entry(entry)
            if isinstance(send, ScheduledSend):
                due.append(send)
            elif send is not None:
                unreadable.extend(send)
        if unreadable:  # dropped, or they would fill every batch from now on
            await self._drop_sends(
                keys=[self.keys.schedule, self.keys.schedule_adapters], args=unreadable
            )
        return due

    async def move_send(self, send: ScheduledSend, due_at: datetime) -> bool:
        moved: int = await self._shared_trip(
            self._move_send,
            keys=[self.keys.schedule],
            args=[
                _send_member(send.tenant, send.user_id, send.kind),
                repr(epoch_seconds(send.due_at)),
                repr(epoch_seconds(due_at)),
            ],
        )
        return moved == 1

    # The ledger

    async def claim_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> Claim:
        check_lease(lease_seconds)
        now = self._clock()
        answer = await self._ledger_script(self._claim_send, key, owner, now, now + lease_seconds)
        return Claim(_text(answer))

    async def renew_send(self, key: LedgerKey, owner: str, lease_seconds: float) -> bool:
        check_lease(lease_seconds)
        now = self._clock()
        renewed = await self._ledger_script(self._renew_send, key, owner, now, now + lease_seconds)
        return bool(renewed == 1)

    async def release_send(self, key: LedgerKey, owner: str) -> None:
        await self._ledger_script(self._release_send, key, owner, self._clock())

    async def settle_send(self, key: LedgerKey, owner: str, outcome: SendOutcome) -> bool:
        settled = await self._ledger_script(
            self._settle_send, key, owner, self._clock(), outcome.value
        )
        return bool(settled == 1)

    async def send_outcome(self, key: LedgerKey) -> SendOutcome | None:
        found = await self._ledger_script(self._send_outcome, key, "", self._clock())
        if found is None:
            return None
        try:
            return SendOutcome(_text(found))
        except (TypeError, ValueError, AttributeError):
            log.warning("ledger_entry_unreadable", extra={"store": "redis", **_ledger_ids(key)})
            return None

    async def _ledger_script(
        self, script: Any, key: LedgerKey, owner: str, now: float, *own: float | str
    ) -> Any:
        kept = LEDGER_KEPT.total_seconds()
        return await self._shared_trip(
            script,
            keys=[self.keys.ledger(key), self.keys.ledgers(key.tenant, key.user_id)],
            args=[
                owner,
                repr(now),
                *(repr(arg) if isinstance(arg, float) else arg for arg in own),
                str(int(kept * 1000)),
                repr(now + kept),
            ],
        )

    async def _shared_trip(self, script: Any, keys: list[str], args: list[str]) -> Any:
        """Run a script in the round trip other tasks' commands share (a morning's nudges make
        thousands of small calls at once); a Redis that has not loaded it yet (just started,
        or flushed) gets it loaded by the script object, once."""
        try:
            return await self._reads.run("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await script(keys=keys, args=args)

    async def forget_prospect(self, tenant: str, rep_id: str, key: str) -> bool:
        prospect = self.keys.prospect(tenant, rep_id, key)
        log = self.keys.log(tenant, rep_id, key)
        self._guesses.drop([prospect])
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
                    if members:
                        pipe.zrem(self.keys.rep_log(tenant, rep_id), *members)
                    await pipe.execute()
                    return existed
                except WatchError:
                    continue

    async def forget_rep(self, tenant: str, rep_id: str) -> None:
        # Its prospects' keys, all of which start with the key of a prospect named "".
        self._guesses.drop([self.keys.rep(tenant, rep_id)], self.keys.prospect(tenant, rep_id, ""))
        keys = sorted(map(_text, await self.client.smembers(self.keys.owned(tenant, rep_id))))
        for key in keys:
            await self.forget_prospect(tenant, rep_id, key)
        rep = self.keys.rep(tenant, rep_id)
        team_set = await self.client.hget(rep, "team-set")
        async with self.client.pipeline(transaction=True) as pipe:
            if team_set is not None:
                pipe.srem(_text(team_set), rep_id)
            pipe.srem(self.keys.rep_logs(tenant), rep_id)
            pipe.delete(
                rep,
                self.keys.owned(tenant, rep_id),
                self.keys.callbacks(tenant, rep_id),
                self.keys.recycles(tenant, rep_id),
                self.keys.rep_log(tenant, rep_id),
            )
            members = [_send_member(tenant, rep_id, kind) for kind in SendKind]
            pipe.zrem(self.keys.schedule, *members)
            pipe.hdel(self.keys.schedule_adapters, *members)
            await pipe.execute()
        await self._forget_ledger(keys=[self.keys.ledgers(tenant, rep_id)], args=[])
        await self._leave_teams(tenant, rep_id)

    async def _leave_teams(self, tenant: str, user_id: str) -> None:
        """Take the user out of every team's managers (and their own team's label)."""
        for team in await self._team_ids(tenant):
            config = await self.get_team(tenant, team)
            if without_manager(config, user_id) != config:
                await self.change_team(
                    tenant, team, lambda stored: without_manager(stored, user_id)
                )

    async def _team_ids(self, tenant: str) -> list[str]:
        return sorted(map(_text, await self.client.smembers(self.keys.teams(tenant))))

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

    async def _change_string(
        self,
        key: str,
        expected: str | None,
        value: str | None,
        listed: tuple[str, str] | None = None,
    ) -> int:
        """Set (None: delete) the string at `key` if it still holds `expected`; keeps its TTL.
        With `listed` (a set and a member), a written value also puts the member in the set."""
        keys, args = [key], ["" if value is None else value, *_expectation(expected)]
        args.append("1" if value is None else "0")
        if listed is not None:
            keys.append(listed[0])
            args.append(listed[1])
        written: int = await self._set_string(keys=keys, args=args)
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
        found = await self._shared_trip(self._due, keys=[index], args=[until])
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
            self.keys.rep_log(tenant, check_in.rep_id),
        ]


GUESSES_KEPT = 10_000
GUESS_SECONDS = 300.0


class Guesses:
    """What this store last read or wrote of the values a decision reads (profiles, team
    configs, prospects), by key: DECIDE's first try guesses them, and writes only if they
    are still what is stored, so an old guess costs a try, never a wrong write. At most
    GUESSES_KEPT of them, each for GUESS_SECONDS; erasing a rep drops theirs."""

    def __init__(
        self,
        most: int = GUESSES_KEPT,
        seconds: float = GUESS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._most = most
        self._seconds = seconds
        self._clock = clock
        self._kept: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def get(self, key: str) -> str | None:
        """The value last seen at `key`; None (nothing stored) when there is none to go on."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        if self._clock() - kept[0] >= self._seconds:
            del self._kept[key]
            return None
        return kept[1]

    def keep(self, key: str, value: str | None) -> None:
        kept = self._kept
        kept[key] = (self._clock(), value)
        kept.move_to_end(key)
        if len(kept) > self._most:
            kept.popitem(last=False)

    def drop(self, keys: Iterable[str], prefix: str | None = None) -> None:
        """Forget `keys`, and (with `prefix`) every key that starts with it."""
        for key in keys:
            self._kept.pop(key, None)
        if prefix is not None:
            for key in [key for key in self._kept if key.startswith(prefix)]:
                del self._kept[key]


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
    return [*_expectation(expected), *_record_args(record, record.to_json())]


def _record_args(record: ProspectRecord, body: str) -> list[str]:
    """The prospect's arguments of write_prospect: its JSON (`body`), key and index scores."""
    next_call = record.next_call_start
    return [
        body,
        record.key,
        "" if next_call is None else repr(next_call.timestamp()),
        "" if record.recycle_on is None else str(record.recycle_on.toordinal()),
    ]


def _prospect(body: str) -> ProspectRecord:
    return ProspectRecord.from_json(body)


def _text_or_none(value: str | bytes | None) -> str | None:
    return None if value is None else _text(value)


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


def _send_member(tenant: str, user_id: str, kind: SendKind) -> str:
    """A send's member in the schedule index: JSON, so ids holding any character stay apart."""
    return json.dumps([tenant, user_id, kind.value], separators=(",", ":"))


def _send(member: str, score: object, adapter: object) -> ScheduledSend | None:
    """The send an index entry holds, or None (logged, ids only) if it cannot be read."""
    ids: dict[str, str] = {}
    try:
        tenant, user_id, kind = json.loads(member)
        if not all(isinstance(part, str) for part in (tenant, user_id, kind)):
            raise TypeError("ids are text")
        ids = {"tenant": tenant, "user": user_id, "kind": kind}
        if not isinstance(adapter, str | bytes):
            raise TypeError("a send has an adapter")
        seconds = float(score) if isinstance(score, str | bytes | int | float) else math.nan
        if not math.isfinite(seconds):
            raise ValueError("due_at is a finite number")
        return ScheduledSend(tenant, user_id, SendKind(kind), utc_moment(seconds), _text(adapter))
    except (TypeError, ValueError, OverflowError, OSError) as error:
        log.warning(
            "scheduled_send_unreadable",
            extra={"store": "redis", "error": type(error).__name__, **ids},
        )
        return None


def _due_entry(entry: object) -> ScheduledSend | list[str] | None:
    """A due_sends entry's send; if it cannot be read, the DROP_SENDS arguments that drop it
    (None: not even its member can be named)."""
    if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str | bytes):
        return None
    member, score, adapter = _text(entry[0]), entry[1], entry[2]
    send = _send(member, score, adapter)
    if send is not None:
        return send
    # An entry with no adapter may be fixed by a schedule_send meanwhile: keep it if so.
    return [member, "unless-adapter" if adapter is None else "always"]


def _ledger_ids(key: LedgerKey) -> dict[str, str]:
    return {
        "tenant": key.tenant,
        "user": key.user_id,
        "kind": key.kind.value,
        "local_date": key.local_date.isoformat(),
    }
