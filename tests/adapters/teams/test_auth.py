"""Only Microsoft's signed requests, from an allowed tenant, reach the coach; the rest store
nothing and send nothing."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import (
    APP_ID,
    KID,
    OTHER_KEY,
    OTHER_TENANT,
    TENANT,
    FakeOpenId,
    Teams,
    token,
)

ASK = "Jane Doe @ Acme referred by Tom"


def bad_tokens(service_url: str) -> dict[str, str | None]:
    now = int(time.time())
    hs256 = jwt.encode(
        {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": service_url,
         "nbf": now - 60, "exp": now + 600},
        "a-shared-secret-anyone-could-guess", algorithm="HS256", headers={"kid": KID},
    )  # fmt: skip
    return {
        "forged signature": f"Bearer {token(service_url, key=OTHER_KEY)}",
        "unknown key id": f"Bearer {token(service_url, kid='no-such-key')}",
        "expired": f"Bearer {token(service_url, expires_in=-600)}",
        "wrong audience": f"Bearer {token(service_url, audience='another-bot')}",
        "wrong issuer": f"Bearer {token(service_url, issuer='https://evil.example')}",
        "another service url": f"Bearer {token('https://evil.example/')}",
        "HS256": f"Bearer {hs256}",
        "not a JWT": "Bearer not-a-token",
        "not a bearer": f"Basic {token(service_url)}",
        "missing header": None,
    }


@pytest.mark.parametrize(
    "case",
    list(bad_tokens("http://x/")),
)
async def test_a_bad_token_is_refused_with_401_and_nothing_is_stored(
    teams: Teams, logs: Logs, case: str
) -> None:
    authorization = bad_tokens(teams.connector.url)[case]
    message = teams.message(ASK)
    response = await teams.post(message, authorization=authorization)
    assert response.status == 401
    click = teams.click({"verb": "checkin", "data": {"action_id": "checkin", "value": "x"}})
    assert (await teams.post(click, authorization=authorization)).status == 401

    assert await teams.connector.nothing_sent()
    assert await teams.stored_chat() is None
    assert await teams.services.store.get_rep(TENANT, message["from"]["id"]) is None
    refusals = [e for e in logs.events() if e["event"] == "teams_request_refused"]
    assert refusals and all(e["status"] == 401 for e in refusals)
    logs.assert_clean("Jane Doe", authorization or "no header")


async def test_a_tenant_outside_the_allow_list_is_refused_with_403(
    teams: Teams, logs: Logs
) -> None:
    response = await teams.post(teams.message(ASK, tenant=OTHER_TENANT))
    assert response.status == 403
    install = teams.activity("installationUpdate", action="add", tenant=OTHER_TENANT)
    assert (await teams.post(install)).status == 403

    assert await teams.connector.nothing_sent()
    assert await teams.stored_chat(OTHER_TENANT) is None
    logs.assert_clean("Jane Doe")


async def test_a_message_with_no_tenant_is_refused_with_403(teams: Teams) -> None:
    message = teams.message(ASK)
    del message["channelData"]
    assert (await teams.post(message)).status == 403
    assert await teams.connector.nothing_sent()


async def test_the_signing_keys_are_fetched_once_not_per_request(
    teams: Teams, fake_openid: FakeOpenId
) -> None:
    for _ in range(3):
        assert (await teams.post(teams.message("help"))).status == 200
    assert fake_openid.fetches == 2  # the metadata, then its keys


async def test_slow_signing_keys_do_not_hold_up_the_rest_of_the_server(
    teams: Teams, fake_openid: FakeOpenId
) -> None:
    fake_openid.delay_seconds = 0.5  # for the metadata, and again for the keys
    started = time.monotonic()
    message = asyncio.create_task(teams.post(teams.message("help")))
    await asyncio.sleep(0.1)  # the keys are being fetched now
    assert (await teams.client.get("/healthz")).status == 200
    assert time.monotonic() - started < 0.6
    assert (await message).status == 200


async def test_requests_arriving_together_share_one_fetch_of_the_keys(
    teams: Teams, fake_openid: FakeOpenId
) -> None:
    fake_openid.delay_seconds = 0.1
    answers = await asyncio.gather(*(teams.post(teams.message("help")) for _ in range(5)))
    assert [answer.status for answer in answers] == [200] * 5
    assert fake_openid.fetches == 2
