"""A rep asking in a channel or group chat: the answer goes to their personal chat, and the
thread gets a pointer; if Teams will not open that chat, the thread gets the answer."""

from __future__ import annotations

from typing import Any

from tests.adapters.teams.conftest import (
    BOT,
    CREATED_CHAT,
    PERSONAL_CHAT,
    TEAM_CHANNEL,
    TENANT,
    USER,
    Teams,
)
from tests.adapters.teams.test_chats import install
from tests.adapters.teams.test_messages import ASK, card_of, texts

MENTIONED = f"<at>Voicemail Coach</at> {ASK.removeprefix('voicemail ')}"


def channel_message(teams: Teams, **fields: Any) -> dict[str, Any]:
    mention = {"type": "mention", "text": "<at>Voicemail Coach</at>",
               "mentioned": {"id": BOT, "name": "Voicemail Coach"}}  # fmt: skip
    message = teams.message(MENTIONED, conversation=TEAM_CHANNEL, conversation_type="channel",
                            id="1700000000000", **fields)  # fmt: skip
    message["entities"].append(mention)
    return message


async def test_asked_in_a_channel_the_answer_goes_to_a_personal_chat_the_bot_opens(
    teams: Teams,
) -> None:
    assert (await teams.post(channel_message(teams))).status == 200
    answer, pointer = await teams.connector.wait_for(2)

    assert answer["conversation"] == CREATED_CHAT
    assert "Leave a voicemail" in texts(card_of(answer))
    assert pointer["conversation"] == TEAM_CHANNEL
    assert pointer["reply_to"] == "1700000000000"
    assert "personal chat" in texts(card_of(pointer))
    assert "Jane Doe" not in texts(card_of(pointer))
    (created,) = teams.connector.created
    assert created["members"] == [{"id": USER, "name": "Rita Rep", "aadObjectId": "aad-rita"}]
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None and CREATED_CHAT in address.target


async def test_a_rep_with_the_app_installed_is_answered_in_their_chat_without_a_new_one(
    teams: Teams,
) -> None:
    await install(teams)
    await teams.post(channel_message(teams))
    answer, pointer = await teams.connector.wait_for(2)
    assert answer["conversation"] == PERSONAL_CHAT
    assert pointer["conversation"] == TEAM_CHANNEL
    assert teams.connector.created == []


async def test_if_teams_refuses_a_personal_chat_the_thread_gets_the_answer_and_a_hint(
    teams: Teams,
) -> None:
    teams.connector.refuse_personal_chats = True
    await teams.post(channel_message(teams))
    answer, hint = await teams.connector.wait_for(2)
    assert answer["conversation"] == TEAM_CHANNEL
    assert "Leave a voicemail" in texts(card_of(answer))
    assert "personal app" in texts(card_of(hint))


async def test_the_bots_mention_is_dropped_and_anyone_elses_kept_as_their_name(
    teams: Teams,
) -> None:
    message = channel_message(teams)
    message["text"] = "<at>Voicemail Coach</at> Jane Doe @ Acme referred by <at>Tom Jones</at>"
    message["entities"].append({"type": "mention", "text": "<at>Tom Jones</at>",
                                "mentioned": {"id": "29:tom", "name": "Tom Jones"}})  # fmt: skip
    await teams.post(message)
    answer, _ = await teams.connector.wait_for(2)
    assert "Tom Jones" in texts(card_of(answer))
