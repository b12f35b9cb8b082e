"""The scheduler on each store: who is due, sent once, retried, skipped, missed, rescheduled."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters import AdapterStatus, Address, Delivery, RecipientGone
from bot.config import Config
from bot.jobs import Jobs
from bot.records import (
    Claim,
    DigestCadence,
    LedgerKey,
    ProspectRecord,
    RepProfile,
    ScheduledSend,
    SendKind,
    SendOutcome,
    TeamConfig,
)
from bot.scheduler import SENDS_PER_JOB, Scheduler, sends_from_payload
from bot.store import Store
from bot.types import Reply

NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY_EIGHT = datetime(2026, 12, 2, 8, 0, tzinfo=NEW_YORK)
TENANT = "T-sched"
REP = "U-rep"
MANAGER = "U-boss"


@dataclass
class Recorder:
    """An adapter that keeps what it was asked to deliver; it can fail on demand."""

    name: str = "test"
    delivered: list[tuple[Reply, Address]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)  # raised in turn, then it delivers
    chats: bool = True

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None: ...

    def mount(self, app: Any, services: Any) -> AdapterStatus:
        return AdapterStatus(self.name, True, "test")

    def render(self, reply: Reply) -> object:
        return reply

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        assert how is Delivery.DIRECT
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append((reply, address))

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        return Address(self.name, tenant, user_id) if self.chats else None

    async def was_delivered(self, address: Address, ref: str) -> bool:
        return any(reply.ref == ref and a == address for reply, a in self.delivered)

    async def forget_rep(self, tenant: str, user_id: str) -> None: ...

    def to(self, user_id: str) -> list[Reply]:
        return [reply for reply, address in self.delivered if address.user_id == user_id]


def scheduler_at(store: Store, adapter: Recorder, now: Callable[[], datetime]) -> Scheduler:
    jobs = Jobs.open(Config())
    scheduler = Scheduler(store, jobs, {adapter.name: adapter}, clock=now, lease_seconds=30)
    scheduler.register()
    return scheduler


def rep(user_id: str = REP, **changes: Any) -> RepProfile:
    profile = RepProfile(
        TENANT, user_id, name="Ann Smith", timezone="America/New_York", platform="test"
    )
    return replace(profile, **changes)


def callback_today(rep_id: str = REP, name: str = "Jane Doe") -> ProspectRecord:
    start = WEDNESDAY_EIGHT.replace(hour=10).astimezone(UTC)
    return ProspectRecord(
        TENANT, rep_id, f"{name.casefold()}@acme", name, "Acme", attempts=2, voicemails_left=1,
        next_call_start=start, next_call_end=start + timedelta(hours=1),
    )  # fmt: skip


async def due_rep(store: Store, scheduler: Scheduler, profile: RepProfile | None = None) -> None:
    profile = profile or rep()
    await store.save_rep(profile)
    await store.save_prospect(callback_today(profile.user_id))
    await scheduler.reschedule_user(profile.tenant, profile.user_id)


async def test_a_rep_with_a_call_back_today_is_nudged_once_at_eight(store: Store) -> None:
    adapter = Recorder()
    now = WEDNESDAY_EIGHT - timedelta(hours=1)
    scheduler = scheduler_at(store, adapter, lambda: now)
    await due_rep(store, scheduler)
    assert await store.due_sends(now, 10) == []
    entry = await store.get_send(TENANT, REP, SendKind.REP_NUDGE)
    assert entry is not None and entry.due_at == WEDNESDAY_EIGHT.astimezone(UTC)

    now = WEDNESDAY_EIGHT + timedelta(seconds=1)
    assert await scheduler.turn() == 1
    await asyncio.sleep(0.05)  # the in-memory broker runs the job as a task
    assert len(adapter.to(REP)) == 1
    assert "Jane Doe" in str(adapter.to(REP)[0])
    assert await scheduler.turn() == 0  # moved to Thursday
    entry = await store.get_send(TENANT, REP, SendKind.REP_NUDGE)
    assert entry is not None
    assert entry.due_at == (WEDNESDAY_EIGHT + timedelta(days=1)).astimezone(UTC)


async def test_two_schedulers_on_one_store_send_each_nudge_once(store: Store) -> None:
    adapter = Recorder()
    now = WEDNESDAY_EIGHT - timedelta(minutes=5)
    first = scheduler_at(store, adapter, lambda: now)
    second = scheduler_at(store, adapter, lambda: now)
    for number in range(20):
        await due_rep(store, first, rep(f"U{number}"))
    now = WEDNESDAY_EIGHT + timedelta(minutes=1)
    queued = await asyncio.gather(first.turn(), second.turn())
    await asyncio.sleep(0.2)
    assert sum(queued) == 20
    assert sorted(a.user_id for _, a in adapter.delivered) == sorted(f"U{n}" for n in range(20))


async def test_the_same_send_found_twice_goes_once(store: Store) -> None:
    """A redelivered job, or a second replica's, finds the ledger settled."""
    adapter = Recorder()
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    results = await asyncio.gather(
        *(scheduler.deliver_due(send, WEDNESDAY_EIGHT + timedelta(minutes=1)) for _ in range(5))
    )
    assert len(adapter.delivered) == 1
    assert sorted(r.status for r in results).count("sent") == 1


