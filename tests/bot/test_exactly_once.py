"""Exactly once across replicas: three real worker processes on Redis and 1,000 reps due in
the same minute, one worker SIGKILLed mid-run, a fake Slack that counts what it accepts."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from bot.records import ProspectRecord, RepProfile, ScheduledSend, SendKind
from bot.store import RedisStore
from tests.bot.conftest import free_port, get, quiet_env
from tests.conftest import delete_prefix

REPS = 1_000
WORKERS = 3
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # a Wednesday: the workers' clock starts here
RECLAIM_SECONDS = 2
TENANT = "T1"


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    prefix = f"vctest:{uuid4().hex}"
    yield prefix
    await delete_prefix(redis_url, prefix)


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


@contextmanager
def workers(count: int, env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started = []
    try:
        for number in range(count):
            port = free_port()
            log = (logs / f"worker{number}.log").open("w")
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.worker_at", MORNING.isoformat(), "worker",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            started.append((process, port))
        for process, port in started:
            wait_ready(process, port)
        yield [process for process, _ in started]
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


def wait_ready(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "a worker exited before it was ready"
        if get(f"http://127.0.0.1:{port}/readyz")[0] == 200:
            return
        time.sleep(0.1)
    pytest.fail(f"the worker on port {port} was not ready within 30 s")


def posts(record: Path) -> Counter[str]:
    """chat.postMessage calls the fake accepted, by the rep whose direct message they went to."""
    if not record.exists():
        return Counter()
    lines = record.read_text().splitlines()
    return Counter(json.loads(line)["channel"] for line in lines if line.endswith("}"))


async def seed(store: RedisStore) -> list[str]:
    users = [f"U{number:04d}" for number in range(REPS)]
    window = MORNING + timedelta(hours=3)
    writes = []
    for user in users:
        writes.append(
            store.save_rep(
                RepProfile(TENANT, user, name=f"Rep {user}", timezone="UTC", platform="slack")
            )
        )
        writes.append(store.save_prospect(ProspectRecord(
            TENANT, user, "jane doe@acme", "Jane Doe", "Acme", attempts=1,
            next_call_start=window, next_call_end=window + timedelta(hours=1))))  # fmt: skip
    await asyncio.gather(*writes)
    await asyncio.gather(
        *(store.schedule_send(ScheduledSend(TENANT, u, SendKind.REP_NUDGE, MORNING, "slack"))
          for u in users)
    )  # fmt: skip
    return users


def worker_env(redis_url: str, prefix: str, api_url: str) -> dict[str, str]:
    return quiet_env(
        REDIS_URL=redis_url,
        VOICEMAIL_COACH_REDIS_PREFIX=prefix,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="test-secret",
        SLACK_API_URL=api_url + "/api/",
        VOICEMAIL_COACH_RECLAIM_SECONDS=str(RECLAIM_SECONDS),
    )


async def every_rep_nudged_once(
    redis_url: str, prefix: str, tmp_path: Path, *fake_options: str
) -> Counter[str]:
    record = tmp_path / "posted.jsonl"
    store = RedisStore.connect(redis_url, prefix=prefix)
    try:
        users = await seed(store)
        with (
            fake_slack(record, *fake_options) as api_url,
            workers(WORKERS, worker_env(redis_url, prefix, api_url), tmp_path) as running,
        ):
            await wait_until(lambda: sum(posts(record).values()) >= REPS // 4, 60)
            running[0].send_signal(signal.SIGKILL)  # mid-run: it holds jobs and leases
            await wait_until(lambda: len(posts(record)) >= REPS, 90)
            await asyncio.sleep(3 * RECLAIM_SECONDS + 6)  # a duplicate would arrive by now
            counted = posts(record)
    finally:
        await store.close()
    assert len(counted) == len(users)
    return counted


async def wait_until(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"not done within {seconds:.0f} s")


async def test_three_workers_one_killed_nudge_each_rep_exactly_once(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    counted = await every_rep_nudged_once(redis_url, redis_prefix, tmp_path)
    assert set(counted.values()) == {1}, [c for c, n in counted.items() if n > 1][:10]


async def test_with_429s_and_a_killed_worker_still_exactly_once_none_lost(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    counted = await every_rep_nudged_once(
        redis_url, redis_prefix, tmp_path, "--rate-limit-every", "7", "--retry-after", "1"
    )
    assert set(counted.values()) == {1}, [c for c, n in counted.items() if n > 1][:10]
