"""A fake Slack Web API on loopback, our real server with the Slack channel, signed requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from bot.config import Config
from bot.logs import JsonFormatter
from bot.server import SERVICES, Services, create_app
from tests.conftest import delete_prefix

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
    fail_methods: set[str] = field(default_factory=set)
    # OAuth: the app credentials oauth.v2.access accepts, the team it installs into, and the
    # bot tokens it has issued (auth.test answers for their team).
    client_id: str = "111.222"
    client_secret: str = "test-client-secret"
    install_team: str = "T9"
    installed: dict[str, str] = field(default_factory=dict)

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/respond/{name}"

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    async def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        calls = self.calls_to(method)
        assert len(calls) >= count, f"{len(calls)} calls to {method}, wanted {count}"
        return calls

    async def wait_for_responses(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.responses) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(self.responses) >= count, f"{len(self.responses)} responses, wanted {count}"
        return self.responses


def _answer(fake: FakeSlack, method: str, args: dict[str, Any], auth: str = "") -> dict[str, Any]:
    if method in fake.fail_methods:
        return {"ok": False, "error": "channel_not_found"}
    if method == "oauth.v2.access":
        return _oauth_v2_access(fake, args, auth)
    if method == "auth.test" and auth.removeprefix("Bearer ") in fake.installed:
        team = fake.installed[auth.removeprefix("Bearer ")]
        return {"ok": True, "team_id": team, "user_id": f"UBOT{team}", "bot_id": f"B{team}",
                "team": "Acme Sales", "url": "https://acme-sales.slack.com/",
                "is_enterprise_install": False}  # fmt: skip
    if method == "apps.connections.open":  # Slack is out of reach in tests: Socket Mode fails
        return {"ok": False, "error": "invalid_auth"}
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


def _oauth_v2_access(fake: FakeSlack, args: dict[str, Any], auth: str) -> dict[str, Any]:
    """A realistic oauth.v2.access answer for a bot-scope install (no user scopes)."""
    expected = (
        "Basic " + base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    )
    if auth != expected:
        return {"ok": False, "error": "invalid_client_id"}
    if not str(args.get("code") or "").startswith("code-"):
        return {"ok": False, "error": "invalid_code"}
    team = fake.install_team
    token = f"xoxb-{team}-{len(fake.installed) + 1}-installed"
    fake.installed[token] = team
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "U-installer"},
        "scope": "commands,chat:write,im:write,users:read",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": f"UBOT{team}",
        "team": {"id": team, "name": "Acme Sales"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


async def fake_slack_app(fake: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args |= await request.json()
        elif request.method == "POST":
            args |= dict(await request.post())
        fake.calls.append((method, args))
        auth = request.headers.get("Authorization", "")
        return web.json_response(_answer(fake, method, args, auth))

    async def respond(request: web.Request) -> web.Response:
        fake.responses.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/respond/{name}", respond)
    return app


@asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    server = TestServer(await fake_slack_app(fake), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        yield fake


@asynccontextmanager
async def serving(config: Config, fake: FakeSlack) -> AsyncIterator[Bot]:
    """Our server on `config`, with the Slack adapter talking to `fake`."""
    app = await create_app(config)
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