async def test_nothing_due_sends_nothing_that_day(store: Store) -> None:
    adapter = Recorder()
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await store.save_rep(rep())  # no prospects at all
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    result = await scheduler.deliver_due(send, WEDNESDAY_EIGHT + timedelta(minutes=1))
    assert result.status == SendOutcome.EMPTY.value
    assert adapter.delivered == []


async def test_a_failing_send_is_retried_later_the_same_day(store: Store) -> None:
    adapter = Recorder(failures=[ConnectionError("down")])
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    failed = await scheduler.deliver_due(send, WEDNESDAY_EIGHT)
    assert failed.status == "retry"
    entry = await store.get_send(TENANT, REP, SendKind.REP_NUDGE)
    assert entry is not None and entry.due_at - WEDNESDAY_EIGHT < timedelta(minutes=1)
    again = await scheduler.deliver_due(entry, entry.due_at)
    assert again.status == "sent"
    assert len(adapter.delivered) == 1


async def test_a_send_failing_until_the_day_ends_is_missed_and_the_next_day_scheduled(
    store: Store,
) -> None:
    adapter = Recorder(failures=[ConnectionError("down")])
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    late = WEDNESDAY_EIGHT.replace(hour=23, minute=58)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, late, "test")
    result = await scheduler.deliver_due(send, late)
    assert result.status == SendOutcome.MISSED.value
    key = LedgerKey(TENANT, REP, SendKind.REP_NUDGE, late.date())
    assert await store.send_outcome(key) is SendOutcome.MISSED
    entry = await store.get_send(TENANT, REP, SendKind.REP_NUDGE)
    assert entry is not None and entry.due_at.astimezone(
        NEW_YORK
    ).date() == late.date() + timedelta(1)


async def test_a_recipient_gone_is_skipped_not_retried(store: Store) -> None:
    adapter = Recorder(failures=[RecipientGone("account_inactive")])
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    result = await scheduler.deliver_due(send, WEDNESDAY_EIGHT)
    assert result.status == SendOutcome.SKIPPED.value
    no_chat = Recorder(chats=False)
    other = scheduler_at(store, no_chat, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, other, rep("U-nochat"))
    send = replace(send, user_id="U-nochat")
    assert (await other.deliver_due(send, WEDNESDAY_EIGHT)).status == SendOutcome.SKIPPED.value


async def test_after_a_crash_mid_send_a_message_that_arrived_is_not_sent_again(
    store: Store,
) -> None:
    adapter = Recorder()
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    key = LedgerKey(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT.date())
    # A worker claimed it with a short lease, delivered, and died before settling.
    assert await store.claim_send(key, "dead-worker", 0.05) is Claim.FRESH
    address = Address("test", TENANT, REP)
    adapter.delivered.append((Reply("earlier", ref=key.ref), address))
    await asyncio.sleep(0.1)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    result = await scheduler.deliver_due(send, WEDNESDAY_EIGHT)
    assert result.status == "sent"
    assert len(adapter.delivered) == 1


