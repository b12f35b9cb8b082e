"""Shared fixtures: a store of each kind, and one `store` fixture that runs a test on both."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from uuid import uuid4

import pytest
import redis
import redis.asyncio

from bot.store import RedisStore, SQLiteStore, Store

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@cache
def _redis_answers(url: str) -> str | None:
    """None if Redis answers PING at `url`, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


def reachable_redis_url() -> str:
    """The test Redis; skips the test when it is down, and fails it in CI where it must be up."""
    url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL
    problem = _redis_answers(url)
    if problem is not None:
        message = f"Redis is not reachable at {url} ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def redis_url() -> str:
    return reachable_redis_url()


async def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under `prefix` (SCAN is fine here: this is test teardown)."""
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        batch: list[str] = []
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.unlink(*batch)
                batch.clear()
        if batch:
            await client.unlink(*batch)
    finally:
        await client.aclose()


@asynccontextmanager
async def open_redis_store(url: str) -> AsyncIterator[RedisStore]:
    """A RedisStore under a prefix of its own, emptied afterwards."""
    prefix = f"vctest:{uuid4().hex}"
    store = await RedisStore.open(url, prefix=prefix)
    try:
        yield store
    finally:
        await store.close()
        await delete_prefix(url, prefix)


@asynccontextmanager
async def open_sqlite_store(path: Path) -> AsyncIterator[SQLiteStore]:
    store = await SQLiteStore.open(path)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    async with open_redis_store(redis_url) as store:
        yield store


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with open_sqlite_store(tmp_path / "store.db") as store:
        yield store


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store in turn: a test using this fixture is the contract both must keep."""
    if request.param == "sqlite":
        async with open_sqlite_store(tmp_path / "store.db") as sqlite:
            yield sqlite
    else:
        async with open_redis_store(reachable_redis_url()) as shared:
            yield shared
