"""The adapter contract: every test here runs on each adapter through the `rep` fixture.

Each adapter runs for real (Slack: our server and slack-bolt against a fake Web API on
loopback; the terminal: its own delivery), and a rep uses it as a person would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.console.terminal import console_actor, press
from adapters.slack.app import SlackAdapter
from bot.adapters import Adapter, Address, Delivery, answer
from bot.coach import Coach
from bot.config import Config
from bot.records import (
    CheckIn,
    Outcome,
    ProspectRecord,
    RepProfile,
    ScheduledSend,
    SendKind,
    TeamConfig,
    prospect_key,
)
from bot.scheduler import Scheduler
from bot.store import Store
from bot.types import Button, Image, Reply, Request, Tone
from tests.adapters.slack.conftest import Bot, running_fake_slack, serving, use_fake_slack
from tests.conftest import open_sqlite_store

ASK = "Jane Doe @ Acme referred by Tom"
JANE = prospect_key("Jane Doe", "Acme")
DIGEST_MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CHART_PNG = (  # a 1x1 white PNG: a picture every platform takes as it is
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\r\xefF"
    b"\xb8\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Rep(Protocol):
    """A rep using one adapter; what they see is returned as text."""

    @property
    def adapter(self) -> Adapter: ...

    @property
    def store(self) -> Store: ...

    tenant: str
    user_id: str
    keeps_things: bool  # whether the adapter keeps anything of a rep who uses it

    async def say(self, text: str) -> str: ...

    async def press(self, label: str) -> str:
        """Press the button labelled `label` on the last answer."""
        ...

    async def read_direct_chat(self) -> str:
        """The last message that arrived in the rep's direct chat with the bot."""
        ...

    async def read_direct_chart(self) -> bytes:
        """The picture that last arrived in the rep's direct chat, as its PNG."""
        ...

    async def break_the_store(self) -> None: ...

    async def adapter_keeps_something(self) -> bool:
        """Whether the adapter holds anything of the rep's (a stored chat, a cached profile)."""
        ...


@dataclass
class SlackRep:
    bot: Bot
    tenant: str = "T1"
    user_id: str = "U1"
    keeps_things: bool = True  # the rep's Slack profile, cached
    last: dict[str, Any] = field(default_factory=dict)

    @property
    def adapter(self) -> Adapter:
        return self.bot.services.adapters["slack"]

    @property
    def store(self) -> Store:
        return self.bot.services.store

    async def say(self, text: str) -> str:
        before = len(self.bot.slack.responses)
        response = await self.bot.post(self.bot.command_body(text, n=before + 1))
        assert response.status == 200
        self.last = (await self.bot.slack.wait_for_responses(before + 1))[before]
        return json.dumps(self.last, ensure_ascii=False)

    async def press(self, label: str) -> str:
        buttons = [
            element
            for block in self.last.get("blocks", [])
            if block["type"] == "actions"
            for element in block["elements"]
        ]
        button = next(b for b in buttons if b["text"]["text"] == label)
        before = len(self.bot.slack.responses)
        clicks = len([r for r in self.bot.slack.responses if "replace_original" in r])
        response = await self.bot.post(self.bot.click_body(button, ts=f"9.{clicks}"))
        assert response.status == 200
        return json.dumps((await self.bot.slack.wait_for_responses(before + 1))[before])

    async def read_direct_chat(self) -> str:
        posted = await self.bot.slack.wait_for_calls("chat.postMessage")
        return json.dumps(posted[-1], ensure_ascii=False)

    async def read_direct_chart(self) -> bytes:
        (completed, *_) = await self.bot.slack.wait_for_calls("files.completeUploadExternal")
        assert completed["channel_id"] == "D" + self.user_id[1:]  # the rep's DM with the bot
        (uploaded,) = json.loads(completed["files"])
        return self.bot.slack.uploads[uploaded["id"]]

    async def break_the_store(self) -> None:
        await self.store.close()

    async def adapter_keeps_something(self) -> bool:
        adapter = self.adapter
        assert isinstance(adapter, SlackAdapter)
        return (self.tenant, self.user_id) in adapter.profiles


@dataclass
class TerminalRep:
    coach: Coach
    store: Store
    charts: Path
    seen: list[tuple[Reply, Delivery]] = field(default_factory=list)
    buttons: tuple[Button, ...] = ()
    keeps_things: bool = False

    def __post_init__(self) -> None:
        self.adapter: Adapter = ConsoleAdapter(
            lambda reply, how: self.seen.append((reply, how)), charts_dir=self.charts
        )
        actor = console_actor()
        self.actor = actor
        self.tenant, self.user_id = actor.tenant, actor.user_id

    async def say(self, text: str) -> str:
        return await self._answer(Request(actor=self.actor, text=text))

    async def press(self, label: str) -> str:
        button = next(b for b in self.buttons if b.label == label)
        return await self._answer(press(self.actor, button))

    async def _answer(self, request: Request) -> str:
        address = Address("console", self.tenant, self.user_id)
        reply = await answer(self.adapter, self.coach, request, address, Delivery.ANSWER)
        if reply is not None and reply.buttons:  # a second press is of the same buttons
            self.buttons = reply.buttons
        return self.adapter.render(self.seen[-1][0])  # type: ignore[return-value]

    async def read_direct_chat(self) -> str:
        direct = [reply for reply, how in self.seen if how is Delivery.DIRECT]
        assert direct, "nothing arrived in the direct chat"
        return str(self.adapter.render(direct[-1]))

    async def read_direct_chart(self) -> bytes:
        lines = (await self.read_direct_chat()).splitlines()
        (path,) = [line.strip().removeprefix("Chart: ") for line in lines if "Chart: " in line]
        return Path(path).read_bytes()

    async def break_the_store(self) -> None:
        await self.store.close()

    async def adapter_keeps_something(self) -> bool:
        return False  # the terminal keeps nothing of its own


