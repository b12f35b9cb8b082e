"""A reply's chart in the terminal: saved as a PNG file, its path printed under the reply."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from adapters.console.adapter import ConsoleAdapter, terminal_text
from bot.adapters import Address, Delivery
from bot.types import Image, Reply

PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 100
DIGEST = Reply(
    heading="Your team last week",
    paragraphs=("12 dials.",),
    image=Image(PNG, "Rita: 12 dials", "digest-sales-2026-11-23.png"),
    ref="d-1",
)
HERE = Address("console", "console", "sam")


async def delivered(adapter_dir: Path | None, reply: Reply = DIGEST) -> tuple[str, Path]:
    printed: list[str] = []
    adapter = ConsoleAdapter(lambda reply, how: printed.append(terminal_text(reply, how)),
                             charts_dir=adapter_dir)  # fmt: skip
    await adapter.deliver(reply, HERE, Delivery.DIRECT)
    (text,) = printed
    chart = text.splitlines()[-1].strip()
    assert chart.startswith("Chart: "), text
    return text, Path(chart.removeprefix("Chart: "))


async def test_the_chart_is_a_file_whose_path_is_printed_under_the_reply(tmp_path: Path) -> None:
    text, path = await delivered(tmp_path / "charts")
    assert text.startswith("Message from Voicemail Coach:\nYour team last week")
    assert path == tmp_path / "charts" / "digest-sales-2026-11-23.png"
    assert path.read_bytes() == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_by_default_the_charts_go_beside_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEMAIL_COACH_DB", str(tmp_path / "data" / "coach.db"))
    _, path = await delivered(None)
    assert path == tmp_path / "data" / "charts" / "digest-sales-2026-11-23.png"
    assert path.read_bytes() == PNG


async def test_the_same_chart_again_replaces_itself_and_no_other_file(tmp_path: Path) -> None:
    other = tmp_path / "digest-sales-2026-11-24.png"
    other.write_bytes(b"tuesday")
    await delivered(tmp_path)
    again = Reply(heading="Again", image=Image(b"newer", "x", DIGEST.image.name))  # type: ignore[union-attr]
    _, path = await delivered(tmp_path, again)
    assert path.read_bytes() == b"newer"
    assert other.read_bytes() == b"tuesday"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, other.name]


async def test_a_chart_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    sneaky = Reply(heading="x", image=Image(PNG, "x", "../../etc/passwd"))
    _, path = await delivered(tmp_path / "charts", sneaky)
    assert path.parent == tmp_path / "charts" and path.name == "passwd.png"


async def test_a_reply_without_a_chart_writes_no_file(tmp_path: Path) -> None:
    printed: list[str] = []
    adapter = ConsoleAdapter(lambda reply, how: printed.append(terminal_text(reply, how)),
                             charts_dir=tmp_path / "charts")  # fmt: skip
    await adapter.deliver(Reply(heading="Nothing due"), HERE, Delivery.DIRECT)
    assert "Chart" not in printed[0]
    assert not (tmp_path / "charts").exists()
