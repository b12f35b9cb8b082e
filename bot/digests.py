"""Team numbers from the check-in log, and the team digest built on them: per rep and for the
team, this period against the one before, with coaching notes from documented rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.records import CheckIn, Outcome, RepProfile, TeamConfig
from bot.types import Fact, Image, Reply
from policy.decide import SECONDS_PER_VOICEMAIL
from policy.rules import FINAL_ATTEMPT

if TYPE_CHECKING:  # replies import this module: it need not load the stores
    from bot.store.base import Store

# The coaching notes' thresholds. Each note fires on its rule alone and cites its numbers.
# Ten messages is over seven minutes of talking to machines: enough to say the approach fails.
SILENT_VOICEMAILS = 10
# Fewer than five pieces of advice checked in is too few to judge how often it is followed.
ADVICE_TO_JUDGE = 5
# Below half, the rep goes another way more often than not: the advice is not landing.
FOLLOWED_AT_LEAST = 0.5
# Five paused leads past their date is more than a morning's restarts: they are piling up.
OVERDUE_PILE = 5
# A rule's voicemails are judged on ten or more; "far below" is under half the team's rate.
RULE_VOICEMAILS_TO_JUDGE = 10
FAR_BELOW = 0.5


@dataclass(frozen=True, slots=True)
class Numbers:
    dials: int = 0
    connects: int = 0
    voicemails: int = 0
    callbacks: int = 0
    advice_given: int = 0
    advice_followed: int = 0
    skipped: int = 0  # voicemails skipped: hung up at the beep, no message
    final_voicemails: int = 0  # voicemails left on the final-attempt advice

    @property
    def voicemail_minutes(self) -> float:
        return self.voicemails * SECONDS_PER_VOICEMAIL / 60

    @property
    def minutes_saved(self) -> float:
        return self.skipped * SECONDS_PER_VOICEMAIL / 60

    @property
    def callback_rate(self) -> float | None:
        return None if self.voicemails == 0 else self.callbacks / self.voicemails

    @property
    def followed_rate(self) -> float | None:
        return None if self.advice_given == 0 else self.advice_followed / self.advice_given


def count(check_ins: Iterable[CheckIn]) -> Numbers:
    dials = connects = voicemails = callbacks = given = followed = skipped = finals = 0
    for check_in in check_ins:
        outcome = check_in.outcome
        dials += outcome.is_dial
        connects += outcome.is_conversation and outcome is not Outcome.CALLED_BACK
        voicemails += outcome is Outcome.LEFT
        callbacks += outcome is Outcome.CALLED_BACK
        given += check_in.followed is not None
        followed += check_in.followed is True
        skipped += outcome is Outcome.SKIPPED
        finals += outcome is Outcome.LEFT and _advised_rule(check_in) == FINAL_ATTEMPT.id
    return Numbers(dials, connects, voicemails, callbacks, given, followed, skipped, finals)


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def minutes_text(minutes: float) -> str:
    """45 s a voicemail: "0.8 min", "3 min", "4.5 min"."""
    return f"{round(minutes, 1):g} min"


def _advised_rule(check_in: CheckIn) -> str | None:
    return None if check_in.advice is None else check_in.advice.rule


# --- the digest -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metric:
    """One number of a digest line: its key in JSON, its words, how to read it off Numbers."""

    key: str
    label: str
    value: Callable[[Numbers], float | None]
    rate: bool = False  # a share: its change is in percentage points


METRICS: tuple[Metric, ...] = (
    Metric("dials", "Dials", lambda n: n.dials),
    Metric("connects", "Connects", lambda n: n.connects),
    Metric("voicemails", "Voicemails left", lambda n: n.voicemails),
    Metric("voicemail_minutes", "Voicemail minutes", lambda n: n.voicemail_minutes),
    Metric("skipped", "Skipped on advice", lambda n: n.skipped),
    Metric("minutes_saved", "Minutes saved", lambda n: n.minutes_saved),
    Metric("callbacks", "Callbacks from voicemails", lambda n: n.callbacks),
    Metric("callback_rate", "Callback rate", lambda n: n.callback_rate, rate=True),
    Metric("advice_given", "Advice given", lambda n: n.advice_given),
    Metric("advice_followed", "Advice followed", lambda n: n.advice_followed),
    Metric("followed_rate", "Advice followed rate", lambda n: n.followed_rate, rate=True),
    Metric("final_voicemails", "Final voicemails", lambda n: n.final_voicemails),
)


def change(metric: Metric, current: Numbers, previous: Numbers) -> float | None:
    """This period's value less the previous one's; for a rate, in percentage points. None
    when a rate is not defined in either period."""
    now, before = metric.value(current), metric.value(previous)
    if now is None or before is None:
        return None
    if metric.rate:
        return round((now - before) * 100, 1)
    return round(now - before, 2)


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a digest: a rep's (or the team's) numbers this period and the one before."""

    user_id: str | None  # None: the team's totals
    name: str
    current: Numbers
    previous: Numbers
    overdue: int = 0  # paused leads past their recycle date now (no earlier count is kept)

    def change(self, metric: Metric) -> float | None:
        return change(metric, self.current, self.previous)


