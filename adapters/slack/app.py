"""The Slack channel: slack-bolt's AsyncApp behind POST /slack/events on our server.

SlackAdapter is the `voicemail_coach.adapters` entry point. The environment picks the mode: Socket
Mode (SLACK_APP_TOKEN), OAuth for many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET),
or one workspace (SLACK_BOT_TOKEN). Every listener queues a job and acks (within Slack's 3
seconds); a worker then asks the coach and answers through the request's response_url.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import modes
from adapters.slack.actors import ProfileCache
from adapters.slack.blocks import neutral_action_id, render_blocks, render_text
from adapters.slack.cli import register as register_manifest_command
from adapters.slack.config import OAUTH, SOCKET_MODE, SlackConfig
from adapters.slack.direct import CHANNEL_INTERVAL_SECONDS, retry_handlers, send_direct
from adapters.slack.direct import was_delivered as delivered_to
from adapters.slack.home import HOME_TAB, publish_home
from adapters.slack.ingress import Refused, log_refusal, verified_bolt_request
from adapters.slack.installations import installation_tenant
from adapters.slack.jobs import Kind, SlackJob, job_from_context
from adapters.slack.modal import (
    CALLBACK_ID,
    channel_of,
    decision_modal,
    form_values,
    slack_errors,
)
from adapters.slack.responses import Respond, ResponseUrls
from adapters.slack.sdk_logs import quiet_logger
from bot import replies
from bot.adapters import APOLOGY, AdapterStatus, Address, Delivery, RecipientGone, answer
from bot.commands import Command, GrammarError, needs_manager, parse
from bot.fallback import reply_without_store
from bot.pacing import Pacer
from bot.server import Services
from bot.types import Actor, ButtonPress, Platform, Reply, Request

log = logging.getLogger("voicemail_coach.slack")

ADAPTER = "slack"
JOB_NAME = "slack.answer"
EVENTS_PATH = "/slack/events"
COMMAND = "/voicemail"
CHECK_IN_ACTION = re.compile(rf"^{re.escape(replies.CHECK_IN)}(:\d+)?$")
ASK_ACTION = re.compile(rf"^{re.escape(replies.ASK)}(:\d+)?$")
API_TIMEOUT_SECONDS = 10
RESPOND_TIMEOUT_SECONDS = 10.0
BOLT_APP = web.AppKey("slack_bolt_app", object)


class SlackAdapter:
    """The Slack adapter (bot/adapters.py's contract): mounted on the server, it answers the
    slash command, buttons, the modal and App Home, and delivers replies to Slack."""

    name = ADAPTER

    def __init__(self) -> None:
        self._delivery: SlackDelivery | None = None
        self.profiles = ProfileCache()

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None:
        register_manifest_command(commands)

    def mount(self, app: web.Application, services: Services) -> AdapterStatus:
        """Mount in the mode the environment configures (SlackConfig.mode): Socket Mode
        (SLACK_APP_TOKEN + SLACK_BOT_TOKEN; no route), OAuth (SLACK_SIGNING_SECRET +
        SLACK_CLIENT_ID + SLACK_CLIENT_SECRET; /slack/events, /slack/install and
        /slack/oauth_redirect) or one workspace (SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN)."""
        config = SlackConfig.from_env()
        notes = _unsupported(config)
        if config.mode is None:
            return AdapterStatus(
                ADAPTER,
                False,
                f"{', '.join(config.missing)} not set (or SLACK_SIGNING_SECRET, SLACK_CLIENT_ID, "
                f"SLACK_CLIENT_SECRET for OAuth; SLACK_APP_TOKEN, SLACK_BOT_TOKEN for Socket "
                f"Mode){notes}",
            )
        urls = ResponseUrls()
        app.on_cleanup.append(urls.close)
        app.on_cleanup.append(self.close)
        bolt = build_bolt_app(config, services, urls=urls, adapter=self)
        app[BOLT_APP] = bolt
        if not services.tier.serves_chat:
            return AdapterStatus(
                ADAPTER, True, f"answering queued Slack jobs ({config.mode}){notes}"
            )
        if config.mode == SOCKET_MODE:
            token = config.app_token or ""
            app.cleanup_ctx.append(modes.socket_mode_context(bolt, token, bolt.logger))
            return AdapterStatus(ADAPTER, True, f"one workspace over Socket Mode (no route){notes}")
        app.router.add_post(EVENTS_PATH, events_handler(bolt, config.signing_secret or ""))
        if config.mode == OAUTH:
            modes.add_oauth_routes(app, bolt)
            return AdapterStatus(
                ADAPTER,
                True,
                f"any workspace over HTTP at POST {EVENTS_PATH}, installed with OAuth at "
                f"GET {modes.INSTALL_PATH}{notes}",
            )
        return AdapterStatus(ADAPTER, True, f"one workspace over HTTP at POST {EVENTS_PATH}{notes}")

    def attach(self, delivery: SlackDelivery) -> None:
        self._delivery = delivery

    def render(self, reply: Reply) -> dict[str, Any]:
        return {"text": render_text(reply), "blocks": render_blocks(reply)}

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        if self._delivery is None:
            raise RuntimeError("the Slack adapter is not mounted")
        await self._delivery.send(reply, address, how)

    async def was_delivered(self, address: Address, ref: str) -> bool:
        """Whether a message with metadata ref `ref` is among the direct message's last 20
        (conversations.history with include_all_metadata). RecipientGone as for deliver."""
        if self._delivery is None:
            raise RuntimeError("the Slack adapter is not mounted")
        return await self._delivery.was_delivered(address, ref)

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        """Slack opens a rep's direct message by user id: the tenant and the id are enough."""
        return Address(ADAPTER, tenant, user_id)

    async def close(self, _: web.Application | None = None) -> None:
        if self._delivery is not None:
            await self._delivery.clients.close()

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """Slack's profile of the rep, cached for an hour in this process (users.info)."""
        self.profiles.forget(tenant, user_id)


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


def events_handler(
    bolt: Any, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """POST /slack/events: only a signed body Slack would send reaches bolt (see ingress)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            bolt_request = await verified_bolt_request(request, signing_secret)
        except Refused as refused:
            log_refusal(refused)
            return refused.response()
        bolt_response = await bolt.async_dispatch(bolt_request)
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    return handle


def build_bolt_app(
    config: SlackConfig,
    services: Services,
    profiles: ProfileCache | None = None,
    urls: ResponseUrls | None = None,
    adapter: SlackAdapter | None = None,
) -> Any:
    oauth = config.mode == OAUTH
    bolt_log = quiet_logger("voicemail_coach.slack.bolt")
    client = AsyncWebClient(
        token=None if oauth else config.bot_token,
        base_url=config.api_url,  # oauth.v2.access and apps.connections.open go here too
        timeout=API_TIMEOUT_SECONDS,
        logger=quiet_logger("voicemail_coach.slack.sdk"),
        retry_handlers=retry_handlers(),
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
        # Each listener acks as soon as its job is queued and leaves any call to Slack to a
        # task of its own (SlackListeners.after_ack), so bolt may answer once the listener
        # returns: without this it looks for the ack only every 10 ms, on a task of its own.
        process_before_response=True,
        logger=bolt_log,
        **options,
    )
    if oauth:
        # Registered first, so they answer app_uninstalled and tokens_revoked: they delete the
        # workspace's installation and bot from the store (which logs it).
        bolt.enable_token_revocation_listeners()
    installations = bolt.installation_store if oauth else None
    clients = BotClients(client, installations, config.api_url)
    urls = urls or ResponseUrls()
    adapter = adapter or SlackAdapter()
    adapter.attach(SlackDelivery(urls, clients))
    if profiles is not None:
        adapter.profiles = profiles
    listeners = SlackListeners(services, adapter.profiles, urls, clients, adapter)
    bolt.command(COMMAND)(listeners.on_command)
    bolt.action(CHECK_IN_ACTION)(listeners.on_button)
    bolt.action(ASK_ACTION)(listeners.on_button)
    bolt.view(CALLBACK_ID)(listeners.on_decision_submitted)
    bolt.event("app_home_opened")(listeners.on_home_opened)
    bolt.event("app_uninstalled")(listeners.on_uninstalled)
    bolt.event("tokens_revoked")(listeners.on_uninstalled)
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
    """The tenant of the request bolt's context describes (see installation_tenant)."""
    return installation_tenant(context.enterprise_id, context.team_id)


class SlackListeners:
    """The listeners run in the web tier: within Slack's 3 seconds they queue a job and ack.
    `run_job` runs in a worker: it asks the coach and answers. Bolt passes listener
    arguments by name: ack, command, action, context, ..."""

    def __init__(
        self,
        services: Services,
        profiles: ProfileCache,
        urls: ResponseUrls,
        clients: BotClients,
        adapter: SlackAdapter,
    ) -> None:
        self.coach = services.coach
        self.profiles = profiles
        self.urls = urls
        self.clients = clients
        self.adapter = adapter
        self.enqueue = services.jobs.register(JOB_NAME, self.run_job)
        self._after_ack: set[asyncio.Task[None]] = set()

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` (a call to Slack) once the listener has returned and bolt has answered:
        the acknowledgement never waits for Slack. Each such work handles its own errors."""
        task = asyncio.get_running_loop().create_task(work)
        self._after_ack.add(task)
        task.add_done_callback(self._after_ack.discard)

    async def on_command(
        self, ack: Any, command: dict[str, Any], context: Any, respond: Respond, client: Any
    ) -> None:
        text = typed_text(str(command.get("text") or ""))
        if not text.strip():  # bare /voicemail: the form; `help` and the rest stay text
            await ack()
            self.after_ack(self._open_decision_form(command, respond, client, context))
            return
        job = job_from_context(
            context,
            Kind.COMMAND,
            text=text,
            response_url=_text_or_none(command.get("response_url")),
            idempotency_key=_text_or_none(command.get("trigger_id")),
        )
        if await self._queued(job):
            await ack()
        else:  # no queue (Redis is down): the ack carries what needs no store, or the refusal
            reply = reply_without_store(_request(job, _actor_of(job)))
            await ack(response_type="ephemeral", **self.adapter.render(reply))

    async def on_button(
        self, ack: Any, action: dict[str, Any], body: dict[str, Any], context: Any, respond: Respond
    ) -> None:
        """A check-in (its answer replaces the message) or an ask for a prospect's decision
        (answered to the rep alone, under the message: in a direct message too)."""
        action_id = neutral_action_id(str(action.get("action_id") or ""))
        job = job_from_context(
            context,
            Kind.ASK if action_id == replies.ASK else Kind.CHECK_IN,
            action_id=action_id,
            value=str(action.get("value") or ""),
            response_url=_text_or_none(body.get("response_url")),
            idempotency_key=_text_or_none(action.get("action_ts")),
        )
        queued = await self._queued(job)
        await ack()
        if not queued:  # the message and its buttons stay, to be clicked again
            respond = self.urls.respond_for(job.response_url, respond, (job.tenant, job.user_id))
            self.after_ack(self._say_without_store(respond, job))

    async def on_decision_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: Any, client: Any
    ) -> None:
        """Errors go back into the modal at once; a decision goes to the channel, privately."""
        form = form_values((view.get("state") or {}).get("values") or {})
        problem = self.coach.check_form(form)  # pure: no Slack call before the ack
        if problem is not None:
            await ack(response_action="errors", errors=slack_errors(problem.field_errors))
            return
        job = job_from_context(
            context,
            Kind.FORM,
            user_id=context.user_id or (body.get("user") or {}).get("id"),
            form=form,
            channel=channel_of(view.get("private_metadata")),
            idempotency_key=_text_or_none(view.get("id")),
        )
        queued = await self._queued(job)
        await ack()
        if not queued:  # the policy-only decision, posted privately as the worker would
            self.after_ack(self._post_without_store(client, job))

    async def on_home_opened(
        self, ack: Any, event: dict[str, Any], context: Any, client: Any
    ) -> None:
        await ack()
        if event.get("tab") in (None, HOME_TAB):
            await self._queued(job_from_context(context, Kind.HOME, user_id=event.get("user")))

    async def on_uninstalled(self, ack: Any, event: dict[str, Any], context: Any) -> None:
        """One workspace (HTTP or Socket Mode): no installation is stored, so only log. With
        OAuth, slack-bolt's revocation listeners come first and delete the installation."""
        await ack()
        log.info(
            "slack_uninstalled", extra={"tenant": tenant_of(context), "type": event.get("type")}
        )

    async def _queued(self, job: SlackJob) -> bool:
        try:
            await self.enqueue(job.payload())
        except Exception as error:
            _log_failure("enqueue_failed", job, error)
            return False
        return True

    async def _say_without_store(self, respond: Respond, job: SlackJob) -> None:
        """A click that could not be queued: the refusal, as a message of its own (the one
        clicked is not replaced)."""
        reply = reply_without_store(_request(job, _actor_of(job)))
        try:
            await respond(response_type="ephemeral", replace_original=False,
                          **self.adapter.render(reply))  # fmt: skip
        except Exception as error:
            _log_failure("refusal_failed", job, error)

    async def _post_without_store(self, client: Any, job: SlackJob) -> None:
        reply = reply_without_store(_request(job, _actor_of(job)))
        try:
            await _post_privately(client, job, render_text(reply), render_blocks(reply))
        except Exception as error:
            _log_failure("refusal_failed", job, error)

    async def _open_decision_form(
        self, command: dict[str, Any], respond: Respond, client: Any, context: Any
    ) -> None:
        """views.open must follow the trigger within 3 seconds, so this stays in the web tier."""
        channel_id = str(command.get("channel_id") or "") or None
        try:
            await client.views_open(
                trigger_id=str(command.get("trigger_id") or ""), view=decision_modal(channel_id)
            )
        except Exception as error:
            log.error("modal_failed", extra=_ids(tenant_of(context), context.user_id, error))
            await _say_sorry(self.urls.respond_for(command.get("response_url"), fallback=respond))

    async def run_job(self, payload: dict[str, Any]) -> None:
        """The worker's half: never raises, so a job is done once, answered or apologised for."""
        try:
            job = SlackJob.from_payload(payload, self.urls.origins)  # read once, not per job
        except msgspec.ValidationError as error:  # its message may quote a value: keep the path
            log.error(
                "job_unreadable", extra={"field": str(error).rpartition(" - at ")[2].strip("`")}
            )
            return
        if job.expired():
            log.warning("job_expired", extra=_job_ids(job))
            return
        client = await self.clients.client_for(job)
        if job.kind is Kind.HOME:
            await publish_home(self.coach, self.profiles, client, job.tenant, job.user_id)
        elif job.kind is Kind.FORM:
            await self._post_form_decision(client, job)
        else:
            await self._answer(client, job)

    async def _answer(self, client: Any, job: SlackJob) -> None:
        """Ask the coach and answer through response_url, or apologise there. A command is
        parsed once, here: whether a manager asks decides how fresh their role is read."""
        address = Address(ADAPTER, job.tenant, job.user_id, job.response_url or "")
        command = _parsed(job)
        actor = await self._actor(client, job, fresh_role=_asks_a_manager(command))
        how = Delivery.REPLACE if job.kind is Kind.CHECK_IN else Delivery.ANSWER
        await answer(self.adapter, self.coach, _request(job, actor), address, how, command)

    async def _post_form_decision(self, client: Any, job: SlackJob) -> None:
        try:
            actor = await self._actor(client, job, fresh_role=False)
            reply = await self.coach.handle(_request(job, actor))
            await _post_privately(client, job, render_text(reply), render_blocks(reply))
        except Exception as error:
            _log_failure("form_failed", job, error)
            await _post_apology(client, job)

    async def _actor(self, client: Any, job: SlackJob, *, fresh_role: bool) -> Actor:
        """On Enterprise Grid the tenant is the org (see installation_tenant): its admins and
        owners manage, not a workspace's. A manager-only command reads the role fresh."""
        return await self.profiles.actor(
            client, job.tenant, job.user_id, org=bool(job.enterprise_id), fresh_role=fresh_role
        )


def _actor_of(job: SlackJob) -> Actor:
    """Who sent a job, as the web tier knows them without a call to Slack (users.info)."""
    return Actor(Platform.SLACK, job.tenant, job.user_id)


def _parsed(job: SlackJob) -> Command | None:
    """A command job's text as the coach reads it; None for a button, or for text the coach
    answers with the grammar's error (to anyone)."""
    if job.kind is not Kind.COMMAND:
        return None
    try:
        return parse(job.text)
    except GrammarError:
        return None


def _asks_a_manager(command: Command | None) -> bool:
    return command is not None and needs_manager(command)


class SlackDelivery:
    """How the Slack adapter sends: answers through a request's response_url (ephemeral, or
    in place of the message a button was on), direct messages through the Web API."""

    def __init__(self, urls: ResponseUrls, clients: BotClients) -> None:
        self.urls = urls
        self.clients = clients
        self.pacer = Pacer(CHANNEL_INTERVAL_SECONDS)

    async def send(self, reply: Reply, address: Address, how: Delivery) -> None:
        if how is Delivery.DIRECT:
            await self._direct_message(reply, address)
            return
        respond = self.urls.respond_for(
            address.target, _no_response_url, (address.tenant, address.user_id)
        )
        if how is Delivery.REPLACE:
            await _send(respond, reply, replace_original=True)
        else:
            await _send(respond, reply, response_type="ephemeral")

    async def _direct_message(self, reply: Reply, address: Address) -> None:
        client = await self.clients.direct_client(address.tenant)
        await send_direct(client, self.pacer, address.tenant, address.user_id, reply)

    async def was_delivered(self, address: Address, ref: str) -> bool:
        client = await self.clients.direct_client(address.tenant)
        return await delivered_to(client, address.user_id, ref)


class BotClients:
    """The Web API client a worker answers a job's workspace with: the one bot token's, or,
    with OAuth, one built from the workspace's installation in the store."""

    def __init__(self, client: AsyncWebClient, installations: Any | None, api_url: str) -> None:
        self.client = client
        self.installations = installations
        self.api_url = api_url
        self._session: aiohttp.ClientSession | None = None
        # A message the bot starts waits out a 429 and retries a 5xx, whatever `client` does.
        self.retry_handlers = retry_handlers()

    async def direct_client(self, tenant: str) -> AsyncWebClient:
        """The client for a message the bot starts in `tenant`, on one HTTP session shared by
        every such message. RecipientGone if the workspace has no installation (uninstalled);
        the store's own failure is raised as it is (try again later)."""
        token = self.client.token
        if self.installations is not None:
            enterprise = tenant.startswith("E")
            bot = await self.installations.async_find_bot(
                enterprise_id=tenant if enterprise else None,
                team_id=None if enterprise else tenant,
                is_enterprise_install=enterprise,
            )
            token = bot.bot_token if bot is not None else None
        if not token:
            raise RecipientGone("no_installation")
        return AsyncWebClient(
            token=token,
            base_url=self.api_url,
            timeout=API_TIMEOUT_SECONDS,
            logger=self.client.logger,
            session=self._shared_session(),
            retry_handlers=self.retry_handlers,
        )

    def _shared_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def client_for(self, job: SlackJob) -> AsyncWebClient:
        """Never fails: without a token (not installed any more, or the store unreachable),
        answers on a response_url still go, and a profile that cannot be read falls back to
        the rep's own settings."""
        return await self._client(job.enterprise_id, job.team_id, job.enterprise_install)

    async def _client(
        self, enterprise_id: str | None, team_id: str | None, enterprise_install: bool
    ) -> AsyncWebClient:
        if self.installations is None:
            return self.client
        token = None
        try:
            bot = await self.installations.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=enterprise_install,
            )
            token = bot.bot_token if bot is not None else None
        except Exception as error:
            tenant = installation_tenant(enterprise_id, team_id)
            log.warning("installation_lookup_failed", extra=_ids(tenant, "", error))
        return AsyncWebClient(
            token=token,
            base_url=self.api_url,
            timeout=API_TIMEOUT_SECONDS,
            logger=self.client.logger,
            retry_handlers=self.client.retry_handlers,
        )


