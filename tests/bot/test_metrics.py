"""/metrics on every tier, read as Prometheus reads it: what an operator would graph and alert on.

The registry is the process's own (as in production), so each test reads the change it caused.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.slack.app import EVENTS_PATH
from adapters.slack.app import JOB_NAME as SLACK_JOB
from bot.config import Config
from bot.jobs import Jobs, Payload
from bot.records import ScheduledSend, SendKind
from bot.server import SERVICES, Tier, create_app
from tests.adapters.slack.conftest import Bot, FakeSlack, running_fake_slack, use_fake_slack
from tests.adapters.slack.test_events import ASK
from tests.bot.conftest import VOICEMAIL_COACH, free_port, quiet_env
from tests.bot.test_jobs import Worker
from tests.bot.test_scheduler import REP, TENANT, WEDNESDAY_EIGHT, Recorder, due_rep
from tests.conftest import delete_prefix

Client = TestClient[web.Request, web.Application]
Labels = frozenset[tuple[str, str]]
P = "voicemail_coach_"
JOB_KEY = "k" * 32


@dataclass(frozen=True)
class Scrape:
    """Every sample of one /metrics answer, by name and labels."""

    samples: dict[tuple[str, Labels], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        return cls(samples)

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((P + name, frozenset(labels.items())), 0.0)

    def present(self, name: str, **labels: str) -> float:
        """The sample's value; fails the test if the sample is absent."""
        key = (P + name, frozenset(labels.items()))
        assert key in self.samples, f"no {key} in the scrape"
        return self.samples[key]

    def has(self, name: str) -> bool:
        return any(sample_name == P + name for sample_name, _ in self.samples)

    def label_values(self) -> set[str]:
        return {value for _, labels in self.samples for _, value in labels}


async def scrape(client: Client) -> Scrape:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    return Scrape.parse(await response.text())


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def serve(app: web.Application) -> Client:
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def fake_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        use_fake_slack(monkeypatch, fake)
        yield fake


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    prefix = f"vctest:{uuid.uuid4().hex}"
    yield prefix
    await delete_prefix(redis_url, prefix)


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    started: list[Client] = []
    yield started
    for client in reversed(started):
        await client.close()


async def test_metrics_answers_prometheus_text_and_has_no_backlog_without_redis(
    tmp_path: Path, clients: list[Client]
) -> None:
    client = await serve(await create_app(Config(db_path=str(tmp_path / "m.db"))))
    clients.append(client)
    await client.get("/healthz")
    found = await scrape(client)
    assert found.value("http_requests_total", channel="health", route="/healthz", status="200")
    for family in ("jobs_queued_total", "scheduled_sends_total", "store_errors_total"):
        assert found.has(family), family
    # Every kind and outcome from the start, so that rate() and increase() see the first one.
    found.present("scheduled_sends_total", kind="weekly_digest", outcome="missed")
    assert not found.has("queue_backlog")  # in-memory jobs: no shared queue to measure


async def test_a_slack_command_counts_its_request_ack_and_job(
    fake_slack: FakeSlack, tmp_path: Path, clients: list[Client]
) -> None:
    client = await serve(await create_app(Config(db_path=str(tmp_path / "m.db"))))
    clients.append(client)
    bot = Bot(client, fake_slack)
    before = await scrape(client)

    assert (await bot.post(bot.command_body(ASK))).status == 200
    await fake_slack.wait_for_responses(1)

    async def job_done() -> bool:
        return (await scrape(client)).value("jobs_done_total", job=SLACK_JOB) > before.value(
            "jobs_done_total", job=SLACK_JOB
        )

    await until(job_done)
    after = await scrape(client)
    slack_200 = {"channel": "slack", "route": EVENTS_PATH, "status": "200"}
    assert after.value("http_requests_total", **slack_200) == (
        before.value("http_requests_total", **slack_200) + 1
    )
    acks = "ack_seconds_count"
    assert after.value(acks, channel="slack") == before.value(acks, channel="slack") + 1
    for name in ("jobs_queued_total", "jobs_done_total", "job_seconds_count"):
        assert after.value(name, job=SLACK_JOB) == before.value(name, job=SLACK_JOB) + 1, name
    assert after.value("jobs_failed_total", job=SLACK_JOB) == before.value(
        "jobs_failed_total", job=SLACK_JOB
    )
    assert after.value("jobs_running", job=SLACK_JOB) == 0


async def test_the_web_tier_shows_the_backlog_until_a_worker_takes_it(
    fake_slack: FakeSlack, redis_url: str, prefix: str, clients: list[Client]
) -> None:
    config = Config(redis_url=redis_url, redis_prefix=prefix)
    web_tier = await serve(await create_app(config, tier=Tier.WEB))
    clients.append(web_tier)
    bot = Bot(web_tier, fake_slack)
    for n in (1, 2):
        assert (await bot.post(bot.command_body(ASK, n=n))).status == 200
    waiting = await scrape(web_tier)
    assert waiting.present("queue_backlog", state="length") == 2
    assert waiting.present("queue_backlog", state="pending") == 0

    worker = await serve(await create_app(config, tier=Tier.WORKER))
    clients.append(worker)
    await fake_slack.wait_for_responses(2)

    async def worked_off() -> bool:
        return (await scrape(worker)).present("queue_backlog", state="length") == 0

    await until(worked_off)  # done entries are deleted: the worker's scrape sees the same stream
    assert (await scrape(web_tier)).present("queue_backlog", state="length") == 0


