"""OAuth end to end, on SQLite and on Redis: install, authorize from the store, uninstall.

The fake Slack answers oauth.v2.access (checking the client id and secret) and auth.test for
the tokens it issued; installations and states land in the store under test.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.installations import BOT, INSTALLATION
from adapters.slack.modes import NOT_INSTALLED, SCOPES
from bot.config import Config
from bot.records import prospect_key
from bot.server import create_app
from bot.store import Store
from tests.adapters.slack.conftest import SECRET, Bot, FakeSlack, Logs
from tests.adapters.slack.test_oauth_state import stored_count

TEAM = "T9"
COOKIE = "slack-app-oauth-state"
ASK = "Jane Doe @ Acme referred by Tom"
MARKER = "Jane-MARKER-Doe"  # text only a request carried
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def oauth_bot(
    oauth_env: FakeSlack, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Bot]:
    caplog.set_level(logging.DEBUG)  # even so, no token or secret may reach a log
    app = await create_app(Config(db_path=str(tmp_path / "unused.db")), store=store)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(client, oauth_env)
    finally:
        await client.close()
    leaked = [
        record.name
        for record in caplog.records
        if any(
            secret in f"{record.getMessage()} {record.__dict__}"
            for secret in (oauth_env.client_secret, SECRET, "xoxb-")
        )
    ]
    assert leaked == []
    assert not (tmp_path / ".bolt-app-installation").exists()


async def start_install(bot: Bot) -> str:
    """GET /slack/install: the page links to Slack's authorize URL with a stored state."""
    bot.client.session.cookie_jar.clear()
    response = await bot.client.get("/slack/install", allow_redirects=False)
    assert response.status == 200
    match = re.search(r'<a href="([^"]+)"', await response.text())
    assert match is not None
    link = urlsplit(html.unescape(match.group(1)))
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{bot.slack.url}/oauth/v2/authorize"
    query = parse_qs(link.query)
    assert query["client_id"] == [bot.slack.client_id]
    assert set(query["scope"][0].split(",")) == set(SCOPES)
    state = query["state"][0]
    assert f"{COOKIE}={state};" in response.headers["Set-Cookie"]
    return state


async def finish_install(bot: Bot, state: str, code: str = "code-1", cookie: bool = True) -> Any:
    """Slack sends the installer's browser back with a code and the state."""
    headers = {"Cookie": f"{COOKIE}={state}"} if cookie else {}
    return await bot.client.get(
        "/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers=headers,
        allow_redirects=False,
    )


async def install(bot: Bot) -> str:
    """A whole install; returns the bot token the fake issued."""
    response = await finish_install(bot, await start_install(bot))
    assert response.status == 200, await response.text()
    return [token for token, team in bot.slack.installed.items() if team == TEAM][-1]


async def ask(bot: Bot, *, team: str = TEAM, text: str = "help") -> dict[str, Any]:
    before = len(bot.slack.responses)
    response = await bot.post(bot.command_body(text, team=team, n=before + 1))
    assert response.status == 200
    return (await bot.slack.wait_for_responses(before + 1))[before]


