"""`voicemail-coach decide` and `voicemail-coach playbooks`, as a caller sees them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.cli import run_decide_command, show_playbooks
from policy import PLAYBOOKS
from tests.policy.conftest import BAD_INPUTS, SPEC_RULE_ORDER, BadInput, changed, spec_example

COMMAND = Path(sys.executable).parent / "voicemail-coach"
OUTPUT_KEYS = {
    "action",
    "playbook",
    "reasons",
    "script",
    "call_back",
    "recycle_on",
    "seconds_saved",
    "warnings",
}


def run(stdin: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_decide_command(io.StringIO(stdin), stdout, stderr)
    return status, stdout.getvalue(), stderr.getvalue()


def decide_json(document: dict[str, Any]) -> dict[str, Any]:
    status, out, err = run(json.dumps(document))
    assert (status, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


def referral_example() -> dict[str, Any]:
    return changed(
        spec_example(),
        {("prospect", "relationship"): "referred", ("prospect", "referred_by"): "Tom Ruiz"},
    )


def assert_rejected(stdin: str, field: str) -> str:
    status, out, err = run(stdin)
    assert status == 2
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith(f"{field}: ")
    return err


# --- good input: one JSON object with the spec's fields


def test_spec_example_decides_as_the_spec_says() -> None:
    result = decide_json(spec_example())
    assert set(result) >= OUTPUT_KEYS
    assert result["action"] == "dial_zero"  # a stranger, zero not dialed yet this cycle
    assert result["playbook"] == "balanced"
    assert [reason["rule"] for reason in result["reasons"]] == ["cold"]
    assert result["reasons"][0]["source"] == "003_b2ca0156507fd887.txt"
    assert result["script"] is None
    assert result["recycle_on"] is None
    assert result["seconds_saved"] == 45
    assert result["warnings"] == []


def test_referral_output_matches_the_spec_example() -> None:
    result = decide_json(referral_example())
    assert result["action"] == "leave_voicemail"
    (reason,) = result["reasons"]
    assert reason["rule"] == "referral"
    assert reason["source"] == "003_b2ca0156507fd887.txt"
    assert reason["why"] == (
        "Tom Ruiz referred you: a referred prospect is the one stranger who calls back."
    )
    assert result["script"]["kind"] == "referral"
    assert "Tom Ruiz" in result["script"]["text"]
    assert isinstance(result["script"]["seconds"], int)
    assert 0 < result["script"]["seconds"] <= 30
    assert result["recycle_on"] is None
    assert result["seconds_saved"] == 0
    assert result["warnings"] == []


def test_call_back_is_iso_8601_with_the_prospect_offset_two_business_days_after_a_message() -> None:
    call_back = decide_json(referral_example())["call_back"]
    start, end = (datetime.fromisoformat(call_back[key]) for key in ("start", "end"))
    assert start.date() == date(2026, 11, 25)  # Monday's voicemail: Wednesday
    assert start.utcoffset() == end.utcoffset() == timedelta(hours=-5)
    assert start < end


def test_final_voicemail_output_carries_recycle_on() -> None:
    result = decide_json(
        changed(
            spec_example(),
            {("prospect", "relationship"): "known", ("history", "attempts"): 4},
        )
    )
    assert result["action"] == "final_voicemail"
    assert result["recycle_on"] == "2027-02-21"
    assert result["script"]["kind"] == "final"


def test_conflict_shows_the_overridden_rule() -> None:
    result = decide_json(
        changed(
            referral_example(),
            {
                ("history", "attempts"): 1,
                ("history", "voicemails_left"): 1,
                ("history", "attempts_since_voicemail"): 0,
            },
        )
    )
    assert result["action"] == "hang_up"
    assert [reason["rule"] for reason in result["reasons"]] == ["too-soon"]
    assert [reason["rule"] for reason in result["overridden"]] == ["referral"]


def test_warning_when_the_prospect_local_time_is_outside_legal_hours() -> None:
    result = decide_json(changed(spec_example(), {("now",): "2026-11-23T21:30:00-05:00"}))
    assert len(result["warnings"]) == 1


def test_now_defaults_to_the_current_time() -> None:
    document = spec_example()
    del document["now"]
    before = datetime.now(UTC)
    start = datetime.fromisoformat(decide_json(document)["call_back"]["start"])
    assert start > before


def test_unicode_names_are_printed_as_text() -> None:
    result = decide_json(changed(referral_example(), {("prospect", "name"): "Zoë Ñúñez"}))
    assert "Zoë" in result["script"]["text"]


# --- bad input: status 2, one line naming the field, nothing on stdout


@pytest.mark.parametrize("bad", [case for _, case in BAD_INPUTS], ids=[i for i, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line_naming_the_field(bad: BadInput) -> None:
    assert_rejected(json.dumps(bad.document()), bad.field)


@pytest.mark.parametrize("stdin", ["[]", '"decide"', "42", "null", "true"], ids=repr)
def test_input_that_is_not_an_object_exits_2(stdin: str) -> None:
    assert_rejected(stdin, "input")


@pytest.mark.parametrize(
    "stdin",
    ["", "{", "{'playbook': 'balanced'}", '{"playbook": "balanced",}', "decide please", "{} {}"],
    ids=repr,
)
def test_invalid_json_exits_2(stdin: str) -> None:
    assert "JSON" in assert_rejected(stdin, "input")


def test_unknown_field_with_a_line_break_is_still_one_line() -> None:
    document = spec_example()
    document["foo\nbar"] = 1
    assert_rejected(json.dumps(document), "foo\\nbar")


def test_bad_value_with_a_line_break_is_still_one_line() -> None:
    assert_rejected(
        json.dumps(changed(spec_example(), {("prospect", "relationship"): "friend\nof a friend"})),
        "prospect.relationship",
    )


# --- the installed command


def test_installed_decide_command_reads_stdin_and_prints_json() -> None:
    completed = subprocess.run(
        [str(COMMAND), "decide"],
        input=json.dumps(referral_example()),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    result = json.loads(completed.stdout)
    assert result["action"] == "leave_voicemail"
    assert result["script"]["kind"] == "referral"


def test_installed_decide_command_rejects_bad_input_with_status_2() -> None:
    completed = subprocess.run(
        [str(COMMAND), "decide"],
        input=json.dumps(changed(spec_example(), {("playbook",): "aggressive"})),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith("playbook: ")


# --- playbooks: every playbook and every rule id


def playbook_sections(text: str) -> dict[str, str]:
    """The printed text under each playbook's title, up to the next title."""
    starts = sorted(
        (text.index(f"{name}: {book.summary}"), name) for name, book in PLAYBOOKS.items()
    )
    ends = [start for start, _ in starts[1:]] + [len(text)]
    return {name: text[start:end] for (start, name), end in zip(starts, ends, strict=True)}


