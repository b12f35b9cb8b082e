"""The App Home tab: the rep's day (Coach.home) published with views.publish.

A rep may reopen Home as often as they like; each opening is a job, but within DEBOUNCE_SECONDS
of the last publish for the same rep (in this process) the job reads and publishes nothing.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from adapters.slack.actors import ProfileCache
from adapters.slack.blocks import Block, render_blocks
from bot.coach import Coach

log = logging.getLogger("voicemail_coach.slack")

HOME_TAB = "home"
DEBOUNCE_SECONDS = 5.0


class RecentPublishes:
    """Who had Home published in the last `seconds`: entries are added in time order and
    dropped once older than the window, so it holds at most one window's worth of reps."""

    def __init__(
        self, seconds: float = DEBOUNCE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._at: OrderedDict[tuple[str, str], float] = OrderedDict()

    def claim(self, tenant: str, user_id: str) -> bool:
        """True (and the window starts) unless the rep's Home was published within it."""
        now = self.clock()
        self._forget_older_than(now - self.seconds)
        if (tenant, user_id) in self._at:
            return False
        self._at[(tenant, user_id)] = now
        return True

    def release(self, tenant: str, user_id: str) -> None:
        """The publish failed: the next opening may try again at once."""
        self._at.pop((tenant, user_id), None)

    def _forget_older_than(self, cutoff: float) -> None:
        while self._at:
            oldest, at = next(iter(self._at.items()))
            if at > cutoff:
                return
            del self._at[oldest]


# One per coach, so each mounted adapter (and each test's server) debounces on its own.
_RECENT: WeakKeyDictionary[Coach, RecentPublishes] = WeakKeyDictionary()


def recent_publishes(coach: Coach) -> RecentPublishes:
    recent = _RECENT.get(coach)
    if recent is None:
        recent = _RECENT[coach] = RecentPublishes()
    return recent


async def home_view(
    coach: Coach, profiles: ProfileCache, client: Any, tenant: str, user_id: str
) -> dict[str, Any]:
    actor = await profiles.actor(client, tenant, user_id)
    blocks: list[Block] = render_blocks(await coach.home(actor))
    return {"type": "home", "blocks": blocks}


async def publish_home(
    coach: Coach, profiles: ProfileCache, client: Any, tenant: str, user_id: str
) -> bool:
    """Publish the rep's Home tab unless it was published within DEBOUNCE_SECONDS (True then
    too: the rep sees a Home that recent); on failure log ids and the error type only, and
    say False."""
    recent = recent_publishes(coach)
    if not recent.claim(tenant, user_id):
        log.debug("home_debounced", extra={"tenant": tenant, "user": user_id})
        return True
    try:
        view = await home_view(coach, profiles, client, tenant, user_id)
        await client.views_publish(user_id=user_id, view=view)
    except Exception as error:
        recent.release(tenant, user_id)
        log.warning(
            "home_failed",
            extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
        )
        return False
    return True
