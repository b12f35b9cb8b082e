"""Log lines: JSON, written together, warnings at once, nothing lost when the process ends."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from bot.logs import BatchedStreamHandler, JsonFormatter


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
