"""Replies as a rep reads them: real decisions and records in, the words of the Reply out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import replies
from bot.commands import GrammarError
from bot.digests import Numbers, count
from bot.records import (
    Advice,
    CheckIn,
    DigestCadence,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
    prospect_key,
)
from bot.types import Reply
from policy import Action, Decision, Relationship, Settings, decide
from policy.sources import SEED_TITLES

NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, mid-morning in New York.
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
SAM = RepProfile(
    "T1", "U1", name="Sam Lee", company="Northwind", phone="+1 555 010 0100",
    timezone="America/New_York",
)  # fmt: skip
NOBODY = RepProfile("T1", "U1")


def jane(**changes: Any) -> ProspectRecord:
    record = ProspectRecord(
        "T1", "U1", prospect_key("Jane Doe", "Acme"), "Jane Doe", "Acme",
        timezone="America/New_York",
    )  # fmt: skip
    return replace(record, **changes)


def decision_for(record: ProspectRecord, rep: RepProfile = SAM, now: datetime = MONDAY) -> Decision:
    return decide(
        rep=rep.as_policy_rep(),
        prospect=record.as_policy_prospect(),
        history=record.as_policy_history(),
        now=now,
    )


def ask(record: ProspectRecord, rep: RepProfile = SAM, now: datetime = MONDAY) -> Reply:
    """The reply to a rep asking about `record`, as the coach builds it."""
    decision = decision_for(record, rep, now)
    gaps = replies.script_gaps(rep)
    return replies.decision_reply(record, decision, NEW_YORK, missing_profile=gaps)


def text_of(reply: Reply) -> str:
    return "\n".join(
        (reply.heading, *reply.paragraphs, *(f"{f.label}: {f.value}" for f in reply.facts))
    )


def fact(reply: Reply, label: str) -> str:
    values = [f.value for f in reply.facts if f.label == label]
    assert values, f"no fact {label!r} in {reply.facts}"
    return values[0]


REFERRED = {"relationship": Relationship.REFERRED, "referred_by": "Tom Ruiz"}


# --- a script waits for the profile it speaks -----------------------------------------------


def test_a_full_profile_gets_its_script_and_no_profile_commands() -> None:
    reply = ask(jane(**REFERRED))
    assert reply.script is not None
    assert "it's Sam Lee from Northwind" in reply.script.text
    assert not any("/voicemail me" in p for p in reply.paragraphs)


def test_no_profile_gets_the_decision_and_the_commands_instead_of_a_placeholder_script() -> None:
    reply = ask(jane(**REFERRED), rep=NOBODY)
    assert reply.heading == "Leave a voicemail · Jane Doe @ Acme"
    assert reply.script is None
    assert "it's your name" not in text_of(reply)
    assert "Your script needs your name, company and phone. Set them, then ask me again:" in (
        reply.paragraphs
    )
    assert reply.paragraphs[-3:] == (
        "/voicemail me name <your name>",
        "/voicemail me company <your company>",
        "/voicemail me phone <your number>",
    )


@pytest.mark.parametrize(
    ("missing", "command"),
    [
        ("name", "/voicemail me name <your name>"),
        ("company", "/voicemail me company <your company>"),
        ("phone", "/voicemail me phone <your number>"),
    ],
)
def test_one_missing_field_asks_for_that_field_only(missing: str, command: str) -> None:
    changes: dict[str, Any] = {missing: ""}
    rep = replace(SAM, **changes)
    assert replies.script_gaps(rep) == [missing]
    reply = ask(jane(**REFERRED), rep=rep)
    assert reply.script is None
    assert f"Your script needs your {missing}. Set it, then ask me again:" in reply.paragraphs
    assert reply.paragraphs[-1] == command


def test_a_blank_field_is_a_gap() -> None:
    assert replies.script_gaps(replace(SAM, company="   ")) == ["company"]


def test_the_pitch_is_not_needed_a_neutral_line_stands_in() -> None:
    assert replies.script_gaps(replace(SAM, pitch="")) == []


def test_a_decision_without_a_script_does_not_ask_for_the_profile() -> None:
    reply = ask(jane(), rep=NOBODY)  # a stranger: dial zero
    assert reply.heading.startswith("Dial 0")
    assert not any("/voicemail me" in p for p in reply.paragraphs)


# --- decisions in plain words ---------------------------------------------------------------


def test_a_reason_opening_with_the_item_starts_with_a_capital() -> None:
    reply = ask(jane(relationship=Relationship.KNOWN, open_followup="the demo for the Q3 rollout"))
    assert reply.paragraphs[0].startswith("The demo for the Q3 rollout waits for an answer")


def test_an_overridden_rule_is_told_in_plain_words() -> None:
    # A referral, but a voicemail was left on the last dial: too soon wins.
    record = jane(**REFERRED, attempts=1, voicemails_left=1, attempts_since_voicemail=0)
    reply = ask(record)
    assert reply.heading == "Hang up: no message · Jane Doe @ Acme"
    assert reply.paragraphs[1] == (
        "Tom Ruiz referred you: a referred prospect is the one stranger who calls back. "
        "On its own that would mean leaving a voicemail, but the reason above comes first."
    )
    assert not any("Overrides" in p or "_" in p for p in reply.paragraphs)


LATE_EVENING = MONDAY.replace(hour=22, minute=30)


def test_outside_calling_hours_the_reply_leads_with_do_not_dial() -> None:
    reply = ask(jane(**REFERRED), now=LATE_EVENING)
    assert reply.heading == "Don't dial now: outside calling hours · Jane Doe @ Acme"
    assert "22:30" in reply.paragraphs[0]
    assert reply.paragraphs[0].endswith("Do not dial now.")
    assert reply.paragraphs[1] == "When you call in their hours: leave a voicemail."
    assert not any(p.startswith("Warning:") for p in reply.paragraphs)
    assert not any(button.primary for button in reply.buttons)


def test_in_calling_hours_there_is_no_warning_and_the_advice_is_the_heading() -> None:
    reply = ask(jane(**REFERRED))
    assert reply.heading == "Leave a voicemail · Jane Doe @ Acme"
    assert [b.label for b in reply.buttons if b.primary] == ["Left it"]


def test_a_paused_lead_shows_when_it_comes_back_and_nothing_to_check_in() -> None:
    record = jane(relationship=Relationship.KNOWN, recycle_on=MONDAY.date().replace(month=12))
    reply = ask(record)
    assert reply.heading == "Paused: don't call · Jane Doe @ Acme"
    labels = [fact.label for fact in reply.facts]
    assert "Paused until" in labels
    assert "Time saved" not in labels
    assert "Attempt" not in labels
    assert reply.buttons == ()


def test_a_paused_lead_outside_calling_hours_still_reads_paused() -> None:
    record = jane(relationship=Relationship.KNOWN, recycle_on=MONDAY.date().replace(month=12))
    reply = ask(record, now=LATE_EVENING)
    assert reply.heading == "Paused: don't call · Jane Doe @ Acme"
    assert reply.buttons == ()


# --- sources by title -----------------------------------------------------------------------


def test_the_footer_cites_the_source_by_its_title_not_its_file() -> None:
    reply = ask(jane(**REFERRED))
    assert reply.footer == (f"“{SEED_TITLES['003']}” (referral)",)
    assert not any(".txt" in line for line in reply.footer)


def test_a_rule_citing_three_sources_lists_each_title() -> None:
    reply = ask(jane(relationship=Relationship.KNOWN))  # nothing to say: the default rule
    assert reply.footer == tuple(f"“{SEED_TITLES[n]}” (default)" for n in ("000", "001", "004"))


def test_a_source_two_rules_cite_is_listed_once_with_both() -> None:
    # too-soon wins over open-followup; both cite the same text.
    record = jane(
        relationship=Relationship.KNOWN, open_followup="the proposal", attempts=1,
        voicemails_left=1, attempts_since_voicemail=0,
    )  # fmt: skip
    reply = ask(record)
    assert reply.footer == (f"“{SEED_TITLES['004']}” (too-soon, open-followup)",)


# --- settings -------------------------------------------------------------------------------


def settings_shown(team: TeamConfig) -> dict[str, str]:
    return {fact.label: fact.value for fact in replies.settings_reply(team).facts}


def test_settings_show_every_setting_with_its_value() -> None:
    shown = settings_shown(TeamConfig("T1"))
    assert shown == {
        "playbook": "balanced",
        "final-attempt": "5",
        "recycle-days": "90",
        "min-gap": "2 (the balanced playbook's own)",
        "silence-days": "42",
        "silence-dials": "8",
        "early-window": "08:00-09:00",
        "late-window": "16:30-18:00",
        "holidays-country": "US",
        "scripts": "built in",
        "digest": "weekly: Monday mornings, the last 7 days",
    }


def test_min_gap_unset_shows_the_playbook_own_gap() -> None:
    shown = settings_shown(TeamConfig("T1", playbook="rapport-series"))
    assert shown["min-gap"] == "1 (the rapport-series playbook's own)"


def test_a_min_gap_set_shows_the_number() -> None:
    team = TeamConfig("T1", settings=Settings().changed("min_gap", "3"))
    assert settings_shown(team)["min-gap"] == "3"


def test_team_script_wordings_are_named_by_kind() -> None:
    wording = {"final": "Hi $prospect, last one. $phone, again $phone_slow."}
    team = TeamConfig("T1", settings=Settings().changed("scripts", wording))
    assert settings_shown(team)["scripts"] == "your team's for final, built in for the rest"


def test_settings_say_in_one_line_that_scripts_are_not_set_in_chat() -> None:
    reply = replies.settings_reply(TeamConfig("T1"))
    (line,) = [p for p in reply.paragraphs if "Script wordings" in p]
    assert "not set in chat" in line
    assert "settings.scripts" in line


# --- the other replies, as a rep reads them -------------------------------------------------


def test_a_final_voicemail_gives_the_pause_as_a_day_with_its_year() -> None:
    reply = ask(jane(relationship=Relationship.KNOWN, attempts=4))
    assert reply.heading.startswith("Leave your final voicemail")
    assert fact(reply, "Paused until") == "Sun 21 Feb 2027"  # 2026-11-23 + 90 days


def logged(outcome: Outcome, *, advice: Action | None = None, followed: bool | None = None,
           note: str = "", minutes: int = 0) -> CheckIn:  # fmt: skip
    at = MONDAY + timedelta(minutes=minutes)
    return CheckIn(
        "T1", "U1", "default", jane().key, outcome, at, note=note,
        advice=None if advice is None else Advice(advice, "rule", at), followed=followed,
    )  # fmt: skip


def test_a_check_in_on_a_paused_lead_says_when_it_comes_back() -> None:
    record = jane(recycle_on=date(2027, 2, 21), attempts=5, voicemails_left=1)
    reply = replies.check_in_reply(record, logged(Outcome.LEFT), NEW_YORK, MONDAY.date())
    assert reply.paragraphs[0] == "Paused until Sun 21 Feb 2027: I'll put them in your queue then."


def test_a_check_in_with_nothing_planned_says_to_ask_again() -> None:
    reply = replies.check_in_reply(jane(), logged(Outcome.LIVE), NEW_YORK, MONDAY.date())
    assert reply.paragraphs == ("No call planned: ask me again when you next dial.",)


def test_a_second_check_in_says_the_first_was_kept() -> None:
    reply = replies.already_logged_reply(jane(), NEW_YORK, MONDAY.date())
    assert reply.paragraphs[0] == "You already checked in on this call; I kept the first check-in."


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        ("did you mean `queue`?", "“qeue”: did you mean `queue`?"),
        ("not an outcome", "“qeue”: not an outcome."),
    ],
)
def test_a_grammar_error_names_the_part_once_and_ends_with_one_stop(
    problem: str, shown: str
) -> None:
    reply = replies.grammar_error_reply(GrammarError("queue", "qeue", problem))
    assert reply.paragraphs[0] == shown


def test_the_queue_says_when_a_pause_ended() -> None:
    record = jane(recycle_on=date(2026, 11, 20))
    assert replies.queue_lines([], [record], NEW_YORK) == [
        "Jane Doe @ Acme: pause ended Fri 20 Nov 2026, start a new series"
    ]


def test_a_history_reads_as_sentences() -> None:
    record = jane(**REFERRED, attempts=1, voicemails_left=1, last_conversation=date(2026, 11, 2))
    log = [
        logged(Outcome.LIVE, note="wants a demo", minutes=90),
        logged(Outcome.LEFT, advice=Action.HANG_UP, followed=False, minutes=60),
        logged(Outcome.SKIPPED, advice=Action.HANG_UP, followed=True),
    ]
    reply = replies.history_reply(record, log, NEW_YORK)
    assert fact(reply, "Relationship") == "referred by Tom Ruiz"
    assert fact(reply, "This cycle") == "1 dial, 1 voicemail"
    assert fact(reply, "Last spoke") == "Mon 02 Nov 2026"
    assert reply.paragraphs == (
        "Mon 23 Nov 2026 11:45: reached them. Note: wants a demo",
        "Mon 23 Nov 2026 11:15: left a voicemail, though the advice was: hang up without a message",
        "Mon 23 Nov 2026 10:15: hung up without a message, as advised",
    )


def test_a_profile_without_what_scripts_need_lists_the_commands() -> None:
    reply = replies.profile_reply(replace(SAM, company="", phone=""), changed="name")
    assert reply.heading == "Saved your name"
    assert reply.paragraphs == (
        "Your scripts still need your company and phone:",
        "/voicemail me company <your company>",
        "/voicemail me phone <your number>",
    )


def test_a_complete_profile_says_how_to_change_a_field() -> None:
    reply = replies.profile_reply(SAM, changed="timezone")
    assert reply.heading == "Saved your time zone"
    assert "/voicemail me <field> <value>" in reply.paragraphs[0]
    assert fact(replies.profile_reply(NOBODY), "Time zone") == "(not set: times are in UTC)"


def numbers_reply(numbers: Numbers) -> Reply:
    return Reply("numbers", facts=replies.numbers_facts(numbers))


def test_no_numbers_show_no_n_a() -> None:
    reply = numbers_reply(count([]))
    assert not any("n/a" in f.value for f in reply.facts)
    assert fact(reply, "Advice followed") == "no advice checked in yet"


def test_the_numbers_show_shares_only_of_something() -> None:
    reply = numbers_reply(count([logged(Outcome.CALLED_BACK), logged(Outcome.SKIPPED, minutes=1)]))
    assert fact(reply, "Callbacks") == "1"  # no voicemail to be a share of
    assert fact(reply, "Voicemails") == "0"
    busy = count([logged(Outcome.LEFT, advice=Action.LEAVE_VOICEMAIL, followed=True)] * 2)
    reply = numbers_reply(busy)
    assert fact(reply, "Voicemails") == "2 (about 2 min spent)"
    assert fact(reply, "Callbacks") == "0 (0% of voicemails)"
    assert fact(reply, "Advice followed") == "2 of 2 (100%)"


# --- nudge time, teams, digests -------------------------------------------------------------


def test_the_profile_shows_the_nudge_time_or_off() -> None:
    assert fact(replies.profile_reply(SAM), "Morning nudge") == (
        "08:00 your time, on business days with something due"
    )
    off = replies.profile_reply(replace(SAM, nudge="off"), changed="nudge")
    assert off.heading == "Saved your nudge time"
    assert fact(off, "Morning nudge") == "off"
    assert off.paragraphs == (
        "No more morning nudges. Turn them back on with /voicemail me nudge 08:00",
    )


DANAS = TeamConfig("T1", "M2", managers=("M2",), label="Dana's team")


def test_team_add_says_who_joined_who_moved_and_who_was_there() -> None:
    reply = replies.team_added_reply(
        DANAS, ["Sam Lee", "Alex Kim"], [("Alex Kim", "Morgan's team")], ["Casey Wu"]
    )
    assert reply.heading == "Dana's team: 2 reps added"
    assert reply.paragraphs[:3] == (
        "Added: Sam Lee, Alex Kim.",
        "Alex Kim: moved from Morgan's team.",
        "Already on Dana's team: Casey Wu.",
    )


def test_team_members_lists_the_reps_by_name_and_the_digest() -> None:
    reps = [RepProfile("T1", "U2", name="alex kim"), RepProfile("T1", "U9"), SAM]
    reply = replies.members_reply([(replace(DANAS, digest=DigestCadence.DAILY), reps)])
    assert reply.heading == "Dana's team"
    assert reply.paragraphs[0] == "Dana's team, 3 reps:\n• alex kim\n• Sam Lee\n• U9"
    assert fact(reply, "Digest of Dana's team") == (
        "daily: each business morning, the business day before"
    )


@pytest.mark.parametrize("cadence", list(DigestCadence))
def test_the_settings_show_each_digest_cadence(cadence: DigestCadence) -> None:
    shown = settings_shown(TeamConfig("T1", digest=cadence))
    words = "daily and weekly" if cadence is DigestCadence.BOTH else cadence.value
    assert shown["digest"].startswith(f"{words}: ")
