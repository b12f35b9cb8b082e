"""Log lines: JSON, written together, warnings at once, nothing lost when the process ends."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator

import pytest

from bot.logs import MAX_LINE_BYTES, MAX_VALUE_CHARS, BatchedStreamHandler, JsonFormatter


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, BatchedStreamHandler]]:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test.logs.{id(stream)}")
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


def formatted(event: str, **fields: object) -> str:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, event, None, None)
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
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
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
    assert document["level"] == "info" and document["logger"] == "test"
    assert "dropped_fields" in document or set(many) <= set(document)
