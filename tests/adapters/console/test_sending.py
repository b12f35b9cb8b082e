"""A week scripted in the terminal: `say --as --at`, `nudges` and `digest`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.bot.conftest import one_line_error, quiet_env, run_cli

MONDAY = "2026-11-30"
TUESDAY = "2026-12-01"
WEDNESDAY = "2026-12-02"
NEXT_MONDAY = "2026-12-07"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db"), TZ="America/New_York")


def coach(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    return done


def say(tmp_path: Path, env: dict[str, str], user: str, at: str, line: str) -> str:
    return coach(tmp_path, env, "say", "--as", user, "--at", at, f"/voicemail {line}").stdout


def nudges(tmp_path: Path, env: dict[str, str], at: str, *options: str) -> list[dict[str, object]]:
    out = coach(tmp_path, env, "nudges", "--at", at, "--json", *options).stdout
    return [json.loads(line) for line in out.splitlines()]


def sent(lines: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(line["kind"], line["user"]) for line in lines if line["status"] == "sent"]


def a_week_begins(tmp_path: Path, env: dict[str, str]) -> None:
    say(tmp_path, env, "dana", f"{MONDAY}T09:00", "team add sam")
    say(tmp_path, env, "sam", f"{MONDAY}T09:05", "me timezone America/New_York")
    say(tmp_path, env, "sam", f"{MONDAY}T10:00", "Jane Doe @ Acme referred by Tom")
    say(tmp_path, env, "sam", f"{MONDAY}T10:01", "log Jane Doe @ Acme left")


def test_the_morning_a_call_back_is_due_the_rep_is_nudged_once(
    tmp_path: Path, env: dict[str, str]
) -> None:
    a_week_begins(tmp_path, env)
    tuesday = nudges(tmp_path, env, f"{TUESDAY}T08:00")
    assert sent(tuesday) == []  # the call-back is on Wednesday: nothing due, nothing sent
    preview = nudges(tmp_path, env, f"{WEDNESDAY}T08:00", "--dry-run")
    assert [line["status"] for line in preview if line["user"] == "sam"] == ["due"]
    wednesday = nudges(tmp_path, env, f"{WEDNESDAY}T08:00")
    assert sent(wednesday) == [("rep_nudge", "sam")]
    (nudge,) = [line for line in wednesday if line["user"] == "sam"]
    assert nudge["local_date"] == WEDNESDAY and nudge["platform"] == "console"
    callbacks = nudge["callbacks"]
    assert isinstance(callbacks, list) and callbacks[0]["prospect"] == "Jane Doe"
    assert sent(nudges(tmp_path, env, f"{WEDNESDAY}T08:00")) == []  # a second run: nothing
    assert sent(nudges(tmp_path, env, f"{WEDNESDAY}T15:00")) == []  # later that day: nothing


def test_mondays_digest_goes_to_the_manager_with_its_chart(
    tmp_path: Path, env: dict[str, str]
) -> None:
    a_week_begins(tmp_path, env)
    say(tmp_path, env, "sam", f"{WEDNESDAY}T16:40", "log Jane Doe @ Acme called-back")
    done = coach(tmp_path, env, "nudges", "--at", f"{NEXT_MONDAY}T08:00")
    assert "Team digest: Dana's team" in done.stdout
    chart = tmp_path / "charts" / f"digest-dana-{NEXT_MONDAY}.png"
    assert f"Chart: {chart}" in done.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "weekly_digest for console console/dana (2026-12-07): sent" in done.stdout


def test_the_digest_command_shows_a_team_at_any_instant(
    tmp_path: Path, env: dict[str, str]
) -> None:
    a_week_begins(tmp_path, env)
    chart = tmp_path / "week.png"
    done = coach(tmp_path, env, "digest", "--team", "dana", "--at", f"{NEXT_MONDAY}T09:00",
                 "--json", "--chart", str(chart))  # fmt: skip
    digest = json.loads(done.stdout)
    assert digest["team"]["title"] == "Dana's team"
    assert digest["totals"]["voicemails"]["value"] == 1
    assert digest["chart"] == str(chart) and chart.read_bytes().startswith(b"\x89PNG")
    text = coach(tmp_path, env, "digest", "--team", "dana", "--at", f"{NEXT_MONDAY}T09:00")
    assert "Voicemails left" in text.stdout


@pytest.mark.parametrize(
    ("args", "problem"),
    [(["nudges", "--at", "next monday"], "is not an ISO 8601 instant"),
     (["digest", "--team", "nobody"], "has no reps"),
     (["say", "--as", "sam; rm -rf", "/voicemail help"], "is not a user name"),
     (["say", "--at", "2026-13-01", "/voicemail help"], "is not an ISO 8601 instant")],
)  # fmt: skip
def test_bad_input_gets_one_line_saying_what_is_accepted(
    tmp_path: Path, env: dict[str, str], args: list[str], problem: str
) -> None:
    done = run_cli(*args, cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert problem in one_line_error(done.stderr)


def test_the_nudges_decide_line_asks_for_that_prospects_decision(
    tmp_path: Path, env: dict[str, str]
) -> None:
    a_week_begins(tmp_path, env)
    nudge = coach(tmp_path, env, "nudges", "--at", f"{WEDNESDAY}T08:00").stdout
    (line,) = [line for line in nudge.splitlines() if "Decide for Jane Doe" in line]
    asked = line.split(": ", 1)[1]
    assert asked == "/voicemail jane doe @ acme"
    decision = say(tmp_path, env, "sam", f"{WEDNESDAY}T10:00", asked.removeprefix("/voicemail "))
    assert "Jane Doe @ Acme" in decision and "Attempt" in decision
