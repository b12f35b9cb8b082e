"""A rep's morning nudge: today's call-backs with what to do if voicemail answers on each,
paused leads past their recycle date, and yesterday in numbers. Nothing due: no nudge."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.digests import Numbers, count, minutes_text
from bot.records import CheckIn, ProspectRecord, RepProfile, TeamConfig
from bot.replies import ADVICE, ASK, day_text
from bot.store.base import Store
from bot.types import Button, Fact, Reply
from policy import Action, Decision, decide
from policy import rules as r

SHOWN = 10  # the most urgent items a nudge lists; the rest are one command away
BUTTONS = 5  # a card stays readable, and within Slack's and Teams' limits, with five actions
BUTTON_NAME_CHARS = 60  # Slack cuts a button's text at 75 characters


@dataclass(frozen=True, slots=True)
class DueCallback:
    """A call-back due today: its window in the rep's time and in the prospect's, and the
    decision computed ahead for a dial at the window's start."""

    key: str
    name: str
    company: str
    start: datetime  # in the rep's zone
    end: datetime
    prospect_start: datetime  # in the prospect's zone (the rep's when it is not known)
    prospect_end: datetime
    action: Action
    rule: str
    reason: str  # short: "final voicemail: attempt 5"
    missed: bool = False  # the window started before today: still to call
    pause_ended: date | None = None  # a recycled lead's first call of its new series

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True, slots=True)
class OverdueRecycle:
    key: str
    name: str
    company: str
    recycle_on: date
    days_overdue: int  # 0: the pause ends today


@dataclass(frozen=True, slots=True)
class Nudge:
    tenant: str
    user_id: str
    local_date: date  # the rep's today
    zone: str
    callbacks: tuple[DueCallback, ...]
    recycles: tuple[OverdueRecycle, ...]
    yesterday: Numbers
    more: int  # due but not listed: the list is capped at SHOWN

    @property
    def yesterday_date(self) -> date:
        return self.local_date - timedelta(days=1)


def rep_zone(rep: RepProfile) -> tzinfo:
    return ZoneInfo(rep.timezone) if rep.timezone else UTC


def rep_nudge(
    rep: RepProfile,
    team: TeamConfig,
    callbacks: Sequence[ProspectRecord],
    recycles: Sequence[ProspectRecord],
    yesterday: Sequence[CheckIn],
    now: datetime,
) -> Nudge | None:
    """The nudge for `now`'s day in the rep's zone, or None when nothing is due.

    `callbacks`: the rep's prospects whose window starts by the end of today (store order or
    not); `recycles`: paused ones whose recycle date is today or before. Call-backs come first
    (their windows close today), then recycles, oldest first: the first SHOWN are listed.
    A paused lead whose window already passed is a recycle; one whose window is today is a
    call-back (its pause has ended), never both."""
    zone = rep_zone(rep)
    today = now.astimezone(zone).date()
    day_starts = datetime.combine(today, time.min, tzinfo=zone)
    day_ends = datetime.combine(today, time.max, tzinfo=zone)
    paused = {
        record.key: record
        for record in recycles
        if record.recycle_on is not None and record.recycle_on <= today
    }
    calls = [
        record
        for record in sorted(callbacks, key=_window_start)
        if (window := record.next_window) is not None
        and window.start <= day_ends
        and not (record.key in paused and window.start < day_starts)
    ]
    calling = {record.key for record in calls}
    restarts = sorted(
        (record for record in paused.values() if record.key not in calling),
        key=lambda record: (record.recycle_on, record.key),
    )
    if not calls and not restarts:
        return None
    shown_calls = calls[:SHOWN]
    shown_restarts = restarts[: SHOWN - len(shown_calls)]
    return Nudge(
        tenant=rep.tenant,
        user_id=rep.user_id,
        local_date=today,
        zone=rep.timezone or "UTC",
        callbacks=tuple(
            _due_callback(record, rep, team, zone, now, day_starts, paused)
            for record in shown_calls
        ),
        recycles=tuple(_overdue(record, today) for record in shown_restarts),
        yesterday=count(yesterday),
        more=len(calls) + len(restarts) - len(shown_calls) - len(shown_restarts),
    )


def _window_start(record: ProspectRecord) -> datetime:
    return record.next_call_start or datetime.max.replace(tzinfo=UTC)


