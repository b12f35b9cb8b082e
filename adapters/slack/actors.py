"""Who is asking, in neutral terms: the Slack user's profile from users.info, cached an hour."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.types import Actor, Platform, Role

log = logging.getLogger("voicemail_coach.slack")

PROFILE_TTL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class SlackProfile:
    display_name: str = ""
    timezone: str | None = None
    phone: str | None = None
    role: Role = Role.REP


class ProfileCache:
    """users.info answers per (tenant, user), kept in memory for an hour; failures are not kept."""

    def __init__(
        self, ttl: float = PROFILE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, SlackProfile]] = {}

    def forget(self, tenant: str, user_id: str) -> None:
        self._entries.pop((tenant, user_id), None)

    def __contains__(self, who: tuple[str, str]) -> bool:
        """Whether (tenant, user id)'s profile is cached."""
        return who in self._entries

    async def actor(self, client: Any, tenant: str, user_id: str) -> Actor:
        profile = await self.profile(client, tenant, user_id)
        return Actor(
            platform=Platform.SLACK,
            tenant=tenant,
            user_id=user_id,
            display_name=profile.display_name,
            timezone=profile.timezone,
            phone=profile.phone,
            role=profile.role,
        )

    async def profile(self, client: Any, tenant: str, user_id: str) -> SlackProfile:
        now = self._clock()
        cached = self._entries.get((tenant, user_id))
        if cached and cached[0] > now:
            return cached[1]
        try:
            response = await client.users_info(user=user_id)
            profile = profile_from_user(response.get("user") or {})
        except Exception as error:  # a slow or failing Slack must not stop the advice
            log.warning(
                "users_info_failed",
                extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
            )
            return SlackProfile()
        self._entries[(tenant, user_id)] = (now + self._ttl, profile)
        return profile


def profile_from_user(user: dict[str, Any]) -> SlackProfile:
    details: dict[str, Any] = user.get("profile") or {}
    name = (
        details.get("real_name")
        or user.get("real_name")
        or details.get("display_name")
        or user.get("name")
        or ""
    )
    admin = bool(user.get("is_admin") or user.get("is_owner"))
    return SlackProfile(
        display_name=str(name),
        timezone=str(user["tz"]) if user.get("tz") else None,
        phone=str(details["phone"]) if details.get("phone") else None,
        role=Role.ADMIN if admin else Role.REP,
    )
