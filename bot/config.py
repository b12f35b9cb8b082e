"""Configuration from the environment. Secrets come only from here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio.connection import parse_url

DEFAULT_DB = "./voicemail-coach.db"
DEFAULT_PORT = 3000
DEFAULT_RECLAIM_SECONDS = 60
MAX_RECLAIM_SECONDS = 3600
HIGHEST_PORT = 65_535


class ConfigError(ValueError):
    """A setting the service cannot use; the message names it and says what it accepts."""


@dataclass(frozen=True, slots=True)
class Config:
    db_path: str = DEFAULT_DB
    redis_url: str | None = None
    redis_prefix: str = "vc"
    port: int = DEFAULT_PORT
    # How long a job (or a scheduled send's claim) held by a worker that died waits before
    # another worker takes it.
    reclaim_seconds: int = DEFAULT_RECLAIM_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """The configuration, or ConfigError naming the first variable that is not usable."""
        env = os.environ if env is None else env
        return cls(
            db_path=env.get("VOICEMAIL_COACH_DB") or DEFAULT_DB,
            redis_url=checked_redis_url(env.get("REDIS_URL") or None),
            redis_prefix=env.get("VOICEMAIL_COACH_REDIS_PREFIX") or "vc",
            port=checked_port(env.get("PORT") or None),
            reclaim_seconds=checked_reclaim_seconds(
                env.get("VOICEMAIL_COACH_RECLAIM_SECONDS") or None
            ),
        )

    @property
    def store_name(self) -> str:
        return "redis" if self.redis_url else "sqlite"


def checked_redis_url(url: str | None) -> str | None:
    """`url` if redis-py accepts it. The error never repeats the URL: it may hold a password."""
    if url is None:
        return None
    try:
        parse_url(url)
    except ValueError as error:
        raise ConfigError(
            f"REDIS_URL is not a Redis URL ({error}): set it like redis://127.0.0.1:6379/0, "
            "or unset it to use the SQLite file"
        ) from None
    return url


def checked_port(text: str | None) -> int:
    if text is None:
        return DEFAULT_PORT
    if (
        not text.isdigit()
        or len(text) > len(str(HIGHEST_PORT))
        or not 1 <= int(text) <= HIGHEST_PORT
    ):
        raise ConfigError(
            f"PORT must be a number from 1 to {HIGHEST_PORT}, like 3000, not {text[:20]!r}"
        )
    return int(text)


def checked_reclaim_seconds(text: str | None) -> int:
    if text is None:
        return DEFAULT_RECLAIM_SECONDS
    if not text.isdigit() or len(text) > 4 or not 1 <= int(text) <= MAX_RECLAIM_SECONDS:
        raise ConfigError(
            "VOICEMAIL_COACH_RECLAIM_SECONDS must be a whole number of seconds from 1 to "
            f"{MAX_RECLAIM_SECONDS}, like 60, not {text[:20]!r}"
        )
    return int(text)
