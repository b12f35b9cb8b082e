"""The `decide` document read into policy values; the first wrong field named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policy import InvalidInput, Relationship
from policy.inputs import DecideInput, parse_decide_input
from policy.limits import MAX_COMPANY, MAX_FOLLOWUP, MAX_NAME, MAX_PITCH
from tests.policy.conftest import BAD_INPUTS, DELETE, BadInput, changed, spec_example

DEFAULT_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def parse(document: object) -> DecideInput:
    return parse_decide_input(document, default_now=DEFAULT_NOW)


def parse_changed(changes: dict[tuple[str, ...], object]) -> DecideInput:
    return parse(changed(spec_example(), changes))


def error_for(document: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(document)
    return caught.value


# --- the spec's example


def test_spec_example_reads_every_field() -> None:
    request = parse(spec_example())
    assert request.playbook == "balanced"
    assert request.now == datetime(2026, 11, 23, 15, 15, tzinfo=UTC)
    assert request.now.utcoffset() == timedelta(hours=-5)
    assert (request.rep.name, request.rep.company, request.rep.phone) == (
        "Sam Lee",
        "Northwind",
        "+1 555 010 0100",
    )
    assert request.rep.pitch == "we help finance teams close the books in half the time"
    prospect = request.prospect
    assert (prospect.name, prospect.company) == ("Jane Doe", "Acme")
    assert (prospect.timezone, prospect.region) == ("America/New_York", "US-NY")
    assert prospect.relationship is Relationship.STRANGER
    assert prospect.referred_by is None
    assert prospect.open_followup is None
    assert not prospect.new_in_role
    assert not prospect.expecting_response
    assert (prospect.last_conversation, prospect.recycle_on) == (None, None)
    history = request.history
    assert (history.attempts, history.voicemails_left) == (0, 0)
    assert history.attempts_since_voicemail is None
    assert not history.dialed_zero


def test_only_the_required_fields() -> None:
    request = parse(
        {
            "rep": {"name": "Sam Lee", "phone": "+1 555 010 0100"},
            "prospect": {"name": "Jane Doe", "relationship": "known"},
        }
    )
    assert request.playbook == "balanced"
    assert request.now == DEFAULT_NOW
    assert request.prospect.relationship is Relationship.KNOWN
    assert request.prospect.region == ""  # none given: it follows the time zone
    assert request.history.attempts == 0
    assert request.history.attempts_since_voicemail is None


@pytest.mark.parametrize(
    "name", ["live-only", "selective", "rapport-series", "referral-only", "it-depends"]
)
def test_every_playbook_is_accepted(name: str) -> None:
    assert parse_changed({("playbook",): name}).playbook == name


@pytest.mark.parametrize("relationship", list(Relationship), ids=str)
def test_every_relationship_is_accepted(relationship: Relationship) -> None:
    request = parse_changed({("prospect", "relationship"): relationship.value})
    assert request.prospect.relationship is relationship


def test_relationship_is_read_whatever_its_case() -> None:
    request = parse_changed({("prospect", "relationship"): " Referred "})
    assert request.prospect.relationship is Relationship.REFERRED


def test_region_is_read_whatever_its_case() -> None:
    assert parse_changed({("prospect", "region"): "us-fl"}).prospect.region == "US-FL"


def test_now_without_offset_is_in_the_prospect_zone() -> None:
    request = parse_changed({("now",): "2026-07-01T10:00:00"})
    assert request.now.utcoffset() == timedelta(hours=-4)  # New York in July


def test_now_without_offset_falls_back_to_the_rep_zone() -> None:
    request = parse_changed(
        {
            ("now",): "2026-11-23T10:00:00",
            ("prospect", "timezone"): DELETE,
            ("rep", "timezone"): "America/Los_Angeles",
        }
    )
    assert request.now == datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_dates_are_read() -> None:
    request = parse_changed(
        {
            ("prospect", "last_conversation"): "2026-10-01",
            ("prospect", "recycle_on"): "2027-02-21",
        }
    )
    assert request.prospect.last_conversation == date(2026, 10, 1)
    assert request.prospect.recycle_on == date(2027, 2, 21)


def test_a_date_time_stands_for_its_date() -> None:
    request = parse_changed({("prospect", "last_conversation"): "2026-10-01T16:30:00-04:00"})
    assert request.prospect.last_conversation == date(2026, 10, 1)


def test_history_counts_and_recent_dials_are_read() -> None:
    request = parse_changed(
        {
            ("history", "attempts"): 3,
            ("history", "voicemails_left"): 1,
            ("history", "attempts_since_voicemail"): 1,
            ("history", "dialed_zero"): True,
            ("history", "recent_dials"): ["2026-11-20T08:30:00-05:00", "2026-11-19T17:00:00"],
        }
    )
    history = request.history
    assert (history.attempts, history.voicemails_left, history.attempts_since_voicemail) == (
        3,
        1,
        1,
    )
    assert history.dialed_zero
    assert [dial.astimezone(UTC).hour for dial in history.recent_dials] == [13, 22]


def test_texts_are_trimmed_and_spaces_collapsed() -> None:
    request = parse_changed(
        {("prospect", "name"): "  Jane \n  Doe ", ("rep", "phone"): " +1  555 010 0100"}
    )
    assert request.prospect.name == "Jane Doe"
    assert request.rep.phone == "+1 555 010 0100"


def test_empty_referrer_and_item_read_as_none() -> None:
    request = parse_changed({("prospect", "referred_by"): "", ("prospect", "open_followup"): "   "})
    assert request.prospect.referred_by is None
    assert request.prospect.open_followup is None


def test_settings_are_read() -> None:
    request = parse_changed(
        {
            ("settings",): {
                "final_attempt": 4,
                "recycle_days": 120,
                "min_gap": 3,
                "early_window": "07:30-08:30",
                "holidays_country": "gb",
            }
        }
    )
    settings = request.settings
    assert (settings.final_attempt, settings.recycle_days, settings.min_gap) == (4, 120, 3)
    assert str(settings.early_window) == "07:30-08:30"
    assert settings.holidays_country == "GB"


# --- bad input: the first wrong field, and what it accepts


@pytest.mark.parametrize("bad", [case for _, case in BAD_INPUTS], ids=[i for i, _ in BAD_INPUTS])
def test_bad_input_names_the_field(bad: BadInput) -> None:
    error = error_for(bad.document())
    assert error.field == bad.field
    assert error.problem
    assert str(error) == f"{bad.field}: {error.problem}"


@pytest.mark.parametrize("document", [[], "decide", 42, None, True], ids=repr)
def test_input_that_is_not_an_object_is_rejected(document: object) -> None:
    assert error_for(document).field == "input"


def test_unknown_playbook_lists_the_playbooks() -> None:
    problem = error_for(changed(spec_example(), {("playbook",): "aggressive"})).problem
    for name in ("balanced", "live-only", "selective", "rapport-series", "it-depends"):
        assert name in problem


def test_unknown_relationship_lists_the_relationships() -> None:
    problem = error_for(changed(spec_example(), {("prospect", "relationship"): "friend"})).problem
    assert "'friend'" in problem
    assert "stranger, referred, known, client" in problem


def test_unknown_field_lists_the_accepted_fields() -> None:
    problem = error_for(changed(spec_example(), {("prospect", "email"): "x"})).problem
    assert "referred_by" in problem


def test_bad_count_says_it_wants_a_whole_number() -> None:
    problem = error_for(changed(spec_example(), {("history", "attempts"): -1})).problem
    assert "whole number" in problem


def test_bad_timezone_gives_an_example() -> None:
    problem = error_for(changed(spec_example(), {("prospect", "timezone"): "Eastern"})).problem
    assert "America/New_York" in problem


def test_bad_setting_gives_its_range() -> None:
    problem = error_for(changed(spec_example(), {("settings", "final_attempt"): 9})).problem
    assert "3 to 6" in problem


@pytest.mark.parametrize("name", ["final_attempt", "early_window", "holidays_country"])
def test_a_huge_bad_setting_is_quoted_back_cut_short(name: str) -> None:
    problem = error_for(changed(spec_example(), {("settings", name): "9" * 100_000})).problem
    assert len(problem) < 300


def test_field_name_with_a_line_break_is_reported_on_one_line() -> None:
    error = error_for(changed(spec_example(), {("prospect", "e\nmail"): "x"}))
    assert "\n" not in str(error)
    assert str(error).startswith("prospect.e\\nmail: ")


# --- length limits


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (("rep", "name"), MAX_NAME),
        (("rep", "company"), MAX_COMPANY),
        (("rep", "pitch"), MAX_PITCH),
        (("prospect", "name"), MAX_NAME),
        (("prospect", "company"), MAX_COMPANY),
        (("prospect", "referred_by"), MAX_NAME),
        (("prospect", "open_followup"), MAX_FOLLOWUP),
    ],
)
def test_each_text_is_accepted_at_its_limit_and_refused_beyond_it(
    path: tuple[str, ...], limit: int
) -> None:
    parse_changed({path: "x" * limit})
    error = error_for(changed(spec_example(), {path: "x" * (limit + 1)}))
    assert error.field == ".".join(path)
    assert error.problem == f"is {limit + 1:,} characters long; at most {limit:,}"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("prospect", "timezone"), "x" * 100_000),
        (("prospect", "region"), "x" * 100_000),
        (("prospect", "relationship"), "x" * 100_000),
        (("prospect", "last_conversation"), "x" * 100_000),
        (("rep", "phone"), "5" * 100_000),
        (("now",), "x" * 100_000),
    ],
)
def test_a_huge_bad_value_is_named_without_being_quoted_back_whole(
    path: tuple[str, ...], value: str
) -> None:
    error = error_for(changed(spec_example(), {path: value}))
    assert error.field == ".".join(path)
    assert len(str(error)) < 300


# --- regions


@pytest.mark.parametrize("region", ["US", "US-FL", "CA-ON", "GB", "DE-BY", "CZ", "FR-75C"])
def test_an_iso_3166_region_is_accepted(region: str) -> None:
    assert parse_changed({("prospect", "region"): region.lower()}).prospect.region == region


@pytest.mark.parametrize("region", ["XX", "ZZ", "UK", "US-ZZ", "CA-XY", "EU"])
def test_a_region_that_is_not_iso_3166_is_refused_naming_the_known_ones(region: str) -> None:
    error = error_for(changed(spec_example(), {("prospect", "region"): region}))
    assert error.field == "prospect.region"
    assert "ISO 3166" in error.problem
    assert "known for US, US-FL, CA" in error.problem
    assert "default 08:00-21:00" in error.problem
