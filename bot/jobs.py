"""Work done after a chat platform has been answered, on taskiq.

An adapter acknowledges a request within the platform's deadline and leaves the rest (asking
the coach, posting the reply) as a job. With Redis the jobs ride taskiq-redis's stream
broker: a job is in Redis before the platform gets its acknowledgement, any replica's worker
(or a `voicemail-coach worker` process) takes it, and one that a dead worker held is claimed
again by another. Without Redis, taskiq's in-memory broker runs each job at once in the same
process, as a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker
from taskiq.receiver import Receiver

from bot.config import Config
from bot.streams import Formatter, StreamBroker, message_for

log = logging.getLogger("voicemail_coach.jobs")

Payload = dict[str, Any]
Handler = Callable[[Payload], Awaitable[None]]
Enqueue = Callable[[Payload], Awaitable[None]]

CONSUMER_GROUP = "workers"
# The stream is trimmed to about this many entries, acknowledged or not: far more than a
# backlog can reach while its jobs are still worth doing (Slack's response_url lasts 30 min).
STREAM_MAX_LENGTH = 100_000
CONCURRENT_JOBS = 64
DRAIN_SECONDS = 10.0
READ_BLOCK_MS = 1_000
RETRY_SECONDS = 1.0


class Jobs:
    """The job queue of one process: adapters register handlers, the server runs them."""

    def __init__(self, broker: AsyncBroker, *, shared: bool) -> None:
        self.broker = broker
        self.shared = shared  # True when other processes can take this process's jobs
        self.consuming = False  # True once consume() runs: this process takes shared jobs

    @property
    def ready(self) -> bool:
        """False while this process should take jobs from Redis but cannot read them yet."""
        if not self.consuming:
            return True
        return isinstance(self.broker, StreamBroker) and self.broker.reading

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        consumer: str | None = None,
        reclaim_after_ms: int | None = None,
    ) -> Jobs:
        """`consumer` names this worker in the consumer group (host and process id by default);
        a worker reclaims a dead worker's jobs once they have been idle `reclaim_after_ms`."""
        if not config.redis_url:
            return cls(InMemoryBroker(max_async_tasks=CONCURRENT_JOBS), shared=False)
        broker = StreamBroker(
            config.redis_url,
            queue_name=f"{config.redis_prefix}:jobs",
            consumer_group_name=CONSUMER_GROUP,
            # A group created after jobs were queued (the web tier came up while Redis was
            # down, or before any worker) reads them from the start instead of skipping them.
            consumer_id="0",
            consumer_name=consumer or f"{socket.gethostname()}-{os.getpid()}",
            idle_timeout=reclaim_after_ms or config.reclaim_seconds * 1000,
            maxlen=STREAM_MAX_LENGTH,
            xread_block=READ_BLOCK_MS,
            max_connection_pool_size=CONCURRENT_JOBS,
        )
        return cls(broker.with_formatter(Formatter()), shared=True)

    def register(self, name: str, handler: Handler) -> Enqueue:
        """Make `handler` the job `name`; the answer enqueues a payload (plain JSON values)."""

        async def run(payload: Payload) -> None:
            await handler(payload)

        # taskiq renames a task's function and publishes it in its module (for process pools),
        # which a bound method does not allow: give it a plain function with a name of its own.
        run.__name__ = run.__qualname__ = "job_" + name.replace(".", "_")
        self.broker.register_task(run, task_name=name)

        async def enqueue(payload: Payload) -> None:
            await self.broker.kick(message_for(name, payload))

        return enqueue

    async def start(self) -> None:
        _quiet_taskiq()
        await self.broker.startup()

    async def consume(self, stop: asyncio.Event) -> None:
        """Take jobs from the shared queue until `stop` is set, then finish the running ones.
        A lost connection to Redis is retried every second rather than ending the worker."""
        if not self.shared:
            return  # the in-memory broker runs each job as it is enqueued
        self.broker.is_worker_process = True
        if isinstance(self.broker, StreamBroker):
            self.broker.read_until(stop)
        self.consuming = True
        log.info("worker_started", extra={"concurrency": CONCURRENT_JOBS})
        outage_logged = False  # once an outage, not at every retry of it
        while not stop.is_set():
            listens = self._listens()
            try:
                await self._receiver().listen(stop)
            except Exception as error:
                if self._listens() != listens:  # it had reached Redis: this is a new outage
                    outage_logged = False
                if not outage_logged:
                    log.error("worker_failed", extra={"error": _error_names(error)})
                    outage_logged = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
        log.info("worker_stopped")

    def _listens(self) -> int:
        return self.broker.listens if isinstance(self.broker, StreamBroker) else 0

    def _receiver(self) -> Receiver:
        return Receiver(
            self.broker,
            run_startup=False,
            max_async_tasks=CONCURRENT_JOBS,
            wait_tasks_timeout=DRAIN_SECONDS,
        )

    async def close(self) -> None:
        if isinstance(self.broker, InMemoryBroker):
            try:
                await asyncio.wait_for(self.broker.wait_all(), DRAIN_SECONDS)
            except TimeoutError:
                log.warning("jobs_abandoned", extra={"after_seconds": DRAIN_SECONDS})
        await self.broker.shutdown()


def _error_names(error: BaseException) -> str:
    """`ExceptionGroup(ConnectionError, TimeoutError)`: the types, never the messages."""
    if isinstance(error, BaseExceptionGroup):
        inner = ", ".join(_error_names(part) for part in error.exceptions)
        return f"{type(error).__name__}({inner})"
    return type(error).__name__


def _quiet_taskiq() -> None:
    """taskiq logs every job at INFO (too chatty), and a message it cannot parse together with
    its contents (personal data): keep its warnings, but not that message's contents."""
    logging.getLogger("taskiq").setLevel(logging.WARNING)
    receiver_log = logging.getLogger("taskiq.receiver")
    if not any(isinstance(f, _HideUnparsedMessages) for f in receiver_log.filters):
        receiver_log.addFilter(_HideUnparsedMessages())


class _HideUnparsedMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Cannot parse message"):
            record.msg, record.args = "Cannot parse a job message; skipped it", None
            record.exc_info = record.exc_text = None
        return True
