"""Answers through a request's response_url over one shared HTTP session.

bolt's `respond` opens a new session (and connection) for every message; under load that
is most of a request's cost. The replies are the same; only the connection is reused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.webhook.async_client import AsyncWebhookClient

Respond = Callable[..., Awaitable[Any]]
TIMEOUT_SECONDS = 10


class ResponseUrls:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def respond_for(self, url: object, fallback: Respond) -> Respond:
        """A `respond` posting to `url` on the shared session; bolt's own when there is none."""
        if not isinstance(url, str) or not url:
            return fallback

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
