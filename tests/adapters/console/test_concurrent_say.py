"""Check-ins typed in several terminals at once all count, on each store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from tests.conftest import delete_prefix, reachable_redis_url

VOICEMAIL_COACH = Path(sys.executable).with_name("voicemail-coach")
AT_ONCE = 6


@pytest.fixture(params=["sqlite", "redis"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a `voicemail-coach` run on each store in turn."""
    env = {**os.environ, "VOICEMAIL_COACH_DB": str(tmp_path / "coach.db")}
    env.pop("REDIS_URL", None)
    if request.param == "sqlite":
        yield env
        return
    url, prefix = reachable_redis_url(), f"vctest:{uuid4().hex}"
    try:
        yield {**env, "REDIS_URL": url, "VOICEMAIL_COACH_REDIS_PREFIX": prefix}
    finally:
        asyncio.run(delete_prefix(url, prefix))


def say(line: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(VOICEMAIL_COACH), "say", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_six_check_ins_at_once_make_six_dials_of_the_cycle(
    store_env: dict[str, str], tmp_path: Path
) -> None:
    say("/voicemail Pair One @ Duo", store_env, tmp_path)  # the store exists before the race
    line = "/voicemail log Pair One @ Duo skipped"
    runs = [
        subprocess.Popen(
            [str(VOICEMAIL_COACH), "say", line],
            env=store_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(AT_ONCE)
    ]
    for run in runs:
        _, errors = run.communicate(timeout=60)
        assert run.returncode == 0, errors
    history = say("/voicemail history Pair One @ Duo", store_env, tmp_path)
    assert f"{AT_ONCE} dials" in history
    assert history.count("hung up without a message") == AT_ONCE