async def test_a_later_nudge_time_the_same_day_sends_no_second_nudge(store: Store) -> None:
    adapter = Recorder()
    now = WEDNESDAY_EIGHT + timedelta(minutes=1)
    scheduler = scheduler_at(store, adapter, lambda: now)
    await due_rep(store, scheduler)
    await scheduler.turn()
    await asyncio.sleep(0.05)
    await store.save_rep(rep(nudge="10:00"))
    await scheduler.reschedule_user(TENANT, REP)
    now = WEDNESDAY_EIGHT.replace(hour=10, minute=1)
    await scheduler.turn()
    await asyncio.sleep(0.05)
    assert len(adapter.delivered) == 1
    entry = await store.get_send(TENANT, REP, SendKind.REP_NUDGE)
    assert entry is not None and entry.due_at == WEDNESDAY_EIGHT.replace(day=3, hour=10)


async def test_nudges_off_unschedules_and_a_forgotten_rep_is_dropped(store: Store) -> None:
    adapter = Recorder()
    scheduler = scheduler_at(store, adapter, lambda: WEDNESDAY_EIGHT)
    await due_rep(store, scheduler)
    await store.save_rep(rep(nudge="off"))
    await scheduler.reschedule_user(TENANT, REP)
    assert await store.get_send(TENANT, REP, SendKind.REP_NUDGE) is None
    await due_rep(store, scheduler)
    await store.forget_rep(TENANT, REP)
    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    assert (await scheduler.deliver_due(send, WEDNESDAY_EIGHT)).status == "gone"
    assert adapter.delivered == []


async def test_a_manager_gets_the_weekly_digest_on_monday_with_its_chart(store: Store) -> None:
    adapter = Recorder()
    friday = WEDNESDAY_EIGHT + timedelta(days=2, hours=2)
    scheduler = scheduler_at(store, adapter, lambda: friday)
    await store.save_rep(rep(MANAGER, name="Dana Boss", team=MANAGER))
    await store.save_rep(rep(team=MANAGER))
    await store.save_team(
        TeamConfig(TENANT, MANAGER, managers=(MANAGER,), digest=DigestCadence.WEEKLY)
    )
    await scheduler.reschedule_user(TENANT, MANAGER)
    entry = await store.get_send(TENANT, MANAGER, SendKind.WEEKLY_DIGEST)
    monday = WEDNESDAY_EIGHT + timedelta(days=5)
    assert entry is not None and entry.due_at == monday.astimezone(UTC)
    assert await store.get_send(TENANT, MANAGER, SendKind.DAILY_DIGEST) is None
    result = await scheduler.deliver_due(entry, monday)
    assert result.status == "sent"
    (digest,) = adapter.to(MANAGER)
    assert digest.image is not None and digest.image.png.startswith(b"\x89PNG")


GOOD = ["T", "U", "rep_nudge", "slack"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"sends": []}, {"sends": "T"}, {"sends": [GOOD] * (SENDS_PER_JOB + 1)},
     {"sends": [GOOD, ["T", "U", "spam", "slack"]]},
     {"sends": [["T" * 1000, "U", "rep_nudge", "slack"]]},
     {"sends": [[1, "U", "rep_nudge", "slack"]]}, {"sends": [["T", "U", "rep_nudge"]]}],
)  # fmt: skip
def test_a_job_this_service_did_not_make_is_refused(payload: dict[str, Any]) -> None:
    assert sends_from_payload(payload, WEDNESDAY_EIGHT) is None


def test_a_job_names_its_sends() -> None:
    (send,) = sends_from_payload({"sends": [GOOD]}, WEDNESDAY_EIGHT) or []
    assert (send.tenant, send.user_id, send.kind, send.adapter) == (
        "T", "U", SendKind.REP_NUDGE, "slack")  # fmt: skip
