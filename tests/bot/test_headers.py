"""No response names the server's software versions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.server import create_app


async def test_no_response_gives_aiohttp_or_python_versions(tmp_path: Path) -> None:
    app = await create_app(Config(db_path=str(tmp_path / "coach.db")), adapters=[])
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    async with client:
        for path in ("/healthz", "/readyz", "/nowhere"):
            response = await client.get(path)
            assert response.headers["Server"] == "voicemail-coach", path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert (await client.post("/healthz")).headers["Server"] == "voicemail-coach"


async def test_a_malformed_request_is_answered_without_versions(tmp_path: Path) -> None:
    app = await create_app(Config(db_path=str(tmp_path / "coach.db")), adapters=[])
    server = TestServer(app)
    async with server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b"aiohttp" not in answer and b"Python" not in answer
