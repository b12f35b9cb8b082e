"""taskiq-redis's stream broker, made cheap enough to queue a job for every chat request.

On the benchmark machine a Redis round trip costs about 0.5 ms of CPU in redis-py, as much as
slack-bolt spends on a whole request, and taskiq-redis spends one per message sent and one per
message acknowledged, on a new client each time (a client fills a table of about 170 response
callbacks when it is made). Here one client sends them, and the commands issued within
LINGER_SECONDS of each other go in one pipelined round trip: with 16 commands a trip, each
costs a sixth of what it did alone. The wait is shorter than slack-bolt's own: it looks for a
listener's acknowledgement only every 10 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage, BrokerMessage, TaskiqFormatter, TaskiqMessage
from taskiq_redis import RedisStreamBroker

from bot.batched import Batched

LINGER_SECONDS = 0.004
_ENCODER = msgspec.json.Encoder()


class StreamBroker(RedisStreamBroker):
    """Sends and acknowledges messages through Batched commands on one client."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._client = Redis(connection_pool=self.connection_pool)
        self._batched = Batched(self._client, LINGER_SECONDS)
        self.reading = False  # True while listen() reads the stream
        self.listens = 0  # how many times listen() has reached the stream
        self._stop = asyncio.Event()

    async def startup(self) -> None:
        """Starts while Redis is down: the consumer group is declared again before each
        listen(), so a worker that comes up first creates it once Redis answers."""
        with contextlib.suppress(RedisError, OSError):
            await super().startup()

    async def kick(self, message: BrokerMessage) -> None:
        queue_name = message.labels.get("queue_name") or self.queue_name
        trim = ("MAXLEN", "~" if self.approximate else "=", self.maxlen) if self.maxlen else ()
        await self._batched.run("XADD", queue_name, *trim, "*", b"data", message.message)

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
            while not self._stop.is_set():
                async for message in self._new_then_reclaimed():
                    yield message
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
                yield self._message(entry_id, fields)
        if self._stop.is_set():
            return
        claimed: Any = await self._client.xautoclaim(  # [next start, entries, deleted ids]
            self.queue_name,
            self.consumer_group_name,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            count=self.unacknowledged_batch_size,
        )
        for entry_id, fields in claimed[1]:
            if fields:  # an entry trimmed away meanwhile comes back empty
                yield self._message(entry_id, fields)

    def _message(self, entry_id: bytes, fields: dict[bytes, bytes]) -> AckableMessage:
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(entry_id, self.queue_name)
        )

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
            for entry_id, fields in entries:
                if fields:  # an entry trimmed away meanwhile comes back empty
                    yield self._message(entry_id, fields)
            if len(entries) < self.unacknowledged_batch_size:
                return
            after = entries[-1][0]

    def _ack_generator(self, id: str | bytes, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            await self._batched.run("XACK", queue_name, self.consumer_group_name, id)

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
    return Formatter().dumps(
        TaskiqMessage.model_construct(
            task_id=uuid.uuid4().hex,
            task_name=task_name,
            labels={},
            labels_types=None,
            args=[payload],
            kwargs={},
        )
    )


class Formatter(TaskiqFormatter):
    """taskiq's own message document, encoded with msgspec rather than pydantic and json."""

    def dumps(self, message: TaskiqMessage) -> BrokerMessage:
        document: dict[str, Any] = {
            "task_id": message.task_id,
            "task_name": message.task_name,
            "labels": message.labels,
            "labels_types": message.labels_types,
            "args": message.args,
            "kwargs": message.kwargs,
        }
        return BrokerMessage.model_construct(
            task_id=message.task_id,
            task_name=message.task_name,
            message=_ENCODER.encode(document),
            labels=message.labels,
        )

    def loads(self, message: bytes) -> TaskiqMessage:
        return TaskiqMessage.model_validate(msgspec.json.decode(message))
