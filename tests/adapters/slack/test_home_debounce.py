"""App Home costs the rep's own reads, and a rep reopening it at will publishes it seldom."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from adapters.slack.actors import ProfileCache
from adapters.slack.home import DEBOUNCE_SECONDS, home_view, publish_home, recent_publishes
from bot.coach import Coach
from bot.records import CheckIn, Outcome, ProspectRecord, RepProfile
from bot.store import Store
from tests.adapters.slack.conftest import Bot
from tests.adapters.slack.test_modal_home import open_home

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
TEAM = "sales"
OTHERS = 5000


class ReadRecorder:
    """The store, recording which methods were called and every check-in they returned."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.called: list[str] = []
        self.check_ins: list[CheckIn] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):
            return method

        async def recorded(*args: Any, **kwargs: Any) -> Any:
            self.called.append(name)
            result = await method(*args, **kwargs)
            if isinstance(result, list):
                self.check_ins += [item for item in result if isinstance(item, CheckIn)]
            return result

        return recorded


class FakeClient:
    """The two Web API methods Home uses."""

    def __init__(self) -> None:
        self.published: list[str] = []

    async def users_info(self, user: str) -> dict[str, Any]:
        return {"ok": True, "user": {"id": user, "real_name": "Sam", "tz": "America/New_York"}}

    async def views_publish(self, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        self.published.append(user_id)
        return {"ok": True}


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def seed_team_week(store: Store) -> None:
    """5,000 check-ins this week by the rep's teammates, one by the rep."""
    await store.save_rep(RepProfile("T1", "U1", timezone="America/New_York", team=TEAM))
    for n in range(OTHERS + 1):
        rep = "U1" if n == OTHERS else f"U{1000 + n % 50}"
        record = ProspectRecord("T1", rep, f"p{n}@acme", f"P{n}", "Acme")
        at = MONDAY - timedelta(minutes=n % 600)
        check_in = CheckIn("T1", rep, TEAM, record.key, Outcome.LEFT, at, key=f"k{n}")
        await store.record_check_in(record, check_in)


def coach_on(store: Store) -> Coach:
    return Coach(store, clock=lambda: MONDAY + timedelta(hours=1))


async def test_home_reads_none_of_the_teams_other_check_ins(store: Store) -> None:
    await seed_team_week(store)
    recorder = ReadRecorder(store)
    view = await home_view(
        coach_on(cast(Store, recorder)), ProfileCache(), FakeClient(), "T1", "U1"
    )
    assert "team_check_ins" not in recorder.called
    assert {check_in.rep_id for check_in in recorder.check_ins} == {"U1"}
    assert view["type"] == "home"


async def test_reopening_home_publishes_once_per_window_per_user(store: Store) -> None:
    coach, profiles, client = coach_on(store), ProfileCache(), FakeClient()
    clock = Monotonic()
    recent_publishes(coach).clock = clock

    def publish(user: str) -> Awaitable[bool]:
        return publish_home(coach, profiles, client, "T1", user)

    await asyncio.gather(*(publish("U1") for _ in range(20)))
    await publish("U2")
    assert client.published == ["U1", "U2"]
    clock.now += DEBOUNCE_SECONDS - 0.1
    await publish("U1")
    assert client.published == ["U1", "U2"]
    clock.now += 0.2
    await publish("U1")
    assert client.published == ["U1", "U2", "U1"]


async def test_a_failed_publish_does_not_hold_back_the_next(store: Store) -> None:
    coach, profiles, client = coach_on(store), ProfileCache(), FakeClient()
    failing = FakeClient()

    async def refuse(user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("slack is down")

    failing.views_publish = refuse  # type: ignore[method-assign]
    assert not await publish_home(coach, profiles, failing, "T1", "U1")
    assert await publish_home(coach, profiles, client, "T1", "U1")
    assert client.published == ["U1"]


async def test_a_rep_opening_home_many_times_a_second_gets_one_publish(bot: Bot) -> None:
    for _ in range(10):
        assert (await open_home(bot)).status == 200
    await bot.slack.wait_for_calls("views.publish")
    await asyncio.sleep(0.5)
    assert len(bot.slack.calls_to("views.publish")) == 1
