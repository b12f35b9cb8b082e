"""Installing the app, uninstalling it, and messages the bot starts in a rep's personal chat."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from adapters.teams.adapter import TeamsDeliveryError
from bot.adapters import Delivery, RecipientGone, deliver_or_apologise
from bot.types import Reply, Tone
from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import BOT, PERSONAL_CHAT, TENANT, USER, Teams
from tests.adapters.teams.test_messages import card_of, texts

NUDGE = Reply(heading="Two call-backs are due today", tone=Tone.INFO)


async def install(teams: Teams) -> None:
    response = await teams.post(teams.activity("installationUpdate", action="add"))
    assert response.status == 200


async def test_no_direct_chat_before_the_rep_installs_or_writes(teams: Teams) -> None:
    assert await teams.adapter.direct_chat(TENANT, USER) is None


async def test_after_an_install_a_proactive_message_arrives_in_the_personal_chat(
    teams: Teams,
) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None

    await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    (sent,) = await teams.connector.wait_for(1)
    assert sent["conversation"] == PERSONAL_CHAT
    assert sent["reply_to"] is None  # a new message, not a reply to an old one
    assert "Two call-backs are due today" in texts(card_of(sent))


async def test_a_message_from_the_rep_also_opens_the_direct_chat(teams: Teams) -> None:
    await teams.post(teams.message("help"))
    await teams.connector.wait_for(1)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    await teams.connector.wait_for(2)


async def test_the_installer_manages_the_tenant_and_a_rep_who_only_writes_does_not(
    teams: Teams,
) -> None:
    await teams.post(teams.message("team"))
    (sent,) = await teams.connector.wait_for(1)
    await install(teams)
    await teams.post(teams.message("team"))
    (_, after_install) = await teams.connector.wait_for(2)
    assert texts(card_of(sent)) != texts(card_of(after_install))
    stored = json.loads(await teams.stored_chat() or "{}")
    assert stored["manager"] is True


async def test_the_bot_added_to_the_personal_chat_counts_as_an_install(teams: Teams) -> None:
    added = teams.activity("conversationUpdate", membersAdded=[{"id": BOT}])
    assert (await teams.post(added)).status == 200
    assert await teams.adapter.direct_chat(TENANT, USER) is not None


async def test_an_uninstall_forgets_the_personal_chat(teams: Teams, logs: Logs) -> None:
    await install(teams)
    response = await teams.post(teams.activity("installationUpdate", action="remove"))
    assert response.status == 200
    assert await teams.adapter.direct_chat(TENANT, USER) is None
    assert await teams.stored_chat() is None
    events = [event["event"] for event in logs.events()]
    assert "teams_installed" in events and "teams_uninstalled" in events
    logs.assert_clean("Rita Rep")


async def test_a_rep_who_removed_the_bot_is_logged_and_nothing_crashes(
    teams: Teams, logs: Logs
) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    teams.connector.refuse_with = (403, "BotNotInConversationRoster")

    with pytest.raises(RecipientGone):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert not await deliver_or_apologise(teams.adapter, NUDGE, address, Delivery.DIRECT)

    roster = [e for e in logs.events() if e["event"] == "teams_not_in_roster"]
    assert roster and roster[0]["tenant"] == TENANT and roster[0]["user"] == USER
    assert (await teams.client.get("/healthz")).status == 200
    logs.assert_clean("Rita Rep", "not part of the roster")


async def test_a_throttled_or_unavailable_connector_is_retried_until_it_takes_the_message(
    teams: Teams, logs: Logs
) -> None:
    teams.adapter.retry_seconds = 0.01
    teams.connector.answer_first = [429, 503]
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert len(teams.connector.sent) == 1
    retried = [e for e in logs.events() if e["event"] == "teams_send_retried"]
    assert [e["attempt"] for e in retried] == [1, 2]


async def test_a_connector_that_stays_throttled_is_given_up_on(teams: Teams) -> None:
    teams.adapter.retry_seconds = 0.01
    teams.connector.answer_first = [429] * 10
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    with pytest.raises(TeamsDeliveryError):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert len(teams.connector.answer_first) == 6  # four attempts, then no more


async def test_a_refusal_that_a_retry_cannot_fix_is_not_retried(teams: Teams) -> None:
    teams.connector.answer_first = [400]
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    with pytest.raises(TeamsDeliveryError):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert teams.connector.answer_first == []


async def test_a_connector_that_does_not_answer_is_given_up_on_in_time(teams: Teams) -> None:
    teams.adapter.send_timeout_seconds = 0.2
    teams.connector.delay_seconds = 1
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(teams.adapter.deliver(NUDGE, address, Delivery.DIRECT), 2)


async def test_a_replacement_updates_the_message_its_reference_names(teams: Teams) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    reference = {**json.loads(address.target), "activityId": "card-7"}
    card = replace(address, target=json.dumps(reference))

    await teams.adapter.deliver(NUDGE, card, Delivery.REPLACE)
    (updated,) = teams.connector.updated
    assert (updated["conversation"], updated["activity_id"]) == (PERSONAL_CHAT, "card-7")
    assert "Two call-backs are due today" in texts(card_of(updated))
    assert teams.connector.sent == []
