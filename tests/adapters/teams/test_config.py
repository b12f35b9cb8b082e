"""What the environment turns the Teams adapter into: off (and why), on, or open for local
tests with Agents Playground."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.config import DEFAULT_TOKEN_ISSUER, TeamsConfig, TeamsConfigError
from bot.config import Config
from bot.server import SERVICES, create_app
from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import (
    APP_ID,
    APP_PASSWORD,
    OTHER_TENANT,
    TENANT,
    FakeConnector,
    Teams,
    start_teams,
)

CREDENTIALS = {
    "MICROSOFT_APP_ID": APP_ID,
    "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
    "MICROSOFT_APP_TENANT_ID": TENANT,
}


def test_a_single_tenant_app_allows_its_own_tenant_and_microsofts_endpoints() -> None:
    config = TeamsConfig.from_env(CREDENTIALS)
    assert config.allows_tenant(TENANT)
    assert not config.allows_tenant(OTHER_TENANT) and not config.allows_tenant("")
    assert config.login_url == f"https://login.microsoftonline.com/{TENANT}"
    assert config.token_issuer == DEFAULT_TOKEN_ISSUER
    assert "login.botframework.com" in config.openid_metadata_url
    assert APP_PASSWORD not in repr(config)


def test_the_allow_list_is_read_from_teams_allowed_tenants() -> None:
    env = {**CREDENTIALS, "TEAMS_ALLOWED_TENANTS": f" {OTHER_TENANT} , ,{TENANT}"}
    assert TeamsConfig.from_env(env).allowed_tenants == {TENANT, OTHER_TENANT}


def test_a_multi_tenant_app_logs_in_through_botframework_com() -> None:
    env = {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "p",
           "MICROSOFT_APP_TYPE": "MultiTenant"}  # fmt: skip
    config = TeamsConfig.from_env(env)
    assert config.login_url == "https://login.microsoftonline.com/botframework.com"
    assert config.allows_tenant(OTHER_TENANT)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID"),
        ({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "p"}, "MICROSOFT_APP_TENANT_ID"),
        ({**CREDENTIALS, "MICROSOFT_APP_TYPE": "UserAssignedMSI"}, "MICROSOFT_APP_TYPE"),
    ],
)
def test_missing_or_unusable_credentials_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(TeamsConfigError, match=named):
        TeamsConfig.from_env(env)


def test_the_ca_bundle_comes_from_requests_ca_bundle_or_ssl_cert_file() -> None:
    assert TeamsConfig.from_env({**CREDENTIALS, "SSL_CERT_FILE": "/b"}).ca_bundle == "/b"
    env = {**CREDENTIALS, "SSL_CERT_FILE": "/b", "REQUESTS_CA_BUNDLE": "/a"}
    assert TeamsConfig.from_env(env).ca_bundle == "/a"


async def test_without_credentials_the_adapter_is_off_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (*CREDENTIALS, "TEAMS_ALLOW_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    app = await create_app(Config(db_path=str(tmp_path / "t.db")))
    try:
        status = TeamsAdapter().mount(web.Application(), app[SERVICES])
        assert not status.enabled
        assert "MICROSOFT_APP_ID" in status.why and "TEAMS_ALLOW_ANONYMOUS" in status.why
    finally:
        await app[SERVICES].store.close()


async def test_anonymous_mode_answers_unsigned_requests_and_warns(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_connector: FakeConnector,
    logs: Logs,
) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEAMS_ALLOW_ANONYMOUS", "true")
    client = await start_teams(Config(db_path=str(tmp_path / "t.db")))
    try:
        teams = Teams(client, fake_connector, login=None)  # type: ignore[arg-type]
        response = await teams.post(teams.message("help"), authorization=None)
        assert response.status == 200
        (sent,) = await fake_connector.wait_for(1)
        assert sent["authorization"] is None
    finally:
        await client.close()
    warnings = [e for e in logs.events() if e["event"] == "teams_anonymous"]
    assert warnings and warnings[0]["level"] == "warning"