@dataclass(frozen=True, slots=True)
class Note:
    """A coaching note: which rule fired, for whom (None: the team), and the numbers it cites."""

    kind: str
    rep_id: str | None
    text: str
    numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Digest:
    team: TeamConfig
    since: datetime
    until: datetime
    cadence: str
    reps: tuple[Line, ...]
    total: Line
    notes: tuple[Note, ...]

    @property
    def period(self) -> str:
        """The days covered, as read: "Tue 01 Dec" or "Tue 24 Nov-Mon 30 Nov"."""
        first = self.since.date()
        last = (self.until - timedelta(microseconds=1)).astimezone(self.since.tzinfo).date()
        if last <= first:
            return f"{first:%a %d %b}"
        return f"{first:%a %d %b}-{last:%a %d %b}"


def team_digest(
    team: TeamConfig,
    reps: Sequence[RepProfile],
    current: Sequence[CheckIn],
    previous: Sequence[CheckIn],
    overdue: Mapping[str, int],
    since: datetime,
    until: datetime,
    cadence: str,
) -> Digest:
    """The digest of [since, until) against the equal period before it. `overdue` counts each
    rep's paused leads past their recycle date; reps with check-ins in the team's log who are
    no longer listed in it (moved teams) are still shown, by their id."""
    names = {rep.user_id: rep.name or rep.user_id for rep in reps}
    for check_in in (*current, *previous):
        names.setdefault(check_in.rep_id, check_in.rep_id)
    now_by_rep, before_by_rep = _by_rep(current), _by_rep(previous)
    lines = tuple(
        Line(
            user_id,
            name,
            count(now_by_rep.get(user_id, ())),
            count(before_by_rep.get(user_id, ())),
            overdue.get(user_id, 0),
        )
        for user_id, name in names.items()
    )
    total = Line(
        None, team.title, count(current), count(previous), sum(line.overdue for line in lines)
    )
    notes = (*_rep_notes(lines), *_rule_notes(current, total.current))
    return Digest(team, since, until, cadence, lines, total, notes)


def _by_rep(check_ins: Iterable[CheckIn]) -> dict[str, list[CheckIn]]:
    grouped: dict[str, list[CheckIn]] = {}
    for check_in in check_ins:
        grouped.setdefault(check_in.rep_id, []).append(check_in)
    return grouped


def _rep_notes(lines: Iterable[Line]) -> list[Note]:
    notes: list[Note] = []
    for line in lines:
        notes += [note for rule in _REP_RULES if (note := rule(line)) is not None]
    return notes


def _silent_voicemails(line: Line) -> Note | None:
    numbers = line.current
    if numbers.voicemails < SILENT_VOICEMAILS or numbers.callbacks > 0:
        return None
    return Note(
        "voicemails-without-callback",
        line.user_id,
        f"{line.name} left {numbers.voicemails} voicemails and got no callback: "
        "try the late window or skip to email.",
        {"voicemails": numbers.voicemails, "callbacks": 0},
    )


def _advice_not_followed(line: Line) -> Note | None:
    numbers = line.current
    rate = numbers.followed_rate
    if numbers.advice_given < ADVICE_TO_JUDGE or rate is None or rate >= FOLLOWED_AT_LEAST:
        return None
    return Note(
        "advice-not-followed",
        line.user_id,
        f"{line.name} followed the advice on {numbers.advice_followed} of "
        f"{numbers.advice_given} calls ({percent(rate)}): go through the reasons together.",
        {"followed": numbers.advice_followed, "given": numbers.advice_given},
    )


