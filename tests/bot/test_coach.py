"""The coach end to end: Requests in, Replies out, a real store between."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.coach import Coach
from bot.commands import USAGE
from bot.records import DEFAULT_TEAM, DigestCadence, Outcome, ProspectRecord, prospect_key
from bot.replies import ASK, queue_reply
from bot.store import Store
from bot.types import Actor, ButtonPress, Platform, Reply, Request, Role, Tone

NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, mid-morning in New York. Thursday the 26th is Thanksgiving.
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
PHONE = "+1 555 010 0100"
PHONE_SLOW = "+1, 555, 010, 0100"
JANE = "Jane Doe @ Acme"
JANE_KEY = prospect_key("Jane Doe", "Acme")

SAM = Actor(Platform.SLACK, "T1", "U1", "Sam Lee", "America/New_York", role=Role.REP)
ALEX = Actor(Platform.SLACK, "T1", "U2", "Alex Kim", "America/New_York", role=Role.REP)
SAM_ELSEWHERE = Actor(Platform.SLACK, "T2", "U1", "Sam Other", "America/New_York", role=Role.REP)
MORGAN = Actor(Platform.SLACK, "T1", "M1", "Morgan Reyes", "America/New_York", role=Role.MANAGER)
DANA = Actor(Platform.SLACK, "T1", "M2", "Dana Cruz", "America/Chicago", role=Role.MANAGER)
CASEY = Actor(Platform.SLACK, "T1", "U3", "Casey Wu", "America/New_York", role=Role.REP)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Bot:
    store: Store
    clock: Clock
    coach: Coach
    keys: int = 0
    # (tenant, user id) of each schedule change the coach announced, in order
    schedule_changes: list[tuple[str, str]] = field(default_factory=list)

    async def note_schedule_change(self, tenant: str, user_id: str) -> None:
        self.schedule_changes.append((tenant, user_id))

    def rescheduled(self) -> set[str]:
        """The users whose schedule changed since the last call."""
        users = {user for _, user in self.schedule_changes}
        self.schedule_changes.clear()
        return users

    async def say(self, actor: Actor, text: str, key: str | None = None) -> Reply:
        return await self.coach.handle(Request(actor, text=text, idempotency_key=key))

    async def press(self, actor: Actor, decision: Reply, label: str) -> Reply:
        """Press a button of a decision reply as a chat platform would: a new event id each time."""
        button = next(b for b in decision.buttons if b.label == label)
        self.keys += 1
        request = Request(
            actor,
            button=ButtonPress(button.action_id, button.value),
            idempotency_key=f"e{self.keys}",
        )
        return await self.coach.handle(request)

    async def log(self, actor: Actor = SAM, key: str = JANE_KEY) -> list[Outcome]:
        """The prospect's logged outcomes, oldest first."""
        entries = await self.store.prospect_log(actor.tenant, actor.user_id, key)
        return [entry.outcome for entry in reversed(entries)]

    async def export(self, actor: Actor) -> dict[str, Any]:
        reply = await self.say(actor, "export")
        document: dict[str, Any] = json.loads(reply.paragraphs[0])
        return document

    async def next_call(self, actor: Actor = SAM, key: str = JANE_KEY) -> datetime:
        record = await self.store.get_prospect(actor.tenant, actor.user_id, key)
        assert record is not None
        assert record.next_call_start is not None
        return record.next_call_start


@pytest.fixture
async def bot(store: Store) -> Bot:
    """The coach on each store in turn (tests/conftest.py), with a clock the test moves."""
    clock = Clock(MONDAY)
    bot = Bot(store, clock, Coach(store, clock=clock))
    bot.coach.on_schedule_change = bot.note_schedule_change
    for line in (f"me phone {PHONE}", "me company Northwind"):
        assert (await bot.say(SAM, line)).tone is Tone.DONE
    bot.rescheduled()
    return bot


def fact(reply: Reply, label: str) -> str:
    values = [f.value for f in reply.facts if f.label == label]
    assert values, f"no fact {label!r} in {reply.facts}"
    return values[0]


def text_of(reply: Reply) -> str:
    return "\n".join((reply.heading, *reply.paragraphs, *(f.value for f in reply.facts)))


# --- decisions ----------------------------------------------------------------------------


