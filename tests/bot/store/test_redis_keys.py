"""Redis only: where the keys live, and what one check-in writes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from bot.records import (
    DEFAULT_NUDGE,
    LedgerKey,
    Outcome,
    ScheduledSend,
    SendKind,
    SendOutcome,
    TeamConfig,
)
from bot.store import RedisStore
from bot.store.redis import PROFILE, SEEN_FOR
from tests.bot.store.conftest import (
    NOW,
    OTHER_REP,
    REP,
    TEAM,
    TENANT,
    TODAY,
    checked_in,
    due_at,
    prospect,
    rep_profile,
    team_config,
)


async def _keys(store: RedisStore) -> list[str]:
    return sorted([key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*")])


async def _write_one_of_everything(store: RedisStore, tenant: str) -> None:
    await store.save_rep(rep_profile(tenant=tenant))
    await store.save_rep(rep_profile(OTHER_REP, tenant=tenant, team="west"))
    await store.save_team(team_config(tenant))
    await store.save_prospect(due_at(prospect("Eve Park", "Hooli", tenant=tenant), NOW))
    updated, check_in = checked_in(prospect(tenant=tenant), Outcome.NOT_INTERESTED, key="k-1")
    assert await store.record_check_in(updated, check_in)
    ledger = LedgerKey(tenant, REP, SendKind.REP_NUDGE, TODAY)
    await store.claim_send(ledger, "worker-1", 60)
    await store.settle_send(ledger, "worker-1", SendOutcome.SENT)


async def test_every_key_starts_with_the_prefix_and_the_tenant(redis_store: RedisStore) -> None:
    await _write_one_of_everything(redis_store, TENANT)
    keys = await _keys(redis_store)
    kinds = {key.split(":")[3] for key in keys}
    assert {"rep", "team", "team-reps", "prospect", "log", "team-log", "seen"} <= kinds
    assert {"callbacks", "recycles", "prospects", "check-in-seq"} <= kinds
    assert {"rep-log", "teams", "ledger", "ledgers"} <= kinds
    outside = [key for key in keys if not key.startswith(f"{redis_store.keys.prefix}:{TENANT}:")]
    assert outside == []


async def test_the_schedule_index_is_the_one_thing_outside_the_tenants(
    redis_store: RedisStore,
) -> None:
    await _write_one_of_everything(redis_store, TENANT)
    await redis_store.schedule_send(ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, NOW, "slack"))
    prefix = redis_store.keys.prefix
    outside = [key for key in await _keys(redis_store) if not key.startswith(f"{prefix}:{TENANT}:")]
    assert outside == [f"{prefix}:schedule", f"{prefix}:schedule-adapters"]


async def test_a_profile_stored_before_nudges_loads_with_the_defaults(
    redis_store: RedisStore,
) -> None:
    old = {"user_id": REP, "name": "Ann", "company": "Acme", "phone": "", "pitch": "",
           "timezone": None, "role": "rep", "team": TEAM}  # fmt: skip
    await redis_store.client.hset(redis_store.keys.rep(TENANT, REP), PROFILE, json.dumps(old))
    rep = await redis_store.get_rep(TENANT, REP)
    assert rep is not None and (rep.nudge, rep.platform, rep.name) == (DEFAULT_NUDGE, "", "Ann")


async def test_a_team_stored_before_managers_loads_and_gains_them(
    redis_store: RedisStore,
) -> None:
    old = {"playbook": "balanced", "settings": TeamConfig(TENANT).settings.as_mapping()}
    await redis_store.client.set(redis_store.keys.team(TENANT, TEAM), json.dumps(old))
    assert await redis_store.get_team(TENANT, TEAM) == TeamConfig(TENANT, TEAM)
    assert await redis_store.teams_managed_by(TENANT, REP) == []
    await redis_store.change_team(TENANT, TEAM, lambda team: replace(team, managers=(REP,)))
    assert [team.team for team in await redis_store.teams_managed_by(TENANT, REP)] == [TEAM]


async def test_a_tenant_with_a_colon_still_owns_one_namespace(redis_store: RedisStore) -> None:
    await _write_one_of_everything(redis_store, "T:1")
    prefix = redis_store.keys.prefix
    assert all(key.startswith(f"{prefix}:T%3A1:") for key in await _keys(redis_store))


async def test_a_duplicate_check_in_writes_nothing(redis_store: RedisStore) -> None:
    first, check_in = checked_in(prospect(), Outcome.LEFT, key="k-1")
    assert await redis_store.record_check_in(first, check_in)
    before = await _snapshot(redis_store)
    second, again = checked_in(first, Outcome.MEETING, NOW + timedelta(hours=1), key="k-1")
    assert await redis_store.record_check_in(second, again) is False
    assert await _snapshot(redis_store) == before


async def _snapshot(store: RedisStore) -> dict[str, object]:
    """Every key under the store's prefix with its whole value."""
    return {key: await _value(store, key) for key in await _keys(store)}


