"""The terminal channel: a Reply as text, the prompt loop, and the real `say` command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.console.render import render
from adapters.console.terminal import interact, say, strip_prefix
from bot.coach import Coach
from bot.records import Outcome, prospect_key
from bot.store import SQLiteStore
from bot.types import Actor, Button, Fact, Platform, Reply, ScriptBlock, Tone
from tests.bot.conftest import VOICEMAIL_COACH, quiet_env, run_cli

MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=ZoneInfo("America/New_York"))
ME = Actor(Platform.CONSOLE, "console", "sam", "Sam Lee", "America/New_York")
JANE_KEY = prospect_key("Jane Doe", "Acme")


@pytest.fixture
def coach(sqlite_store: SQLiteStore) -> Coach:
    """The coach on a fresh SQLite store (tests/conftest.py), at a fixed moment."""
    return Coach(sqlite_store, clock=lambda: MONDAY)


def scripted(lines: list[str]) -> tuple[Callable[[str], str], list[str]]:
    """A read function answering with these lines then EOF, and the prompts it was shown."""
    prompts: list[str] = []
    remaining = list(lines)

    def read(prompt: str) -> str:
        prompts.append(prompt)
        if not remaining:
            raise EOFError
        return remaining.pop(0)

    return read, prompts


# --- render -------------------------------------------------------------------------------


async def test_a_decision_renders_heading_script_facts_sources_and_the_check_in_hint(
    coach: Coach,
) -> None:
    await say(coach, "/voicemail me company Northwind", ME)
    await say(coach, "/voicemail me phone +1 555 010 0100", ME)
    text = await say(coach, "/voicemail Jane Doe @ Acme referred by Tom Ruiz", ME)
    lines = text.splitlines()
    assert lines[0] == "» Leave a voicemail · Jane Doe @ Acme"
    script_at = lines.index(next(line for line in lines if line.strip().startswith("Script (")))
    assert lines[script_at].strip().endswith(" s):")
    seconds = int(lines[script_at].split("(")[1].split()[0])
    assert 0 < seconds <= 30
    quoted = lines[script_at + 1].strip()
    assert quoted.startswith("\u201cHi Jane, it's Sam Lee")
    assert quoted.endswith("\u201d")
    assert "Tom Ruiz suggested I give you a call" in quoted
    assert any(line.split() == ["Attempt", "1", "of", "this", "cycle"] for line in lines)
    assert any(line.strip().startswith("Call back") for line in lines)
    assert any(line.startswith("  Sources: ") and line.endswith("(referral)") for line in lines)
    assert lines[-1] == "  Check in: /voicemail log Jane Doe @ Acme left|skipped|live|zero"


def test_render_marks_the_tone_and_aligns_the_facts() -> None:
    reply = Reply(
        heading="Saved",
        facts=(Fact("Name", "Sam"), Fact("Time zone", "Europe/Paris")),
        paragraphs=("One.", "Two."),
        tone=Tone.DONE,
    )
    assert render(reply) == "\n".join(
        ["✓ Saved", "", "  Name       Sam", "  Time zone  Europe/Paris", "", "  One.", "  Two."]
    )
    assert render(Reply("Oops", tone=Tone.ERROR)) == "✗ Oops"
    assert render(Reply("Plain")) == "Plain"


def test_render_numbers_the_buttons_for_the_prompt() -> None:
    reply = Reply(
        heading="Hang up",
        script=ScriptBlock("Hi Jane.", 2),
        buttons=(
            Button("Left it", "checkin", "left||k"),
            Button("Skipped", "checkin", "skipped||k", primary=True),
        ),
        subject="Jane Doe @ Acme",
        tone=Tone.DECISION,
    )
    text = render(reply, numbered_buttons=True)
    assert "  Script (2 s):\n  \u201cHi Jane.\u201d" in text
    assert text.endswith("  Check in: [1] Left it  [2] Skipped  (type the number)")
    assert render(reply).endswith("  Check in: /voicemail log Jane Doe @ Acme left|skipped")


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("/voicemail help", "help"),
        ("  /VOICEMAIL   queue ", "queue"),
        ("queue", "queue"),
        ("/voicemail", ""),
    ],
)
def test_the_command_prefix_is_optional(line: str, text: str) -> None:
    assert strip_prefix(line) == text


# --- interact -----------------------------------------------------------------------------


async def test_typing_a_number_presses_that_button_and_logs_a_check_in(
    coach: Coach, sqlite_store: SQLiteStore
) -> None:
    read, prompts = scripted(
        ["/voicemail me phone +1 555 010 0100", "", "/voicemail Jane Doe @ Acme referred by Tom",
         "1", "quit", "/voicemail Never @ Read"]
    )  # fmt: skip
    written: list[str] = []
    await interact(coach, read, written.append, ME)

    assert written[0].startswith("Voicemail Coach.")
    decision = written[2]
    assert decision.startswith("» Leave a voicemail · Jane Doe @ Acme")
    assert "[1] Left it  [2] Skipped  [3] Reached them  [4] Dialed 0" in decision
    assert written[3].startswith("✓ Logged: left a voicemail · Jane Doe @ Acme")
    assert "You followed the advice." in written[3]
    assert len(written) == 4
    assert len(prompts) == 5  # "quit" ended the loop; the last line was never read
    assert [c.outcome for c in await sqlite_store.prospect_log("console", "sam", JANE_KEY)] == [
        Outcome.LEFT
    ]


async def test_a_number_pressed_again_after_a_check_in_gets_a_hint_not_a_prospect(
    coach: Coach, sqlite_store: SQLiteStore
) -> None:
    read, _ = scripted(["Jane Doe @ Acme", "2", "2"])
    written: list[str] = []
    await interact(coach, read, written.append, ME)
    assert written[1].startswith("» Dial 0, then hang up · Jane Doe @ Acme")
    assert written[2].startswith("✓ Logged: hung up without a message · Jane Doe @ Acme")
    hint = written[3]
    assert hint.startswith("✗ No button to press with 2")
    assert "/voicemail log Jane Doe @ Acme left" in hint
    assert "didn't understand" not in hint
    assert await sqlite_store.get_prospect("console", "sam", prospect_key("2", "")) is None
    assert [c.outcome for c in await sqlite_store.prospect_log("console", "sam", JANE_KEY)] == [
        Outcome.SKIPPED
    ]


async def test_a_number_beyond_the_buttons_says_which_numbers_press_and_keeps_them(
    coach: Coach, sqlite_store: SQLiteStore
) -> None:
    read, _ = scripted(["Jane Doe @ Acme", "9", "0", "9" * 5000, "3"])
    written: list[str] = []
    await interact(coach, read, written.append, ME)
    assert written[2].splitlines() == [
        "✗ There is no button 9",
        "",
        "  Type a number from 1 to 4 to press one of the buttons above.",
    ]
    assert written[3].startswith("✗ There is no button 0")
    assert written[4].startswith("✗ There is no button 9999…")
    assert written[5].startswith("✓ Logged: reached them · Jane Doe @ Acme")  # still pressable
    assert [c.outcome for c in await sqlite_store.prospect_log("console", "sam", JANE_KEY)] == [
        Outcome.LIVE
    ]


async def test_a_number_with_no_decision_before_it_gets_a_hint_and_stores_nothing(
    coach: Coach, sqlite_store: SQLiteStore
) -> None:
    read, _ = scripted(["1"])
    written: list[str] = []
    await interact(coach, read, written.append, ME)
    assert written[-1].startswith("✗ No button to press with 1")
    assert await sqlite_store.export_rep("console", "sam") == {
        "profile": None, "prospects": [], "check_ins": [],
    }  # fmt: skip


@pytest.mark.parametrize("word", ["quit", "exit", "QUIT"])
async def test_quit_ends_the_prompt(coach: Coach, word: str) -> None:
    read, prompts = scripted([word, "help"])
    written: list[str] = []
    await interact(coach, read, written.append, ME)
    assert len(prompts) == 1
    assert len(written) == 1


async def test_end_of_input_ends_the_prompt(coach: Coach) -> None:
    read, prompts = scripted(["/voicemail help"])
    written: list[str] = []
    await interact(coach, read, written.append, ME)
    assert len(prompts) == 2
    assert written[1].startswith("Voicemail Coach: what you can ask")


# --- the real command line ----------------------------------------------------------------


def test_the_say_command_answers_on_a_fresh_sqlite_store(tmp_path: Path) -> None:
    env = quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db"))
    for line in ("me name Sam Lee", "me company Northwind", "me phone +1 555 010 0100"):
        assert run_cli("say", f"/voicemail {line}", cwd=tmp_path, env=env).returncode == 0
    result = run_cli("say", "/voicemail Jane Doe @ Acme referred by Tom", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Leave a voicemail · Jane Doe @ Acme" in result.stdout
    assert "Tom suggested I give you a call" in result.stdout
    assert (tmp_path / "coach.db").exists()


def test_say_export_prints_only_json_for_a_json_tool(tmp_path: Path) -> None:
    env = quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db"))
    assert run_cli("say", "/voicemail me name Zoë Ñúñez", cwd=tmp_path, env=env).returncode == 0
    exported = run_cli("say", "/VOICEMAIL Export", cwd=tmp_path, env=env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["profile"]["name"] == "Zoë Ñúñez"
    piped = subprocess.run(
        f"{VOICEMAIL_COACH} say '/voicemail export' | {sys.executable} -m json.tool",
        shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == json.loads(exported.stdout)
