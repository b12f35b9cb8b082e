"""The store: SQLite by default, Redis when REDIS_URL is set."""

from bot.config import Config
from bot.store.base import Store, export_document
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

__all__ = ["RedisStore", "SQLiteStore", "Store", "export_document", "open_store"]


async def open_store(config: Config) -> Store:
    """Redis when the config names it (any number of replicas), else the SQLite file."""
    if config.redis_url:
        return await RedisStore.open(config.redis_url, prefix=config.redis_prefix)
    return await SQLiteStore.open(config.db_path)
