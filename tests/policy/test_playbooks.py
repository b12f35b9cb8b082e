"""Every row of every playbook in the spec, its conflicts, and the numbers a team may change."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from policy import PLAYBOOKS, Action, Decision, History, Relationship, ScriptKind
from tests.policy.conftest import (
    SECONDS_PER_VOICEMAIL,
    SPEC_RULE_ORDER,
    TODAY,
    decide_for,
    make_request,
)

STRANGER = Relationship.STRANGER
REFERRED = Relationship.REFERRED
KNOWN = Relationship.KNOWN
CLIENT = Relationship.CLIENT

LEAVE = Action.LEAVE_VOICEMAIL
HANG_UP = Action.HANG_UP
DIAL_ZERO = Action.DIAL_ZERO
FINAL = Action.FINAL_VOICEMAIL
RECYCLE = Action.RECYCLE

PAUSED_UNTIL = date(2026, 12, 1)
FINAL_RECYCLE_ON = TODAY + timedelta(days=90)  # the spec's default recycle_days
ITEM = "the proposal for the Q3 rollout"


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


# A prospect no rule has a reason to message: known, spoke a week ago, nothing pending.
QUIET: dict[str, Any] = {"relationship": KNOWN, "last_conversation": days_ago(7)}


def after_voicemail(attempts: int, since: int = 0, voicemails: int = 1) -> dict[str, Any]:
    """A cycle of `attempts` dials whose last voicemail was left `since` dials before this one."""
    return {
        "attempts": attempts,
        "voicemails_left": voicemails,
        "attempts_since_voicemail": since,
    }


@dataclass(frozen=True, slots=True)
class Row:
    playbook: str
    given: dict[str, Any]
    action: Action
    rule: str
    script: ScriptKind | None = None
    overridden: tuple[str, ...] = ()
    recycle_on: date | None = None


def row(case_id: str, *args: Any, **kwargs: Any) -> Any:
    return pytest.param(Row(*args, **kwargs), id=case_id)


BALANCED = [
    row(
        "paused",
        "balanced",
        {**QUIET, "recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "paused-beats-expected-reply",
        "balanced",
        {**QUIET, "recycle_on": PAUSED_UNTIL, "expecting_response": True},
        RECYCLE,
        "paused",
        overridden=("expected-reply",),
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "pause-over-on-recycle-day", "balanced", {**QUIET, "recycle_on": TODAY}, HANG_UP, "default"
    ),
    row(
        "expected-reply",
        "balanced",
        {**QUIET, "expecting_response": True},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
    ),
    row(
        "expected-reply-beats-final-attempt",
        "balanced",
        {**QUIET, "expecting_response": True, "attempts": 4},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
        overridden=("final-attempt",),
    ),
    row(
        "final-attempt-at-5",
        "balanced",
        {**QUIET, "attempts": 4},
        FINAL,
        "final-attempt",
        ScriptKind.FINAL,
        recycle_on=FINAL_RECYCLE_ON,
    ),
    row(
        "final-attempt-past-5",
        "balanced",
        {**QUIET, "attempts": 7},
        FINAL,
        "final-attempt",
        ScriptKind.FINAL,
        recycle_on=FINAL_RECYCLE_ON,
    ),
    row("attempt-4-is-not-final", "balanced", {**QUIET, "attempts": 3}, HANG_UP, "default"),
    row(
        "final-attempt-beats-too-soon",
        "balanced",
        {**QUIET, **after_voicemail(4)},
        FINAL,
        "final-attempt",
        ScriptKind.FINAL,
        overridden=("too-soon",),
        recycle_on=FINAL_RECYCLE_ON,
    ),
    row(
        "too-soon-after-last-dial",
        "balanced",
        {**QUIET, "open_followup": ITEM, **after_voicemail(2)},
        HANG_UP,
        "too-soon",
        overridden=("open-followup",),
    ),
    row(
        "too-soon-two-dials-ago",
        "balanced",
        {**QUIET, "open_followup": ITEM, **after_voicemail(3, since=1)},
        HANG_UP,
        "too-soon",
        overridden=("open-followup",),
    ),
    row(
        "gap-of-two-met",
        "balanced",
        {**QUIET, "open_followup": ITEM, **after_voicemail(3, since=2)},
        LEAVE,
        "open-followup",
        ScriptKind.FOLLOWUP,
    ),
    row(
        "referral-overridden-by-too-soon",
        "balanced",
        {"relationship": REFERRED, "referred_by": "Tom Ruiz", **after_voicemail(1)},
        HANG_UP,
        "too-soon",
        overridden=("referral",),
    ),
    row(
        "open-followup",
        "balanced",
        {**QUIET, "open_followup": ITEM},
        LEAVE,
        "open-followup",
        ScriptKind.FOLLOWUP,
    ),
    row(
        "open-followup-beats-referral",
        "balanced",
        {"relationship": REFERRED, "referred_by": "Tom Ruiz", "open_followup": ITEM},
        LEAVE,
        "open-followup",
        ScriptKind.FOLLOWUP,
        overridden=("referral",),
    ),
    row(
        "referral",
        "balanced",
        {"relationship": REFERRED, "referred_by": "Tom Ruiz"},
        LEAVE,
        "referral",
        ScriptKind.REFERRAL,
    ),
    row(
        "new-in-role-stranger",
        "balanced",
        {"new_in_role": True},
        LEAVE,
        "new-in-role",
        ScriptKind.INTRODUCTION,
        overridden=("cold",),
    ),
    row(
        "new-in-role-known",
        "balanced",
        {**QUIET, "new_in_role": True},
        LEAVE,
        "new-in-role",
        ScriptKind.INTRODUCTION,
    ),
    row(
        "new-in-role-only-before-a-voicemail",
        "balanced",
        {"new_in_role": True, **after_voicemail(3, since=2)},
        DIAL_ZERO,
        "cold",
    ),
    row(
        "long-silence-known-42-days",
        "balanced",
        {"relationship": KNOWN, "last_conversation": days_ago(42)},
        LEAVE,
        "long-silence",
        ScriptKind.RECONNECT,
    ),
    row(
        "long-silence-client-60-days",
        "balanced",
        {"relationship": CLIENT, "last_conversation": days_ago(60)},
        LEAVE,
        "long-silence",
        ScriptKind.RECONNECT,
    ),
    row(
        "41-days-is-not-long",
        "balanced",
        {"relationship": KNOWN, "last_conversation": days_ago(41)},
        HANG_UP,
        "default",
    ),
    row(
        "long-silence-not-for-strangers",
        "balanced",
        {"last_conversation": days_ago(60)},
        DIAL_ZERO,
        "cold",
    ),
    row("cold-dial-zero", "balanced", {}, DIAL_ZERO, "cold"),
    row(
        "cold-zero-already-dialed",
        "balanced",
        {"attempts": 1, "dialed_zero": True},
        HANG_UP,
        "cold",
    ),
    row("default-known", "balanced", QUIET, HANG_UP, "default"),
    row("default-client", "balanced", {**QUIET, "relationship": CLIENT}, HANG_UP, "default"),
]

LIVE_ONLY = [
    row(
        "paused",
        "live-only",
        {"recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        recycle_on=PAUSED_UNTIL,
    ),
    row("stranger-no-dial-zero", "live-only", {}, HANG_UP, "live-only"),
    row(
        "expecting-reply-no-message",
        "live-only",
        {**QUIET, "expecting_response": True},
        HANG_UP,
        "live-only",
    ),
    row(
        "referral-no-message",
        "live-only",
        {"relationship": REFERRED, "referred_by": "Tom"},
        HANG_UP,
        "live-only",
    ),
    row("attempt-5-no-final", "live-only", {**QUIET, "attempts": 4}, HANG_UP, "live-only"),
]

SELECTIVE = [
    row(
        "paused",
        "selective",
        {"recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "expected-reply",
        "selective",
        {"expecting_response": True},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
    ),
    row(
        "referral-no-message",
        "selective",
        {"relationship": REFERRED, "referred_by": "Tom"},
        HANG_UP,
        "default",
    ),
    row(
        "open-followup-no-message",
        "selective",
        {**QUIET, "open_followup": ITEM},
        HANG_UP,
        "default",
    ),
    row("stranger-no-dial-zero", "selective", {}, HANG_UP, "default"),
    row("attempt-5-no-final", "selective", {**QUIET, "attempts": 4}, HANG_UP, "default"),
]

RAPPORT_SERIES = [
    row(
        "paused",
        "rapport-series",
        {"recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "expected-reply",
        "rapport-series",
        {"expecting_response": True},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
    ),
    row(
        "final-attempt",
        "rapport-series",
        after_voicemail(4, since=1, voicemails=2),
        FINAL,
        "final-attempt",
        ScriptKind.FINAL,
        recycle_on=FINAL_RECYCLE_ON,
    ),
    row("too-soon-after-last-dial", "rapport-series", after_voicemail(1), HANG_UP, "too-soon"),
    row(
        "gap-of-one-met",
        "rapport-series",
        after_voicemail(2, since=1),
        LEAVE,
        "series",
        ScriptKind.SERIES,
    ),
    row("first-dial-of-a-stranger", "rapport-series", {}, LEAVE, "series", ScriptKind.SERIES),
    row("known-prospect-too", "rapport-series", QUIET, LEAVE, "series", ScriptKind.SERIES),
]

REFERRAL_ONLY = [
    row(
        "paused",
        "referral-only",
        {"recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        overridden=("cold",),
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "expected-reply",
        "referral-only",
        {**QUIET, "expecting_response": True},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
    ),
    row(
        "referral",
        "referral-only",
        {"relationship": REFERRED, "referred_by": "Tom Ruiz"},
        LEAVE,
        "referral",
        ScriptKind.REFERRAL,
    ),
    row(
        "referral-has-no-too-soon",
        "referral-only",
        {"relationship": REFERRED, "referred_by": "Tom Ruiz", **after_voicemail(1)},
        LEAVE,
        "referral",
        ScriptKind.REFERRAL,
    ),
    row("stranger-dial-zero", "referral-only", {}, DIAL_ZERO, "cold"),
    row(
        "stranger-after-zero",
        "referral-only",
        {"attempts": 2, "dialed_zero": True},
        HANG_UP,
        "cold",
    ),
    row(
        "stranger-new-in-role-no-message", "referral-only", {"new_in_role": True}, DIAL_ZERO, "cold"
    ),
    row("known-default", "referral-only", {**QUIET, "open_followup": ITEM}, HANG_UP, "default"),
    row("attempt-5-no-final", "referral-only", {**QUIET, "attempts": 4}, HANG_UP, "default"),
]

IT_DEPENDS = [
    row(
        "paused",
        "it-depends",
        {**QUIET, "recycle_on": PAUSED_UNTIL},
        RECYCLE,
        "paused",
        recycle_on=PAUSED_UNTIL,
    ),
    row(
        "expected-reply",
        "it-depends",
        {**QUIET, "expecting_response": True},
        LEAVE,
        "expected-reply",
        ScriptKind.EXPECTED_REPLY,
    ),
    row(
        "too-soon",
        "it-depends",
        {**QUIET, "open_followup": ITEM, **after_voicemail(2)},
        HANG_UP,
        "too-soon",
        overridden=("open-followup",),
    ),
    row(
        "open-followup",
        "it-depends",
        {**QUIET, "open_followup": ITEM},
        LEAVE,
        "open-followup",
        ScriptKind.FOLLOWUP,
    ),
    row("new-prospect", "it-depends", {}, LEAVE, "new-prospect", ScriptKind.INTRODUCTION),
    row("stranger-second-dial", "it-depends", {"attempts": 1}, HANG_UP, "default"),
    row(
        "new-prospect-is-for-strangers",
        "it-depends",
        {"relationship": REFERRED, "referred_by": "Tom"},
        HANG_UP,
        "default",
    ),
    row(
        "long-silence-stranger-8-dials",
        "it-depends",
        {"attempts": 8},
        LEAVE,
        "long-silence",
        ScriptKind.RECONNECT,
    ),
    row("stranger-7-dials", "it-depends", {"attempts": 7}, HANG_UP, "default"),
    row(
        "long-silence-8-dials-after-voicemail",
        "it-depends",
        {**QUIET, **after_voicemail(10, since=8)},
        LEAVE,
        "long-silence",
        ScriptKind.RECONNECT,
    ),
    row(
        "7-dials-after-voicemail",
        "it-depends",
        {**QUIET, **after_voicemail(10, since=7)},
        HANG_UP,
        "default",
    ),
    row(
        "long-silence-referred-42-days",
        "it-depends",
        {"relationship": REFERRED, "last_conversation": days_ago(42)},
        LEAVE,
        "long-silence",
        ScriptKind.RECONNECT,
    ),
    row("attempt-5-no-final", "it-depends", {**QUIET, "attempts": 4}, HANG_UP, "default"),
]


def assert_decision(decision: Decision, expected: Row) -> None:
    assert decision.action is expected.action
    assert decision.playbook == expected.playbook
    assert decision.rule == expected.rule
    assert (decision.script.kind if decision.script else None) == expected.script
    assert tuple(reason.rule for reason in decision.overridden) == expected.overridden
    assert decision.recycle_on == expected.recycle_on
    no_message = expected.action not in (LEAVE, FINAL)
    assert decision.seconds_saved == (SECONDS_PER_VOICEMAIL if no_message else 0)


EVERY_ROW = [
    pytest.param(*case.values, id=f"{case.values[0].playbook}:{case.id}")
    for table in (BALANCED, LIVE_ONLY, SELECTIVE, RAPPORT_SERIES, REFERRAL_ONLY, IT_DEPENDS)
    for case in table
]


@pytest.mark.parametrize("expected", EVERY_ROW)
def test_every_row_of_every_playbook(expected: Row) -> None:
    assert_decision(decide_for(playbook=expected.playbook, **expected.given), expected)


@pytest.mark.parametrize("name", sorted(SPEC_RULE_ORDER))
def test_playbook_rules_are_in_the_spec_order(name: str) -> None:
    assert [rule.id for rule in PLAYBOOKS[name].rules] == SPEC_RULE_ORDER[name]


def test_there_are_the_six_playbooks_of_the_spec() -> None:
    assert set(PLAYBOOKS) == {
        "balanced",
        "live-only",
        "selective",
        "rapport-series",
        "referral-only",
        "it-depends",
    }


# --- a cycle dialed to the end: what each dial says, the history updated as the rep follows it


def next_history(history: History, decision: Decision) -> History:
    """The cycle after this dial, the rep having done what the decision said."""
    if decision.action.leaves_message:
        return replace(
            history,
            attempts=history.attempts + 1,
            voicemails_left=history.voicemails_left + 1,
            attempts_since_voicemail=0,
        )
    since = history.attempts_since_voicemail
    return replace(
        history,
        attempts=history.attempts + 1,
        attempts_since_voicemail=None if since is None else since + 1,
        dialed_zero=history.dialed_zero or decision.action is DIAL_ZERO,
    )


def dial_a_cycle(dials: int, **given: Any) -> list[Action]:
    request = make_request(**given)
    actions: list[Action] = []
    for _ in range(dials):
        decision = request.decide()
        actions.append(decision.action)
        request = replace(request, history=next_history(request.history, decision))
    return actions


def test_rapport_series_leaves_a_message_every_other_dial_then_a_final_one() -> None:
    assert dial_a_cycle(5, playbook="rapport-series") == [LEAVE, HANG_UP, LEAVE, HANG_UP, FINAL]


def test_balanced_referral_waits_two_dials_between_messages() -> None:
    actions = dial_a_cycle(5, relationship=REFERRED, referred_by="Tom Ruiz")
    assert actions == [LEAVE, HANG_UP, HANG_UP, LEAVE, FINAL]


def test_balanced_stranger_dials_zero_once_then_hangs_up_until_the_final_voicemail() -> None:
    assert dial_a_cycle(5) == [DIAL_ZERO, HANG_UP, HANG_UP, HANG_UP, FINAL]


def test_referral_only_never_leaves_a_stranger_a_message() -> None:
    assert LEAVE not in dial_a_cycle(8, playbook="referral-only")
    assert FINAL not in dial_a_cycle(8, playbook="referral-only")


def test_it_depends_introduces_itself_once_then_waits_for_a_long_silence() -> None:
    actions = dial_a_cycle(10, playbook="it-depends")
    # 1: a new prospect; 2-3: too soon; 4-9: no reason; 10: eight dials without a message.
    assert actions == [LEAVE] + [HANG_UP] * 8 + [LEAVE]


# --- reasons name their rule's seed and the concrete detail


def test_referral_reason_names_the_referrer_and_cites_seed_003() -> None:
    reason = decide_for(relationship=REFERRED, referred_by="Tom Ruiz").reasons[0]
    assert reason.source == "003_b2ca0156507fd887.txt"
    assert "Tom Ruiz" in reason.why


def test_overridden_rule_says_what_it_would_have_done() -> None:
    decision = decide_for(relationship=REFERRED, referred_by="Tom Ruiz", **after_voicemail(1))
    (lost,) = decision.overridden
    assert lost.rule == "referral"
    assert lost.action is LEAVE
    assert lost.source == "003_b2ca0156507fd887.txt"


def test_final_attempt_reason_cites_seed_002_and_the_recycle_days() -> None:
    reason = decide_for(**QUIET, attempts=4).reasons[0]
    assert reason.source == "002_8829cfc0d0dfed5a.txt"
    assert "90 days" in reason.why


@pytest.mark.parametrize("expected", EVERY_ROW)
def test_every_reason_is_a_sentence_starting_with_a_capital(expected: Row) -> None:
    decision = decide_for(playbook=expected.playbook, **expected.given)
    for reason in (*decision.reasons, *decision.overridden):
        assert reason.why[0].isupper() or reason.why[0].isdigit(), reason.why


@pytest.mark.parametrize(
    ("given", "opening"),
    [
        ({**QUIET, "open_followup": "the demo for the Q3 rollout"}, "The demo for the Q3 rollout"),
        ({"relationship": REFERRED, "referred_by": "tom ruiz"}, "Tom ruiz referred you"),
        ({**QUIET, "name": "jane doe", "expecting_response": True}, "Jane is waiting"),
        ({"name": "jane doe", "new_in_role": True}, "Jane is new in the role"),
    ],
    ids=["followup", "referral", "expected-reply", "new-in-role"],
)
def test_a_reason_opening_with_what_the_rep_typed_starts_with_a_capital(
    given: dict[str, Any], opening: str
) -> None:
    assert decide_for(**given).reasons[0].why.startswith(opening)


def test_long_silence_reason_gives_the_days_since_the_conversation() -> None:
    reason = decide_for(relationship=KNOWN, last_conversation=days_ago(50)).reasons[0]
    assert "50 days" in reason.why


# --- settings: the numbers a team may change


def test_final_attempt_4_leaves_the_final_voicemail_at_the_fourth_dial() -> None:
    settings = {"final_attempt": 4}
    assert decide_for(**QUIET, attempts=3, settings=settings).action is FINAL
    assert decide_for(**QUIET, attempts=2, settings=settings).action is HANG_UP


def test_final_attempt_6_waits_for_the_sixth_dial() -> None:
    settings = {"final_attempt": 6}
    assert decide_for(**QUIET, attempts=4, settings=settings).action is HANG_UP
    assert decide_for(**QUIET, attempts=5, settings=settings).action is FINAL


def test_recycle_days_120_pauses_the_lead_120_days() -> None:
    decision = decide_for(**QUIET, attempts=4, settings={"recycle_days": 120})
    assert decision.recycle_on == TODAY + timedelta(days=120)


def test_min_gap_3_still_too_soon_two_dials_after_a_voicemail() -> None:
    given = {**QUIET, "open_followup": ITEM, **after_voicemail(3, since=2)}
    decision = decide_for(**given, settings={"min_gap": 3})
    assert (decision.action, decision.rule) == (HANG_UP, "too-soon")
    assert decide_for(**given, settings={"min_gap": 3}).overridden[0].rule == "open-followup"
    assert decide_for(**given).action is LEAVE


def test_min_gap_setting_overrides_rapport_series_own_gap_of_one() -> None:
    given = after_voicemail(2, since=1)
    assert decide_for(playbook="rapport-series", **given).action is LEAVE
    decision = decide_for(playbook="rapport-series", **given, settings={"min_gap": 2})
    assert (decision.action, decision.rule) == (HANG_UP, "too-soon")


def test_min_gap_null_means_the_playbook_own_gap() -> None:
    given = after_voicemail(2, since=1)
    decision = decide_for(playbook="rapport-series", **given, settings={"min_gap": None})
    assert decision.action is LEAVE


def test_silence_days_28_reconnects_after_a_month() -> None:
    given = {"relationship": KNOWN, "last_conversation": days_ago(30)}
    assert decide_for(**given).action is HANG_UP
    decision = decide_for(**given, settings={"silence_days": 28})
    assert (decision.action, decision.rule) == (LEAVE, "long-silence")


def test_silence_days_60_makes_six_weeks_not_long_enough() -> None:
    given = {"relationship": KNOWN, "last_conversation": days_ago(42)}
    assert decide_for(**given, settings={"silence_days": 60}).action is HANG_UP


def test_silence_dials_4_reconnects_a_known_prospect_in_balanced() -> None:
    # Four dials without a message; the final voicemail moved to the sixth dial so it can show.
    settings = {"silence_dials": 4, "final_attempt": 6}
    decision = decide_for(**QUIET, attempts=4, settings=settings)
    assert (decision.action, decision.rule) == (LEAVE, "long-silence")
    assert decide_for(**QUIET, attempts=4, settings={"final_attempt": 6}).action is HANG_UP


def test_silence_dials_5_reconnects_a_stranger_in_it_depends() -> None:
    settings = {"silence_dials": 5}
    decision = decide_for(playbook="it-depends", attempts=5, settings=settings)
    assert (decision.action, decision.rule) == (LEAVE, "long-silence")
    assert decide_for(playbook="it-depends", attempts=4, settings=settings).action is HANG_UP
