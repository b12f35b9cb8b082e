"""Who is a manager in Slack: users.info's admin flags, read fresh for manager-only commands,
the org's own flags when the tenant is an Enterprise Grid org, and a cache that stays bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.actors import ROLE_TTL_SECONDS, ProfileCache
from adapters.slack.app import SlackAdapter
from bot.config import Config
from bot.records import DEFAULT_TEAM
from bot.types import Role
from tests.adapters.slack.conftest import Bot, serving
from tests.adapters.slack.test_events import texts
from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlack


class Clock:
    """The profile cache's clock, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def serving_with(
    profiles: ProfileCache, config: Config, fake: FakeSlack
) -> AsyncIterator[Bot]:
    """Our server with the Slack channel, its profile cache `profiles`."""
    adapter = SlackAdapter()
    adapter.profiles = profiles
    async with serving(config, fake, adapters=[adapter]) as bot:
        yield bot


@pytest.fixture
async def timed_bot(slack_env: FakeSlack, tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    config = Config(db_path=str(tmp_path / "t.db"))
    async with serving_with(ProfileCache(clock=clock), config, slack_env) as running:
        yield running


async def say(bot: Bot, text: str, user: str = "U9", **org: str) -> str:
    """The text of the answer to `/voicemail text`; `org` adds Enterprise Grid fields."""
    before = len(bot.slack.responses)
    body = bot.command_body(text, user=user, n=before + 1)
    if org:
        body += "&" + urlencode(org)
    assert (await bot.post(body)).status == 200
    return texts((await bot.slack.wait_for_responses(before + 1))[before])


def users_info_calls(bot: Bot) -> int:
    return bot.slack.methods().count("users.info")


async def test_a_demoted_admin_cannot_change_settings_a_minute_later(
    timed_bot: Bot, clock: Clock
) -> None:
    timed_bot.slack.admins.add("U9")
    assert "Managers only" not in await say(timed_bot, "settings final-attempt 4")
    timed_bot.slack.admins.discard("U9")
    clock.now += ROLE_TTL_SECONDS + 1
    assert "Managers only" in await say(timed_bot, "settings final-attempt 5")
    team = await timed_bot.services.store.get_team("T1", DEFAULT_TEAM)
    assert team.settings.final_attempt == 4


async def test_a_promoted_rep_is_a_manager_a_minute_later(timed_bot: Bot, clock: Clock) -> None:
    assert "Managers only" in await say(timed_bot, "team")
    timed_bot.slack.admins.add("U9")
    clock.now += ROLE_TTL_SECONDS + 1
    assert "Managers only" not in await say(timed_bot, "team")


async def test_other_commands_keep_the_profile_an_hour(timed_bot: Bot, clock: Clock) -> None:
    await say(timed_bot, "me")
    clock.now += 30 * 60
    assert "Rita Rep" in await say(timed_bot, "me")
    await say(timed_bot, "queue")
    assert users_info_calls(timed_bot) == 1


async def test_manager_commands_within_the_minute_read_users_info_once(
    timed_bot: Bot, clock: Clock
) -> None:
    timed_bot.slack.admins.add("U9")
    await say(timed_bot, "settings final-attempt 4")
    clock.now += ROLE_TTL_SECONDS / 2
    await say(timed_bot, "settings final-attempt 5")
    assert users_info_calls(timed_bot) == 1


async def test_when_the_role_cannot_be_read_again_the_admin_is_a_rep_by_name(
    timed_bot: Bot, clock: Clock
) -> None:
    timed_bot.slack.admins.add("U9")
    await say(timed_bot, "settings final-attempt 4")
    timed_bot.slack.fail_users_info = True
    clock.now += ROLE_TTL_SECONDS + 1
    assert "Managers only" in await say(timed_bot, "settings final-attempt 5")
    assert "Rita Rep" in await say(timed_bot, "me")


# Enterprise Grid: users.info's `enterprise_user` carries the org-level flags.
ORG = {"enterprise_id": "E1", "enterprise_name": "Acme Org", "is_enterprise_install": "true"}


@pytest.fixture
def org_admins(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The fake's users.info, answering as Slack does in an org: with `enterprise_user`."""
    admins: set[str] = set()
    workspace_answer = slack_api._users_info

    def users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
        answer = workspace_answer(fake, args)
        if answer.get("ok"):
            user = answer["user"]["id"]
            answer["user"]["enterprise_user"] = {
                "id": user, "enterprise_id": "E1", "enterprise_name": "Acme Org",
                "is_admin": user in admins, "is_owner": False, "teams": ["T1", "T2"],
            }  # fmt: skip
        return answer

    monkeypatch.setattr(slack_api, "_users_info", users_info)
    yield admins


async def test_a_workspace_admin_is_no_manager_of_the_org(
    timed_bot: Bot, org_admins: set[str]
) -> None:
    timed_bot.slack.admins.add("U9")
    assert "Managers only" in await say(timed_bot, "settings final-attempt 4", **ORG)
    assert "Managers only" in await say(timed_bot, "team", **ORG)
    team = await timed_bot.services.store.get_team("E1", DEFAULT_TEAM)
    assert team.settings.final_attempt != 4


async def test_an_org_admin_is_a_manager_of_the_org(timed_bot: Bot, org_admins: set[str]) -> None:
    org_admins.add("U9")
    assert "Managers only" not in await say(timed_bot, "settings final-attempt 4", **ORG)
    team = await timed_bot.services.store.get_team("E1", DEFAULT_TEAM)
    assert team.settings.final_attempt == 4


async def test_a_workspace_install_in_an_org_shares_the_org_tenant_so_org_roles_decide(
    timed_bot: Bot, org_admins: set[str]
) -> None:
    timed_bot.slack.admins.add("U9")
    in_the_org = {**ORG, "is_enterprise_install": "false"}
    assert "Managers only" in await say(timed_bot, "settings final-attempt 4", **in_the_org)
    org_admins.add("U8")
    assert "Managers only" not in await say(timed_bot, "team", user="U8", **in_the_org)


async def test_without_org_flags_nobody_manages_the_org(timed_bot: Bot) -> None:
    timed_bot.slack.admins.add("U9")
    assert "Managers only" in await say(timed_bot, "team", **ORG)


async def test_a_workspace_admin_still_manages_a_plain_workspace(
    timed_bot: Bot, org_admins: set[str]
) -> None:
    timed_bot.slack.admins.add("U9")
    assert "Managers only" not in await say(timed_bot, "team")


class Users:
    """A Web API client's users_info for any user id, as a workspace admin; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def users_info(self, user: str) -> dict[str, Any]:
        self.calls += 1
        return {"user": {"id": user, "real_name": f"Rep {user}", "is_admin": True}}


async def test_the_profile_cache_keeps_at_most_its_size_the_most_recent(clock: Clock) -> None:
    users, cache = Users(), ProfileCache(max_entries=3, clock=clock)
    for user in ("U1", "U2", "U3"):
        await cache.actor(users, "T1", user)
    await cache.actor(users, "T1", "U1")  # read again: now the most recent
    for user in ("U4", "U5"):
        await cache.actor(users, "T1", user)
    assert len(cache) == 3
    assert [("T1", user) in cache for user in ("U1", "U2", "U3", "U4", "U5")] == [
        True, False, False, True, True,
    ]  # fmt: skip
    assert (await cache.actor(users, "T1", "U1")).role is Role.ADMIN
    assert users.calls == 5


async def test_expired_profiles_leave_the_cache(clock: Clock) -> None:
    users, cache = Users(), ProfileCache(max_entries=10, clock=clock)
    for user in ("U1", "U2"):
        await cache.actor(users, "T1", user)
    clock.now += 3601
    await cache.actor(users, "T1", "U3")
    assert len(cache) == 1 and ("T1", "U3") in cache


async def test_ten_thousand_reps_fill_the_cache_no_further(clock: Clock) -> None:
    users, cache = Users(), ProfileCache(clock=clock)
    for n in range(10_050):
        await cache.actor(users, "T1", f"U{n}")
    assert len(cache) == 10_000
