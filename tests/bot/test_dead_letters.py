"""Broken stream entries are set aside in a dead-letter stream; the worker goes on answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.server import Tier, create_app
from bot.streams import MAX_DELIVERIES
from tests.bot.test_jobs import Worker, eventually
from tests.conftest import delete_prefix


@pytest.fixture
async def redis_config(redis_url: str) -> AsyncIterator[Config]:
    prefix = f"vctest:{uuid4().hex}"
    yield Config(redis_url=redis_url, redis_prefix=prefix)
    await delete_prefix(redis_url, prefix)


@pytest.fixture
async def client(redis_config: Config) -> AsyncIterator[redis.asyncio.Redis]:
    assert redis_config.redis_url is not None
    connection = redis.asyncio.Redis.from_url(redis_config.redis_url, decode_responses=True)
    yield connection
    await connection.aclose()


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        await worker.close()


def jobs_key(config: Config) -> str:
    return f"{config.redis_prefix}:jobs"


async def dead_letters(client: Any, config: Config) -> list[dict[str, str]]:
    return [fields for _, fields in await client.xrange(f"{jobs_key(config)}:dead")]


async def stream_empties(client: Any, key: str) -> None:
    deadline = asyncio.get_running_loop().time() + 3
    while await client.xlen(key):
        assert asyncio.get_running_loop().time() < deadline, await client.xrange(key)
        await asyncio.sleep(0.02)


async def test_an_entry_without_data_is_set_aside_and_later_jobs_are_answered(
    redis_config: Config, client: Any, workers: list[Worker]
) -> None:
    worker = await Worker(redis_config, "w").start()
    workers.append(worker)
    await eventually(lambda: worker.jobs.ready)
    bad = await client.xadd(jobs_key(redis_config), {"junk": "x"})
    await worker.enqueue({"n": 1})
    await eventually(lambda: worker.done, timeout=3)
    assert worker.done == [{"n": 1}]
    [dead] = await dead_letters(client, redis_config)
    assert dead["reason"] == "no_data" and dead["entry"] == bad and dead["junk"] == "x"
    assert await client.get(f"{jobs_key(redis_config)}:dead:count") == "1"
    await stream_empties(client, jobs_key(redis_config))  # acknowledged and deleted
    assert worker.jobs.ready


async def test_an_entry_delivered_too_often_is_set_aside_unrun(
    redis_config: Config, client: Any, workers: list[Worker]
) -> None:
    web = await Worker(redis_config, "web").start(consume=False)
    workers.append(web)
    await web.enqueue({"n": 1})
    # the web tier declared the workers' group
    [[_, [(entry, _)]]] = await client.xreadgroup("workers", "ghost", {jobs_key(redis_config): ">"})
    await client.xclaim(
        jobs_key(redis_config), "workers", "ghost", 0, [entry], retrycount=MAX_DELIVERIES
    )
    rescuer = await Worker(redis_config, "rescuer", reclaim_after_ms=50).start()
    workers.append(rescuer)
    deadline = asyncio.get_running_loop().time() + 3
    while not await dead_letters(client, redis_config):
        assert asyncio.get_running_loop().time() < deadline, "not set aside"
        await asyncio.sleep(0.05)
    [dead] = await dead_letters(client, redis_config)
    assert dead["reason"] == "delivered_too_often" and dead["entry"] == entry
    assert rescuer.done == []
    assert await client.xpending(jobs_key(redis_config), "workers") == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def readyz(app_client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    response = await app_client.get("/readyz")
    return response.status, await response.json()


async def test_a_worker_whose_receive_loop_keeps_failing_is_not_ready(
    redis_config: Config, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEMAIL_COACH_JOB_KEY", "k" * 32)  # a worker alone needs its key
    dead_key = f"{jobs_key(redis_config)}:dead"
    await client.set(dead_key, "not a stream")  # setting the entry aside fails every time
    await client.xadd(jobs_key(redis_config), {"junk": "x"})
    app = await create_app(redis_config, tier=Tier.WORKER, adapters=[])
    async with TestClient(TestServer(app)) as app_client:
        await asyncio.sleep(0.5)
        answers = []
        for _ in range(15):
            answers.append(await readyz(app_client))
            await asyncio.sleep(0.1)
        unready = (503, {"status": "unavailable", "store": "redis", "waiting_for": "jobs"})
        assert all(answer == unready for answer in answers), answers
        await client.delete(dead_key)
        deadline = asyncio.get_running_loop().time() + 5
        while (await readyz(app_client))[0] != 200:
            assert asyncio.get_running_loop().time() < deadline, "never ready again"
            await asyncio.sleep(0.05)
    assert [dead["reason"] for dead in await dead_letters(client, redis_config)] == ["no_data"]


async def test_dead_letters_older_than_a_week_go_when_another_is_set_aside(
    redis_config: Config, client: Any, workers: list[Worker]
) -> None:
    dead_key = f"{jobs_key(redis_config)}:dead"
    eight_days_ago = int((time.time() - 8 * 86_400) * 1000)
    await client.xadd(dead_key, {"reason": "no_data", "junk": "old"}, id=f"{eight_days_ago}-0")
    worker = await Worker(redis_config, "w").start()
    workers.append(worker)
    await client.xadd(jobs_key(redis_config), {"junk": "new"})
    await eventually(lambda: worker.jobs.ready)
    deadline = asyncio.get_running_loop().time() + 3
    while (left := [dead["junk"] for dead in await dead_letters(client, redis_config)]) != ["new"]:
        assert asyncio.get_running_loop().time() < deadline, left
        await asyncio.sleep(0.05)
