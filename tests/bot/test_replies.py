"""Replies as a rep reads them: real decisions and records in, the words of the Reply out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import replies
from bot.records import ProspectRecord, RepProfile, prospect_key
from bot.types import Reply
from policy import Decision, Relationship, decide

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