def _due_callback(
    record: ProspectRecord,
    rep: RepProfile,
    team: TeamConfig,
    zone: tzinfo,
    now: datetime,
    day_starts: datetime,
    paused: Mapping[str, ProspectRecord],
) -> DueCallback:
    window = record.next_window
    assert window is not None
    missed = window.start < day_starts
    # A missed window's start is gone: the decision is for a dial now, when they call today.
    decision = decision_for(record, rep, team, now if missed else window.start)
    theirs = ZoneInfo(record.timezone) if record.timezone else zone
    pause = paused.get(record.key)
    return DueCallback(
        key=record.key,
        name=record.name,
        company=record.company,
        start=window.start.astimezone(zone),
        end=window.end.astimezone(zone),
        prospect_start=window.start.astimezone(theirs),
        prospect_end=window.end.astimezone(theirs),
        action=decision.action,
        rule=decision.rule,
        reason=short_reason(record, decision),
        missed=missed,
        pause_ended=None if pause is None else pause.recycle_on,
    )


def decision_for(
    record: ProspectRecord, rep: RepProfile, team: TeamConfig, at: datetime
) -> Decision:
    """What the policy says if voicemail answers a dial at `at`, as things stand: the one way
    the coach asks it, now or (for a nudge) ahead of a call-back window."""
    return decide(
        rep=rep.as_policy_rep(),
        prospect=record.as_policy_prospect(),
        history=record.as_policy_history(),
        now=at,
        playbook=team.playbook,
        settings=team.settings,
    )


def _overdue(record: ProspectRecord, today: date) -> OverdueRecycle:
    assert record.recycle_on is not None
    return OverdueRecycle(
        record.key,
        record.name,
        record.company,
        record.recycle_on,
        (today - record.recycle_on).days,
    )


def _attempt(record: ProspectRecord, _: Decision) -> int:
    return record.attempts + 1


def _dials_ago(record: ProspectRecord) -> str:
    ago = (record.attempts_since_voicemail or 0) + 1
    return "your last dial" if ago == 1 else f"{ago} dials ago"


def _first_clause(_: ProspectRecord, decision: Decision) -> str:
    """The reason's opening words, up to its colon or full stop: "40 days since you spoke"."""
    why = decision.reasons[0].why
    clause = why.split(":", 1)[0].split(". ", 1)[0].rstrip(".")
    return clause[:1].lower() + clause[1:]


# Each rule's reason in a few words; a rule not listed falls back on its reason's first clause.
SHORT_REASONS: Mapping[str, Callable[[ProspectRecord, Decision], str]] = {
    r.PAUSED.id: lambda rec, d: f"paused until {day_text(d.recycle_on or date.min)}",
    r.EXPECTED_REPLY.id: lambda rec, d: f"{rec.first_name} expects your answer",
    r.FINAL_ATTEMPT.id: lambda rec, d: f"final voicemail: attempt {_attempt(rec, d)}",
    r.TOO_SOON.id: lambda rec, d: f"you left a voicemail {_dials_ago(rec)}",
    r.OPEN_FOLLOWUP.id: lambda rec, d: f"{rec.open_followup} waits for an answer",
    r.REFERRAL.id: lambda rec, d: f"referred by {rec.referred_by or 'someone'}",
    r.NEW_IN_ROLE.id: lambda rec, d: "new in the role",
    r.LONG_SILENCE.id: _first_clause,
    r.COLD.id: lambda rec, d: (
        "a stranger: you dialed zero already"
        if d.action is Action.HANG_UP
        else "a stranger: dial zero to learn more"
    ),
    r.NEW_PROSPECT.id: lambda rec, d: "first dial to someone new",
    r.SERIES.id: lambda rec, d: f"series message: attempt {_attempt(rec, d)}",
    r.LIVE_ONLY.id: lambda rec, d: "live conversations only",
    r.DEFAULT.id: lambda rec, d: "no reason strong enough for a message",
}


def short_reason(record: ProspectRecord, decision: Decision) -> str:
    return SHORT_REASONS.get(decision.rule, _first_clause)(record, decision)


async def gather_rep_nudge(store: Store, rep: RepProfile, now: datetime) -> Nudge | None:
    """Read what the rep's nudge for `now`'s day needs; a rep with nothing due costs two reads.

    "Yesterday" is the calendar day before today in the rep's zone."""
    zone = rep_zone(rep)
    today = now.astimezone(zone).date()
    midnight = datetime.combine(today, time.min, tzinfo=zone)
    callbacks, recycles = await asyncio.gather(
        store.callbacks_due(rep.tenant, rep.user_id, datetime.combine(today, time.max, zone)),
        store.recycles_due(rep.tenant, rep.user_id, today),
    )
    if not callbacks and not recycles:
        return None
    yesterday_starts = datetime.combine(today - timedelta(days=1), time.min, tzinfo=zone)
    team, yesterday = await asyncio.gather(
        store.get_team(rep.tenant, rep.team),
        store.rep_check_ins(rep.tenant, rep.user_id, yesterday_starts, midnight),
    )
    return rep_nudge(rep, team, callbacks, recycles, yesterday, now)