async def test_the_scenario_five_dials_to_the_final_voicemail_then_the_recycle(bot: Bot) -> None:
    first = await bot.say(SAM, "Jane Doe @ Acme known tz America/New_York")
    assert first.heading == f"Hang up: no message · {JANE}"
    assert first.tone is Tone.DECISION
    assert first.script is None
    assert fact(first, "Attempt") == "1 of this cycle"
    assert fact(first, "Call back") == "Tue 24 Nov, 16:30-18:00 your time"
    logged = await bot.press(SAM, first, "Skipped")
    assert logged.heading == f"Logged: hung up without a message · {JANE}"
    assert "You followed the advice." in logged.paragraphs

    # Each next dial happens at the start of the window the bot gave.
    for attempt in (2, 3, 4):
        bot.clock.now = await bot.next_call()
        reply = await bot.say(SAM, JANE)
        assert reply.heading == f"Hang up: no message · {JANE}"
        assert fact(reply, "Attempt") == f"{attempt} of this cycle"
        await bot.press(SAM, reply, "Skipped")
    # Thanksgiving is skipped: the dials fell on Tue 24, Wed 25, Fri 27; the fifth is Mon 30.
    bot.clock.now = await bot.next_call()
    assert bot.clock.now == datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK)

    final = await bot.say(SAM, JANE)
    assert final.heading == f"Leave your final voicemail · {JANE}"
    assert final.tone is Tone.DECISION
    assert fact(final, "Attempt") == "5 of this cycle"
    assert fact(final, "Paused until") == "Sun 28 Feb 2027"
    assert fact(final, "Call back") == "Mon 01 Mar, 08:00-09:00 your time"
    assert final.script is not None
    assert final.script.text.startswith("Hi Jane, it's Sam Lee from Northwind.")
    assert PHONE in final.script.text
    assert PHONE_SLOW in final.script.text
    assert "last message for a while" in final.script.text
    assert 0 < final.script.seconds <= 30
    assert any(line.endswith("(final-attempt)") for line in final.footer)
    assert [b.label for b in final.buttons if b.primary] == ["Left it"]

    logged = await bot.press(SAM, final, "Left it")
    assert logged.heading == f"Logged: left a voicemail · {JANE}"
    assert "Paused until Sun 28 Feb 2027: I'll put them in your queue then." in logged.paragraphs
    assert await bot.log() == [Outcome.SKIPPED] * 4 + [Outcome.LEFT]

    # A dial during the pause: don't call.
    bot.clock.now = datetime(2026, 12, 7, 10, 0, tzinfo=NEW_YORK)
    paused = await bot.say(SAM, JANE)
    assert paused.heading == f"Paused: don't call · {JANE}"
    assert fact(paused, "Paused until") == "Sun 28 Feb 2027"
    assert paused.script is None

    # The recycle date has come: the lead shows in the queue, and a new cycle starts.
    bot.clock.now = datetime(2027, 3, 1, 8, 30, tzinfo=NEW_YORK)
    queue = await bot.say(SAM, "queue")
    assert queue.heading == "Your queue: 1 to call"
    assert queue.paragraphs == (
        f"{JANE}: Mon 01 Mar, 08:00-09:00 your time (pause ended Sun 28 Feb 2027)",
    )
    again = await bot.say(SAM, JANE)
    assert again.heading == f"Hang up: no message · {JANE}"
    assert fact(again, "Attempt") == "1 of this cycle"
    await bot.press(SAM, again, "Skipped")
    history = await bot.say(SAM, f"history {JANE}")
    assert fact(history, "This cycle") == "1 dial, 0 voicemails"
    # Dialled again, the lead is no longer a recycle due; its next call is tomorrow.
    queue = await bot.say(SAM, "queue")
    assert queue.heading == "Your queue: 0 to call"


async def test_a_referral_gets_a_script_naming_the_referrer(bot: Bot) -> None:
    reply = await bot.say(SAM, "Jane Doe @ Acme referred by Tom Ruiz")
    assert reply.heading == f"Leave a voicemail · {JANE}"
    assert reply.script is not None
    assert "Tom Ruiz suggested I give you a call" in reply.script.text
    assert "Hi Jane, it's Sam Lee from Northwind." in reply.script.text
    assert PHONE in reply.script.text
    assert PHONE_SLOW in reply.script.text
    assert "Tom Ruiz referred you" in reply.paragraphs[0]
    assert any(line.endswith("(referral)") for line in reply.footer)
    assert fact(reply, "Call back") == "Wed 25 Nov, 16:30-18:00 your time"


async def test_the_facts_are_remembered_for_the_next_ask(bot: Bot) -> None:
    first = await bot.say(SAM, "Jane Doe @ Acme referred by Tom Ruiz")
    await bot.press(SAM, first, "Skipped")
    bot.clock.advance(days=1)
    again = await bot.say(SAM, "jane  DOE at ACME")
    assert again.heading.startswith("Leave a voicemail")
    assert again.script is not None
    assert "Tom Ruiz" in again.script.text
    assert fact(again, "Attempt") == "2 of this cycle"


async def test_a_followup_and_a_zone_are_remembered(bot: Bot) -> None:
    await bot.say(SAM, 'Jane Doe @ Acme proposal "Q3 rollout" tz America/Chicago')
    again = await bot.say(SAM, JANE)
    assert again.script is not None
    assert "following up on the proposal for Q3 rollout" in again.script.text
    # Sam is in New York, Jane in Chicago: the window is shown in both.
    assert fact(again, "Call back") == ("Wed 25 Nov, 17:30-19:00 your time (16:30-18:00 for Jane)")
    history = await bot.say(SAM, f"history {JANE}")
    assert fact(history, "Waiting on") == "the proposal for Q3 rollout"


async def test_a_missing_phone_is_pointed_out_when_a_script_needs_it(bot: Bot) -> None:
    reply = await bot.say(ALEX, "Jane Doe @ Acme referred by Tom")
    assert reply.script is None
    assert "/voicemail me phone <your number>" in reply.paragraphs


async def test_a_grammar_error_gets_the_usage_and_stores_nothing(bot: Bot) -> None:
    reply = await bot.say(SAM, "log Jane Doe @ Acme")
    assert reply.tone is Tone.ERROR
    assert reply.heading == "I didn't understand that"
    assert f"Usage: /voicemail {USAGE['log'].line}" in reply.paragraphs
    assert f"Example: /voicemail {USAGE['log'].example}" in reply.paragraphs
    assert (await bot.export(SAM))["prospects"] == []


# --- idempotency --------------------------------------------------------------------------


async def test_pressing_the_same_button_twice_logs_once(bot: Bot) -> None:
    decision = await bot.say(SAM, JANE)
    first = await bot.press(SAM, decision, "Left it")
    second = await bot.press(SAM, decision, "Left it")
    assert first.heading.startswith("Logged:")
    assert second.heading.startswith("Already logged")
    assert await bot.log() == [Outcome.LEFT]
    history = await bot.say(SAM, f"history {JANE}")
    assert fact(history, "This cycle") == "1 dial, 1 voicemail"


