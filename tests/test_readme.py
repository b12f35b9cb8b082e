"""The README's copy-paste command lines, run as a reader would run them, and its links.

The commands run verbatim from the README's ```sh blocks, in a scratch folder where `.venv/bin`
is the folder of the Python running the tests and `VOICEMAIL_COACH_DB` points into that folder,
so the README and the program cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = (README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def sh_blocks() -> list[str]:
    return FENCE.findall(README.read_text(encoding="utf-8"))


def commands(block: str) -> list[str]:
    """The command lines of a block: continuations joined, blank lines dropped."""
    lines: list[str] = []
    pending = ""
    for raw in block.splitlines():
        line = raw.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append(line)
    return lines


def block_with(needle: str) -> list[str]:
    found = [commands(block) for block in sh_blocks() if needle in block]
    assert found, f"the README has no ```sh block with {needle!r}"
    return found[0]


def without_comment(line: str) -> str:
    return line.split("  #", 1)[0].strip()


@pytest.fixture
def reader(tmp_path: Path) -> Path:
    """A scratch folder with `.venv/bin` standing for the venv running the tests."""
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    return tmp_path


def run(line: str, cwd: Path) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REDIS_URL", "SLACK_", "VOICEMAIL_COACH_"))
    }
    env["VOICEMAIL_COACH_DB"] = str(cwd / "coach.db")
    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{line}\nexited {done.returncode}:\n{done.stderr}"
    return done.stdout


def test_the_quick_start_is_two_commands() -> None:
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    first = FENCE.search(quick_start)
    assert first is not None
    assert [without_comment(line) for line in commands(first.group(1))] == [
        "make run",
        "make test",
    ]


def test_the_decide_one_liner_advises_a_voicemail_for_the_referral(reader: Path) -> None:
    (line,) = block_with("voicemail-coach decide")
    decision = json.loads(run(line, reader))
    assert decision["action"] == "leave_voicemail"
    (reason,) = decision["reasons"]
    assert reason["rule"] == "referral"
    assert reason["source"].startswith("003_")
    assert "Tom Ruiz" in reason["why"]
    script = decision["script"]["text"]
    assert all(name in script for name in ("Jane", "Sam Lee", "Northwind", "Tom Ruiz"))
    assert script.count("555") == 2, "the number twice"
    assert decision["script"]["seconds"] <= 30
    assert decision["call_back"]["start"].endswith("-05:00"), "in the prospect's time"
    assert decision["warnings"] == []


def test_the_terminal_walk_through_gives_sam_lees_script_and_logs_the_check_in(
    reader: Path,
) -> None:
    lines = block_with('say "/voicemail')
    said = [line for line in lines if " say " in line]
    assert len(said) == 5 and any(" console" in line for line in lines)
    replies = [run(line, reader) for line in said]
    decision, check_in = replies[3], replies[4]
    assert "Sam Lee" in decision and "Northwind" in decision
    assert "Jane" in decision and "Tom" in decision and "555 010 0100" in decision
    assert "Jane Doe" in check_in and "voicemail" in check_in.lower()
    assert (reader / "coach.db").exists(), "the walk-through used the configured store"


def test_playbooks_prints_the_six_playbooks_and_their_rules(reader: Path) -> None:
    assert block_with("voicemail-coach playbooks") == [".venv/bin/voicemail-coach playbooks"]
    text = run(".venv/bin/voicemail-coach playbooks", reader)
    for name in ("balanced", "live-only", "selective", "rapport-series", "referral-only"):
        assert f"{name}:" in text
    assert "it-depends:" in text
    for rule in ("paused", "expected-reply", "final-attempt", "too-soon", "referral", "cold"):
        assert rule in text


def test_the_manifest_commands_print_the_slack_manifests(reader: Path) -> None:
    (line,) = block_with("manifest slack --url")
    url = re.search(r"--url (\S+)", line)
    assert url is not None
    manifest = run(line, reader)
    assert manifest.count(f"{url.group(1)}/slack/events") == 3
    (socket_line,) = block_with("manifest slack --socket")
    assert "socket_mode_enabled: true" in run(socket_line, reader)


def test_the_teams_package_command_writes_the_package_teams_takes(reader: Path) -> None:
    (line,) = block_with("manifest teams --app-id")
    app_id = re.search(r"--app-id (\S+)", line)
    zip_name = re.search(r"--zip (\S+)", line)
    assert app_id is not None and zip_name is not None
    run(line, reader)
    with zipfile.ZipFile(reader / zip_name.group(1)) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == app_id.group(1)
    assert {"personal", "team", "groupChat"} <= set(manifest["bots"][0]["scopes"])
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert [command["title"] for command in commands] == ["help", "queue", "log", "history"]


def heading_anchors(path: Path) -> set[str]:
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_links_stay_inside_the_repository_and_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "shared/spec" not in text and "/work/" not in text
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        assert linked.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert linked.exists(), f"{doc.name} links to a missing file: {target}"
        if anchor:
            assert anchor in heading_anchors(linked), f"{doc.name}: no heading for {target}"


def test_the_week_in_the_terminal_nudges_sam_once_and_brings_danas_digest_with_a_chart(
    reader: Path,
) -> None:
    lines = [without_comment(line) for line in block_with("nudges --at")]
    out = [run(line, reader) for line in lines]
    dry_run, wednesday, again, monday, digest = out[6], out[7], out[8], out[10], out[11]
    assert (
        "Jane Doe" in dry_run and "rep_nudge for console console/sam (2026-12-02): due" in dry_run
    )
    assert "Message from Voicemail Coach:" in wednesday and "Jane Doe" in wednesday
    assert "rep_nudge for console console/sam (2026-12-02): sent" in wednesday
    assert "sent" not in again
    assert "Team digest: Dana's team" in monday and "weekly_digest" in monday
    assert (reader / "charts" / "digest-dana-2026-12-07.png").read_bytes().startswith(b"\x89PNG")
    assert "Callbacks from voicemails  1" in digest
    assert (reader / "week.png").read_bytes().startswith(b"\x89PNG")


def test_the_nudges_json_example_prints_one_object_a_line(reader: Path) -> None:
    (line,) = [e for e in re.findall(r"`(\.venv/bin/voicemail-coach nudges[^`]*)`",
               README.read_text(encoding="utf-8")) if "--json" in e]  # fmt: skip
    for week_line in block_with("nudges --at")[:6]:
        run(week_line, reader)
    printed = [json.loads(text) for text in run(line, reader).splitlines()]
    assert {(found["kind"], found["user"]) for found in printed} >= {("rep_nudge", "sam")}


def table_examples() -> list[str]:
    """The `/voicemail ...` examples of the README's command table and prose."""
    text = README.read_text(encoding="utf-8")
    return [e for e in re.findall(r"`/voicemail ([^`]+)`", text) if not e.endswith("...")]


def test_every_voicemail_example_in_the_readme_is_understood() -> None:
    from bot.commands import GrammarError, parse

    examples = table_examples()
    assert len(examples) >= 12
    for example in examples:
        try:
            parse(example)
        except GrammarError as error:
            raise AssertionError(f"the README's `/voicemail {example}`: {error}") from None


def test_the_readmes_typo_example_gets_its_suggestion() -> None:
    from bot.commands import GrammarError, parse

    with pytest.raises(GrammarError) as caught:
        parse("histroy Jane Doe @ Acme")
    assert "did you mean `history Jane Doe @ Acme`?" in caught.value.problem