# --- how a nudge reads ------------------------------------------------------------------------


def nudge_reply(nudge: Nudge) -> Reply:
    paragraphs: list[str] = []
    if nudge.callbacks:
        paragraphs.append(
            "Call-backs today:\n" + "\n".join(f"• {_call_text(c)}" for c in nudge.callbacks)
        )
    if nudge.recycles:
        paragraphs.append(
            "Paused leads past their recycle date, oldest first:\n"
            + "\n".join(f"• {_recycle_text(rec)}" for rec in nudge.recycles)
        )
    if nudge.more:
        paragraphs.append(f"and {nudge.more} more: /voicemail queue")
    return Reply(
        heading=f"Your day, {nudge.local_date:%a %d %b}: {_due_count(nudge)} due",
        paragraphs=tuple(paragraphs),
        facts=_yesterday_facts(nudge),
        buttons=tuple(
            Button(f"Decide for {_clipped(call.name)}", ASK, call.key)
            for call in nudge.callbacks[:BUTTONS]
        ),
    )


def _due_count(nudge: Nudge) -> int:
    return len(nudge.callbacks) + len(nudge.recycles) + nudge.more


def _clipped(name: str) -> str:
    return name if len(name) <= BUTTON_NAME_CHARS else name[: BUTTON_NAME_CHARS - 1] + "…"


def _hours(start: datetime, end: datetime, today: date) -> str:
    day = "" if start.date() == today else f"{start:%a %d %b} "
    return f"{day}{start:%H:%M}-{end:%H:%M}"


def _call_text(call: DueCallback) -> str:
    mine = call.start.date()
    when = f"{_hours(call.start, call.end, mine)} your time"
    if call.prospect_start.utcoffset() != call.start.utcoffset():
        when += f" ({_hours(call.prospect_start, call.prospect_end, mine)} for {call.first_name})"
    if call.missed:
        when = f"missed {call.start:%a %d %b}, {when}: call today"
    text = f"{call.name} @ {call.company}, {when}."
    if call.pause_ended is not None:
        text += f" Pause ended {day_text(call.pause_ended)}: a new series."
    return f"{text} If voicemail answers: {ADVICE[call.action]} ({call.reason})."


def _recycle_text(recycle: OverdueRecycle) -> str:
    if recycle.days_overdue == 0:
        late = "due today"
    else:
        late = f"{recycle.days_overdue} day{'' if recycle.days_overdue == 1 else 's'} overdue"
    return (
        f"{recycle.name} @ {recycle.company}: paused until {day_text(recycle.recycle_on)}, "
        f"{late}. Start a new series."
    )


def _yesterday_facts(nudge: Nudge) -> tuple[Fact, ...]:
    numbers = nudge.yesterday
    day = f"{nudge.yesterday_date:%a %d %b}"
    return (
        Fact(f"Dials yesterday ({day})", str(numbers.dials)),
        Fact(
            "Voicemails left", f"{numbers.voicemails} ({minutes_text(numbers.voicemail_minutes)})"
        ),
        Fact(
            "Skipped on advice",
            f"{numbers.skipped} ({minutes_text(numbers.minutes_saved)} saved)",
        ),
        Fact("Callbacks", str(numbers.callbacks)),
    )


def nudge_json(nudge: Nudge) -> dict[str, Any]:
    """The nudge's content as plain JSON; times are ISO 8601 with their offsets."""
    numbers = nudge.yesterday
    return {
        "zone": nudge.zone,
        "callbacks": [
            {
                "prospect": call.name,
                "company": call.company,
                "key": call.key,
                "window_start": call.start.isoformat(),
                "window_end": call.end.isoformat(),
                "prospect_window_start": call.prospect_start.isoformat(),
                "prospect_window_end": call.prospect_end.isoformat(),
                "action": call.action.value,
                "rule": call.rule,
                "reason": call.reason,
                "missed": call.missed,
                "pause_ended": None if call.pause_ended is None else call.pause_ended.isoformat(),
            }
            for call in nudge.callbacks
        ],
        "recycles": [
            {
                "prospect": recycle.name,
                "company": recycle.company,
                "key": recycle.key,
                "recycle_on": recycle.recycle_on.isoformat(),
                "days_overdue": recycle.days_overdue,
            }
            for recycle in nudge.recycles
        ],
        "yesterday": {
            "date": nudge.yesterday_date.isoformat(),
            "dials": numbers.dials,
            "voicemails": numbers.voicemails,
            "voicemail_minutes": numbers.voicemail_minutes,
            "skipped": numbers.skipped,
            "minutes_saved": numbers.minutes_saved,
            "callbacks": numbers.callbacks,
        },
        "more": nudge.more,
    }