async def test_two_buttons_of_one_decision_log_once(bot: Bot) -> None:
    decision = await bot.say(SAM, JANE)
    await bot.press(SAM, decision, "Left it")
    second = await bot.press(SAM, decision, "Reached them")
    assert second.heading == f"Already logged · {JANE}"
    assert await bot.log() == [Outcome.LEFT]


async def test_the_buttons_of_the_next_decision_log_again(bot: Bot) -> None:
    first = await bot.say(SAM, JANE)
    await bot.press(SAM, first, "Skipped")
    bot.clock.advance(days=1)
    second = await bot.say(SAM, JANE)
    assert (await bot.press(SAM, second, "Skipped")).heading.startswith("Logged:")
    assert await bot.log() == [Outcome.SKIPPED, Outcome.SKIPPED]


async def test_the_same_log_line_with_the_same_key_logs_once(bot: Bot) -> None:
    first = await bot.say(SAM, "log Jane Doe @ Acme left", key="slack-trigger-1")
    second = await bot.say(SAM, "log Jane Doe @ Acme left", key="slack-trigger-1")
    assert first.heading == f"Logged: left a voicemail · {JANE}"
    assert second.heading.startswith("Already logged")
    assert await bot.log() == [Outcome.LEFT]
    await bot.say(SAM, "log Jane Doe @ Acme skipped", key="slack-trigger-2")
    assert await bot.log() == [Outcome.LEFT, Outcome.SKIPPED]


# --- isolation ----------------------------------------------------------------------------


@pytest.mark.parametrize("stranger", [ALEX, SAM_ELSEWHERE], ids=["same-tenant", "other-tenant"])
async def test_another_rep_cannot_see_or_touch_a_reps_prospects(bot: Bot, stranger: Actor) -> None:
    decision = await bot.say(SAM, JANE)
    await bot.say(SAM, "log Jane Doe @ Acme left")
    bot.clock.now = datetime(2026, 11, 25, 17, 0, tzinfo=NEW_YORK)  # Sam's call-back is due
    assert "1 to call" in (await bot.say(SAM, "queue")).heading

    for text in (f"history {JANE}", f"forget {JANE}"):
        reply = await bot.say(stranger, text)
        assert reply.heading == "Prospect not found"
        assert reply.tone is Tone.ERROR
    pressed = await bot.press(stranger, decision, "Reached them")
    assert pressed.heading == "Prospect not found"

    queue = await bot.say(stranger, "queue")
    assert queue.heading == "Your queue: 0 to call"
    export = await bot.export(stranger)
    assert export["prospects"] == []
    assert export["check_ins"] == []

    # Sam's prospect is untouched.
    assert await bot.log() == [Outcome.LEFT]
    assert (await bot.say(SAM, f"history {JANE}")).heading == f"History · {JANE}"
    assert len((await bot.export(SAM))["prospects"]) == 1


async def test_the_same_prospect_name_is_a_different_prospect_for_each_rep(bot: Bot) -> None:
    await bot.say(SAM, "Jane Doe @ Acme referred by Tom")
    reply = await bot.say(ALEX, JANE)
    assert reply.heading == f"Dial 0, then hang up · {JANE}"
    assert fact(reply, "Attempt") == "1 of this cycle"


# --- roles and settings -------------------------------------------------------------------


async def test_a_rep_may_not_see_the_team_digest(bot: Bot) -> None:
    reply = await bot.say(SAM, "team")
    assert reply.heading == "Managers only"
    assert reply.tone is Tone.ERROR


async def test_a_rep_may_read_but_not_change_the_settings(bot: Bot) -> None:
    before = await bot.store.get_team(SAM.tenant, DEFAULT_TEAM)
    shown = await bot.say(SAM, "settings")
    assert shown.heading == "Team settings"
    assert fact(shown, "final-attempt") == "5"
    for text in ("settings final-attempt 4", "settings playbook live-only"):
        reply = await bot.say(SAM, text)
        assert reply.heading == "Managers only"
        assert reply.tone is Tone.ERROR
    assert await bot.store.get_team(SAM.tenant, DEFAULT_TEAM) == before
    assert fact(await bot.say(SAM, "settings"), "playbook") == "balanced"


async def test_a_managers_final_attempt_setting_changes_the_reps_decisions(bot: Bot) -> None:
    saved = await bot.say(MORGAN, "settings final-attempt 4")
    assert saved.heading == "Saved: final-attempt"
    assert fact(saved, "final-attempt") == "4"
    await bot.say(SAM, "Jane Doe @ Acme known")
    for _ in range(3):
        reply = await bot.say(SAM, JANE)
        assert reply.heading.startswith("Hang up")
        await bot.press(SAM, reply, "Skipped")
        bot.clock.advance(days=1)
    fourth = await bot.say(SAM, JANE)
    assert fourth.heading == f"Leave your final voicemail · {JANE}"
    assert fact(fourth, "Attempt") == "4 of this cycle"
    assert "Attempt 4 with no conversation" in fourth.paragraphs[0]


