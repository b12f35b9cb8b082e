"""open_store picks the store the configuration names."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from bot.config import Config
from bot.store import RedisStore, SQLiteStore, open_store


async def test_without_a_redis_url_the_store_is_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    store = await open_store(Config(db_path=str(path)))
    try:
        assert isinstance(store, SQLiteStore)
        await store.ping()
        assert path.exists()
    finally:
        await store.close()


async def test_with_a_redis_url_the_store_is_redis_under_the_prefix(
    redis_url: str, tmp_path: Path
) -> None:
    prefix = f"vctest:{uuid4().hex}"
    config = Config(db_path=str(tmp_path / "unused.db"), redis_url=redis_url, redis_prefix=prefix)
    store = await open_store(config)
    try:
        assert isinstance(store, RedisStore)
        assert store.keys.prefix == prefix
        await store.ping()
        assert not (tmp_path / "unused.db").exists()
    finally:
        await store.close()