def _request(job: SlackJob, actor: Actor) -> Request:
    details: dict[str, Any] = {}
    if job.kind in (Kind.CHECK_IN, Kind.ASK):
        details["button"] = ButtonPress(job.action_id, job.value)
    elif job.kind is Kind.FORM:
        details["form"] = job.form
    else:
        details["text"] = job.text
    return Request(
        actor=actor,
        idempotency_key=job.idempotency_key,
        received_at=datetime.fromtimestamp(job.received_at, UTC),
        **details,
    )


SLACK_TOKEN = re.compile(r"<[@#!][^<>]*>")  # a mention, channel or special token, as Slack sends it
SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def typed_text(text: str) -> str:
    """The slash command's text as the rep typed it: Slack escapes &, < and > as entities and
    sends mentions as `<@U123|name>` tokens. The entities are undone outside the tokens, and a
    `<@` the rep typed by hand becomes `@`, so only Slack's own mentions are tokens."""
    parts, last = [], 0
    for token in SLACK_TOKEN.finditer(text):
        parts += [_as_typed(text[last : token.start()]), token.group()]
        last = token.end()
    return "".join([*parts, _as_typed(text[last:])])


def _as_typed(text: str) -> str:
    for entity, character in SLACK_ENTITIES:
        text = text.replace(entity, character)
    return text.replace("<@", "@")


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


