"""Scheduled sends: each rep's morning nudge and each manager's digests, exactly once.

Every `serve` and `worker` process runs a Scheduler. Each turn it asks the store's schedule
index for the sends now due (O(due)), moves each one a lease ahead (a compare-and-set, so of
several replicas exactly one takes it) and queues a job for it. The job, wherever it runs,
claims the send's ledger entry (tenant, recipient, kind, local date) with a lease before it
sends and settles it after, so a second replica, a retried job or a redelivered stream entry
sends nothing twice. A worker killed mid-send loses nothing: its stream entry goes to another
worker, whose claim finds the lease run out (RECOVER) and asks the platform whether the
message arrived before sending it again.

A send that fails is retried with backoff until the recipient's local day ends, then settled
as missed; a recipient the platform says is gone is settled as skipped. Both are logged with
ids only and counted in the results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import metrics
from bot.adapters import Adapter, Address, Delivery, RecipientGone
from bot.charts import digest_chart_async
from bot.digests import digest_json, digest_reply, gather_team_digest
from bot.jobs import Jobs, Payload
from bot.nudges import gather_rep_nudge, nudge_json, nudge_reply
from bot.records import (
    Claim,
    DigestCadence,
    LedgerKey,
    RepProfile,
    ScheduledSend,
    SendKind,
    SendOutcome,
    TeamConfig,
)
from bot.schedule import Cadence, SendSlot, digest_period, digest_time, nudge_time, zone_of
from bot.store import Store
from bot.types import Reply
from policy.limits import MAX_ID

log = logging.getLogger("voicemail_coach.scheduler")

JOB_NAME = "scheduled.send"
TURN_SECONDS = 5.0  # how often a process looks for due sends: a nudge goes within seconds
BATCH = 500  # due sends taken per look; a bigger morning takes several looks in one turn
SENDS_PER_JOB = 16  # sends a job makes together, sharing its round trips to Redis
INDEX_LEASES = 5  # a send found due stays out of the index this many ledger leases
INDEX_LEASE_LEAST = timedelta(seconds=10)
RETRY_FIRST = timedelta(seconds=15)
RETRY_LONGEST = timedelta(minutes=5)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one due send: how it was settled (or why not), and what it said."""

    send: ScheduledSend
    status: str  # a SendOutcome, or due (a preview), busy, done, not_due, retry, gone
    local_date: date | None = None
    content: tuple[dict[str, Any], ...] = ()
    replies: tuple[Reply, ...] = ()

    def as_json(self) -> list[dict[str, Any]]:
        """One object a message, as `voicemail-coach nudges --json` prints them."""
        base = {
            "kind": self.send.kind.value,
            "platform": self.send.adapter,
            "tenant": self.send.tenant,
            "user": self.send.user_id,
            "local_date": None if self.local_date is None else self.local_date.isoformat(),
            "status": self.status,
        }
        return [{**base, **item} for item in self.content] or [base]


@dataclass(frozen=True, slots=True)
class Message:
    reply: Reply
    content: dict[str, Any]


