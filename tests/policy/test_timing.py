"""Call-back windows: business days, holidays, DST, time zones, legal hours, alternation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from policy import Action, Decision, Relationship
from policy.decide import prospect_region
from policy.legal_hours import DEFAULT_HOURS, FEDERAL_US, legal_hours_for
from policy.regions import ZONE_REGIONS
from tests.policy.conftest import LOS_ANGELES, NEW_YORK, TORONTO, decide_for, make_request

LONDON = ZoneInfo("Europe/London")
MIAMI = "America/New_York"  # Florida's Atlantic coast keeps New York time

# A prospect with no reason for a message: the balanced playbook hangs up.
QUIET: dict[str, Any] = {"relationship": Relationship.KNOWN}
# A referred prospect: the balanced playbook leaves a voicemail.
REFERRED: dict[str, Any] = {"relationship": Relationship.REFERRED, "referred_by": "Tom Ruiz"}


def at(
    year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def window(decision: Decision) -> tuple[datetime, datetime]:
    return decision.call_back.start, decision.call_back.end


def early(day: date, zone: ZoneInfo = NEW_YORK) -> tuple[datetime, datetime]:
    return at(day.year, day.month, day.day, 8, 0, zone), at(
        day.year, day.month, day.day, 9, 0, zone
    )


def late(day: date, zone: ZoneInfo = NEW_YORK) -> tuple[datetime, datetime]:
    return (
        at(day.year, day.month, day.day, 16, 30, zone),
        at(day.year, day.month, day.day, 18, 0, zone),
    )


def local_clock(moment: datetime, zone: ZoneInfo) -> tuple[date, str]:
    local = moment.astimezone(zone)
    return local.date(), f"{local:%H:%M}"


# --- business days: one after a hang-up, two after a voicemail; weekends and holidays skipped


def test_hang_up_calls_back_the_next_business_day() -> None:
    decision = decide_for(**QUIET, now=at(2026, 11, 16, 15))  # Monday afternoon
    assert decision.action is Action.HANG_UP
    assert window(decision) == early(date(2026, 11, 17))


def test_voicemail_calls_back_two_business_days_later() -> None:
    decision = decide_for(**REFERRED, now=at(2026, 11, 16, 15))  # Monday afternoon
    assert decision.action is Action.LEAVE_VOICEMAIL
    assert window(decision) == early(date(2026, 11, 18))


def test_friday_evening_hang_up_calls_back_monday() -> None:
    decision = decide_for(**QUIET, now=at(2026, 11, 20, 18, 30))
    assert window(decision) == early(date(2026, 11, 23))


def test_friday_evening_voicemail_calls_back_tuesday() -> None:
    decision = decide_for(**REFERRED, now=at(2026, 11, 20, 18, 30))
    assert window(decision) == early(date(2026, 11, 24))


def test_thursday_voicemail_skips_the_weekend() -> None:
    decision = decide_for(**REFERRED, now=at(2026, 11, 19, 15))
    assert window(decision) == early(date(2026, 11, 23))


def test_thanksgiving_is_skipped_after_a_hang_up() -> None:
    # Wednesday 2026-11-25; Thanksgiving is Thursday 2026-11-26.
    decision = decide_for(**QUIET, now=at(2026, 11, 25, 15))
    assert window(decision) == early(date(2026, 11, 27))


def test_thanksgiving_does_not_count_as_one_of_the_two_days_after_a_voicemail() -> None:
    decision = decide_for(**REFERRED, now=at(2026, 11, 24, 15))  # Tuesday
    assert window(decision) == early(date(2026, 11, 27))


def test_veterans_day_is_skipped() -> None:
    decision = decide_for(**QUIET, now=at(2026, 11, 10, 15))  # Tuesday; Wednesday 11th is off
    assert window(decision) == early(date(2026, 11, 12))


def test_dial_on_a_sunday_calls_back_monday() -> None:
    decision = decide_for(**QUIET, now=at(2026, 11, 22, 15))
    assert window(decision) == early(date(2026, 11, 23))


# --- holidays of the team's country


def test_boxing_day_is_a_business_day_for_a_us_team() -> None:
    # Wednesday 2025-12-24 in London; Christmas is Thursday, Boxing Day Friday.
    decision = decide_for(
        **QUIET, timezone="Europe/London", region="GB", now=at(2025, 12, 24, 15, zone=LONDON)
    )
    assert window(decision) == early(date(2025, 12, 26), LONDON)


def test_boxing_day_is_skipped_for_a_team_with_british_holidays() -> None:
    decision = decide_for(
        **QUIET,
        timezone="Europe/London",
        region="GB",
        now=at(2025, 12, 24, 15, zone=LONDON),
        settings={"holidays_country": "GB"},
    )
    assert window(decision) == early(date(2025, 12, 29), LONDON)


def test_thanksgiving_is_a_business_day_for_a_british_team() -> None:
    decision = decide_for(**QUIET, now=at(2026, 11, 25, 15), settings={"holidays_country": "GB"})
    assert window(decision) == early(date(2026, 11, 26))


# --- daylight saving time: the window's offset is the one in force on its day


def test_window_after_the_november_dst_change_is_in_standard_time() -> None:
    decision = decide_for(**QUIET, now=at(2026, 10, 30, 15))  # Friday, EDT (-04:00)
    start = decision.call_back.start
    assert start.utcoffset() == timedelta(hours=-5)  # Monday 2026-11-02, EST
    assert start.astimezone(UTC) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert window(decision) == early(date(2026, 11, 2))


def test_dial_on_the_november_dst_change_day() -> None:
    decision = decide_for(**QUIET, now=datetime(2026, 11, 1, 20, 0, tzinfo=UTC))  # 15:00 EST
    assert decision.call_back.start.astimezone(UTC) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert decision.warnings == ()


def test_window_after_the_march_dst_change_is_in_daylight_time() -> None:
    decision = decide_for(**QUIET, now=at(2027, 3, 12, 15))  # Friday, EST (-05:00)
    start = decision.call_back.start
    assert start.utcoffset() == timedelta(hours=-4)  # Monday 2027-03-15, EDT
    assert start.astimezone(UTC) == datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


def test_final_voicemail_in_november_recycles_to_a_window_in_daylight_time() -> None:
    # 2026-11-23 + 120 days = Tuesday 2027-03-23, after the March change.
    decision = decide_for(
        **QUIET, attempts=4, now=at(2026, 11, 23, 15), settings={"recycle_days": 120}
    )
    assert decision.recycle_on == date(2027, 3, 23)
    assert decision.call_back.start.astimezone(UTC) == datetime(2027, 3, 23, 12, 0, tzinfo=UTC)


# --- time zones: the window is in the prospect's day


def test_prospect_three_zones_west_gets_a_window_in_their_morning() -> None:
    # 16:00 for the rep in New York is 13:00 in Los Angeles: the early window comes next.
    now = at(2026, 11, 23, 16)
    west = decide_for(**QUIET, timezone="America/Los_Angeles", region="US-CA", now=now)
    assert window(west) == early(date(2026, 11, 24), LOS_ANGELES)
    assert west.call_back.start.astimezone(UTC) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    east = decide_for(**QUIET, now=now)
    assert east.call_back.start.astimezone(UTC) == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def test_today_is_the_prospect_local_date() -> None:
    # 01:30 Tuesday in New York is still 22:30 Monday in Los Angeles.
    now = at(2026, 11, 24, 1, 30)
    west = decide_for(**QUIET, timezone="America/Los_Angeles", now=now)
    east = decide_for(**QUIET, now=now)
    assert west.call_back.start.astimezone(LOS_ANGELES).date() == date(2026, 11, 24)
    assert east.call_back.start.astimezone(NEW_YORK).date() == date(2026, 11, 25)


def test_prospect_zone_defaults_to_the_rep_zone() -> None:
    decision = decide_for(
        **QUIET, timezone=None, rep_timezone="America/Los_Angeles", now=at(2026, 11, 23, 16)
    )
    assert window(decision) == early(date(2026, 11, 24), LOS_ANGELES)


def test_a_rep_morning_can_be_before_legal_hours_for_a_west_coast_prospect() -> None:
    now = at(2026, 11, 23, 10, 15)  # 07:15 in Los Angeles
    assert decide_for(**QUIET, now=now).warnings == ()
    west = decide_for(**QUIET, timezone="America/Los_Angeles", region="US-CA", now=now)
    (warning,) = west.warnings
    assert "07:15" in warning


# --- legal hours: windows moved inside them, warnings outside them


def test_canada_moves_the_early_window_to_nine_keeping_its_hour() -> None:
    for region in ("CA", "CA-ON"):
        decision = decide_for(
            **QUIET,
            timezone="America/Toronto",
            region=region,
            now=at(2026, 11, 23, 15, zone=TORONTO),
        )
        start, end = window(decision)
        assert local_clock(start, TORONTO) == (date(2026, 11, 24), "09:00")
        assert local_clock(end, TORONTO) == (date(2026, 11, 24), "10:00")


def test_canada_keeps_the_late_window() -> None:
    decision = decide_for(
        **QUIET, timezone="America/Toronto", region="CA-ON", now=at(2026, 11, 23, 10, zone=TORONTO)
    )
    assert window(decision) == late(date(2026, 11, 24), TORONTO)


def test_custom_late_window_moves_inside_florida_hours_keeping_its_length() -> None:
    settings = {"late_window": "19:00-21:00"}
    now = at(2026, 11, 23, 10)  # a morning dial: the late window comes next
    florida = decide_for(**QUIET, timezone=MIAMI, region="US-FL", now=now, settings=settings)
    start, end = window(florida)
    assert (local_clock(start, NEW_YORK), local_clock(end, NEW_YORK)) == (
        (date(2026, 11, 24), "18:00"),
        (date(2026, 11, 24), "20:00"),
    )
    new_york = decide_for(**QUIET, region="US-NY", now=now, settings=settings)
    assert local_clock(new_york.call_back.end, NEW_YORK) == (date(2026, 11, 24), "21:00")


def test_custom_early_window_before_eight_moves_to_eight() -> None:
    decision = decide_for(
        **QUIET, now=at(2026, 11, 23, 15), settings={"early_window": "07:00-08:00"}
    )
    assert window(decision) == early(date(2026, 11, 24))


def test_dialing_florida_at_2130_carries_a_warning() -> None:
    decision = decide_for(**QUIET, timezone=MIAMI, region="US-FL", now=at(2026, 11, 23, 21, 30))
    (warning,) = decision.warnings
    assert "US-FL" in warning
    assert "08:00-20:00" in warning
    assert "21:30" in warning


def test_2030_is_legal_in_new_york_but_not_in_florida() -> None:
    now = at(2026, 11, 23, 20, 30)
    new_york = decide_for(**QUIET, region="US-NY", now=now)
    florida = decide_for(**QUIET, timezone=MIAMI, region="US-FL", now=now)
    assert (new_york.warnings, new_york.dial_now) == ((), True)
    assert (len(florida.warnings), florida.dial_now) == (1, False)


def test_no_warning_inside_florida_hours() -> None:
    decision = decide_for(**QUIET, timezone=MIAMI, region="US-FL", now=at(2026, 11, 23, 19, 59))
    assert decision.warnings == ()


def test_dialing_canada_on_saturday_at_1900_carries_a_warning() -> None:
    decision = decide_for(
        **QUIET, timezone="America/Toronto", region="CA", now=at(2026, 11, 21, 19, zone=TORONTO)
    )
    (warning,) = decision.warnings
    assert "10:00-18:00" in warning
    assert "Saturday" in warning


def test_no_warning_in_canada_on_saturday_at_noon() -> None:
    decision = decide_for(
        **QUIET, timezone="America/Toronto", region="CA", now=at(2026, 11, 21, 12, zone=TORONTO)
    )
    assert decision.warnings == ()


def test_canada_allows_2115_on_a_weekday_where_the_us_does_not() -> None:
    canada = decide_for(
        **QUIET,
        timezone="America/Toronto",
        region="CA-ON",
        now=at(2026, 11, 23, 21, 15, zone=TORONTO),
    )
    assert canada.warnings == ()
    assert len(decide_for(**QUIET, now=at(2026, 11, 23, 21, 15)).warnings) == 1


def test_canada_warns_at_0830_on_a_weekday() -> None:
    decision = decide_for(
        **QUIET, timezone="America/Toronto", region="CA", now=at(2026, 11, 23, 8, 30, zone=TORONTO)
    )
    assert len(decision.warnings) == 1


def test_us_federal_hours_start_at_eight_and_end_at_nine() -> None:
    assert len(decide_for(**QUIET, region="US", now=at(2026, 11, 23, 7, 59)).warnings) == 1
    assert decide_for(**QUIET, region="US", now=at(2026, 11, 23, 8, 0)).warnings == ()
    assert decide_for(**QUIET, region="US", now=at(2026, 11, 23, 20, 59)).warnings == ()
    assert len(decide_for(**QUIET, region="US", now=at(2026, 11, 23, 21, 0)).warnings) == 1


# --- the region follows the time zone where the table knows it; elsewhere default hours

PRAGUE = ZoneInfo("Europe/Prague")
NO_REGION: dict[str, Any] = {**QUIET, "region": ""}


@pytest.mark.parametrize(
    ("zone_name", "region"),
    [
        ("America/Toronto", "CA"),
        ("America/Vancouver", "CA"),
        ("Canada/Eastern", "CA"),
        ("America/Chicago", "US"),
        ("America/New_York", "US"),
        ("Pacific/Honolulu", "US"),
        ("US/Pacific", "US"),
        ("Europe/Prague", ""),
    ],
)
def test_with_no_region_given_it_follows_the_time_zone(zone_name: str, region: str) -> None:
    prospect = make_request(**NO_REGION, timezone=zone_name).prospect
    assert prospect_region(prospect, make_request().rep) == region


def test_every_us_and_canadian_zone_of_the_tz_database_is_in_the_table() -> None:
    assert {ZONE_REGIONS.get(name) for name in ("America/Phoenix", "America/St_Johns")} == {
        "US",
        "CA",
    }
    assert all(region in ("US", "CA") for region in ZONE_REGIONS.values())
    assert len([r for r in ZONE_REGIONS.values() if r == "US"]) >= 29


def test_a_toronto_prospect_with_no_region_gets_canadas_hours() -> None:
    decision = decide_for(
        **NO_REGION, timezone="America/Toronto", now=at(2026, 11, 23, 8, 30, zone=TORONTO)
    )
    (warning,) = decision.warnings  # 08:30 is inside US hours, not Canada's
    assert "09:00-21:30" in warning
    assert "CRTC" in warning


def test_a_chicago_prospect_with_no_region_gets_the_us_federal_rule() -> None:
    chicago = ZoneInfo("America/Chicago")
    decision = decide_for(
        **NO_REGION, timezone="America/Chicago", now=at(2026, 11, 23, 21, 15, zone=chicago)
    )
    (warning,) = decision.warnings
    assert "legal calling hours for US" in warning
    assert "US federal TCPA" in warning


def test_a_new_york_prospect_still_gets_the_us_federal_rule() -> None:
    (warning,) = decide_for(**QUIET, region="US-NY", now=at(2026, 11, 23, 21, 15)).warnings
    assert "US federal TCPA" in warning


@pytest.mark.parametrize("region", ["", "CZ"])
def test_a_prague_prospect_gets_default_hours_named_as_a_default_never_a_us_law(
    region: str,
) -> None:
    decision = decide_for(
        **{**QUIET, "region": region},
        timezone="Europe/Prague",
        now=at(2026, 11, 23, 21, 30, zone=PRAGUE),
    )
    (warning,) = decision.warnings
    assert "default calling hours (08:00-21:00)" in warning
    assert "US federal" not in warning
    assert "TCPA" not in warning
    assert "legal calling hours" not in warning
    assert ("for CZ" in warning) is (region == "CZ")
    start, end = window(decision)
    assert (start.tzinfo, f"{start:%H:%M}", f"{end:%H:%M}") == (PRAGUE, "08:00", "09:00")


def test_the_hours_used_for_prague_are_the_default_and_cite_no_law() -> None:
    prospect = make_request(**NO_REGION, timezone="Europe/Prague").prospect
    hours = legal_hours_for(prospect_region(prospect, make_request().rep))
    assert hours is DEFAULT_HOURS
    assert hours.is_default and hours.law is None
    assert legal_hours_for("DE-BY") is DEFAULT_HOURS
    assert legal_hours_for("US-NY") is FEDERAL_US


def test_no_warning_in_prague_inside_the_default_hours() -> None:
    now = at(2026, 11, 23, 20, 30, zone=PRAGUE)
    assert decide_for(**NO_REGION, timezone="Europe/Prague", now=now).warnings == ()


def test_a_region_given_wins_over_the_time_zone() -> None:
    decision = decide_for(
        **QUIET, region="US", timezone="America/Toronto", now=at(2026, 11, 23, 8, 30, zone=TORONTO)
    )
    assert decision.warnings == ()  # US hours open at 08:00, Canada's at 09:00


# --- early or late: alternate when the last dials all fell in one


def test_after_morning_dials_the_late_window_comes_next() -> None:
    dials = (at(2026, 11, 19, 8, 30), at(2026, 11, 20, 8, 40))
    decision = decide_for(**QUIET, recent_dials=dials, attempts=2, now=at(2026, 11, 23, 8, 45))
    assert window(decision) == late(date(2026, 11, 24))


def test_after_late_dials_the_early_window_comes_next() -> None:
    dials = (at(2026, 11, 19, 17), at(2026, 11, 20, 17, 10))
    decision = decide_for(**QUIET, recent_dials=dials, attempts=2, now=at(2026, 11, 23, 17, 5))
    assert window(decision) == early(date(2026, 11, 24))


def test_morning_and_afternoon_are_the_prospect_s() -> None:
    # 13:30 in New York is 10:30 in Los Angeles: afternoon dials for one, morning for the other.
    dials = (at(2026, 11, 19, 13, 30), at(2026, 11, 20, 13, 40))
    given: dict[str, Any] = {**QUIET, "recent_dials": dials, "attempts": 2}
    now = at(2026, 11, 23, 13, 45)
    west = decide_for(**given, timezone="America/Los_Angeles", now=now)
    east = decide_for(**given, now=now)
    assert window(west) == late(date(2026, 11, 24), LOS_ANGELES)
    assert window(east) == early(date(2026, 11, 24))


# --- final voicemail and recycle: the first window on or after recycle_on


def test_final_voicemail_calls_back_on_the_first_business_day_from_recycle_on() -> None:
    # 2026-11-23 + 90 days = Sunday 2027-02-21: the window is on Monday.
    decision = decide_for(**QUIET, attempts=4, now=at(2026, 11, 23, 15))
    assert decision.recycle_on == date(2027, 2, 21)
    assert window(decision) == early(date(2027, 2, 22))


def test_recycle_calls_back_on_recycle_on_when_it_is_a_business_day() -> None:
    decision = decide_for(**QUIET, recycle_on=date(2026, 12, 1), now=at(2026, 11, 23, 15))
    assert decision.action is Action.RECYCLE
    assert window(decision) == early(date(2026, 12, 1))


def test_recycle_on_christmas_calls_back_the_monday_after() -> None:
    decision = decide_for(**QUIET, recycle_on=date(2026, 12, 25), now=at(2026, 11, 23, 15))
    assert window(decision) == early(date(2026, 12, 28))


def test_recycle_takes_the_first_window_of_the_day_even_after_morning_dials() -> None:
    dials = (at(2026, 11, 19, 8, 30),)
    decision = decide_for(
        **QUIET,
        recycle_on=date(2026, 12, 1),
        recent_dials=dials,
        attempts=1,
        now=at(2026, 11, 23, 8, 45),
    )
    assert window(decision) == early(date(2026, 12, 1))


def test_recycle_window_in_canada_starts_at_nine() -> None:
    decision = decide_for(
        **QUIET,
        timezone="America/Toronto",
        region="CA",
        recycle_on=date(2026, 12, 1),
        now=at(2026, 11, 23, 15, zone=TORONTO),
    )
    assert local_clock(decision.call_back.start, TORONTO) == (date(2026, 12, 1), "09:00")
