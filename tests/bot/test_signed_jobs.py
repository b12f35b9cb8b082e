"""Only jobs this service made are run: signed ones, answering on Slack's own hosts."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.slack.app import JOB_NAME
from adapters.slack.config import SlackConfig
from adapters.slack.jobs import Kind, SlackJob
from adapters.slack.responses import NotSlacksResponseUrl, ResponseUrls
from bot.config import Config, ConfigError
from bot.jobs import JOB_KEY, job_key, job_key_problem
from bot.streams import mac_of, message_for
from tests.adapters.slack.conftest import Bot, running_fake_slack, serving, use_fake_slack
from tests.adapters.slack.test_events import ASK
from tests.conftest import delete_prefix


@pytest.fixture
async def redis_bot(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> AsyncIterator[Bot]:
    """The whole service on the real Redis (its worker in it), Slack a fake."""
    prefix = f"vctest:{uuid.uuid4().hex}"
    async with running_fake_slack() as fake:
        use_fake_slack(monkeypatch, fake)
        try:
            async with serving(Config(redis_url=redis_url, redis_prefix=prefix), fake) as running:
                yield running
        finally:
            await delete_prefix(redis_url, prefix)


def slack_job(response_url: str) -> dict[str, Any]:
    return SlackJob(
        kind=Kind.COMMAND,
        team_id="T1",
        enterprise_id=None,
        enterprise_install=False,
        user_id="U1",
        received_at=time.time(),
        response_url=response_url,
        text=ASK,
    ).payload()


UNSIGNED = b""


async def inject(bot: Bot, payload: dict[str, Any], key: bytes | None = None) -> str:
    """XADD a job as anyone with write access to Redis can, signed with `key` (the service's
    by default; UNSIGNED: not at all); its entry id."""
    config = bot.services.config
    assert config.redis_url is not None
    data = message_for(JOB_NAME, payload).message
    fields: dict[Any, Any] = {"data": data}
    if key != UNSIGNED:
        fields["mac"] = mac_of(key or job_key()[0], data)
    client = redis.asyncio.Redis.from_url(config.redis_url, decode_responses=True)
    try:
        entry: Any = await client.xadd(f"{config.redis_prefix}:jobs", fields)
        return str(entry)
    finally:
        await client.aclose()


async def refused_count(bot: Bot) -> str | None:
    config = bot.services.config
    assert config.redis_url is not None
    client = redis.asyncio.Redis.from_url(config.redis_url, decode_responses=True)
    try:
        count: Any = await client.get(f"{config.redis_prefix}:jobs:refused:count")
        return None if count is None else str(count)
    finally:
        await client.aclose()


async def answered_only(bot: Bot, response_url: str) -> None:
    """A signed job queued after the others is answered, and nothing else is."""
    good = slack_job(response_url)
    await inject(bot, good)
    await bot.slack.wait_for_responses(1)
    await asyncio.sleep(0.3)
    assert len(bot.slack.responses) == 1


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str]]]:
    """A server that is not Slack, recording what is posted to it."""
    posted: list[str] = []

    async def record(request: web.Request) -> web.Response:
        posted.append(await request.text())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/hooks/T1/1/x")), posted
    await server.close()


async def test_an_injected_unsigned_job_is_not_run_and_is_counted(
    redis_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="voicemail_coach.jobs"):
        entry = await inject(redis_bot, slack_job(redis_bot.slack.response_url("x")), UNSIGNED)
        await answered_only(redis_bot, redis_bot.slack.response_url("good"))
    assert await refused_count(redis_bot) == "1"
    [refused] = [r for r in caplog.records if r.getMessage() == "job_refused"]
    assert (refused.entry, refused.reason) == (entry, "unsigned")  # type: ignore[attr-defined]


async def test_a_job_signed_with_another_key_is_not_run(redis_bot: Bot) -> None:
    payload = slack_job(redis_bot.slack.response_url("x"))
    await inject(redis_bot, payload, key=b"k" * 32)
    await answered_only(redis_bot, redis_bot.slack.response_url("good"))
    assert await refused_count(redis_bot) == "1"


async def test_a_signed_job_with_a_response_url_off_slack_posts_nothing(
    redis_bot: Bot, elsewhere: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    url, posted = elsewhere
    payload = slack_job(url)
    payload["text"] = "export"
    with caplog.at_level(logging.ERROR, logger="voicemail_coach.slack"):
        await inject(redis_bot, payload)
        await answered_only(redis_bot, redis_bot.slack.response_url("good"))
    assert posted == []
    [unreadable] = [r for r in caplog.records if r.getMessage() == "job_unreadable"]
    assert unreadable.field == "$.response_url"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/commands/T1/1/x",
        "https://hooks.slack.com.evil.example/commands/T1/1/x",
        "https://hooks.slack.com@evil.example/commands/T1/1/x",
        "https://hooks.slack.com:443@evil.example/commands/T1/1/x",
        "https://rep@hooks.slack.com/commands/T1/1/x",
        "https://evil.example/https://hooks.slack.com/commands/T1/1/x",
        "https://hooks.slack.com.:443.evil.example/commands/T1/1/x",
        "http://hooks.slack.com/commands/T1/1/x",
        "https://hooks.slack.com:8443/commands/T1/1/x",
        "file:///etc/passwd",
        "https://[::1/",
    ],
)
async def test_only_slacks_hosts_are_posted_to(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_API_URL", raising=False)
    with pytest.raises(Exception, match="response_url"):
        SlackJob.from_payload(slack_job(url))
    urls = ResponseUrls()
    with pytest.raises(NotSlacksResponseUrl):
        await urls.respond_for(url, fallback=_never)(text="hi")
    await urls.close()


def test_slacks_hooks_host_and_the_api_urls_host_are_accepted() -> None:
    default = SlackConfig.from_env({})
    for spelling in ("hooks.slack.com", "hooks.slack.com:443", "HOOKS.Slack.com"):
        url = f"https://{spelling}/commands/T1/1/x"
        assert SlackJob.from_payload(slack_job(url), default.response_url_origins)
    faked = SlackConfig.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert SlackJob.from_payload(slack_job("http://127.0.0.1:9/r/1"), faked.response_url_origins)


async def _never(**_: Any) -> Any:
    raise AssertionError("bolt's respond used")


def test_every_process_derives_the_same_key_from_a_secret_they_share() -> None:
    web_tier = job_key({"SLACK_SIGNING_SECRET": "s3cret", "SLACK_BOT_TOKEN": "xoxb-1"})
    worker = job_key({"SLACK_SIGNING_SECRET": "s3cret"})
    assert web_tier == worker and web_tier[1] == "SLACK_SIGNING_SECRET"
    assert web_tier[0] != b"s3cret"  # derived, not the secret itself
    assert job_key({JOB_KEY: "x" * 32, "SLACK_SIGNING_SECRET": "s3cret"}) == (b"x" * 32, JOB_KEY)
    assert job_key({"MICROSOFT_APP_PASSWORD": "p"})[1] == "MICROSOFT_APP_PASSWORD"


def test_a_short_job_key_is_refused_with_a_reason() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        job_key({JOB_KEY: "short"})


def test_a_split_deployment_without_a_shared_key_is_told_what_to_set() -> None:
    redis = Config(redis_url="redis://127.0.0.1:6379/0")
    problem = job_key_problem(redis, {})
    assert problem is not None and JOB_KEY in problem and "SLACK_SIGNING_SECRET" in problem
    assert job_key_problem(redis, {"SLACK_SIGNING_SECRET": "s"}) is None
    assert job_key_problem(Config(), {}) is None  # without Redis no job leaves the process
