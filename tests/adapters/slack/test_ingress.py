"""POST /slack/events refuses what Slack does not send: 401 unsigned, 400 malformed, no traceback.

Every body carries MARKER, text only the body holds, so a log that quoted it would show.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from adapters.slack.ingress import MALFORMED_TEXT, UNSIGNED_TEXT, signature_problem
from tests.adapters.slack.conftest import SECRET, Bot, Logs, sign

MARKER = "Jane-MARKER-Doe"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# (what it is, body, content type, the reason logged)
JUNK = [
    ("invalid UTF-8", f"text={MARKER}".encode() + b"\xff\xfe", FORM, "not_utf8"),
    ("broken payload JSON", ("payload=" + quote('{"user": "' + MARKER)).encode(), FORM,
     "payload_not_json"),
    ("payload that is an array", ("payload=" + quote(json.dumps([MARKER]))).encode(), FORM,
     "payload_not_an_object"),
    ("JSON array", json.dumps([MARKER]).encode(), JSON, "body_not_an_object"),
    ("JSON array sent as a form", json.dumps([MARKER]).encode(), FORM, "not_a_form"),
    ("broken JSON", ('{"user": "' + MARKER).encode(), JSON, "body_not_json"),
    ("JSON too deep to parse", b"[" * 100_000 + MARKER.encode(), JSON, "body_too_deep"),
    ("JSON object bolt cannot read", json.dumps({"team": 5, "x": MARKER}).encode(), JSON,
     "unreadable_TypeError"),
    ("text that is no form", MARKER.encode(), FORM, "not_a_form"),
    ("empty body", b"", FORM, "empty_body"),
]  # fmt: skip
IDS = [case[0] for case in JUNK]


def refusals(logs: Logs) -> list[tuple[int, str]]:
    return [
        (event["status"], event["reason"])
        for event in logs.events()
        if event["event"] == "slack_request_refused"
    ]


@pytest.mark.parametrize(("what", "body", "content_type", "reason"), JUNK, ids=IDS)
async def test_a_signed_body_slack_does_not_send_gets_400_and_no_traceback(
    bot: Bot, logs: Logs, what: str, body: bytes, content_type: str, reason: str
) -> None:
    response = await bot.post(body, content_type=content_type)
    assert response.status == 400
    assert await response.text() == MALFORMED_TEXT
    assert refusals(logs) == [(400, reason)]
    logs.assert_clean(MARKER)
    assert bot.slack.calls == []  # bolt never saw it: not even an auth.test


@pytest.mark.parametrize(("what", "body", "content_type", "reason"), JUNK, ids=IDS)
async def test_the_same_body_unsigned_gets_401(
    bot: Bot, logs: Logs, what: str, body: bytes, content_type: str, reason: str
) -> None:
    response = await bot.post(body, content_type=content_type, signed=False)
    assert response.status == 401
    assert await response.text() == UNSIGNED_TEXT
    assert refusals(logs) == [(401, "unsigned")]
    logs.assert_clean(MARKER)


async def test_a_signature_over_other_bytes_is_refused_before_the_body_is_read(
    bot: Bot, logs: Logs
) -> None:
    stamp = str(int(time.time()))
    response = await bot.client.post(
        "/slack/events",
        data=f"text={MARKER}".encode() + b"\xff",
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SECRET, stamp, b"something else"),
        },
    )
    assert response.status == 401
    assert refusals(logs) == [(401, "bad_signature")]
    logs.assert_clean(MARKER)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}, "bad_timestamp"),
        ({"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}, "stale_timestamp"),
        ({"X-Slack-Signature": "v0=00"}, "unsigned"),
        ({"X-Slack-Request-Timestamp": str(int(time.time()))}, "unsigned"),
    ],
    ids=["timestamp not a number", "timestamp too old", "no timestamp", "no signature"],
)
async def test_broken_signing_headers_get_401(
    bot: Bot, logs: Logs, headers: dict[str, str], reason: str
) -> None:
    body = bot.command_body(MARKER)
    response = await bot.post(body, signed=False, headers=headers)
    assert response.status == 401
    assert refusals(logs) == [(401, reason)]
    logs.assert_clean(MARKER)


async def test_a_signed_slash_command_still_reaches_bolt(bot: Bot, logs: Logs) -> None:
    response = await bot.post(bot.command_body("help"))
    assert response.status == 200
    assert refusals(logs) == []
    await bot.slack.wait_for_responses(1)


def test_signatures_agree_with_slack_sdk_and_expire_after_five_minutes() -> None:
    body, stamp = "token=x&text=hi", "1700000000"
    signed = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(SECRET, stamp, body)}
    assert signature_problem(SECRET, body.encode(), signed, now=1700000000 + 300) is None
    assert signature_problem(SECRET, body.encode(), signed, now=1700000000 + 301) == (
        "stale_timestamp"
    )
    assert signature_problem("other", body.encode(), signed, now=1700000000) == "bad_signature"
    assert signature_problem("", body.encode(), signed, now=1700000000) == "no_signing_secret"
