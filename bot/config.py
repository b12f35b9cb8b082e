"""Configuration from the environment. Secrets come only from here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DB = "./voicemail-coach.db"
DEFAULT_PORT = 3000


@dataclass(frozen=True, slots=True)
class Config:
    db_path: str = DEFAULT_DB
    redis_url: str | None = None
    redis_prefix: str = "vc"
    port: int = DEFAULT_PORT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        return cls(
            db_path=env.get("VOICEMAIL_COACH_DB") or DEFAULT_DB,
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=env.get("VOICEMAIL_COACH_REDIS_PREFIX") or "vc",
            port=int(env.get("PORT") or DEFAULT_PORT),
        )

    @property
    def store_name(self) -> str:
        return "redis" if self.redis_url else "sqlite"
