"""The home view: today's queue, paused leads coming back this week, this week's numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.coach import Coach
from bot.records import ProspectRecord, prospect_key
from bot.store import Store
from bot.types import Actor, ButtonPress, Platform, Reply, Request, Role

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_BEFORE = datetime(2026, 11, 20, 10, 0, tzinfo=NEW_YORK)
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=NEW_YORK)
SAM = Actor(Platform.SLACK, "T1", "U1", "Sam Lee", "America/New_York", role=Role.REP)
ALEX = Actor(Platform.SLACK, "T1", "U2", "Alex Kim", "America/New_York", role=Role.REP)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def coach(store: Store, clock: Clock) -> Coach:
    return Coach(store, clock=clock)


async def ask_and_press(coach: Coach, actor: Actor, text: str, label: str) -> None:
    decision = await coach.handle(Request(actor, text=text))
    button = next(b for b in decision.buttons if b.label == label)
    press = ButtonPress(button.action_id, button.value)
    await coach.handle(Request(actor, button=press, idempotency_key=f"{text}{label}"))


def paused(name: str, company: str, on: date) -> ProspectRecord:
    return ProspectRecord("T1", "U1", prospect_key(name, company), name, company, recycle_on=on)


def fact(reply: Reply, label: str) -> str:
    return next(f.value for f in reply.facts if f.label == f"{label} this week")


async def test_home_shows_the_queue_who_comes_back_this_week_and_the_numbers(
    coach: Coach, store: Store, clock: Clock
) -> None:
    clock.now = FRIDAY_BEFORE  # last week: not in this week's numbers
    await ask_and_press(coach, SAM, "Bob Roe @ Initech known", "Left it")
    clock.now = MONDAY
    await ask_and_press(coach, SAM, "Jane Doe @ Acme known tz America/New_York", "Skipped")
    await ask_and_press(coach, ALEX, "Kim Poe @ Umbrella", "Left it")  # not Sam's
    today = TUESDAY.date()
    await store.save_prospect(paused("Pat Roe", "Globex", today + timedelta(days=3)))
    await store.save_prospect(paused("Lee Moe", "Hooli", today + timedelta(days=30)))
    await store.save_prospect(paused("Ann Coe", "Stark", today - timedelta(days=1)))
    clock.now = TUESDAY

    home = await coach.home(SAM)

    assert home.heading == "Your day"
    queue, coming_back, numbers = home.paragraphs
    assert "Jane Doe @ Acme: Tue 24 Nov, 16:30-18:00 your time" in queue
    assert "Ann Coe @ Stark: pause ended Mon 23 Nov 2026, start a new series" in queue
    assert "Pat Roe @ Globex: back on Fri 27 Nov" in coming_back
    assert "Lee Moe" not in coming_back and "Ann Coe" not in coming_back
    assert "Monday 23 Nov" in numbers
    assert fact(home, "Dials") == "1"
    assert fact(home, "Voicemails").startswith("0")
    assert fact(home, "Advice followed") == "1 of 1 (100%)"


async def test_an_empty_home_says_so(coach: Coach) -> None:
    home = await coach.home(SAM)
    assert home.heading == "Your day"
    assert "nothing due" in home.paragraphs[0]
    assert "none" in home.paragraphs[1]
    assert fact(home, "Dials") == "0"
    assert fact(home, "Advice followed") == "no advice checked in yet"


async def test_the_week_starts_on_monday_in_the_reps_zone(coach: Coach, clock: Clock) -> None:
    # 23:30 on Sunday in New York is already Monday in UTC: still last week for Sam.
    clock.now = datetime(2026, 11, 22, 23, 30, tzinfo=NEW_YORK)
    await ask_and_press(coach, SAM, "Jane Doe @ Acme", "Left it")
    clock.now = MONDAY
    home = await coach.home(SAM)
    assert fact(home, "Dials") == "0"
    clock.now = MONDAY + timedelta(days=7)
    await ask_and_press(coach, SAM, "Jane Doe @ Acme", "Left it")
    assert fact(await coach.home(SAM), "Voicemails").startswith("1")


async def test_home_keeps_the_weeks_numbers_of_a_rep_moved_to_a_team(
    coach: Coach, clock: Clock
) -> None:
    await ask_and_press(coach, SAM, "Jane Doe @ Acme known tz America/New_York", "Skipped")
    manager = Actor(Platform.SLACK, "T1", "M1", "Morgan Reyes", role=Role.MANAGER)
    await coach.handle(Request(manager, text="team add <@U1>"))
    await ask_and_press(coach, SAM, "Bob Roe @ Initech known", "Skipped")
    clock.now = TUESDAY
    assert fact(await coach.home(SAM), "Dials") == "2"