@pytest.fixture(params=["slack", "console"])
async def rep(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rep]:
    if request.param == "slack":
        async with slack_bot(tmp_path, monkeypatch) as bot:
            yield SlackRep(bot)
        return
    async with open_sqlite_store(tmp_path / "terminal.db") as store:
        yield TerminalRep(Coach(store), store, tmp_path / "charts")


@asynccontextmanager
async def slack_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    """Our server with the Slack adapter, against a fake Slack Web API on loopback."""
    async with running_fake_slack() as fake:
        use_fake_slack(monkeypatch, fake)
        async with serving(Config(db_path=str(tmp_path / "slack.db")), fake) as bot:
            yield bot


async def ready_for_scripts(rep: Rep) -> None:
    for line in ("me name Sam Lee", "me company Northwind", "me phone +1 555 010 0100"):
        assert "Saved" in await rep.say(line)


async def test_a_command_is_answered(rep: Rep) -> None:
    await ready_for_scripts(rep)
    seen = await rep.say(ASK)
    assert "Leave a voicemail" in seen
    assert "Tom" in seen and "Northwind" in seen


async def test_a_button_pressed_twice_logs_one_check_in(rep: Rep) -> None:
    await ready_for_scripts(rep)
    await rep.say(ASK)
    first = await rep.press("Left it")
    again = await rep.press("Left it")
    assert "Logged" in first
    assert "Already logged" in again
    assert len(await rep.store.prospect_log(rep.tenant, rep.user_id, JANE)) == 1


async def test_a_proactive_message_arrives_in_the_direct_chat(rep: Rep) -> None:
    address = await rep.adapter.direct_chat(rep.tenant, rep.user_id)
    assert address is not None
    nudge = Reply(heading="Two call-backs are due today", tone=Tone.INFO)
    await rep.adapter.deliver(nudge, address, Delivery.DIRECT)
    assert "Two call-backs are due today" in await rep.read_direct_chat()


async def test_a_digest_arrives_in_the_direct_chat_with_its_chart(rep: Rep) -> None:
    address = await rep.adapter.direct_chat(rep.tenant, rep.user_id)
    assert address is not None
    chart = Image(CHART_PNG, "Sam: 12 dials, 3 voicemails left, 1 callback", "digest-t-1.png")
    digest = Reply(heading="Your team last week", image=chart, ref="digest:t:1")
    await rep.adapter.deliver(digest, address, Delivery.DIRECT)
    assert "Your team last week" in await rep.read_direct_chat()
    assert await rep.read_direct_chart() == CHART_PNG


async def test_a_failure_apologises(rep: Rep) -> None:
    await rep.break_the_store()
    seen = await rep.say(ASK)
    assert "Sorry, something went wrong on my side" in seen
    assert "Nothing was saved" in seen


async def test_forget_me_erases_the_reps_data_and_what_the_adapter_keeps(rep: Rep) -> None:
    await ready_for_scripts(rep)
    await rep.say(ASK)
    assert await rep.adapter_keeps_something() is rep.keeps_things
    assert "forget me confirm" in await rep.say("forget me")
    assert "erased" in await rep.say("forget me confirm")
    assert await rep.store.export_rep(rep.tenant, rep.user_id) == {
        "profile": None, "prospects": [], "check_ins": [],
    }  # fmt: skip
    assert not await rep.adapter_keeps_something()


async def test_the_scheduler_sends_a_managers_digest_once_with_its_chart(rep: Rep) -> None:
    """Monday's weekly digest, built and sent by the scheduler through this adapter; a
    second look at the same morning finds it sent."""
    manager, tenant, platform = rep.user_id, rep.tenant, rep.adapter.name
    await rep.store.save_rep(RepProfile(tenant, manager, name="Dana", timezone="UTC",
                                        team=manager, platform=platform))  # fmt: skip
    await rep.store.save_rep(RepProfile(tenant, "U-sam", name="Sam", team=manager))
    await rep.store.save_team(TeamConfig(tenant, manager, label="Dana's team", managers=(manager,)))
    last_week = DIGEST_MONDAY - timedelta(days=3)
    record = ProspectRecord(tenant, "U-sam", JANE, "Jane Doe", "Acme")
    check_in = CheckIn(tenant, "U-sam", manager, JANE, Outcome.LEFT, last_week, key="k1")
    assert await rep.store.record_check_in(record, check_in)
    scheduler = Scheduler(rep.store, None, {platform: rep.adapter}, clock=lambda: DIGEST_MONDAY)
    send = ScheduledSend(tenant, manager, SendKind.WEEKLY_DIGEST, DIGEST_MONDAY, platform)

    first = await scheduler.deliver_due(send, DIGEST_MONDAY)
    again = await scheduler.deliver_due(send, DIGEST_MONDAY + timedelta(minutes=5))

    assert (first.status, again.status) == ("sent", "done")
    seen = await rep.read_direct_chat()
    assert "Team digest: Dana's team" in seen and "Voicemails left" in seen
    assert (await rep.read_direct_chart()).startswith(b"\x89PNG")
