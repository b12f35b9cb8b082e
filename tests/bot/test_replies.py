"""Replies as a rep reads them: real decisions and records in, the words of the Reply out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import replies
from bot.records import ProspectRecord, RepProfile, TeamConfig, prospect_key
from bot.types import Reply
from policy import Decision, Relationship, Settings, decide
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
    """The reply to a rep asking about `record`, as the conversation builds it."""
    decision = decision_for(record, rep, now)
    gaps = replies.script_gaps(rep)
    return replies.decision_reply(record, decision, NEW_YORK, missing_profile=gaps)


def text_of(reply: Reply) -> str:
    return "\n".join(
        (reply.heading, *reply.paragraphs, *(f"{f.label}: {f.value}" for f in reply.facts))
    )


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