async def test_a_managers_settings_do_not_reach_another_tenant(bot: Bot) -> None:
    await bot.say(MORGAN, "settings playbook live-only")
    assert fact(await bot.say(SAM, "settings"), "playbook") == "live-only"
    assert fact(await bot.say(SAM_ELSEWHERE, "settings"), "playbook") == "balanced"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("settings final-attempt 12", "from 3 to 6"),
        ("settings final-attempt four", "from 3 to 6"),
        ("settings recycle-days 30", "from 90 to 120"),
        ("settings min-gap 0", "from 1 to 4"),
        ("settings early-window 13:00-14:00", "06:00-12:00"),
        ("settings late-window 17:00-17:10", "at least 30 minutes"),
        ("settings holidays-country Narnia", "ISO 3166"),
    ],
)
async def test_a_bad_setting_names_what_is_accepted_and_stores_nothing(
    bot: Bot, text: str, accepted: str
) -> None:
    before = await bot.store.get_team(MORGAN.tenant, DEFAULT_TEAM)
    reply = await bot.say(MORGAN, text)
    assert reply.tone is Tone.ERROR
    assert reply.heading == "Setting not saved"
    assert accepted in reply.paragraphs[0]
    setting = text.split()[1]
    assert reply.paragraphs[-1].startswith(f"Example: /voicemail settings {setting} ")
    assert await bot.store.get_team(MORGAN.tenant, DEFAULT_TEAM) == before


# --- the profile --------------------------------------------------------------------------


async def test_a_bad_phone_is_rejected_and_not_stored(bot: Bot) -> None:
    reply = await bot.say(SAM, "me phone abc")
    assert reply.tone is Tone.ERROR
    assert reply.heading == "Your phone was not saved"
    assert "+1 555 010 0100" in reply.paragraphs[0]
    rep = await bot.store.get_rep(SAM.tenant, SAM.user_id)
    assert rep is not None
    assert rep.phone == PHONE
    assert fact(await bot.say(SAM, "me"), "Phone") == PHONE


async def test_a_bad_time_zone_is_rejected_and_not_stored(bot: Bot) -> None:
    reply = await bot.say(SAM, "me timezone Mars/Olympus")
    assert reply.tone is Tone.ERROR
    assert "IANA time zone" in reply.paragraphs[0]
    assert fact(await bot.say(SAM, "me"), "Time zone") == "America/New_York"


async def test_the_profile_fields_are_saved(bot: Bot) -> None:
    await bot.say(SAM, "me name Samantha Lee")
    await bot.say(SAM, "me pitch we help finance teams close the books in half the time")
    profile = await bot.say(SAM, "me")
    assert fact(profile, "Name") == "Samantha Lee"
    assert fact(profile, "Company") == "Northwind"
    assert fact(profile, "Pitch") == "we help finance teams close the books in half the time"
    assert fact(profile, "Role") == "rep"
    reply = await bot.say(SAM, "Jane Doe @ Acme new in role")
    assert reply.script is not None
    assert "Samantha Lee" in reply.script.text
    assert "we help finance teams close the books in half the time" in reply.script.text


async def test_my_time_zone_is_used_for_the_call_back_text(bot: Bot) -> None:
    saved = await bot.say(SAM, "me timezone Europe/Paris")
    assert saved.heading == "Saved your time zone"
    rep = await bot.store.get_rep(SAM.tenant, SAM.user_id)
    assert rep is not None
    assert rep.timezone == "Europe/Paris"
    reply = await bot.say(SAM, "Jane Doe @ Acme tz America/New_York")
    # Jane's late window, 16:30-18:00 in New York, is 22:30-00:00 in Paris.
    assert fact(reply, "Call back") == "Tue 24 Nov, 22:30-00:00 your time (16:30-18:00 for Jane)"


# --- queue, team, forget, export, help ----------------------------------------------------


async def test_the_queue_lists_the_call_back_due_two_business_days_after_a_voicemail(
    bot: Bot,
) -> None:
    await bot.say(SAM, "log Jane Doe @ Acme left")
    await bot.say(SAM, "log Bob Roe @ Initech skipped")
    bot.clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=NEW_YORK)
    tuesday = await bot.say(SAM, "today")
    assert tuesday.heading == "Your queue: 1 to call"
    assert tuesday.paragraphs == ("Bob Roe @ Initech: Tue 24 Nov, 16:30-18:00 your time",)
    bot.clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=NEW_YORK)
    wednesday = await bot.say(SAM, "queue")
    assert wednesday.heading == "Your queue: 2 to call"
    assert wednesday.paragraphs == (
        "Bob Roe @ Initech: Tue 24 Nov, 16:30-18:00 your time",
        f"{JANE}: Wed 25 Nov, 16:30-18:00 your time",
    )


def test_the_queue_lists_a_recycled_lead_once() -> None:
    def record(name: str, window: bool, recycle_on: date | None) -> ProspectRecord:
        start = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK) if window else None
        end = start + timedelta(hours=1) if start else None
        return ProspectRecord(
            "T1", "U1", prospect_key(name, "Acme"), name, "Acme",
            recycle_on=recycle_on, next_call_start=start, next_call_end=end,
        )  # fmt: skip

    back = date(2027, 2, 28)
    due = [record("Ann Fox", True, None), record("Bo Lin", True, back)]
    recycles = [record("Bo Lin", True, back), record("Cy Dunn", False, back)]
    reply = queue_reply(due, recycles, NEW_YORK)
    assert reply.heading == "Your queue: 3 to call"
    assert reply.paragraphs == (
        "Ann Fox @ Acme: Mon 01 Mar, 08:00-09:00 your time",
        "Bo Lin @ Acme: Mon 01 Mar, 08:00-09:00 your time (pause ended Sun 28 Feb 2027)",
        "Cy Dunn @ Acme: pause ended Sun 28 Feb 2027, start a new series",
    )


