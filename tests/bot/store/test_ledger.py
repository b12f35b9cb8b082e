"""The send ledger: one entry per send that must happen at most once, claimed with a lease.

Contract tests run on both stores with a clock the test moves; the races run claimers in
several processes on one store, on the wall clock.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.records import Claim, LedgerKey, SendKind, SendOutcome
from bot.store import RedisStore, SQLiteStore, Store
from bot.store.base import LEDGER_DAYS
from tests.bot.store.conftest import OTHER_REP, OTHER_TENANT, REP, TENANT, TODAY, Clock, opened

KEY = LedgerKey(TENANT, REP, SendKind.REP_NUDGE, TODAY)
LEASE = 60.0


async def test_the_first_claim_is_fresh_and_holds_the_entry(clocked_store: Store) -> None:
    assert await clocked_store.claim_send(KEY, "w1", LEASE) is Claim.FRESH
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.BUSY
    assert await clocked_store.claim_send(KEY, "w1", LEASE) is Claim.BUSY  # even to its holder
    assert await clocked_store.send_outcome(KEY) is None


async def test_entries_are_kept_apart_by_tenant_user_kind_and_date(clocked_store: Store) -> None:
    assert await clocked_store.claim_send(KEY, "w1", LEASE) is Claim.FRESH
    others = [
        LedgerKey(OTHER_TENANT, REP, SendKind.REP_NUDGE, TODAY),
        LedgerKey(TENANT, OTHER_REP, SendKind.REP_NUDGE, TODAY),
        LedgerKey(TENANT, REP, SendKind.DAILY_DIGEST, TODAY),
        LedgerKey(TENANT, REP, SendKind.REP_NUDGE, TODAY + timedelta(days=1)),
        LedgerKey("T:1", "a:b", SendKind.REP_NUDGE, TODAY),
        LedgerKey("T", "1:a:b", SendKind.REP_NUDGE, TODAY),
    ]
    assert [await clocked_store.claim_send(k, "w2", LEASE) for k in others] == [Claim.FRESH] * 6
    assert await clocked_store.settle_send(others[0], "w2", SendOutcome.SENT)
    assert await clocked_store.send_outcome(KEY) is None


async def test_a_settled_entry_is_done_for_everyone(clocked_store: Store) -> None:
    await clocked_store.claim_send(KEY, "w1", LEASE)
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.SENT) is True
    assert await clocked_store.send_outcome(KEY) is SendOutcome.SENT
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.DONE
    assert await clocked_store.claim_send(KEY, "w1", LEASE) is Claim.DONE
    assert await clocked_store.renew_send(KEY, "w1", LEASE) is False


async def test_a_settled_outcome_stays_the_first_one(clocked_store: Store) -> None:
    await clocked_store.claim_send(KEY, "w1", LEASE)
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.EMPTY)
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.EMPTY) is True  # a retry
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.SENT) is False
    assert await clocked_store.settle_send(KEY, "w2", SendOutcome.MISSED) is False
    assert await clocked_store.send_outcome(KEY) is SendOutcome.EMPTY


async def test_a_released_entry_is_fresh_again(clocked_store: Store) -> None:
    await clocked_store.claim_send(KEY, "w1", LEASE)
    await clocked_store.release_send(KEY, "w2")  # not the holder: nothing happens
    assert await clocked_store.claim_send(KEY, "w3", LEASE) is Claim.BUSY
    await clocked_store.release_send(KEY, "w1")
    assert await clocked_store.renew_send(KEY, "w1", LEASE) is False
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.FRESH
    assert await clocked_store.claim_send(KEY, "w3", LEASE) is Claim.BUSY


async def test_a_lease_that_ran_out_is_recovered_once(clocked_store: Store, clock: Clock) -> None:
    await clocked_store.claim_send(KEY, "dead", LEASE)
    clock.advance(LEASE - 1)
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.BUSY
    clock.advance(1)
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.RECOVER
    assert await clocked_store.claim_send(KEY, "w3", LEASE) is Claim.BUSY
    # The dead holder wakes: its lease and its settle are gone; the recoverer's stand.
    assert await clocked_store.renew_send(KEY, "dead", LEASE) is False
    assert await clocked_store.settle_send(KEY, "dead", SendOutcome.SENT) is False
    assert await clocked_store.settle_send(KEY, "w2", SendOutcome.SKIPPED) is True
    assert await clocked_store.send_outcome(KEY) is SendOutcome.SKIPPED


async def test_renewing_keeps_the_lease_running(clocked_store: Store, clock: Clock) -> None:
    await clocked_store.claim_send(KEY, "w1", LEASE)
    for _ in range(3):
        clock.advance(LEASE - 1)
        assert await clocked_store.renew_send(KEY, "w1", LEASE) is True
    assert await clocked_store.renew_send(KEY, "w2", LEASE) is False
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.BUSY
    clock.advance(LEASE)
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.RECOVER


async def test_a_slow_holder_whose_lease_ran_out_still_settles_if_nobody_took_over(
    clocked_store: Store, clock: Clock
) -> None:
    await clocked_store.claim_send(KEY, "w1", LEASE)
    clock.advance(LEASE * 2)
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.SENT) is True
    assert await clocked_store.claim_send(KEY, "w2", LEASE) is Claim.DONE


async def test_settling_needs_no_claim_unless_another_holds_it(clocked_store: Store) -> None:
    assert await clocked_store.settle_send(KEY, "w1", SendOutcome.MISSED) is True
    assert await clocked_store.send_outcome(KEY) is SendOutcome.MISSED
    other = LedgerKey(TENANT, REP, SendKind.WEEKLY_DIGEST, TODAY)
    await clocked_store.claim_send(other, "w1", LEASE)
    assert await clocked_store.settle_send(other, "w2", SendOutcome.SENT) is False
    await clocked_store.release_send(other, "w1")
    assert await clocked_store.settle_send(other, "w2", SendOutcome.SENT) is True


@pytest.mark.parametrize("lease", [0, -1, float("nan"), float("inf"), True])
async def test_a_lease_must_be_a_positive_number_of_seconds(
    clocked_store: Store, lease: float
) -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        await clocked_store.claim_send(KEY, "w1", lease)
    with pytest.raises(ValueError, match="lease_seconds"):
        await clocked_store.renew_send(KEY, "w1", lease)
    assert await clocked_store.claim_send(KEY, "w1", 0.5) is Claim.FRESH


async def test_concurrent_claims_give_the_entry_to_exactly_one(clocked_store: Store) -> None:
    claims = await asyncio.gather(
        *(clocked_store.claim_send(KEY, f"w{i}", LEASE) for i in range(20))
    )
    assert sorted(claims) == sorted([Claim.FRESH] + [Claim.BUSY] * 19)


# Expiry: settled entries are kept LEDGER_DAYS, then forgotten


async def test_sqlite_forgets_an_entry_ledger_days_after_its_last_write(
    tmp_path: Path, clock: Clock
) -> None:
    store = await SQLiteStore.open(tmp_path / "ledger.db", clock=clock)
    try:
        await store.settle_send(KEY, "w1", SendOutcome.SENT)
        clock.advance(LEDGER_DAYS * 86400 - 1)
        assert await store.claim_send(KEY, "w2", LEASE) is Claim.DONE
        assert await store.send_outcome(KEY) is SendOutcome.SENT
        clock.advance(1)
        assert await store.send_outcome(KEY) is None
        assert await store.claim_send(KEY, "w2", LEASE) is Claim.FRESH
        rows = await store._run(lambda: store.db.execute("SELECT COUNT(*) FROM ledger").fetchone())
        assert rows == (1,)  # the expired row went; only the new claim is there
    finally:
        await store.close()


async def test_redis_entries_expire_after_ledger_days(redis_store: RedisStore) -> None:
    await redis_store.claim_send(KEY, "w1", LEASE)
    await redis_store.settle_send(KEY, "w1", SendOutcome.SENT)
    kept = timedelta(days=LEDGER_DAYS)
    for key in (redis_store.keys.ledger(KEY), redis_store.keys.ledgers(TENANT, REP)):
        ttl = timedelta(seconds=await redis_store.client.ttl(key))
        assert kept - timedelta(minutes=1) < ttl <= kept
    assert redis_store.keys.ledger(KEY).startswith(f"{redis_store.keys.prefix}:{TENANT}:ledger:")


async def test_redis_treats_an_unreadable_entry_as_maybe_sent(redis_store: RedisStore) -> None:
    client, keys = redis_store.client, redis_store.keys
    other = LedgerKey(TENANT, REP, SendKind.DAILY_DIGEST, TODAY)
    await client.set(keys.ledger(KEY), "not a hash")
    await client.hset(keys.ledger(other), mapping={"state": "settled", "outcome": "exploded"})
    assert await redis_store.send_outcome(KEY) is None
    assert await redis_store.send_outcome(other) is None
    assert await redis_store.claim_send(KEY, "w1", LEASE) is Claim.RECOVER
    assert await redis_store.claim_send(other, "w1", LEASE) is Claim.DONE
    assert await redis_store.settle_send(KEY, "w1", SendOutcome.SENT)
    assert await redis_store.send_outcome(KEY) is SendOutcome.SENT


# Claimers in several processes


PROCESSES = 4
KEYS = [
    LedgerKey(tenant, f"U-{i}", kind, date(2025, 3, 10))
    for i in range(10)
    for tenant in (TENANT, OTHER_TENANT)
    for kind in (SendKind.REP_NUDGE, SendKind.WEEKLY_DIGEST)
]


def claim_from_a_process(
    kind: str,
    where: str,
    owner: str,
    start: multiprocessing.synchronize.Barrier,
    claims: multiprocessing.queues.Queue[tuple[str, list[str]]],
) -> None:
    asyncio.run(_claim(kind, where, owner, start, claims))


async def _claim(
    kind: str,
    where: str,
    owner: str,
    start: multiprocessing.synchronize.Barrier,
    claims: multiprocessing.queues.Queue[tuple[str, list[str]]],
) -> None:
    async with opened(kind, where) as store:
        # Every connection the claims use is made before they start, so they land together.
        await asyncio.gather(*(store.ping() for _ in KEYS))
        start.wait(timeout=60)
        got = await asyncio.gather(*(store.claim_send(key, owner, LEASE) for key in KEYS))
    claims.put((owner, [claim.value for claim in got]))


def race_claims(kind: str, where: str) -> dict[str, list[Claim]]:
    """Every process's claim of every key in KEYS, at once: {owner: claims in KEYS' order}."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(PROCESSES)
    claims: multiprocessing.queues.Queue[tuple[str, list[str]]] = spawn.Queue()
    owners = [f"worker-{n}" for n in range(PROCESSES)]
    processes = [
        spawn.Process(target=claim_from_a_process, args=(kind, where, owner, start, claims))
        for owner in owners
    ]
    for process in processes:
        process.start()
    results = dict(claims.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    return {owner: [Claim(claim) for claim in results[owner]] for owner in owners}


def by_key(results: dict[str, list[Claim]]) -> list[dict[Claim, list[str]]]:
    """For each key of KEYS: which owners got which answer."""
    answers: list[dict[Claim, list[str]]] = [{} for _ in KEYS]
    for owner, claims in results.items():
        for number, claim in enumerate(claims):
            answers[number].setdefault(claim, []).append(owner)
    return answers


async def test_claimers_in_several_processes_send_each_entry_once(
    shared_store: tuple[str, str],
) -> None:
    kind, where = shared_store
    first = by_key(race_claims(kind, where))
    for answers in first:
        assert len(answers[Claim.FRESH]) == 1
        assert len(answers[Claim.BUSY]) == PROCESSES - 1
        assert set(answers) == {Claim.FRESH, Claim.BUSY}
    async with opened(kind, where) as store:
        for key, answers in zip(KEYS, first, strict=True):
            [holder] = answers[Claim.FRESH]
            assert await store.settle_send(key, holder, SendOutcome.SENT) is True
    after_settling = race_claims(kind, where)
    assert all(claims == [Claim.DONE] * len(KEYS) for claims in after_settling.values())


async def test_a_lease_that_ran_out_is_recovered_by_exactly_one_process(
    shared_store: tuple[str, str],
) -> None:
    kind, where = shared_store
    async with opened(kind, where) as store:
        for key in KEYS:
            assert await store.claim_send(key, "died-mid-send", 0.2) is Claim.FRESH
    await asyncio.sleep(0.3)
    for answers in by_key(race_claims(kind, where)):
        assert len(answers[Claim.RECOVER]) == 1
        assert len(answers[Claim.BUSY]) == PROCESSES - 1


async def test_claims_still_work_after_redis_forgot_its_scripts(redis_store: RedisStore) -> None:
    """Ledger scripts share round trips by their hash; a restarted or flushed Redis has none
    loaded, and the store loads them again rather than failing the send."""
    key = LedgerKey(TENANT, REP, SendKind.REP_NUDGE, TODAY)
    await redis_store.client.script_flush()
    assert await redis_store.claim_send(key, "worker-1", 30) is Claim.FRESH
    await redis_store.client.script_flush()
    assert await redis_store.settle_send(key, "worker-1", SendOutcome.SENT)
    assert await redis_store.claim_send(key, "worker-2", 30) is Claim.DONE
