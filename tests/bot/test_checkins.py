"""What one check-in does to a prospect's cycle: bot.checkins.apply_check_in, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkins import advice_followed, apply_check_in
from bot.records import Advice, CheckIn, Outcome, ProspectRecord, RepProfile, TeamConfig
from policy import Action, Relationship, Settings

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 23 November 2026, mid-morning in New York. Thursday the 26th is Thanksgiving.
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
TODAY = MONDAY.date()

REP = RepProfile(
    "tenant-a", "rep-1", name="Sam Lee", company="Northwind", phone="+1 555 010 0100",
    timezone="America/New_York", team="east",
)  # fmt: skip
TEAM = TeamConfig("tenant-a", "east")
CONVERSATIONS = (Outcome.LIVE, Outcome.MEETING, Outcome.CALLED_BACK, Outcome.NOT_INTERESTED)


def prospect(**changes: object) -> ProspectRecord:
    record = ProspectRecord(
        "tenant-a", "rep-1", "jane doe@acme", "Jane Doe", "Acme",
        relationship=Relationship.KNOWN, timezone="America/New_York",
    )  # fmt: skip
    return replace(record, **changes)  # type: ignore[arg-type]


def check_in(
    record: ProspectRecord,
    outcome: Outcome,
    at: datetime = MONDAY,
    team: TeamConfig = TEAM,
    note: str = "",
    key: str = "",
) -> tuple[ProspectRecord, CheckIn]:
    return apply_check_in(record, outcome, at, rep=REP, team=team, note=note, key=key)


def after(record: ProspectRecord, *outcomes: Outcome, start: datetime = MONDAY) -> ProspectRecord:
    """The record after these outcomes, one a day."""
    for day, outcome in enumerate(outcomes):
        record, _ = check_in(record, outcome, start + timedelta(days=day))
    return record


def advised(action: Action, at: datetime = MONDAY - timedelta(minutes=2)) -> Advice:
    return Advice(action, "some-rule", at)


# --- counting dials -----------------------------------------------------------------------


def test_leaving_a_voicemail_counts_a_dial_and_a_voicemail() -> None:
    record, entry = check_in(prospect(), Outcome.LEFT)
    assert (record.attempts, record.voicemails_left, record.attempts_since_voicemail) == (1, 1, 0)
    assert record.recent_dials == (MONDAY,)
    assert entry.outcome is Outcome.LEFT


@pytest.mark.parametrize(
    "outcome", [Outcome.SKIPPED, Outcome.NO_ANSWER, Outcome.GATEKEEPER, Outcome.ZERO]
)
def test_a_dial_without_a_message_counts_a_dial_only(outcome: Outcome) -> None:
    record, _ = check_in(prospect(), outcome)
    assert (record.attempts, record.voicemails_left, record.attempts_since_voicemail) == (
        1,
        0,
        None,
    )


def test_attempts_since_voicemail_is_zero_after_the_voicemail_then_one_more_per_dial() -> None:
    record = after(prospect(), Outcome.SKIPPED, Outcome.LEFT)
    assert (record.attempts, record.attempts_since_voicemail) == (2, 0)
    record = after(record, Outcome.SKIPPED, start=MONDAY + timedelta(days=3))
    assert (record.attempts, record.attempts_since_voicemail) == (3, 1)
    record = after(record, Outcome.LEFT, start=MONDAY + timedelta(days=4))
    assert (record.attempts, record.voicemails_left, record.attempts_since_voicemail) == (4, 2, 0)


def test_a_no_answer_counts_towards_the_dials_since_the_voicemail() -> None:
    record = after(prospect(), Outcome.LEFT, Outcome.NO_ANSWER, Outcome.GATEKEEPER)
    assert (record.attempts, record.voicemails_left, record.attempts_since_voicemail) == (3, 1, 2)


def test_dialing_zero_is_remembered_for_the_cycle() -> None:
    record = after(prospect(), Outcome.ZERO, Outcome.SKIPPED)
    assert record.dialed_zero is True


def test_a_gatekeeper_counts_as_having_dialed_zero() -> None:
    """Asking the gatekeeper is what dial-zero advice asks for; it must not be advised again."""
    record, entry = check_in(prospect(last_advice=advised(Action.DIAL_ZERO)), Outcome.GATEKEEPER)
    assert entry.followed is True
    assert record.dialed_zero is True


def test_only_the_last_three_dials_are_kept() -> None:
    record = after(prospect(), *[Outcome.SKIPPED] * 4)
    assert record.attempts == 4
    assert record.recent_dials == tuple(MONDAY + timedelta(days=d) for d in (1, 2, 3))


def test_the_check_in_clears_the_advice_it_answered() -> None:
    record, _ = check_in(prospect(last_advice=advised(Action.HANG_UP)), Outcome.SKIPPED)
    assert record.last_advice is None


def test_the_log_entry_names_who_what_when_and_the_team() -> None:
    advice = advised(Action.HANG_UP)
    _, entry = check_in(
        prospect(last_advice=advice), Outcome.SKIPPED, note="busy signal", key="k-1"
    )
    assert entry == CheckIn(
        tenant="tenant-a", rep_id="rep-1", team="east", prospect_key="jane doe@acme",
        outcome=Outcome.SKIPPED, at=MONDAY, note="busy signal", advice=advice, followed=True,
        key="k-1",
    )  # fmt: skip


# --- conversations end the cycle ----------------------------------------------------------


@pytest.mark.parametrize("outcome", CONVERSATIONS)
def test_a_conversation_ends_the_cycle(outcome: Outcome) -> None:
    busy = after(prospect(expecting_response=True), Outcome.ZERO, Outcome.LEFT, Outcome.SKIPPED)
    assert (busy.attempts, busy.voicemails_left, busy.dialed_zero) == (3, 1, True)
    at = MONDAY + timedelta(days=4)
    record, _ = check_in(busy, outcome, at)
    assert (record.attempts, record.voicemails_left) == (0, 0)
    assert record.attempts_since_voicemail is None
    assert record.dialed_zero is False
    assert record.recent_dials == ()
    assert record.last_conversation == at.date()
    assert record.expecting_response is False


@pytest.mark.parametrize("outcome", CONVERSATIONS)
@pytest.mark.parametrize("relationship", [Relationship.STRANGER, Relationship.REFERRED])
def test_a_conversation_makes_a_stranger_or_referral_known(
    outcome: Outcome, relationship: Relationship
) -> None:
    record, _ = check_in(prospect(relationship=relationship, referred_by="Tom"), outcome)
    assert record.relationship is Relationship.KNOWN


def test_a_client_stays_a_client_after_a_conversation() -> None:
    record, _ = check_in(prospect(relationship=Relationship.CLIENT), Outcome.LIVE)
    assert record.relationship is Relationship.CLIENT


@pytest.mark.parametrize("outcome", [Outcome.LIVE, Outcome.MEETING, Outcome.CALLED_BACK])
def test_after_a_live_conversation_nothing_is_scheduled(outcome: Outcome) -> None:
    record, _ = check_in(after(prospect(), Outcome.SKIPPED), outcome, MONDAY + timedelta(days=1))
    assert record.next_window is None
    assert record.recycle_on is None


def test_the_conversation_date_is_the_prospects_today() -> None:
    # 10:15 on Monday in New York is already 00:15 on Tuesday in Tokyo.
    record, _ = check_in(prospect(timezone="Asia/Tokyo"), Outcome.LIVE)
    assert record.last_conversation == date(2026, 11, 24)


@pytest.mark.parametrize("days", [90, 120])
def test_not_interested_pauses_the_lead_for_the_teams_recycle_days(days: int) -> None:
    team = replace(TEAM, settings=Settings(recycle_days=days))
    record, _ = check_in(after(prospect(), Outcome.SKIPPED), Outcome.NOT_INTERESTED, team=team)
    assert record.recycle_on == TODAY + timedelta(days=days)
    assert record.attempts == 0
    window = record.next_window
    assert window is not None
    assert window.start.date() >= TODAY + timedelta(days=days)
    assert window.start.timetz().replace(tzinfo=None) == time(8, 0)


def test_a_conversation_lifts_an_earlier_pause() -> None:
    record, _ = check_in(prospect(recycle_on=TODAY + timedelta(days=30)), Outcome.CALLED_BACK)
    assert record.recycle_on is None


# --- the final voicemail ------------------------------------------------------------------


def test_leaving_the_final_voicemail_pauses_the_lead_and_restarts_the_cycle() -> None:
    busy = after(prospect(), *[Outcome.SKIPPED] * 4)
    at = MONDAY + timedelta(days=7)
    advice = advised(Action.FINAL_VOICEMAIL, at - timedelta(minutes=1))
    record, entry = check_in(replace(busy, last_advice=advice), Outcome.LEFT, at)
    assert record.recycle_on == at.date() + timedelta(days=90)
    assert (record.attempts, record.voicemails_left) == (0, 0)
    assert record.attempts_since_voicemail is None
    assert record.recent_dials == ()
    assert entry.followed is True
    window = record.next_window
    assert window is not None
    assert window.start.date() == date(2027, 3, 1)  # 2026-11-30 + 90 days, a Monday
    assert window.start.hour == 8


def test_the_final_voicemail_uses_the_teams_recycle_days() -> None:
    team = replace(TEAM, settings=Settings(recycle_days=100))
    record, _ = check_in(
        prospect(attempts=4, last_advice=advised(Action.FINAL_VOICEMAIL)), Outcome.LEFT, team=team
    )
    assert record.recycle_on == TODAY + timedelta(days=100)


def test_a_voicemail_at_the_final_attempt_without_advice_is_still_the_final_one() -> None:
    record, _ = check_in(prospect(attempts=4), Outcome.LEFT)
    assert record.recycle_on == TODAY + timedelta(days=90)
    assert record.attempts == 0


def test_an_ordinary_voicemail_does_not_pause_the_lead() -> None:
    record, _ = check_in(prospect(last_advice=advised(Action.LEAVE_VOICEMAIL)), Outcome.LEFT)
    assert record.recycle_on is None
    assert record.attempts == 1


def test_skipping_the_final_voicemail_does_not_pause_the_lead() -> None:
    record, entry = check_in(
        prospect(attempts=4, last_advice=advised(Action.FINAL_VOICEMAIL)), Outcome.SKIPPED
    )
    assert record.recycle_on is None
    assert record.attempts == 5
    assert entry.followed is False


def test_live_only_never_pauses_after_a_voicemail() -> None:
    team = replace(TEAM, playbook="live-only")
    record, _ = check_in(prospect(attempts=6), Outcome.LEFT, team=team)
    assert record.recycle_on is None
    assert record.attempts == 7


def test_the_first_dial_after_the_recycle_date_lifts_the_pause() -> None:
    """Once the paused lead is dialled again, it no longer shows as a recycle due."""
    record = prospect(recycle_on=TODAY - timedelta(days=1), attempts=2, voicemails_left=1)
    record, _ = check_in(record, Outcome.SKIPPED)
    assert record.recycle_on is None
    assert (record.attempts, record.voicemails_left) == (1, 0)


def test_a_dial_during_the_pause_keeps_it() -> None:
    record, _ = check_in(prospect(recycle_on=TODAY + timedelta(days=20)), Outcome.SKIPPED)
    assert record.recycle_on == TODAY + timedelta(days=20)


# --- advice followed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "outcome", "followed"),
    [
        (Action.LEAVE_VOICEMAIL, Outcome.LEFT, True),
        (Action.LEAVE_VOICEMAIL, Outcome.SKIPPED, False),
        (Action.LEAVE_VOICEMAIL, Outcome.ZERO, False),
        (Action.FINAL_VOICEMAIL, Outcome.LEFT, True),
        (Action.FINAL_VOICEMAIL, Outcome.SKIPPED, False),
        (Action.HANG_UP, Outcome.SKIPPED, True),
        (Action.HANG_UP, Outcome.LEFT, False),
        (Action.HANG_UP, Outcome.ZERO, False),
        (Action.DIAL_ZERO, Outcome.ZERO, True),
        (Action.DIAL_ZERO, Outcome.GATEKEEPER, True),
        (Action.DIAL_ZERO, Outcome.LEFT, False),
        (Action.DIAL_ZERO, Outcome.SKIPPED, False),
        (Action.RECYCLE, Outcome.LEFT, False),
        (Action.RECYCLE, Outcome.SKIPPED, False),
    ],
)
def test_advice_followed(action: Action, outcome: Outcome, followed: bool) -> None:
    assert advice_followed(advised(action), outcome) is followed
    _, entry = check_in(prospect(last_advice=advised(action)), outcome)
    assert entry.followed is followed
    assert entry.advice == advised(action)


@pytest.mark.parametrize(
    "outcome",
    [Outcome.LIVE, Outcome.MEETING, Outcome.NOT_INTERESTED, Outcome.CALLED_BACK, Outcome.NO_ANSWER],
)
@pytest.mark.parametrize("action", list(Action))
def test_a_conversation_or_no_answer_says_nothing_about_the_advice(
    action: Action, outcome: Outcome
) -> None:
    assert advice_followed(advised(action), outcome) is None
    _, entry = check_in(prospect(last_advice=advised(action)), outcome)
    assert entry.followed is None


@pytest.mark.parametrize("outcome", list(Outcome))
def test_without_advice_nothing_was_followed(outcome: Outcome) -> None:
    assert advice_followed(None, outcome) is None
    _, entry = check_in(prospect(), outcome)
    assert entry.advice is None
    assert entry.followed is None


def test_advice_older_than_twelve_hours_is_stale() -> None:
    stale = advised(Action.HANG_UP, MONDAY - timedelta(hours=12, minutes=1))
    _, entry = check_in(prospect(last_advice=stale), Outcome.SKIPPED)
    assert entry.advice is None
    assert entry.followed is None


def test_advice_twelve_hours_old_still_counts() -> None:
    fresh = advised(Action.HANG_UP, MONDAY - timedelta(hours=12))
    _, entry = check_in(prospect(last_advice=fresh), Outcome.SKIPPED)
    assert entry.advice == fresh
    assert entry.followed is True


def test_stale_final_voicemail_advice_does_not_pause_an_early_voicemail() -> None:
    stale = advised(Action.FINAL_VOICEMAIL, MONDAY - timedelta(days=2))
    record, _ = check_in(prospect(attempts=1, last_advice=stale), Outcome.LEFT)
    assert record.recycle_on is None
    assert record.attempts == 2


# --- the next call window -----------------------------------------------------------------


def _window(record: ProspectRecord) -> tuple[datetime, datetime]:
    window = record.next_window
    assert window is not None
    return window.start, window.end


def test_after_a_hang_up_call_back_one_business_day_later() -> None:
    record, _ = check_in(prospect(), Outcome.SKIPPED)
    # Every recent dial fell in the morning, so the late window comes next.
    assert _window(record) == (
        datetime(2026, 11, 24, 16, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 24, 18, 0, tzinfo=NEW_YORK),
    )


def test_after_a_voicemail_call_back_two_business_days_later() -> None:
    record, _ = check_in(prospect(), Outcome.LEFT)
    assert _window(record)[0] == datetime(2026, 11, 25, 16, 30, tzinfo=NEW_YORK)


def test_a_voicemail_before_thanksgiving_skips_the_holiday() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)
    record, _ = check_in(prospect(), Outcome.LEFT, tuesday)
    assert _window(record)[0].date() == date(2026, 11, 27)  # Wed 25, Thu 26 is a holiday, Fri 27


def test_a_hang_up_on_friday_calls_back_on_monday() -> None:
    friday = datetime(2026, 11, 27, 16, 45, tzinfo=NEW_YORK)
    record, _ = check_in(prospect(), Outcome.SKIPPED, friday)
    # An afternoon dial: the early window comes next.
    assert _window(record)[0] == datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK)


def test_the_window_is_in_the_prospects_zone() -> None:
    record, _ = check_in(prospect(timezone="America/Los_Angeles"), Outcome.SKIPPED)
    start, end = _window(record)
    assert start == datetime(2026, 11, 24, 16, 30, tzinfo=LOS_ANGELES)
    assert end == datetime(2026, 11, 24, 18, 0, tzinfo=LOS_ANGELES)
    assert start.astimezone(NEW_YORK).hour == 19


def test_the_prospects_zone_decides_which_day_comes_next() -> None:
    # Monday 10:15 in New York is Tuesday in Tokyo: one business day later is Wednesday there.
    record, _ = check_in(prospect(timezone="Asia/Tokyo"), Outcome.SKIPPED)
    start, _ = _window(record)
    assert start.date() == date(2026, 11, 25)
    assert start.utcoffset() == timedelta(hours=9)


def test_a_prospect_without_a_zone_uses_the_reps() -> None:
    record, _ = check_in(prospect(timezone=None), Outcome.SKIPPED)
    assert _window(record)[0] == datetime(2026, 11, 24, 16, 30, tzinfo=NEW_YORK)
