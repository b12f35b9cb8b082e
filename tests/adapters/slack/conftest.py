"""A fake Slack Web API on loopback, our real server with the Slack channel, signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from bot.adapters import Adapter
from bot.config import Config
from bot.logs import JsonFormatter
from bot.server import SERVICES, Services, create_app
from tests.conftest import delete_prefix
from tests.fakes.slack_api import FakeSlack, serving_fake_slack

__all__ = ["FakeSlack"]

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlack]:
    async with serving_fake_slack() as fake:
        yield fake


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        yield fake


@asynccontextmanager
async def serving(
    config: Config, fake: FakeSlack, adapters: list[Adapter] | None = None
) -> AsyncIterator[Bot]:
    """Our server on `config` (with every installed adapter, or `adapters`), the Slack adapter
    talking to `fake`."""
    app = await create_app(config, adapters=adapters)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(client, fake)
    finally:
        await client.close()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> FakeSlack:
    use_fake_slack(monkeypatch, fake_slack)
    return fake_slack


def use_fake_slack(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack) -> None:
    """One workspace over HTTP, its Web API the fake."""
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.url + "/api/")


@dataclass
class Bot:
    client: TestClient[web.Request, web.Application]
    slack: FakeSlack

    @property
    def services(self) -> Services:
        app = self.client.app
        assert app is not None
        return app[SERVICES]

    async def post(
        self,
        body: str | bytes,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        signed: bool = True,
    ) -> Any:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signing = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(secret, stamp, body),
        }
        return await self.client.post(
            "/slack/events",
            data=body.encode() if isinstance(body, str) else body,
            headers={
                "Content-Type": content_type,
                **(signing if signed else {}),
                **(headers or {}),
            },
        )

    def command_body(self, text: str, *, team: str = "T1", user: str = "U1", n: int = 1) -> str:
        return urlencode(
            {
                "token": "legacy",
                "team_id": team,
                "team_domain": "acme",
                "channel_id": "C1",
                "user_id": user,
                "user_name": "rita",
                "command": "/voicemail",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.slack.response_url(f"cmd{n}"),
                "trigger_id": f"trigger-{team}-{user}-{n}",
            }
        )

    def click_body(
        self, button: dict[str, Any], *, team: str = "T1", user: str = "U1", ts: str = "1.1"
    ) -> str:
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A1",
            "trigger_id": f"click-{ts}",
            "response_url": self.slack.response_url(f"click{ts}"),
            "container": {"type": "message", "is_ephemeral": True},
            "actions": [
                {
                    "type": "button",
                    "block_id": "b1",
                    "action_id": button["action_id"],
                    "value": button["value"],
                    "text": button["text"],
                    "action_ts": ts,
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)})


def sign(secret: str, stamp: str, body: str | bytes) -> str:
    """Slack's signature: slack_sdk's own for text; for bytes that are not UTF-8 (which
    slack_sdk cannot sign), the same HMAC over the raw bytes."""
    if isinstance(body, str):
        return str(SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return f"v0={digest.hexdigest()}"


@dataclass
class Logs:
    """Every record logged during a test, at DEBUG and up, as the service writes it (JSON)."""

    caplog: pytest.LogCaptureFixture

    def lines(self) -> list[str]:
        formatter = JsonFormatter()
        return [formatter.format(record) for record in self.caplog.records]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def assert_clean(self, *markers: str) -> None:
        """No traceback and none of `markers` (text only a request body carried) in any line."""
        for record, line in zip(self.caplog.records, self.lines(), strict=True):
            assert record.exc_info is None and "Traceback" not in line, line[:500]
            for marker in markers:
                assert marker not in line, line[:500]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Logs:
    caplog.set_level(logging.DEBUG)
    return Logs(caplog)


@pytest.fixture
async def bot(slack_env: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    async with serving(Config(db_path=str(tmp_path / "t.db")), slack_env) as running:
        yield running


@pytest.fixture
async def redis_bot(slack_env: FakeSlack, redis_url: str) -> AsyncIterator[Bot]:
    """The same server on the real Redis, under a key prefix of its own, deleted afterwards."""
    prefix = f"vctest:{uuid.uuid4().hex}"
    try:
        async with serving(Config(redis_url=redis_url, redis_prefix=prefix), slack_env) as running:
            yield running
    finally:
        await delete_prefix(redis_url, prefix)


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, tmp_path: Path) -> FakeSlack:
    """Many workspaces over OAuth, against the fake Slack."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_REDIRECT_URI", "SLACK_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # where bolt's file stores would go: unused
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_CLIENT_ID", fake_slack.client_id)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", fake_slack.client_secret)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url + "/api/")
    return fake_slack
