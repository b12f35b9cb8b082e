"""bench/teams_http.py's pieces, untimed: its tokens and activities pass botbuilder's real
authentication and our tenant check, its settings are ones the adapter runs with, and the
shared rate search steps and bisects as it says."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import jwt
import pytest
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity

from adapters.teams.activities import command_text, tenant_of
from adapters.teams.auth import Authenticator
from adapters.teams.config import TeamsConfig
from bench._http import highest_rate
from bench.teams_http import (
    APP_ID,
    METADATA_PATH,
    TENANT,
    Generator,
    Signer,
    fake_microsoft_app,
    teams_env,
)


@pytest.fixture
async def fake_url_and_signer() -> AsyncIterator[tuple[str, Signer]]:
    signer = Signer()
    server = TestServer(fake_microsoft_app(signer.jwks()), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), signer
    finally:
        await server.close()


def test_the_settings_turn_teams_on_for_the_bench_tenant_only() -> None:
    env = teams_env(
        {"SLACK_SIGNING_SECRET": "s", "MICROSOFT_APP_ID": "theirs", "PATH": "/bin"},
        "http://x",
        "https://login.x",
    )
    config = TeamsConfig.from_env(env)
    assert "SLACK_SIGNING_SECRET" not in env and env["PATH"] == "/bin"
    assert config.app_id == APP_ID and not config.anonymous
    assert config.openid_metadata_url == f"http://x{METADATA_PATH}"
    assert config.login_url == f"https://login.x/{TENANT}"
    assert config.allows_tenant(TENANT) and not config.allows_tenant("another-tenant")


async def test_a_bench_message_passes_botbuilders_authentication(
    fake_url_and_signer: tuple[str, Signer],
) -> None:
    url, signer = fake_url_and_signer
    config = TeamsConfig.from_env(teams_env({}, url, url))
    service_url = f"{url}/connector/amer/"
    generator = Generator(1, service_url, signer.token(service_url))
    raw = generator.shots("t", 1).raw[0]
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    assert int(headers["Content-Length"]) == len(body)
    activity = Activity().deserialize(json.loads(body))
    result = await Authenticator(config).authenticate(activity, headers["Authorization"])
    assert result.claims_identity.is_authenticated
    assert tenant_of(activity) == TENANT
    assert " @ " in command_text(activity) and "referred by" in command_text(activity)

    forged = Signer().token(service_url)  # a key the fake JWKS does not serve
    with pytest.raises(jwt.InvalidSignatureError):
        await Authenticator(config).authenticate(activity, f"Bearer {forged}")


@dataclass
class Step:
    rate: float
    name: str
    passed: bool


async def test_the_rate_search_steps_up_then_bisects() -> None:
    async def step(rate: float, name: str) -> Step:
        return Step(rate, name, rate <= 400)

    best, steps = await highest_rate(step, 100, 2.0, 1000, refine=2)
    assert [(s.rate, s.name) for s in steps] == [
        (100, "s0"), (200, "s1"), (400, "s2"), (800, "s3"), (600, "r0"), (500, "r1")
    ]  # fmt: skip
    assert best == 400

    async def always(rate: float, name: str) -> Step:
        return Step(rate, name, True)

    best, steps = await highest_rate(always, 100, 2.0, 300, refine=2)
    assert best == 300 and [s.rate for s in steps] == [100, 200, 300]
