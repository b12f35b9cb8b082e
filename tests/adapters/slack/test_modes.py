"""Which mode the environment selects, and Socket Mode's life with the server.

Slack is out of reach, so Socket Mode cannot connect here: the fake apps.connections.open
answers ok:false. What is tested is that the server starts anyway, keeps serving, logs the
failure (without the token), and closes the Socket Mode client when it stops.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.app import SlackAdapter
from bot.adapters import AdapterStatus
from bot.config import Config
from bot.server import Tier, build_services, create_app
from bot.store import SQLiteStore
from tests.adapters.slack.conftest import SECRET, TOKEN, FakeSlack

APP_TOKEN = "xapp-1-A1-test-app-token"
NAMES = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET",
         "SLACK_APP_TOKEN", "SLACK_API_URL")  # fmt: skip


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


async def _mounted(tmp_path: Path) -> tuple[AdapterStatus, set[str], web.Application]:
    store = await SQLiteStore.open(tmp_path / "modes.db")
    config = Config(db_path=str(tmp_path / "modes.db"))
    app = web.Application()
    try:
        status = SlackAdapter().mount(app, build_services(config, store, Tier.ALL, []))
    finally:
        await store.close()
    routes = {route.resource.canonical for route in app.router.routes() if route.resource}
    return status, routes, app


async def test_one_workspace_over_http(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _env(monkeypatch, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN=TOKEN)
    status, routes, _ = await _mounted(tmp_path)
    assert status.enabled and status.why == "one workspace over HTTP at POST /slack/events"
    assert routes == {"/slack/events"}


async def test_oauth_mounts_install_and_redirect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env(monkeypatch, SLACK_SIGNING_SECRET=SECRET, SLACK_CLIENT_ID="1.2",
         SLACK_CLIENT_SECRET="client-secret", SLACK_BOT_TOKEN=TOKEN)  # fmt: skip
    status, routes, _ = await _mounted(tmp_path)
    assert status.enabled and "OAuth" in status.why
    assert "SLACK_BOT_TOKEN unused" in status.why
    assert routes == {"/slack/events", "/slack/install", "/slack/oauth_redirect"}
    assert "client-secret" not in status.why and TOKEN not in status.why


async def test_half_an_oauth_setup_stays_one_workspace_and_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env(monkeypatch, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN=TOKEN, SLACK_CLIENT_ID="1.2")
    status, routes, _ = await _mounted(tmp_path)
    assert status.enabled and status.why.startswith("one workspace over HTTP")
    assert "OAuth also needs SLACK_CLIENT_SECRET" in status.why
    assert routes == {"/slack/events"}


async def test_socket_mode_needs_no_route_and_connects_only_once_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # Everything set: the app token wins (development), the OAuth pair goes unused.
    _env(monkeypatch, SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=TOKEN,
         SLACK_SIGNING_SECRET=SECRET, SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="client-secret",
         SLACK_API_URL=fake_slack.url + "/api/")  # fmt: skip
    status, routes, app = await _mounted(tmp_path)
    assert status.enabled and "Socket Mode" in status.why
    assert "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET unused in Socket Mode" in status.why
    assert APP_TOKEN not in status.why and "client-secret" not in status.why
    assert routes == set()
    assert len(app.cleanup_ctx) == 1  # connects on startup, closes on cleanup
    assert fake_slack.calls == []  # building the app connects nothing


async def test_socket_mode_without_a_bot_token_is_disabled_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env(monkeypatch, SLACK_APP_TOKEN=APP_TOKEN)
    status, routes, _ = await _mounted(tmp_path)
    assert not status.enabled and routes == set()
    assert "Socket Mode also needs SLACK_BOT_TOKEN" in status.why
    assert APP_TOKEN not in status.why


async def test_socket_mode_failing_to_connect_leaves_the_server_serving(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _env(monkeypatch, SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=TOKEN,
         SLACK_API_URL=fake_slack.url + "/api/")  # fmt: skip
    app = await create_app(Config(db_path=str(tmp_path / "t.db")))
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        await fake_slack.wait_for_calls("apps.connections.open")
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 200
        assert (await client.post("/slack/events", data=b"{}")).status == 404
    finally:
        await client.close()
    failures = [r for r in caplog.records if r.getMessage() == "Failed to retrieve WSS URL"]
    assert failures and failures[0].__dict__["slack_error"] == "invalid_auth"
    assert any(r.getMessage() == "socket_mode_closed" for r in caplog.records)
    for record in caplog.records:
        assert APP_TOKEN not in f"{record.getMessage()} {record.__dict__}"
        assert TOKEN not in f"{record.getMessage()} {record.__dict__}"
