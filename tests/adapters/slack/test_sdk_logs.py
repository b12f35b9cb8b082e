"""No request body reaches a log through slack-bolt or slack-sdk, and no line is unbounded.

Bodies carry MARKER, text only the body holds.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from adapters.slack.app import BOLT_APP
from adapters.slack.sdk_logs import quiet_logger
from bot.logs import MAX_LINE_BYTES
from tests.adapters.slack.conftest import Bot, Logs

MARKER = "Jane-MARKER-Doe"


async def test_a_forged_one_megabyte_body_leaves_no_trace_and_no_long_line(
    bot: Bot, logs: Logs
) -> None:
    body = urlencode({"user_id": "U1", "text": MARKER + "x" * 1_000_000})[:1_000_000]
    response = await bot.post(body, secret="not-the-secret")
    assert response.status == 413  # refused for its size, before its signature is read
    logs.assert_clean(MARKER)
    assert max(len(line.encode()) for line in logs.lines()) <= MAX_LINE_BYTES


async def test_bolt_refusing_a_signature_itself_logs_no_body(bot: Bot, logs: Logs) -> None:
    """Past our own check (Socket Mode, a future route): bolt's refusal quotes no body."""
    assert bot.client.app is not None
    bolt = bot.client.app[BOLT_APP]
    request = AsyncBoltRequest(
        body=bot.command_body(MARKER),
        headers={"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=0"},
    )
    response = await bolt.async_dispatch(request)  # type: ignore[attr-defined]
    assert response.status == 401
    assert "Invalid request signature detected" in [e["event"] for e in logs.events()]
    logs.assert_clean(MARKER)


async def test_an_unhandled_signed_request_is_logged_without_its_values(
    bot: Bot, logs: Logs
) -> None:
    payload = {
        "type": "dialog_submission",
        "callback_id": "old-dialog",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "submission": {"prospect": MARKER},
        "response_url": bot.slack.response_url("dialog"),
    }
    response = await bot.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status == 404
    assert "Unhandled request" in [e["event"] for e in logs.events()]
    logs.assert_clean(MARKER, "/respond/dialog")


def test_an_api_failure_keeps_the_slack_error_and_the_error_type_without_traceback(
    logs: Logs,
) -> None:
    logger = quiet_logger("voicemail_coach.slack.bolt")
    response = {"ok": False, "error": "invalid_auth", "user": {"real_name": MARKER}}
    try:
        raise SlackApiError(f"The server responded with: {response}", response)  # type: ignore[no-untyped-call]
    except SlackApiError as error:
        logger.exception(f"Failed to run a listener function (error: {error})")
    [event] = [e for e in logs.events() if e["logger"] == "voicemail_coach.slack.bolt"]
    assert event["event"] == "Failed to run a listener function"
    assert event["slack_error"] == "invalid_auth" and event["error"] == "SlackApiError"
    logs.assert_clean(MARKER)


def test_the_filter_is_added_once_however_many_apps_are_built() -> None:
    for _ in range(3):
        logger = quiet_logger("voicemail_coach.slack.bolt")
    assert len(logger.filters) == 1
    assert logger.level == logging.INFO