async def test_an_empty_queue_says_so(bot: Bot) -> None:
    reply = await bot.say(SAM, "queue")
    assert reply.heading == "Your queue: 0 to call"
    assert "Nothing due today" in reply.paragraphs[0]


async def test_the_team_digest_counts_the_week(bot: Bot) -> None:
    # Eight days ago: outside the digest.
    bot.clock.now = MONDAY - timedelta(days=8)
    await bot.say(SAM, "log Old Lead @ Gone left")
    bot.clock.now = MONDAY
    decision = await bot.say(SAM, "Jane Doe @ Acme referred by Tom")  # advised: leave
    await bot.press(SAM, decision, "Left it")  # followed
    decision = await bot.say(SAM, "Bob Roe @ Initech known")  # advised: hang up
    await bot.press(SAM, decision, "Left it")  # not followed
    await bot.say(ALEX, "log Cy Poe @ Hooli left")  # no advice asked
    await bot.say(ALEX, "log Di Low @ Vandelay live")
    await bot.say(ALEX, "log Ed Moe @ Pied Piper meeting")
    await bot.say(ALEX, "log Fay Fox @ Globex not-interested")
    await bot.say(ALEX, "log Gus Hay @ Umbrella no-answer")
    await bot.say(SAM, "log Jane Doe @ Acme called-back")
    await bot.say(SAM_ELSEWHERE, "log Hal Ito @ Elsewhere left")  # another tenant
    bot.clock.advance(minutes=5)

    digest = await bot.say(MORGAN, "team")
    assert digest.heading.startswith("Team digest: ")
    assert digest.heading.endswith("Mon 16 Nov-Mon 23 Nov")
    assert fact(digest, "Dials") == "7 (+6)"  # the lead of 8 days ago: the week before
    assert fact(digest, "Connects") == "3 (+3)"
    assert fact(digest, "Voicemails left") == "3 (+2), 2.2 min"
    assert fact(digest, "Callbacks from voicemails").startswith("1 (+1), rate 33%")
    assert fact(digest, "Advice followed") == "1 of 2, 50%"
    assert [line.split(":")[0] for line in digest.paragraphs[1:]] == ["Sam Lee", "Alex Kim"]
    assert digest.image is not None and digest.image.png.startswith(b"\x89PNG")


async def test_the_team_digest_of_a_quiet_team(bot: Bot) -> None:
    digest = await bot.say(MORGAN, "team")
    assert fact(digest, "Dials") == "0 (same)"
    assert digest.paragraphs == ("No check-ins in this period or the one before.",)


async def test_forget_erases_the_prospect_and_its_history(bot: Bot) -> None:
    await bot.say(SAM, "Jane Doe @ Acme referred by Tom")
    await bot.say(SAM, "log Jane Doe @ Acme left a warm message")
    await bot.say(SAM, "log Bob Roe @ Initech skipped")
    reply = await bot.say(SAM, "forget jane doe @ acme")
    assert reply.heading == "Forgotten: jane doe @ acme"
    assert await bot.log() == []
    assert (await bot.say(SAM, f"history {JANE}")).heading == "Prospect not found"
    assert (await bot.say(SAM, f"forget {JANE}")).heading == "Prospect not found"
    export = await bot.export(SAM)
    assert [p["name"] for p in export["prospects"]] == ["Bob Roe"]
    assert [c["prospect_key"] for c in export["check_ins"]] == [prospect_key("Bob Roe", "Initech")]
    fresh = await bot.say(SAM, JANE)
    assert fresh.heading.startswith("Dial 0")
    assert fact(fresh, "Attempt") == "1 of this cycle"


async def test_export_returns_the_profile_prospects_and_check_ins(bot: Bot) -> None:
    await bot.say(SAM, "Jane Doe @ Acme referred by Tom Ruiz region US-FL")
    await bot.say(SAM, "log Jane Doe @ Acme left asked for Q3")
    reply = await bot.say(SAM, "export")
    assert reply.heading == "Your data"
    document = json.loads(reply.paragraphs[0])
    assert document["profile"]["phone"] == PHONE
    assert document["profile"]["company"] == "Northwind"
    assert document["profile"]["user_id"] == "U1"
    [jane] = document["prospects"]
    assert (jane["name"], jane["company"], jane["referred_by"], jane["region"]) == (
        "Jane Doe", "Acme", "Tom Ruiz", "US-FL",
    )  # fmt: skip
    [entry] = document["check_ins"]
    assert (entry["outcome"], entry["note"]) == ("left", "asked for Q3")


async def test_help_lists_every_command_with_an_example(bot: Bot) -> None:
    for text in ("help", ""):
        reply = await bot.say(SAM, text)
        assert reply.heading.startswith("Voicemail Coach")
        body = "\n".join(reply.paragraphs)
        for usage in USAGE.values():
            assert f"/voicemail {usage.line}" in body
            assert f"Example: /voicemail {usage.example}" in body
        for word in ("log", "queue", "history", "me", "team", "settings", "forget", "export"):
            assert f"/voicemail {word}" in body


async def test_an_unknown_button_is_refused(bot: Bot) -> None:
    request = Request(SAM, button=ButtonPress("delete-everything", "x"))
    reply = await bot.coach.handle(request)
    assert reply.heading == "Unknown button"
    assert reply.tone is Tone.ERROR


