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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from adapters.slack.config import Origin, SlackConfig, is_response_url
from bot.metrics import DELIVERIES_GIVEN_UP, DELIVERIES_RETRIED

log = logging.getLogger("voicemail_coach.slack")

Respond = Callable[..., Awaitable[Any]]
TIMEOUT_SECONDS = 10
CHANNEL = "slack"
JSON_HEADERS = {"Content-Type": "application/json;charset=utf-8"}


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


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    """What Slack answered a post to a response_url (as slack_sdk's WebhookResponse names it)."""

    status_code: int
    headers: Mapping[str, str]  # aiohttp's: looked up in any case
    body: str


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
            body = msgspec.json.encode({k: v for k, v in message.items() if v is not None})
            return await self._post_retrying(url, body, ids)

        return respond

    async def _post_retrying(self, url: str, body: bytes, ids: tuple[str, str]) -> SlackAnswer:
        policy = self.retries
        for attempt in range(1, policy.attempts + 1):
            response, failure, asked = await self._attempt(url, body, policy.timeout_seconds)
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
        self, url: str, body: bytes, timeout: float
    ) -> tuple[SlackAnswer | None, str | None, float | None]:
        """One post: Slack's answer; why to try again (None: done, whatever Slack answered);
        the Retry-After Slack asked for."""
        try:
            response = await self._post(url, body, timeout)
        except (TimeoutError, aiohttp.ClientError) as error:
            return None, type(error).__name__, None
        status = response.status_code
        if status == 429 or status >= 500:
            return response, f"HTTP {status}", _retry_after(response)
        return response, None, None

    async def _post(self, url: str, body: bytes, timeout: float) -> SlackAnswer:
        """One POST of a JSON body, as slack_sdk's AsyncWebhookClient sends it, on the shared
        session: that client's per-message work (a client, the body re-encoded per attempt, a
        task for the timeout) was a tenth of a worker's time for each answer."""
        async with self._shared().post(
            url, data=body, headers=JSON_HEADERS, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as answer:
            text = await answer.text()
            return SlackAnswer(answer.status, answer.headers, text)

    def _shared(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self, _: web.Application | None = None) -> None:
        if self._session is not None:
            await self._session.close()


def _retry_after(response: SlackAnswer) -> float | None:
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