def event_body(event: dict[str, Any], *, team: str = TEAM, event_id: str = "Ev1") -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "event": {"event_ts": "1700000000.000100", **event},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "authorizations": [
                {"enterprise_id": None, "team_id": team, "user_id": f"UBOT{team}",
                 "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )  # fmt: skip


async def post_event(bot: Bot, event: dict[str, Any], **where: Any) -> None:
    response = await bot.post(
        event_body(event, **where), headers={"Content-Type": "application/json"}
    )
    assert response.status == 200


async def eventually_none(store: Store, tenant: str, kind: str, key: str = "latest") -> None:
    deadline = time.monotonic() + 5
    while await store.get_document(tenant, kind, key) is not None:
        assert time.monotonic() < deadline, f"{kind} of {tenant} still stored"
        await asyncio.sleep(0.02)


async def test_install_stores_the_installation_and_the_state_works_once(oauth_bot: Bot) -> None:
    store, slack = oauth_bot.services.store, oauth_bot.slack
    state = await start_install(oauth_bot)
    response = await finish_install(oauth_bot, state)
    assert response.status == 200
    assert "Thank you!" in await response.text()
    assert f"slack://app?team={TEAM}&amp;id=A1" in await response.text()
    assert [call["code"] for call in slack.calls_to("oauth.v2.access")] == ["code-1"]
    token = next(iter(slack.installed))

    installation = json.loads(await store.get_document(TEAM, INSTALLATION, "latest") or "{}")
    assert installation["team_id"] == TEAM and installation["team_name"] == "Acme Sales"
    assert installation["enterprise_id"] is None and installation["is_enterprise_install"] is False
    assert installation["bot_token"] == token and installation["bot_id"] == f"B{TEAM}"
    assert installation["bot_user_id"] == f"UBOT{TEAM}"
    assert installation["user_id"] == "U-installer" and installation["user_token"] is None
    assert set(installation["bot_scopes"].split(",")) == set(SCOPES)
    assert installation["installed_at"].endswith("+00:00")
    bot_document = json.loads(await store.get_document(TEAM, BOT, "latest") or "{}")
    assert bot_document["bot_token"] == token and bot_document["team_id"] == TEAM

    again = await finish_install(oauth_bot, state, code="code-2")
    assert again.status == 401
    assert len(slack.calls_to("oauth.v2.access")) == 1


async def test_a_redirect_from_another_browser_or_with_a_bad_code_installs_nothing(
    oauth_bot: Bot,
) -> None:
    store, slack = oauth_bot.services.store, oauth_bot.slack
    state = await start_install(oauth_bot)
    assert (await finish_install(oauth_bot, state, cookie=False)).status == 400
    assert (await finish_install(oauth_bot, "forged-state")).status == 401
    assert (await finish_install(oauth_bot, state, code="not-a-code")).status == 401
    assert len(slack.calls_to("oauth.v2.access")) == 1
    assert slack.installed == {}
    assert await store.get_document(TEAM, INSTALLATION, "latest") is None
    assert await store.get_document(TEAM, BOT, "latest") is None


async def test_commands_are_authorized_from_the_stored_installation(oauth_bot: Bot) -> None:
    await install(oauth_bot)
    checks_after_install = len(oauth_bot.slack.calls_to("auth.test"))
    message = await ask(oauth_bot)
    assert "what you can ask" in message["blocks"][0]["text"]["text"]
    advice = await ask(oauth_bot, text=ASK)
    assert "Leave a voicemail" in advice["blocks"][0]["text"]["text"]
    key = prospect_key("Jane Doe", "Acme")
    assert await oauth_bot.services.store.get_prospect(TEAM, "U1", key) is not None
    # bolt's authorization cache: one auth.test for the token, not one per request
    assert len(oauth_bot.slack.calls_to("auth.test")) == checks_after_install + 1


async def test_a_team_that_never_installed_is_told_so_and_nothing_is_stored(
    oauth_bot: Bot,
) -> None:
    await install(oauth_bot)
    message = await ask(oauth_bot, team="T-stranger", text=ASK)
    assert message["text"] == NOT_INSTALLED
    assert "blocks" not in message or not message["blocks"]
    store = oauth_bot.services.store
    assert await store.get_prospect("T-stranger", "U1", prospect_key("Jane Doe", "Acme")) is None
    assert await store.get_rep("T-stranger", "U1") is None
    assert await store.get_document("T-stranger", INSTALLATION, "latest") is None
    assert "users.info" not in oauth_bot.slack.methods()


async def test_app_uninstalled_deletes_the_installation(oauth_bot: Bot) -> None:
    await install(oauth_bot)
    await ask(oauth_bot)
    await post_event(oauth_bot, {"type": "app_uninstalled"})
    store = oauth_bot.services.store
    await eventually_none(store, TEAM, BOT)
    await eventually_none(store, TEAM, INSTALLATION)
    message = await ask(oauth_bot, text=ASK)
    assert message["text"] == NOT_INSTALLED


async def test_revoked_bot_token_deletes_the_bot_and_keeps_the_installation_record(
    oauth_bot: Bot,
) -> None:
    await install(oauth_bot)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U-installer"], "bot": ["UBOTT9"]}}
    await post_event(oauth_bot, revoked)
    store = oauth_bot.services.store
    await eventually_none(store, TEAM, BOT)
    installation = json.loads(await store.get_document(TEAM, INSTALLATION, "latest") or "{}")
    assert installation["team_id"] == TEAM and installation["user_token"] is None
    message = await ask(oauth_bot)
    assert message["text"] == NOT_INSTALLED


async def test_reinstalling_replaces_the_token(oauth_bot: Bot) -> None:
    first = await install(oauth_bot)
    second = await install(oauth_bot)
    assert first != second
    stored = json.loads(await oauth_bot.services.store.get_document(TEAM, BOT, "latest") or "{}")
    assert stored["bot_token"] == second
    message = await ask(oauth_bot)
    assert "what you can ask" in message["blocks"][0]["text"]["text"]


JUNK_BODIES = [b"payload=%7B" + MARKER.encode(), MARKER.encode() + b"\xff\xfe", b"[1]"]


@pytest.mark.parametrize("body", JUNK_BODIES, ids=["broken payload", "not UTF-8", "JSON array"])
async def test_the_oauth_pages_ignore_a_body_they_never_needed(
    oauth_bot: Bot, logs: Logs, body: bytes
) -> None:
    page = await oauth_bot.client.get("/slack/install", data=body, allow_redirects=False)
    assert page.status == 200 and "oauth/v2/authorize" in await page.text()
    state = await start_install(oauth_bot)
    redirect = await oauth_bot.client.get(
        "/slack/oauth_redirect",
        params={"code": "code-1", "state": state},
        headers={"Cookie": f"{COOKIE}={state}"},
        data=body,
    )
    assert redirect.status == 200 and "Thank you!" in await redirect.text()
    logs.assert_clean(MARKER)


async def test_a_redirect_with_a_query_that_is_not_utf8_is_refused_without_traceback(
    oauth_bot: Bot, logs: Logs
) -> None:
    state = await start_install(oauth_bot)
    response = await oauth_bot.client.get(
        f"/slack/oauth_redirect?code=%ff{MARKER}&state=%fe",
        headers={"Cookie": f"{COOKIE}={state}"},
        allow_redirects=False,
    )
    assert response.status == 400  # the state does not match the cookie
    assert oauth_bot.slack.installed == {}
    logs.assert_clean()  # the test server's own access log shows the query; ours does not


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=" + quote('{"type": "block_actions", "user": "' + MARKER), FORM),
        (json.dumps([{"type": "event_callback", "team_id": MARKER}]), "application/json"),
    ],
    ids=["broken interactivity payload", "events body that is a JSON array"],
)
async def test_events_in_oauth_mode_refuse_bodies_slack_does_not_send(
    oauth_bot: Bot, logs: Logs, body: str, content_type: str
) -> None:
    await install(oauth_bot)
    response = await oauth_bot.post(body, content_type=content_type)
    assert response.status == 400
    assert "unsigned" not in str(logs.events())
    logs.assert_clean(MARKER)
    assert "what you can ask" in (await ask(oauth_bot))["blocks"][0]["text"]["text"]


PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def assert_page_cannot_be_framed(response: Any) -> None:
    assert {name: response.headers.get(name) for name in PAGE_HEADERS} == PAGE_HEADERS
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Server"] == "voicemail-coach"


async def test_the_install_and_result_pages_cannot_be_framed_and_name_no_versions(
    oauth_bot: Bot,
) -> None:
    oauth_bot.client.session.cookie_jar.clear()
    page = await oauth_bot.client.get("/slack/install", allow_redirects=False)
    assert page.content_type == "text/html"
    assert_page_cannot_be_framed(page)
    result = await finish_install(oauth_bot, await start_install(oauth_bot))
    assert result.status == 200 and result.content_type == "text/html"
    assert_page_cannot_be_framed(result)
    refused = await finish_install(oauth_bot, "forged-state")
    assert refused.status == 401
    assert_page_cannot_be_framed(refused)


async def test_a_thousand_install_pages_write_nothing_to_the_store(oauth_bot: Bot) -> None:
    store = oauth_bot.services.store
    before = await stored_count(store)
    for _ in range(1000):
        response = await oauth_bot.client.get("/slack/install", allow_redirects=False)
        assert response.status == 200
    assert await stored_count(store) == before


async def test_a_tampered_state_gets_the_invalid_state_page_and_installs_nothing(
    oauth_bot: Bot,
) -> None:
    state = await start_install(oauth_bot)
    nonce, expires, signature = state.split(".")
    tampered = f"{nonce}.{int(expires) + 3600}.{signature}"
    response = await finish_install(oauth_bot, tampered)
    assert response.status == 401
    assert "The state parameter is no longer valid." in await response.text()
    assert oauth_bot.slack.calls_to("oauth.v2.access") == []
    assert (await finish_install(oauth_bot, state)).status == 200