async def test_a_job_that_raises_is_failed_and_one_a_dead_worker_held_is_retried(
    redis_url: str, prefix: str, tmp_path: Path, clients: list[Client]
) -> None:
    config = Config(redis_url=redis_url, redis_prefix=prefix)
    client = await serve(await create_app(Config(db_path=str(tmp_path / "m.db"))))
    clients.append(client)
    before = await scrape(client)

    failing = Jobs.open(Config(db_path=str(tmp_path / "m.db")))

    async def fail(_: Payload) -> None:
        raise RuntimeError("the job's own failure")

    await failing.start()
    await failing.register("test.fail", fail)({})
    await failing.close()

    dying = await Worker(config, "dying").start()
    dying.hold = asyncio.Event()
    await dying.enqueue({"n": 1})
    await dying.started.wait()
    await dying.die()
    rescuer = await Worker(config, "rescuer", reclaim_after_ms=100).start()
    try:
        await asyncio.sleep(0.2)
        await rescuer.enqueue({"n": 2})  # taskiq-redis looks for abandoned jobs after new ones
        await until(lambda: _is(len(rescuer.done) == 2))
    finally:
        await rescuer.close()
        await dying.jobs.close()

    after = await scrape(client)
    assert (
        after.value("jobs_failed_total", job="test.fail")
        == before.value("jobs_failed_total", job="test.fail") + 1
    )
    assert (
        after.value("jobs_retried_total", job="test.record")
        == before.value("jobs_retried_total", job="test.record") + 1
    )


async def _is(value: bool) -> bool:
    return value


async def test_scheduled_sends_are_counted_by_kind_and_outcome_as_they_settle(
    tmp_path: Path, clients: list[Client]
) -> None:
    adapter = Recorder()
    app = await create_app(
        Config(db_path=str(tmp_path / "m.db")), adapters=[adapter], clock=lambda: WEDNESDAY_EIGHT
    )
    client = await serve(app)
    clients.append(client)
    scheduler = app[SERVICES].scheduler
    await due_rep(app[SERVICES].store, scheduler)
    before = await scrape(client)

    send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, WEDNESDAY_EIGHT, "test")
    assert (await scheduler.deliver_due(send, WEDNESDAY_EIGHT)).status == "sent"
    adapter.failures.append(ConnectionError("down"))
    late = WEDNESDAY_EIGHT.replace(hour=23, minute=58) + timedelta(days=1)
    late_send = ScheduledSend(TENANT, REP, SendKind.REP_NUDGE, late, "test")
    assert (await scheduler.deliver_due(late_send, late)).status == "missed"

    after = await scrape(client)
    for outcome in ("sent", "missed"):
        labels = {"kind": "rep_nudge", "outcome": outcome}
        assert after.value("scheduled_sends_total", **labels) == (
            before.value("scheduled_sends_total", **labels) + 1
        ), outcome
    skipped = {"kind": "rep_nudge", "outcome": "skipped"}
    assert after.value("scheduled_sends_total", **skipped) == before.value(
        "scheduled_sends_total", **skipped
    )


MARKER = "Jane-Doe-555-0100"


async def test_a_path_a_client_sent_is_never_a_label(
    fake_slack: FakeSlack, tmp_path: Path, clients: list[Client]
) -> None:
    client = await serve(await create_app(Config(db_path=str(tmp_path / "m.db"))))
    clients.append(client)
    before = await scrape(client)
    for path in (f"/{MARKER}", f"/slack/{MARKER}", f"/api/messages/{MARKER}"):
        assert (await client.get(path)).status == 404
    assert (await client.post(f"/healthz?{MARKER}")).status == 405

    response = await client.get("/metrics")
    text = await response.text()
    assert "Jane" not in text
    after = Scrape.parse(text)
    assert not any("Jane" in value or "555" in value for value in after.label_values())
    unmatched = {"channel": "other", "route": "unmatched", "status": "404"}
    assert after.value("http_requests_total", **unmatched) == (
        before.value("http_requests_total", **unmatched) + 3
    )
    assert {"slack", "teams", "health", "other"} >= {
        value for (_, labels) in after.samples for key, value in labels if key == "channel"
    }


async def test_a_scrape_while_redis_is_down_answers_and_counts_a_store_error(
    caplog: pytest.LogCaptureFixture, clients: list[Client]
) -> None:
    caplog.set_level(logging.DEBUG)
    down = Config(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_prefix="vc-down")
    client = await serve(await create_app(down))
    clients.append(client)
    first = await scrape(client)
    second = await scrape(client)
    assert second.value("store_errors_total", store="redis") > first.value(
        "store_errors_total", store="redis"
    )
    assert not second.has("queue_backlog")  # unknown, not a reassuring 0
    assert second.has("http_requests_total")
    assert all(record.exc_info is None for record in caplog.records)


def test_a_worker_process_serves_metrics_on_its_port(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    port = free_port()
    env = quiet_env(
        REDIS_URL=redis_url, VOICEMAIL_COACH_REDIS_PREFIX=prefix, VOICEMAIL_COACH_JOB_KEY=JOB_KEY
    )
    process = subprocess.Popen(
        [str(VOICEMAIL_COACH), "worker", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        text = _text_within(f"http://127.0.0.1:{port}/metrics", process)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "Traceback" not in stderr
    found = Scrape.parse(text)
    assert found.present("queue_backlog", state="length") == 0  # read from Redis
    assert found.present("store_errors_total", store="redis") == 0
    assert any(name == "process_start_time_seconds" for name, _ in found.samples)


def _text_within(url: str, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker stopped"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                assert response.headers["Content-Type"].startswith("text/plain")
                text: str = response.read().decode()
                return text
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 20 s")
