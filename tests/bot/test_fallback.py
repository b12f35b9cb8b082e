"""While the store is down: a decision from the policy alone, help and grammar errors as ever,
and a clear refusal for everything that reads or saves records. The coach, on a store that
works, is the reference for the decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import replies
from bot.coach import Coach
from bot.commands import AskDecision, parse
from bot.fallback import reply_without_store
from bot.store.sqlite import SQLiteStore
from bot.types import Actor, ButtonPress, Platform, Reply, Request, Tone
from tests.adapters.teams.conftest import (  # noqa: F401  (the fixtures a Teams server needs)
    TENANT,
    USER,
    Teams,
    fake_connector,
    fake_login,
    fake_openid,
    teams,
    teams_env,
)
from tests.adapters.teams.test_messages import card_of
from tests.adapters.teams.test_messages import texts as teams_texts
from tests.adapters.teams.test_threads import channel_message

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
RITA = Actor(Platform.SLACK, "T1", "U1", display_name="Rita Rep", timezone="America/New_York")


def asked(text: str) -> Reply:
    return reply_without_store(Request(actor=RITA, text=text), NOW)


def words(reply: Reply) -> str:
    return "\n".join((reply.heading, *reply.paragraphs))


async def test_a_decision_is_the_policys_own_and_says_history_is_unavailable(
    tmp_path: Path,
) -> None:
    text = "Jane Doe at Acme referred by Sam"
    alone = asked(text)
    store = await SQLiteStore.open(tmp_path / "t.db")
    try:
        full = await Coach(store, clock=lambda: NOW).handle(Request(actor=RITA, text=text))
    finally:
        await store.close()
    assert alone.paragraphs[0] == replies.HISTORY_UNAVAILABLE
    assert "Nothing was saved" in alone.paragraphs[0]
    # The same advice, facts and reasons as the coach gives for a first call; then the coach
    # goes on to what the rep's profile lacks for a script, which cannot be read now.
    assert (alone.heading, alone.facts) == (full.heading, full.facts)
    assert alone.paragraphs[1:] == full.paragraphs[: len(alone.paragraphs) - 1]
    assert alone.buttons == () and alone.script is None  # nothing to check in, no profile


def test_the_facts_typed_change_the_decision_as_they_do_for_the_coach() -> None:
    plain, referred = asked("Jane Doe at Acme"), asked("Jane Doe at Acme referred by Sam")
    assert isinstance(parse("Jane Doe at Acme referred by Sam"), AskDecision)
    assert words(plain) != words(referred)


@pytest.mark.parametrize(
    "text", ["queue", "log Jane Doe @ Acme left", "history Jane Doe at Acme", "me phone 555 0100",
             "forget me", "team", "settings final-attempt 4", "export"],
)  # fmt: skip
def test_what_needs_records_is_refused_saying_nothing_was_saved(text: str) -> None:
    reply = asked(text)
    assert reply.heading == replies.STORE_DOWN_HEADING
    assert reply.paragraphs == (replies.STORE_DOWN_COMMAND,)
    assert reply.tone is Tone.ERROR


def test_a_check_in_click_is_refused_asking_to_click_again() -> None:
    button = ButtonPress(replies.CHECK_IN, "left:2026-12-02T15:00:00+00:00:jane doe@acme")
    reply = reply_without_store(Request(actor=RITA, button=button), NOW)
    assert reply.heading == replies.STORE_DOWN_HEADING
    assert reply.paragraphs == (replies.STORE_DOWN_CLICK,)


def test_help_and_grammar_errors_need_no_store() -> None:
    assert asked("help") == replies.help_reply()
    assert asked("histroy Jane Doe @ Acme").tone is Tone.ERROR
    assert asked("histroy Jane Doe @ Acme").heading != replies.STORE_DOWN_HEADING


def test_a_decision_form_is_decided_or_its_errors_shown() -> None:
    form = {"name": "Jane Doe", "company": "Acme"}
    decided = reply_without_store(Request(actor=RITA, form=form), NOW)
    assert decided.paragraphs[0] == replies.HISTORY_UNAVAILABLE
    wrong = reply_without_store(Request(actor=RITA, form={"name": "", "company": ""}), NOW)
    assert wrong.field_errors


# Teams: a message whose job cannot be queued (Redis is down) is answered by the web tier.


@pytest.fixture
def queue_down(teams: Teams, monkeypatch: pytest.MonkeyPatch) -> Teams:  # noqa: F811
    async def redis_is_down(_: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(teams.adapter, "enqueue", redis_is_down)
    return teams


async def test_teams_a_decision_asked_in_the_personal_chat_is_the_policys_alone(
    queue_down: Teams,
) -> None:
    assert (await queue_down.post(queue_down.message("Jane Doe at Acme"))).status == 200
    (sent,) = await queue_down.connector.wait_for(1)
    said = teams_texts(card_of(sent))
    assert "Jane Doe @ Acme" in said and replies.HISTORY_UNAVAILABLE in said
    assert await queue_down.services.store.get_rep(TENANT, USER) is None


async def test_teams_a_check_in_typed_or_a_decision_asked_in_a_channel_is_refused(
    queue_down: Teams,
) -> None:
    typed = queue_down.message("log Jane Doe @ Acme left")
    in_channel = channel_message(queue_down)  # a decision asked with an @mention
    for activity in (typed, in_channel):
        assert (await queue_down.post(activity)).status == 200
    for sent in await queue_down.connector.wait_for(2):
        said = teams_texts(card_of(sent))
        assert replies.STORE_DOWN_HEADING in said and replies.STORE_DOWN_COMMAND in said
        assert "Jane Doe" not in said  # a prospect's name stays out of a channel