async def test_a_history_lists_the_calls_with_the_advice(bot: Bot) -> None:
    decision = await bot.say(SAM, "Jane Doe @ Acme known")
    await bot.press(SAM, decision, "Skipped")
    bot.clock.now = datetime(2026, 11, 24, 16, 40, tzinfo=NEW_YORK)
    await bot.say(SAM, "log Jane Doe @ Acme live wants a demo")
    history = await bot.say(SAM, f"history {JANE}")
    assert history.paragraphs == (
        "Tue 24 Nov 2026 16:40: reached them. Note: wants a demo",
        "Mon 23 Nov 2026 10:15: hung up without a message, as advised",
    )
    assert fact(history, "Last spoke") == "Tue 24 Nov 2026"
    assert fact(history, "Relationship") == "known"


async def test_forget_me_asks_first_then_erases_all_of_the_reps_data(bot: Bot) -> None:
    await bot.say(SAM, "Jane Doe @ Acme referred by Tom")
    await bot.say(SAM, "log Jane Doe @ Acme left")
    await bot.say(ALEX, "log Bob Roe @ Initech skipped")
    question = await bot.say(SAM, "forget me")
    assert "forget me confirm" in text_of(question)
    assert len((await bot.export(SAM))["check_ins"]) == 1
    done = await bot.say(SAM, "forget me confirm")
    assert done.tone is Tone.DONE
    assert await bot.export(SAM) == {"profile": None, "prospects": [], "check_ins": []}
    assert (await bot.say(SAM, f"history {JANE}")).heading == "Prospect not found"
    assert await bot.store.callbacks_due("T1", "U1", MONDAY + timedelta(days=30)) == []
    team_log = await bot.store.team_check_ins("T1", DEFAULT_TEAM, MONDAY, MONDAY + timedelta(1))
    assert [entry.rep_id for entry in team_log] == ["U2"]
    assert [rep.user_id for rep in await bot.store.reps_in_team("T1", DEFAULT_TEAM)] == ["U2"]
    assert len((await bot.export(ALEX))["check_ins"]) == 1


async def test_a_prospect_abroad_gets_default_hours_not_a_us_law(bot: Bot) -> None:
    bot.clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=ZoneInfo("Europe/Prague"))
    reply = await bot.say(SAM, "Eva Novak @ Skoda tz Europe/Prague")
    text = text_of(reply) + "\n".join(reply.footer)
    assert "default calling hours" in text
    assert "TCPA" not in text and "federal" not in text.casefold()
    toronto = await bot.say(SAM, "Tim Roy @ Maple tz America/Toronto")
    # Canada's calling hours start at 09:00, so the early window moves from 08:00 to 09:00.
    assert fact(toronto, "Call back") == "Tue 24 Nov, 09:00-10:00 your time"


# --- teams of reps ------------------------------------------------------------------------


async def test_a_manager_adds_reps_to_their_own_team(bot: Bot) -> None:
    await bot.say(ALEX, "queue")  # Alex has no stored profile: team add makes one
    added = await bot.say(MORGAN, "team add <@U1|sam> , <@U2>")
    assert added.tone is Tone.DONE
    assert added.heading == "Morgan Reyes's team: 2 reps added"
    assert "Added: Sam Lee, U2." in added.paragraphs
    for rep in ("U1", "U2"):
        profile = await bot.store.get_rep("T1", rep)
        assert profile is not None
        assert profile.team == "M1"
    assert (await bot.store.get_rep("T1", "U1")) is not None
    team = await bot.store.get_team("T1", "M1")
    assert team.managers == ("M1",)
    assert team.title == "Morgan Reyes's team"
    assert [t.team for t in await bot.store.teams_managed_by("T1", "M1")] == ["M1"]
    # Sam's profile otherwise kept: the phone his scripts speak is still his.
    assert fact(await bot.say(SAM, "me"), "Phone") == PHONE

    members = await bot.say(MORGAN, "team members")
    assert members.heading == "Morgan Reyes's team"
    assert "Morgan Reyes's team, 2 reps:\n• Sam Lee\n• U2" in members.paragraphs
    assert fact(members, "Digest of Morgan Reyes's team").startswith("weekly")

    again = await bot.say(MORGAN, "team add <@U1>")
    assert again.heading == "Morgan Reyes's team: 0 reps added"
    assert "Already on Morgan Reyes's team: Sam Lee." in again.paragraphs


async def test_team_add_tells_the_schedule_about_each_rep_and_the_manager(bot: Bot) -> None:
    await bot.say(MORGAN, "team add <@U1> <@U2>")
    assert bot.schedule_changes and {t for t, _ in bot.schedule_changes} == {"T1"}
    assert bot.rescheduled() == {"M1", "U1", "U2"}
    await bot.say(MORGAN, "team add <@U1>")  # nothing moved: nobody's sends change
    assert bot.rescheduled() == set()
    await bot.say(MORGAN, "team remove <@U2>")
    assert bot.rescheduled() == {"U2"}


async def test_adding_a_rep_of_another_manager_moves_them_and_says_so(bot: Bot) -> None:
    await bot.say(MORGAN, "team add <@U1> <@U2>")
    moved = await bot.say(DANA, "team add <@U1|sam>")
    assert "Sam Lee: moved from Morgan Reyes's team." in moved.paragraphs
    sam = await bot.store.get_rep("T1", "U1")
    assert sam is not None and sam.team == "M2"
    morgans = await bot.say(MORGAN, "team members")
    assert "Morgan Reyes's team, 1 rep:\n• U2" in morgans.paragraphs
    danas = await bot.say(DANA, "team members")
    assert "Dana Cruz's team, 1 rep:\n• Sam Lee" in danas.paragraphs


