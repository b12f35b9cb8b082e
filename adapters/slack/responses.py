"""Answers through a request's response_url over one shared HTTP session.

bolt's `respond` opens a new session (and connection) for every message; under load that
is most of a request's cost. The replies are the same; only the connection is reused. Only a
URL on Slack's hosts is posted to (SlackConfig.response_url_origins).

An answer that times out, or that Slack answers 429 or 5xx, is posted again after a pause that
doubles (at least the Retry-After Slack asks for), RetryPolicy.attempts times in all, then given
up and counted. A response_url takes 5 posts in 30 minutes: three attempts leave room for the
apology that follows a given-up answer, and the whole stays well inside a worker's hold on its
job (VOICEMAIL_COACH_RECLAIM_SECONDS, 60 s by default), past which another worker would answer
the same job again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.config import Origin, SlackConfig, is_response_url
from bot.metrics import DELIVERIES_GIVEN_UP, DELIVERIES_RETRIED

log = logging.getLogger("voicemail_coach.slack")

Respond = Callable[..., Awaitable[Any]]
TIMEOUT_SECONDS = 10
CHANNEL = "slack"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard an answer is tried: `attempts` posts, each given `timeout_seconds`, with pauses
    of `first_pause_seconds`, doubled each time (with jitter), none over `max_pause_seconds`.
    At most 3 x 10 s + 1 s + 2 s (+ jitter) by default: under 35 s."""

    attempts: int = 3
    timeout_seconds: float = TIMEOUT_SECONDS
    first_pause_seconds: float = 1.0
    max_pause_seconds: float = 10.0

    def pause(self, attempt: int, asked: float | None = None) -> float:
        pause = self.first_pause_seconds * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
        return float(min(max(pause, asked or 0.0), self.max_pause_seconds))


class NotSlacksResponseUrl(Exception):
    """A response_url that is not on Slack's hosts: nothing was posted to it."""


class ResponseUrlUnreachable(Exception):
    """Every attempt to post to a response_url timed out or failed to connect."""

    def __init__(self, error: str) -> None:
        super().__init__(f"the response_url could not be reached ({error})")
        self.error = error


class ResponseUrls:
    def __init__(
        self, origins: frozenset[Origin] | None = None, retries: RetryPolicy | None = None
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.origins = SlackConfig.from_env().response_url_origins if origins is None else origins
        self.retries = retries or RetryPolicy()

    def respond_for(
        self, url: object, fallback: Respond, ids: tuple[str, str] = ("", "")
    ) -> Respond:
        """A `respond` posting to `url` on the shared session, retried as RetryPolicy says;
        bolt's own when there is none; one that posts nothing and raises NotSlacksResponseUrl
        when `url` is not Slack's. `ids` (tenant, user) name the answer in the logs.

        The retried `respond` returns Slack's last answer (a 429 or 5xx once given up), or
        raises ResponseUrlUnreachable if no attempt got one."""
        if not isinstance(url, str) or not url:
            return fallback
        if not is_response_url(url, self.origins):
            return _refuse

        async def respond(**message: Any) -> Any:
            body = {k: v for k, v in message.items() if v is not None}
            return await self._post_retrying(url, body, ids)

        return respond

    async def _post_retrying(
        self, url: str, body: dict[str, Any], ids: tuple[str, str]
    ) -> WebhookResponse:
        policy = self.retries
        client = AsyncWebhookClient(url, session=self._shared(), retry_handlers=[])
        for attempt in range(1, policy.attempts + 1):
            response, failure, asked = await self._attempt(client, body, policy.timeout_seconds)
            if response is not None and failure is None:
                return response
            if attempt == policy.attempts:
                break
            pause = policy.pause(attempt, asked)
            DELIVERIES_RETRIED.labels(channel=CHANNEL).inc()
            log.warning(
                "delivery_retried",
                extra={**_ids(ids), "attempt": attempt, "error": failure,
                       "pause_seconds": round(pause, 2)},
            )  # fmt: skip
            await asyncio.sleep(pause)
        DELIVERIES_GIVEN_UP.labels(channel=CHANNEL).inc()
        log.error(
            "delivery_given_up",
            extra={**_ids(ids), "attempts": policy.attempts, "error": failure},
        )
        if response is not None:
            return response
        raise ResponseUrlUnreachable(failure or "")

    async def _attempt(
        self, client: AsyncWebhookClient, body: dict[str, Any], timeout: float
    ) -> tuple[WebhookResponse | None, str | None, float | None]:
        """One post: Slack's answer; why to try again (None: done, whatever Slack answered);
        the Retry-After Slack asked for."""
        try:
            response = await asyncio.wait_for(client.send_dict(body), timeout)
        except (TimeoutError, aiohttp.ClientError) as error:
            return None, type(error).__name__, None
        status = response.status_code
        if status == 429 or status >= 500:
            return response, f"HTTP {status}", _retry_after(response)
        return response, None, None

    def _shared(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self, _: web.Application | None = None) -> None:
        if self._session is not None:
            await self._session.close()


def _retry_after(response: WebhookResponse) -> float | None:
    value = response.headers.get("Retry-After")  # aiohttp's headers: any case
    if isinstance(value, str) and value.isdigit() and len(value) <= 5:
        return float(value)
    return None


def _ids(ids: tuple[str, str]) -> dict[str, str]:
    tenant, user = ids
    return {"channel": CHANNEL, "tenant": tenant, "user": user}


async def _refuse(**_: Any) -> Any:
    log.warning("response_url_refused")
    raise NotSlacksResponseUrl
