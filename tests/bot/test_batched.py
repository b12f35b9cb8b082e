"""Batched Redis commands: sent together, each caller gets its own answer or its own error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio
from redis.asyncio.connection import AbstractConnection

from bot.batched import Batched
from tests.conftest import delete_prefix


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[tuple[redis.asyncio.Redis, str]]:
    prefix = f"vctest:{uuid4().hex}"
    connection = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield connection, prefix
    finally:
        await connection.aclose()
        await delete_prefix(redis_url, prefix)


async def test_commands_issued_together_share_one_round_trip(
    client: tuple[redis.asyncio.Redis, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, prefix = client
    trips = []
    send = AbstractConnection.send_packed_command

    async def counted(self: AbstractConnection, *args: Any, **options: Any) -> None:
        trips.append(args)
        await send(self, *args, **options)

    batched = Batched(connection)
    await batched.run("PING")  # connected (which sends commands of its own)
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    answers = await asyncio.gather(
        *(batched.run("RPUSH", f"{prefix}:list", str(n)) for n in range(20))
    )
    assert len(trips) == 1
    assert sorted(answers) == list(range(1, 21))  # each caller got its own reply
    await batched.close()
    monkeypatch.undo()
    assert await connection.lrange(f"{prefix}:list", 0, -1) == [str(n).encode() for n in range(20)]


async def test_a_connection_redis_closed_since_the_last_trip_is_replaced(
    client: tuple[redis.asyncio.Redis, str],
) -> None:
    """As after a restart of Redis: the next command is answered, not failed."""
    connection, prefix = client
    batched = Batched(connection)
    own_id = await batched.run("CLIENT", "ID")
    assert await connection.client_kill_filter(_id=own_id) == 1
    await batched.run("SET", f"{prefix}:after", "1")
    assert await connection.get(f"{prefix}:after") == b"1"
    assert await batched.run("CLIENT", "ID") != own_id
    await batched.close()


async def test_a_failing_command_fails_only_its_caller(
    client: tuple[redis.asyncio.Redis, str],
) -> None:
    connection, prefix = client
    await connection.set(f"{prefix}:text", "not a stream")
    batched = Batched(connection)
    answers: list[Any] = [
        answer
        for answer in await asyncio.gather(
            batched.run("XADD", f"{prefix}:stream", "*", "data", "1"),
            batched.run("XADD", f"{prefix}:text", "*", "data", "2"),
            return_exceptions=True,
        )
    ]
    good, bad = answers
    assert isinstance(bad, redis.ResponseError) and "WRONGTYPE" in str(bad)
    assert not isinstance(good, BaseException)
    assert await connection.xlen(f"{prefix}:stream") == 1
    await batched.close()


async def test_a_lost_connection_fails_every_waiting_caller() -> None:
    unreachable = redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    batched = Batched(unreachable)
    answers = await asyncio.gather(batched.run("PING"), batched.run("PING"), return_exceptions=True)
    assert all(isinstance(answer, redis.ConnectionError) for answer in answers)
    await batched.close()
    await unreachable.aclose()
