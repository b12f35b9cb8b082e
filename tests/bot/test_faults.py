"""Faults survived, with real processes: a web tier and workers of `voicemail-coach` on a
redis-server of the test's own, the fake Slack as a process recording every answer it takes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import pytest
import redis

from tests.adapters.slack.conftest import sign
from tests.bot.conftest import VOICEMAIL_COACH, free_port, quiet_env, redis_server, wait_for_status

SECRET = "fault-test-signing-secret"
PREFIX = "vcfaults"
STREAM = f"{PREFIX}:jobs"
GROUP = "workers"  # bot/jobs.py's CONSUMER_GROUP
RECLAIM_SECONDS = 4
# users.info answers this late, so a worker holds each job this long: well under
# RECLAIM_SECONDS, or another worker would take a job whose worker is alive and still on it.
SLOW_SLACK_SECONDS = 1.5
COMMANDS = 12
WAIT_SECONDS = 30

T = TypeVar("T")


@dataclass
class Service:
    """A `voicemail-coach` process of the test's, and where it listens."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def consumer(self) -> str:
        """Its name in the job stream's consumer group (bot/jobs.py: host and process id)."""
        return f"{socket.gethostname()}-{self.process.pid}"


@contextmanager
def running(command: list[str], env: dict[str, str], folder: Path, name: str) -> Iterator[Service]:
    """`voicemail-coach COMMAND` on a free port, ready (GET /readyz 200), until the block ends."""
    port, log = free_port(), folder / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(VOICEMAIL_COACH), *command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        service = Service(process, port, log)
        wait_for_status(f"{service.url}/readyz", 200, process)
        yield service
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def fake_slack(record: Path, *options: str) -> Iterator[str]:
    """The fake Slack Web API as a process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.slack_api", "--port", "0", "--record", str(record),
         *options],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def service_env(redis_url: str, slack_url: str) -> dict[str, str]:
    return quiet_env(
        REDIS_URL=redis_url,
        VOICEMAIL_COACH_REDIS_PREFIX=PREFIX,
        VOICEMAIL_COACH_RECLAIM_SECONDS=str(RECLAIM_SECONDS),
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN="xoxb-fault-test",
        SLACK_API_URL=slack_url + "/api/",
    )


def slash_command(web: Service, slack_url: str, text: str, n: int) -> tuple[int, str]:
    """`/voicemail TEXT` from rep U{n}, signed as Slack signs it: the ack's status and body."""
    body = urlencode({
        "team_id": "T1", "team_domain": "acme", "channel_id": "C1", "user_id": f"U{n}",
        "user_name": f"rep{n}", "command": "/voicemail", "text": text, "api_app_id": "A1",
        "response_url": f"{slack_url}/respond/cmd{n}", "trigger_id": f"trigger-{n}",
    })  # fmt: skip
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{web.url}/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SECRET, stamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read().decode()


def answered(record: Path) -> list[tuple[str, str]]:
    """Each answer the fake Slack took on a response_url: the URL's name (cmd{n}), its text."""
    if not record.exists():
        return []
    lines = [json.loads(line) for line in record.read_text().splitlines() if line.endswith("}")]
    return [(line["response_url"], line["text"]) for line in lines if "response_url" in line]


def answers(record: Path) -> Counter[str]:
    """How many answers the fake Slack took on each response_url."""
    return Counter(name for name, _ in answered(record))


def wait_until(check: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"{what} within {WAIT_SECONDS} s")


def holding_jobs(client: redis.Redis, workers: list[Service]) -> Service | None:
    """The worker holding the most jobs taken but not done, if any holds one."""
    pending = client.xpending_range(STREAM, GROUP, "-", "+", 1000)
    held = Counter(entry["consumer"] for entry in pending)
    holder = max(workers, key=lambda worker: held[worker.consumer])
    return holder if held[holder.consumer] else None


def every_job_done(client: redis.Redis) -> bool:
    """No job left in the stream (a done one is deleted), none held, none set aside."""
    return (
        client.xlen(STREAM) == 0
        and client.xpending(STREAM, GROUP)["pending"] == 0
        and client.xlen(f"{STREAM}:dead") == 0
    )


def no_traceback(*services: Service) -> None:
    for service in services:
        assert "Traceback" not in service.log.read_text(), service.log.read_text()[-2000:]


def test_a_worker_killed_holding_jobs_each_is_answered_once_by_another_with_no_new_traffic(
    tmp_path: Path,
) -> None:
    record = tmp_path / "answers.jsonl"
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(free_port(), tmp_path))
        slack_url = stack.enter_context(
            fake_slack(record, "--delay", f"users.info={SLOW_SLACK_SECONDS}")
        )
        env = service_env(redis_url, slack_url)
        web = stack.enter_context(running(["serve", "--no-worker"], env, tmp_path, "web"))
        workers = [
            stack.enter_context(running(["worker"], env, tmp_path, f"worker{n}")) for n in (1, 2)
        ]
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        stack.callback(client.close)
        for n in range(COMMANDS):
            assert slash_command(web, slack_url, f"Jane Doe {n} at Acme", n) == (200, "")
        victim = wait_until(lambda: holding_jobs(client, workers), "no worker took a job")
        held = len(client.xpending_range(STREAM, GROUP, "-", "+", 1000, victim.consumer))
        victim.process.send_signal(signal.SIGKILL)  # mid-job: it waits on users.info
        victim.process.wait(timeout=10)
        # Nothing more is sent: the survivor reclaims the victim's jobs on its own reading turns.
        wait_until(lambda: every_job_done(client), "the jobs were not all done")
        survivor = next(worker for worker in workers if worker is not victim)
        assert survivor.process.poll() is None
        no_traceback(web, survivor)
    assert held >= 1
    assert answers(record) == Counter({f"cmd{n}": 1 for n in range(COMMANDS)})
    for name, text in answered(record):  # the decision itself, not an apology
        assert f"Jane Doe {name.removeprefix('cmd')} @ Acme" in text, text
