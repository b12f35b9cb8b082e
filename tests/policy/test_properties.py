"""Properties of every decision, over generated reps, prospects, histories, times and settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy import PLAYBOOKS, Action, Decision, History, Prospect, Relationship, Rep
from tests.policy.conftest import (
    MAX_WORDS,
    SECONDS_PER_VOICEMAIL,
    Request,
    make_settings,
    read_seconds,
)

ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Toronto",
    "America/St_Johns",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
)
REGIONS = ("US", "US-NY", "US-FL", "US-CA", "CA", "CA-ON", "CA-QC", "GB", "DE")
CALENDARS = ("US", "GB", "CA", "DE-BY", "US-FL")

# Legal calling hours on a weekday, restated from the spec (call-backs are on weekdays).
FEDERAL = (time(8, 0), time(21, 0))
WEEKDAY_HOURS = {"US-FL": (time(8, 0), time(20, 0)), "CA": (time(9, 0), time(21, 30))}

MESSAGE_ACTIONS = {Action.LEAVE_VOICEMAIL, Action.FINAL_VOICEMAIL}

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies

letters = st.characters(categories=("L", "M", "N", "P", "S"), exclude_characters="$")
word = st.text(letters, min_size=1, max_size=14)
# Any unicode, spaces of every kind, dollars and braces too.
anything = st.text(max_size=200)


def words(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.lists(word, min_size=min_size, max_size=max_size).map(" ".join)


names = st.one_of(words(1, 4), words(5, 40), anything.filter(lambda s: s.strip() != ""))
optional_text = st.one_of(st.none(), names, anything)
phones = st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=2, max_size=12).map(
    lambda groups: "+" + " ".join(groups)
)
zones = st.sampled_from(ZONES)
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2033, 12, 31))


@st.composite
def reps(draw: st.DrawFn) -> Rep:
    return Rep(
        name=draw(names),
        phone=draw(phones),
        company=draw(st.one_of(st.just(""), names)),
        pitch=draw(st.one_of(st.just(""), names, words(10, 60))),
        timezone=draw(st.one_of(st.none(), zones)),
    )


@st.composite
def prospects(draw: st.DrawFn) -> Prospect:
    return Prospect(
        name=draw(names),
        relationship=draw(st.sampled_from(Relationship)),
        company=draw(st.one_of(st.just(""), names)),
        timezone=draw(st.one_of(st.none(), zones)),
        region=draw(st.sampled_from(REGIONS)),
        referred_by=draw(optional_text),
        new_in_role=draw(st.booleans()),
        open_followup=draw(optional_text),
        expecting_response=draw(st.booleans()),
        last_conversation=draw(st.one_of(st.none(), days)),
        recycle_on=draw(st.one_of(st.none(), days)),
    )


@st.composite
def histories(draw: st.DrawFn, now: datetime) -> History:
    attempts = draw(st.integers(0, 14))
    voicemails = draw(st.integers(0, attempts))
    # The last voicemail's dial came after the others: at most attempts - voicemails dials since.
    since = None if voicemails == 0 else draw(st.integers(0, attempts - voicemails))
    recent = draw(
        st.lists(st.integers(1, 60 * 24 * 14), max_size=min(attempts, 4)).map(
            lambda minutes: tuple(now - timedelta(minutes=m) for m in sorted(minutes))
        )
    )
    return History(
        attempts=attempts,
        voicemails_left=voicemails,
        attempts_since_voicemail=since,
        dialed_zero=draw(st.booleans()),
        recent_dials=recent,
    )


raw_settings = st.fixed_dictionaries(
    {},
    optional={
        "final_attempt": st.integers(3, 6),
        "recycle_days": st.integers(90, 120),
        "min_gap": st.one_of(st.none(), st.integers(1, 4)),
        "silence_days": st.integers(28, 90),
        "silence_dials": st.integers(4, 12),
        "early_window": st.sampled_from(
            ["08:00-09:00", "06:00-07:00", "07:30-09:30", "11:00-12:00"]
        ),
        "late_window": st.sampled_from(
            ["16:30-18:00", "12:00-13:00", "19:00-21:00", "20:30-21:30"]
        ),
        "holidays_country": st.sampled_from(CALENDARS),
    },
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    zone = ZoneInfo(draw(zones))
    now = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 1),
            max_value=datetime(2032, 12, 31),
            timezones=st.just(zone),
        )
    )
    return Request(
        rep=draw(reps()),
        prospect=draw(prospects()),
        history=draw(histories(now)),
        now=now,
        playbook=draw(st.sampled_from(sorted(PLAYBOOKS))),
        settings=make_settings(**draw(raw_settings)),
    )


# --- independent restatements of the spec's calendar and hours


@cache
def holidays_of(calendar: str, year: int) -> frozenset[date]:
    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def is_business_day(day: date, calendar: str) -> bool:
    return day.weekday() < 5 and day not in holidays_of(calendar, day.year)


def first_business_day_from(day: date, calendar: str) -> date:
    while not is_business_day(day, calendar):
        day += timedelta(days=1)
    return day


def business_days_between(first: date, last: date, calendar: str) -> int:
    """Business days after `first` up to and including `last`."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_business_day(day, calendar)
    return count


