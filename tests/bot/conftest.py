"""Helpers for tests that run the real `voicemail-coach` (or a redis-server) in a process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

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


@contextmanager
def redis_server(port: int, folder: Path) -> Iterator[str]:
    """A redis-server of the test's own on `port`, keeping nothing on disk; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        message = "redis-server is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def get(url: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of GET `url`, whatever the status; (0, {}) if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def wait_for_status(url: str, status: int, process: subprocess.Popen[str]) -> dict[str, Any]:
    """The body of the first answer to GET `url` with `status`, within 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        answered, body = get(url)
        if answered == status:
            return body
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer {status} within 20 s")
