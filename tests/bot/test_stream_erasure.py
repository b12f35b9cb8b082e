"""`forget me` erases every copy of what the rep typed in Redis: the store, the jobs still
waiting in the stream and the dead letters. Done jobs leave nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.jobs import Payload, job_key
from bot.server import SERVICES, Services, Tier, create_app
from bot.streams import mac_of, message_for
from bot.types import Actor, Platform, Request, Role
from tests.bot.test_jobs import Worker, eventually
from tests.conftest import delete_prefix

MARKER = "Quorvix"  # in the prospect's name the rep typed
OTHERS = "Plimsoll"  # what another rep typed: it stays
SAM = Actor(Platform.SLACK, "T1", "U1", "Sam Lee", "America/New_York", role=Role.REP)
ALEX = Actor(Platform.SLACK, "T1", "U2", "Alex Kim", "America/New_York", role=Role.REP)


@pytest.fixture
async def redis_config(redis_url: str) -> AsyncIterator[Config]:
    prefix = f"vctest:{uuid4().hex}"
    yield Config(redis_url=redis_url, redis_prefix=prefix)
    await delete_prefix(redis_url, prefix)


@pytest.fixture
async def web_tier(
    redis_config: Config, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    """A web tier alone: it queues jobs and no worker takes them, so they wait in the stream."""
    monkeypatch.setenv("VOICEMAIL_COACH_JOB_KEY", "k" * 32)  # a web tier alone needs its key
    app = await create_app(redis_config, tier=Tier.WEB, adapters=[])
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    yield app[SERVICES]
    await client.close()


def typed(actor: Actor, text: str) -> Payload:
    """A job as an adapter queues it: the rep's ids and what they typed."""
    return {"team_id": actor.tenant, "user_id": actor.user_id, "text": text,
            "response_url": "https://hooks.slack.com/commands/T1/1/x"}  # fmt: skip


async def noop(_: Payload) -> None:
    return None


async def everything_under(config: Config) -> str:
    """Every key and value under the service's prefix, streams included, as one text."""
    assert config.redis_url is not None
    client = redis.asyncio.Redis.from_url(config.redis_url, decode_responses=True)
    found: list[Any] = []
    try:
        async for key in client.scan_iter(match=f"{config.redis_prefix}:*"):
            kind: Any = await client.type(key)
            readers: dict[str, Callable[[str], Awaitable[Any]]] = {
                "string": client.get,
                "hash": client.hgetall,
                "set": client.smembers,
                "list": lambda k: client.lrange(k, 0, -1),
                "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                "stream": client.xrange,
            }
            found += [key, await readers[kind](key)]
    finally:
        await client.aclose()
    return repr(found)


async def dead_letter(config: Config, payload: Payload) -> None:
    """An entry set aside as a worker does it, what it carried kept."""
    assert config.redis_url is not None
    data = message_for("test.typed", payload).message
    fields = {"data": data, "mac": mac_of(job_key()[0], data), "entry": "1-0", "reason": "x"}
    client = redis.asyncio.Redis.from_url(config.redis_url)
    try:
        await client.xadd(f"{config.redis_prefix}:jobs:dead", fields)  # type: ignore[arg-type]
    finally:
        await client.aclose()


async def test_forget_me_leaves_nothing_the_rep_typed_anywhere_in_redis(
    web_tier: Services, redis_config: Config
) -> None:
    enqueue = web_tier.jobs.register("test.typed", noop)
    await web_tier.coach.handle(Request(SAM, text=f"Jane {MARKER} @ Acme referred by Tom"))
    await web_tier.coach.handle(Request(ALEX, text=f"Bob {OTHERS} @ Initech referred by Ann"))
    await enqueue(typed(SAM, f"log Jane {MARKER} @ Acme left call me at 555-0199"))
    await enqueue(typed(ALEX, f"log Bob {OTHERS} @ Initech skipped"))
    await dead_letter(redis_config, typed(SAM, f"Jane {MARKER} @ Acme"))
    assert MARKER.lower() in (await everything_under(redis_config)).lower()

    await web_tier.coach.handle(Request(SAM, text="forget me confirm"))

    left = (await everything_under(redis_config)).lower()
    assert MARKER.lower() not in left
    assert "hooks.slack.com/commands" in left  # Alex's job still waits, whole
    assert OTHERS.lower() in left


async def test_a_done_job_leaves_no_entry_in_the_stream(redis_config: Config) -> None:
    worker = await Worker(redis_config, "w").start()
    try:
        await worker.enqueue(typed(SAM, f"log Jane {MARKER} @ Acme left"))
        await eventually(lambda: worker.done)
        deadline = asyncio.get_running_loop().time() + 3
        while MARKER in await everything_under(redis_config):
            assert asyncio.get_running_loop().time() < deadline, "the done job's entry stayed"
            await asyncio.sleep(0.02)
    finally:
        await worker.close()