@dataclass
class Scheduler:
    store: Store
    jobs: Jobs | None
    adapters: Mapping[str, Adapter]
    clock: Clock = utc_now
    lease_seconds: float = 60.0  # a ledger claim's lease: as long as a dead worker's jobs wait
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    enqueue: Callable[[Payload], Awaitable[None]] | None = None

    def register(self) -> None:
        assert self.jobs is not None, "a scheduler without jobs only reschedules"
        self.enqueue = self.jobs.register(JOB_NAME, self.run_job)

    # The index side: find, lease, queue.

    async def run(self, stop: asyncio.Event) -> None:
        """Look for due sends every TURN_SECONDS until `stop`; a failing turn (the store is
        down) is logged once per outage and tried again next turn."""
        failing = False
        while not stop.is_set():
            try:
                await self.turn()
                failing = False
            except Exception as error:
                metrics.count_store_error(metrics.store_name_of(self.store))
                if not failing:
                    log.error("scheduler_failed", extra={"error": type(error).__name__})
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TURN_SECONDS)

    async def turn(self) -> int:
        """Queue every send due now; the number queued."""
        queued = 0
        while True:
            now = self.clock()
            due = await self.store.due_sends(now, BATCH)
            moved = await asyncio.gather(
                *(self.store.move_send(send, now + self.index_lease) for send in due)
            )
            won = [send for send, took in zip(due, moved, strict=True) if took]
            for start in range(0, len(won), SENDS_PER_JOB):
                await self._queue(won[start : start + SENDS_PER_JOB])
            queued += len(won)
            if len(due) < BATCH:
                return queued

    async def _queue(self, sends: Sequence[ScheduledSend]) -> None:
        """One job for a few sends: they share its round trips to Redis. A process killed
        between moving them and queueing loses them only until their index lease ends."""
        assert self.enqueue is not None, "register() the scheduler's job first"
        await self.enqueue(
            {"sends": [[s.tenant, s.user_id, s.kind.value, s.adapter] for s in sends]}
        )

    @property
    def index_lease(self) -> timedelta:
        """How long a send found due stays out of the index: long enough for a backlog of jobs
        to be worked off, after which a job that was lost is queued again (the ledger turns a
        second job for a send that went into a no-op)."""
        return max(INDEX_LEASE_LEAST, timedelta(seconds=INDEX_LEASES * self.lease_seconds))

    # The job side: claim, build, deliver, settle, reschedule.

    async def run_job(self, payload: Payload) -> None:
        now = self.clock()
        sends = sends_from_payload(payload, now)
        if sends is None:
            log.warning("scheduled_send_unreadable", extra={"fields": _field_names(payload)})
            return
        done = await asyncio.gather(
            *(self.deliver_due(send, now) for send in sends), return_exceptions=True
        )
        for send, result in zip(sends, done, strict=True):
            if isinstance(result, Exception):  # the store failed: its index lease brings it back
                metrics.count_store_error(metrics.store_name_of(self.store))
                log.error(
                    "scheduled_send_failed", extra=_ids(send) | {"error": type(result).__name__}
                )

    async def deliver_due(self, send: ScheduledSend, now: datetime) -> SendResult:
        """Send what `send` is for, if it is due now and not sent yet; never raises for
        anything the platform or the store's data can do."""
        profile = await self.store.get_rep(send.tenant, send.user_id)
        if profile is None:  # forgotten, or never known: nothing more to send them
            await self.store.unschedule_send(send.tenant, send.user_id, send.kind)
            return SendResult(send, "gone")
        cadence = await self.cadence(profile, send.kind)
        slot = None if cadence is None else cadence.current_slot(now)
        if cadence is None or slot is None:
            await self.reschedule(profile, send.kind, now)
            return SendResult(send, "not_due")
        key = LedgerKey(send.tenant, send.user_id, send.kind, slot.local_date)
        claim = await self.store.claim_send(key, self.owner, self.lease_seconds)
        if claim is Claim.DONE:
            await self._schedule_next(send, cadence, now, slot)
            return SendResult(send, "done", slot.local_date)
        if claim is Claim.BUSY:  # another holder is sending: look again once its lease ends
            when = now + timedelta(seconds=self.lease_seconds)
            await self.store.schedule_send(replace(send, due_at=when))
            return SendResult(send, "busy", slot.local_date)
        return await self._send_claimed(send, profile, cadence, slot, key, claim, now)

    async def preview(self, send: ScheduledSend, now: datetime) -> SendResult:
        """What deliver_due would send now, claiming, sending and moving nothing."""
        profile = await self.store.get_rep(send.tenant, send.user_id)
        if profile is None:
            return SendResult(send, "gone")
        cadence = await self.cadence(profile, send.kind)
        slot = None if cadence is None else cadence.current_slot(now)
        if slot is None:
            return SendResult(send, "not_due")
        key = LedgerKey(send.tenant, send.user_id, send.kind, slot.local_date)
        if await self.store.send_outcome(key) is not None:
            return SendResult(send, "done", slot.local_date)
        messages = await self.messages(profile, send.kind, slot.local_date, now)
        status = "due" if messages else SendOutcome.EMPTY.value
        return _result(send, status, slot.local_date, messages)

    async def _send_claimed(
        self,
        send: ScheduledSend,
        profile: RepProfile,
        cadence: Cadence,
        slot: SendSlot,
        key: LedgerKey,
        claim: Claim,
        now: datetime,
    ) -> SendResult:
        try:
            status, messages = await self._build_and_deliver(send, profile, slot, key, claim, now)
        except Exception as error:
            return await self._failed(send, cadence, slot, key, now, error)
        await self.store.settle_send(key, self.owner, status)
        metrics.count_scheduled(send.kind, status)
        _log_settled(send, slot.local_date, status.value)
        await self._schedule_next(send, cadence, now, slot)
        return _result(send, status.value, slot.local_date, messages)

    async def _build_and_deliver(
        self,
        send: ScheduledSend,
        profile: RepProfile,
        slot: SendSlot,
        key: LedgerKey,
        claim: Claim,
        now: datetime,
    ) -> tuple[SendOutcome, list[Message]]:
        messages = await self.messages(profile, send.kind, slot.local_date, now)
        if not messages:
            return SendOutcome.EMPTY, messages
        adapter = self.adapters.get(send.adapter)
        address = None if adapter is None else await adapter.direct_chat(send.tenant, send.user_id)
        if adapter is None or address is None:
            return SendOutcome.SKIPPED, messages
        try:
            await self._deliver_all(adapter, address, messages, key, claim)
        except RecipientGone:
            return SendOutcome.SKIPPED, messages
        return SendOutcome.SENT, messages

    async def _deliver_all(
        self,
        adapter: Adapter,
        address: Address,
        messages: Sequence[Message],
        key: LedgerKey,
        claim: Claim,
    ) -> None:
        """Each message, under a lease kept alive while the platform takes its time. After a
        crash mid-send (RECOVER), a message the platform already has is not sent again."""
        async with self._holding(key):
            for number, message in enumerate(messages):
                ref = key.ref if number == 0 else f"{key.ref}:{number}"
                if claim is Claim.RECOVER and await adapter.was_delivered(address, ref):
                    continue
                await adapter.deliver(replace(message.reply, ref=ref), address, Delivery.DIRECT)

    @contextlib.asynccontextmanager
    async def _holding(self, key: LedgerKey) -> Any:
        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease_seconds / 3)
                await self.store.renew_send(key, self.owner, self.lease_seconds)

        renewing = asyncio.get_running_loop().create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing

    async def _failed(
        self,
        send: ScheduledSend,
        cadence: Cadence,
        slot: SendSlot,
        key: LedgerKey,
        now: datetime,
        error: Exception,
    ) -> SendResult:
        """Retry later, with backoff, until the recipient's day ends; then it is missed."""
        retry_at = now + retry_pause(now - slot.due_at)
        ids = _ids(send, slot.local_date) | {"error": type(error).__name__}
        if retry_at >= cadence.day_ends(slot.local_date):
            await self.store.settle_send(key, self.owner, SendOutcome.MISSED)
            metrics.count_scheduled(send.kind, SendOutcome.MISSED)
            log.error("scheduled_send_missed", extra=ids)
            await self._schedule_next(send, cadence, now, slot)
            return SendResult(send, SendOutcome.MISSED.value, slot.local_date)
        await self.store.release_send(key, self.owner)
        await self.store.schedule_send(replace(send, due_at=retry_at))
        log.warning("scheduled_send_retried", extra=ids | {"retry_at": retry_at.isoformat()})
        return SendResult(send, "retry", slot.local_date)

    async def _schedule_next(
        self, send: ScheduledSend, cadence: Cadence, now: datetime, slot: SendSlot
    ) -> None:
        after = cadence.next_slot(now, not_before_day=slot.local_date + timedelta(days=1))
        await self.store.schedule_send(replace(send, due_at=after.due_at))

    # What a send says.

    async def messages(
        self, profile: RepProfile, kind: SendKind, local_date: date, now: datetime
    ) -> list[Message]:
        if kind is SendKind.REP_NUDGE:
            nudge = await gather_rep_nudge(self.store, profile, now)
            return [] if nudge is None else [Message(nudge_reply(nudge), nudge_json(nudge))]
        messages = []
        for team in await self._digest_teams(profile, kind):
            since, until = digest_period(
                kind, local_date, zone_of(profile), team.settings.holidays_country
            )
            digest = await gather_team_digest(self.store, team, since, until, _period_name(kind))
            image = await digest_chart_async(digest)
            content = {**digest_json(digest), "chart": image.name}
            messages.append(Message(digest_reply(digest, image), content))
        return messages

    async def _digest_teams(self, profile: RepProfile, kind: SendKind) -> list[TeamConfig]:
        teams = await self.store.teams_managed_by(profile.tenant, profile.user_id)
        wanted = [team for team in teams if _wants(team.digest, kind)]
        populated = await asyncio.gather(
            *(self.store.reps_in_team(team.tenant, team.team) for team in wanted)
        )
        return [team for team, reps in zip(wanted, populated, strict=True) if reps]

    # When sends fall due.

    async def cadence(self, profile: RepProfile, kind: SendKind) -> Cadence | None:
        """When this recipient gets sends of `kind`, or None if they get none."""
        if kind is SendKind.REP_NUDGE:
            at = nudge_time(profile)
            if at is None:
                return None
            team = await self.store.get_team(profile.tenant, profile.team)
            return Cadence(kind, zone_of(profile), at, team.settings.holidays_country)
        teams = [t for t in await self.store.teams_managed_by(profile.tenant, profile.user_id)
                 if _wants(t.digest, kind)]  # fmt: skip
        if not teams:
            return None
        calendar = teams[0].settings.holidays_country
        return Cadence(kind, zone_of(profile), digest_time(profile), calendar)

    async def reschedule_user(self, tenant: str, user_id: str) -> None:
        """After a change to when this user's sends fall due (their nudge time, time zone or
        team; a team's digest cadence, calendar or managers): the index entry of each kind
        is put where it now belongs, or removed."""
        profile = await self.store.get_rep(tenant, user_id)
        now = self.clock()
        for kind in SendKind:
            if profile is None:
                await self.store.unschedule_send(tenant, user_id, kind)
            else:
                await self.reschedule(profile, kind, now)

    async def reschedule(self, profile: RepProfile, kind: SendKind, now: datetime) -> None:
        cadence = await self.cadence(profile, kind)
        if cadence is None or not profile.platform:
            await self.store.unschedule_send(profile.tenant, profile.user_id, kind)
            return
        slot = cadence.current_slot(now) or cadence.next_slot(now)
        key = LedgerKey(profile.tenant, profile.user_id, kind, slot.local_date)
        if await self.store.send_outcome(key) is not None:  # that day's went already
            slot = cadence.next_slot(now, not_before_day=slot.local_date + timedelta(days=1))
        await self.store.schedule_send(
            ScheduledSend(profile.tenant, profile.user_id, kind, slot.due_at, profile.platform)
        )


