"""Team numbers from the check-in log: bot.digests.count over hand-built check-ins."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests import Numbers, count, percent
from bot.records import Advice, CheckIn, Outcome
from policy import Action

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
