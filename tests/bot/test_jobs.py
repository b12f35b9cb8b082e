"""Jobs: at once in the same process without Redis; with Redis, kept until a worker takes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio

from bot.config import Config
from bot.jobs import Jobs, Payload
from tests.conftest import delete_prefix


class Worker:
    """A Jobs of its own, with one job that records its payloads, consuming until stopped."""

    def __init__(self, config: Config, name: str, **options: Any) -> None:
        self.jobs = Jobs.open(config, consumer=name, **options)
        self.done: list[Payload] = []
        self.hold: asyncio.Event | None = None  # set: jobs finish; unset: they hang
        self.started = asyncio.Event()
        self.enqueue = self.jobs.register("test.record", self.record)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def record(self, payload: Payload) -> None:
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        self.done.append(payload)

    async def start(self, *, consume: bool = True) -> Worker:
        await self.jobs.start()
        if consume:
            self._task = asyncio.create_task(self.jobs.consume(self._stop))
        return self

    async def die(self) -> None:
        """As a killed process: stop at once, connections gone, running jobs unacknowledged."""
        if self._task is not None:
            self._task.cancel()
        await self.jobs.broker.connection_pool.disconnect()  # type: ignore[attr-defined]

    async def close(self) -> None:
        self._stop.set()
        if self.hold is not None:
            self.hold.set()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)
        await self.jobs.close()


async def eventually(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Config:
    return Config(db_path=str(tmp_path / "jobs.db"))


@pytest.fixture
async def redis_config(redis_url: str) -> AsyncIterator[Config]:
    prefix = f"vctest:{uuid4().hex}"
    yield Config(redis_url=redis_url, redis_prefix=prefix)
    await delete_prefix(redis_url, prefix)


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        await worker.close()


async def test_without_redis_a_job_runs_at_once_in_the_same_process(
    sqlite_config: Config, workers: list[Worker]
) -> None:
    worker = await Worker(sqlite_config, "solo").start(consume=False)
    workers.append(worker)
    assert not worker.jobs.shared
    await worker.enqueue({"n": 1, "text": "Zoë Ñúñez @ Acme"})
    await eventually(lambda: worker.done)
    assert worker.done == [{"n": 1, "text": "Zoë Ñúñez @ Acme"}]


async def test_closing_waits_for_the_jobs_still_running(sqlite_config: Config) -> None:
    worker = await Worker(sqlite_config, "solo").start(consume=False)
    worker.hold = asyncio.Event()
    await worker.enqueue({"n": 1})
    await worker.started.wait()
    asyncio.get_running_loop().call_later(0.1, worker.hold.set)
    await worker.jobs.close()
    assert worker.done == [{"n": 1}]


async def test_a_job_waits_in_redis_until_a_worker_takes_it(
    redis_config: Config, workers: list[Worker]
) -> None:
    web = await Worker(redis_config, "web").start(consume=False)
    workers.append(web)
    await web.enqueue({"n": 1})
    await asyncio.sleep(0.3)
    assert web.done == []
    worker = await Worker(redis_config, "worker").start()
    workers.append(worker)
    await eventually(lambda: worker.done)
    assert worker.done == [{"n": 1}]


async def test_two_workers_share_the_jobs_and_each_runs_once(
    redis_config: Config, workers: list[Worker]
) -> None:
    first = await Worker(redis_config, "first").start()
    second = await Worker(redis_config, "second").start()
    workers += [first, second]
    await asyncio.gather(*(first.enqueue({"n": n}) for n in range(40)))
    await eventually(lambda: len(first.done) + len(second.done) >= 40)
    await asyncio.sleep(0.2)
    numbers = sorted(payload["n"] for payload in first.done + second.done)
    assert numbers == list(range(40))


async def test_a_job_held_by_a_dead_worker_goes_to_another(
    redis_config: Config, workers: list[Worker]
) -> None:
    dying = await Worker(redis_config, "dying").start()
    workers.append(dying)
    dying.hold = asyncio.Event()
    await dying.enqueue({"n": 1})
    await dying.started.wait()
    await dying.die()
    rescuer = await Worker(redis_config, "rescuer", reclaim_after_ms=100).start()
    workers.append(rescuer)
    await asyncio.sleep(0.2)
    # taskiq-redis looks for abandoned jobs when it next reads new ones
    await rescuer.enqueue({"n": 2})
    await eventually(lambda: len(rescuer.done) == 2)
    assert sorted(payload["n"] for payload in rescuer.done) == [1, 2]


async def test_a_restarted_worker_takes_up_its_own_unfinished_jobs_at_once(
    redis_config: Config, workers: list[Worker]
) -> None:
    first = await Worker(redis_config, "host-1").start()
    workers.append(first)
    first.hold = asyncio.Event()
    await first.enqueue({"n": 1})
    await first.started.wait()
    await first.die()
    again = await Worker(redis_config, "host-1").start()  # the same name, default reclaim time
    workers.append(again)
    await eventually(lambda: again.done, timeout=3)
    assert again.done == [{"n": 1}]


async def _consumers(config: Config) -> dict[str, int]:
    """Consumer names in the workers' group, with how many jobs each holds."""
    assert config.redis_url is not None
    client = redis.asyncio.Redis.from_url(config.redis_url, decode_responses=True)
    try:
        found = await client.xinfo_consumers(f"{config.redis_prefix}:jobs", "workers")
    finally:
        await client.aclose()
    return {consumer["name"]: consumer["pending"] for consumer in found}


async def test_a_worker_that_stops_with_nothing_pending_leaves_the_group(
    redis_config: Config,
) -> None:
    worker = await Worker(redis_config, "leaving").start()
    await worker.enqueue({"n": 1})
    await eventually(lambda: worker.done)
    assert "leaving" in await _consumers(redis_config)
    await worker.close()
    assert "leaving" not in await _consumers(redis_config)


async def test_a_worker_that_stops_holding_a_job_stays_for_it_to_be_reclaimed(
    redis_config: Config,
) -> None:
    dying = await Worker(redis_config, "holding").start()
    dying.hold = asyncio.Event()
    await dying.enqueue({"n": 1})
    await dying.started.wait()
    await dying.die()
    await dying.jobs.close()
    assert (await _consumers(redis_config))["holding"] == 1