def _result(
    send: ScheduledSend, status: str, local_date: date, messages: Sequence[Message]
) -> SendResult:
    return SendResult(
        send,
        status,
        local_date,
        tuple(message.content for message in messages),
        tuple(message.reply for message in messages),
    )


def retry_pause(failing_for: timedelta) -> timedelta:
    """Backoff that grows with how long the send has been failing, with jitter, so that many
    failed sends do not come back at the same instant."""
    base = min(max(failing_for / 2, RETRY_FIRST), RETRY_LONGEST)
    return base * random.uniform(0.8, 1.2)  # jitter, not a secret


def sends_from_payload(payload: Payload, now: datetime) -> list[ScheduledSend] | None:
    """The job's sends, or None if the payload is not one this service made: at most
    SENDS_PER_JOB of [tenant, user, kind, adapter], each id a bounded string, each kind one of
    SendKind."""
    entries = payload.get("sends")
    if not isinstance(entries, list) or not 0 < len(entries) <= SENDS_PER_JOB:
        return None
    sends = [send_from_entry(entry, now) for entry in entries]
    return None if None in sends else [send for send in sends if send is not None]


def send_from_entry(entry: object, now: datetime) -> ScheduledSend | None:
    if not isinstance(entry, list) or len(entry) != 4:
        return None
    if not all(isinstance(value, str) and 0 < len(value) <= MAX_ID for value in entry):
        return None
    tenant, user, kind, adapter = (str(value) for value in entry)
    if kind not in SendKind.__members__.values():
        return None
    return ScheduledSend(tenant, user, SendKind(kind), now, adapter)


def _wants(cadence: DigestCadence, kind: SendKind) -> bool:
    return cadence.daily if kind is SendKind.DAILY_DIGEST else cadence.weekly


def _period_name(kind: SendKind) -> str:
    return "daily" if kind is SendKind.DAILY_DIGEST else "weekly"


def _field_names(payload: object) -> str:
    return ",".join(sorted(str(k)[:40] for k in payload)) if isinstance(payload, dict) else ""


def _ids(send: ScheduledSend, local_date: date | None = None) -> dict[str, Any]:
    ids = {"tenant": send.tenant, "user": send.user_id, "kind": send.kind.value,
           "adapter": send.adapter}  # fmt: skip
    if local_date is not None:
        ids["local_date"] = local_date.isoformat()
    return ids


def _log_settled(send: ScheduledSend, local_date: date, status: str) -> None:
    level = logging.WARNING if status == SendOutcome.SKIPPED.value else logging.INFO
    log.log(level, "scheduled_send", extra=_ids(send, local_date) | {"outcome": status})
