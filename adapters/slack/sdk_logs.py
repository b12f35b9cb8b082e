"""The loggers slack-bolt and slack-sdk write to, kept free of what requests carry.

Their messages are free text that quotes requests: a refused signature logs the whole raw body
(prospect names, user ids, response_url), an unhandled request its type and values, a failed
listener its error and traceback. Our logs are events without personal data, so each of their
records keeps only its fixed part: the text before the first `(`, `:` or line break, where
they put what varies. What an operator needs survives as fields: the Slack API's error code
(`invalid_auth`) and the exception's type.

slack-bolt gives each of its components a logger of its own (`slack_bolt.<Class>`) and copies
the app's logger's filters onto it, so the filter on the app's logger covers them all.
"""

from __future__ import annotations

import logging
import re

_VARIABLE_PART = re.compile(r"[(:\n]")
_SLACK_ERROR = re.compile(r"""['"]error['"]: ['"]([a-z0-9_]{1,64})['"]""")
UNNAMED = "slack_sdk_message"  # a message that opens with what varies


class WithoutRequestData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a message and arguments that do not match: keep neither
            message = ""
        record.msg = fixed_part(message)
        record.args = None
        code = _SLACK_ERROR.search(message)
        if code is not None:
            record.slack_error = code.group(1)
        if record.exc_info:
            record.error = type(record.exc_info[1]).__name__
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def fixed_part(message: str) -> str:
    return _VARIABLE_PART.split(message, maxsplit=1)[0].strip() or UNNAMED


def quiet_logger(name: str) -> logging.Logger:
    """A logger for slack-sdk and slack-bolt that stays at INFO even when the root logs DEBUG
    (at DEBUG they log request and response bodies, and oauth.v2.access answers with a token),
    and whose records carry no request data."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET or logger.level < logging.INFO:
        logger.setLevel(logging.INFO)
    if not any(isinstance(existing, WithoutRequestData) for existing in logger.filters):
        logger.addFilter(WithoutRequestData())
    return logger
