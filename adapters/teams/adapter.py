"""The Microsoft Teams adapter: botbuilder's CloudAdapter behind POST /api/messages.

Each request is authenticated first, with botbuilder's own JWT validation (401 for any bad or
missing token), then its tenant (channelData.tenant.id) is checked against the allow-list
(403), and only then is anything read or stored. A message becomes a job on the shared queue;
a worker asks the coach and answers through the Bot Connector (continue_conversation). A
check-in button is an Action.Execute invoke, answered inside the request with the next card.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ConversationParameters,
)

from adapters.teams.activities import (
    TeamsJob,
    is_personal,
    job_for,
    tenant_of,
    user_of,
)
from adapters.teams.auth import Authenticator
from adapters.teams.cards import (
    ACTION_ID,
    CONTENT_TYPE,
    DECISION_FORM,
    VALUE,
    decision_form_card,
    render_card,
)
from adapters.teams.config import TeamsConfig, TeamsConfigError
from adapters.teams.references import Chats, reference_from, without_activity
from bot import replies
from bot.adapters import (
    AdapterStatus,
    Address,
    Delivery,
    RecipientGone,
    answer,
    apology,
    deliver_or_apologise,
)
from bot.fallback import reply_without_store, store_down_reply
from bot.metrics import DELIVERIES_GIVEN_UP, DELIVERIES_RETRIED
from bot.pacing import Pacer
from bot.types import ButtonPress, Reply, Request

if TYPE_CHECKING:
    import argparse

    from bot.coach import Coach
    from bot.jobs import Enqueue
    from bot.server import Services

log = logging.getLogger("voicemail_coach.teams")

NAME = "teams"
JOB_NAME = "teams.answer"
MESSAGES_PATH = "/api/messages"
CARD_ACTION = "adaptiveCard/action"
INSTALL_ACTIONS = ("add", "add-upgrade")
UNINSTALL_ACTIONS = ("remove", "remove-upgrade")
NOT_IN_ROSTER = "BotNotInConversationRoster"
ANSWERED_PRIVATELY = "I've answered you in our personal chat."
ADD_THE_APP = (
    "To get my answers privately, add Voicemail Coach as a personal app: Apps, search for "
    "Voicemail Coach, then Add."
)
# Microsoft asks bots to retry these with backoff: throttled (429), a precondition lost to a
# concurrent change (412), and the service's own trouble (500, 502, 503, 504). An attempt that
# times out is tried again too.
RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})
SEND_ATTEMPTS = 4
SEND_TIMEOUT_SECONDS = 20.0
RETRY_SECONDS = 1.0
MAX_RETRY_PAUSE_SECONDS = 30.0
# No attempt starts, or runs on, past this long after the first: a worker holds its job for
# VOICEMAIL_COACH_RECLAIM_SECONDS (60 s by default), after which another one answers it again.
SEND_WINDOW_SECONDS = 45.0
MAX_DATA_FIELDS = 40
MAX_DATA_TEXT = 2000
SDK_LOGGERS = ("botbuilder", "botframework", "msrest", "msal", "urllib3")
# Teams allows a bot about 50 requests a second per tenant: spaced evenly, in this process.
TENANT_REQUESTS_PER_SECOND = 50
# The connector's answer for a chat the bot can never write to again: forbidden (the app was
# removed, or the rep blocked it) or gone.
GONE_STATUSES = frozenset({403, 404})
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
ANSWERED_BELOW = "Answered below."

Card = dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class TeamsDeliveryError(Exception):
    """The Bot Connector did not take a reply (the code Teams gave, never its text)."""

    def __init__(self, code: str, status: int | None = None) -> None:
        super().__init__(f"the Bot Connector refused the reply ({code})")
        self.code = code
        self.status = status


class TeamsAdapter:
    """Built with no arguments (the entry point); `mount` reads the environment."""

    name = NAME

    def __init__(self) -> None:
        self.config = TeamsConfig()
        self.authenticator: Authenticator | None = None
        self.bot: CloudAdapter | None = None
        self.chats: Chats | None = None
        self.services: Services | None = None
        self.enqueue: Enqueue | None = None
        self.retry_seconds = RETRY_SECONDS
        self.send_timeout_seconds = SEND_TIMEOUT_SECONDS
        self.send_window_seconds = SEND_WINDOW_SECONDS
        self.pacer = Pacer(1.0 / TENANT_REQUESTS_PER_SECOND)

    def add_commands(self, commands: argparse._SubParsersAction[Any]) -> None:
        """`voicemail-coach manifest teams`: the app manifest, or the package to upload."""
        from adapters.teams.cli import register  # the CLI imports this module

        register(commands)

    def mount(self, app: web.Application, services: Services) -> AdapterStatus:
        try:
            self.config = TeamsConfig.from_env()
        except TeamsConfigError as error:
            return AdapterStatus(NAME, False, str(error))
        quiet_sdk_logs()
        self.services = services
        self.chats = Chats(services.store)
        self.authenticator = Authenticator(self.config)
        self.bot = CloudAdapter(self.authenticator.auth)
        self.enqueue = services.jobs.register(JOB_NAME, self.run_job)
        if self.config.anonymous:
            log.warning(
                "teams_anonymous",
                extra={
                    "why": "TEAMS_ALLOW_ANONYMOUS=true: requests are NOT authenticated; "
                    "for Agents Playground only, never in a deployment"
                },
            )
        if not services.tier.serves_chat:
            return AdapterStatus(NAME, True, "answering queued Teams jobs")
        app.router.add_post(MESSAGES_PATH, self.on_request)
        mode = "UNAUTHENTICATED" if self.config.anonymous else self.config.app_type
        return AdapterStatus(
            NAME,
            True,
            f"Bot Framework at POST {MESSAGES_PATH} ({mode}, {self.config.tenants_in_words()})",
        )

    def render(self, reply: Reply) -> Card:
        return render_card(reply)

    # Inbound: POST /api/messages.

    async def on_request(self, request: web.Request) -> web.StreamResponse:
        try:
            activity, document, tenant = await self._admitted(request)
        except Refused as refused:
            log.info(
                "teams_request_refused",
                extra={"status": refused.status, "reason": refused.reason},
            )
            return web.Response(status=refused.status)
        try:
            return await self._dispatch(activity, document, tenant)
        except Exception as error:  # the store or the queue failed: Teams retries a 5xx
            log.error(
                "teams_activity_failed",
                extra={
                    "tenant": tenant,
                    "type": str(activity.type)[:40],
                    "error": type(error).__name__,
                },
            )
            return web.Response(status=500)

    async def _admitted(self, request: web.Request) -> tuple[Activity, dict[str, Any], str]:
        """The activity (and the JSON it came as) and its tenant, once the token and the
        tenant pass; else Refused."""
        header = request.headers.get("Authorization")
        if not header and not self.config.anonymous:
            raise Refused(401, "missing_header")
        activity, document = await _read_activity(request)
        assert self.authenticator is not None
        try:
            await self.authenticator.authenticate(activity, header or None)
        except Exception as error:  # botbuilder raises many kinds for a bad token
            raise Refused(401, f"unauthenticated_{type(error).__name__}") from None
        tenant = tenant_of(activity)
        if not self.config.allows_tenant(tenant):
            raise Refused(403, "tenant_not_allowed")
        return activity, document, tenant

    async def _dispatch(
        self, activity: Activity, document: dict[str, Any], tenant: str
    ) -> web.StreamResponse:
        kind = activity.type
        if kind == ActivityTypes.message:
            await self._on_message(activity, document, tenant)
        elif kind == ActivityTypes.invoke and activity.name == CARD_ACTION:
            return web.json_response(await self._on_card_action(activity, tenant))
        elif kind == ActivityTypes.installation_update:
            await self._on_installation(activity, tenant, _action(activity))
        elif kind == ActivityTypes.conversation_update:
            await self._on_members_changed(activity, tenant)
        return web.Response(status=200)

    async def _on_message(self, activity: Activity, document: dict[str, Any], tenant: str) -> None:
        if not user_of(activity):
            return
        # The web tier only authenticates and queues: the worker notes the rep's chat.
        job = job_for(activity, tenant=tenant, manager=False, document=document)
        assert self.enqueue is not None
        try:
            await self.enqueue(job.payload())
        except Exception as error:
            _log_failure("enqueue_failed", job.tenant, job.user_id, error)
            await self._answer_without_store(job)

    async def _answer_without_store(self, job: TeamsJob) -> None:
        """No queue (Redis is down): what needs no store (a decision from the policy alone,
        help, the form) or the refusal. A decision is answered in a personal chat only, as the
        worker would: in a group chat or channel the message is refused."""
        address = _address(job.tenant, job.user_id, job.reference)
        if not job.text:  # a bare `voicemail`: the form needs no store either
            try:
                await self.send_card(decision_form_card(), address)
            except Exception as error:
                _log_failure("form_failed", job.tenant, job.user_id, error)
            return
        received = datetime.fromtimestamp(job.received_at, UTC)
        request = Request(actor=job.actor(), text=job.text, received_at=received)
        reply = reply_without_store(request) if job.personal else store_down_reply(clicked=False)
        await deliver_or_apologise(self, reply, address, Delivery.ANSWER)

    async def _remember(self, activity: Activity, tenant: str, *, installed: bool = False) -> bool:
        """Store the rep's personal chat (a group chat or channel is not one); True if they
        manage the tenant."""
        assert self.chats is not None
        reference = None
        if is_personal(activity):
            reference = without_activity(TurnContext.get_conversation_reference(activity))
        user = user_of(activity)
        try:
            chat = await self.chats.remember(tenant, user, reference, installed=installed)
        except Exception as error:  # the answer can still go: the job carries the chat
            if installed:
                raise  # answered 500, so Teams delivers the install again
            _log_failure("teams_chat_not_stored", tenant, user, error, logging.WARNING)
            return False
        return chat.manager

    async def _on_installation(self, activity: Activity, tenant: str, action: str) -> None:
        user = user_of(activity)
        if not user:
            return
        if action in INSTALL_ACTIONS:
            await self._remember(activity, tenant, installed=True)
            log.info("teams_installed", extra={"tenant": tenant, "user": user})
        elif action in UNINSTALL_ACTIONS and is_personal(activity):
            assert self.chats is not None
            await self.chats.forget(tenant, user)
            log.info("teams_uninstalled", extra={"tenant": tenant, "user": user})

    async def _on_members_changed(self, activity: Activity, tenant: str) -> None:
        """The bot added to a chat is an install; removed from it, an uninstall."""
        bot_id = getattr(activity.recipient, "id", None)
        if not bot_id:
            return
        if bot_id in _member_ids(activity.members_added):
            await self._on_installation(activity, tenant, INSTALL_ACTIONS[0])
        elif bot_id in _member_ids(activity.members_removed):
            await self._on_installation(activity, tenant, UNINSTALL_ACTIONS[0])

    async def _on_card_action(self, activity: Activity, tenant: str) -> dict[str, Any]:
        """A button on a card, answered with the card that replaces it for the rep who clicked.
        A check-in clicked twice (or an invoke redelivered) is deduplicated by the coach."""
        data = action_data(activity.value)
        if data is None or not user_of(activity):
            return _card_response(self.render(apology()))
        manager = await self._remember(activity, tenant)
        actor = job_for(activity, tenant=tenant, manager=manager).actor()
        if data.get(ACTION_ID) == DECISION_FORM:
            form = form_of(data)
            problem = self._coach().check_form(form)
            if problem is not None:
                return _card_response(decision_form_card(form, problem.field_errors))
            request = Request(actor=actor, form=form, received_at=datetime.now(UTC))
        else:
            request = Request(
                actor=actor,
                button=ButtonPress(data.get(ACTION_ID, ""), data.get(VALUE, "")),
                idempotency_key=activity.id if isinstance(activity.id, str) else None,
                received_at=datetime.now(UTC),
            )
        try:
            reply = await self._coach().handle(request)
        except Exception as error:
            _log_failure("card_action_failed", tenant, actor.user_id, error)
            reply = apology()
        if data.get(ACTION_ID) == replies.ASK and await self._answered_below(activity, reply):
            return _message_response(ANSWERED_BELOW)
        return _card_response(self.render(reply))

    async def _answered_below(self, activity: Activity, reply: Reply) -> bool:
        """An ask from a nudge's card: the decision as a new card in the chat, so that the
        nudge (and its other call-backs) stays; False if it could not be sent."""
        reference = without_activity(TurnContext.get_conversation_reference(activity))
        address = _address(tenant_of(activity), user_of(activity), reference)
        try:
            await self.send_card(self.render(reply), address, summary=reply.heading)
        except Exception as error:
            _log_failure("ask_answer_failed", address.tenant, address.user_id, error)
            return False
        return True

    def _coach(self) -> Coach:
        assert self.services is not None
        return self.services.coach

    # The worker's half.

    async def run_job(self, payload: dict[str, Any]) -> None:
        """Never raises: a job is answered, or apologised for, once."""
        assert self.services is not None
        try:
            job = TeamsJob.from_payload(payload)
        except msgspec.ValidationError as error:  # its message may quote a value: keep the path
            log.error(
                "job_unreadable", extra={"field": str(error).rpartition(" - at ")[2].strip("`")}
            )
            return
        job = await self._noted(job)
        request = Request(
            actor=job.actor(),
            text=job.text,
            idempotency_key=job.activity_id,
            received_at=datetime.fromtimestamp(job.received_at, UTC),
        )
        thread = _address(job.tenant, job.user_id, job.reference)
        # Asked in a group chat or channel: the answer goes to the rep's personal chat (it
        # may hold their prospects) and the thread gets a pointer, or, if Teams will not
        # open that chat, the thread gets the answer and a hint how to add the app.
        personal = thread if job.personal else await self._personal_chat(job)
        answered_at = personal or thread
        if await self._answer(job, request, answered_at) and answered_at is not thread:
            await self._point(thread, ANSWERED_PRIVATELY)
        elif personal is None:
            await self._point(thread, ADD_THE_APP)

    async def _noted(self, job: TeamsJob) -> TeamsJob:
        """Store the rep's personal chat (as on every message); the job with their role."""
        assert self.chats is not None
        reference = None
        if job.personal:  # without the message's id: a proactive message starts anew
            reference = {key: value for key, value in job.reference.items() if key != "activityId"}
        try:
            chat = await self.chats.remember(job.tenant, job.user_id, reference)
        except Exception as error:  # the answer can still go: the job carries the chat
            _log_failure("teams_chat_not_stored", job.tenant, job.user_id, error, logging.WARNING)
            return job
        return msgspec.structs.replace(job, manager=chat.manager)

    async def _answer(self, job: TeamsJob, request: Request, address: Address) -> bool:
        if job.text:
            return await answer(self, self._coach(), request, address, Delivery.ANSWER) is not None
        try:  # a bare `voicemail`: the form, as Slack's bare command opens one
            await self.send_card(decision_form_card(), address)
        except Exception as error:
            _log_failure("form_failed", job.tenant, job.user_id, error)
            return False
        return True

    async def _personal_chat(self, job: TeamsJob) -> Address | None:
        """The rep's personal chat: stored, or opened now (and stored); None if Teams refuses
        (the app is not installed for them)."""
        try:
            found = await self.direct_chat(job.tenant, job.user_id)
        except Exception as error:  # the store: Teams may still open (or reopen) the chat
            _log_failure("teams_chat_lookup_failed", job.tenant, job.user_id, error)
            found = None
        if found is not None:
            return found
        try:
            reference = await self._open_personal_chat(job)
        except Exception as error:
            refusal = connector_error_code(error) or type(error).__name__
            ids = {"tenant": job.tenant, "user": job.user_id}
            log.warning("teams_personal_chat_refused", extra={**ids, "error": refusal})
            return None
        assert self.chats is not None
        try:
            await self.chats.remember(job.tenant, job.user_id, reference)
        except Exception as error:  # answer there all the same; the next message stores it
            _log_failure("teams_chat_not_stored", job.tenant, job.user_id, error, logging.WARNING)
        return _address(job.tenant, job.user_id, reference)

    async def _open_personal_chat(self, job: TeamsJob) -> dict[str, Any]:
        assert self.bot is not None and self.authenticator is not None
        thread = reference_from(job.reference)
        parameters = ConversationParameters(
            is_group=False,
            bot=thread.bot,
            members=[thread.user],
            tenant_id=job.tenant,
            channel_data={"tenant": {"id": job.tenant}},
        )
        opened: list[str] = []

        async def note(context: TurnContext) -> None:
            opened.append(context.activity.conversation.id)

        await asyncio.to_thread(self.authenticator.credentials.prefetch_token)
        await self.pacer.wait(job.tenant)
        await self.bot.create_conversation(
            self.config.app_id, note, parameters, thread.channel_id, thread.service_url
        )
        reference = without_activity(thread)
        reference["conversation"] = {
            "id": opened[0],
            "conversationType": "personal",
            "tenantId": job.tenant,
        }
        return reference

    async def _point(self, thread: Address, text: str) -> None:
        try:
            await self.send_card(self.render(Reply(heading=text)), thread, summary=text)
        except Exception as error:
            _log_failure("pointer_failed", thread.tenant, thread.user_id, error)

    # Outbound.

    async def deliver(self, reply: Reply, address: Address, how: Delivery) -> None:
        """Send the reply's card (its picture in it) to the chat the address names: an answer
        replies to the message it answers, a replacement updates it, and a direct message
        starts anew in the rep's personal chat. RecipientGone for a direct message to a chat
        that is not stored or that the connector forbids (403) or no longer knows (404)."""
        if how is Delivery.DIRECT and not address.target:
            raise RecipientGone("no_personal_chat")
        try:
            await self.send_card(
                self.render(reply),
                address,
                summary=reply.heading,
                replace=how is Delivery.REPLACE,
            )
        except TeamsDeliveryError as error:
            if error.code == NOT_IN_ROSTER:
                log.warning(
                    "teams_not_in_roster",
                    extra={"tenant": address.tenant, "user": address.user_id, "how": how.value},
                )
            if how is Delivery.DIRECT and error.status in GONE_STATUSES:
                raise RecipientGone(error.code) from None
            raise

    async def send_card(
        self, card: Card, address: Address, summary: str = "", *, replace: bool = False
    ) -> None:
        """Raises TeamsDeliveryError with the Bot Connector's code if it refuses. With
        `replace`, the card takes the place of the message the address's reference names
        (for everyone in the chat); without one, it is sent as a new message."""
        assert self.bot is not None and self.authenticator is not None
        reference = reference_from(json.loads(address.target))
        message = MessageFactory.attachment(CardFactory.adaptive_card(card))
        message.summary = summary[:200] or None

        async def send(context: TurnContext) -> None:
            if replace and reference.activity_id:
                message.id = reference.activity_id
                await context.update_activity(message)
                return
            # botbuilder gives the continuation a fresh id and replies to that; reply to the
            # message the reference names instead, or, with none, start a new message.
            context.activity.id = reference.activity_id
            await context.send_activity(message)

        deadline = asyncio.get_running_loop().time() + self.send_window_seconds
        for attempt in range(1, SEND_ATTEMPTS + 1):
            # The connector asks for a token synchronously: have it cached without blocking.
            await asyncio.to_thread(self.authenticator.credentials.prefetch_token)
            await self.pacer.wait(address.tenant)
            left = deadline - asyncio.get_running_loop().time()
            try:
                # msrest would wait 100 s for an answer; a reply that late is no use.
                await asyncio.wait_for(
                    self.bot.continue_conversation(reference, send, bot_app_id=self.config.app_id),
                    max(min(self.send_timeout_seconds, left), 0.001),
                )
                return
            except Exception as error:
                code = "timeout" if isinstance(error, TimeoutError) else connector_error_code(error)
                if code is None:
                    raise
                retryable = code == "timeout" or status_of(error) in RETRY_STATUSES
                pause = self.retry_pause(attempt, error)
                late = asyncio.get_running_loop().time() + pause >= deadline
                if not retryable:
                    raise TeamsDeliveryError(code, status_of(error)) from None
                if attempt == SEND_ATTEMPTS or late:
                    _given_up(address, code, attempt)
                    if code == "timeout":
                        raise
                    raise TeamsDeliveryError(code, status_of(error)) from None
            retry = {"tenant": address.tenant, "code": code, "attempt": attempt}
            log.warning("teams_send_retried", extra={**retry, "pause_seconds": round(pause, 2)})
            DELIVERIES_RETRIED.labels(channel=NAME).inc()
            await asyncio.sleep(pause)

    def retry_pause(self, attempt: int, error: BaseException) -> float:
        """Exponential, with jitter so that many senders do not retry in step; at least the
        Retry-After Teams asked for (up to a limit)."""
        pause = self.retry_seconds * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
        asked = retry_after(error)
        return float(min(max(pause, asked or 0.0), MAX_RETRY_PAUSE_SECONDS))

    async def forget_rep(self, tenant: str, user_id: str) -> None:
        """The rep's stored personal chat (its reference holds their name)."""
        if self.chats is not None:
            await self.chats.forget(tenant, user_id)

    async def was_delivered(self, address: Address, ref: str) -> bool:
        """Always False: the Bot Connector lets a bot send, update and delete its messages but
        not read a chat's history (that is Microsoft Graph, with permissions to read every
        chat of the tenant, which this app does not ask for), so nothing can be asked."""
        return False

    async def direct_chat(self, tenant: str, user_id: str) -> Address | None:
        if self.chats is None:
            return None
        chat = await self.chats.find(tenant, user_id)
        if chat is None or chat.reference is None:
            return None
        return _address(tenant, user_id, chat.reference)


