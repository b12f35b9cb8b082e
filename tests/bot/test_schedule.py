"""When nudges and digests fall due: time zones, DST, weekends and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.records import RepProfile, SendKind
from bot.schedule import (
    Cadence,
    digest_period,
    digest_time,
    first_business_day_of_week,
    nudge_time,
    parse_clock,
)

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
EIGHT = time(8, 0)


def nudges(zone: ZoneInfo = NEW_YORK, at: time = EIGHT, calendar: str = "US") -> Cadence:
    return Cadence(SendKind.REP_NUDGE, zone, at, calendar)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_a_nudge_before_eight_is_due_that_morning_and_after_eight_the_next() -> None:
    before = local(NEW_YORK, 2026, 12, 2, 7, 0)  # a Wednesday
    assert nudges().next_slot(before).due_at == local(NEW_YORK, 2026, 12, 2, 8, 0)
    after = local(NEW_YORK, 2026, 12, 2, 9, 0)
    slot = nudges().next_slot(after)
    assert slot.due_at == local(NEW_YORK, 2026, 12, 3, 8, 0)
    assert slot.local_date == date(2026, 12, 3)


def test_friday_after_eight_skips_the_weekend_to_monday() -> None:
    friday = local(NEW_YORK, 2026, 12, 4, 9, 0)
    assert nudges().next_slot(friday).local_date == date(2026, 12, 7)


def test_a_holiday_of_the_teams_calendar_is_skipped() -> None:
    wednesday = local(NEW_YORK, 2026, 11, 25, 9, 0)  # the day before Thanksgiving
    assert nudges().next_slot(wednesday).local_date == date(2026, 11, 27)
    boxing_day_eve = local(ZoneInfo("Europe/London"), 2026, 12, 24, 9, 0)
    british = nudges(ZoneInfo("Europe/London"), calendar="GB")
    # Christmas (Fri), the weekend and the Boxing Day holiday moved to Monday the 28th
    assert british.next_slot(boxing_day_eve).local_date == date(2026, 12, 29)


def test_the_nudge_stays_at_eight_local_across_both_dst_changes() -> None:
    spring = nudges().next_slot(local(NEW_YORK, 2026, 3, 6, 9, 0))  # Fri before DST starts
    assert spring.local_date == date(2026, 3, 9)
    assert spring.due_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # EDT: UTC-4
    fall = nudges().next_slot(local(NEW_YORK, 2026, 10, 30, 9, 0))  # Fri before DST ends
    assert fall.due_at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # EST: UTC-5


def test_a_time_the_spring_change_skips_falls_an_hour_later_not_never() -> None:
    # On 8 March 2026 New York's clocks jump from 02:00 to 03:00.
    saturday_to_sunday = Cadence(SendKind.REP_NUDGE, NEW_YORK, time(2, 30), "US")
    slot = saturday_to_sunday.slot_on(date(2026, 3, 8))
    assert slot.due_at.astimezone(NEW_YORK).hour == 3


def test_the_same_eight_oclock_is_another_instant_in_another_zone() -> None:
    moment = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    tokyo = nudges(TOKYO, calendar="JP").next_slot(moment)
    new_york = nudges().next_slot(moment)
    assert tokyo.due_at == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # 08:00 on the 3rd
    assert tokyo.local_date == date(2026, 12, 3)
    assert new_york.due_at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def test_never_two_on_one_local_day_after_a_later_nudge_time() -> None:
    """A rep nudged at 08:00 who moves their time to 10:00 gets the next one tomorrow."""
    nine = local(NEW_YORK, 2026, 12, 2, 9, 0)
    later = nudges(at=time(10, 0))
    assert later.next_slot(nine).local_date == date(2026, 12, 2)
    skipped = later.next_slot(nine, not_before_day=date(2026, 12, 3))
    assert skipped.due_at == local(NEW_YORK, 2026, 12, 3, 10, 0)


def test_current_slot_is_todays_once_its_time_has_come_and_only_today() -> None:
    cadence = nudges()
    assert cadence.current_slot(local(NEW_YORK, 2026, 12, 2, 7, 59)) is None
    late = cadence.current_slot(local(NEW_YORK, 2026, 12, 2, 16, 0))
    assert late is not None and late.local_date == date(2026, 12, 2)
    assert cadence.current_slot(local(NEW_YORK, 2026, 12, 5, 9, 0)) is None  # a Saturday


def test_a_recipients_day_ends_at_their_midnight() -> None:
    ends = nudges(TOKYO, calendar="JP").day_ends(date(2026, 12, 3))
    assert ends == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_the_weekly_digest_goes_on_monday_or_the_weeks_first_business_day() -> None:
    weekly = Cadence(SendKind.WEEKLY_DIGEST, NEW_YORK, EIGHT, "US")
    friday = local(NEW_YORK, 2026, 12, 4, 9, 0)
    assert weekly.next_slot(friday).local_date == date(2026, 12, 7)
    # Memorial Day, Monday 25 May 2026: the digest comes on Tuesday
    assert weekly.next_slot(local(NEW_YORK, 2026, 5, 22, 9, 0)).local_date == date(2026, 5, 26)
    assert first_business_day_of_week(date(2026, 5, 28), "US") == date(2026, 5, 26)


def test_mondays_daily_digest_covers_friday_and_the_weekly_the_last_seven_days() -> None:
    since, until = digest_period(SendKind.DAILY_DIGEST, date(2026, 12, 7), NEW_YORK, "US")
    assert (since, until) == (
        local(NEW_YORK, 2026, 12, 4, 0, 0),
        local(NEW_YORK, 2026, 12, 5, 0, 0),
    )
    since, until = digest_period(SendKind.WEEKLY_DIGEST, date(2026, 12, 7), NEW_YORK, "US")
    assert until - since == timedelta(days=7)
    assert until == local(NEW_YORK, 2026, 12, 7, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07:30", time(7, 30)), ("7:30", time(7, 30)), ("23:59", time(23, 59)), ("24:00", None),
     ("7:5", None), ("0730", None), ("", None), ("off", None), ("-1:30", None)],
)  # fmt: skip
def test_clock_times(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


def test_nudges_off_means_no_nudge_time_but_digests_still_come_at_eight() -> None:
    off = RepProfile("T1", "U1", nudge="off")
    assert nudge_time(off) is None
    assert digest_time(off) == EIGHT
    assert digest_time(RepProfile("T1", "U1", nudge="07:15")) == time(7, 15)
