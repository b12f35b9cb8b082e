"""A rep's message in Teams, answered through the Bot Connector; their check-in clicks."""

from __future__ import annotations

import json
from typing import Any

from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import (
    ACCESS_TOKEN,
    PERSONAL_CHAT,
    TENANT,
    USER,
    Teams,
)

ASK = "voicemail Jane Doe @ Acme referred by Tom"


def card_of(sent: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = sent["activity"]["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def texts(card: dict[str, Any]) -> str:
    return json.dumps(card["body"])


def action_titled(card: dict[str, Any], title: str) -> dict[str, Any]:
    (action,) = [action for action in card.get("actions", []) if action["title"] == title]
    found: dict[str, Any] = action
    return found


async def test_a_signed_message_is_answered_in_the_reps_chat(teams: Teams, logs: Logs) -> None:
    response = await teams.post(teams.message(ASK, id="msg-1"))
    assert response.status == 200

    (sent,) = await teams.connector.wait_for(1)
    assert sent["conversation"] == PERSONAL_CHAT
    assert sent["reply_to"] == "msg-1"
    assert sent["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert "Leave a voicemail" in texts(card_of(sent))
    assert sent["activity"]["recipient"]["id"] == USER
    logs.assert_clean("Jane Doe", ACCESS_TOKEN)


async def test_the_outbound_token_is_fetched_once_for_many_answers(teams: Teams) -> None:
    for n in range(3):
        await teams.post(teams.message(f"Prospect{n} Doe @ Acme", id=f"msg-{n}"))
    await teams.connector.wait_for(3)
    assert len(teams.login.token_requests) == 1


async def test_a_mention_and_the_command_word_are_not_part_of_the_question(
    teams: Teams,
) -> None:
    await teams.post(teams.message("<at>Voicemail Coach</at> /voicemail help"))
    (sent,) = await teams.connector.wait_for(1)
    assert "Leave a voicemail" not in texts(card_of(sent))
    assert "help" in texts(card_of(sent)).lower()


async def test_a_bare_command_word_brings_the_decision_form(teams: Teams) -> None:
    await teams.post(teams.message("voicemail"))
    (sent,) = await teams.connector.wait_for(1)
    card = card_of(sent)
    assert any(element.get("type", "").startswith("Input.") for element in card["body"])


async def test_a_check_in_click_logs_once_and_a_second_click_logs_nothing(teams: Teams) -> None:
    await teams.post(teams.message(ASK))
    (sent,) = await teams.connector.wait_for(1)
    left_it = action_titled(card_of(sent), "Left it")
    assert left_it["type"] == "Action.Execute"

    first = await teams.post(teams.click(left_it, id="click-1"))
    assert first.status == 200
    answer = await first.json()
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Logged" in texts(answer["value"])

    again = await teams.post(teams.click(left_it, id="click-2"))  # a double click
    assert again.status == 200
    assert "Logged" not in texts((await again.json())["value"])

    key = left_it["data"]["value"].split("|", 2)[2]
    log = await teams.services.store.prospect_log(TENANT, USER, key)
    assert len(log) == 1
    assert len(teams.connector.sent) == 1  # the clicks were answered in their own requests


async def test_a_click_with_no_button_in_it_is_answered_with_an_apology(teams: Teams) -> None:
    response = await teams.post(teams.click({"verb": "x", "data": "not a dict"}))
    assert response.status == 200
    assert "Sorry" in texts((await response.json())["value"])


async def test_a_hostile_body_is_refused_without_a_traceback(teams: Teams, logs: Logs) -> None:
    for body in (b"not json", b"[1]", b"{" * 100_000, b'{"type": ""}'):
        assert (await teams.post(body)).status == 400
    assert (await teams.post(b'{"type": 5}')).status == 403  # signed, but of no tenant
    assert (await teams.post(b" " * 300_000)).status == 413
    shapes = {"from": "x", "entities": "y", "conversation": 5, "text": {"a": 1}, "value": []}
    for name, value in shapes.items():
        response = await teams.post({**teams.message("help"), name: value})
        assert response.status in (200, 400)
    assert (await teams.post({**teams.message("help"), "channelData": "x"})).status == 403
    deep: object = "x"
    for _ in range(900):
        deep = {"a": deep}
    click = teams.click({"verb": "checkin", "data": {"action_id": "checkin", "value": "1"}})
    assert (await teams.post({**click, "value": deep})).status in (200, 400)
    assert (await teams.post({**click, "entities": [deep]})).status in (200, 400)
    logs.assert_clean()


async def test_a_redelivered_click_logs_nothing_more(teams: Teams) -> None:
    await teams.post(teams.message(ASK))
    (sent,) = await teams.connector.wait_for(1)
    left_it = action_titled(card_of(sent), "Left it")
    for _ in range(2):  # Teams retries an invoke it got no answer to, with the same id
        assert (await teams.post(teams.click(left_it, id="click-9"))).status == 200
    key = left_it["data"]["value"].split("|", 2)[2]
    assert len(await teams.services.store.prospect_log(TENANT, USER, key)) == 1


async def test_the_decision_form_answers_in_place_or_shows_its_errors(teams: Teams) -> None:
    await teams.post(teams.message("voicemail"))
    (sent,) = await teams.connector.wait_for(1)
    submit = action_titled(card_of(sent), "Get advice")

    empty = {**submit, "data": {**submit["data"], "name": "", "company": ""}}
    errors = await (await teams.post(teams.click(empty))).json()
    assert "nothing was saved" in texts(errors["value"])
    assert any(e.get("type", "").startswith("Input.") for e in errors["value"]["body"])

    filled = {**submit, "data": {**submit["data"], "name": "Jane Doe", "company": "Acme"}}
    decision = await (await teams.post(teams.click(filled))).json()
    assert "Jane Doe @ Acme" in texts(decision["value"])  # the advice, for a cold prospect
    assert not any(e.get("type", "").startswith("Input.") for e in decision["value"]["body"])


async def test_the_reps_time_zone_comes_from_their_teams_client(teams: Teams) -> None:
    message = teams.message(ASK)
    message["entities"] = [{"type": "clientInfo", "timezone": "Europe/Berlin"}]
    await teams.post(message)
    await teams.connector.wait_for(1)
    rep = await teams.services.store.get_rep(TENANT, USER)
    assert rep is not None and rep.timezone == "Europe/Berlin"