async def test_a_manager_sees_only_their_own_teams_numbers(bot: Bot) -> None:
    await bot.say(MORGAN, "team add <@U1>")
    await bot.say(DANA, "team add <@U2> <@U3>")
    await bot.say(SAM, "log Jane Doe @ Acme left")
    await bot.say(ALEX, "log Cy Poe @ Hooli left")
    await bot.say(ALEX, "log Di Low @ Vandelay live")
    await bot.say(CASEY, "log Ed Moe @ Pied Piper no-answer")
    await bot.say(SAM_ELSEWHERE, "log Hal Ito @ Elsewhere left")
    bot.clock.advance(minutes=5)

    morgans = await bot.say(MORGAN, "team")
    assert morgans.heading.startswith("Team digest: Morgan Reyes's team, ")
    assert fact(morgans, "Dials") == "1 (+1)"
    assert fact(morgans, "Voicemails left").startswith("1 (+1)")
    assert [line.split(":")[0] for line in morgans.paragraphs[1:]] == ["Sam Lee"]
    danas = await bot.say(DANA, "team")
    assert danas.heading.startswith("Team digest: Dana Cruz's team, ")
    assert fact(danas, "Dials") == "3 (+3)"
    assert fact(danas, "Connects") == "1 (+1)"
    assert sorted(line.split(":")[0] for line in danas.paragraphs[1:]) == ["Alex Kim", "Casey Wu"]


async def test_team_remove_moves_only_the_managers_reps_back_to_no_team(bot: Bot) -> None:
    await bot.say(MORGAN, "team add <@U1>")
    await bot.say(DANA, "team add <@U2>")
    removed = await bot.say(MORGAN, "team remove <@U1> <@U2> <@U9>")
    assert removed.heading == "1 rep removed from your team"
    assert "Removed: Sam Lee. They are on no team now." in removed.paragraphs
    assert "Not on your team, so left as they are: U2, U9." in removed.paragraphs
    sam, alex = await bot.store.get_rep("T1", "U1"), await bot.store.get_rep("T1", "U2")
    assert sam is not None and sam.team == DEFAULT_TEAM
    assert alex is not None and alex.team == "M2"
    assert await bot.store.get_rep("T1", "U9") is None  # no profile made for a stranger


@pytest.mark.parametrize(
    "text", ["team add <@U2>", "team remove <@U1>", "team members", "team add <@U1> <@U2>"]
)
async def test_a_rep_may_not_build_a_team(bot: Bot, text: str) -> None:
    reply = await bot.say(SAM, text)
    assert reply.heading == "Managers only"
    assert reply.tone is Tone.ERROR
    alex = await bot.store.get_rep("T1", "U2")
    assert alex is None or alex.team == DEFAULT_TEAM
    assert await bot.store.teams_managed_by("T1", "U1") == []


async def test_in_slack_reps_are_named_by_mention_in_the_terminal_by_user_name(bot: Bot) -> None:
    refused = await bot.say(MORGAN, "team add sam")
    assert refused.heading == "Name reps with @mentions"
    assert refused.tone is Tone.ERROR
    assert await bot.store.get_rep("T1", "sam") is None
    lead = Actor(Platform.CONSOLE, "T1", "lead", "", role=Role.MANAGER)
    added = await bot.say(lead, "team add @sam alex")
    assert added.heading == "lead: 2 reps added"  # no name: the team goes by its id
    sam = await bot.store.get_rep("T1", "sam")
    assert sam is not None and sam.team == "lead"


async def test_a_manager_with_no_team_is_told_how_to_make_one(bot: Bot) -> None:
    reply = await bot.say(MORGAN, "team members")
    assert reply.heading == "You have no team yet"
    assert "/voicemail team add @sam @alex" in text_of(reply)


async def test_a_new_team_starts_with_the_default_teams_settings(bot: Bot) -> None:
    await bot.say(MORGAN, "settings playbook live-only")
    await bot.say(MORGAN, "team add <@U1>")
    team = await bot.store.get_team("T1", "M1")
    assert team.playbook == "live-only"
    # From now on Morgan's settings are his team's: the default team keeps its own.
    await bot.say(MORGAN, "settings final-attempt 4")
    assert (await bot.store.get_team("T1", "M1")).settings.final_attempt == 4
    assert (await bot.store.get_team("T1", DEFAULT_TEAM)).settings.final_attempt == 5
    shown = await bot.say(SAM, "settings")
    assert shown.heading == "Team settings · Morgan Reyes's team"
    assert fact(shown, "final-attempt") == "4"
    assert fact(await bot.say(ALEX, "settings"), "final-attempt") == "5"


async def test_settings_digest_sets_the_managers_team_cadence(bot: Bot) -> None:
    await bot.say(MORGAN, "team add <@U1> <@U2>")
    bot.rescheduled()
    saved = await bot.say(MORGAN, "settings digest both")
    assert saved.heading == "Saved: digest · Morgan Reyes's team"
    assert fact(saved, "digest").startswith("daily and weekly")
    assert (await bot.store.get_team("T1", "M1")).digest is DigestCadence.BOTH
    assert (await bot.store.get_team("T1", DEFAULT_TEAM)).digest is DigestCadence.WEEKLY
    assert bot.rescheduled() == {"M1", "U1", "U2"}
    await bot.say(MORGAN, "settings holidays-country GB")
    assert bot.rescheduled() == {"M1", "U1", "U2"}
    await bot.say(MORGAN, "settings playbook selective")  # when sends go: unchanged
    assert bot.rescheduled() == set()
    members = await bot.say(MORGAN, "team members")
    assert fact(members, "Digest of Morgan Reyes's team").startswith("daily and weekly")
    assert (await bot.say(SAM, "settings digest off")).heading == "Managers only"


