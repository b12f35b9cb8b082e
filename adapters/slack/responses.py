"""Answers through a request's response_url over one shared HTTP session.

bolt's `respond` opens a new session (and connection) for every message; under load that
is most of a request's cost. The replies are the same; only the connection is reused. Only a
URL on Slack's hosts is posted to (SlackConfig.response_url_origins).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.config import Origin, SlackConfig, is_response_url

log = logging.getLogger("voicemail_coach.slack")

Respond = Callable[..., Awaitable[Any]]
TIMEOUT_SECONDS = 10


class NotSlacksResponseUrl(Exception):
    """A response_url that is not on Slack's hosts: nothing was posted to it."""


class ResponseUrls:
    def __init__(self, origins: frozenset[Origin] | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.origins = SlackConfig.from_env().response_url_origins if origins is None else origins

    def respond_for(self, url: object, fallback: Respond) -> Respond:
        """A `respond` posting to `url` on the shared session; bolt's own when there is none;
        one that posts nothing and raises NotSlacksResponseUrl when `url` is not Slack's."""
        if not isinstance(url, str) or not url:
            return fallback
        if not is_response_url(url, self.origins):
            return _refuse

        async def respond(**message: Any) -> Any:
            client = AsyncWebhookClient(url, session=self._shared(), timeout=TIMEOUT_SECONDS)
            return await client.send_dict({k: v for k, v in message.items() if v is not None})

        return respond

    def _shared(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self, _: web.Application | None = None) -> None:
        if self._session is not None:
            await self._session.close()


async def _refuse(**_: Any) -> Any:
    log.warning("response_url_refused")
    raise NotSlacksResponseUrl
