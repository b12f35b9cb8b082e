"""Teams messages as jobs on the shared queue: a web tier queues them, a worker answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from bot.server import Tier
from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import FakeConnector, FakeLogin, Teams, start_teams
from tests.adapters.teams.test_messages import ASK, card_of, texts
from tests.conftest import delete_prefix


@pytest.fixture
async def redis_config(redis_url: str) -> AsyncIterator[Config]:
    prefix = f"vctest:{uuid.uuid4().hex}"
    try:
        yield Config(redis_url=redis_url, redis_prefix=prefix)
    finally:
        await delete_prefix(redis_url, prefix)


async def test_a_message_the_web_tier_queued_is_answered_when_a_worker_starts(
    teams_env: None, fake_connector: FakeConnector, fake_login: FakeLogin, redis_config: Config
) -> None:
    web_tier = await start_teams(redis_config, Tier.WEB)
    worker = None
    try:
        teams = Teams(web_tier, fake_connector, fake_login)
        assert (await teams.post(teams.message(ASK))).status == 200
        assert await fake_connector.nothing_sent()  # no worker yet: the job waits in Redis

        worker = await start_teams(redis_config, Tier.WORKER)
        (sent,) = await fake_connector.wait_for(1)
        assert "Leave a voicemail" in texts(card_of(sent))
        assert (await worker.post("/api/messages", data=b"{}")).status in (404, 405)
    finally:
        await web_tier.close()
        if worker is not None:
            await worker.close()


async def test_a_job_of_another_shape_is_logged_and_dropped(teams: Teams, logs: Logs) -> None:
    await teams.adapter.run_job({"tenant": 5, "text": "Jane Doe"})
    assert any(event["event"] == "job_unreadable" for event in logs.events())
    assert await teams.connector.nothing_sent(0.1)
    logs.assert_clean("Jane Doe")
