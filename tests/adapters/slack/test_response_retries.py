"""An answer whose response_url times out, or answers 429 or 5xx, is posted again with backoff,
then given up, counted and logged: through the delivery a worker answers a job with, to a
loopback response_url that misbehaves the first N times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import BotClients, SlackAdapter, SlackDelivery
from adapters.slack.config import origin_of
from adapters.slack.responses import ResponseUrls, RetryPolicy
from bot.adapters import Address, Delivery, deliver_or_apologise
from bot.metrics import REGISTRY
from bot.types import Reply
from tests.adapters.slack.conftest import Logs

HANG = 0  # a "status" in the script: answer nothing until the client gives up
FAST = RetryPolicy(attempts=3, timeout_seconds=0.3, first_pause_seconds=0.01)
ANSWER = Reply(heading="Leave a voicemail", ref="answer")


@dataclass
class ResponseUrl:
    """A response_url that answers its first requests with `script`'s statuses, then 200."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    taken: list[dict[str, Any]] = field(default_factory=list)  # the posts answered 200
    tries: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # sent with a refusal


@pytest.fixture
async def response_url() -> AsyncIterator[ResponseUrl]:
    fake = ResponseUrl()

    async def respond(request: web.Request) -> web.Response:
        fake.tries += 1
        status = fake.script.pop(0) if fake.script else 200
        if status == HANG:
            await asyncio.sleep(5)
        if status != 200:
            return web.Response(status=status, text="try later", headers=fake.headers)
        fake.taken.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/respond/{name}", respond)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/respond/cmd1"))
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
async def adapter(response_url: ResponseUrl) -> AsyncIterator[SlackAdapter]:
    origin = origin_of(response_url.url)
    assert origin is not None
    urls = ResponseUrls(frozenset({origin}), FAST)
    client = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    adapter = SlackAdapter()
    adapter.attach(SlackDelivery(urls, BotClients(client, None, "http://127.0.0.1:9/api/")))
    try:
        yield adapter
    finally:
        await urls.close()
        await adapter.close()


def counted(name: str) -> float:
    value = REGISTRY.get_sample_value(f"voicemail_coach_{name}_total", {"channel": "slack"})
    return value or 0.0


async def deliver(adapter: SlackAdapter, fake: ResponseUrl) -> bool:
    address = Address("slack", "T1", "U1", fake.url)
    return await deliver_or_apologise(adapter, ANSWER, address, Delivery.ANSWER)


@pytest.mark.parametrize("script", [[503, 502], [HANG], [429]], ids=["5xx", "timeout", "429"])
async def test_an_answer_refused_or_unanswered_a_few_times_reaches_the_rep_once(
    adapter: SlackAdapter, response_url: ResponseUrl, script: list[int], logs: Logs
) -> None:
    response_url.script = list(script)
    retried, given_up = counted("deliveries_retried"), counted("deliveries_given_up")
    assert await deliver(adapter, response_url)
    assert [post["text"] for post in response_url.taken] == ["Leave a voicemail"]
    assert counted("deliveries_retried") == retried + len(script)
    assert counted("deliveries_given_up") == given_up
    events = [event for event in logs.events() if event["event"] == "delivery_retried"]
    assert [event["attempt"] for event in events] == list(range(1, len(script) + 1))
    assert {(event["tenant"], event["user"], event["channel"]) for event in events} == {
        ("T1", "U1", "slack")
    }


async def test_a_response_url_that_stays_unavailable_is_given_up_counted_and_logged(
    adapter: SlackAdapter, response_url: ResponseUrl, logs: Logs
) -> None:
    response_url.script = [503] * 3 + [HANG] * 3  # the answer's 3 attempts, the apology's 3
    given_up = counted("deliveries_given_up")
    assert not await deliver(adapter, response_url)
    assert response_url.tries == 6 and response_url.taken == []  # no more than that
    assert counted("deliveries_given_up") == given_up + 2  # the answer, then the apology
    gave_up = [event for event in logs.events() if event["event"] == "delivery_given_up"]
    assert [(event["attempts"], event["error"]) for event in gave_up] == [
        (3, "HTTP 503"),
        (3, "TimeoutError"),
    ]
    assert gave_up[0]["tenant"] == "T1" and gave_up[0]["user"] == "U1"
    logs.assert_clean("Leave a voicemail", response_url.url)


async def test_a_given_up_answer_is_followed_by_the_apology_when_that_goes_through(
    adapter: SlackAdapter, response_url: ResponseUrl
) -> None:
    response_url.script = [500] * 3
    assert not await deliver(adapter, response_url)
    (apology,) = response_url.taken
    assert apology["text"].startswith("Sorry, something went wrong on my side")


async def test_the_retry_after_slack_asks_for_is_waited(
    adapter: SlackAdapter, response_url: ResponseUrl, logs: Logs
) -> None:
    response_url.script, response_url.headers = [429], {"Retry-After": "1"}
    assert await deliver(adapter, response_url)
    (retried,) = [event for event in logs.events() if event["event"] == "delivery_retried"]
    assert retried["pause_seconds"] == 1.0


async def test_a_refusal_a_retry_cannot_fix_is_not_retried(
    adapter: SlackAdapter, response_url: ResponseUrl
) -> None:
    response_url.script = [404, 404]  # an expired response_url; then the apology's own
    retried = counted("deliveries_retried")
    assert not await deliver(adapter, response_url)
    assert response_url.tries == 2  # the answer once, the apology once
    assert counted("deliveries_retried") == retried
