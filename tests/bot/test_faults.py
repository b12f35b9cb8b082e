"""Faults survived, with real processes: a web tier and workers of `voicemail-coach` on a
redis-server of the test's own, the fake Slack as a process recording every answer it takes."""

from __future__ import annotations

import json
import shutil
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

from bot.replies import (
    HISTORY_UNAVAILABLE,
    STORE_DOWN_CLICK,
    STORE_DOWN_COMMAND,
    STORE_DOWN_HEADING,
)
from tests.adapters.slack.conftest import sign
from tests.bot.conftest import (
    VOICEMAIL_COACH,
    free_port,
    get,
    quiet_env,
    redis_server,
)

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
STARTUP_SECONDS = 60

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

    def wait_for(self, status: int) -> None:
        """Until GET /readyz answers `status`: a minute at most (startup imports take seconds
        of CPU, much longer on a loaded machine)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while get(f"{self.url}/readyz")[0] != status:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            if time.monotonic() > deadline:
                pytest.fail(f"{self.log.stem}: /readyz did not answer {status} in time")
            time.sleep(0.1)

    @property
    def consumer(self) -> str:
        """Its name in the job stream's consumer group (bot/jobs.py: host and process id)."""
        return f"{socket.gethostname()}-{self.process.pid}"


@contextmanager
def running(
    command: list[str], env: dict[str, str], folder: Path, name: str, status: int = 200
) -> Iterator[Service]:
    """`voicemail-coach COMMAND` on a free port, until the block ends: once GET /readyz answers
    `status` (200: ready)."""
    port, log = free_port(), folder / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(VOICEMAIL_COACH), *command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        service = Service(process, port, log)
        service.wait_for(status)
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


def slash_command(
    web: Service, slack_url: str, text: str, n: int, user: str = ""
) -> tuple[int, str]:
    """`/voicemail TEXT` from rep U{n} (or `user`), signed as Slack signs it: the ack's status
    and body; its answer goes to the response_url cmd{n}."""
    body = urlencode({
        "team_id": "T1", "team_domain": "acme", "channel_id": "C1", "user_id": user or f"U{n}",
        "user_name": f"rep{n}", "command": "/voicemail", "text": text, "api_app_id": "A1",
        "response_url": f"{slack_url}/respond/cmd{n}", "trigger_id": f"trigger-{n}",
    })  # fmt: skip
    return post_signed(web, body)


def check_in_click(web: Service, slack_url: str, value: str, n: int) -> tuple[int, str]:
    """A check-in button clicked by rep U1; its answer goes to the response_url click{n}."""
    payload = {
        "type": "block_actions", "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "team_id": "T1"}, "api_app_id": "A1", "trigger_id": f"click-{n}",
        "response_url": f"{slack_url}/respond/click{n}",
        "container": {"type": "message", "is_ephemeral": True},
        "actions": [{"type": "button", "block_id": "b1", "action_id": "checkin", "value": value,
                     "text": {"type": "plain_text", "text": "Left it"}, "action_ts": f"{n}.1"}],
    }  # fmt: skip
    return post_signed(web, urlencode({"payload": json.dumps(payload)}))


def post_signed(web: Service, body: str) -> tuple[int, str]:
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


@contextmanager
def lasting_redis(port: int, folder: Path) -> Iterator[str]:
    """A redis-server of the test's own on `port` that keeps its data in `folder` (an
    append-only file written at every command), so that one started again there has it."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed")
    server = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: _pings(url), "redis-server did not answer")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _pings(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def answer_to(record: Path, name: str) -> str:
    """The text of the one answer the response_url `name` took, once it has."""
    wait_until(lambda: answers(record)[name] >= 1, f"no answer on {name}")
    (text,) = [text for answered_on, text in answered(record) if answered_on == name]
    return text


def test_with_redis_down_a_decision_is_the_policys_and_a_check_in_refused_then_all_works_again(
    tmp_path: Path,
) -> None:
    record, data = tmp_path / "answers.jsonl", tmp_path / "redis"
    data.mkdir()
    redis_port = free_port()
    with ExitStack() as stack:
        slack_url = stack.enter_context(fake_slack(record))
        env = service_env(f"redis://127.0.0.1:{redis_port}/0", slack_url)
        with lasting_redis(redis_port, data):
            web = stack.enter_context(running(["serve", "--no-worker"], env, tmp_path, "web"))
            # Queued before the outage, with no worker yet to take it.
            assert slash_command(web, slack_url, "Jane Doe 0 @ Acme", 0) == (200, "")

        web.wait_for(503)
        status, body = slash_command(web, slack_url, "Jane Doe 1 @ Acme referred by Sam", 1)
        decided = json.loads(body)
        assert (status, decided["response_type"]) == (200, "ephemeral")
        assert "Jane Doe 1 @ Acme" in decided["text"] and HISTORY_UNAVAILABLE in decided["text"]
        status, body = slash_command(web, slack_url, "log Jane Doe 2 @ Acme left", 2)
        refused = json.loads(body)["text"]
        assert status == 200 and STORE_DOWN_HEADING in refused and STORE_DOWN_COMMAND in refused
        assert check_in_click(web, slack_url, "left||jane doe 2@acme", 3) == (200, "")
        assert STORE_DOWN_CLICK in answer_to(record, "click3")
        worker = stack.enter_context(
            running(["worker"], env, tmp_path, "worker", status=503)  # started in the outage
        )

        with lasting_redis(redis_port, data):  # the same port, the same data: no restarts
            web.wait_for(200)
            worker.wait_for(200)
            assert "Jane Doe 0 @ Acme" in answer_to(record, "cmd0")  # the job kept in Redis
            logged = slash_command(web, slack_url, "log Jane Doe 0 @ Acme left", 4, user="U0")
            assert logged == (200, "") and "Logged" in answer_to(record, "cmd4")
            asked = slash_command(web, slack_url, "history Jane Doe 2 @ Acme", 5, user="U2")
            assert asked == (200, "")
            assert "Prospect not found" in answer_to(record, "cmd5")  # the refused one: unsaved
            for service in (worker, web):
                service.process.terminate()
                assert service.process.wait(timeout=20) == 0
        no_traceback(web, worker)
    assert answers(record)["cmd1"] == answers(record)["cmd2"] == 0  # answered in the ack alone
