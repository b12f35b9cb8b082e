"""The store: SQLite by default, Redis when REDIS_URL is set."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redis.asyncio.connection import parse_url
from redis.exceptions import AuthenticationError, RedisError

from bot.config import Config
from bot.store.base import Store, export_document
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

__all__ = [
    "RedisStore",
    "SQLiteStore",
    "Store",
    "StoreUnavailable",
    "connect_store",
    "export_document",
    "open_store",
]


class StoreUnavailable(Exception):
    """The configured store cannot be opened; the message says why and what to do."""


async def open_store(config: Config) -> Store:
    """Redis when the config names it (any number of replicas), else the SQLite file; either
    answered, or StoreUnavailable."""
    if config.redis_url:
        store = RedisStore.connect(config.redis_url, prefix=config.redis_prefix)
        try:
            await store.ping()
        except (RedisError, OSError) as error:
            await store.close()
            raise StoreUnavailable(redis_problem(config.redis_url, error)) from None
        return store
    return await open_sqlite(config.db_path)


async def connect_store(config: Config) -> Store:
    """As open_store, except that Redis may still be down: the store connects when it is first
    used, so a service can start and report itself not ready until Redis answers."""
    if config.redis_url:
        return RedisStore.connect(config.redis_url, prefix=config.redis_prefix)
    return await open_sqlite(config.db_path)


async def open_sqlite(path: str) -> SQLiteStore:
    folder = Path(path).parent
    if not folder.is_dir():
        raise StoreUnavailable(
            f"the folder of VOICEMAIL_COACH_DB ({folder}) does not exist: create it "
            f"(mkdir -p {folder}) or set VOICEMAIL_COACH_DB to a file in a folder that does"
        )
    try:
        return await SQLiteStore.open(path)
    except sqlite3.Error as error:
        raise StoreUnavailable(
            f"cannot open the SQLite file {path} ({error}): check that this user may write "
            "it and its folder, or set VOICEMAIL_COACH_DB to another file"
        ) from None


def redis_problem(url: str, error: BaseException) -> str:
    """What is wrong with Redis at `url`, naming its address but never its password."""
    if isinstance(error, AuthenticationError):
        return "Redis refused the password in REDIS_URL: fix the password or the user in it"
    return (
        f"Redis does not answer at {redis_address(url)} ({type(error).__name__}): start it, "
        "fix REDIS_URL, or unset REDIS_URL to use the SQLite file"
    )


def redis_address(url: str) -> str:
    parts = parse_url(url)
    if "path" in parts:
        return str(parts["path"])
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 6379)}"
