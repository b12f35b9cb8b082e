"""bench/soak.py, short: the service (web tier and two workers) on the real Redis under the
soak's mixed Slack and Teams traffic answers everything, with no 5xx, no apology and no reply
carrying another rep's marker, and leaves no key under its prefix."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import redis.asyncio

from bench._soak_traffic import SLACK, TEAMS
from bench.soak import Sent, Soak

ROOT = Path(__file__).resolve().parents[2]


async def keys_under(url: str, prefix: str) -> list[bytes]:
    client = redis.asyncio.Redis.from_url(url)
    try:
        return [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    finally:
        await client.aclose()


def test_a_short_soak_answers_everything_to_its_own_rep_and_cleans_up(
    redis_url: str, tmp_path: Path
) -> None:
    prefix = f"vctest-soak:{uuid.uuid4().hex}"
    figures = tmp_path / "soak.json"
    argv = [sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", "8", "--reps", "40"]
    argv += ["--tenants", "4", "--rate", "60", "--warm-up", "4", "--redis-url", redis_url]
    argv += ["--prefix", prefix, "--json", str(figures)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    report = json.loads(figures.read_text())
    assert report["server_errors"] == 0 and report["apologies"] == 0, output
    assert report["answers_missing"] == 0 and report["foreign_markers"] == 0, output
    assert report["answers_with_own_marker"] > 0, "the answers quote the reps' markers"
    for kind in ("command", "click", "retry", "fuzz"):
        for platform in (SLACK, TEAMS):
            assert report["sent"].get(f"{kind} {platform}", 0) > 0, f"no {kind} on {platform}"
    assert "target: answers missing = 0: met (0)" in done.stdout
    assert report["prefix_keys_left"] == 0
    assert asyncio.run(keys_under(redis_url, prefix)) == []


def test_an_answer_quoting_another_reps_marker_is_counted() -> None:
    soak = Soak(
        argparse.Namespace(reps=4, tenants=2, connections=1), "http://web", "http://fake", "token"
    )
    mine, theirs = soak.reps[0], soak.reps[1]
    record = Sent(soak.traffic.command(mine, "Jane Doe @ Acme", "command"), status=200)
    soak.judge(record, f"Jane Doe {mine.marker} @ Acme", inline=False)
    assert soak.tally.foreign_markers == 0 and soak.tally.own_markers == 1
    soak.judge(record, f"Jane Doe {theirs.marker} @ Acme", inline=False)
    assert soak.tally.foreign_markers == 1 and soak.tally.examples
