"""Helpers for tests that run the real `voicemail-coach` command in a process of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

VOICEMAIL_COACH = Path(sys.executable).with_name("voicemail-coach")


def quiet_env(**settings: str) -> dict[str, str]:
    """This environment without any of the service's settings, plus `settings`."""
    ours = ("SLACK_", "REDIS_URL", "VOICEMAIL_COACH_", "PORT")
    return {k: v for k, v in os.environ.items() if not k.startswith(ours)} | settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VOICEMAIL_COACH), *args],
        cwd=cwd,
        env=quiet_env() if env is None else env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_error(stderr: str) -> str:
    """The one line a failed command wrote for its user, apart from its JSON log events;
    fails the test if there is a traceback or more than one such line."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("voicemail-coach: "), stderr
    return lines[0]
