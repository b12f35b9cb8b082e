"""The fake Slack as a process of its own, as the multi-process tests and the benchmark start
it: what it records, and its 429s, through the Slack adapter's own direct delivery."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import BotClients, SlackDelivery
from adapters.slack.responses import ResponseUrls
from bot.adapters import Address, Delivery
from bot.types import Reply

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fake_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    record = tmp_path / "posted.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.slack_api", "--port", "0", "--record", str(record),
         "--rate-limit-every", "4", "--retry-after", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1], record
    finally:
        process.terminate()
        assert process.wait(10) == 0


def nudge(n: int) -> Reply:
    return Reply(heading="Due today", ref=f"nudge:{n}")


async def test_each_message_is_recorded_once_though_some_are_rate_limited(
    fake_process: tuple[str, Path],
) -> None:
    url, record = fake_process
    client = AsyncWebClient(token="xoxb-test", base_url=f"{url}/api/")
    delivery = SlackDelivery(ResponseUrls(), BotClients(client, None, f"{url}/api/"))
    try:
        await asyncio.gather(
            *(
                delivery.send(nudge(n), Address("slack", "T1", f"U{n}"), Delivery.DIRECT)
                for n in range(12)
            )
        )
    finally:
        await delivery.clients.close()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(line["ref"] for line in lines) == sorted(f"nudge:{n}" for n in range(12))
    assert {line["channel"] for line in lines} == {f"D{n}" for n in range(12)}
    assert {line["user"] for line in lines} == {f"U{n}" for n in range(12)}
