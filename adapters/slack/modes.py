"""How the Slack channel reaches Slack besides one workspace over HTTP.

OAuth: any workspace installs the app at GET /slack/install; Slack sends the installer back to
GET /slack/oauth_redirect, where slack-bolt trades the code for a bot token (oauth.v2.access)
and saves the installation in our store. Every request is then authorized from the store.

Socket Mode (development): no public URL; slack-bolt opens a WebSocket to Slack with the
app-level token once the server has started, and closes it when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import DEFAULT_API_URL, SlackConfig
from adapters.slack.ingress import body_free_bolt_request
from adapters.slack.installations import (
    STATE_TTL_SECONDS,
    StoreInstallationStore,
    StoreOAuthStateStore,
    state_signing_key,
)
from bot.store import Store

log = logging.getLogger("voicemail_coach.slack")

# files:write for a digest's chart; im:history for was_delivered (a send's ref in the DM).
SCOPES = ("commands", "chat:write", "im:write", "im:history", "files:write", "users:read")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
AUTHORIZE_PATH = "/oauth/v2/authorize"
NOT_INSTALLED = (
    "Voicemail Coach is not installed in this workspace (or was uninstalled). "
    "Ask a Slack admin to install it, then try again."
)
INSTALL_FAILED = "The installation could not be saved. Please start again from the install page."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def oauth_options(
    config: SlackConfig, store: Store, client: AsyncWebClient, logger: logging.Logger
) -> dict[str, Any]:
    """AsyncApp's keyword arguments for OAuth: installations in our store, states signed with
    a key derived from the client secret (only used ones stored), bot tokens only, and
    authorizations cached per token (a store read per request, no auth.test)."""
    if not (config.client_id and config.client_secret):
        raise ValueError("OAuth needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    installations = StoreInstallationStore(store)
    settings = AsyncOAuthSettings(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(config.api_url),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=StoreOAuthStateStore(
            store, state_signing_key(config.client_secret), STATE_TTL_SECONDS
        ),
        state_expiration_seconds=STATE_TTL_SECONDS,
        logger=logger,
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=logger,
        installation_store=installations,
        client_id=config.client_id,
        client_secret=config.client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,  # token rotation, if the app turns it on, goes to the same API URL
    )
    return {
        "oauth_settings": settings,
        "authorize": authorize,
        "installation_store_bot_only": True,
        "user_facing_authorize_error_message": NOT_INSTALLED,
    }


def authorization_url(api_url: str) -> str | None:
    """Slack's authorize page, on the host of SLACK_API_URL when that is set (tests, proxies);
    None keeps slack-bolt's default, https://slack.com/oauth/v2/authorize."""
    if api_url == DEFAULT_API_URL:
        return None
    return urljoin(api_url, AUTHORIZE_PATH)


def add_oauth_routes(app: web.Application, bolt: AsyncApp) -> None:
    """GET /slack/install and GET /slack/oauth_redirect, answered by slack-bolt's OAuth flow
    (its aiohttp adapter converts requests but routes nothing, so we route here)."""
    flow = bolt.oauth_flow
    if flow is None:
        raise ValueError("the bolt app has no OAuth flow")
    app.router.add_get(flow.install_path, _oauth_handler(flow, install=True))
    app.router.add_get(flow.redirect_uri_path, _oauth_handler(flow, install=False))


def _oauth_handler(flow: AsyncOAuthFlow, *, install: bool) -> Handler:
    step = "install" if install else "oauth_redirect"

    async def handle(request: web.Request) -> web.StreamResponse:
        # Both pages read only the query and the state cookie; bolt would parse a body, and
        # junk in one would raise before the flow runs.
        bolt_request = body_free_bolt_request(request)
        try:
            if install:
                bolt_response = await flow.handle_installation(bolt_request)
            else:
                bolt_response = await flow.handle_callback(bolt_request)
        except Exception as error:  # the store is down, Slack is unreachable, ...
            log.error("slack_oauth_failed", extra={"step": step, "error": type(error).__name__})
            return web.Response(status=500, text=INSTALL_FAILED)
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    return handle


def socket_mode_context(
    bolt: AsyncApp, app_token: str, logger: logging.Logger
) -> Callable[[web.Application], AsyncIterator[None]]:
    """For `app.cleanup_ctx`: connect once the server has started, close when it stops.

    The connection is made in the background: slack-sdk retries until Slack answers (logging
    each failure), and the server must serve /healthz and /readyz meanwhile.
    """

    async def run(_: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(bolt, app_token, logger=logger)
        connecting = asyncio.create_task(_connect(handler))
        try:
            yield
        finally:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            try:
                await handler.close_async()  # type: ignore[no-untyped-call]
            except Exception as error:
                log.warning("socket_mode_close_failed", extra={"error": type(error).__name__})
            log.info("socket_mode_closed")

    return run


async def _connect(handler: AsyncSocketModeHandler) -> None:
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
    except Exception as error:
        log.error("socket_mode_failed", extra={"error": type(error).__name__})
        return
    log.info("socket_mode_connected")
