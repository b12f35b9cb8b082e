"""Log lines: JSON, written together, warnings at once, nothing lost when the process ends."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.config import Config
from bot.jobs import job_key
from bot.logs import (
    MAX_LINE_BYTES,
    MAX_VALUE_CHARS,
    AccessLogger,
    BatchedStreamHandler,
    JsonFormatter,
)
from bot.streams import mac_of
from tests.bot.test_jobs import Worker
from tests.conftest import delete_prefix


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, BatchedStreamHandler]]:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"voicemail_coach.test.logs.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield logger, stream, handler
    logger.removeHandler(handler)
    handler.close()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_info_lines_are_written_together_within_the_flush_interval(
    logged: tuple[logging.Logger, io.StringIO, BatchedStreamHandler],
) -> None:
    logger, stream, _ = logged
    for number in range(3):
        logger.info("http", extra={"path": "/slack/events", "n": number})
    deadline = time.monotonic() + 5 * BatchedStreamHandler.FLUSH_SECONDS
    while len(lines(stream)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [line["n"] for line in lines(stream)] == [0, 1, 2]
    assert lines(stream)[0]["event"] == "http" and lines(stream)[0]["level"] == "info"


def test_a_warning_is_written_at_once_with_what_came_before(
    logged: tuple[logging.Logger, io.StringIO, BatchedStreamHandler],
) -> None:
    logger, stream, _ = logged
    logger.info("first")
    logger.warning("not_ready", extra={"store": "redis"})
    assert [line["event"] for line in lines(stream)] == ["first", "not_ready"]


def test_closing_writes_what_is_left(
    logged: tuple[logging.Logger, io.StringIO, BatchedStreamHandler],
) -> None:
    logger, stream, handler = logged
    logger.info("last words")
    handler.close()
    assert [line["event"] for line in lines(stream)] == ["last words"]


OURS = "voicemail_coach.test"


def formatted(event: str, **fields: object) -> str:
    record = logging.LogRecord(OURS, logging.INFO, __file__, 1, event, None, None)
    record.__dict__.update(fields)
    return JsonFormatter().format(record)


def test_a_one_megabyte_message_becomes_a_bounded_line_that_marks_the_cut() -> None:
    body = "start-" + "x" * 1_000_000 + "-end"
    message = f"Invalid request (body: {body})"
    line = formatted(message)
    assert len(line.encode()) <= MAX_LINE_BYTES
    event = json.loads(line)["event"]
    assert len(event) <= MAX_VALUE_CHARS
    assert event.startswith("Invalid request (body: start-") and event.endswith("-end)")
    assert f"[cut: {len(message)} chars in all]" in event


def test_a_long_traceback_keeps_its_start_and_the_error_at_its_end() -> None:
    try:
        raise ValueError("x" * 50_000 + " the reason")
    except ValueError:
        record = logging.makeLogRecord({"name": OURS, "msg": "failed", "exc_info": sys.exc_info()})
    document = json.loads(JsonFormatter().format(record))
    assert document["error"].startswith("Traceback (most recent call last)")
    assert document["error"].endswith("the reason")
    assert len(document["error"]) <= MAX_VALUE_CHARS


def test_long_fields_are_cut_and_short_ones_kept() -> None:
    line = json.loads(formatted("http", path="/p" * 5000, status=401, ids=list(range(5000))))
    assert line["status"] == 401
    assert len(line["path"]) <= MAX_VALUE_CHARS and "chars in all" in line["path"]
    assert isinstance(line["ids"], str) and "chars in all" in line["ids"]
    assert json.loads(formatted("http", ids=[1, 2]))["ids"] == [1, 2]


@pytest.mark.parametrize("character", ["\x01", "😀", '"', "\ud800"], ids=repr)
def test_no_line_is_over_the_bound_whatever_its_characters_and_fields(character: str) -> None:
    many = {f"field{n}": character * 5000 for n in range(20)}
    line = formatted(character * 1_000_000, **many)
    assert len(line.encode()) <= MAX_LINE_BYTES
    document = json.loads(line)
    assert document["level"] == "info" and document["logger"] == OURS
    assert "dropped_fields" in document or set(many) <= set(document)


MARKER = "Zoe-Marker-555-0199"
# Every third-party logger the service's libraries write to.
THIRD_PARTY_LOGGERS = [
    "taskiq.receiver.receiver",
    "taskiq.receiver",
    "taskiq_redis.redis_broker",
    "slack_bolt.oauth.async_oauth_flow",
    "slack_bolt.AsyncApp",
    "slack_sdk.web.async_base_client",
    "slack_sdk.socket_mode.aiohttp",
    "botbuilder.core.bot_framework_adapter",
    "botframework.connector",
    "msrest.http_logger",
    "msal.application",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.client",
    "redis.asyncio.connection",
    "asyncio",
]


def third_party_records(name: str) -> list[logging.LogRecord]:
    """What these libraries log: the contents as arguments, in an f-string, in a traceback,
    in a stack, in extra fields."""
    try:
        raise ValueError(f"bad message {MARKER}")
    except ValueError:
        exc_info = sys.exc_info()
    made = [
        ("Cannot parse message: %s. Skipping execution.\n %s", (MARKER, "error"), None),
        (f"Failed to fetch oauth.v2.access result with code: {MARKER} - error: x", None, None),
        ("Exception found while executing function.", None, exc_info),
        (ValueError(MARKER), None, None),
        (f"Unexpected 'response' {MARKER}", None, None),
    ]
    records = [
        logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, exc)
        for msg, args, exc in made
    ]
    with_extra = logging.LogRecord(name, logging.ERROR, __file__, 1, "failed", None, None)
    with_extra.__dict__.update(body=MARKER, stack_info=f"Stack (most recent call last): {MARKER}")
    return [*records, with_extra]


@pytest.mark.parametrize("name", THIRD_PARTY_LOGGERS)
def test_no_third_party_record_carries_contents_into_the_log(name: str) -> None:
    for record in third_party_records(name):
        line = JsonFormatter().format(record)
        assert MARKER not in line, line
        document = json.loads(line)
        assert document["logger"] == name and document["event"]
        assert "Traceback" not in line


def test_a_third_party_record_keeps_its_fixed_text_and_the_type_of_its_error() -> None:
    try:
        raise ConnectionError(MARKER)
    except ConnectionError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "taskiq.receiver.receiver", logging.ERROR, __file__, 1, "Cannot parse message: %s",
        (MARKER,), exc_info,
    )  # fmt: skip
    document = json.loads(JsonFormatter().format(record))
    assert document["event"] == "Cannot parse message"
    assert document["error"] == "ConnectionError"


def test_our_own_events_keep_their_fields_and_tracebacks() -> None:
    try:
        raise ValueError("the reason")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "voicemail_coach.jobs", "msg": "job_failed", "exc_info": sys.exc_info()}
        )
    record.__dict__.update(tenant="T1", user="U1")
    document = json.loads(JsonFormatter().format(record))
    assert document["event"] == "job_failed"
    assert (document["tenant"], document["user"]) == ("T1", "U1")
    assert "the reason" in document["error"]


def test_a_taskiq_record_reaching_the_root_handler_loses_its_contents() -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("taskiq.receiver.receiver").warning(
            "Cannot parse message: %s. Skipping execution.\n %s", MARKER.encode(), "x",
            exc_info=True,
        )  # fmt: skip
    finally:
        root.removeHandler(handler)
        handler.close()
    assert "Cannot parse message" in stream.getvalue()
    assert MARKER not in stream.getvalue()


async def test_a_job_message_taskiq_cannot_parse_is_logged_without_its_contents(
    redis_url: str,
) -> None:
    """The real path: a signed entry whose message is not a job, read by a worker."""
    prefix = f"vctest:{uuid4().hex}"
    config = Config(redis_url=redis_url, redis_prefix=prefix)
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    worker = await Worker(config, "w").start()
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        data = f'{{"task_name": "x", "args": ["{MARKER}"'.encode()  # cut short: not JSON
        await client.xadd(f"{prefix}:jobs", {"data": data, "mac": mac_of(job_key()[0], data)})
        deadline = time.monotonic() + 5
        while "Cannot parse message" not in stream.getvalue():
            assert time.monotonic() < deadline, stream.getvalue()
            handler.flush()
            await asyncio.sleep(0.02)
    finally:
        await worker.close()
        await client.aclose()
        logging.getLogger().removeHandler(handler)
        handler.close()
        await delete_prefix(redis_url, prefix)
    assert MARKER not in stream.getvalue()
    assert "Traceback" not in stream.getvalue()


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="voicemail_coach.http"):
        yield caplog


def _request_answered(status: int, seconds: float, path: str = "/slack/events") -> None:
    request = make_mocked_request("POST", path)
    AccessLogger(logging.getLogger("aiohttp.access"), "").log(
        request, web.Response(status=status), seconds
    )


def test_a_failed_request_is_logged_by_its_path_without_the_query(
    access_log: pytest.LogCaptureFixture,
) -> None:
    _request_answered(404, 0.002, "/slack/oauth_redirect?code=secret-oauth-code")
    [record] = access_log.records
    fields = record.__dict__
    assert (record.msg, fields["status"], fields["path"]) == ("http", 404, "/slack/oauth_redirect")
    assert "secret-oauth-code" not in repr(fields)


def test_a_slow_answer_is_logged_and_a_quick_one_only_counted(
    access_log: pytest.LogCaptureFixture,
) -> None:
    _request_answered(200, 0.004)
    _request_answered(200, 1.5)
    logged = [(record.__dict__["status"], record.__dict__["ms"]) for record in access_log.records]
    assert logged == [(200, 1500.0)]