async def _value(store: RedisStore, key: str) -> object:
    client = store.client
    kind = await client.type(key)
    if kind == "string":
        return await client.get(key)
    if kind == "hash":
        return await client.hgetall(key)
    if kind == "set":
        return await client.smembers(key)
    if kind == "zset":
        return await client.zrange(key, 0, -1, withscores=True)
    raise AssertionError(f"unexpected {kind!r} at {key}")


async def test_the_idempotency_key_expires_after_a_few_days(redis_store: RedisStore) -> None:
    updated, check_in = checked_in(prospect(), key="k-1")
    await redis_store.record_check_in(updated, check_in)
    ttl = await redis_store.client.ttl(redis_store.keys.seen(TENANT, "k-1"))
    assert SEEN_FOR - timedelta(minutes=1) < timedelta(seconds=ttl) <= SEEN_FOR


async def test_a_check_in_without_a_key_leaves_no_seen_key(redis_store: RedisStore) -> None:
    updated, check_in = checked_in(prospect(), key="")
    await redis_store.record_check_in(updated, check_in)
    assert not [key for key in await _keys(redis_store) if ":seen:" in key]


async def test_one_check_in_lands_in_every_index_at_once(redis_store: RedisStore) -> None:
    updated, check_in = checked_in(prospect(), Outcome.NO_ANSWER, key="k-1")
    assert await redis_store.record_check_in(updated, check_in)
    keys = redis_store.keys
    assert updated.next_call_start is not None
    async with redis_store.client.pipeline(transaction=False) as pipe:
        pipe.zcard(keys.log(TENANT, REP, updated.key))
        pipe.zcard(keys.team_log(TENANT, TEAM))
        pipe.zscore(keys.callbacks(TENANT, REP), keys.prospect(TENANT, REP, updated.key))
        pipe.sismember(keys.owned(TENANT, REP), updated.key)
        pipe.zcard(keys.rep_log(TENANT, REP))
        counted = await pipe.execute()
    assert counted == [1, 1, updated.next_call_start.timestamp(), 1, 1]


async def test_batched_check_ins_keep_idempotency(redis_store: RedisStore) -> None:
    record = prospect()
    pairs = [
        checked_in(record, key="k-1"),
        checked_in(record, at=NOW + timedelta(hours=1), key="k-2"),
        checked_in(record, at=NOW + timedelta(hours=2), key="k-1"),
    ]
    assert await redis_store.record_check_ins(pairs) == [True, True, False]
    log = await redis_store.prospect_log(TENANT, REP, record.key)
    assert log == [pairs[1][1], pairs[0][1]]
    assert await redis_store.get_prospect(TENANT, REP, record.key) == pairs[1][0]


async def test_check_ins_logged_before_the_rep_log_are_read_by_rep(
    redis_store: RedisStore,
) -> None:
    check_ins = []
    for number, name in enumerate(("Dana Lee", "Eve Park", "Finn Ode")):
        record = prospect(name, "Initech")
        for hour in range(2):
            at = NOW + timedelta(hours=hour, minutes=number)
            record, check_in = checked_in(record, at=at, key=f"k-{number}-{hour}")
            assert await redis_store.record_check_in(record, check_in)
            check_ins.append(check_in)
    keys = redis_store.keys
    # As an older version left it: no rep log, and the rep not among the complete ones.
    await redis_store.client.delete(keys.rep_log(TENANT, REP), keys.rep_logs(TENANT))
    until = NOW + timedelta(days=1)
    expected = sorted(check_ins, key=lambda check_in: check_in.at)
    assert await redis_store.rep_check_ins(TENANT, REP, NOW, until) == expected
    assert await redis_store.client.sismember(keys.rep_logs(TENANT), REP)
    later, one_more = checked_in(record, at=until - timedelta(hours=1), key="k-late")
    assert await redis_store.record_check_in(later, one_more)
    assert await redis_store.rep_check_ins(TENANT, REP, NOW, until) == [*expected, one_more]
    assert await redis_store.rep_check_ins(TENANT, OTHER_REP, NOW, until) == []
    assert not await redis_store.client.sismember(keys.rep_logs(TENANT), OTHER_REP)
