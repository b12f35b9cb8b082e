"""Scripts: who, why and the number twice, in 30 seconds; team wording, filled safely."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from policy import InvalidInput, Relationship, Script, ScriptKind
from policy.scripts import NEUTRAL_PITCH
from policy.settings import settings_from_mapping
from tests.policy.conftest import (
    MAX_WORDS,
    REP_COMPANY,
    REP_NAME,
    REP_PHONE,
    REP_PITCH,
    TODAY,
    decide_for,
    digits,
    read_seconds,
)

ITEM = "the proposal for the Q3 rollout"

# For each script kind: a dial that gets it, and the concrete reason the script must name.
KINDS: dict[ScriptKind, tuple[dict[str, Any], str]] = {
    ScriptKind.REFERRAL: (
        {"relationship": Relationship.REFERRED, "referred_by": "Tom Ruiz"},
        "Tom Ruiz",
    ),
    ScriptKind.FOLLOWUP: (
        {"relationship": Relationship.KNOWN, "open_followup": ITEM},
        ITEM,
    ),
    ScriptKind.INTRODUCTION: ({"new_in_role": True}, REP_PITCH),
    ScriptKind.RECONNECT: (
        {"relationship": Relationship.KNOWN, "last_conversation": TODAY - timedelta(days=60)},
        "8 weeks",
    ),
    ScriptKind.EXPECTED_REPLY: (
        {"expecting_response": True, "open_followup": "the pricing question"},
        "the pricing question",
    ),
    ScriptKind.SERIES: ({"playbook": "rapport-series"}, REP_PITCH),
    ScriptKind.FINAL: (
        {"relationship": Relationship.KNOWN, "attempts": 4},
        "February 21",  # 2026-11-23 + 90 days
    ),
}

KIND_IDS = [kind.value for kind in KINDS]

SIXTY_WORDS = " ".join(["word"] * 60)


def script_for(kind: ScriptKind, **overrides: Any) -> Script:
    given, _ = KINDS[kind]
    decision = decide_for(**{**given, **overrides})
    assert decision.script is not None
    assert decision.script.kind is kind
    return decision.script


def words(text: str) -> int:
    return len(text.split())


def long_words(word: str, count: int = 40) -> str:
    return " ".join(f"{word}{i}" for i in range(count))[:200]


# --- every kind names who, why, and the number twice


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_names_the_prospect_by_first_name(kind: ScriptKind) -> None:
    text = script_for(kind).text
    assert "Jane" in text
    assert "Doe" not in text


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_names_the_rep_and_the_rep_company(kind: ScriptKind) -> None:
    text = script_for(kind).text
    assert REP_NAME in text
    assert REP_COMPANY in text


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_names_its_concrete_reason(kind: ScriptKind) -> None:
    _, reason = KINDS[kind]
    assert reason in script_for(kind).text


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_gives_the_phone_number_twice(kind: ScriptKind) -> None:
    text = script_for(kind).text
    assert REP_PHONE in text
    assert digits(text).count(digits(REP_PHONE)) == 2


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_reads_in_30_seconds(kind: ScriptKind) -> None:
    script = script_for(kind)
    assert words(script.text) <= MAX_WORDS
    assert script.seconds == read_seconds(words(script.text))
    assert script.seconds <= 30


def test_final_script_says_it_is_the_last_message_and_when_the_rep_is_back() -> None:
    text = script_for(ScriptKind.FINAL).text
    assert "last message" in text
    assert "February 21" in text


def test_final_script_gives_the_team_recycle_date() -> None:
    text = script_for(ScriptKind.FINAL, settings={"recycle_days": 120}).text
    assert "March 23" in text  # 2026-11-23 + 120 days


def test_reconnect_script_says_months_after_a_long_silence() -> None:
    text = script_for(ScriptKind.RECONNECT, last_conversation=TODAY - timedelta(days=100))
    assert "3 months" in text.text


def test_reconnect_script_names_the_prospect_company() -> None:
    assert "Acme" in script_for(ScriptKind.RECONNECT).text


def test_introduction_without_a_pitch_has_a_neutral_line() -> None:
    text = script_for(ScriptKind.INTRODUCTION, rep_pitch="").text
    assert NEUTRAL_PITCH in text


# --- whatever the names, 75 words at most


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_script_fits_with_very_long_names(kind: ScriptKind) -> None:
    script = script_for(
        kind,
        name=long_words("Janelle"),
        company=long_words("Acme"),
        rep_name=long_words("Samuel"),
        rep_company=long_words("Northwind"),
        rep_pitch=long_words("synergy"),
        rep_phone="+1 (555) 010 0100 ext 123",
        **({"referred_by": long_words("Tom")} if kind is ScriptKind.REFERRAL else {}),
        **({"open_followup": long_words("proposal")} if kind is ScriptKind.FOLLOWUP else {}),
    )
    assert words(script.text) <= MAX_WORDS
    assert script.seconds == read_seconds(words(script.text))
    assert "Janelle0" in script.text
    assert "Janelle1" not in script.text


def test_phone_written_digit_by_digit_keeps_every_digit() -> None:
    phone = "0 7 9 4 6 0 9 5 8 1 2"
    text = script_for(ScriptKind.REFERRAL, rep_phone=phone).text
    assert digits(text).count(digits(phone)) == 2
    assert words(text) <= MAX_WORDS


# --- a team's own wording


def team_script(kind: ScriptKind, wording: str, **overrides: Any) -> Script:
    return script_for(kind, settings={"scripts": {kind.value: wording}}, **overrides)


def test_team_wording_is_used_with_its_placeholders_filled() -> None:
    script = team_script(
        ScriptKind.REFERRAL,
        "Hey $prospect, $referrer said to call. $rep at $company: $phone, again $phone_slow.",
    )
    assert script.text.startswith("Hey Jane, Tom Ruiz said to call. Sam Lee at Northwind: ")
    assert digits(script.text).count(digits(REP_PHONE)) == 2
    assert script.seconds == read_seconds(words(script.text))


def test_team_wording_for_one_kind_leaves_the_others_built_in() -> None:
    wording = "Hey $prospect, $phone, again $phone_slow."
    script = script_for(ScriptKind.FOLLOWUP, settings={"scripts": {"referral": wording}})
    assert ITEM in script.text


def test_double_dollar_is_a_dollar_sign() -> None:
    script = team_script(
        ScriptKind.FOLLOWUP, "Hi $prospect, save $$500 on $item. $phone, again $phone_slow."
    )
    assert "save $500 on the proposal" in script.text


def test_braced_placeholders_are_accepted() -> None:
    script = team_script(
        ScriptKind.FINAL, "Hi ${prospect}, last one; back ${back_on}. $phone $phone_slow"
    )
    assert script.text.startswith("Hi Jane, last one; back around February 21.")


def test_team_wording_with_long_names_still_fits() -> None:
    wording = f"{SIXTY_WORDS} $prospect $phone $phone_slow"  # 60 + 1 + 6 + 6 = 73 at worst
    script = team_script(
        ScriptKind.REFERRAL, wording, rep_phone="+1 555 010 0100 ext 99", name=long_words("J")
    )
    assert words(script.text) <= MAX_WORDS


# $prospect 1 + $rep 3 + $company 4 + $since 3 ("a few days") + the number twice 6 + 6 = 23 words.
PLACEHOLDERS_23_WORDS = "$prospect $rep $company $since $phone $phone_slow"


def test_wording_that_reaches_75_words_with_the_longest_time_since_is_accepted() -> None:
    wording = " ".join(["word"] * 52) + " " + PLACEHOLDERS_23_WORDS
    script = team_script(
        ScriptKind.RECONNECT,
        wording,
        playbook="it-depends",
        attempts=8,  # eight dials without a message: a reconnect though they spoke days ago
        last_conversation=TODAY - timedelta(days=10),
        rep_name=long_words("Samuel"),
        rep_company=long_words("Northwind"),
        rep_phone="+1 555 010 0100 ext 99",
    )
    assert "a few days" in script.text
    assert words(script.text) == MAX_WORDS


def test_wording_that_could_reach_76_words_with_the_longest_time_since_is_rejected() -> None:
    wording = " ".join(["word"] * 53) + " " + PLACEHOLDERS_23_WORDS
    assert "75" in rejection("reconnect", wording).problem


# --- wording that cannot be accepted: InvalidInput naming the field and the problem


def rejection(kind: str, wording: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        settings_from_mapping({"scripts": {kind: wording}})
    return caught.value


def test_unknown_placeholder_is_rejected_and_named() -> None:
    error = rejection("referral", "Hi $name, $phone, again $phone_slow.")
    assert error.field == "settings.scripts.referral"
    assert "$name" in error.problem


def test_stray_dollar_is_rejected() -> None:
    error = rejection("followup", "Save $ 500 today. $phone, again $phone_slow.")
    assert error.field == "settings.scripts.followup"
    assert "$" in error.problem
    assert "$$" in error.problem  # says how to write a dollar sign


def test_missing_phone_is_rejected() -> None:
    error = rejection("introduction", "Hi $prospect, call me back on $phone_slow.")
    assert error.field == "settings.scripts.introduction"
    assert "$phone" in error.problem


def test_missing_slow_phone_is_rejected() -> None:
    error = rejection("introduction", "Hi $prospect, call me back on $phone.")
    assert "$phone_slow" in error.problem


def test_over_long_wording_is_rejected_with_the_limit() -> None:
    error = rejection("series", " ".join(["word"] * 70) + " $phone $phone_slow")
    assert error.field == "settings.scripts.series"
    assert "75" in error.problem


def test_wording_that_is_short_only_with_short_names_is_rejected() -> None:
    # 60 words + a pitch of up to 15 + the number twice could run past 75 words.
    error = rejection("introduction", f"{SIXTY_WORDS} $pitch $phone $phone_slow")
    assert "75" in error.problem


def test_unknown_script_kind_is_rejected() -> None:
    error = rejection("voicemail", "Hi $prospect, $phone, again $phone_slow.")
    assert error.field == "settings.scripts.voicemail"
    assert "referral" in error.problem  # lists the accepted kinds


def test_wording_must_be_text() -> None:
    assert rejection("final", 42).field == "settings.scripts.final"


# --- no template reaches code or data beyond its placeholders


def test_attribute_access_in_braces_is_rejected() -> None:
    error = rejection("referral", "Hi ${rep.__class__}, $phone, again $phone_slow.")
    assert error.field == "settings.scripts.referral"


def test_attribute_after_a_placeholder_is_plain_text() -> None:
    script = team_script(
        ScriptKind.REFERRAL, "Hi $prospect.__class__ $rep.__init__.__globals__ $phone $phone_slow"
    )
    assert "Jane.__class__" in script.text
    assert "Sam Lee.__init__.__globals__" in script.text
    assert "<class" not in script.text
    assert "{" not in script.text


def test_format_fields_are_plain_text() -> None:
    script = team_script(
        ScriptKind.REFERRAL, "Hi {rep.__class__.__mro__} {0} %(rep)s $phone $phone_slow"
    )
    assert script.text.startswith("Hi {rep.__class__.__mro__} {0} %(rep)s ")


def test_values_are_not_filled_twice() -> None:
    script = script_for(ScriptKind.REFERRAL, referred_by="$rep ${phone}")
    assert "$rep ${phone}" in script.text
