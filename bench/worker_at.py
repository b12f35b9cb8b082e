"""`python -m bench.worker_at ISO worker --port N`: the real `voicemail-coach` command,
its clock set to start at ISO and run on from there.

Scheduled sends fall due on business days at a recipient's local time: a benchmark or a test
of the workers that send them must not depend on the day it happens to run.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from functools import partial

from bot import cli, server
from bot.coach import Clock


def clock_from(start: datetime) -> Clock:
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def main(argv: list[str]) -> int:
    start, command = datetime.fromisoformat(argv[0]), argv[1:]
    server.create_app = partial(server.create_app, clock=clock_from(start))
    return cli.main(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