def _overdue_pile(line: Line) -> Note | None:
    if line.overdue < OVERDUE_PILE:
        return None
    return Note(
        "overdue-recycles",
        line.user_id,
        f"{line.name} has {line.overdue} paused leads past their recycle date: "
        "restart them before new ones go cold too.",
        {"overdue": line.overdue},
    )


_REP_RULES: tuple[Callable[[Line], Note | None], ...] = (
    _silent_voicemails,
    _advice_not_followed,
    _overdue_pile,
)


@dataclass(frozen=True, slots=True)
class RuleNumbers:
    """Voicemails left on one rule's advice, and the callbacks that followed them."""

    rule: str
    voicemails: int
    callbacks: int

    @property
    def callback_rate(self) -> float:
        return self.callbacks / self.voicemails


def rule_numbers(check_ins: Sequence[CheckIn]) -> list[RuleNumbers]:
    """A callback counts for the rule whose advice the prospect's last voicemail before it
    followed; voicemails left without advice belong to no rule. By rule id."""
    voicemails: dict[str, int] = {}
    callbacks: dict[str, int] = {}
    last_rule: dict[tuple[str, str], str | None] = {}
    for check_in in sorted(check_ins, key=lambda c: c.at):
        prospect = (check_in.rep_id, check_in.prospect_key)
        if check_in.outcome is Outcome.LEFT:
            rule = _advised_rule(check_in)
            last_rule[prospect] = rule
            if rule is not None:
                voicemails[rule] = voicemails.get(rule, 0) + 1
        elif check_in.outcome is Outcome.CALLED_BACK and (rule := last_rule.get(prospect)):
            callbacks[rule] = callbacks.get(rule, 0) + 1
    return [RuleNumbers(rule, n, callbacks.get(rule, 0)) for rule, n in sorted(voicemails.items())]


def _rule_notes(check_ins: Sequence[CheckIn], team: Numbers) -> list[Note]:
    team_rate = team.callback_rate
    if not team_rate:
        return []
    return [
        Note(
            "rule-callback-rate",
            None,
            f"Voicemails left on the “{numbers.rule}” advice got {numbers.callbacks} callbacks "
            f"from {numbers.voicemails} ({percent(numbers.callback_rate)}), under half the "
            f"team's {percent(team_rate)}: check that those messages are worth 45 seconds.",
            {
                "voicemails": numbers.voicemails,
                "callbacks": numbers.callbacks,
                "team_voicemails": team.voicemails,
                "team_callbacks": team.callbacks,
            },
        )
        for numbers in rule_numbers(check_ins)
        if numbers.voicemails >= RULE_VOICEMAILS_TO_JUDGE
        and numbers.callback_rate < team_rate * FAR_BELOW
    ]


async def gather_team_digest(
    store: Store, team: TeamConfig, since: datetime, until: datetime, cadence: str
) -> Digest:
    """Read what the digest of [since, until) needs: the team's reps, each one's check-ins of
    this period and the one before (read by rep, so a rep added to the team brings their
    calls along, and one who left takes theirs), and each rep's overdue recycles as of the
    day before `until`."""
    before = since - (until - since)
    reps = await store.reps_in_team(team.tenant, team.team)
    last_day = (until.astimezone(UTC) - timedelta(days=1)).date()
    logs, recycles = await asyncio.gather(
        asyncio.gather(*(store.rep_check_ins(team.tenant, r.user_id, before, until) for r in reps)),
        asyncio.gather(*(store.recycles_due(team.tenant, r.user_id, last_day) for r in reps)),
    )
    check_ins = [check_in for log in logs for check_in in log]
    current = [check_in for check_in in check_ins if check_in.at >= since]
    previous = [check_in for check_in in check_ins if check_in.at < since]
    overdue = {rep.user_id: len(found) for rep, found in zip(reps, recycles, strict=True)}
    return team_digest(team, reps, current, previous, overdue, since, until, cadence)


# --- how a digest reads -----------------------------------------------------------------------


