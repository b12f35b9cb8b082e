"""A fake Slack Web API on loopback, for tests in this process and for tests that start workers
in processes of their own.

It records every Web API call and every answer posted to a response_url, keeps each direct
message channel's history (with message metadata) for conversations.history, and takes files
the way files upload v2 sends them (files.getUploadURLExternal, a POST of the bytes to the
upload URL it gave, files.completeUploadExternal). It can answer some requests 429 with a
Retry-After, or 500, to see that a client honours them; such a request is refused before it is
recorded or takes effect, as Slack does.

As a process (the integrator's multi-process tests and the benchmark):

    python -m tests.fakes.slack_api --port 8765 --record posted.jsonl \\
        [--host 127.0.0.1] [--rate-limit-every N] [--fail-every N] [--retry-after 1] \\
        [--delay users.info=1.5]

It prints `listening on http://HOST:PORT` once it listens (with --port 0, on a free port),
records each chat.postMessage it accepts as one JSON line in the --record file (channel,
user, token, ref, text, ts) and each answer posted to a response_url as one with its name
(response_url, text), and stops on SIGTERM or SIGINT. Point SLACK_API_URL at
`http://HOST:PORT/api/`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from aiohttp import web

METADATA_EVENT = "voicemail_coach_send"


@dataclass
class FakeSlack:
    """What Slack was asked and answered; switches that make it refuse some requests."""

    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    admins: set[str] = field(default_factory=set)
    fail_users_info: bool = False
    fail_methods: set[str] = field(default_factory=set)  # answered channel_not_found
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    # HTTP statuses (429 or 5xx) to answer the next requests to a method with, in order.
    refuse_next: dict[str, list[int]] = field(default_factory=dict)
    rate_limit_every: int = 0  # every Nth API request is answered 429 (0: never)
    fail_every: int = 0  # every Nth API request is answered 500 (0: never)
    retry_after: int = 1
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds before answering
    keep_calls: bool = True  # off in a long-running process: the record file is enough
    record: IO[str] | None = None
    # OAuth: the app credentials oauth.v2.access accepts, the team it installs into, and the
    # bot tokens it has issued (auth.test answers for their team).
    client_id: str = "111.222"
    client_secret: str = "test-client-secret"
    install_team: str = "T9"
    installed: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # newest first
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> the bytes uploaded
    refused: list[tuple[str, int]] = field(default_factory=list)  # (method, status)
    requests: int = 0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/respond/{name}"

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    async def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        calls = self.calls_to(method)
        assert len(calls) >= count, f"{len(calls)} calls to {method}, wanted {count}"
        return calls

    async def wait_for_responses(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.responses) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(self.responses) >= count, f"{len(self.responses)} responses, wanted {count}"
        return self.responses

    def refusal(self, method: str) -> int | None:
        """The status to refuse this request with, if any (counts the request)."""
        self.requests += 1
        queued = self.refuse_next.get(method)
        if queued:
            return queued.pop(0)
        if self.rate_limit_every and self.requests % self.rate_limit_every == 0:
            return 429
        if self.fail_every and self.requests % self.fail_every == 0:
            return 500
        return None

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def dm_channel(user: str) -> str:
    """The direct message channel of a user with the bot: U1 -> D1."""
    return "D" + user[1:] if user[:1] in ("U", "W") else user


def _answer(fake: FakeSlack, method: str, args: dict[str, Any], auth: str = "") -> dict[str, Any]:
    if method in fake.fail_methods:
        return {"ok": False, "error": "channel_not_found"}
    if method in fake.errors:
        return {"ok": False, "error": fake.errors[method]}
    if method == "oauth.v2.access":
        return _oauth_v2_access(fake, args, auth)
    if method == "auth.test" and auth.removeprefix("Bearer ") in fake.installed:
        team = fake.installed[auth.removeprefix("Bearer ")]
        return {"ok": True, "team_id": team, "user_id": f"UBOT{team}", "bot_id": f"B{team}",
                "team": "Acme Sales", "url": "https://acme-sales.slack.com/",
                "is_enterprise_install": False}  # fmt: skip
    if method == "apps.connections.open":  # Slack is out of reach in tests: Socket Mode fails
        return {"ok": False, "error": "invalid_auth"}
    if method == "auth.test":
        return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1", "team": "t"}
    if method == "users.info":
        return _users_info(fake, args)
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": dm_channel(str(args.get("users") or ""))}}
    if method == "chat.postMessage":
        return _post_message(fake, args, auth.removeprefix("Bearer "))
    if method == "chat.postEphemeral":
        return {"ok": True, "channel": str(args.get("channel") or ""), "ts": fake.next_ts()}
    if method == "conversations.history":
        return _history(fake, args)
    if method == "files.getUploadURLExternal":
        file_id = f"F{len(fake.uploads) + 1:06d}"
        fake.uploads[file_id] = b""
        return {"ok": True, "file_id": file_id, "upload_url": f"{fake.url}/upload/{file_id}"}
    if method == "files.completeUploadExternal":
        return _complete_upload(fake, args)
    return {"ok": True}


def _users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if fake.fail_users_info:
        return {"ok": False, "error": "user_not_found"}
    user = str(args.get("user"))
    return {
        "ok": True,
        "user": {
            "id": user,
            "name": "rita",
            "real_name": "Rita Rep",
            "tz": "America/New_York",
            "is_admin": user in fake.admins,
            "is_owner": False,
            "profile": {"real_name": "Rita Rep", "phone": "+1 555 010 0199"},
        },
    }


def _post_message(fake: FakeSlack, args: dict[str, Any], token: str = "") -> dict[str, Any]:
    """A message into a channel (a user id posts into their direct message with the bot)."""
    channel = dm_channel(str(args.get("channel") or ""))
    ts = fake.next_ts()
    message: dict[str, Any] = {"type": "message", "ts": ts, "text": args.get("text", "")}
    metadata = _json_arg(args.get("metadata"))
    if isinstance(metadata, dict):
        message["metadata"] = metadata
    fake.history.setdefault(channel, []).insert(0, message)
    if fake.record is not None:
        payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
        line = {
            "channel": channel,
            "user": "U" + channel[1:] if channel.startswith("D") else None,
            "token": token,  # with OAuth, each workspace's own: which tenant it went to
            "ref": payload.get("ref") if isinstance(payload, dict) else None,
            "text": message["text"],
            "ts": ts,
        }
        fake.record.write(json.dumps(line) + "\n")
        fake.record.flush()
    return {"ok": True, "channel": channel, "ts": ts, "message": message}


def _history(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel") or "")
    limit = int(str(args.get("limit") or 100))
    with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
    messages = [
        message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
        for message in fake.history.get(channel, [])[:limit]
    ]
    return {"ok": True, "messages": messages, "has_more": False}


def _complete_upload(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    files = _json_arg(args.get("files"))
    if not isinstance(files, list) or not all(
        isinstance(item, dict) and fake.uploads.get(str(item.get("id"))) for item in files
    ):
        return {"ok": False, "error": "invalid_arguments"}
    channel = str(args.get("channel_id") or "")
    if channel:
        fake.history.setdefault(channel, []).insert(
            0, {"type": "message", "ts": fake.next_ts(), "files": files}
        )
    return {"ok": True, "files": [{"id": item["id"], "title": item.get("title")} for item in files]}


def _json_arg(value: object) -> object:
    """An argument slack_sdk sends as JSON text in a form (or as JSON in a JSON body)."""
    if isinstance(value, str):
        with suppress(ValueError):
            return json.loads(value)
    return value


def _oauth_v2_access(fake: FakeSlack, args: dict[str, Any], auth: str) -> dict[str, Any]:
    """A realistic oauth.v2.access answer for a bot-scope install (no user scopes)."""
    expected = (
        "Basic " + base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    )
    if auth != expected:
        return {"ok": False, "error": "invalid_client_id"}
    if not str(args.get("code") or "").startswith("code-"):
        return {"ok": False, "error": "invalid_code"}
    team = fake.install_team
    token = f"xoxb-{team}-{len(fake.installed) + 1}-installed"
    fake.installed[token] = team
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "U-installer"},
        "scope": "commands,chat:write,im:write,im:history,files:write,users:read",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": f"UBOT{team}",
        "team": {"id": team, "name": "Acme Sales"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _refused(fake: FakeSlack, method: str, status: int) -> web.Response:
    fake.refused.append((method, status))
    if status == 429:
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(fake.retry_after)},
        )
    return web.Response(status=status, text="Internal Server Error")


async def fake_slack_app(fake: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in fake.delays:  # a slow Slack: the caller's job stays in flight meanwhile
            await asyncio.sleep(fake.delays[method])
        status = fake.refusal(method)
        if status is not None:
            return _refused(fake, method, status)
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args |= await request.json()
        elif request.method == "POST":
            args |= dict(await request.post())
        if fake.keep_calls:
            fake.calls.append((method, args))
        auth = request.headers.get("Authorization", "")
        return web.json_response(_answer(fake, method, args, auth))

    async def upload(request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        status = fake.refusal("upload")
        if status is not None:
            return _refused(fake, "upload", status)
        if file_id not in fake.uploads:
            return web.Response(status=404)
        fake.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(fake.uploads[file_id])}")

    async def respond(request: web.Request) -> web.Response:
        fake.responses.append(await request.json())
        if fake.record is not None:
            line = {
                "response_url": request.match_info["name"],
                "text": fake.responses[-1].get("text"),
            }
            fake.record.write(json.dumps(line) + "\n")
            fake.record.flush()
        return web.Response(text="ok")

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/upload/{file_id}", upload)
    app.router.add_post("/respond/{name}", respond)
    return app


@asynccontextmanager
async def serving_fake_slack(
    fake: FakeSlack | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[FakeSlack]:
    """The fake listening on host:port (0: a free port) until the block ends; its url set."""
    fake = fake or FakeSlack()
    runner = web.AppRunner(await fake_slack_app(fake), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    fake.url = f"http://{host}:{sockets[0].getsockname()[1] if sockets else port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


async def _serve_until_stopped(fake: FakeSlack, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serving_fake_slack(fake, host, port):
        print(f"listening on {fake.url}", flush=True)
        await stop.wait()


def run_fake_slack(
    port: int,
    *,
    host: str = "127.0.0.1",
    record: Path | None = None,
    rate_limit_every: int = 0,
    fail_every: int = 0,
    retry_after: int = 1,
    delays: dict[str, float] | None = None,
) -> None:
    """Serve the fake until SIGTERM or SIGINT, each accepted chat.postMessage a line in
    `record`."""
    fake = FakeSlack(
        rate_limit_every=rate_limit_every,
        fail_every=fail_every,
        retry_after=retry_after,
        delays=delays or {},
        keep_calls=False,
    )
    with record.open("a", encoding="utf-8") if record else nullcontext() as file:
        fake.record = file
        asyncio.run(_serve_until_stopped(fake, host, port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.slack_api", description="A fake Slack Web API on loopback."
    )
    parser.add_argument("--port", type=int, required=True, help="0 for a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--record", type=Path, help="a JSON line per accepted chat.postMessage")
    parser.add_argument("--rate-limit-every", type=int, default=0, metavar="N",
                        help="answer every Nth API request 429 with Retry-After")  # fmt: skip
    parser.add_argument("--fail-every", type=int, default=0, metavar="N",
                        help="answer every Nth API request 500")  # fmt: skip
    parser.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    parser.add_argument("--delay", action="append", default=[], metavar="METHOD=SECONDS",
                        help="answer each request to METHOD (users.info) SECONDS late")  # fmt: skip
    args = parser.parse_args(argv)
    run_fake_slack(
        args.port,
        host=args.host,
        record=args.record,
        rate_limit_every=args.rate_limit_every,
        fail_every=args.fail_every,
        retry_after=args.retry_after,
        delays={m: float(s) for m, _, s in (d.partition("=") for d in args.delay)},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
