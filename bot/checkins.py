"""What one end-of-call check-in does to a prospect's cycle. Pure: records in, records out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.records import (
    RECENT_DIALS_KEPT,
    Advice,
    CheckIn,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
)
from policy import Action, Relationship
from policy.decide import next_call_back, prospect_zone

ADVICE_FRESH_FOR = timedelta(hours=12)
VOICEMAIL_OUTCOMES = (Outcome.LEFT, Outcome.SKIPPED, Outcome.ZERO, Outcome.GATEKEEPER)


def advice_followed(advice: Advice | None, outcome: Outcome) -> bool | None:
    """Whether the rep did what the bot advised; None when the advice did not apply."""
    if advice is None or outcome not in VOICEMAIL_OUTCOMES:
        return None
    if advice.action.leaves_message:
        return outcome is Outcome.LEFT
    if advice.action is Action.HANG_UP:
        return outcome is Outcome.SKIPPED
    if advice.action is Action.DIAL_ZERO:
        return outcome in (Outcome.ZERO, Outcome.GATEKEEPER)
    return False


def fresh_advice(record: ProspectRecord, at: datetime) -> Advice | None:
    advice = record.last_advice
    if advice is None or at - advice.at > ADVICE_FRESH_FOR:
        return None
    return advice


def apply_check_in(
    record: ProspectRecord,
    outcome: Outcome,
    at: datetime,
    *,
    rep: RepProfile,
    team: TeamConfig,
    note: str = "",
    key: str = "",
) -> tuple[ProspectRecord, CheckIn]:
    """The prospect after this outcome, and the log entry that records it."""
    advice = fresh_advice(record, at)
    check_in = CheckIn(
        tenant=record.tenant,
        rep_id=record.rep_id,
        team=rep.team,
        prospect_key=record.key,
        outcome=outcome,
        at=at,
        note=note,
        advice=advice,
        followed=advice_followed(advice, outcome),
        key=key,
    )
    updated = _after_outcome(record, outcome, at, advice, rep, team)
    return _with_next_call(updated, outcome, at, rep, team), check_in


def _after_outcome(
    record: ProspectRecord,
    outcome: Outcome,
    at: datetime,
    advice: Advice | None,
    rep: RepProfile,
    team: TeamConfig,
) -> ProspectRecord:
    today = at.astimezone(
        prospect_zone(record.as_policy_prospect(), rep.as_policy_rep(), at)
    ).date()
    record = replace(record, last_advice=None)
    if record.recycle_on is not None and record.recycle_on <= today:
        record = replace(_restart_cycle(record), recycle_on=None)
    if outcome.is_conversation:
        record = _end_cycle(record, today)
        if outcome is Outcome.NOT_INTERESTED:
            record = replace(record, recycle_on=today + timedelta(days=team.settings.recycle_days))
        return record
    record = _count_dial(record, at, outcome)
    if outcome is Outcome.LEFT and _was_final(record, advice, team):
        return replace(
            _restart_cycle(record), recycle_on=today + timedelta(days=team.settings.recycle_days)
        )
    return record


def _count_dial(record: ProspectRecord, at: datetime, outcome: Outcome) -> ProspectRecord:
    since = record.attempts_since_voicemail
    if outcome is Outcome.LEFT:
        since = 0
    elif since is not None:
        since += 1
    return replace(
        record,
        attempts=record.attempts + 1,
        voicemails_left=record.voicemails_left + (outcome is Outcome.LEFT),
        attempts_since_voicemail=since,
        dialed_zero=record.dialed_zero or outcome in (Outcome.ZERO, Outcome.GATEKEEPER),
        recent_dials=(*record.recent_dials, at)[-RECENT_DIALS_KEPT:],
    )


def _was_final(record: ProspectRecord, advice: Advice | None, team: TeamConfig) -> bool:
    if advice is not None:
        return advice.action is Action.FINAL_VOICEMAIL
    return team.playbook in ("balanced", "rapport-series") and (
        record.attempts >= team.settings.final_attempt
    )


def _restart_cycle(record: ProspectRecord) -> ProspectRecord:
    return replace(
        record,
        attempts=0,
        voicemails_left=0,
        attempts_since_voicemail=None,
        dialed_zero=False,
        recent_dials=(),
    )


def _end_cycle(record: ProspectRecord, today: date) -> ProspectRecord:
    relationship = record.relationship
    if relationship in (Relationship.STRANGER, Relationship.REFERRED):
        relationship = Relationship.KNOWN
    return replace(
        _restart_cycle(record),
        relationship=relationship,
        last_conversation=today,
        expecting_response=False,
        recycle_on=None,
    )


def _with_next_call(
    record: ProspectRecord, outcome: Outcome, at: datetime, rep: RepProfile, team: TeamConfig
) -> ProspectRecord:
    if outcome.is_conversation and record.recycle_on is None:
        return replace(record, next_call_start=None, next_call_end=None)
    window = next_call_back(
        rep=rep.as_policy_rep(),
        prospect=record.as_policy_prospect(),
        history=record.as_policy_history(),
        now=at,
        message_left=outcome is Outcome.LEFT,
        settings=team.settings,
    )
    return replace(record, next_call_start=window.start, next_call_end=window.end)
