"""The installation and state stores on our store (both kinds), without HTTP."""

from __future__ import annotations

import asyncio

from slack_sdk.oauth.installation_store import Installation

from adapters.slack.installations import (
    BOT,
    INSTALLATION,
    STATE_KIND,
    STATE_TENANT,
    StoreInstallationStore,
    StoreOAuthStateStore,
)
from bot.store import Store


def installation(
    team: str | None = "T1",
    enterprise: str | None = None,
    *,
    org_wide: bool = False,
    token: str = "xoxb-1",
    user: str = "U-installer",
    user_token: str | None = None,
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


async def test_an_oauth_state_is_good_once(store: Store) -> None:
    states = StoreOAuthStateStore(store)
    state = await states.async_issue()
    other = await states.async_issue()
    assert state != other and len(state) >= 40
    assert await store.get_document(STATE_TENANT, STATE_KIND, state) == "1"
    results = await asyncio.gather(*(states.async_consume(state) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await states.async_consume(state) is False
    assert await states.async_consume("") is False
    assert await states.async_consume("never-issued") is False
    assert await states.async_consume(other) is True
