"""Pacing a platform's requests in this process, per key (a Slack channel, a Teams tenant)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable


class Pacer:
    """At most one request per `interval` seconds for each key, in this process: a request
    waits for its key's next free slot. Keys whose slot has passed are forgotten now and then,
    so 10,000 reps' channels cost a dict of at most the ones sent to in the last interval.

    Slack paces per direct message (about one message a second per channel), Teams per
    tenant (50 requests a second)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prune_at: int = 1024,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[Hashable, float] = {}
        self._prune_at = prune_at
        self._min_prune_at = prune_at

    async def wait(self, key: Hashable) -> None:
        now = self.clock()
        if len(self._next) >= self._prune_at:
            self._prune(now)
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)

    def _prune(self, now: float) -> None:
        self._next = {key: slot for key, slot in self._next.items() if slot > now}
        self._prune_at = max(self._min_prune_at, 2 * len(self._next))

    def __len__(self) -> int:
        return len(self._next)
