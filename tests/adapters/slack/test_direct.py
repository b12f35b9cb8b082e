"""Messages the bot starts on Slack: a nudge or a digest in the rep's direct message, with its
chart (files upload v2) and its send ref (message metadata), through Slack's rate limits."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import BotClients, SlackAdapter
from adapters.slack.direct import METADATA_EVENT
from bot import replies
from bot.adapters import Address, Delivery, RecipientGone
from bot.pacing import Pacer
from bot.records import prospect_key
from bot.types import Image, Reply
from tests.adapters.slack.conftest import Bot
from tests.adapters.slack.test_events import ask, texts

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
CHART = Image(png=PNG, alt="Rita: 12 dials, 3 voicemails, 1 callback", name="digest-t1.png")
DIGEST = Reply(heading="Your team yesterday", paragraphs=("12 dials.",), image=CHART, ref="r-1")
NUDGE = Reply(heading="Two call-backs are due today", ref="n-1")


def adapter_of(bot: Bot) -> SlackAdapter:
    adapter = bot.services.adapters["slack"]
    assert isinstance(adapter, SlackAdapter)
    return adapter


async def direct(bot: Bot, reply: Reply, user: str = "U1") -> None:
    adapter = adapter_of(bot)
    address = await adapter.direct_chat("T1", user)
    assert address is not None
    await adapter.deliver(reply, address, Delivery.DIRECT)


async def test_a_digest_arrives_in_the_dm_with_its_ref_and_then_its_chart(bot: Bot) -> None:
    started = time.monotonic()
    await direct(bot, DIGEST)
    (posted,) = bot.slack.calls_to("chat.postMessage")
    assert posted["channel"] == "U1"  # Slack posts to a user id in their DM with the app
    assert "Your team yesterday" in texts(posted)
    assert posted["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"ref": "r-1"}}

    (asked,) = bot.slack.calls_to("files.getUploadURLExternal")
    assert asked["filename"] == "digest-t1.png" and int(asked["length"]) == len(PNG)
    assert asked["alt_txt"] == CHART.alt
    assert list(bot.slack.uploads.values()) == [PNG]
    (completed,) = bot.slack.calls_to("files.completeUploadExternal")
    assert completed["channel_id"] == "D1"
    assert [file["id"] for file in json.loads(completed["files"])] == list(bot.slack.uploads)
    # Slack takes about one message a second per channel: the chart waits its turn.
    assert time.monotonic() - started >= 0.9


async def test_a_nudge_without_a_chart_uploads_nothing(bot: Bot) -> None:
    await direct(bot, NUDGE)
    assert bot.slack.methods() == ["chat.postMessage"]


async def test_was_delivered_finds_the_ref_in_the_dms_recent_history(bot: Bot) -> None:
    adapter = adapter_of(bot)
    address = Address("slack", "T1", "U1")
    assert not await adapter.was_delivered(address, "n-1")
    await direct(bot, NUDGE)
    await direct(bot, Reply(heading="Another", ref="n-2"))
    assert await adapter.was_delivered(address, "n-1")
    assert await adapter.was_delivered(address, "n-2")
    assert not await adapter.was_delivered(address, "n-3")
    assert not await adapter.was_delivered(Address("slack", "T1", "U2"), "n-1")
    (history, *_) = bot.slack.calls_to("conversations.history")
    assert history["channel"] == "D1" and history["include_all_metadata"] in (True, "true", "1")


async def test_a_429_is_retried_after_its_retry_after_and_delivered_once(bot: Bot) -> None:
    bot.slack.refuse_next["chat.postMessage"] = [429]
    started = time.monotonic()
    await direct(bot, NUDGE)
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert bot.slack.refused == [("chat.postMessage", 429)]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_server_errors_are_retried_with_backoff(bot: Bot) -> None:
    bot.slack.refuse_next["chat.postMessage"] = [500, 503]
    bot.slack.refuse_next["upload"] = [502]
    await direct(bot, DIGEST)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert list(bot.slack.uploads.values()) == [PNG]
    assert len(bot.slack.refused) == 3


async def test_a_server_that_keeps_failing_is_a_failure_to_try_later(bot: Bot) -> None:
    bot.slack.refuse_next["chat.postMessage"] = [500] * 10
    with pytest.raises(SlackApiError):
        await direct(bot, NUDGE)
    assert bot.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "error", ["account_inactive", "token_revoked", "invalid_auth", "user_not_found",
              "channel_not_found", "cannot_dm_bot", "user_disabled"],
)  # fmt: skip
async def test_a_rep_slack_will_never_reach_is_gone(bot: Bot, error: str) -> None:
    bot.slack.errors["chat.postMessage"] = error
    with pytest.raises(RecipientGone):
        await direct(bot, NUDGE)


async def test_other_slack_errors_are_failures_to_try_again(bot: Bot) -> None:
    bot.slack.errors["chat.postMessage"] = "internal_error"
    with pytest.raises(SlackApiError) as raised:
        await direct(bot, NUDGE)
    assert not isinstance(raised.value, RecipientGone)


async def test_a_chart_that_fails_after_the_message_is_logged_not_sent_again(bot: Bot) -> None:
    bot.slack.errors["files.getUploadURLExternal"] = "internal_error"
    await direct(bot, DIGEST)  # the message and its ref arrived: a retry would duplicate it
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


class Installations:
    def __init__(self, bot: object = None, fails: bool = False) -> None:
        self.bot, self.fails = bot, fails

    async def async_find_bot(self, **_: Any) -> object:
        if self.fails:
            raise OSError("the store is down")
        return self.bot


async def test_a_workspace_without_installation_is_gone_and_a_store_failure_is_not() -> None:
    client = AsyncWebClient(token=None)
    with pytest.raises(RecipientGone):
        await BotClients(client, Installations(None), "http://127.0.0.1:9/").direct_client("T1")
    with pytest.raises(OSError):
        await BotClients(client, Installations(fails=True), "http://x/").direct_client("T1")
    clients = BotClients(client, Installations(SimpleNamespace(bot_token="xoxb-t2")), "http://x/")
    try:
        assert (await clients.direct_client("T2")).token == "xoxb-t2"
    finally:
        await clients.close()


async def test_the_pacer_spaces_one_channel_and_not_different_ones() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = Pacer(1.0, clock=lambda: now[0], sleep=sleep, prune_at=4)
    for user in ("U1", "U2", "U3"):
        await pacer.wait(("T1", user))
    assert slept == []
    await pacer.wait(("T1", "U1"))
    await pacer.wait(("T1", "U1"))
    assert slept == [1.0, 2.0]
    for number in range(100):  # a morning of reps, one after the other
        now[0] += 0.5
        await pacer.wait(("T1", f"U{number}x"))
    assert slept == [1.0, 2.0]
    assert len(pacer) <= 8  # slots that have passed are forgotten


async def test_the_ask_button_of_a_nudge_answers_the_rep_alone(bot: Bot) -> None:
    await ask(bot)  # Jane is now one of Rita's prospects
    button = {
        "action_id": f"{replies.ASK}:0",
        "value": prospect_key("Jane Doe", "Acme"),
        "text": {"type": "plain_text", "text": "Ask"},
    }
    before = len(bot.slack.responses)
    assert (await bot.post(bot.click_body(button, ts="5.1"))).status == 200
    answer = (await bot.slack.wait_for_responses(before + 1))[before]
    assert answer["response_type"] == "ephemeral"
    assert "replace_original" not in answer  # the nudge stays as it was
    assert "Leave a voicemail" in texts(answer)


async def test_slash_command_text_with_escaped_mentions_reaches_the_coach_unchanged(
    bot: Bot,
) -> None:
    seen: list[str] = []
    coach = bot.services.coach
    handle = coach.handle

    async def spy(request: Any, parsed: Any = None) -> Reply:
        seen.append(request.text)
        return await handle(request, parsed)

    coach.handle = spy  # type: ignore[method-assign]
    await ask(bot, "team add <@U2|tom> <@U3>")
    assert seen == ["team add <@U2|tom> <@U3>"]