def quiet_sdk_logs() -> None:
    """The SDKs log requests, answers and errors from Microsoft at DEBUG and INFO (ids, and
    text we do not control): keep their warnings only."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def action_data(value: object) -> dict[str, str] | None:
    """An Action.Execute's data (text values only, each cut to a sane length), or None."""
    action = value.get("action") if isinstance(value, dict) else None
    data = action.get("data") if isinstance(action, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get(ACTION_ID), str):
        return None
    return {
        str(key)[:100]: text[:MAX_DATA_TEXT]
        for key, text in list(data.items())[:MAX_DATA_FIELDS]
        if isinstance(text, str)
    }


def form_of(data: Mapping[str, str]) -> dict[str, str]:
    return {key: text for key, text in data.items() if key != ACTION_ID}


def _message_response(text: str) -> dict[str, Any]:
    """An invoke answered with a line of text: the card that was clicked stays as it was."""
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}


def _card_response(card: Card) -> dict[str, Any]:
    response = AdaptiveCardInvokeResponse(status_code=200, type=CONTENT_TYPE, value=card)
    body: dict[str, Any] = response.serialize()
    return body


def status_of(error: BaseException) -> int | None:
    status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def retry_after(error: BaseException) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    if not isinstance(value, str) or not value.isdigit() or len(value) > 5:
        return None
    return float(value)


