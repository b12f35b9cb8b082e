"""Redis commands from concurrent tasks sent together, in one pipelined round trip.

On a small machine a redis-py round trip costs about as much CPU as the rest of a chat request;
commands issued while a trip is on its way, or within `linger` seconds, share the next one.
With no linger, a command still waits for the tasks already running to issue theirs (one turn
of the event loop), so concurrent requests share trips and a lone one pays nothing more.

Trips go on a connection of Batched's own, made from the client's pool settings: a pipeline
takes a connection from the pool and gives it back on every trip, which cost more than the
trip's own reading and writing (about 190 us of CPU against 85 us for a decision's script).
Only one trip is on the way at a time, so one connection is all it needs. Commands are packed
by hiredis, in C, as redis-py does for its synchronous clients (its asyncio ones pack in Python).
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as ConnectionLost
from redis.exceptions import ResponseError

MOST_IN_A_TRIP = 128

Command = tuple[str | bytes | int, ...]


class Batched:
    """Redis commands sent together: each waits for the answer to its own command."""

    def __init__(self, client: Redis, linger: float = 0.0) -> None:
        self._pool = client.connection_pool
        self._linger = linger
        self._waiting: list[tuple[Command, asyncio.Future[Any]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None

    async def run(self, *command: str | bytes | int) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((command, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())
        return await answer

    async def _send_waiting(self) -> None:
        await asyncio.sleep(self._linger)
        while self._waiting:
            trip = self._waiting[:MOST_IN_A_TRIP]
            del self._waiting[:MOST_IN_A_TRIP]
            try:
                answers = await self._round_trip([command for command, _ in trip])
            except Exception as error:  # the connection failed: every command in the trip did
                answers = [error] * len(trip)
            for (_, answer), result in zip(trip, answers, strict=True):
                if answer.done():  # its caller stopped waiting
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)

    async def _round_trip(self, commands: list[Command]) -> list[Any]:
        """Each command's answer, or the error Redis answered it with. A connection kept from
        an earlier trip that Redis has closed since (it restarted) is replaced, and the trip
        sent again on the new one, as the pool would have done when handing it out."""
        kept = self._connection is not None
        try:
            return await self._on_own_connection(commands)
        except ConnectionLost:
            if not kept:
                raise
            return await self._on_own_connection(commands)

    async def _on_own_connection(self, commands: list[Command]) -> list[Any]:
        # hiredis's stub types the command as a tuple of one: any length is packed
        packed = [hiredis.pack_command(command) for command in commands]  # type: ignore[arg-type]
        connection = self._connection or self._pool.make_connection()  # type: ignore[no-untyped-call]
        self._connection = connection
        try:
            await connection.send_packed_command(packed, check_health=False)
            return [await _answer(connection) for _ in commands]
        except BaseException:  # half-sent or half-read: the connection cannot be trusted
            self._connection = None
            await connection.disconnect(nowait=True)
            raise

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._connection is not None:
            await self._connection.disconnect()
            self._connection = None


async def _answer(connection: AbstractConnection) -> Any:
    try:
        return await connection.read_response()
    except ResponseError as error:  # an error reply: this command's alone
        return error
