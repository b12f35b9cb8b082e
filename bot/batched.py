"""Redis commands from concurrent tasks sent together, in one pipelined round trip.

On a small machine a redis-py round trip costs about as much CPU as the rest of a chat request;
commands issued while a trip is on its way, or within `linger` seconds, share the next one.
With no linger, a command still waits for the tasks already running to issue theirs (one turn
of the event loop), so concurrent requests share trips and a lone one pays nothing more.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

MOST_IN_A_TRIP = 128

Command = tuple[str | bytes | int, ...]


class Batched:
    """Redis commands sent together: each waits for the answer to its own command."""

    def __init__(self, client: Redis, linger: float = 0.0) -> None:
        self._client = client
        self._linger = linger
        self._waiting: list[tuple[Command, asyncio.Future[Any]]] = []
        self._sender: asyncio.Task[None] | None = None

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
            pipe = self._client.pipeline(transaction=False)
            for command, _ in trip:
                pipe.execute_command(*command)
            try:
                answers = await pipe.execute(raise_on_error=False)
            except Exception as error:  # the connection failed: every command in the trip did
                answers = [error] * len(trip)
            for (_, answer), result in zip(trip, answers, strict=True):
                if answer.done():  # its caller stopped waiting
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
