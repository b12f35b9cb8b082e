"""The service over real HTTP: health, readiness, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.cli import main
from bot.config import Config
from bot.server import create_app
from bot.store import SQLiteStore
from bot.streams import message_for
from tests.bot.conftest import (
    free_port,
    get,
    one_line_error,
    quiet_env,
    redis_server,
    run_cli,
    wait_for_status,
)
from tests.conftest import delete_prefix

VOICEMAIL_COACH = Path(sys.executable).with_name("voicemail-coach")
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    config = Config(db_path=str(tmp_path / "coach.db"))
    app = await create_app(config)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_healthz_says_alive(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "alive"


async def test_readyz_is_ready_while_the_store_answers(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready", "store": "sqlite"}


async def test_readyz_is_unavailable_when_the_store_is_gone(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "coach.db")
    app = await create_app(Config(db_path=str(tmp_path / "coach.db")), store=store)
    async with TestClient(TestServer(app)) as test_client:
        await store.close()
        response = await test_client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_alive(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 20 s")


@dataclass
class Served:
    """What a `voicemail-coach serve` run printed and how it ended."""

    returncode: int
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.startswith("{")]


def serve_once(
    folder: Path, path: str, env: dict[str, str] | None = None, command: str = "serve"
) -> Served:
    """Start the real service with no Slack or Redis settings, GET `path`, then SIGTERM it."""
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL"))}
    base.pop("VOICEMAIL_COACH_DB", None)
    process = subprocess.Popen(
        [str(VOICEMAIL_COACH), command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=base | (env or {}),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_alive(f"http://127.0.0.1:{port}{path}", process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    return Served(process.returncode, stderr)


def test_serve_starts_with_no_configuration_and_stops_on_sigterm(tmp_path: Path) -> None:
    served = serve_once(tmp_path, "/readyz")
    assert served.returncode == 0
    store = next(event for event in served.events if event["event"] == "store")
    assert store["store"] == "sqlite"
    assert (tmp_path / "voicemail-coach.db").exists()
    assert served.events[-1]["event"] == "stopped"


def test_a_query_never_reaches_the_log(tmp_path: Path) -> None:
    served = serve_once(
        tmp_path,
        "/healthz?code=secret-oauth-code",
        env={"VOICEMAIL_COACH_DB": str(tmp_path / "coach.db")},
    )
    assert "secret-oauth-code" not in served.stderr
    assert served.returncode == 0


@pytest.mark.parametrize("argv", [["serve", "--no-worker"], ["worker"]])
def test_a_tier_alone_needs_redis_and_says_so(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "needs REDIS_URL" in error
    assert "voicemail-coach serve" in error  # what to run instead


JOB_KEY = "k" * 32


@pytest.mark.parametrize("command", [["worker"], ["serve", "--no-worker"]])
def test_a_tier_sharing_jobs_without_a_key_to_sign_them_refuses_to_start(
    command: list[str], tmp_path: Path, redis_url: str
) -> None:
    """Each process would sign with a key of its own, and every job would be refused."""
    result = run_cli(*command, cwd=tmp_path, env=quiet_env(REDIS_URL=redis_url))
    assert result.returncode == 2
    assert "VOICEMAIL_COACH_JOB_KEY" in one_line_error(result.stderr)


def test_a_worker_process_takes_jobs_and_stops_on_sigterm(tmp_path: Path, redis_url: str) -> None:
    prefix = f"vctest:{uuid4().hex}"
    try:
        served = serve_once(
            tmp_path,
            "/readyz",
            env={
                "REDIS_URL": redis_url,
                "VOICEMAIL_COACH_REDIS_PREFIX": prefix,
                "VOICEMAIL_COACH_JOB_KEY": JOB_KEY,
            },
            command="worker",
        )
    finally:
        asyncio.run(delete_prefix(redis_url, prefix))
    assert served.returncode == 0
    events = [event["event"] for event in served.events]
    assert events.index("worker_started") < events.index("worker_stopped")
    assert events[-1] == "stopped"
    assert not (tmp_path / "voicemail-coach.db").exists()  # Redis, not SQLite


async def _queue_a_job_and_wait_until_taken(url: str, prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        entry = await client.xadd(f"{prefix}:jobs", {"data": message_for("test.none", {}).message})
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            groups = await client.xinfo_groups(f"{prefix}:jobs")
            if any(group["last-delivered-id"] == entry for group in groups):
                return
            assert asyncio.get_running_loop().time() < deadline, f"no worker took it: {groups}"
            await asyncio.sleep(0.1)
    finally:
        await client.aclose()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_started_while_redis_is_down_it_is_unready_until_redis_answers_then_works(
    command: str, tmp_path: Path
) -> None:
    redis_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "stderr.log").open("w+") as stderr:
        process = subprocess.Popen(
            [str(VOICEMAIL_COACH), command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=quiet_env(
                REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", VOICEMAIL_COACH_JOB_KEY=JOB_KEY
            ),
            stderr=stderr,
            text=True,
        )
        try:
            unready = wait_for_status(f"{base}/readyz", 503, process)
            assert unready == {"status": "unavailable", "store": "redis", "waiting_for": "store"}
            assert get(f"{base}/healthz")[0] == 200
            with redis_server(redis_port, tmp_path) as url:
                ready = wait_for_status(f"{base}/readyz", 200, process)
                assert ready == {"status": "ready", "store": "redis"}
                asyncio.run(_queue_a_job_and_wait_until_taken(url, "vc"))
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=15)
        finally:
            process.kill()
        stderr.seek(0)
        log = stderr.read()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    events = [json.loads(line)["event"] for line in log.splitlines()]
    assert events.count("worker_failed") == 1  # the outage, once, not every retry
    assert events[-1] == "stopped"
