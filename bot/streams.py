"""taskiq-redis's stream broker, made cheap enough to queue a job for every chat request.

On the benchmark machine a Redis round trip costs about 0.5 ms of CPU in redis-py, as much as
slack-bolt spends on a whole request, and taskiq-redis spends one per message sent and one per
message acknowledged, on a new client each time (a client fills a table of about 170 response
callbacks when it is made). Here one client sends them, and the commands issued while a
round trip is on its way go together in the next one: with 16 commands a trip, each costs a
sixth of what it did alone. No command waits longer (LINGER_SECONDS is 0): a web tier's ack
waits for its job's XADD, and under load the trips fill by themselves.

Every entry carries an HMAC of its message: an entry this service did not make (anyone with
write access to Redis can add one) is dropped unrun and counted. An entry that cannot be a job
(no message), or that was handed out MAX_DELIVERIES times without being done, is set aside in
a bounded dead-letter stream, counted, so that it cannot stop the worker taking the next ones.
An entry is deleted once its job is done: what a rep typed stays in Redis no longer than it
takes to answer them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage, BrokerMessage, TaskiqFormatter, TaskiqMessage
from taskiq_redis import RedisStreamBroker

from bot.batched import Batched
from bot.metrics import count_delivery

log = logging.getLogger("voicemail_coach.jobs")

LINGER_SECONDS = 0.0
# Handed out this many times and never done: its workers died on it, or the receive loop failed.
MAX_DELIVERIES = 5
# Dead letters keep what reps typed: at most this many, for at most this long (see the README).
DEAD_LETTERS_MAX_LENGTH = 1_000
DEAD_LETTERS_KEPT_SECONDS = 7 * 86_400
SCAN_BATCH = 500
DATA, MAC = b"data", b"mac"
_ENCODER = msgspec.json.Encoder()

Entry = tuple[bytes, dict[bytes, bytes]]


def mac_of(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256").hex().encode()


class StreamBroker(RedisStreamBroker):
    """Sends and acknowledges messages through Batched commands on one client."""

    def __init__(self, url: str, *, key: bytes, **options: Any) -> None:
        super().__init__(url, **options)
        self._client = Redis(connection_pool=self.connection_pool)
        self._batched = Batched(self._client, LINGER_SECONDS)
        self._key = key
        self.dead_letters = f"{self.queue_name}:dead"
        self.dead_letter_count = f"{self.queue_name}:dead:count"
        self.refused_count = f"{self.queue_name}:refused:count"
        self.reading = False  # True while listen() reads the stream
        self.listens = 0  # how many times listen() has reached the stream
        self.turns = 0  # how many reading turns listen() has completed
        self._stop = asyncio.Event()

    async def startup(self) -> None:
        """Starts while Redis is down: the consumer group is declared again before each
        listen(), so a worker that comes up first creates it once Redis answers."""
        with contextlib.suppress(RedisError, OSError):
            await super().startup()

    async def kick(self, message: BrokerMessage) -> None:
        queue_name = message.labels.get("queue_name") or self.queue_name
        trim = ("MAXLEN", "~" if self.approximate else "=", self.maxlen) if self.maxlen else ()
        data = message.message
        await self._batched.run("XADD", queue_name, *trim, "*", DATA, data, MAC, self._mac(data))

    def _mac(self, data: bytes) -> bytes:
        return mac_of(self._key, data)

    def read_until(self, stop: asyncio.Event) -> None:
        """listen() ends at its next turn once `stop` is set."""
        self._stop = stop

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """This worker's own unacknowledged messages first, then new ones and those a dead
        worker held longer than `idle_timeout`, until read_until's event is set.

        A receiver that fails (a Redis timeout, say) leaves the messages it had read but not
        done pending under this worker's name; taskiq-redis would hand them out again only
        after RECLAIM_AFTER_MS, and only once new messages arrive. Its replacement takes them
        up at once."""
        await self._declare_consumer_group()  # fails while Redis is down: the caller retries
        self.reading = True
        self.listens += 1
        try:
            async for message in self._own_pending():
                yield message
            self.turns += 1
            while not self._stop.is_set():
                async for message in self._new_then_reclaimed():
                    yield message
                self.turns += 1
        finally:
            self.reading = False

    async def _new_then_reclaimed(self) -> AsyncGenerator[AckableMessage, None]:
        """One turn of taskiq-redis's reading loop, so that listen() can end between turns.

        Stopping by cancellation alone is not enough: redis-py sends each command under
        asyncio.wait_for, which on Python 3.11 swallows a cancellation that lands as the reply
        arrives, and taskiq-redis's loop would then read on while the receiver waited for it
        to end (SIGTERM just after a job hung the worker). XAUTOCLAIM is atomic, so this needs
        none of the lock taskiq-redis takes around it."""
        answer: Any = await self._client.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            block=self.block,
            count=self.count,
        )
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                message = await self._taken(entry_id, fields, deliveries=1)
                if message is not None:
                    yield message
        if self._stop.is_set():
            return
        claimed: Any = await self._client.xautoclaim(  # [next start, entries, deleted ids]
            self.queue_name,
            self.consumer_group_name,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            count=self.unacknowledged_batch_size,
        )
        async for message in self._taken_again(claimed[1]):
            yield message

    async def _taken_again(self, entries: Sequence[Entry]) -> AsyncGenerator[AckableMessage, None]:
        """Entries handed out before: each one's delivery count says whether to run it."""
        entries = [(entry_id, fields) for entry_id, fields in entries if fields]  # trimmed: empty
        counts = await self._deliveries([entry_id for entry_id, _ in entries])
        for (entry_id, fields), deliveries in zip(entries, counts, strict=True):
            message = await self._taken(entry_id, fields, deliveries)
            if message is not None:
                yield message

    async def _deliveries(self, entry_ids: list[bytes]) -> list[int]:
        """How many times each entry has been handed out (XPENDING), in one round trip."""
        if not entry_ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for entry_id in entry_ids:
            pipe.xpending_range(self.queue_name, self.consumer_group_name, entry_id, entry_id, 1)
        answers: list[Any] = await pipe.execute()
        return [int(found[0]["times_delivered"]) if found else 1 for found in answers]

    async def _taken(
        self, entry_id: bytes, fields: dict[bytes, bytes], deliveries: int
    ) -> AckableMessage | None:
        """The entry's message for the receiver, or None once it has been dropped or set aside."""
        data = fields.get(DATA)
        if data is None:
            await self._set_aside(entry_id, fields, "no_data")
            return None
        mac = fields.get(MAC)
        if mac is None or not hmac.compare_digest(mac, self._mac(data)):
            await self._refuse(entry_id, "unsigned" if mac is None else "bad_signature")
            return None
        if deliveries > MAX_DELIVERIES:
            await self._set_aside(entry_id, fields, "delivered_too_often")
            return None
        count_delivery(data, deliveries)
        return AckableMessage(data=data, ack=self._ack_generator(entry_id, self.queue_name))

    async def _set_aside(self, entry_id: bytes, fields: dict[bytes, bytes], reason: str) -> None:
        """Into the dead-letter stream first: if that fails, the entry stays where it is."""
        dead: dict[Any, Any] = {**fields, b"entry": entry_id, b"reason": reason.encode()}
        await self._client.xadd(
            self.dead_letters,
            dead,
            maxlen=DEAD_LETTERS_MAX_LENGTH,
            approximate=True,
        )
        oldest_kept = int((time.time() - DEAD_LETTERS_KEPT_SECONDS) * 1000)
        await self._client.xtrim(self.dead_letters, minid=oldest_kept, approximate=False)
        await self._remove(entry_id, self.dead_letter_count)
        log.warning("job_set_aside", extra={"entry": entry_id.decode(), "reason": reason})

    async def _refuse(self, entry_id: bytes, reason: str) -> None:
        """Not one of ours: dropped unrun (what it carries is not kept), and counted."""
        await self._remove(entry_id, self.refused_count)
        log.warning("job_refused", extra={"entry": entry_id.decode(), "reason": reason})

    async def _remove(self, entry_id: bytes, counter: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.incr(counter)
        pipe.xack(self.queue_name, self.consumer_group_name, entry_id)
        pipe.xdel(self.queue_name, entry_id)
        await pipe.execute()

    async def _own_pending(self) -> AsyncGenerator[AckableMessage, None]:
        after = "0"
        while True:
            answer: Any = await self._client.xreadgroup(  # RESP2: [[stream, entries]]
                self.consumer_group_name,
                self.consumer_name,
                {self.queue_name: after},
                count=self.unacknowledged_batch_size,
            )
            entries = answer[0][1] if answer else []
            async for message in self._taken_again(entries):
                yield message
            if len(entries) < self.unacknowledged_batch_size:
                return
            after = entries[-1][0]

    async def delete_matching(
        self, stream: str, matches: Callable[[dict[bytes, bytes]], bool]
    ) -> int:
        """Delete the entries of `stream` (the jobs, or the dead letters) whose fields `matches`;
        how many. Done entries are deleted, so this reads only what is still waiting."""
        start: bytes | str = "-"
        found: list[bytes] = []
        while True:
            batch: Any = await self._client.xrange(stream, start, "+", count=SCAN_BATCH)
            found += [entry_id for entry_id, fields in batch if matches(fields)]
            if len(batch) < SCAN_BATCH:
                break
            start = b"(" + batch[-1][0]
        if found:
            await self._client.xdel(stream, *found)
        return len(found)

    def _ack_generator(self, id: str | bytes, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            # Both in one round trip: a job done leaves nothing of what it carried in Redis.
            await asyncio.gather(
                self._batched.run("XACK", queue_name, self.consumer_group_name, id),
                self._batched.run("XDEL", queue_name, id),
            )

        return ack

    async def shutdown(self) -> None:
        await self._batched.close()
        if self.is_worker_process:
            await self._leave_group_if_done()
        await self._client.aclose()
        await super().shutdown()

    async def _leave_group_if_done(self) -> None:
        """A worker that stops with nothing pending leaves the consumer group, so names of
        stopped workers (host and process id) do not pile up there; one that still holds jobs
        stays, and another worker reclaims them."""
        try:
            held = await self._client.xpending_range(
                self.queue_name, self.consumer_group_name, "-", "+", 1, self.consumer_name
            )
            if not held:
                await self._client.xgroup_delconsumer(
                    self.queue_name, self.consumer_group_name, self.consumer_name
                )
        except Exception:  # Redis is gone: the name stays, which is harmless
            return


def message_for(task_name: str, payload: dict[str, Any]) -> BrokerMessage:
    """The message taskiq's kicker would send for `task_name(payload)`, without its
    validation, middleware hooks and result handle, which cost more than the rest of queueing
    a job; taskiq's receiver reads it as its own."""
    return _broker_message(os.urandom(16).hex(), task_name, {}, None, [payload], {})


def _broker_message(
    task_id: str,
    task_name: str,
    labels: dict[str, Any],
    labels_types: dict[str, int] | None,
    args: list[Any],
    kwargs: dict[str, Any],
) -> BrokerMessage:
    """taskiq's own message document, encoded with msgspec rather than pydantic and json."""
    document: dict[str, Any] = {
        "task_id": task_id,
        "task_name": task_name,
        "labels": labels,
        "labels_types": labels_types,
        "args": args,
        "kwargs": kwargs,
    }
    return BrokerMessage.model_construct(
        task_id=task_id, task_name=task_name, message=_ENCODER.encode(document), labels=labels
    )


class Formatter(TaskiqFormatter):
    """taskiq's own message document, encoded with msgspec rather than pydantic and json."""

    def dumps(self, message: TaskiqMessage) -> BrokerMessage:
        return _broker_message(
            message.task_id,
            message.task_name,
            message.labels,
            message.labels_types,
            message.args,
            message.kwargs,
        )

    def loads(self, message: bytes) -> TaskiqMessage:
        return TaskiqMessage.model_validate(msgspec.json.decode(message))