def test_playbooks_prints_every_playbook_and_its_rule_ids() -> None:
    out = io.StringIO()
    assert show_playbooks(Console(file=out, width=240)) == 0
    sections = playbook_sections(out.getvalue())
    assert set(sections) == set(PLAYBOOKS)
    for name, book in PLAYBOOKS.items():
        for rule in book.rules:
            assert rule.id in sections[name], (name, rule.id)


def test_playbooks_names_the_seed_of_each_rule() -> None:
    out = io.StringIO()
    show_playbooks(Console(file=out, width=240))
    for seed in ("000", "001", "002", "003", "004"):
        assert seed in out.getvalue()


def test_installed_playbooks_command_lists_the_spec_rules() -> None:
    completed = subprocess.run(
        [str(COMMAND), "playbooks"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "COLUMNS": "240"},
    )
    assert completed.returncode == 0
    sections = playbook_sections(completed.stdout)
    assert set(sections) == set(PLAYBOOKS)
    for name, rule_ids in SPEC_RULE_ORDER.items():
        for rule_id in rule_ids:
            assert rule_id in sections[name]
    assert "new-prospect" in sections["it-depends"]
    assert "new-prospect" not in sections["balanced"]


def test_deeply_nested_json_is_bad_input_not_a_crash() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_decide_command(io.StringIO("[" * 100_000 + "]" * 100_000), stdout, stderr)
    assert status == 2
    assert stdout.getvalue() == ""
    assert stderr.getvalue().startswith("input: nested too deeply")
    assert stderr.getvalue().count("\n") == 1


def test_a_number_of_thousands_of_digits_is_bad_input_not_a_crash() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    document = '{"history": {"attempts": ' + "9" * 5000 + "}}"
    status = run_decide_command(io.StringIO(document), stdout, stderr)
    assert (status, stdout.getvalue()) == (2, "")
    assert stderr.getvalue().startswith("input: a number is far too long")
    assert stderr.getvalue().count("\n") == 1


# --- regions: the region follows the time zone; unknown codes are bad input


def without_region(timezone: str, now: str) -> dict[str, Any]:
    document = changed(spec_example(), {("prospect", "timezone"): timezone, ("now",): now})
    del document["prospect"]["region"]
    return document


def test_a_prague_prospect_is_warned_of_default_hours_not_a_us_law() -> None:
    result = decide_json(without_region("Europe/Prague", "2026-11-23T21:30:00+01:00"))
    (warning,) = result["warnings"]
    assert "default calling hours (08:00-21:00)" in warning
    assert "US federal" not in warning
    assert "TCPA" not in warning


def test_a_toronto_prospect_with_no_region_is_held_to_canadas_hours() -> None:
    result = decide_json(without_region("America/Toronto", "2026-11-23T08:30:00-05:00"))
    (warning,) = result["warnings"]
    assert "for CA (09:00-21:30" in warning


def test_a_new_york_prospect_with_no_region_is_held_to_the_us_federal_rule() -> None:
    result = decide_json(without_region("America/New_York", "2026-11-23T21:30:00-05:00"))
    (warning,) = result["warnings"]
    assert "for US (08:00-21:00, US federal TCPA" in warning


@pytest.mark.parametrize("region", ["XX", "US-ZZ", "EU"])
def test_a_region_that_is_not_iso_3166_exits_2_naming_the_field(region: str) -> None:
    err = assert_rejected(
        json.dumps(changed(spec_example(), {("prospect", "region"): region})), "prospect.region"
    )
    assert "ISO 3166" in err
    assert "known for US, US-FL, CA" in err
