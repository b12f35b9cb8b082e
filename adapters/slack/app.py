"""The Slack channel: slack-bolt's AsyncApp behind POST /slack/events on our server.

`mount` is the `voicemail_coach.channels` entry point. The environment picks the mode: Socket
Mode (SLACK_APP_TOKEN), OAuth for many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET),
or one workspace (SLACK_BOT_TOKEN). Every listener acks first (within Slack's 3 seconds),
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

from adapters.slack import modes
from adapters.slack.actors import ProfileCache
from adapters.slack.blocks import neutral_action_id, render_blocks, render_text
from adapters.slack.config import OAUTH, SOCKET_MODE, SlackConfig
from adapters.slack.home import HOME_TAB, publish_home
from adapters.slack.modal import (
    CALLBACK_ID,
    channel_of,
    decision_modal,
    form_values,
    slack_errors,
)
from adapters.slack.responses import Respond, ResponseUrls
from bot import replies
from bot.server import ChannelStatus, Services
from bot.types import Actor, ButtonPress, Reply, Request

log = logging.getLogger("voicemail_coach.slack")

CHANNEL = "slack"
EVENTS_PATH = "/slack/events"
COMMAND = "/voicemail"
CHECK_IN_ACTION = re.compile(rf"^{re.escape(replies.CHECK_IN)}(:\d+)?$")
API_TIMEOUT_SECONDS = 10
RESPOND_TIMEOUT_SECONDS = 10.0
APOLOGY = "Sorry, something went wrong on my side and nothing was saved. Please try again."
BOLT_APP = web.AppKey("slack_bolt_app", object)


def mount(app: web.Application, services: Services) -> ChannelStatus:
    """Mount the channel in the mode the environment configures (SlackConfig.mode):
    Socket Mode (SLACK_APP_TOKEN + SLACK_BOT_TOKEN; no route), OAuth (SLACK_SIGNING_SECRET +
    SLACK_CLIENT_ID + SLACK_CLIENT_SECRET; /slack/events, /slack/install and
    /slack/oauth_redirect) or one workspace (SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN)."""
    config = SlackConfig.from_env()
    notes = _unsupported(config)
    if config.mode is None:
        return ChannelStatus(
            CHANNEL,
            False,
            f"{', '.join(config.missing)} not set (or SLACK_SIGNING_SECRET, SLACK_CLIENT_ID, "
            f"SLACK_CLIENT_SECRET for OAuth; SLACK_APP_TOKEN, SLACK_BOT_TOKEN for Socket Mode)"
            f"{notes}",
        )
    urls = ResponseUrls()
    app.on_cleanup.append(urls.close)
    bolt = build_bolt_app(config, services, urls=urls)
    app[BOLT_APP] = bolt
    if config.mode == SOCKET_MODE:
        token = config.app_token or ""
        app.cleanup_ctx.append(modes.socket_mode_context(bolt, token, bolt.logger))
        return ChannelStatus(CHANNEL, True, f"one workspace over Socket Mode (no route){notes}")
    app.router.add_post(EVENTS_PATH, events_handler(bolt))
    if config.mode == OAUTH:
        modes.add_oauth_routes(app, bolt)
        return ChannelStatus(
            CHANNEL,
            True,
            f"any workspace over HTTP at POST {EVENTS_PATH}, installed with OAuth at "
            f"GET {modes.INSTALL_PATH}{notes}",
        )
    return ChannelStatus(CHANNEL, True, f"one workspace over HTTP at POST {EVENTS_PATH}{notes}")


def _unsupported(config: SlackConfig) -> str:
    """What is set but goes unused, and why (variable names only, never values)."""
    notes = []
    if config.mode == SOCKET_MODE and config.oauth_requested:
        notes.append("SLACK_CLIENT_ID, SLACK_CLIENT_SECRET unused in Socket Mode")
    elif config.oauth_requested and config.oauth_missing:
        notes.append(f"OAuth also needs {', '.join(config.oauth_missing)}")
    if config.mode == OAUTH and config.bot_token:
        notes.append("SLACK_BOT_TOKEN unused: with OAuth each workspace's token is its install's")
    if config.socket_mode_requested and config.socket_mode_missing:
        notes.append(f"Socket Mode also needs {', '.join(config.socket_mode_missing)}")
    return "".join(f"; {note}" for note in notes)


def events_handler(bolt: Any) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    return handle


def build_bolt_app(
    config: SlackConfig,
    services: Services,
    profiles: ProfileCache | None = None,
    urls: ResponseUrls | None = None,
) -> Any:
    oauth = config.mode == OAUTH
    bolt_log = modes.quiet_logger("voicemail_coach.slack.bolt")
    client = AsyncWebClient(
        token=None if oauth else config.bot_token,
        base_url=config.api_url,  # oauth.v2.access and apps.connections.open go here too
        timeout=API_TIMEOUT_SECONDS,
        logger=modes.quiet_logger("voicemail_coach.slack.sdk"),
    )
    options: dict[str, Any] = {}
    if oauth:
        options = modes.oauth_options(config, services.store, client, bolt_log)
    elif config.client_id and config.client_secret:
        # slack-bolt switches to OAuth by itself when these two are set in the environment;
        # outside OAuth mode (Socket Mode), keep authorizing with the one bot token.
        options["authorize"] = _single_workspace(config.bot_token or "")
    bolt = AsyncApp(
        signing_secret=config.signing_secret,
        client=client,
        process_before_response=False,
        logger=bolt_log,
        **options,
    )
    if oauth:
        # Registered first, so they answer app_uninstalled and tokens_revoked: they delete the
        # workspace's installation and bot from the store (which logs it).
        bolt.enable_token_revocation_listeners()
    channel = SlackChannel(services, profiles or ProfileCache(), urls or ResponseUrls())
    bolt.command(COMMAND)(channel.on_command)
    bolt.action(CHECK_IN_ACTION)(channel.on_check_in)
    bolt.view(CALLBACK_ID)(channel.on_decision_submitted)
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

    def __init__(self, services: Services, profiles: ProfileCache, urls: ResponseUrls) -> None:
        self.conversation = services.conversation
        self.profiles = profiles
        self.urls = urls

    async def on_command(
        self, ack: Any, command: dict[str, Any], context: Any, respond: Respond, client: Any
    ) -> None:
        await ack()
        tenant, user_id = tenant_of(context), str(context.user_id or "")
        respond = self.urls.respond_for(command.get("response_url"), fallback=respond)
        text = str(command.get("text") or "")
        if not text.strip():  # bare /voicemail: the form; `help` and the rest stay text
            await self._open_decision_form(command, respond, client, tenant, user_id)
            return
        await self._answer(
            client,
            respond,
            tenant,
            user_id,
            lambda actor: Request(
                actor=actor,
                text=text,
                idempotency_key=command.get("trigger_id"),
                received_at=datetime.now(UTC),
            ),
            failure="command_failed",
            response_type="ephemeral",
        )

    async def on_check_in(
        self,
        ack: Any,
        action: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        respond: Respond,
        client: Any,
    ) -> None:
        await ack()
        respond = self.urls.respond_for(body.get("response_url"), fallback=respond)
        press = ButtonPress(
            neutral_action_id(str(action.get("action_id") or "")), str(action.get("value") or "")
        )
        await self._answer(
            client,
            respond,
            tenant_of(context),
            str(context.user_id or ""),
            lambda actor: Request(
                actor=actor,
                button=press,
                idempotency_key=action.get("action_ts"),
                received_at=datetime.now(UTC),
            ),
            failure="check_in_failed",
            replace_original=True,
        )

    async def _answer(
        self,
        client: Any,
        respond: Respond,
        tenant: str,
        user_id: str,
        request_for: Callable[[Actor], Request],
        *,
        failure: str,
        response_type: str | None = None,
        replace_original: bool | None = None,
    ) -> None:
        """After the ack: ask the conversation, answer through response_url, or apologise."""
        try:
            actor = await self.profiles.actor(client, tenant, user_id)
            reply = await self.conversation.handle(request_for(actor))
            await _send(
                respond, reply, response_type=response_type, replace_original=replace_original
            )
        except Exception as error:
            await _apologise(respond, failure, tenant, user_id, error)

    async def _open_decision_form(
        self, command: dict[str, Any], respond: Respond, client: Any, tenant: str, user_id: str
    ) -> None:
        channel_id = str(command.get("channel_id") or "") or None
        try:
            await client.views_open(
                trigger_id=str(command.get("trigger_id") or ""), view=decision_modal(channel_id)
            )
        except Exception as error:
            await _apologise(respond, "modal_failed", tenant, user_id, error)

    async def on_decision_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: Any, client: Any
    ) -> None:
        """Errors go back into the modal at once; a decision goes to the channel, privately."""
        tenant = tenant_of(context)
        user_id = str(context.user_id or (body.get("user") or {}).get("id") or "")
        form = form_values((view.get("state") or {}).get("values") or {})
        problem = self.conversation.check_form(form)  # pure: no Slack call before the ack
        if problem is not None:
            await ack(response_action="errors", errors=slack_errors(problem.field_errors))
            return
        await ack()
        channel = channel_of(view.get("private_metadata"))
        try:
            actor = await self.profiles.actor(client, tenant, user_id)
            request = Request(
                actor=actor,
                form=form,
                idempotency_key=view.get("id"),
                received_at=datetime.now(UTC),
            )
            reply = await self.conversation.handle(request)
            await _post_privately(
                client, channel, user_id, tenant, render_text(reply), render_blocks(reply)
            )
        except Exception as error:
            log.error(
                "form_failed",
                extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
            )
            try:
                await _post_privately(client, channel, user_id, tenant, APOLOGY, None)
            except Exception as second:
                log.error(
                    "apology_failed",
                    extra={"tenant": tenant, "user": user_id, "error": type(second).__name__},
                )

    async def on_home_opened(
        self, ack: Any, event: dict[str, Any], context: Any, client: Any
    ) -> None:
        await ack()
        if event.get("tab") not in (None, HOME_TAB):
            return
        tenant, user_id = tenant_of(context), str(event.get("user") or context.user_id or "")
        await publish_home(self.conversation, self.profiles, client, tenant, user_id)

    async def on_uninstalled(self, ack: Any, event: dict[str, Any], context: Any) -> None:
        """One workspace (HTTP or Socket Mode): no installation is stored, so only log. With
        OAuth, slack-bolt's revocation listeners come first and delete the installation."""
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


async def _post_privately(
    client: Any,
    channel: str | None,
    user_id: str,
    tenant: str,
    text: str,
    blocks: list[dict[str, Any]] | None,
) -> None:
    """Ephemeral in the channel the rep was in; a direct message if that is missing or fails."""
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
            return
        except Exception as error:
            log.warning(
                "ephemeral_failed",
                extra={"tenant": tenant, "user": user_id, "error": type(error).__name__},
            )
    opened = await client.conversations_open(users=user_id)
    await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)


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
