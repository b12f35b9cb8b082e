"""Each rep's personal chat with the bot, as a conversation reference, in the store's documents.

One document per (tenant, user): the reference (serialized, without the id of the message it
came from, so a proactive message starts anew instead of replying to an old one) and whether
the user installed the app (an installer manages the tenant's sales team).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import ConversationReference

from bot.store import Store

log = logging.getLogger("voicemail_coach.teams")

KIND = "teams-ref"


@dataclass(frozen=True, slots=True)
class StoredChat:
    reference: dict[str, Any] | None
    manager: bool = False

    def body(self) -> str:
        return json.dumps({"reference": self.reference, "manager": self.manager})

    @classmethod
    def parse(cls, body: str | None) -> StoredChat | None:
        """None for no document, or one this code cannot read (treated as none)."""
        if body is None:
            return None
        try:
            document = json.loads(body)
            reference = document.get("reference")
            return cls(
                reference=reference if isinstance(reference, dict) else None,
                manager=document.get("manager") is True,
            )
        except (ValueError, AttributeError):
            return None


def serialized(reference: ConversationReference) -> dict[str, Any]:
    document: dict[str, Any] = reference.serialize()
    return document


def reference_from(document: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(document)


def without_activity(reference: ConversationReference) -> dict[str, Any]:
    document = serialized(reference)
    document.pop("activityId", None)
    return document


class Chats:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def remember(
        self,
        tenant: str,
        user_id: str,
        reference: dict[str, Any] | None,
        *,
        installed: bool = False,
    ) -> StoredChat:
        """Store the rep's personal chat (None keeps the one stored) and, for an installer,
        the manager's role; the document as stored afterwards."""

        def change(body: str | None) -> str:
            known = StoredChat.parse(body) or StoredChat(None)
            return StoredChat(
                reference=reference if reference is not None else known.reference,
                manager=known.manager or installed,
            ).body()

        stored = await self.store.change_document(tenant, KIND, user_id, change)
        return StoredChat.parse(stored) or StoredChat(reference)

    async def find(self, tenant: str, user_id: str) -> StoredChat | None:
        return StoredChat.parse(await self.store.get_document(tenant, KIND, user_id))

    async def forget(self, tenant: str, user_id: str) -> None:
        await self.store.delete_documents(tenant, KIND, [user_id])