async def _no_response_url(**_: Any) -> Any:
    raise SlackDeliveryError(0)


async def _send(
    respond: Respond,
    reply: Reply,
    *,
    response_type: str | None = None,
    replace_original: bool | None = None,
) -> None:
    response = await respond(  # ResponseUrls bounds each attempt and retries (RetryPolicy)
        text=render_text(reply),
        blocks=render_blocks(reply),
        response_type=response_type,
        replace_original=replace_original,
    )
    status = getattr(response, "status_code", 200)
    if status != 200:
        raise SlackDeliveryError(status)


async def _post_privately(
    client: Any, job: SlackJob, text: str, blocks: list[dict[str, Any]] | None
) -> None:
    """Ephemeral in the channel the rep was in; a direct message if that is missing or fails."""
    if job.channel:
        try:
            await client.chat_postEphemeral(
                channel=job.channel, user=job.user_id, text=text, blocks=blocks
            )
            return
        except Exception as error:
            _log_failure("ephemeral_failed", job, error, level=logging.WARNING)
    opened = await client.conversations_open(users=job.user_id)
    await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)


async def _post_apology(client: Any, job: SlackJob) -> None:
    try:
        await _post_privately(client, job, APOLOGY, None)
    except Exception as error:
        _log_failure("apology_failed", job, error)


class SlackDeliveryError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"response_url answered HTTP {status}")
        self.status = status


async def _say_sorry(respond: Respond, job: SlackJob | None = None) -> None:
    try:
        await asyncio.wait_for(
            respond(text=APOLOGY, response_type="ephemeral"), RESPOND_TIMEOUT_SECONDS
        )
    except Exception as error:
        if job is not None:
            _log_failure("apology_failed", job, error)
        else:
            log.error("apology_failed", extra={"error": type(error).__name__})


def _log_failure(event: str, job: SlackJob, error: Exception, level: int = logging.ERROR) -> None:
    """Ids, the kind of job and the error type only: no names, no numbers, no text."""
    log.log(level, event, extra=_job_ids(job, error))


def _job_ids(job: SlackJob, error: Exception | None = None) -> dict[str, Any]:
    return {**_ids(job.tenant, job.user_id, error), "kind": job.kind.value}


def _ids(tenant: str, user_id: object, error: Exception | None = None) -> dict[str, Any]:
    ids: dict[str, Any] = {"tenant": tenant, "user": str(user_id or "")}
    if error is not None:
        ids["error"] = type(error).__name__
    return ids
