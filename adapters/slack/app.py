"""The Slack channel over HTTP: slack-bolt's AsyncApp behind POST /slack/events on our server.

`mount` is the `voicemail_coach.channels` entry point. One workspace, with a bot token and a
signing secret from the environment. Every listener acks first (within Slack's 3 seconds),
then asks the conversation and answers through the request's response_url.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.actors import ProfileCache
from adapters.slack.blocks import neutral_action_id, render_blocks, render_text
from adapters.slack.config import SlackConfig
from bot import replies
from bot.server import ChannelStatus, Services
from bot.types import Actor, ButtonPress, Platform, Reply, Request

log = logging.getLogger("voicemail_coach.slack")

CHANNEL = "slack"
EVENTS_PATH = "/slack/events"
COMMAND = "/voicemail"
CHECK_IN_ACTION = re.compile(rf"^{re.escape(replies.CHECK_IN)}(:\d+)?$")
API_TIMEOUT_SECONDS = 10
RESPOND_TIMEOUT_SECONDS = 10.0
APOLOGY = "Sorry, something went wrong on my side and nothing was saved. Please try again."
BOLT_APP = web.AppKey("slack_bolt_app", object)

Respond = Callable[..., Awaitable[Any]]


def mount(app: web.Application, services: Services) -> ChannelStatus:
    """Mount /slack/events when SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are set."""
    config = SlackConfig.from_env()
    notes = _unsupported(config)
    if not config.enabled:
        return ChannelStatus(CHANNEL, False, f"{', '.join(config.missing)} not set{notes}")
    bolt = build_bolt_app(config, services)
    app[BOLT_APP] = bolt
    app.router.add_post(EVENTS_PATH, events_handler(bolt))
    return ChannelStatus(CHANNEL, True, f"one workspace over HTTP at POST {EVENTS_PATH}{notes}")


def _unsupported(config: SlackConfig) -> str:
    notes = []
    if config.oauth_requested:
        notes.append("OAuth (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) not yet supported")
    if config.socket_mode_requested:
        notes.append("Socket Mode (SLACK_APP_TOKEN) not yet supported")
    return "".join(f"; {note}" for note in notes)


def events_handler(bolt: Any) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    return handle


def build_bolt_app(
    config: SlackConfig, services: Services, profiles: ProfileCache | None = None
) -> Any:
    client = AsyncWebClient(
        token=config.bot_token, base_url=config.api_url, timeout=API_TIMEOUT_SECONDS
    )
    options: dict[str, Any] = {}
    if config.client_id and config.client_secret:
        # slack-bolt switches to OAuth by itself when these two are set; until we support it,
        # keep authorizing with the one bot token.
        options["authorize"] = _single_workspace(config.bot_token or "")
    bolt = AsyncApp(
        signing_secret=config.signing_secret,
        client=client,
        process_before_response=False,
        logger=logging.getLogger("voicemail_coach.slack.bolt"),
        **options,
    )
    channel = SlackChannel(services, profiles or ProfileCache())
    bolt.command(COMMAND)(channel.on_command)
    bolt.action(CHECK_IN_ACTION)(channel.on_check_in)
    bolt.event("app_home_opened")(channel.on_home_opened)
    bolt.event("app_uninstalled")(channel.on_uninstalled)
    bolt.event("tokens_revoked")(channel.on_uninstalled)
    return bolt


def _single_workspace(token: str) -> Callable[..., Awaitable[Any]]:
    answer: list[Any] = []

    async def authorize(client: Any) -> Any:
        if not answer:
            answer.append(await client.auth_test(token=token))
        return AuthorizeResult.from_auth_test_response(
            bot_token=token, auth_test_response=answer[0]
        )

    return authorize


def tenant_of(context: Any) -> str:
    """Enterprise Grid orgs are one tenant; otherwise the workspace is."""
    return str(context.enterprise_id or context.team_id or "")


class SlackChannel:
    """The listeners. Bolt passes arguments by name: ack, command, action, context, ..."""

    def __init__(self, services: Services, profiles: ProfileCache) -> None:
        self.conversation = services.conversation
        self.profiles = profiles

    async def on_command(
        self, ack: Any, command: dict[str, Any], context: Any, respond: Respond, client: Any
    ) -> None:
        await ack()
        tenant, user_id = tenant_of(context), str(context.user_id or "")
        try:
            actor = await self.profiles.actor(client, tenant, user_id)
            request = Request(
                actor=actor,
                text=str(command.get("text") or ""),
                idempotency_key=command.get("trigger_id"),
                received_at=datetime.now(UTC),
            )
            reply = await self.conversation.handle(request)
            await _send(respond, reply, response_type="ephemeral")
        except Exception as error:
            await _apologise(respond, "command_failed", tenant, user_id, error)

    async def on_check_in(
        self, ack: Any, action: dict[str, Any], context: Any, respond: Respond, client: Any
    ) -> None:
        await ack()
        tenant, user_id = tenant_of(context), str(context.user_id or "")
        try:
            actor = await self.profiles.actor(client, tenant, user_id)
            press = ButtonPress(
                neutral_action_id(str(action.get("action_id") or "")),
                str(action.get("value") or ""),
            )
            request = Request(
                actor=actor,
                button=press,
                idempotency_key=action.get("action_ts"),
                received_at=datetime.now(UTC),
            )
            reply = await self.conversation.handle(request)
            await _send(respond, reply, replace_original=True)
        except Exception as error:
            await _apologise(respond, "check_in_failed", tenant, user_id, error)

    async def on_home_opened(
        self, ack: Any, event: dict[str, Any], context: Any, client: Any
    ) -> None:
        await ack()
        if event.get("tab") not in (None, "home"):
            return
        tenant, user_id = tenant_of(context), str(event.get("user") or context.user_id or "")
        try:
            actor = Actor(platform=Platform.SLACK, tenant=tenant, user_id=user_id)
            reply = await self.conversation.handle(Request(actor=actor, text="help"))
            await client.views_publish(
                user_id=user_id, view={"type": "home", "blocks": render_blocks(reply)}
            )
        except Exception as error:
            log.warning(
                "home_failed",
                extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
            )

    async def on_uninstalled(self, ack: Any, event: dict[str, Any], context: Any) -> None:
        await ack()
        log.info(
            "slack_uninstalled", extra={"tenant": tenant_of(context), "type": event.get("type")}
        )


async def _send(
    respond: Respond,
    reply: Reply,
    *,
    response_type: str | None = None,
    replace_original: bool | None = None,
) -> None:
    response = await asyncio.wait_for(
        respond(
            text=render_text(reply),
            blocks=render_blocks(reply),
            response_type=response_type,
            replace_original=replace_original,
        ),
        RESPOND_TIMEOUT_SECONDS,
    )
    status = getattr(response, "status_code", 200)
    if status != 200:
        raise SlackDeliveryError(status)


class SlackDeliveryError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"response_url answered HTTP {status}")
        self.status = status


async def _apologise(
    respond: Respond, event: str, tenant: str, user_id: str, error: Exception
) -> None:
    """Log ids and the error type only (no names, no numbers, no text), then say sorry."""
    log.error(event, extra={"tenant": tenant, "user": user_id, "error": type(error).__name__})
    try:
        await asyncio.wait_for(
            respond(text=APOLOGY, response_type="ephemeral"), RESPOND_TIMEOUT_SECONDS
        )
    except Exception as second:
        log.error(
            "apology_failed",
            extra={"tenant": tenant, "user": user_id, "error": type(second).__name__},
        )
