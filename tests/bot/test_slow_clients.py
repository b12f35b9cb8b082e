"""Slow and hostile clients on loopback: they are dropped on a deadline and /healthz answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import Config
from bot.server import CappingEventLoop, ConnectionCap, Limits, create_app, runner_options

SLOW_CLIENTS = 50
LIMITS = Limits(
    header_seconds=2.0,
    body_seconds=2.0,
    max_bodies_reading=SLOW_CLIENTS,
    max_connections=SLOW_CLIENTS + 20,
)


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    port: int


async def read_like_the_adapters(request: web.Request) -> web.Response:
    """A handler that reads the body as the Slack and Teams adapters do."""
    raw = await request.read()
    return web.json_response({"bytes": len(raw)})


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    app = await create_app(Config(db_path=str(tmp_path / "coach.db")), adapters=[], limits=LIMITS)
    app.router.add_post("/echo", read_like_the_adapters)
    runner = web.AppRunner(app, **runner_options(LIMITS))
    await runner.setup()
    assert runner.server is not None
    # What serve's CappingEventLoop does to every site aiohttp starts.
    capped = ConnectionCap(runner.server, LIMITS.max_connections)
    listening = await asyncio.get_running_loop().create_server(capped, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", port)
    finally:
        listening.close()
        await runner.cleanup()


async def trickle_a_body(port: int, seconds: float) -> bytes:
    """Send the headers of a 1,000-byte POST, then one body byte a second; what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    writer.write(f"{head}Content-Length: 1000\r\n\r\n".encode())
    answer = b""
    try:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            writer.write(b" ")
            await writer.drain()
            try:
                answer += await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                continue
            if answer == b"" or reader.at_eof():
                break
    except ConnectionError:
        pass
    finally:
        writer.close()
    return answer


async def trickle_headers(port: int, seconds: float) -> bool:
    """Send a header line a second; True if the server closed the connection meanwhile."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    try:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(4096), 1.0) == b"":
                    return True
            except TimeoutError:
                continue
    except ConnectionError:
        return True
    finally:
        writer.close()
    return False


async def healthz_times(url: str, seconds: float) -> list[float]:
    times = []
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            before = time.monotonic()
            async with session.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(5)) as reply:
                assert reply.status == 200
            times.append(time.monotonic() - before)
            await asyncio.sleep(0.2)
    return times


async def test_healthz_answers_while_slow_bodies_are_dropped_on_the_deadline(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slow = [trickle_a_body(served.port, seconds=8) for _ in range(SLOW_CLIENTS)]
    answers, times = await asyncio.gather(
        asyncio.gather(*slow), healthz_times(served.url, seconds=4)
    )
    assert max(times) < 1.0
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[:3]
    assert not [record for record in caplog.records if record.exc_info]


async def test_a_connection_trickling_its_headers_is_closed_on_the_deadline(
    served: Served,
) -> None:
    started = time.monotonic()
    assert await trickle_headers(served.port, seconds=8)
    assert time.monotonic() - started < LIMITS.header_seconds + 2


async def test_the_body_the_server_read_in_time_reaches_the_handler(served: Served) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{served.url}/echo", data=b"x" * 1000) as reply,
    ):
        assert reply.status == 200
        assert await reply.json() == {"bytes": 1000}


async def test_a_body_over_256_kib_is_refused(served: Served) -> None:
    body = b"x" * (256 * 1024 + 1)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{served.url}/echo", data=body) as reply,
    ):
        assert reply.status == 413


async def test_slow_bodies_beyond_the_cap_are_refused_at_once(served: Served) -> None:
    slow = [
        asyncio.create_task(trickle_a_body(served.port, seconds=4)) for _ in range(SLOW_CLIENTS)
    ]
    await asyncio.sleep(0.5)
    started = time.monotonic()
    answer = await trickle_a_body(served.port, seconds=4)
    assert answer.startswith(b"HTTP/1.1 503")
    assert time.monotonic() - started < 1.5
    await asyncio.gather(*slow)


async def test_connections_beyond_the_cap_are_closed_at_once_and_healthz_still_answers(
    served: Served,
) -> None:
    held = [
        await asyncio.open_connection("127.0.0.1", served.port)
        for _ in range(LIMITS.max_connections)
    ]
    await asyncio.sleep(0.2)  # the server has accepted every one of them
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503")
    for _, held_writer in held[:5]:
        held_writer.close()
    await asyncio.sleep(0.2)
    times = await healthz_times(served.url, seconds=0.5)
    assert times and max(times) < 1.0
    for _, held_writer in held[5:]:
        held_writer.close()


def test_the_serving_loop_caps_every_site_aiohttp_starts() -> None:
    loop = CappingEventLoop(max_connections=2)
    try:
        assert loop.run_until_complete(answer_beyond_two_connections()).startswith(b"HTTP/1.1 503")
    finally:
        loop.close()


async def answer_beyond_two_connections() -> bytes:
    """A plain aiohttp Server listening as web.run_app's sites do: the third one's answer."""
    server = web.Server(healthz_handler)
    listening = await asyncio.get_running_loop().create_server(server, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    await asyncio.sleep(0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = await asyncio.wait_for(reader.read(), 2)
    for _, held_writer in [*held, (reader, writer)]:
        held_writer.close()
    listening.close()
    await server.shutdown(1)
    return answer


async def healthz_handler(_: web.BaseRequest) -> web.Response:
    return web.Response(text="alive")


async def test_a_refusal_logs_the_route_never_the_path_a_client_sent(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voicemail_coach.server")
    body = b"x" * (256 * 1024 + 1)
    async with aiohttp.ClientSession() as session:
        for path in ("/echo", "/Jane-MARKER-Doe-555-0100"):
            async with session.post(f"{served.url}{path}", data=body) as reply:
                assert reply.status == 413
    refusals = [record for record in caplog.records if record.msg == "request_refused"]
    assert [record.__dict__["route"] for record in refusals] == ["/echo", "unmatched"]
    assert not [record for record in caplog.records if "MARKER" in str(record.__dict__)]
