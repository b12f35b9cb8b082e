"""A rep's morning nudge, from a scripted week of calls: what is due today and what to do if
voicemail answers, paused leads past their date, yesterday in numbers; nothing due, no nudge."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkins import apply_check_in
from bot.nudges import (
    Nudge,
    gather_rep_nudge,
    nudge_json,
    nudge_reply,
    rep_nudge,
)
from bot.records import CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig, prospect_key
from bot.replies import ASK
from bot.store import Store
from policy import Action, Relationship

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
# The week after Thanksgiving 2026: Monday 30 November to Friday 4 December, all business days.
MONDAY = date(2026, 11, 30)
FRIDAY = date(2026, 12, 4)
FRIDAY_MORNING = datetime.combine(FRIDAY, time(8, 0), tzinfo=NEW_YORK)
SAM = RepProfile(
    "T1", "U1", name="Sam Lee", company="Northwind", phone="+1 555 010 0100",
    timezone="America/New_York",
)  # fmt: skip
TEAM = TeamConfig("T1")


def prospect(name: str, company: str, **changes: object) -> ProspectRecord:
    record = ProspectRecord("T1", "U1", prospect_key(name, company), name, company)
    return replace(record, **changes)  # type: ignore[arg-type]


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


class Week:
    """A week of calls as the coach would log them: prospects as they stand, and every check-in."""

    def __init__(self) -> None:
        self.prospects: dict[str, ProspectRecord] = {}
        self.log: list[CheckIn] = []

    def call(self, record: ProspectRecord, outcome: Outcome, at: datetime) -> ProspectRecord:
        current = self.prospects.get(record.key, record)
        updated, check_in = apply_check_in(
            current, outcome, at, rep=SAM, team=TEAM, key=f"{record.key}{at}"
        )
        self.prospects[record.key] = updated
        self.log.append(check_in)
        return updated

    def on_day(self, day: date) -> list[CheckIn]:
        return [c for c in self.log if c.at.astimezone(NEW_YORK).date() == day]


JANE = prospect("Jane Doe", "Acme", timezone="America/Los_Angeles")
BOB = prospect("Bob Roe", "Initech", relationship=Relationship.KNOWN)
KIM = prospect("Kim Poe", "Umbrella")


def scripted_week() -> Week:
    """Jane (a stranger in Los Angeles): four unanswered dials, Monday to Thursday. Bob (known):
    a voicemail on Thursday. Kim: two hang-ups at the beep and a callback on Thursday."""
    week = Week()
    for day in range(4):
        week.call(JANE, Outcome.NO_ANSWER, on(MONDAY + timedelta(days=day), 13))
    thursday = MONDAY + timedelta(days=3)
    week.call(BOB, Outcome.LEFT, on(thursday, 10))
    week.call(KIM, Outcome.SKIPPED, on(thursday, 11))
    week.call(KIM, Outcome.SKIPPED, on(thursday, 15))
    week.call(KIM, Outcome.CALLED_BACK, on(thursday, 16))
    return week


def friday_nudge(week: Week, recycles: list[ProspectRecord] | None = None) -> Nudge | None:
    thursday = FRIDAY - timedelta(days=1)
    return rep_nudge(
        SAM,
        TEAM,
        list(week.prospects.values()),
        recycles or [],
        week.on_day(thursday),
        FRIDAY_MORNING,
    )


def test_friday_lists_the_call_back_due_with_both_times_and_the_final_voicemail() -> None:
    week = scripted_week()
    nudge = friday_nudge(week)

    assert nudge is not None
    assert nudge.local_date == FRIDAY
    [jane] = nudge.callbacks  # Bob's and Kim's next calls are next week
    assert (jane.name, jane.company) == ("Jane Doe", "Acme")
    assert jane.start.tzinfo is not None and jane.start.astimezone(NEW_YORK).date() == FRIDAY
    assert jane.start.utcoffset() == timedelta(hours=-5)
    assert jane.prospect_start.utcoffset() == timedelta(hours=-8)
    assert jane.prospect_start == jane.start  # one instant, two clocks
    assert jane.action is Action.FINAL_VOICEMAIL
    assert jane.reason == "final voicemail: attempt 5"
    assert nudge.recycles == ()
    assert nudge.more == 0


def test_friday_reply_reads_the_window_the_advice_and_yesterday() -> None:
    nudge = friday_nudge(scripted_week())
    assert nudge is not None
    reply = nudge_reply(nudge)

    assert reply.heading == "Your day, Fri 04 Dec: 1 due"
    [calls] = reply.paragraphs
    jane = nudge.callbacks[0]
    mine = f"{jane.start:%H:%M}-{jane.end:%H:%M}"
    theirs = f"{jane.prospect_start:%H:%M}-{jane.prospect_end:%H:%M}"
    assert calls == (
        f"Call-backs today:\n• Jane Doe @ Acme, {mine} your time ({theirs} for Jane). "
        "If voicemail answers: leave your final voicemail (final voicemail: attempt 5)."
    )
    facts = {fact.label: fact.value for fact in reply.facts}
    assert facts == {
        "Dials yesterday (Thu 03 Dec)": "4",  # Jane, Bob, Kim twice; a callback is no dial
        "Voicemails left": "1 (0.8 min)",
        "Skipped on advice": "2 (1.5 min saved)",
        "Callbacks": "1",
    }
    [button] = reply.buttons
    assert (button.label, button.action_id, button.value) == ("Decide for Jane Doe", ASK, JANE.key)


def test_the_decision_is_the_one_for_a_dial_at_the_windows_start() -> None:
    """Paused until the window's day: on that day the pause is over, so the advice is a dial's."""
    week = scripted_week()
    jane = week.prospects[JANE.key]
    assert jane.next_call_start is not None
    # A lead made known since, whose pause ends the day of the window: not "paused".
    record = replace(
        jane,
        relationship=Relationship.KNOWN,
        recycle_on=jane.next_call_start.astimezone(LOS_ANGELES).date(),
        attempts=0,
    )
    nudge = rep_nudge(SAM, TEAM, [record], [record], [], FRIDAY_MORNING)
    assert nudge is not None
    [call] = nudge.callbacks
    assert call.action is Action.HANG_UP
    assert call.reason == "no reason strong enough for a message"
    assert call.pause_ended == record.recycle_on
    assert nudge.recycles == ()  # the same lead is not listed twice


def paused(name: str, until: date, **changes: object) -> ProspectRecord:
    return prospect(name, "Paused Co", recycle_on=until, **changes)


def test_overdue_recycles_oldest_first_with_how_long_overdue() -> None:
    recycles = [
        paused("Ann Coe", FRIDAY - timedelta(days=1)),
        paused("Lee Moe", FRIDAY),
        paused("Pat Roe", FRIDAY - timedelta(days=10)),
    ]
    nudge = rep_nudge(SAM, TEAM, [], recycles, [], FRIDAY_MORNING)

    assert nudge is not None
    assert [(r.name, r.days_overdue) for r in nudge.recycles] == [
        ("Pat Roe", 10),
        ("Ann Coe", 1),
        ("Lee Moe", 0),
    ]
    [listed] = nudge_reply(nudge).paragraphs
    assert listed.splitlines() == [
        "Paused leads past their recycle date, oldest first:",
        "• Pat Roe @ Paused Co: paused until Tue 24 Nov 2026, 10 days overdue. Start a new series.",
        "• Ann Coe @ Paused Co: paused until Thu 03 Dec 2026, 1 day overdue. Start a new series.",
        "• Lee Moe @ Paused Co: paused until Fri 04 Dec 2026, due today. Start a new series.",
    ]
    assert nudge_reply(nudge).buttons == ()


def test_a_recycled_lead_whose_window_passed_is_an_overdue_recycle_not_a_call_back() -> None:
    ended = FRIDAY - timedelta(days=3)
    window = on(ended, 9)
    record = paused(
        "Ann Coe", ended, next_call_start=window, next_call_end=window + timedelta(hours=2)
    )
    nudge = rep_nudge(SAM, TEAM, [record], [record], [], FRIDAY_MORNING)
    assert nudge is not None
    assert nudge.callbacks == ()
    assert [(r.name, r.days_overdue) for r in nudge.recycles] == [("Ann Coe", 3)]


def test_a_missed_call_back_is_still_listed_first_and_says_so() -> None:
    week = scripted_week()
    bob = week.prospects[BOB.key]
    missed = on(FRIDAY - timedelta(days=1), 9)
    bob = replace(bob, next_call_start=missed, next_call_end=missed + timedelta(hours=2))
    nudge = rep_nudge(SAM, TEAM, [*week.prospects.values(), bob], [], [], FRIDAY_MORNING)
    assert nudge is not None
    assert [(c.name, c.missed) for c in nudge.callbacks] == [("Bob Roe", True), ("Jane Doe", False)]
    text = nudge_reply(nudge).paragraphs[0]
    assert "• Bob Roe @ Initech, missed Thu 03 Dec, 09:00-11:00 your time: call today." in text


def window_at(record: ProspectRecord, start: datetime) -> ProspectRecord:
    return replace(record, next_call_start=start, next_call_end=start + timedelta(hours=1))


def test_long_lists_show_the_ten_most_urgent_then_how_many_more() -> None:
    calls = [
        window_at(prospect(f"Caller {i:02}", "Co"), on(FRIDAY, 9) + timedelta(minutes=10 * i))
        for i in reversed(range(7))
    ]
    recycles = [paused(f"Lead {i:02}", FRIDAY - timedelta(days=i + 1)) for i in range(26)]
    nudge = rep_nudge(SAM, TEAM, calls, recycles, [], FRIDAY_MORNING)

    assert nudge is not None
    # Call-backs first (their windows close today), in window order; then the oldest recycles.
    assert [c.name for c in nudge.callbacks] == [f"Caller {i:02}" for i in range(7)]
    assert [r.name for r in nudge.recycles] == ["Lead 25", "Lead 24", "Lead 23"]
    assert nudge.more == 23
    reply = nudge_reply(nudge)
    assert reply.heading == "Your day, Fri 04 Dec: 33 due"
    assert reply.paragraphs[-1] == "and 23 more: /voicemail queue"
    assert [b.label for b in reply.buttons] == [f"Decide for Caller {i:02}" for i in range(5)]


def test_exactly_ten_due_lists_all_ten_and_no_more_line() -> None:
    recycles = [paused(f"Lead {i:02}", FRIDAY - timedelta(days=i)) for i in range(10)]
    nudge = rep_nudge(SAM, TEAM, [], recycles, [], FRIDAY_MORNING)
    assert nudge is not None
    assert (len(nudge.recycles), nudge.more) == (10, 0)
    assert not any("more:" in p for p in nudge_reply(nudge).paragraphs)


def test_nothing_due_today_means_no_nudge_whatever_happened_yesterday() -> None:
    week = scripted_week()
    thursday_morning = on(FRIDAY - timedelta(days=1), 8)
    later = [r for r in week.prospects.values() if r.key != JANE.key]  # windows next week
    assert rep_nudge(SAM, TEAM, later, [], week.log, FRIDAY_MORNING) is None
    assert rep_nudge(SAM, TEAM, [], [], week.log, thursday_morning) is None
    paused_later = paused("Pat Roe", FRIDAY + timedelta(days=1))
    assert rep_nudge(SAM, TEAM, [], [paused_later], [], FRIDAY_MORNING) is None


def test_a_rep_without_a_time_zone_gets_the_day_and_times_in_utc() -> None:
    nameless = RepProfile("T1", "U1")
    start = datetime(2026, 12, 4, 23, 30, tzinfo=NEW_YORK)  # Saturday 04:30 UTC
    record = window_at(prospect("Ann Coe", "Co", timezone="America/New_York"), start)
    late_friday = datetime(2026, 12, 4, 20, 0, tzinfo=NEW_YORK)  # Saturday 01:00 UTC
    nudge = rep_nudge(nameless, TEAM, [record], [], [], late_friday)
    assert nudge is not None
    assert nudge.local_date == date(2026, 12, 5)
    assert nudge.zone == "UTC"
    [call] = nudge.callbacks
    assert (call.start.utcoffset(), call.prospect_start.utcoffset()) == (
        timedelta(0),
        timedelta(hours=-5),
    )


def test_nudge_json_carries_the_content_as_plain_fields() -> None:
    week = scripted_week()
    recycles = [paused("Pat Roe", FRIDAY - timedelta(days=2))]
    nudge = friday_nudge(week, recycles)
    assert nudge is not None
    document = nudge_json(nudge)

    [call] = document["callbacks"]
    jane = nudge.callbacks[0]
    assert call == {
        "prospect": "Jane Doe",
        "company": "Acme",
        "key": JANE.key,
        "window_start": jane.start.isoformat(),
        "window_end": jane.end.isoformat(),
        "prospect_window_start": jane.prospect_start.isoformat(),
        "prospect_window_end": jane.prospect_end.isoformat(),
        "action": "final_voicemail",
        "rule": "final-attempt",
        "reason": "final voicemail: attempt 5",
        "missed": False,
        "pause_ended": None,
    }
    assert call["window_start"].endswith("-05:00")
    assert call["prospect_window_start"].endswith("-08:00")
    assert document["recycles"] == [
        {
            "prospect": "Pat Roe",
            "company": "Paused Co",
            "key": recycles[0].key,
            "recycle_on": "2026-12-02",
            "days_overdue": 2,
        }
    ]
    assert document["yesterday"] == {
        "date": "2026-12-03",
        "dials": 4,
        "voicemails": 1,
        "voicemail_minutes": 0.75,
        "skipped": 2,
        "minutes_saved": 1.5,
        "callbacks": 1,
    }
    assert document["more"] == 0
    assert document["zone"] == "America/New_York"
    json.dumps(document)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"referred_by": "Ann", "relationship": Relationship.REFERRED}, "referred by Ann"),
        ({"open_followup": "the proposal"}, "the proposal waits for an answer"),
        ({"expecting_response": True}, "Kim expects your answer"),
        ({}, "a stranger: dial zero to learn more"),
        ({"dialed_zero": True}, "a stranger: you dialed zero already"),
        ({"relationship": Relationship.KNOWN, "attempts": 6, "attempts_since_voicemail": 6,
          "voicemails_left": 1}, "final voicemail: attempt 7"),
        ({"relationship": Relationship.KNOWN, "last_conversation": date(2026, 9, 1)},
         "94 days since you last spoke"),
    ],
)  # fmt: skip
def test_each_call_back_carries_a_short_reason(changes: dict[str, object], reason: str) -> None:
    record = window_at(prospect("Kim Poe", "Umbrella", **changes), on(FRIDAY, 10))
    nudge = rep_nudge(SAM, TEAM, [record], [], [], FRIDAY_MORNING)
    assert nudge is not None
    assert nudge.callbacks[0].reason == reason


async def test_gather_reads_what_is_due_and_yesterdays_check_ins(store: Store) -> None:
    week = scripted_week()
    for check_in in week.log:
        assert await store.record_check_in(week.prospects[check_in.prospect_key], check_in)
    for record in week.prospects.values():  # each as it stands at the end of the week
        await store.save_prospect(record)
    await store.save_prospect(paused("Pat Roe", FRIDAY - timedelta(days=2)))
    await store.save_prospect(paused("Lee Moe", FRIDAY + timedelta(days=2)))

    nudge = await gather_rep_nudge(store, SAM, FRIDAY_MORNING)

    assert nudge == friday_nudge(week, [paused("Pat Roe", FRIDAY - timedelta(days=2))])
    assert nudge is not None and nudge.yesterday.dials == 4


async def test_gather_finds_nothing_due_and_sends_nothing(store: Store) -> None:
    week = scripted_week()
    for record in week.prospects.values():
        await store.save_prospect(record)
    thursday_morning = on(FRIDAY - timedelta(days=1), 8)
    assert await gather_rep_nudge(store, SAM, thursday_morning) is None