# --- the nudge time and the schedule ------------------------------------------------------


async def test_me_nudge_sets_the_time_and_the_schedule_hears_of_it(bot: Bot) -> None:
    assert fact(await bot.say(SAM, "me"), "Morning nudge").startswith("08:00 your time")
    saved = await bot.say(SAM, "me nudge 7:30")
    assert saved.heading == "Saved your nudge time"
    assert fact(saved, "Morning nudge").startswith("07:30 your time")
    rep = await bot.store.get_rep("T1", "U1")
    assert rep is not None and rep.nudge == "07:30"
    assert bot.rescheduled() == {"U1"}
    await bot.say(SAM, "me nudge 07:30")  # the same time again: nothing to move
    assert bot.rescheduled() == set()
    off = await bot.say(SAM, "me nudge off")
    assert fact(off, "Morning nudge") == "off"
    assert "/voicemail me nudge 08:00" in text_of(off)
    assert bot.rescheduled() == {"U1"}


async def test_a_bad_nudge_time_says_what_is_accepted_and_stores_nothing(bot: Bot) -> None:
    reply = await bot.say(SAM, "me nudge 25:00")
    assert reply.tone is Tone.ERROR
    assert "00:00 to 23:59" in reply.paragraphs[0]
    assert "Example: /voicemail me nudge 07:30" in reply.paragraphs
    rep = await bot.store.get_rep("T1", "U1")
    assert rep is not None and rep.nudge == "08:00"
    assert bot.rescheduled() == set()


async def test_the_schedule_hears_of_a_new_profile_a_zone_and_the_platform(bot: Bot) -> None:
    await bot.say(ALEX, "Jane Doe @ Acme")  # Alex's first ask stores his profile
    assert bot.rescheduled() == {"U2"}
    alex = await bot.store.get_rep("T1", "U2")
    assert alex is not None and alex.platform == "slack"
    await bot.say(ALEX, "Bob Roe @ Initech")  # nothing changed
    assert bot.rescheduled() == set()
    await bot.say(ALEX, "me timezone Europe/Paris")
    assert bot.rescheduled() == {"U2"}
    await bot.say(ALEX, "me pitch we help")  # not about when
    assert bot.rescheduled() == set()
    on_teams = Actor(Platform.TEAMS, "T1", "U2", "Alex Kim", role=Role.REP)
    await bot.say(on_teams, "Jane Doe @ Acme")
    assert bot.rescheduled() == {"U2"}
    alex = await bot.store.get_rep("T1", "U2")
    assert alex is not None and alex.platform == "teams"


async def test_a_failing_schedule_hook_is_logged_and_the_change_kept(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(tenant: str, user_id: str) -> None:
        raise ConnectionError("redis went away")

    bot.coach.on_schedule_change = broken
    with caplog.at_level(logging.WARNING, logger="voicemail_coach.coach"):
        saved = await bot.say(SAM, "me nudge 09:15")
    assert saved.heading == "Saved your nudge time"
    rep = await bot.store.get_rep("T1", "U1")
    assert rep is not None and rep.nudge == "09:15"
    [record] = [r for r in caplog.records if r.getMessage() == "schedule_change_failed"]
    assert record.__dict__["error"] == "ConnectionError"
    assert "redis went away" not in caplog.text


# --- the ask button of a nudge ------------------------------------------------------------


async def press_ask(bot: Bot, actor: Actor, value: str) -> Reply:
    return await bot.coach.handle(Request(actor, button=ButtonPress(ASK, value)))


async def test_the_ask_button_gives_the_full_decision(bot: Bot) -> None:
    first = await bot.say(SAM, "Jane Doe @ Acme known tz America/New_York")
    await bot.press(SAM, first, "Skipped")
    bot.clock.now = await bot.next_call()
    asked = await press_ask(bot, SAM, JANE_KEY)
    assert asked.heading == f"Hang up: no message · {JANE}"
    assert fact(asked, "Attempt") == "2 of this cycle"
    assert asked.buttons  # check in from here as from any decision
    record = await bot.store.get_prospect("T1", "U1", JANE_KEY)
    assert record is not None and record.last_advice is not None
    assert record.last_advice.at == bot.clock.now
    assert record.relationship.value == "known"  # no facts added or lost


@pytest.mark.parametrize(
    ("actor", "value", "heading"),
    [
        (SAM, prospect_key("Nobody", "Nowhere"), "Prospect not found"),
        (ALEX, JANE_KEY, "Prospect not found"),  # another rep's prospect
        (SAM_ELSEWHERE, JANE_KEY, "Prospect not found"),  # another tenant's
        (SAM, "", "Unknown button"),
        (SAM, "Jane Doe@Acme", "Unknown button"),  # not as prospect_key makes it
        (SAM, "jane doe", "Unknown button"),
        (SAM, "jane\x00doe@acme", "Unknown button"),
        (SAM, "j" * 1000 + "@acme", "Unknown button"),
    ],
)
async def test_an_ask_button_for_no_prospect_of_the_rep_is_refused(
    bot: Bot, actor: Actor, value: str, heading: str
) -> None:
    await bot.say(SAM, JANE)
    reply = await press_ask(bot, actor, value)
    assert reply.heading == heading
    assert reply.tone is Tone.ERROR
    assert await bot.store.get_prospect(actor.tenant, actor.user_id, value) is None
