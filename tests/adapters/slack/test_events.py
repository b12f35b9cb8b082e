"""The Slack channel end to end: signed requests in, Block Kit out through the response_url."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.records import prospect_key
from tests.adapters.slack.conftest import Bot

ASK = "Jane Doe @ Acme referred by Tom"


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["text"]["text"]: element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def texts(message: dict[str, Any]) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [field["text"] for field in block.get("fields", [])]
        parts += [element.get("text", "") for element in block.get("elements", [])]
    return "\n".join(str(part) for part in parts)


async def ask(bot: Bot, text: str = ASK, **who: Any) -> dict[str, Any]:
    before = len(bot.slack.responses)
    started = time.monotonic()
    response = await bot.post(bot.command_body(text, n=before + 1, **who))
    assert response.status == 200
    assert time.monotonic() - started < 2.5
    return (await bot.slack.wait_for_responses(before + 1))[before]


async def test_slash_command_answers_ephemeral_advice_with_script(bot: Bot) -> None:
    await ask(bot, "me company Northwind")  # a script needs it; Slack's profile has none
    message = await ask(bot)
    assert message["response_type"] == "ephemeral"
    assert message["blocks"][0]["type"] == "header"
    assert "Leave a voicemail" in message["blocks"][0]["text"]["text"]
    script = [b for b in message["blocks"] if b["type"] == "section" and "*Script*" in str(b)]
    assert script and "\n>" in script[0]["text"]["text"]
    assert "Leave a voicemail" in message["text"]
    assert "users.info" in bot.slack.methods()
    ids = [element["action_id"] for element in buttons(message).values()]
    assert len(ids) == len(set(ids)) == 4
    assert buttons(message)["Left it"].get("style") == "primary"


async def test_check_in_button_replaces_the_message_with_the_next_step(bot: Bot) -> None:
    left_it = buttons(await ask(bot))["Left it"]
    response = await bot.post(bot.click_body(left_it, ts="2.1"))
    assert response.status == 200
    message = (await bot.slack.wait_for_responses(2))[1]
    assert message["replace_original"] is True
    assert "Logged" in message["blocks"][0]["text"]["text"]
    assert "Next call" in texts(message) or "Paused" in texts(message)


async def test_retried_and_double_clicks_log_once(bot: Bot) -> None:
    left_it = buttons(await ask(bot))["Left it"]
    body = bot.click_body(left_it, ts="3.1")
    assert (await bot.post(body)).status == 200
    await bot.slack.wait_for_responses(2)
    assert (await bot.post(body, headers={"X-Slack-Retry-Num": "1"})).status == 200
    await bot.slack.wait_for_responses(3)
    assert (await bot.post(bot.click_body(left_it, ts="3.2"))).status == 200
    replies = await bot.slack.wait_for_responses(4)
    headings = [r["blocks"][0]["text"]["text"] for r in replies[1:]]
    assert "Logged" in headings[0]
    assert all("Already logged" in heading for heading in headings[1:])
    key = left_it["value"].split("|", 2)[2]
    entries = await bot.services.store.prospect_log("T1", "U1", key)
    assert len(entries) == 1


async def test_forged_signature_is_refused_and_nothing_is_stored(bot: Bot) -> None:
    response = await bot.post(bot.command_body(ASK), secret="not-the-secret")
    assert response.status == 401
    await _nothing_happened(bot)


async def test_stale_timestamp_is_refused_and_nothing_is_stored(bot: Bot) -> None:
    response = await bot.post(bot.command_body(ASK), timestamp=int(time.time()) - 6 * 60)
    assert response.status == 401
    await _nothing_happened(bot)


async def _nothing_happened(bot: Bot) -> None:
    await asyncio.sleep(0.2)
    assert bot.slack.responses == []
    assert await bot.services.store.get_rep("T1", "U1") is None
    key = prospect_key("Jane Doe", "Acme")
    assert await bot.services.store.get_prospect("T1", "U1", key) is None


async def test_text_the_grammar_rejects_gets_an_ephemeral_error(bot: Bot) -> None:
    message = await ask(bot, "log Jane Doe @ Acme teleported")
    assert message["response_type"] == "ephemeral"
    assert "didn't understand" in message["blocks"][0]["text"]["text"]
    assert "actions" not in [block["type"] for block in message["blocks"]]


async def test_a_command_with_the_word_payload_is_read_as_a_command(bot: Bot) -> None:
    message = await ask(bot, "Pat payload @ Acme")  # bolt looks for "payload", case and all
    assert "Pat payload @ Acme" in str(message["blocks"])
    key = prospect_key("Pat payload", "Acme")
    assert await bot.services.store.get_prospect("T1", "U1", key) is not None


async def test_health_and_readiness(bot: Bot) -> None:
    assert (await bot.client.get("/healthz")).status == 200
    assert (await bot.client.get("/readyz")).status == 200


async def test_tenant_is_the_team_same_user_id_sees_separate_data(bot: Bot) -> None:
    await ask(bot, team="T1")
    left_it = buttons(await ask(bot, "queue", team="T2"))
    assert left_it == {}
    other = await ask(bot, "history Jane Doe @ Acme", team="T2")
    assert "not found" in other["blocks"][0]["text"]["text"].lower()
    mine = await ask(bot, "history Jane Doe @ Acme", team="T1")
    assert "History" in mine["blocks"][0]["text"]["text"]


async def test_admin_role_and_profile_come_from_users_info_cached(bot: Bot) -> None:
    bot.slack.admins.add("U9")
    message = await ask(bot, "me", user="U9")
    assert "admin" in texts(message)
    assert "Rita Rep" in texts(message)
    await ask(bot, "me", user="U9")
    assert bot.slack.methods().count("users.info") == 1


async def test_users_info_failure_still_answers(bot: Bot) -> None:
    bot.slack.fail_users_info = True
    message = await ask(bot, "help")
    assert "what you can ask" in message["blocks"][0]["text"]["text"]


async def test_slash_command_and_check_in_on_redis(redis_bot: Bot) -> None:
    message = await ask(redis_bot)
    assert "Leave a voicemail" in message["blocks"][0]["text"]["text"]
    left_it = buttons(message)["Left it"]
    for count, ts in ((2, "9.1"), (3, "9.2")):
        assert (await redis_bot.post(redis_bot.click_body(left_it, ts=ts))).status == 200
        replies = await redis_bot.slack.wait_for_responses(count)
    assert "Logged" in replies[1]["blocks"][0]["text"]["text"]
    assert "Already logged" in replies[2]["blocks"][0]["text"]["text"]
    key = left_it["value"].split("|", 2)[2]
    assert len(await redis_bot.services.store.prospect_log("T1", "U1", key)) == 1


async def test_a_failure_after_the_ack_leaves_the_rep_an_apology(bot: Bot) -> None:
    await bot.services.store.close()  # the store is gone: the coach cannot answer
    message = await ask(bot)
    assert message["response_type"] == "ephemeral"
    assert message["text"].startswith("Sorry, something went wrong on my side")
    assert "Nothing was saved" in str(message["blocks"])
    assert "actions" not in [block["type"] for block in message["blocks"]]
