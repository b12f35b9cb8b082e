"""Who is asking, in neutral terms: the Slack user's profile from users.info, cached an hour,
but read again for a manager-only command once it is a minute old: an admin demoted in Slack
loses the team's settings and digest within the minute."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.types import Actor, Platform, Role

log = logging.getLogger("voicemail_coach.slack")

PROFILE_TTL_SECONDS = 3600.0
ROLE_TTL_SECONDS = 60.0
MAX_PROFILES = 10_000


@dataclass(frozen=True, slots=True)
class SlackProfile:
    display_name: str = ""
    timezone: str | None = None
    phone: str | None = None
    role: Role = Role.REP  # the workspace's admin flags
    org_role: Role = Role.REP  # the Enterprise Grid org's (users.info's enterprise_user)


class ProfileCache:
    """users.info answers per (tenant, user), kept in memory for an hour, the `max_entries`
    most recently used of them; failures are not kept."""

    def __init__(
        self,
        ttl: float = PROFILE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        *,
        role_ttl: float = ROLE_TTL_SECONDS,
        max_entries: int = MAX_PROFILES,
    ) -> None:
        self._ttl = ttl
        self._role_ttl = role_ttl
        self._max_entries = max_entries
        self._clock = clock
        # (tenant, user id) -> (when users.info answered, its profile), least recently used first
        self._entries: OrderedDict[tuple[str, str], tuple[float, SlackProfile]] = OrderedDict()

    def forget(self, tenant: str, user_id: str) -> None:
        self._entries.pop((tenant, user_id), None)

    def __contains__(self, who: tuple[str, str]) -> bool:
        """Whether (tenant, user id)'s profile is cached."""
        return who in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    async def actor(
        self, client: Any, tenant: str, user_id: str, *, org: bool = False, fresh_role: bool = False
    ) -> Actor:
        """The user as the coach sees them. `org`: the tenant is an Enterprise Grid org, so its
        data is the whole org's and only the org's admins and owners manage it. `fresh_role`:
        a manager-only command, whose role is at most ROLE_TTL_SECONDS old."""
        profile = await self.profile(client, tenant, user_id, fresh_role=fresh_role)
        return Actor(
            platform=Platform.SLACK,
            tenant=tenant,
            user_id=user_id,
            display_name=profile.display_name,
            timezone=profile.timezone,
            phone=profile.phone,
            role=profile.org_role if org else profile.role,
        )

    async def profile(
        self, client: Any, tenant: str, user_id: str, *, fresh_role: bool = False
    ) -> SlackProfile:
        now = self._clock()
        key = (tenant, user_id)
        cached = self._unexpired(key, now)
        max_age = self._role_ttl if fresh_role else self._ttl
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        try:
            response = await client.users_info(user=user_id)
            profile = profile_from_user(response.get("user") or {})
        except Exception as error:  # a slow or failing Slack must not stop the advice
            log.warning(
                "users_info_failed",
                extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
            )
            return _as_rep(cached[1]) if cached is not None else SlackProfile()
        self._keep(key, now, profile)
        return profile

    def _unexpired(self, key: tuple[str, str], now: float) -> tuple[float, SlackProfile] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry[0] >= self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _keep(self, key: tuple[str, str], now: float, profile: SlackProfile) -> None:
        self._entries[key] = (now, profile)
        self._entries.move_to_end(key)
        self._drop_least_recent(now)

    def _drop_least_recent(self, now: float) -> None:
        """Expired entries from the least recently used end, then any beyond max_entries."""
        while self._entries:
            fetched_at, _ = next(iter(self._entries.values()))
            if now - fetched_at < self._ttl and len(self._entries) <= self._max_entries:
                return
            self._entries.popitem(last=False)


def _as_rep(profile: SlackProfile) -> SlackProfile:
    """A profile whose role could not be confirmed: its names still serve, its roles do not."""
    return replace(profile, role=Role.REP, org_role=Role.REP)


def profile_from_user(user: dict[str, Any]) -> SlackProfile:
    details: dict[str, Any] = user.get("profile") or {}
    name = (
        details.get("real_name")
        or user.get("real_name")
        or details.get("display_name")
        or user.get("name")
        or ""
    )
    return SlackProfile(
        display_name=str(name),
        timezone=str(user["tz"]) if user.get("tz") else None,
        phone=str(details["phone"]) if details.get("phone") else None,
        role=_role(user),
        org_role=_role(user.get("enterprise_user") or {}),
    )


def _role(flags: dict[str, Any]) -> Role:
    """Admins and owners (of a workspace, or of an org in enterprise_user) manage."""
    return Role.ADMIN if flags.get("is_admin") or flags.get("is_owner") else Role.REP
