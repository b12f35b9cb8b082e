"""The installation store on our store (both kinds), without HTTP (states: test_oauth_state)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import BotClients
from adapters.slack.installations import (
    BOT,
    INSTALLATION,
    StoreInstallationStore,
)
from bot.adapters import RecipientGone
from bot.config import Config
from bot.secrets import KEYS_VARIABLE, SecretBox
from bot.server import create_app
from bot.store import RedisStore, SQLiteStore, Store
from tests.adapters.slack.conftest import Bot, FakeSlack
from tests.adapters.slack.test_oauth import ask, install

K1 = "k1:" + base64.b64encode(bytes([1]) * 32).decode()
K2 = "k2:" + base64.b64encode(bytes([2]) * 32).decode()
SECRETS = ("xoxb-1", "xoxe-1", "xoxp-1", "xoxe-user-1", "https://hooks.example/T1/hook-secret")


def box(*keys: str) -> SecretBox:
    made = SecretBox.from_env({KEYS_VARIABLE: ",".join(keys)})
    assert made is not None
    return made


def installation(
    team: str | None = "T1",
    enterprise: str | None = None,
    *,
    org_wide: bool = False,
    token: str = "xoxb-1",
    user: str = "U-installer",
    user_token: str | None = None,
    webhook: str | None = None,
) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        team_name="Acme",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token="xoxe-1",
        bot_token_expires_in=43200,
        user_id=user,
        user_token=user_token,
        user_scopes="search:read" if user_token else "",
        user_refresh_token="xoxe-user-1" if user_token else None,
        incoming_webhook_url=webhook,
        incoming_webhook_channel_id="C1" if webhook else None,
        is_enterprise_install=org_wide,
        token_type="bot",
        custom_values={"plan": "pilot"},
    )


async def test_an_installation_and_its_bot_round_trip(store: Store) -> None:
    installations = StoreInstallationStore(store)
    saved = installation(user_token="xoxp-1")
    await installations.async_save(saved)
    found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.to_dict() == saved.to_dict()
    assert found.get_custom_value("plan") == "pilot"
    bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.to_dict() == saved.to_bot().to_dict()
    assert bot.bot_scopes == ["commands", "chat:write"]
    assert bot.bot_token_expires_at == saved.bot_token_expires_at
    assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is None


async def test_another_user_has_no_installation_of_their_own(store: Store) -> None:
    installations = StoreInstallationStore(store)
    await installations.async_save(installation())
    found = await installations.async_find_installation(
        enterprise_id=None, team_id="T1", user_id="U-installer"
    )
    assert found is not None
    other = await installations.async_find_installation(
        enterprise_id=None, team_id="T1", user_id="U-someone-else"
    )
    assert other is None


async def test_a_revoked_user_token_leaves_the_installation_and_bot(store: Store) -> None:
    installations = StoreInstallationStore(store)
    await installations.async_save(installation(user_token="xoxp-1"))
    await installations.async_delete_installation(
        enterprise_id=None, team_id="T1", user_id="U-installer"
    )
    found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.user_token is None and found.bot_token == "xoxb-1"
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is not None


async def test_org_wide_install_is_the_orgs_and_serves_every_workspace(store: Store) -> None:
    installations = StoreInstallationStore(store)
    await installations.async_save(installation(None, "E1", org_wide=True, token="xoxb-org"))
    assert await store.get_document("E1", BOT, "latest") is not None
    for team, org_wide in (("T1", True), ("T2", True), ("T3", False), (None, True)):
        bot = await installations.async_find_bot(
            enterprise_id="E1", team_id=team, is_enterprise_install=org_wide
        )
        assert bot is not None and bot.bot_token == "xoxb-org"
    await installations.async_delete_all(enterprise_id="E1", team_id=None)
    assert await installations.async_find_bot(enterprise_id="E1", team_id=None) is None


async def test_workspaces_of_one_org_installed_apart_keep_their_own_tokens(store: Store) -> None:
    installations = StoreInstallationStore(store)
    await installations.async_save(installation("T1", "E1", token="xoxb-t1"))
    await installations.async_save(installation("T2", "E1", token="xoxb-t2"))
    assert await store.get_document("E1", BOT, "latest:T1") is not None

    async def token_of(team: str) -> str | None:
        bot = await installations.async_find_bot(enterprise_id="E1", team_id=team)
        return None if bot is None else bot.bot_token

    assert [await token_of("T1"), await token_of("T2"), await token_of("T3")] == [
        "xoxb-t1",
        "xoxb-t2",
        None,
    ]
    await installations.async_delete_all(enterprise_id="E1", team_id="T1")
    assert [await token_of("T1"), await token_of("T2")] == [None, "xoxb-t2"]
    assert await store.get_document("E1", INSTALLATION, "latest:T1") is None
    assert await store.get_document("E1", INSTALLATION, "latest:T2") is not None


async def everything_stored(store: Store) -> str:
    """What the store holds, read around it: the SQLite file with its WAL, or every Redis key."""
    if isinstance(store, SQLiteStore):
        path = Path(store._path)
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(file.read_bytes() for file in files if file.exists()).decode("latin-1")
    assert isinstance(store, RedisStore)
    held = []
    async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*"):
        kind = await store.client.type(key)
        assert kind in (b"string", "string"), f"{key!r} is a {kind!r}: read it here too"
        held.append(f"{key!r} {await store.client.get(key)!r}")
    return "\n".join(held)


async def test_an_install_stores_no_secret_in_the_clear(store: Store) -> None:
    installations = StoreInstallationStore(store, box(K1))
    saved = installation(user_token="xoxp-1", webhook=SECRETS[-1])
    await installations.async_save(saved)
    held = await everything_stored(store)
    assert "UBOT" in held  # the raw read does see the documents
    assert [secret for secret in SECRETS if secret in held] == []
    found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.to_dict() == saved.to_dict()
    bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and (bot.bot_token, bot.bot_refresh_token) == ("xoxb-1", "xoxe-1")


async def test_a_value_sealed_with_k1_reads_once_k2_comes_first(store: Store) -> None:
    await StoreInstallationStore(store, box(K1)).async_save(installation())
    rotated = StoreInstallationStore(store, box(K2, K1))
    bot = await rotated.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-1"
    await rotated.async_save(installation(token="xoxb-2"))
    stored = json.loads(await store.get_document("T1", BOT, "latest") or "{}")
    assert stored["bot_token"]["key_id"] == "k2"
    bot = await StoreInstallationStore(store, box(K2)).async_find_bot(
        enterprise_id=None, team_id="T1"
    )
    assert bot is not None and bot.bot_token == "xoxb-2"


async def test_a_plaintext_installation_still_reads_and_is_sealed_when_next_written(
    store: Store,
) -> None:
    await StoreInstallationStore(store, None).async_save(installation(user_token="xoxp-1"))
    assert "xoxb-1" in (await store.get_document("T1", BOT, "latest") or "")
    sealed = StoreInstallationStore(store, box(K1))
    found = await sealed.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-1" and found.user_token == "xoxp-1"
    await sealed.async_save(found)
    documents = [
        await store.get_document("T1", kind, "latest") or "" for kind in (BOT, INSTALLATION)
    ]
    assert all('"key_id": "k1"' in document for document in documents)
    assert [secret for secret in SECRETS if secret in "".join(documents)] == []


async def test_a_tampered_token_counts_as_missing_and_is_logged_without_it(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    installations = StoreInstallationStore(store, box(K1))
    await installations.async_save(installation())
    for kind in (BOT, INSTALLATION):
        fields = json.loads(await store.get_document("T1", kind, "latest") or "{}")
        sealed = fields["bot_token"]["aes_gcm"]
        fields["bot_token"]["aes_gcm"] = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
        await store.put_document("T1", kind, "latest", json.dumps(fields))
    caplog.set_level(logging.DEBUG)
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None
    unreadable = [r for r in caplog.records if r.getMessage() == "slack_installation_unreadable"]
    assert {(r.__dict__["tenant"], r.__dict__["kind"]) for r in unreadable} == {
        ("T1", BOT),
        ("T1", INSTALLATION),
    }
    everything = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "xoxb-1" not in everything and sealed not in everything


async def test_sealed_tokens_without_a_key_count_as_missing(store: Store) -> None:
    await StoreInstallationStore(store, box(K1)).async_save(installation())
    keyless = StoreInstallationStore(store, None)
    assert await keyless.async_find_bot(enterprise_id=None, team_id="T1") is None


def test_without_a_key_the_log_says_tokens_are_stored_unencrypted(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    StoreInstallationStore(store)
    warned = [r for r in caplog.records if r.getMessage() == "slack_tokens_unencrypted"]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert warned[0].__dict__["set"] == KEYS_VARIABLE
    caplog.clear()
    monkeypatch.setenv(KEYS_VARIABLE, K1)
    StoreInstallationStore(store)
    assert [r for r in caplog.records if r.getMessage() == "slack_tokens_unencrypted"] == []
    assert K1.partition(":")[2] not in caplog.text


async def test_a_revoked_bot_token_is_gone_from_every_document_and_answers_stop(
    store: Store,
) -> None:
    installations = StoreInstallationStore(store, None)  # plaintext: a token would show
    await installations.async_save(installation(user_token="xoxp-1"))
    await installations.async_delete_bot(enterprise_id=None, team_id="T1")
    documents = [await store.get_document("T1", k, "latest") or "" for k in (BOT, INSTALLATION)]
    assert documents[0] == "" and '"team_id": "T1"' in documents[1]
    assert [token for token in ("xoxb-1", "xoxe-1") if token in "".join(documents)] == []
    assert "xoxp-1" in documents[1]  # the bot's revocation leaves the user's token
    found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token is None and found.bot_refresh_token is None
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
    clients = BotClients(AsyncWebClient(token=None), installations, "http://127.0.0.1:9/api/")
    with pytest.raises(RecipientGone):
        await clients.direct_client("T1")


async def test_an_org_wide_bot_token_revoked_is_the_orgs(store: Store) -> None:
    installations = StoreInstallationStore(store, None)
    await installations.async_save(installation(None, "E1", org_wide=True, token="xoxb-org"))
    await installations.async_save(installation("T3", "E1", token="xoxb-t3"))
    await installations.async_delete_bot(enterprise_id="E1", team_id=None)
    org = await store.get_document("E1", INSTALLATION, "latest") or ""
    assert '"enterprise_id": "E1"' in org and "xoxb-org" not in org
    bot = await installations.async_find_bot(enterprise_id="E1", team_id="T3")
    assert bot is not None and bot.bot_token == "xoxb-t3"


async def test_a_revoked_user_token_is_only_that_users(store: Store) -> None:
    installations = StoreInstallationStore(store, None)
    await installations.async_save(installation(user_token="xoxp-1"))
    await installations.async_delete_installation(
        enterprise_id=None, team_id="T1", user_id="U-someone-else"
    )
    assert "xoxp-1" in (await store.get_document("T1", INSTALLATION, "latest") or "")
    await installations.async_delete_installation(
        enterprise_id=None, team_id="T1", user_id="U-installer"
    )
    stored = await store.get_document("T1", INSTALLATION, "latest") or ""
    assert "xoxp-1" not in stored and "xoxe-user-1" not in stored and "xoxb-1" in stored


async def test_one_workspace_leaving_an_org_leaves_the_org_wide_install(store: Store) -> None:
    installations = StoreInstallationStore(store, None)
    await installations.async_save(installation(None, "E1", org_wide=True, token="xoxb-org"))
    await installations.async_save(installation("T1", "E1", token="xoxb-t1"))
    await installations.async_delete_all(enterprise_id="E1", team_id="T1")
    assert await store.get_document("E1", BOT, "latest:T1") is None
    assert await store.get_document("E1", INSTALLATION, "latest:T1") is None
    assert await store.get_document("E1", INSTALLATION, "latest") is not None
    for team in ("T2", "T1"):  # T1 too: the org's install still covers it, if the org says so
        bot = await installations.async_find_bot(
            enterprise_id="E1", team_id=team, is_enterprise_install=True
        )
        assert bot is not None and bot.bot_token == "xoxb-org"
    await installations.async_delete_all(enterprise_id="E1", team_id=None)
    assert await store.get_document("E1", INSTALLATION, "latest") is None


@pytest.fixture
async def served(
    oauth_env: FakeSlack, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[Bot]]]:
    """Our server with OAuth on `store`, started when the test says (after its environment)."""
    caplog.set_level(logging.DEBUG)

    @asynccontextmanager
    async def serve() -> AsyncIterator[Bot]:
        app = await create_app(Config(db_path=str(tmp_path / "unused.db")), store=store)
        client: TestClient[web.Request, web.Application] = TestClient(
            TestServer(app, host="127.0.0.1")
        )
        await client.start_server()
        try:
            yield Bot(client, oauth_env)
        finally:
            await client.close()

    yield serve


async def test_an_oauth_install_with_a_key_stores_no_token_and_answers(
    served: Callable[[], AbstractAsyncContextManager[Bot]],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(KEYS_VARIABLE, K1)
    async with served() as bot:
        token = await install(bot)
        assert "what you can ask" in (await ask(bot))["blocks"][0]["text"]["text"]
    held = await everything_stored(store)
    assert "UBOTT9" in held and token not in held
    assert "slack_tokens_unencrypted" not in [r.getMessage() for r in caplog.records]


async def test_oauth_without_a_key_says_so_once_naming_the_variable(
    served: Callable[[], AbstractAsyncContextManager[Bot]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    async with served() as bot:
        await install(bot)
        await ask(bot)
        await install(bot)
    warned = [r for r in caplog.records if r.getMessage() == "slack_tokens_unencrypted"]
    assert [r.__dict__["set"] for r in warned] == [KEYS_VARIABLE]


def grid_event(kind: str, team: str | None, **event: Any) -> str:
    """An event from Enterprise Grid org E1: through its org-wide install when `team` is None,
    else through workspace `team`'s own install (as Slack's `authorizations` say)."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team or "T1",
            "enterprise_id": "E1",
            "api_app_id": "A1",
            "event": {"type": kind, "event_ts": "1700000000.000100", **event},
            "type": "event_callback",
            "event_id": f"Ev-{kind}-{team}",
            "event_time": 1700000000,
            "authorizations": [
                {"enterprise_id": "E1", "team_id": team, "user_id": "UBOT", "is_bot": True,
                 "is_enterprise_install": team is None}
            ],
        }
    )  # fmt: skip


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Events are acknowledged first and handled after: wait (a little) for the handling."""
    deadline = time.monotonic() + 5
    while not await condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def test_grid_events_delete_exactly_the_install_they_name(
    served: Callable[[], AbstractAsyncContextManager[Bot]],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)  # plaintext: a token left would show
    installations = StoreInstallationStore(store, None)
    await installations.async_save(installation(None, "E1", org_wide=True, token="xoxb-org"))
    await installations.async_save(installation("T3", "E1", token="xoxb-t3"))

    async def gone(kind: str, key: str) -> bool:
        return await store.get_document("E1", kind, key) is None

    async def tokenless(kind: str, key: str) -> bool:
        return "xoxb-org" not in (await store.get_document("E1", kind, key) or "")

    async with served() as bot:
        json_type = {"Content-Type": "application/json"}
        response = await bot.post(grid_event("app_uninstalled", "T3"), headers=json_type)
        assert response.status == 200
        await eventually(lambda: gone(INSTALLATION, "latest:T3"))
        assert not await gone(INSTALLATION, "latest") and not await gone(BOT, "latest")

        revoked = grid_event("tokens_revoked", None, tokens={"oauth": [], "bot": ["UBOT"]})
        assert (await bot.post(revoked, headers=json_type)).status == 200
        await eventually(lambda: tokenless(INSTALLATION, "latest"))
        assert await gone(BOT, "latest")
        org = await store.get_document("E1", INSTALLATION, "latest") or ""
        assert '"enterprise_id": "E1"' in org

        assert (await bot.post(grid_event("app_uninstalled", None), headers=json_type)).status
        await eventually(lambda: gone(INSTALLATION, "latest"))
