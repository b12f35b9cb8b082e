"""Structured logs: one JSON object a line, an event name and fields, never personal data."""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import TextIO

import msgspec
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_ENCODER = msgspec.json.Encoder(enc_hook=str)
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SCALARS = (int, float, bool, type(None))

# Every line is bounded, whatever a library puts in a message: a forged 1 MB request must not
# become a 1 MB line. A value longer than MAX_VALUE_CHARS keeps its start and its end (where a
# traceback names the error) around a mark; a line still over MAX_LINE_BYTES keeps only the
# event, cut, and says how many fields it dropped (at most 6 bytes a character once escaped,
# so that line fits).
MAX_VALUE_CHARS = 2000
MAX_LINE_BYTES = 16 * 1024
MAX_LOGGER_CHARS = 200

# Our own loggers log events (a name and fields, ids only). Every other library's records are
# free text that can quote what it handled: a job's contents (taskiq), an OAuth code
# (slack-bolt), a request body. Of those only the fixed part is logged: the message's template
# up to where a value usually starts, never its arguments, extra fields or traceback.
OUR_LOGGERS = "voicemail_coach"
_VARIABLE_PART = re.compile(r"""[(:\n'"\[{=%<]""")
MAX_FIXED_CHARS = 120
UNNAMED = "library_message"  # a message that opens with what varies


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = self._ours(record) if is_ours(record) else self._third_party(record)
        try:
            line = _encode_bounded(document)
        except UnicodeEncodeError:  # a lone surrogate (text decoded with surrogateescape)
            line = _encode_bounded({name: _valid_text(value) for name, value in document.items()})
        return line.decode()

    def _ours(self, record: logging.LogRecord) -> dict[str, object]:
        document = self._head(record, record.getMessage())
        document |= {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return document

    def _third_party(self, record: logging.LogRecord) -> dict[str, object]:
        document = self._head(record, fixed_part(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            document["error"] = type(record.exc_info[1]).__name__
        return document

    def _head(self, record: logging.LogRecord, event: str) -> dict[str, object]:
        return {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event,
        }


def is_ours(record: logging.LogRecord) -> bool:
    name = record.name or ""
    return name == OUR_LOGGERS or name.startswith(OUR_LOGGERS + ".")


def fixed_part(message: object) -> str:
    """A library's message without what varies: its template (never interpolated) up to the
    first mark where a value usually starts; a message that is not text, by its type."""
    if not isinstance(message, str):
        return type(message).__name__
    fixed = _VARIABLE_PART.split(message, maxsplit=1)[0].strip()
    return cut(fixed, MAX_FIXED_CHARS) if fixed else UNNAMED


def _encode_bounded(document: dict[str, object]) -> bytes:
    line = _ENCODER.encode({name: bounded(value) for name, value in document.items()})
    if len(line) > MAX_LINE_BYTES:
        line = _ENCODER.encode(_essentials(document))
    return line


def cut(text: str, most: int = MAX_VALUE_CHARS) -> str:
    """`text` if it has at most `most` characters, else its start and end around a mark
    saying how much was cut, `most` characters in all."""
    if len(text) <= most:
        return text
    mark = f"...[cut: {len(text)} chars in all]..."
    kept = max(most - len(mark), 0)
    end = kept // 4
    return text[: kept - end] + mark + (text[-end:] if end else "")


def bounded(value: object) -> object:
    """A field's value as logged: strings cut, numbers kept, anything else cut as JSON."""
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, _SCALARS):
        return value
    text = _ENCODER.encode(value).decode()
    return value if len(text) <= MAX_VALUE_CHARS else cut(text)


def _valid_text(value: object) -> object:
    if isinstance(value, _SCALARS):
        return value
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "replace").decode()


def _essentials(document: dict[str, object]) -> dict[str, object]:
    kept = ("at", "level", "logger", "event")
    return {
        "at": document["at"],
        "level": document["level"],
        "logger": cut(str(document["logger"]), MAX_LOGGER_CHARS),
        "event": cut(str(document["event"])),
        "dropped_fields": len([name for name in document if name not in kept]),
    }


def configure(level: str = "INFO") -> None:
    # Our lines carry no source line, thread or process: skip gathering them for each record
    # (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BatchedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(level)


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes its lines together, at most FLUSH_SECONDS after they were logged: a write (and
    system call) per line was a tenth of the web tier's CPU time under load. Warnings and
    errors are written at once, and whatever is left when the process exits (logging flushes
    its handlers then)."""

    FLUSH_SECONDS = 0.5
    MOST_LINES = 512

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._flush_now_and_then, name="log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]
            self._lines.append(line)
            full = len(self._lines) >= self.MOST_LINES
        if full or record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if not self._lines:
                return
            text = "\n".join(self._lines) + "\n"
            self._lines.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # the stream is gone: nothing left to tell
                pass

    def close(self) -> None:
        self._stopped.set()
        self.flush()
        super().close()

    def _flush_now_and_then(self) -> None:
        while not self._stopped.wait(self.FLUSH_SECONDS):
            self.flush()


_HTTP_LOG = logging.getLogger("voicemail_coach.http")
HTTP_FAILED = 400
SLOW_SECONDS = 1.0


class AccessLogger(AbstractAccessLogger):
    """One event per request that failed (status 400 or above) or was slow (SLOW_SECONDS):
    the path without its query, which can carry OAuth codes. Every request is counted in
    /metrics by route and status; a line for each of thousands a second would cost the web
    tier more than its answers. On a logger of ours: aiohttp's own (aiohttp.access) would have
    its fields dropped."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if response.status < HTTP_FAILED and time < SLOW_SECONDS:
            return
        _HTTP_LOG.info(
            "http",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round(time * 1000, 1),
            },
        )
