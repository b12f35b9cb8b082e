"""Messages the bot starts on Teams: a nudge or a digest in the rep's personal chat, its chart
in the card; the connector's limits; who can no longer be reached; an ask from a nudge; and
@mentions as the neutral `<@id|name>`."""

from __future__ import annotations

import base64
import io
import json
import random
import time
from dataclasses import replace

import pytest
from botbuilder.schema import Activity
from PIL import Image as PILImage

from adapters.teams.activities import command_text
from adapters.teams.cards import MAX_CARD_BYTES, render_card
from adapters.teams.images import DATA_URI_PREFIX
from bot import replies
from bot.adapters import Address, Delivery, RecipientGone
from bot.pacing import Pacer
from bot.records import prospect_key
from bot.types import Image, Reply
from tests.adapters.teams.conftest import BOT, PERSONAL_CHAT, TENANT, USER, Teams
from tests.adapters.teams.test_cards import assert_valid_card
from tests.adapters.teams.test_chats import install
from tests.adapters.teams.test_messages import ASK, card_of, texts


def chart_png(width: int = 600, height: int = 320, *, grain: int = 0) -> bytes:
    """A bar chart's kind of picture (flat colours on a background with `grain` levels of
    noise: 0 compresses well, 256 not at all)."""
    chaos = random.Random(7)
    levels = bytes(255 - (value % grain if grain else 0) for value in range(256))
    noise = chaos.randbytes(width * height * 3).translate(levels)
    picture = PILImage.frombytes("RGB", (width, height), noise)
    for bar in range(8):
        box = (width * bar // 9, height // 3 + bar * height // 30, width * bar // 9 + width // 12)
        picture.paste((230, 159, 0) if bar % 2 else (0, 158, 115), (*box, height))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


ALT = "Rita: 12 dials, 3 voicemails left, 1 callback"
DIGEST = Reply(
    heading="Your team last week",
    paragraphs=("12 dials, 3 voicemails.",),
    footer=("docs/nudges.md",),
    image=Image(chart_png(), ALT, "digest-t1-2026-11-23.png"),
    ref="d-1",
)


def picture_of(card: dict[str, object]) -> dict[str, str]:
    (image,) = [e for e in card["body"] if isinstance(e, dict) and e.get("type") == "Image"]  # type: ignore[attr-defined]
    return image


def test_a_chart_is_an_image_in_the_card_before_its_sources() -> None:
    card = render_card(DIGEST)
    assert_valid_card(card)
    image = picture_of(card)
    assert image["altText"] == ALT
    assert image["url"].startswith(DATA_URI_PREFIX)
    assert base64.b64decode(image["url"].removeprefix(DATA_URI_PREFIX)) == DIGEST.image.png  # type: ignore[union-attr]
    assert card["body"].index(image) == len(card["body"]) - 2  # the sources come last


def test_a_chart_too_big_for_a_teams_message_is_drawn_smaller() -> None:
    big = Image(chart_png(2400, 1280, grain=8), ALT, "digest.png")
    assert len(base64.b64encode(big.png)) > MAX_CARD_BYTES
    card = render_card(replace(DIGEST, image=big))
    assert_valid_card(card)
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES
    smaller = base64.b64decode(picture_of(card)["url"].removeprefix(DATA_URI_PREFIX))
    assert PILImage.open(io.BytesIO(smaller)).size[0] < 2400


def test_a_chart_that_cannot_fit_is_its_alt_text() -> None:
    for png in (chart_png(1600, 1600, grain=256), b"not a png" * 5000):
        card = render_card(replace(DIGEST, image=Image(png, ALT, "digest.png")))
        assert_valid_card(card)
        assert "Image" not in [element["type"] for element in card["body"]]
        assert f"Chart: {ALT}" in texts(card)
        assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES


async def test_a_digest_arrives_in_the_personal_chat_with_its_chart(teams: Teams) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    await teams.adapter.deliver(DIGEST, address, Delivery.DIRECT)
    (sent,) = await teams.connector.wait_for(1)
    assert sent["conversation"] == PERSONAL_CHAT and sent["reply_to"] is None
    assert picture_of(card_of(sent))["url"].startswith(DATA_URI_PREFIX)
    assert not await teams.adapter.was_delivered(address, "d-1")  # Teams cannot be asked


async def test_a_chat_the_connector_forbids_is_gone(teams: Teams) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    teams.connector.refuse_conversations[PERSONAL_CHAT] = (403, "BotNotInConversationRoster")
    with pytest.raises(RecipientGone):
        await teams.adapter.deliver(DIGEST, address, Delivery.DIRECT)
    teams.connector.refuse_conversations[PERSONAL_CHAT] = (404, "ConversationNotFound")
    with pytest.raises(RecipientGone):
        await teams.adapter.deliver(DIGEST, address, Delivery.DIRECT)
    assert teams.connector.sent == []


async def test_a_direct_message_with_no_stored_chat_is_gone(teams: Teams) -> None:
    with pytest.raises(RecipientGone):
        await teams.adapter.deliver(DIGEST, Address("teams", TENANT, USER), Delivery.DIRECT)


async def test_a_429_waits_for_its_retry_after_and_the_message_is_sent_once(
    teams: Teams,
) -> None:
    teams.adapter.retry_seconds = 0.01
    teams.connector.answer_first = [429]
    teams.connector.retry_after = "1"
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    await teams.adapter.deliver(DIGEST, address, Delivery.DIRECT)
    first, second = teams.connector.attempts
    assert second - first >= 1.0
    assert len(teams.connector.sent) == 1


async def test_requests_to_one_tenant_are_paced_to_fifty_a_second() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pacer = Pacer(1 / 50, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await pacer.wait("t1")
    await pacer.wait("t2")  # another tenant has its own 50
    assert slept == [0.02, 0.04]
    now[0] = 1.0
    await pacer.wait("t1")
    assert slept == [0.02, 0.04]


async def test_fifty_sends_to_one_tenant_take_about_a_second(teams: Teams) -> None:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    nudge = Reply(heading="Two call-backs are due today")
    started = time.monotonic()
    for _ in range(51):
        await teams.adapter.deliver(nudge, address, Delivery.DIRECT)
    assert time.monotonic() - started >= 0.95
    assert len(teams.connector.sent) == 51


async def test_the_ask_button_of_a_nudge_answers_in_a_new_card(teams: Teams) -> None:
    await teams.post(teams.message(ASK))  # Jane is now one of Rita's prospects
    await teams.connector.wait_for(1)
    jane = prospect_key("Jane Doe", "Acme")
    action = {"verb": replies.ASK, "data": {"action_id": replies.ASK, "value": jane}}
    response = await teams.post(teams.click(action, id="ask-1"))
    assert response.status == 200
    answer = await response.json()
    assert answer["type"] == "application/vnd.microsoft.activity.message"  # the nudge stays
    _, decision = await teams.connector.wait_for(2)
    assert decision["conversation"] == PERSONAL_CHAT and decision["reply_to"] is None
    assert "Leave a voicemail" in texts(card_of(decision))


def mention_of(user_id: str, name: str) -> dict[str, object]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": user_id, "name": name},
    }


def activity(text: str, *mentions: dict[str, object]) -> Activity:
    return Activity().deserialize(
        {"type": "message", "text": text, "recipient": {"id": BOT, "name": "Voicemail Coach"},
         "from": {"id": USER, "name": "Rita Rep"}, "entities": list(mentions)}
    )  # fmt: skip


def test_mentions_become_neutral_tokens_and_the_bots_is_dropped() -> None:
    message = activity(
        "<at>Voicemail Coach</at> team add <at>Tom Lee</at> <at>Ana &amp; Co</at>",
        mention_of(BOT, "Voicemail Coach"),
        mention_of("29:1tom", "Tom Lee"),
        mention_of("29:1ana", "Ana &amp; Co"),
    )
    assert command_text(message) == "team add <@29:1tom|Tom Lee> <@29:1ana|Ana & Co>"


def test_a_mention_token_cannot_be_forged_or_broken_by_a_name() -> None:
    typed = activity("team add \x000\x00 &lt;@29:x|y&gt;")
    assert command_text(typed) == "team add 0 @29:x|y>"
    odd_mention: dict[str, object] = {"type": "mention", "text": "<at>a|b&gt;c</at>",
                   "mentioned": {"id": "29:1odd", "name": "a|b>c"}}  # fmt: skip
    odd = activity("team add <at>a|b&gt;c</at>", odd_mention)
    assert command_text(odd) == "team add <@29:1odd|abc>"
    unknown = activity("team add <at>Nobody</at>")  # Teams sent no entity: the name alone
    assert command_text(unknown) == "team add Nobody"


def test_the_mention_id_is_the_id_a_rep_writes_with() -> None:
    """A rep's Actor.user_id is the 29: id of `from`; a mention names them by the same."""
    message = activity("team add <at>Rita Rep</at>", mention_of(USER, "Rita Rep"))
    assert command_text(message) == f"team add <@{USER}|Rita Rep>"
