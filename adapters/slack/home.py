"""The App Home tab: the rep's day (Coach.home) published with views.publish."""

from __future__ import annotations

import logging
from typing import Any

from adapters.slack.actors import ProfileCache
from adapters.slack.blocks import Block, render_blocks
from bot.coach import Coach

log = logging.getLogger("voicemail_coach.slack")

HOME_TAB = "home"


async def home_view(
    coach: Coach, profiles: ProfileCache, client: Any, tenant: str, user_id: str
) -> dict[str, Any]:
    actor = await profiles.actor(client, tenant, user_id)
    blocks: list[Block] = render_blocks(await coach.home(actor))
    return {"type": "home", "blocks": blocks}


async def publish_home(
    coach: Coach, profiles: ProfileCache, client: Any, tenant: str, user_id: str
) -> bool:
    """Publish the rep's Home tab; on failure log ids and the error type only, and say False."""
    try:
        view = await home_view(coach, profiles, client, tenant, user_id)
        await client.views_publish(user_id=user_id, view=view)
    except Exception as error:
        log.warning(
            "home_failed",
            extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
        )
        return False
    return True
