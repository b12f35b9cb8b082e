"""The decision modal and the App Home tab, through our real server with signed requests."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from adapters.slack.modal import CALLBACK_ID, block_id
from bot.forms import DECISION_FORM_FIELDS
from bot.records import prospect_key
from tests.adapters.slack.conftest import Bot
from tests.adapters.slack.test_events import ask, buttons, texts

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
JANE_KEY = prospect_key("Jane Doe", "Acme")


def view_body(
    values: dict[str, Any], *, metadata: str = '{"channel_id": "C1"}', user: str = "U1"
) -> str:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "rita", "name": "rita", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "view-trigger-1",
        "view": {
            "id": "V1",
            "team_id": "T1",
            "type": "modal",
            "callback_id": CALLBACK_ID,
            "private_metadata": metadata,
            "hash": "1.abc",
            "state": {"values": values},
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def text_input(key: str, value: str | None) -> dict[str, Any]:
    return {block_id(key): {key: {"type": "plain_text_input", "value": value}}}


def state(**texts: str | None) -> dict[str, Any]:
    """Every field as Slack sends it: empty inputs as None, selects and checkboxes unchosen."""
    values: dict[str, Any] = {}
    for field in DECISION_FORM_FIELDS:
        if field.key == "relationship":
            values[block_id("relationship")] = {
                "relationship": {"type": "static_select", "selected_option": None}
            }
        elif field.key in ("new_in_role", "expecting_reply"):
            values[block_id(field.key)] = {
                field.key: {"type": "checkboxes", "selected_options": []}
            }
        else:
            values |= text_input(field.key, texts.get(field.key))
    return values


def home_event(tab: str = "home", user: str = "U1") -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D1",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
        }
    )


async def open_home(bot: Bot, tab: str = "home") -> Any:
    return await bot.post(home_event(tab), headers={"Content-Type": "application/json"})


def fix_clock(bot: Bot, now: datetime) -> None:
    bot.services.coach.clock = lambda: now


# --- the modal ------------------------------------------------------------------------------


async def test_bare_command_opens_the_decision_modal_with_every_field(bot: Bot) -> None:
    response = await bot.post(bot.command_body("", n=7))
    assert response.status == 200
    (opened,) = await bot.slack.wait_for_calls("views.open")
    assert opened["trigger_id"] == "trigger-T1-U1-7"
    view = opened["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == "voicemail_decision"
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}
    by_block = {block["block_id"]: block for block in view["blocks"]}
    assert list(by_block) == [block_id(field.key) for field in DECISION_FORM_FIELDS]
    assert all(block["type"] == "input" for block in view["blocks"])
    elements = {key[3:]: block["element"] for key, block in by_block.items()}
    assert elements["name"]["type"] == "plain_text_input"
    assert elements["relationship"]["type"] == "static_select"
    assert [o["value"] for o in elements["relationship"]["options"]] == [
        "stranger", "referred", "known", "client",
    ]  # fmt: skip
    assert elements["new_in_role"]["type"] == "checkboxes"
    assert elements["expecting_reply"]["type"] == "checkboxes"
    assert all(element["action_id"] == key for key, element in elements.items())
    assert by_block[block_id("name")]["optional"] is False
    assert by_block[block_id("region")]["optional"] is True
    assert len(view["title"]["text"]) <= 24
    await asyncio.sleep(0.1)
    assert bot.slack.responses == []


async def test_help_and_other_text_do_not_open_the_modal(bot: Bot) -> None:
    message = await ask(bot, "help")
    assert "what you can ask" in message["blocks"][0]["text"]["text"]
    assert bot.slack.calls_to("views.open") == []


async def test_a_submission_missing_the_company_is_answered_with_field_errors(bot: Bot) -> None:
    response = await bot.post(view_body(state(name="Jane Doe")))
    assert response.status == 200
    body = await response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block_id("company")]
    assert "required" in body["errors"][block_id("company")]
    await asyncio.sleep(0.2)
    assert bot.slack.calls_to("chat.postEphemeral") == []
    assert await bot.services.store.get_rep("T1", "U1") is None
    assert await bot.services.store.get_prospect("T1", "U1", JANE_KEY) is None


async def test_a_bad_time_zone_is_named_on_its_block(bot: Bot) -> None:
    values = state(name="Jane Doe", company="Acme", timezone="Mars/Base")
    body = await (await bot.post(view_body(values))).json()
    assert list(body["errors"]) == [block_id("timezone")]
    assert "America/New_York" in body["errors"][block_id("timezone")]


async def test_a_valid_submission_is_acked_and_the_decision_posted_in_the_channel(
    bot: Bot,
) -> None:
    values = state(name="Jane Doe", company="Acme", referred_by="Tom")
    values[block_id("relationship")]["relationship"]["selected_option"] = {
        "text": {"type": "plain_text", "text": "Referred to you"},
        "value": "referred",
    }
    values[block_id("expecting_reply")]["expecting_reply"]["selected_options"] = [
        {"text": {"type": "plain_text", "text": "yes"}, "value": "true"}
    ]
    response = await bot.post(view_body(values, metadata='{"channel_id": "C42"}'))
    assert response.status == 200
    assert (await response.text()) == ""
    (posted,) = await bot.slack.wait_for_calls("chat.postEphemeral")
    assert posted["channel"] == "C42"
    assert posted["user"] == "U1"
    assert "Leave a voicemail" in posted["blocks"][0]["text"]["text"]
    assert "Leave a voicemail" in posted["text"]
    assert buttons(posted)["Left it"].get("style") == "primary"
    record = await bot.services.store.get_prospect("T1", "U1", JANE_KEY)
    assert record is not None
    assert record.referred_by == "Tom"
    assert record.expecting_response is True
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_the_form_gives_the_same_decision_as_the_text(bot: Bot) -> None:
    fix_clock(bot, MONDAY)
    by_text = await ask(bot, "Jane Doe @ Acme referred by Tom", team="T1", user="U2")
    await bot.post(view_body(state(name="Jane Doe", company="Acme", referred_by="Tom")))
    (by_form,) = await bot.slack.wait_for_calls("chat.postEphemeral")
    assert by_form["blocks"] == by_text["blocks"]


async def test_without_a_channel_or_when_ephemeral_fails_the_decision_comes_by_dm(
    bot: Bot,
) -> None:
    values = state(name="Jane Doe", company="Acme", referred_by="Tom")
    await bot.post(view_body(values, metadata=""))
    (dm,) = await bot.slack.wait_for_calls("chat.postMessage")
    assert dm["channel"] == "D1"
    assert "Leave a voicemail" in dm["text"]
    assert bot.slack.calls_to("conversations.open")[0]["users"] == "U1"

    bot.slack.fail_methods.add("chat.postEphemeral")
    await bot.post(view_body(values))
    await bot.slack.wait_for_calls("chat.postMessage", 2)
    assert len(bot.slack.calls_to("chat.postEphemeral")) == 1


# --- App Home -------------------------------------------------------------------------------


async def test_app_home_shows_the_reps_day_with_the_call_back_due(bot: Bot) -> None:
    fix_clock(bot, MONDAY)
    left_it = buttons(await ask(bot, "Jane Doe @ Acme known tz America/New_York"))
    await bot.post(bot.click_body(left_it["Skipped"], ts="5.1"))
    await bot.slack.wait_for_responses(2)
    record = await bot.services.store.get_prospect("T1", "U1", JANE_KEY)
    assert record is not None and record.next_call_start is not None
    fix_clock(bot, record.next_call_start)

    response = await open_home(bot)
    assert response.status == 200
    (published,) = await bot.slack.wait_for_calls("views.publish")
    assert published["user_id"] == "U1"
    view = published["view"]
    assert view["type"] == "home"
    shown = texts(view)
    assert "Your day" in shown
    assert "Jane Doe @ Acme: Tue 24 Nov, 16:30-18:00 your time" in shown
    assert "Dials this week" in shown


async def test_other_tabs_publish_nothing(bot: Bot) -> None:
    assert (await open_home(bot, tab="messages")).status == 200
    await asyncio.sleep(0.2)
    assert bot.slack.calls_to("views.publish") == []


async def test_a_failed_publish_is_logged_with_ids_and_error_type_only(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voicemail_coach.slack")
    bot.slack.fail_methods.add("views.publish")
    await open_home(bot)
    await bot.slack.wait_for_calls("views.publish")
    deadline = time.monotonic() + 5
    while not [r for r in caplog.records if r.msg == "home_failed"]:
        assert time.monotonic() < deadline, "no home_failed log"
        await asyncio.sleep(0.02)
    (record,) = [r for r in caplog.records if r.msg == "home_failed"]
    assert (record.__dict__["tenant"], record.__dict__["user"]) == ("T1", "U1")
    assert record.__dict__["error"] == "SlackApiError"
    assert "Rita" not in record.getMessage() + str(record.__dict__)
