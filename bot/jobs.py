"""Work done after a chat platform has been answered, on taskiq.

An adapter acknowledges a request within the platform's deadline and leaves the rest (asking
the coach, posting the reply) as a job. With Redis the jobs ride taskiq-redis's stream
broker: a job is in Redis before the platform gets its acknowledgement, any replica's worker
(or a `voicemail-coach worker` process) takes it, and one that a dead worker held is claimed
again by another. Without Redis, taskiq's in-memory broker runs each job at once in the same
process, as a background task.

Jobs in Redis are signed (see bot/streams.py) with one key that every process of a deployment
must share: VOICEMAIL_COACH_JOB_KEY, or else one derived from the first of DERIVED_FROM that is
set (secrets the tiers already share). Without any of them the key is this process's own, and
jobs another process queued are refused: `serve` alone works, a split deployment does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.receiver import Receiver

from bot import metrics
from bot.config import Config, ConfigError
from bot.streams import DATA, Formatter, StreamBroker, message_for

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

JOB_KEY = "VOICEMAIL_COACH_JOB_KEY"
MIN_KEY_CHARS = 32
# Secrets the web tier and the workers both have (each needs them to answer its platform).
DERIVED_FROM = ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MICROSOFT_APP_PASSWORD")
_PROCESS_KEY = secrets.token_bytes(32)  # no key configured: good for this process only


def job_key(env: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """The key jobs are signed with, and where it comes from (a variable's name, or
    "process"). ConfigError if VOICEMAIL_COACH_JOB_KEY is set but too short."""
    env = os.environ if env is None else env
    configured = env.get(JOB_KEY) or ""
    if configured:
        if len(configured) < MIN_KEY_CHARS:
            raise ConfigError(
                f"{JOB_KEY} must be at least {MIN_KEY_CHARS} characters (make one with "
                "`openssl rand -hex 32`), and the same in every process of the service"
            )
        return configured.encode(), JOB_KEY
    for name in DERIVED_FROM:
        secret = env.get(name) or ""
        if secret:
            return hmac.digest(secret.encode(), b"voicemail-coach job key 1", hashlib.sha256), name
    return _PROCESS_KEY, "process"


def job_key_problem(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """Why a web-only or worker-only process cannot run with this environment, if it cannot:
    with no shared key, a worker would refuse every job the web tier queued."""
    if not config.redis_url or job_key(env)[1] != "process":
        return None
    return (
        f"a web-only or worker-only process needs {JOB_KEY} (the same in every process; make "
        f"one with `openssl rand -hex 32`) or one of {', '.join(DERIVED_FROM)}, to sign the "
        "jobs it shares through Redis"
    )


class Jobs:
    """The job queue of one process: adapters register handlers, the server runs them."""

    def __init__(self, broker: AsyncBroker, *, shared: bool) -> None:
        self.broker = broker
        self.shared = shared  # True when other processes can take this process's jobs
        self.consuming = False  # True once consume() runs: this process takes shared jobs
        self.key_source = "process"  # where the signing key came from (see job_key)
        self._failed_at_turn: int | None = None  # the broker's turns when the loop last failed
        self._backlog_client: Redis | None = None  # made at the first scrape that needs it

    @property
    def ready(self) -> bool:
        """False while this process should take jobs from Redis but cannot read them, or
        since its receive loop last failed, until a turn of reading has gone through."""
        if not self.consuming:
            return True
        if not isinstance(self.broker, StreamBroker) or not self.broker.reading:
            return False
        return self._failed_at_turn is None or self.broker.turns > self._failed_at_turn

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
        key, source = job_key()
        broker = StreamBroker(
            config.redis_url,
            key=key,
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
        jobs = cls(broker.with_formatter(Formatter()), shared=True)
        jobs.key_source = source
        return jobs

    def register(self, name: str, handler: Handler) -> Enqueue:
        """Make `handler` the job `name`; the answer enqueues a payload (plain JSON values)."""

        metrics.job_registered(name)
        running, done = metrics.JOBS_RUNNING.labels(name), metrics.JOBS_DONE.labels(name)
        failed, seconds = metrics.JOBS_FAILED.labels(name), metrics.JOB_SECONDS.labels(name)
        queued = metrics.JOBS_QUEUED.labels(name)

        async def run(payload: Payload) -> None:
            running.inc()
            started = time.perf_counter()
            try:
                await handler(payload)
            except Exception:
                failed.inc()
                raise
            else:
                done.inc()
            finally:
                running.dec()
                seconds.observe(time.perf_counter() - started)

        # taskiq renames a task's function and publishes it in its module (for process pools),
        # which a bound method does not allow: give it a plain function with a name of its own.
        run.__name__ = run.__qualname__ = "job_" + name.replace(".", "_")
        self.broker.register_task(run, task_name=name)

        async def enqueue(payload: Payload) -> None:
            await self.broker.kick(message_for(name, payload))
            queued.inc()

        return enqueue

    async def start(self) -> None:
        _quiet_taskiq()
        if self.shared and self.key_source == "process":
            log.warning(
                "job_key_missing", extra={"variable": JOB_KEY, "derived_from": DERIVED_FROM}
            )
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
                metrics.count_store_error("redis")
                self._failed_at_turn = self._turns()
                if self._listens() != listens:  # it had reached Redis: this is a new outage
                    outage_logged = False
                if not outage_logged:
                    log.error("worker_failed", extra={"error": _error_names(error)})
                    outage_logged = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
        log.info("worker_stopped")

    async def backlog(self) -> tuple[int, int] | None:
        """The shared stream's length and its entries handed out but not done (XLEN and the
        XPENDING summary of the workers' group), in one round trip; None without Redis."""
        if not isinstance(self.broker, StreamBroker):
            return None
        if self._backlog_client is None:
            self._backlog_client = Redis(connection_pool=self.broker.connection_pool)
        pipe = self._backlog_client.pipeline(transaction=False)
        pipe.xlen(self.broker.queue_name)
        pipe.xpending(self.broker.queue_name, self.broker.consumer_group_name)
        length, pending = await pipe.execute(raise_on_error=False)
        if isinstance(length, Exception):
            raise length
        if isinstance(pending, ResponseError):  # NOGROUP: no group yet, so nothing handed out
            return int(length), 0
        if isinstance(pending, Exception):
            raise pending
        return int(length), int(pending["pending"])

    def _listens(self) -> int:
        return self.broker.listens if isinstance(self.broker, StreamBroker) else 0

    def _turns(self) -> int:
        return self.broker.turns if isinstance(self.broker, StreamBroker) else 0

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """An eraser (see Coach): the jobs still waiting, and the dead letters, that name the rep
        (tenant and user id among their payload's values) are deleted. Done jobs are deleted
        once done; without Redis a job never leaves the process."""
        if not isinstance(self.broker, StreamBroker):
            return
        names = {tenant, user_id}

        def names_the_rep(fields: dict[bytes, bytes]) -> bool:
            return names <= _texts_in(fields.get(DATA))

        for stream in (self.broker.queue_name, self.broker.dead_letters):
            deleted = await self.broker.delete_matching(stream, names_the_rep)
            if deleted:
                log.info("jobs_forgotten", extra={"tenant": tenant, "user": user_id, "n": deleted})

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
        if self._backlog_client is not None:
            await self._backlog_client.aclose()  # the broker's pool closes with the broker
        await self.broker.shutdown()


def _error_names(error: BaseException) -> str:
    """`ExceptionGroup(ConnectionError, TimeoutError)`: the types, never the messages."""
    if isinstance(error, BaseExceptionGroup):
        inner = ", ".join(_error_names(part) for part in error.exceptions)
        return f"{type(error).__name__}({inner})"
    return type(error).__name__


def _quiet_taskiq() -> None:
    """taskiq logs every job at INFO: too chatty. (What its records quote, such as a message
    it cannot parse, never reaches the log: see bot/logs.py.)"""
    logging.getLogger("taskiq").setLevel(logging.WARNING)


def _texts_in(data: bytes | None) -> set[str]:
    """Every string in a job message (its payload's values and keys); none if unreadable."""
    if data is None:
        return set()
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return set()
    found: set[str] = set()
    waiting: list[object] = [document]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            waiting += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            waiting += value
    return found
