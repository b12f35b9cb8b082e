"""A Bot Connector that times out or answers 5xx: the reply is sent again with backoff within a
bounded window, then given up, counted (deliveries_retried, deliveries_given_up {channel=teams})
and logged with ids only."""

from __future__ import annotations

import pytest

from adapters.teams.adapter import TeamsDeliveryError
from bot.adapters import Address, Delivery
from bot.metrics import REGISTRY
from tests.adapters.slack.conftest import Logs
from tests.adapters.teams.conftest import TENANT, USER, Teams
from tests.adapters.teams.test_chats import NUDGE, install
from tests.adapters.teams.test_messages import card_of, texts


def counted(name: str) -> float:
    value = REGISTRY.get_sample_value(f"voicemail_coach_{name}_total", {"channel": "teams"})
    return value or 0.0


async def personal_chat(teams: Teams) -> Address:
    await install(teams)
    address = await teams.adapter.direct_chat(TENANT, USER)
    assert address is not None
    return address


def given_up_events(logs: Logs) -> list[dict[str, object]]:
    return [event for event in logs.events() if event["event"] == "delivery_given_up"]


async def test_a_rep_is_answered_once_after_the_connector_was_unavailable_twice(
    teams: Teams, logs: Logs
) -> None:
    teams.adapter.retry_seconds = 0.01
    teams.connector.answer_first = [503, 502]
    retried, given_up = counted("deliveries_retried"), counted("deliveries_given_up")
    assert (await teams.post(teams.message("Jane Doe at Acme"))).status == 200
    (sent,) = await teams.connector.wait_for(1)
    assert "Jane Doe @ Acme" in texts(card_of(sent))
    assert counted("deliveries_retried") == retried + 2
    assert counted("deliveries_given_up") == given_up
    assert given_up_events(logs) == []


async def test_a_connector_that_stays_unavailable_is_given_up_counted_and_logged(
    teams: Teams, logs: Logs
) -> None:
    teams.adapter.retry_seconds = 0.01
    address = await personal_chat(teams)
    teams.connector.answer_first = [503] * 10
    retried, given_up = counted("deliveries_retried"), counted("deliveries_given_up")
    with pytest.raises(TeamsDeliveryError):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert len(teams.connector.answer_first) == 6  # four attempts, then no more
    assert counted("deliveries_retried") == retried + 3
    assert counted("deliveries_given_up") == given_up + 1
    (event,) = given_up_events(logs)
    assert {k: event[k] for k in ("channel", "tenant", "user", "attempts", "error")} == {
        "channel": "teams", "tenant": TENANT, "user": USER, "attempts": 4, "error": "Status503",
    }  # fmt: skip
    logs.assert_clean("Rita Rep", "Try again later", "Two call-backs")


async def test_a_connector_that_never_answers_is_tried_again_then_given_up(
    teams: Teams, logs: Logs
) -> None:
    teams.adapter.retry_seconds = 0.01
    teams.adapter.send_timeout_seconds = 0.1
    address = await personal_chat(teams)
    teams.connector.delay_seconds = 0.5
    retried, given_up = counted("deliveries_retried"), counted("deliveries_given_up")
    with pytest.raises(TimeoutError):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert counted("deliveries_retried") == retried + 3
    assert counted("deliveries_given_up") == given_up + 1
    (event,) = given_up_events(logs)
    assert (event["attempts"], event["error"]) == (4, "timeout")


async def test_no_retry_starts_once_the_send_window_would_be_over(teams: Teams, logs: Logs) -> None:
    teams.adapter.retry_seconds = 10.0  # a first pause of 5 s at least: past the window
    teams.adapter.send_window_seconds = 1.0
    address = await personal_chat(teams)
    teams.connector.answer_first = [503] * 10
    retried = counted("deliveries_retried")
    with pytest.raises(TeamsDeliveryError):
        await teams.adapter.deliver(NUDGE, address, Delivery.DIRECT)
    assert len(teams.connector.answer_first) == 9  # one attempt
    assert counted("deliveries_retried") == retried
    (event,) = given_up_events(logs)
    assert event["attempts"] == 1
