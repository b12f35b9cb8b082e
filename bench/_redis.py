"""Cleanup shared by the benchmarks: they load Redis under a prefix of their own."""

from __future__ import annotations

import redis.asyncio

BATCH = 5_000


async def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (SCAN is fine here: a benchmark's teardown)."""
    client = redis.asyncio.Redis.from_url(url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}:*", count=BATCH):
            batch.append(key)
            if len(batch) >= BATCH:
                deleted += await client.unlink(*batch)
                batch.clear()
        if batch:
            deleted += await client.unlink(*batch)
    finally:
        await client.aclose()
    return deleted