def connector_error_code(error: BaseException) -> str | None:
    """The error code the Bot Connector answered with (BotNotInConversationRoster, ...)."""
    details = getattr(error, "error", None)
    inner = getattr(details, "error", None)
    code = getattr(inner, "code", None)
    if isinstance(code, str) and code:
        return code[:80]
    status = status_of(error)
    return f"HTTP {status}" if status is not None else None


async def _read_activity(request: web.Request) -> tuple[Activity, dict[str, Any]]:
    try:  # the server has read the body, within its size and time limits (bot/server.py)
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "too_large") from None
    except Exception:
        raise Refused(400, "unreadable") from None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(400, "not_json") from None
    if not isinstance(document, dict):
        raise Refused(400, "not_an_object")
    try:
        activity = Activity().deserialize(document)
    except Exception:  # msrest's DeserializationError, or worse, for a hostile shape
        raise Refused(400, "not_an_activity") from None
    if not isinstance(activity.type, str) or not activity.type:
        raise Refused(400, "no_type")
    return activity, document


def _action(activity: Activity) -> str:
    action = activity.action
    return action if isinstance(action, str) else ""


def _member_ids(members: object) -> set[str]:
    if not isinstance(members, list):
        return set()
    return {member.id for member in members if isinstance(getattr(member, "id", None), str)}


def _address(tenant: str, user_id: str, reference: dict[str, Any]) -> Address:
    return Address(NAME, tenant, user_id, json.dumps(reference))


def _given_up(address: Address, code: str, attempts: int) -> None:
    DELIVERIES_GIVEN_UP.labels(channel=NAME).inc()
    log.error(
        "delivery_given_up",
        extra={"channel": NAME, "tenant": address.tenant, "user": address.user_id,
               "attempts": attempts, "error": code},
    )  # fmt: skip


def _log_failure(
    event: str, tenant: str, user_id: str, error: Exception, level: int = logging.ERROR
) -> None:
    ids = {"tenant": tenant, "user": user_id, "error": type(error).__name__}
    log.log(level, event, extra=ids)
