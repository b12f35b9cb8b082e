"""A fake Slack Web API on loopback, our real server with the Slack channel, signed requests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from bot.config import Config
from bot.server import SERVICES, Services, create_app

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@dataclass
class FakeSlack:
    """Records every Web API call and every message posted to a response_url."""

    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    admins: set[str] = field(default_factory=set)
    fail_users_info: bool = False

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/respond/{name}"

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    async def wait_for_responses(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.responses) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(self.responses) >= count, f"{len(self.responses)} responses, wanted {count}"
        return self.responses


def _answer(fake: FakeSlack, method: str, args: dict[str, Any]) -> dict[str, Any]:
    if method == "auth.test":
        return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1", "team": "t"}
    if method == "users.info":
        if fake.fail_users_info:
            return {"ok": False, "error": "user_not_found"}
        user = str(args.get("user"))
        admin = user in fake.admins
        return {
            "ok": True,
            "user": {
                "id": user,
                "name": "rita",
                "real_name": "Rita Rep",
                "tz": "America/New_York",
                "is_admin": admin,
                "is_owner": False,
                "profile": {"real_name": "Rita Rep", "phone": "+1 555 010 0199"},
            },
        }
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": "D1"}}
    if method in ("chat.postMessage", "chat.postEphemeral"):
        return {"ok": True, "channel": "D1", "ts": "1.000001"}
    return {"ok": True}


async def _fake_app(fake: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args |= await request.json()
        elif request.method == "POST":
            args |= dict(await request.post())
        fake.calls.append((method, args))
        return web.json_response(_answer(fake, method, args))

    async def respond(request: web.Request) -> web.Response:
        fake.responses.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/respond/{name}", respond)
    return app


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    server = TestServer(await _fake_app(fake), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> FakeSlack:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url + "/api/")
    return fake_slack


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
        body: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> Any:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = str(SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body))
        return await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
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


@pytest.fixture
async def bot(slack_env: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    app = await create_app(Config(db_path=str(tmp_path / "t.db")))
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(client, slack_env)
    finally:
        await client.close()


@pytest.fixture
async def bot_with_extras(
    slack_env: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Bot]:
    """SLACK_CLIENT_ID/SECRET would switch slack-bolt to OAuth by itself; we stay on the token."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "shh")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    caplog.set_level("INFO", logger="voicemail_coach.server")
    app = await create_app(Config(db_path=str(tmp_path / "t.db")))
    whys = [getattr(r, "why", "") for r in caplog.records if getattr(r, "channel", "") == "slack"]
    assert any("OAuth" in why and "Socket Mode" in why for why in whys)
    assert all("shh" not in why for why in whys)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(client, slack_env)
    finally:
        await client.close()


@pytest.fixture
async def redis_bot(slack_env: FakeSlack) -> AsyncIterator[Bot]:
    """The same server on Redis (127.0.0.1:6379), under a throwaway key prefix."""
    import uuid

    from redis.asyncio import Redis

    url = "redis://127.0.0.1:6379/0"
    prefix = f"vc-test-slack-{uuid.uuid4().hex[:8]}"
    probe = Redis.from_url(url)
    try:
        await probe.ping()
    except Exception as error:
        await probe.aclose()
        pytest.skip(f"no Redis at {url}: {type(error).__name__}")
    app = await create_app(Config(redis_url=url, redis_prefix=prefix))
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(client, slack_env)
    finally:
        await client.close()
        keys = [key async for key in probe.scan_iter(match=f"{prefix}*")]
        if keys:
            await probe.delete(*keys)
        await probe.aclose()
