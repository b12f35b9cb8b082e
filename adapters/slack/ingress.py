"""What reaches slack-bolt over HTTP: signed, fresh requests whose body is one Slack sends.

slack-bolt parses a body while building its request (before it checks the signature), so junk
raised there: HTTP 500 and a traceback in the log, signed or not. Here the signature comes
first, checked on the raw bytes (401 if it is missing, stale or wrong), then the body must be
UTF-8 and either a JSON object (Events API) or a form (slash commands) whose `payload`, if any,
is a JSON object (interactivity); anything else is answered 400. A refusal logs its reason,
never the body.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger("voicemail_coach.slack")

MAX_AGE_SECONDS = 5 * 60  # Slack's rule: older (or that far in the future) is a replay
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# What bolt reads of a verified request's headers.
BOLT_HEADERS = (
    "Content-Type",
    TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
    "X-Slack-Retry-Num",
    "X-Slack-Retry-Reason",
)
UNSIGNED_TEXT = "This request is not signed by Slack."
MALFORMED_TEXT = "This request body is not one Slack sends."


class Refused(Exception):
    """A request that must not reach bolt: the HTTP status and a reason for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        text = UNSIGNED_TEXT if self.status == 401 else MALFORMED_TEXT
        return web.Response(status=self.status, text=text)


async def verified_bolt_request(
    request: web.Request, signing_secret: str, now: float | None = None
) -> AsyncBoltRequest:
    """The bolt request for a signed body Slack would send; raises Refused otherwise. The body
    is parsed once, here: bolt is given it parsed (it checks the signature again, in case a
    request ever reaches it another way)."""
    raw = await request.read()
    problem = signature_problem(
        signing_secret, raw, request.headers, time.time() if now is None else now
    )
    if problem is not None:
        raise Refused(401, problem)
    text = _utf8(raw)
    body = check_body(text, _content_type(request.headers))
    try:
        return _parsed_bolt_request(text, body, request)
    except Exception as error:  # a shape bolt's context extraction trips over
        raise Refused(400, f"unreadable_{type(error).__name__}") from None


def _parsed_bolt_request(text: str, body: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """What AsyncBoltRequest(body=text) would build, without parsing the body a second time.
    Its raw body stays the text (bolt verifies it, and copies a request from it). Only the
    headers bolt reads go in: a signed body needs no others."""
    headers: dict[str, str | Sequence[str]] = {
        name: value for name in BOLT_HEADERS if (value := request.headers.get(name))
    }
    bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=headers)
    bolt_request.raw_body = text
    bolt_request.body = body
    bolt_request.context = build_async_context(AsyncBoltContext({}), body)
    return bolt_request


def body_free_bolt_request(request: web.Request) -> AsyncBoltRequest:
    """For the OAuth pages (GET): bolt needs the query and the cookies, never a body."""
    return AsyncBoltRequest(body="", query=request.query_string, headers=_headers(request))


def signature_problem(
    signing_secret: str, raw: bytes, headers: Mapping[str, str], now: float
) -> str | None:
    """None if Slack signed `raw` within MAX_AGE_SECONDS of `now`, else why not. The HMAC is
    over the bytes, so a body that is not UTF-8 is judged by its signature first."""
    if not signing_secret:  # an empty HMAC key would accept anyone's signature
        return "no_signing_secret"
    stamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not stamp or not signature:
        return "unsigned"
    try:
        sent_at = int(stamp)
    except ValueError:
        return "bad_timestamp"
    if abs(now - sent_at) > MAX_AGE_SECONDS:
        return "stale_timestamp"
    base = b"v0:" + stamp.encode("utf-8", "replace") + b":" + raw
    expected = "v0=" + hmac.digest(signing_secret.encode(), base, "sha256").hex()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "bad_signature"
    return None


def check_body(text: str, content_type: str | None) -> dict[str, Any]:
    """The body as bolt reads it, or Refused(400) where bolt could not: JSON when the content
    type says so or the body opens with `{`, else a form, whose `payload` field (interactivity)
    is the JSON document itself. A form without one (a slash command) is its fields."""
    if not text:
        raise Refused(400, "empty_body")
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "body")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise Refused(400, "not_a_form") from None
    if "payload" in fields:
        return _json_object(fields["payload"], "payload")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Refused(400, f"{what}_not_json") from None
    except RecursionError:  # nesting deeper than the parser's stack
        raise Refused(400, f"{what}_too_deep") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what}_not_an_object")
    return value


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "not_utf8") from None


def _content_type(headers: Mapping[str, str]) -> str | None:
    """As bolt reads it: the header's value up to `;`, case kept."""
    value = headers.get("Content-Type")
    return value.split(";")[0] if value else None


def _headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    return dict(request.headers)


def log_refusal(refused: Refused) -> None:
    log.info("slack_request_refused", extra={"status": refused.status, "reason": refused.reason})
