"""Slack's work after the ack, as jobs: a web tier and a worker apart, and the jobs gone wrong."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.app import JOB_NAME
from adapters.slack.jobs import RESPONSE_URL_LIFETIME_SECONDS, Kind, SlackJob
from bot.config import Config
from bot.replies import HISTORY_UNAVAILABLE
from bot.server import Tier, create_app
from tests.adapters.slack.conftest import Bot, FakeSlack
from tests.adapters.slack.test_events import ASK, buttons
from tests.conftest import delete_prefix


class SplitBot(Bot):
    """A web tier that only queues (the Bot's client) and a worker that can be started later."""

    config: Config
    worker: TestServer | None = None

    async def start_worker(self) -> None:
        self.worker = TestServer(await create_app(self.config, tier=Tier.WORKER), host="127.0.0.1")
        await self.worker.start_server()


@pytest.fixture
async def split_bot(slack_env: FakeSlack, redis_url: str) -> AsyncIterator[SplitBot]:
    prefix = f"vctest:{uuid.uuid4().hex}"
    config = Config(redis_url=redis_url, redis_prefix=prefix)
    web_tier = await create_app(config, tier=Tier.WEB)
    client: TestClient[web.Request, web.Application] = TestClient(
        TestServer(web_tier, host="127.0.0.1")
    )
    await client.start_server()
    bot = SplitBot(client, slack_env)
    bot.config = config
    try:
        yield bot
    finally:
        await client.close()
        if bot.worker is not None:
            await bot.worker.close()
        await delete_prefix(redis_url, prefix)


async def test_a_command_the_web_tier_queued_is_answered_when_a_worker_starts(
    split_bot: SplitBot,
) -> None:
    response = await split_bot.post(split_bot.command_body(ASK))
    assert response.status == 200
    assert await response.text() == ""  # the answer comes through the response_url
    await asyncio.sleep(0.3)
    assert split_bot.slack.responses == []  # no worker yet: the job waits in Redis

    await split_bot.start_worker()
    message = (await split_bot.slack.wait_for_responses(1))[0]
    assert "Leave a voicemail" in message["blocks"][0]["text"]["text"]
    assert message["response_type"] == "ephemeral"


async def test_a_check_in_through_the_worker_is_logged_once(split_bot: SplitBot) -> None:
    await split_bot.start_worker()
    await split_bot.post(split_bot.command_body(ASK))
    left_it = buttons((await split_bot.slack.wait_for_responses(1))[0])["Left it"]
    for ts in ("5.1", "5.1"):  # Slack's retry of the same click
        assert (await split_bot.post(split_bot.click_body(left_it, ts=ts))).status == 200
    replies = await split_bot.slack.wait_for_responses(3)
    assert "Logged" in replies[1]["blocks"][0]["text"]["text"]
    key = left_it["value"].split("|", 2)[2]
    web_store = split_bot.services.store
    assert len(await web_store.prospect_log("T1", "U1", key)) == 1


async def test_when_no_job_can_be_queued_the_ack_itself_decides_from_the_policy_alone(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def redis_is_down(_: Any) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(bot.services.jobs.broker, "kick", redis_is_down)
    response = await bot.post(bot.command_body(ASK))
    assert response.status == 200
    answer = await response.json()
    assert answer["response_type"] == "ephemeral"
    assert "Leave a voicemail" in answer["text"] and HISTORY_UNAVAILABLE in answer["text"]
    assert await bot.services.store.get_rep("T1", "U1") is None


async def _run(bot: Bot, payload: dict[str, Any]) -> None:
    task = bot.services.jobs.broker.find_task(JOB_NAME)
    assert task is not None
    await task.kiq(payload)
    await bot.services.jobs.broker.wait_all()  # type: ignore[attr-defined]


def _job(bot: Bot, received_at: float) -> SlackJob:
    return SlackJob(
        kind=Kind.COMMAND,
        team_id="T1",
        enterprise_id=None,
        enterprise_install=False,
        user_id="U1",
        received_at=received_at,
        response_url=bot.slack.response_url("late"),
        text=ASK,
    )


async def test_a_job_older_than_its_response_url_is_dropped(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    stale = time.time() - RESPONSE_URL_LIFETIME_SECONDS - 60
    with caplog.at_level(logging.WARNING, logger="voicemail_coach.slack"):
        await _run(bot, _job(bot, stale).payload())
    assert bot.slack.responses == []
    assert await bot.services.store.get_rep("T1", "U1") is None
    assert [record.getMessage() for record in caplog.records] == ["job_expired"]


async def test_a_fresh_job_run_directly_is_answered(bot: Bot) -> None:
    await _run(bot, _job(bot, time.time()).payload())
    assert "Leave a voicemail" in bot.slack.responses[0]["blocks"][0]["text"]["text"]


async def test_an_unreadable_job_is_logged_without_its_contents(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="voicemail_coach.slack"):
        await _run(bot, {"kind": "Jane Doe", "text": "Jane Doe @ Acme"})
    assert bot.slack.responses == []
    [record] = caplog.records
    assert record.getMessage() == "job_unreadable"
    assert record.__dict__["field"] == "$.kind"
    assert "Jane" not in str(record.__dict__)
