"""What the adapter reads from an inbound activity, never trusting its shape beyond the JWT's
reach: anything a network can send is read as absent rather than raising."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from botbuilder.core import TurnContext
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.schema import Activity

from adapters.teams.references import serialized
from bot.types import Actor, Platform, Role

PERSONAL = "personal"
MENTION = re.compile(r"<at>(.{0,200}?)</at>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]{0,200}>")
COMMAND_WORD = re.compile(r"^\s*/?voicemail\b\s*", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\x00(\d{1,4})\x00")
USER_ID = re.compile(r"[\w:.@-]{1,200}")  # 29:1abc..., 28:<app id>, an AAD object id
NOT_IN_NAME = re.compile(r"[<>|\x00-\x1f]")
MAX_TIMEZONE = 64


class TeamsJob(msgspec.Struct, frozen=True, kw_only=True):
    """A message to answer, for a worker: ids, the rep's name and zone, the text, where to."""

    tenant: str
    user_id: str
    name: str = ""
    timezone: str | None = None
    manager: bool = False
    text: str = ""
    reference: dict[str, Any]  # the chat the message came from, with its activity id
    personal: bool = True
    activity_id: str | None = None
    received_at: float

    def payload(self) -> dict[str, Any]:
        answer: dict[str, Any] = msgspec.to_builtins(self)
        return answer

    @classmethod
    def from_payload(cls, payload: object) -> TeamsJob:
        """Raises msgspec.ValidationError for anything that is not a job of ours."""
        return msgspec.convert(payload, cls)

    def actor(self) -> Actor:
        return Actor(
            platform=Platform.TEAMS,
            tenant=self.tenant,
            user_id=self.user_id,
            display_name=self.name,
            timezone=self.timezone,
            role=Role.MANAGER if self.manager else Role.REP,
        )


def tenant_of(activity: Activity) -> str:
    """channelData.tenant.id: Teams sends `tenantId`, which botbuilder's conversation.tenant_id
    never reads."""
    try:
        data = teams_get_channel_data(activity)
        tenant = data.tenant.id if data is not None and data.tenant is not None else None
    except Exception:  # channelData of a shape the schema cannot read
        return ""
    return tenant if isinstance(tenant, str) else ""


def user_of(activity: Activity) -> str:
    sender = activity.from_property
    user = getattr(sender, "id", None)
    return user if isinstance(user, str) else ""


def name_of(activity: Activity) -> str:
    name = getattr(activity.from_property, "name", None)
    return name[:200] if isinstance(name, str) else ""


def is_personal(activity: Activity) -> bool:
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, PERSONAL)


def timezone_of(activity: Activity) -> str | None:
    """The IANA zone a Teams client reports in its clientInfo entity, if it is a real one."""
    for entity in activity.entities or []:
        details = _entity_fields(entity)
        if details.get("type") != "clientInfo":
            continue
        zone = details.get("localTimezone") or details.get("timezone")
        if isinstance(zone, str) and _is_zone(zone):
            return zone
    return None


def _entity_fields(entity: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(entity, "additional_properties", None) or {})
    fields["type"] = getattr(entity, "type", None)
    return fields


def _is_zone(name: str) -> bool:
    if not name or len(name) > MAX_TIMEZONE or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, OSError):
        return False
    return True


def command_text(activity: Activity) -> str:
    """The text without the bot's @mention, with anyone else's as the neutral token
    `<@id|name>` (`team add @Tom` -> `team add <@29:1tom|Tom Lee>`, the id the rep has when
    they write themselves), and without a leading `/voicemail` or `voicemail`. A mention Teams
    sent no entity for stays the name it shows."""
    text = activity.text.replace("\x00", "") if isinstance(activity.text, str) else ""
    bot_id = getattr(activity.recipient, "id", None)
    tokens: list[str] = []
    for shown, user_id, name in _mentions(activity):
        if user_id == bot_id:
            text = text.replace(shown, " ")
        elif shown in text:
            # Held out of the markup clean-up below as a placeholder no message contains.
            text = text.replace(shown, f"\x00{len(tokens)}\x00")
            tokens.append(f"<@{user_id}|{name}>" if name else f"<@{user_id}>")
    text = TAG.sub("", MENTION.sub(lambda found: found.group(1), text))
    text = COMMAND_WORD.sub("", html.unescape(text).strip(), count=1).strip()
    text = text.replace("<@", "@")  # typed, not a mention Teams made: no token
    return PLACEHOLDER.sub(lambda found: tokens[int(found.group(1))], text)


def _mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """Each mention entity: its text as Teams put it in the message (`<at>Tom</at>`), the id
    of who is mentioned and their name (without the characters the token uses)."""
    found = []
    for entity in activity.entities or []:
        details = _entity_fields(entity)
        mentioned = details.get("mentioned")
        shown = details.get("text")
        if details.get("type") != "mention" or not isinstance(mentioned, dict):
            continue
        user_id, name = mentioned.get("id"), mentioned.get("name")
        if not (isinstance(shown, str) and shown and isinstance(user_id, str) and user_id):
            continue
        if not USER_ID.fullmatch(user_id):
            continue
        clean_name = html.unescape(name) if isinstance(name, str) else ""
        found.append((shown, user_id, NOT_IN_NAME.sub("", clean_name)[:200].strip()))
    return found


# A conversation reference's fields (as botbuilder serializes one) and the activity's they come
# from, so that a reference is read off the JSON instead of through msrest (about 75 us).
REFERENCE_FIELDS = {"activityId": "id", "user": "from", "bot": "recipient",
                    "conversation": "conversation", "channelId": "channelId",
                    "locale": "locale", "serviceUrl": "serviceUrl"}  # fmt: skip


def reference_of(document: dict[str, Any]) -> dict[str, Any]:
    """The conversation reference of the activity `document` is the JSON of."""
    return {field: document[key] for field, key in REFERENCE_FIELDS.items() if key in document}


def job_for(
    activity: Activity,
    *,
    tenant: str,
    manager: bool,
    document: dict[str, Any] | None = None,
) -> TeamsJob:
    reference = (
        reference_of(document)
        if document is not None
        else serialized(TurnContext.get_conversation_reference(activity))
    )
    return TeamsJob(
        tenant=tenant,
        user_id=user_of(activity),
        name=name_of(activity),
        timezone=timezone_of(activity),
        manager=manager,
        text=command_text(activity),
        reference=reference,
        personal=is_personal(activity),
        activity_id=activity.id if isinstance(activity.id, str) else None,
        received_at=time.time(),
    )