def digest_reply(digest: Digest, image: Image | None) -> Reply:
    """The digest as a message: the team's totals as facts, a line per rep, the notes."""
    paragraphs = [f"Compared with the {_days(digest)} before."]
    paragraphs += [_rep_text(line) for line in digest.reps]
    if digest.notes:
        paragraphs.append("Coaching notes:\n" + "\n".join(f"• {n.text}" for n in digest.notes))
    if digest.total.current == Numbers() and digest.total.previous == Numbers():
        paragraphs = ["No check-ins in this period or the one before."]
    return Reply(
        heading=f"Team digest: {digest.team.title}, {digest.period}",
        facts=_total_facts(digest.total),
        paragraphs=tuple(paragraphs),
        image=image,
    )


def _days(digest: Digest) -> str:
    days = round((digest.until - digest.since) / timedelta(days=1))
    return "day" if days == 1 else f"{days} days"


def _number(value: float | None) -> str:
    """A count as an integer, a fraction with at most two decimals: "12", "1.5"."""
    if value is None:
        return "n/a"
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


def _signed(delta: float | None, unit: str = "") -> str:
    if delta is None:
        return ""
    if delta == 0:
        return " (same)"
    return f" ({'+' if delta > 0 else '-'}{_number(abs(delta))}{unit})"


_BY_KEY = {metric.key: metric for metric in METRICS}


def _part(line: Line, key: str) -> str:
    """A count with its change: "12 (+3)"."""
    metric = _BY_KEY[key]
    return f"{_number(metric.value(line.current))}{_signed(line.change(metric))}"


def _rate_part(line: Line, key: str) -> str:
    metric = _BY_KEY[key]
    return f"{percent(metric.value(line.current))}{_signed(line.change(metric), ' pts')}"


def _total_facts(total: Line) -> tuple[Fact, ...]:
    numbers = total.current
    return (
        Fact("Dials", _part(total, "dials")),
        Fact("Connects", _part(total, "connects")),
        Fact(
            "Voicemails left",
            f"{_part(total, 'voicemails')}, {minutes_text(numbers.voicemail_minutes)}",
        ),
        Fact(
            "Skipped on advice",
            f"{_part(total, 'skipped')}, {minutes_text(numbers.minutes_saved)} saved",
        ),
        Fact(
            "Callbacks from voicemails",
            f"{_part(total, 'callbacks')}, rate {_rate_part(total, 'callback_rate')}",
        ),
        Fact(
            "Advice followed",
            f"{numbers.advice_followed} of {numbers.advice_given}, "
            f"{_rate_part(total, 'followed_rate')}",
        ),
        Fact("Overdue recycles", str(total.overdue)),
        Fact("Final voicemails", _part(total, "final_voicemails")),
    )


def _rep_text(line: Line) -> str:
    numbers = line.current
    return (
        f"{line.name}: {_part(line, 'dials')} dials, {_part(line, 'connects')} connects, "
        f"{_part(line, 'voicemails')} voicemails ({minutes_text(numbers.voicemail_minutes)}), "
        f"{_part(line, 'skipped')} skipped ({minutes_text(numbers.minutes_saved)} saved), "
        f"{_part(line, 'callbacks')} callbacks (rate {_rate_part(line, 'callback_rate')}), "
        f"advice followed {numbers.advice_followed} of {numbers.advice_given} "
        f"({_rate_part(line, 'followed_rate')}), {line.overdue} overdue recycles, "
        f"{_part(line, 'final_voicemails')} final voicemails."
    )


def digest_json(digest: Digest) -> dict[str, Any]:
    """The digest as plain JSON: each metric as {value, previous, change}; a rate's change is
    in percentage points; overdue recycles have no previous count."""
    return {
        "team": {
            "id": digest.team.team,
            "title": digest.team.title,
            "playbook": digest.team.playbook,
        },
        "period": {
            "since": digest.since.isoformat(),
            "until": digest.until.isoformat(),
            "cadence": digest.cadence,
        },
        "totals": _line_json(digest.total),
        "reps": [
            {"user": line.user_id, "name": line.name} | _line_json(line) for line in digest.reps
        ],
        "notes": [
            {
                "kind": note.kind,
                "user": note.rep_id,
                "text": note.text,
                "numbers": dict(note.numbers),
            }
            for note in digest.notes
        ],
    }


def _line_json(line: Line) -> dict[str, Any]:
    fields: dict[str, Any] = {
        metric.key: {
            "value": metric.value(line.current),
            "previous": metric.value(line.previous),
            "change": line.change(metric),
        }
        for metric in METRICS
    }
    fields["overdue_recycles"] = {"value": line.overdue, "previous": None, "change": None}
    return fields
