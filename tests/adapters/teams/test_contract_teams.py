"""The adapter contract suite (tests/adapters/test_contract.py), run on Teams: a rep writing
to the bot in their personal chat and clicking its cards, through our server and botbuilder."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.teams.images import DATA_URI_PREFIX
from adapters.teams.references import KIND
from bot.adapters import Adapter
from bot.store import Store
from tests.adapters.teams.conftest import TENANT, USER, Teams
from tests.adapters.teams.test_chats import install
from tests.adapters.teams.test_messages import action_titled, card_of
from tests.adapters.test_contract import (
    test_a_button_pressed_twice_logs_one_check_in,
    test_a_command_is_answered,
    test_a_digest_arrives_in_the_direct_chat_with_its_chart,
    test_a_failure_apologises,
    test_a_proactive_message_arrives_in_the_direct_chat,
    test_forget_me_erases_the_reps_data_and_what_the_adapter_keeps,
    test_the_scheduler_sends_a_managers_digest_once_with_its_chart,
)

__all__ = [
    "test_a_button_pressed_twice_logs_one_check_in",
    "test_a_command_is_answered",
    "test_a_digest_arrives_in_the_direct_chat_with_its_chart",
    "test_a_failure_apologises",
    "test_a_proactive_message_arrives_in_the_direct_chat",
    "test_forget_me_erases_the_reps_data_and_what_the_adapter_keeps",
    "test_the_scheduler_sends_a_managers_digest_once_with_its_chart",
]


@dataclass
class TeamsRep:
    teams: Teams
    tenant: str = TENANT
    user_id: str = USER
    last: dict[str, Any] = field(default_factory=dict)
    clicks: int = 0
    keeps_things: bool = True  # the rep's personal chat with the bot

    @property
    def adapter(self) -> Adapter:
        return self.teams.adapter

    @property
    def store(self) -> Store:
        return self.teams.services.store

    async def say(self, text: str) -> str:
        before = len(self.teams.connector.sent)
        assert (await self.teams.post(self.teams.message(text))).status == 200
        self.last = card_of((await self.teams.connector.wait_for(before + 1))[before])
        return json.dumps(self.last, ensure_ascii=False)

    async def press(self, label: str) -> str:
        self.clicks += 1
        click = self.teams.click(action_titled(self.last, label), id=f"click-{self.clicks}")
        response = await self.teams.post(click)
        assert response.status == 200
        return json.dumps((await response.json())["value"], ensure_ascii=False)

    async def read_direct_chat(self) -> str:
        sent = await self.teams.connector.wait_for(1)
        return json.dumps(card_of(sent[-1]), ensure_ascii=False)

    async def read_direct_chart(self) -> bytes:
        sent = await self.teams.connector.wait_for(1)
        (image,) = [e for e in card_of(sent[-1])["body"] if e.get("type") == "Image"]
        return base64.b64decode(image["url"].removeprefix(DATA_URI_PREFIX))

    async def break_the_store(self) -> None:
        await self.store.close()

    async def adapter_keeps_something(self) -> bool:
        return await self.store.get_document(self.tenant, KIND, self.user_id) is not None


@pytest.fixture
async def rep(teams: Teams) -> AsyncIterator[TeamsRep]:
    await install(teams)  # Teams lets a bot write first only to those who added it
    yield TeamsRep(teams)
