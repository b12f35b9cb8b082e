"""Messages the bot starts: a nudge or a digest into a rep's direct message with the bot.

The message goes to the user's id (Slack posts it into their direct message with the app: no
conversations.open first, one call per message), with the send's ref as message metadata, so
that after a crash `was_delivered` can find it in the channel's recent history. A chart follows
as a file (files upload v2) into the same channel. Slack's rate limits: about one message a
second per channel, paced here per direct message in this process; a 429 waits for its
Retry-After and a 5xx or a dropped connection is retried with backoff and jitter, both by
slack_sdk's retry handlers on the client, a few times. Errors that mean the rep can never be
reached (uninstalled, token revoked, user deactivated) become RecipientGone.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import render_blocks, render_text
from bot.adapters import RecipientGone
from bot.pacing import Pacer
from bot.types import Image, Reply

log = logging.getLogger("voicemail_coach.slack")

METADATA_EVENT = "voicemail_coach_send"
HISTORY_LIMIT = 20
RETRIES = 3
CHANNEL_INTERVAL_SECONDS = 1.0
# Slack's answers that no retry will change: the workspace uninstalled the app or revoked its
# token, the user is deactivated or gone, or there is no direct message to post into.
GONE = frozenset(
    {
        "account_inactive",
        "token_revoked",
        "token_expired",
        "invalid_auth",
        "not_authed",
        "no_installation",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "user_is_restricted",
        "channel_not_found",
        "cannot_dm_bot",
        "is_archived",
        "team_not_found",
        "team_access_not_granted",
        "ekm_access_denied",
        "messages_tab_disabled",
    }
)


class AnyServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a 502 or 504 from Slack's edge is as
    passing."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code < 600


def retry_handlers() -> list[AsyncRetryHandler]:
    """A few retries each: for a dropped connection, a 429 (after its Retry-After, plus up to a
    second of jitter) and a 5xx (0.5 s, 1 s, 2 s, each plus up to a second of jitter)."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=backoff),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
        AnyServerErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=backoff),
    ]


def gone_for_good(error: SlackApiError) -> bool:
    return _error_code(error) in GONE


def _error_code(error: SlackApiError) -> str:
    data = getattr(getattr(error, "response", None), "data", None)
    code = data.get("error") if isinstance(data, dict) else None  # a 5xx's body is no JSON
    return code if isinstance(code, str) else ""


async def send_direct(
    client: AsyncWebClient, pacer: Pacer, tenant: str, user_id: str, reply: Reply
) -> None:
    """The reply into the rep's direct message, its chart after it. RecipientGone if Slack
    says the rep is out of reach; any other SlackApiError is a failure to try again later."""
    key = (tenant, user_id)
    await pacer.wait(key)
    options: dict[str, Any] = {}
    if reply.ref is not None:
        options["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"ref": reply.ref}}
    try:
        posted = await client.chat_postMessage(
            channel=user_id, text=render_text(reply), blocks=render_blocks(reply), **options
        )
    except SlackApiError as error:
        raise _mapped(error) from None
    if reply.image is not None:
        await pacer.wait(key)
        await _upload_chart(client, str(posted.get("channel") or user_id), reply.image, tenant)


async def _upload_chart(client: AsyncWebClient, channel: str, image: Image, tenant: str) -> None:
    """The message (and its ref) has arrived: a chart that fails is logged, not raised, since
    a retry would send the message twice."""
    try:
        await client.files_upload_v2(
            channel=channel,
            content=image.png,
            filename=image.name,
            title=image.alt[:250],
            alt_txt=image.alt[:1000],
        )
    except Exception as error:
        code = _error_code(error) if isinstance(error, SlackApiError) else ""
        log.warning(
            "slack_chart_failed",
            extra={"tenant": tenant, "error": type(error).__name__, "code": code},
        )


async def was_delivered(client: AsyncWebClient, user_id: str, ref: str) -> bool:
    """Whether one of the direct message's last messages carries `ref` in its metadata."""
    try:
        opened = await client.conversations_open(users=user_id)
        history = await client.conversations_history(
            channel=opened["channel"]["id"], limit=HISTORY_LIMIT, include_all_metadata=True
        )
    except SlackApiError as error:
        raise _mapped(error) from None
    return any(_ref_of(message) == ref for message in history.get("messages") or [])


def _ref_of(message: object) -> str | None:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    ref = payload.get("ref") if isinstance(payload, dict) else None
    return ref if isinstance(ref, str) else None


def _mapped(error: SlackApiError) -> Exception:
    """RecipientGone for Slack's answers that no retry changes; the error as it is otherwise
    (its message quotes Slack's answer: ids and an error code, nothing the rep wrote)."""
    if gone_for_good(error):
        return RecipientGone(_error_code(error))
    return error
