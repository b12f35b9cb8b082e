"""The real command line, in processes of its own: what a user sees when something is wrong."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli import main
from policy.sources import SEED_TITLES
from tests.bot.conftest import VOICEMAIL_COACH, free_port, one_line_error, quiet_env, run_cli

DECISION_REQUEST = json.dumps(
    {
        "now": "2026-11-23T10:15:00-05:00",
        "rep": {"name": "Sam Lee", "company": "Northwind", "phone": "+1 555 010 0100"},
        "prospect": {"name": "Jane Doe", "company": "Acme", "relationship": "stranger"},
    }
)


@pytest.mark.parametrize(
    ("args", "stdin"),
    [(["playbooks"], ""), (["say", "/voicemail help"], ""), (["decide"], DECISION_REQUEST)],
)
def test_output_into_a_pipe_closed_early_ends_with_one_line(
    args: list[str], stdin: str, tmp_path: Path
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` once it has read what it wanted
    try:
        result = subprocess.run(
            [str(VOICEMAIL_COACH), *args],
            cwd=tmp_path,
            env=quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db")),
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "output was cut short" in one_line_error(result.stderr)


def test_ctrl_c_in_the_console_ends_it_with_one_line(tmp_path: Path) -> None:
    console = subprocess.Popen(
        [str(VOICEMAIL_COACH), "console"],
        cwd=tmp_path,
        env=quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db")),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert console.stdout is not None
        assert console.stdout.readline().startswith("Voicemail Coach.")  # the prompt is up
        console.send_signal(signal.SIGINT)
        _, stderr = console.communicate(timeout=15)
    finally:
        console.kill()
    assert console.returncode == 130
    line = one_line_error(stderr)
    assert "Ctrl-C" in line
    assert "quit" in line  # how to leave it without


@pytest.mark.parametrize("args", [["say", "/voicemail queue"], ["console"]])
def test_an_unreachable_redis_is_named_with_what_to_do(args: list[str], tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = run_cli(
        *args, cwd=tmp_path, env=quiet_env(REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    )
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert f"Redis does not answer at 127.0.0.1:{port}" in line
    assert "unset REDIS_URL" in line
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("args", [["say", "/voicemail queue"], ["console"], ["serve"], ["worker"]])
def test_a_malformed_redis_url_is_a_configuration_error(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path, env=quiet_env(REDIS_URL="nope://user:hunter2@x"))
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "REDIS_URL is not a Redis URL" in line
    assert "redis://127.0.0.1:6379/0" in line  # what one looks like
    assert "hunter2" not in result.stderr
    assert not (tmp_path / "voicemail-coach.db").exists()


@pytest.mark.parametrize("port", ["abc", "0", "70000", "9" * 5000])
def test_a_port_that_is_no_port_number_is_a_configuration_error(port: str, tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path, env=quiet_env(PORT=port))
    assert result.returncode == 2
    assert "PORT must be a number from 1 to 65535" in one_line_error(result.stderr)


@pytest.mark.parametrize("args", [["say", "/voicemail queue"], ["serve", "--port", "0"]])
def test_a_database_in_a_folder_that_does_not_exist_says_to_create_it(
    args: list[str], tmp_path: Path
) -> None:
    folder = tmp_path / "var" / "lib" / "voicemail-coach"
    env = quiet_env(VOICEMAIL_COACH_DB=str(folder / "coach.db"))
    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert f"({folder}) does not exist" in line
    assert f"mkdir -p {folder}" in line
    assert not folder.exists()


def test_a_port_in_use_is_named_and_serving_is_never_logged(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "serve", "--host", "127.0.0.1", "--port", str(port),
            cwd=tmp_path, env=quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db")),
        )  # fmt: skip
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert f"port {port} is already in use on 127.0.0.1" in line
    assert "--port" in line
    events = [json.loads(e)["event"] for e in result.stderr.splitlines() if e.startswith("{")]
    assert "serving" not in events
    assert events[-1] == "stopped"  # the store was closed on the way out


def test_say_exits_non_zero_and_answers_on_stderr_when_it_did_not_understand(
    tmp_path: Path,
) -> None:
    env = quiet_env(VOICEMAIL_COACH_DB=str(tmp_path / "coach.db"))
    result = run_cli("say", "/voicemail Jane Doe from Acme", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("✗ I didn't understand that")
    assert "Example: /voicemail Jane Doe @ Acme" in result.stderr


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"voicemail-coach {version('voicemail-coach')}\n"


COMMANDS = ["decide", "playbooks", "serve", "worker", "console", "say", "manifest"]


@pytest.mark.parametrize("argv", [["--help"]] + [[command, "--help"] for command in COMMANDS])
def test_help_names_only_what_exists(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    text = capsys.readouterr().out.lower()
    assert text.startswith("usage: voicemail-coach")
    assert "schedul" not in text  # no scheduler yet


def test_manifest_lists_a_platform_for_each_adapter_that_has_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["manifest", "--help"])
    text = capsys.readouterr().out
    assert "slack     the Slack app manifest" in text
    assert "teams     the Teams app manifest" in text


def test_playbooks_names_the_sources_by_title_and_points_to_the_docs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["playbooks"]) == 0
    text = capsys.readouterr().out
    assert "shared/seeds" not in text  # the old path outside the repository
    assert "see docs/sources.md" in text
    for number, title in SEED_TITLES.items():
        assert f"  {number}  {title}" in text
    assert (Path(__file__).parents[2] / "docs" / "sources.md").exists()