def weekday_hours(region: str) -> tuple[time, time]:
    country = region.split("-")[0]
    return WEEKDAY_HOURS.get(region) or WEEKDAY_HOURS.get(country) or FEDERAL


def zone_of(request: Request) -> Any:
    name = request.prospect.timezone or request.rep.timezone
    return ZoneInfo(name) if name else request.now.tzinfo


def today_of(request: Request) -> date:
    return request.now.astimezone(zone_of(request)).date()


# --- properties


@PROFILE
@given(requests())
def test_decision_is_total_and_deterministic(request: Request) -> None:
    first = request.decide()
    assert first == request.decide()
    assert first.playbook == request.playbook
    assert first.reasons


@PROFILE
@given(requests())
def test_script_exactly_when_a_message_is_left_and_it_reads_in_30_seconds(
    request: Request,
) -> None:
    decision = request.decide()
    assert (decision.script is not None) == (decision.action in MESSAGE_ACTIONS)
    if decision.script is not None:
        count = len(decision.script.text.split())
        assert count <= MAX_WORDS
        assert decision.script.seconds == read_seconds(count)
        assert request.prospect.name.split()[0] in decision.script.text
        assert request.rep.name.split()[0] in decision.script.text
        assert decision.seconds_saved == 0
    else:
        assert decision.seconds_saved == SECONDS_PER_VOICEMAIL


@PROFILE
@given(requests())
def test_recycle_on_exactly_for_final_voicemail_and_recycle(request: Request) -> None:
    decision = request.decide()
    pausing = decision.action in (Action.FINAL_VOICEMAIL, Action.RECYCLE)
    assert (decision.recycle_on is not None) == pausing
    if decision.recycle_on is not None:
        assert decision.recycle_on > today_of(request)


@PROFILE
@given(requests())
def test_call_back_window_is_a_legal_business_day_window_after_now(request: Request) -> None:
    decision = request.decide()
    zone = zone_of(request)
    start = decision.call_back.start.astimezone(zone)
    end = decision.call_back.end.astimezone(zone)
    assert request.now < start < end
    assert start.date() == end.date()
    assert is_business_day(start.date(), request.settings.holidays_country)
    opens, closes = weekday_hours(request.prospect.region)
    assert opens <= start.time() and end.time() <= closes


@PROFILE
@given(requests())
def test_call_back_leaves_the_prospect_time_to_call_back(request: Request) -> None:
    decision = request.decide()
    today = today_of(request)
    day = decision.call_back.start.astimezone(zone_of(request)).date()
    calendar = request.settings.holidays_country
    if decision.recycle_on is not None:
        assert day == first_business_day_from(decision.recycle_on, calendar)
    else:
        gap = 2 if decision.action is Action.LEAVE_VOICEMAIL else 1
        assert business_days_between(today, day, calendar) == gap


def decision_for(request: Request, **changes: Any) -> Decision:
    return replace(request, **changes).decide()


@PROFILE
@given(requests())
def test_live_only_never_leaves_a_message(request: Request) -> None:
    decision = decision_for(request, playbook="live-only")
    assert decision.action in (Action.HANG_UP, Action.RECYCLE)


@PROFILE
@given(requests())
def test_paused_lead_is_never_called(request: Request) -> None:
    paused_until = today_of(request) + timedelta(days=30)
    prospect = Prospect(
        name=request.prospect.name,
        relationship=request.prospect.relationship,
        timezone=request.prospect.timezone,
        region=request.prospect.region,
        expecting_response=request.prospect.expecting_response,
        recycle_on=paused_until,
    )
    decision = decision_for(request, prospect=prospect)
    assert decision.action is Action.RECYCLE
    assert decision.recycle_on == paused_until
