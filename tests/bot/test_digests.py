"""Team numbers from the check-in log, and the team digest: per rep and for the team against
the period before, and each coaching note at its threshold."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.digests import (
    METRICS,
    Digest,
    Line,
    Metric,
    Numbers,
    RuleNumbers,
    count,
    digest_json,
    digest_reply,
    gather_team_digest,
    percent,
    rule_numbers,
    team_digest,
)
from bot.records import Advice, CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig
from bot.store import Store
from bot.types import Image
from policy import Action
from policy.rules import FINAL_ATTEMPT

MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=ZoneInfo("America/New_York"))


def entry(outcome: Outcome, followed: bool | None = None, minutes: int = 0) -> CheckIn:
    at = MONDAY + timedelta(minutes=minutes)
    advice = None if followed is None else Advice(Action.HANG_UP, "default", at)
    return CheckIn(
        tenant="T1", rep_id="U1", team="default", prospect_key=f"p{minutes}@acme",
        outcome=outcome, at=at, advice=advice, followed=followed,
    )  # fmt: skip


def test_nothing_logged_counts_zero_and_rates_are_not_available() -> None:
    numbers = count([])
    assert numbers == Numbers()
    assert numbers.voicemail_minutes == 0
    assert numbers.callback_rate is None
    assert numbers.followed_rate is None
    assert percent(numbers.callback_rate) == "n/a"
    assert percent(numbers.followed_rate) == "n/a"


def test_a_week_of_check_ins() -> None:
    outcomes = [
        (Outcome.LEFT, True),
        (Outcome.LEFT, False),
        (Outcome.LEFT, None),
        (Outcome.LEFT, None),
        (Outcome.SKIPPED, True),
        (Outcome.ZERO, True),
        (Outcome.GATEKEEPER, None),
        (Outcome.NO_ANSWER, None),
        (Outcome.LIVE, None),
        (Outcome.MEETING, None),
        (Outcome.NOT_INTERESTED, None),
        (Outcome.CALLED_BACK, None),
    ]
    numbers = count(entry(o, f, i) for i, (o, f) in enumerate(outcomes))
    assert numbers.dials == 11  # every check-in but the call back
    assert numbers.connects == 3  # live, meeting, not interested
    assert numbers.voicemails == 4
    assert numbers.voicemail_minutes == pytest.approx(3.0)  # 4 x 45 s
    assert numbers.callbacks == 1
    assert numbers.callback_rate == pytest.approx(0.25)
    assert percent(numbers.callback_rate) == "25%"
    assert (numbers.advice_given, numbers.advice_followed) == (4, 3)
    assert percent(numbers.followed_rate) == "75%"


def test_a_call_back_is_a_callback_not_a_dial_nor_a_connect() -> None:
    numbers = count([entry(Outcome.CALLED_BACK)])
    assert (numbers.dials, numbers.connects, numbers.callbacks) == (0, 0, 1)


@pytest.mark.parametrize("outcome", [Outcome.LIVE, Outcome.MEETING, Outcome.NOT_INTERESTED])
def test_each_conversation_on_a_dial_is_a_connect(outcome: Outcome) -> None:
    numbers = count([entry(outcome)])
    assert (numbers.dials, numbers.connects, numbers.voicemails) == (1, 1, 0)


@pytest.mark.parametrize(
    "outcome", [Outcome.SKIPPED, Outcome.ZERO, Outcome.GATEKEEPER, Outcome.NO_ANSWER]
)
def test_a_dial_without_a_conversation_is_no_connect(outcome: Outcome) -> None:
    numbers = count([entry(outcome)])
    assert (numbers.dials, numbers.connects, numbers.voicemails) == (1, 0, 0)


@pytest.mark.parametrize(("voicemails", "minutes"), [(1, 0.75), (2, 1.5), (50, 37.5)])
def test_voicemail_minutes_are_45_seconds_each(voicemails: int, minutes: float) -> None:
    numbers = count(entry(Outcome.LEFT, minutes=i) for i in range(voicemails))
    assert numbers.voicemail_minutes == pytest.approx(minutes)


def test_callbacks_without_voicemails_have_no_rate() -> None:
    numbers = count([entry(Outcome.CALLED_BACK), entry(Outcome.SKIPPED, True, 1)])
    assert numbers.callback_rate is None
    assert numbers.followed_rate == 1.0
    assert percent(numbers.followed_rate) == "100%"


def test_advice_that_did_not_apply_is_not_counted_as_given() -> None:
    numbers = count([entry(Outcome.LIVE), entry(Outcome.LEFT, False, 1)])
    assert (numbers.advice_given, numbers.advice_followed) == (1, 0)
    assert percent(numbers.followed_rate) == "0%"


# --- the team digest ---------------------------------------------------------------------------

UTC_ = ZoneInfo("UTC")
WEEK_STARTS = datetime(2026, 11, 23, tzinfo=UTC_)  # Monday
WEEK_ENDS = WEEK_STARTS + timedelta(days=7)
WEEK_BEFORE = WEEK_STARTS - timedelta(days=7)
TEAM = TeamConfig("T1", "U9", label="Dana's team", managers=("U9",))
SAM = RepProfile("T1", "U1", name="Sam Lee", team="U9")
ALEX = RepProfile("T1", "U2", name="Alex Kim", team="U9")
NAMELESS = RepProfile("T1", "U3", team="U9")


def logged(
    rep: RepProfile,
    outcome: Outcome,
    *,
    day: datetime = WEEK_STARTS,
    n: int = 0,
    prospect: str = "",
    rule: str | None = None,
    followed: bool | None = None,
) -> CheckIn:
    """A check-in of `rep` on the period starting `day`, `n` minutes into its first morning."""
    at = day + timedelta(hours=9, minutes=n)
    action = Action.FINAL_VOICEMAIL if rule == FINAL_ATTEMPT.id else Action.LEAVE_VOICEMAIL
    advice = None if rule is None else Advice(action, rule, at)
    return CheckIn(
        tenant="T1", rep_id=rep.user_id, team="U9", prospect_key=prospect or f"p{n}@acme",
        outcome=outcome, at=at, advice=advice, followed=followed, key=f"{rep.user_id}-{at}-{n}",
    )  # fmt: skip


def many(rep: RepProfile, outcome: Outcome, times: int, start: int = 0, **kw: Any) -> list[CheckIn]:
    return [logged(rep, outcome, n=start + i, **kw) for i in range(times)]


def digest(
    current: list[CheckIn],
    previous: list[CheckIn] | None = None,
    overdue: dict[str, int] | None = None,
    reps: tuple[RepProfile, ...] = (SAM, ALEX),
) -> Digest:
    return team_digest(
        TEAM, reps, current, previous or [], overdue or {}, WEEK_STARTS, WEEK_ENDS, "weekly"
    )


def line_of(found: Digest, name: str) -> Line:
    return next(line for line in found.reps if line.name == name)


def kinds(found: Digest) -> list[tuple[str, str | None]]:
    return [(note.kind, note.rep_id) for note in found.notes]


def test_skipped_voicemails_count_the_minutes_they_saved() -> None:
    numbers = count(entry(Outcome.SKIPPED, minutes=i) for i in range(4))
    assert numbers.skipped == 4
    assert numbers.minutes_saved == pytest.approx(3.0)  # 4 x 45 s
    assert numbers.voicemails == 0


def test_final_voicemails_are_those_left_on_the_final_attempt_advice() -> None:
    final = [
        logged(SAM, Outcome.LEFT, n=0, rule=FINAL_ATTEMPT.id),
        logged(SAM, Outcome.SKIPPED, n=1, rule=FINAL_ATTEMPT.id),  # advised, not left
        logged(SAM, Outcome.LEFT, n=2, rule="referral"),  # left, on other advice
        logged(SAM, Outcome.LEFT, n=3),  # left unasked
    ]
    assert count(final).final_voicemails == 1


def test_each_rep_and_the_team_with_their_change_against_the_week_before() -> None:
    current = [
        *many(SAM, Outcome.LEFT, 4),
        *many(SAM, Outcome.CALLED_BACK, 1, start=10),
        *many(SAM, Outcome.SKIPPED, 2, start=20, rule="default", followed=True),
        *many(ALEX, Outcome.LIVE, 3),
    ]
    previous = [
        *many(SAM, Outcome.LEFT, 2, day=WEEK_BEFORE),
        *many(SAM, Outcome.CALLED_BACK, 1, start=10, day=WEEK_BEFORE),
        *many(ALEX, Outcome.LIVE, 5, day=WEEK_BEFORE),
    ]
    found = digest(current, previous, overdue={"U1": 2})

    sam = line_of(found, "Sam Lee")
    assert (sam.current.dials, sam.previous.dials) == (6, 2)
    assert sam.change(metric("dials")) == 4
    assert sam.change(metric("voicemails")) == 2
    assert sam.change(metric("minutes_saved")) == pytest.approx(1.5)
    assert sam.current.callback_rate == 0.25 and sam.previous.callback_rate == 0.5
    assert sam.change(metric("callback_rate")) == -25.0  # percentage points
    assert sam.change(metric("followed_rate")) is None  # no advice the week before
    assert sam.overdue == 2
    alex = line_of(found, "Alex Kim")
    assert alex.change(metric("connects")) == -2
    assert alex.change(metric("callback_rate")) is None  # no voicemail either week
    assert found.total.current.dials == 9 and found.total.change(metric("dials")) == 2
    assert found.total.overdue == 2
    sam_text = digest_reply(found, None).paragraphs[1]
    assert sam_text.startswith("Sam Lee: 6 (+4) dials")
    assert "1 (same) callbacks (rate 25% (-25 pts))" in sam_text
    assert "2 overdue recycles" in sam_text


def test_a_rep_without_a_name_is_shown_by_id_and_one_who_left_the_team_still_counts() -> None:
    moved = RepProfile("T1", "U7", name="Mo Ved", team="default")
    found = digest([logged(NAMELESS, Outcome.LIVE), logged(moved, Outcome.LEFT)], reps=(NAMELESS,))
    assert [line.name for line in found.reps] == ["U3", "U7"]
    assert found.total.current.dials == 2


@pytest.mark.parametrize(
    ("voicemails", "callbacks", "fires"), [(10, 0, True), (9, 0, False), (12, 1, False)]
)
def test_many_voicemails_and_no_callback(voicemails: int, callbacks: int, fires: bool) -> None:
    current = [
        *many(SAM, Outcome.LEFT, voicemails),
        *many(SAM, Outcome.CALLED_BACK, callbacks, start=50),
    ]
    found = digest(current)
    assert (("voicemails-without-callback", "U1") in kinds(found)) is fires
    if fires:
        text = next(n.text for n in found.notes if n.kind == "voicemails-without-callback")
        assert text == (
            f"Sam Lee left {voicemails} voicemails and got no callback: "
            "try the late window or skip to email."
        )


@pytest.mark.parametrize(
    ("given", "followed", "fires"), [(5, 2, True), (5, 3, False), (4, 0, False), (10, 4, True)]
)
def test_advice_followed_by_fewer_than_half(given: int, followed: int, fires: bool) -> None:
    current = [
        *many(ALEX, Outcome.SKIPPED, followed, rule="default", followed=True),
        *many(ALEX, Outcome.LEFT, given - followed, start=20, rule="default", followed=False),
    ]
    found = digest(current)
    assert (("advice-not-followed", "U2") in kinds(found)) is fires
    if fires:
        note = next(n for n in found.notes if n.kind == "advice-not-followed")
        assert f"Alex Kim followed the advice on {followed} of {given} calls" in note.text
        assert f"({followed / given:.0%})" in note.text


@pytest.mark.parametrize(("overdue", "fires"), [(5, True), (4, False)])
def test_overdue_recycles_piling_up(overdue: int, fires: bool) -> None:
    found = digest([], overdue={"U1": overdue, "U2": 1})
    assert (("overdue-recycles", "U1") in kinds(found)) is fires
    assert ("overdue-recycles", "U2") not in kinds(found)
    if fires:
        assert found.notes[0].text.startswith("Sam Lee has 5 paused leads past their recycle date")


def rule_week(weak: int, weak_callbacks: int, strong_callbacks: int) -> list[CheckIn]:
    """`weak` voicemails on the referral advice, 10 on the series advice, and callbacks on
    the prospects of the first ones of each (a callback counts for the last voicemail's rule)."""
    weak_left = [
        logged(SAM, Outcome.LEFT, n=i, prospect=f"w{i}", rule="referral") for i in range(weak)
    ]
    strong_left = [
        logged(ALEX, Outcome.LEFT, n=i, prospect=f"s{i}", rule="series") for i in range(10)
    ]
    called = [
        logged(SAM, Outcome.CALLED_BACK, n=100 + i, prospect=f"w{i}") for i in range(weak_callbacks)
    ] + [
        logged(ALEX, Outcome.CALLED_BACK, n=100 + i, prospect=f"s{i}")
        for i in range(strong_callbacks)
    ]
    return weak_left + strong_left + called


def test_a_rule_whose_callback_rate_is_far_below_the_teams() -> None:
    found = digest(rule_week(weak=10, weak_callbacks=0, strong_callbacks=4))
    notes = [note for note in found.notes if note.kind == "rule-callback-rate"]
    assert [note.text for note in notes] == [
        "Voicemails left on the “referral” advice got 0 callbacks from 10 (0%), under half "
        "the team's 20%: check that those messages are worth 45 seconds."
    ]
    assert notes[0].numbers == {
        "voicemails": 10, "callbacks": 0, "team_voicemails": 20, "team_callbacks": 4,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("weak", "weak_callbacks", "strong_callbacks"),
    [
        (10, 1, 3),  # 10% against the team's 20%: half, not under it
        (9, 0, 4),  # far below, but on too few voicemails to judge
        (10, 0, 0),  # nobody called back: no team rate to fall below
    ],
)
def test_a_rule_near_the_teams_rate_or_on_few_voicemails_gets_no_note(
    weak: int, weak_callbacks: int, strong_callbacks: int
) -> None:
    found = digest(rule_week(weak, weak_callbacks, strong_callbacks))
    assert "rule-callback-rate" not in [kind for kind, _ in kinds(found)]


def test_a_callback_counts_for_the_rule_of_the_prospects_last_voicemail() -> None:
    check_ins = [
        logged(SAM, Outcome.LEFT, n=0, prospect="a", rule="referral"),
        logged(SAM, Outcome.LEFT, n=1, prospect="a", rule="series"),
        logged(SAM, Outcome.CALLED_BACK, n=2, prospect="a"),
        logged(SAM, Outcome.CALLED_BACK, n=3, prospect="b"),  # no voicemail: no rule
    ]
    assert rule_numbers(check_ins) == [
        RuleNumbers("referral", 1, 0),
        RuleNumbers("series", 1, 1),
    ]


def test_digest_json_has_the_period_the_totals_each_rep_and_the_notes() -> None:
    current = [*many(SAM, Outcome.LEFT, 10), *many(ALEX, Outcome.SKIPPED, 2, start=30)]
    previous = [*many(SAM, Outcome.LEFT, 6, day=WEEK_BEFORE)]
    document = digest_json(digest(current, previous, overdue={"U2": 3}))

    assert document["team"] == {"id": "U9", "title": "Dana's team", "playbook": "balanced"}
    assert document["period"] == {
        "since": "2026-11-23T00:00:00+00:00", "until": "2026-11-30T00:00:00+00:00",
        "cadence": "weekly",
    }  # fmt: skip
    totals = document["totals"]
    assert totals["dials"] == {"value": 12, "previous": 6, "change": 6}
    assert totals["voicemail_minutes"] == {"value": 7.5, "previous": 4.5, "change": 3.0}
    assert totals["minutes_saved"]["value"] == 1.5
    assert totals["callback_rate"] == {"value": 0.0, "previous": 0.0, "change": 0.0}
    assert totals["overdue_recycles"] == {"value": 3, "previous": None, "change": None}
    sam, alex = document["reps"]
    assert (sam["user"], sam["name"], sam["voicemails"]["change"]) == ("U1", "Sam Lee", 4)
    assert (alex["user"], alex["skipped"]["value"]) == ("U2", 2)
    assert document["notes"] == [
        {
            "kind": "voicemails-without-callback",
            "user": "U1",
            "text": "Sam Lee left 10 voicemails and got no callback: "
            "try the late window or skip to email.",
            "numbers": {"voicemails": 10, "callbacks": 0},
        }
    ]
    json.dumps(document)  # plain JSON all through


def test_digest_reply_reads_the_period_the_totals_each_rep_and_the_notes() -> None:
    current = [*many(SAM, Outcome.LEFT, 10), *many(ALEX, Outcome.SKIPPED, 4, start=30)]
    previous = [*many(SAM, Outcome.LEFT, 6, day=WEEK_BEFORE)]
    image = Image(b"\x89PNG", "a chart", "digest.png")
    reply = digest_reply(digest(current, previous), image)

    assert reply.heading == "Team digest: Dana's team, Mon 23 Nov-Sun 29 Nov"
    assert reply.image is image
    facts = {fact.label: fact.value for fact in reply.facts}
    assert facts["Dials"] == "14 (+8)"
    assert facts["Voicemails left"] == "10 (+4), 7.5 min"
    assert facts["Skipped on advice"] == "4 (+4), 3 min saved"
    assert facts["Callbacks from voicemails"] == "0 (same), rate 0% (same)"
    assert reply.paragraphs[0] == "Compared with the 7 days before."
    assert reply.paragraphs[1].startswith("Sam Lee: 10 (+4) dials")
    assert reply.paragraphs[2].startswith("Alex Kim: 4 (+4) dials")
    assert reply.paragraphs[-1].startswith("Coaching notes:\n• Sam Lee left 10 voicemails")


def test_a_daily_digest_names_its_one_day() -> None:
    day = team_digest(
        TEAM, (SAM,), [], [], {}, WEEK_STARTS, WEEK_STARTS + timedelta(days=1), "daily"
    )
    reply = digest_reply(day, None)
    assert reply.heading == "Team digest: Dana's team, Mon 23 Nov"
    assert reply.paragraphs == ("No check-ins in this period or the one before.",)


async def test_gather_team_digest_reads_both_periods_and_overdue_recycles(store: Store) -> None:
    outsider = RepProfile("T1", "U5", name="Other Team", team="default")
    for rep in (SAM, ALEX, outsider):
        await store.save_rep(rep)
    await store.save_team(TEAM)
    logs = [
        *many(SAM, Outcome.LEFT, 3),
        logged(SAM, Outcome.LIVE, n=9, day=WEEK_ENDS),  # after the period: not counted
        *many(ALEX, Outcome.LEFT, 2, day=WEEK_BEFORE),
        logged(ALEX, Outcome.LEFT, n=9, day=WEEK_BEFORE - timedelta(days=7)),  # too early
    ]
    for check_in in logs:
        record = ProspectRecord("T1", check_in.rep_id, check_in.prospect_key, "P Q", "Acme")
        assert await store.record_check_in(record, check_in)
    last_day = (WEEK_ENDS - timedelta(days=1)).date()
    for i, on in enumerate((last_day, last_day - timedelta(days=3), last_day + timedelta(days=1))):
        await store.save_prospect(
            ProspectRecord("T1", "U2", f"r{i}@x", f"R {i}", "X", recycle_on=on)
        )

    found = await gather_team_digest(store, TEAM, WEEK_STARTS, WEEK_ENDS, "weekly")

    assert [line.name for line in found.reps] == ["Sam Lee", "Alex Kim"]
    assert line_of(found, "Sam Lee").current.voicemails == 3
    assert line_of(found, "Sam Lee").current.connects == 0
    assert line_of(found, "Alex Kim").previous.voicemails == 2
    assert line_of(found, "Alex Kim").overdue == 2  # the one due after the period is not late
    assert found.total.change(metric("voicemails")) == 1


async def test_a_rep_added_to_the_team_brings_their_calls_and_one_who_left_takes_theirs(
    store: Store,
) -> None:
    """A manager sees their team as it is: calls logged before `team add` count, those of a
    rep moved away do not, whatever team the calls were logged under."""
    newcomer = RepProfile("T1", "U6", name="New Comer", team="U9")
    gone = RepProfile("T1", "U7", name="Gone Away", team="default")
    for rep in (newcomer, gone):
        await store.save_rep(rep)
    earlier = [replace(c, team="default") for c in many(newcomer, Outcome.LEFT, 2)]
    moved = many(gone, Outcome.LEFT, 3, start=10)  # logged while on the team
    for check_in in [*earlier, *moved]:
        record = ProspectRecord("T1", check_in.rep_id, check_in.prospect_key, "P Q", "Acme")
        assert await store.record_check_in(record, check_in)

    found = await gather_team_digest(store, TEAM, WEEK_STARTS, WEEK_ENDS, "weekly")

    assert [line.name for line in found.reps] == ["New Comer"]
    assert found.total.current.voicemails == 2


def metric(key: str) -> Metric:
    return next(m for m in METRICS if m.key == key)
