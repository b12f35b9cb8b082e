"""Microsoft on loopback: OpenID metadata and signing keys, an https login endpoint with a
certificate made here, and a Bot Connector that records what the bot sends. Our real server
runs the Teams adapter with botbuilder's real authentication against them.

botbuilder fetches the metadata and keys with blocking `requests` calls on the event loop, and
msal fetches tokens the same way, so those two fakes run in threads of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest.mock import patch

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import JwtTokenExtractor
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from adapters.teams.adapter import MESSAGES_PATH, TeamsAdapter
from bot.adapters import Adapter, installed_adapters
from bot.config import Config
from bot.server import SERVICES, Services, Tier, create_app
from tests.adapters.slack.conftest import Logs, logs  # noqa: F401  (the fixture, re-exported)

APP_ID = "00000000-aaaa-4000-8000-000000000001"
APP_PASSWORD = "test-app-password"
TENANT = "11111111-bbbb-4000-8000-000000000001"
OTHER_TENANT = "22222222-cccc-4000-8000-000000000002"
ISSUER = "https://api.botframework.com"
KID = "test-signing-key"
USER = "29:1rita-rep"
BOT = f"28:{APP_ID}"
PERSONAL_CHAT = "a:1personal-chat-of-rita"
CREATED_CHAT = "a:1personal-chat-opened-by-the-bot"
TEAM_CHANNEL = "19:sales-floor@thread.tacv2;messageid=1700000000000"
ACCESS_TOKEN = "outbound-token-from-the-fake-login"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = _rsa_key()
OTHER_KEY = _rsa_key()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass

    def answer(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ThreadedServer:
    """An http.server in a thread of its own (https when given a certificate)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class FakeOpenId:
    """Bot Framework's OpenID metadata and signing keys (the keys endorse msteams)."""

    url: str = ""
    fetches: int = 0
    delay_seconds: float = 0.0

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"


@pytest.fixture
def fake_openid() -> Iterator[FakeOpenId]:
    fake = FakeOpenId()
    jwk = json.loads(RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))

    class Handler(_Quiet):
        def do_GET(self) -> None:
            fake.fetches += 1
            time.sleep(fake.delay_seconds)
            if self.path == "/v1/.well-known/openidconfiguration":
                self.answer(200, {"issuer": ISSUER, "jwks_uri": f"{fake.url}/v1/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})  # fmt: skip
            elif self.path == "/v1/keys":
                key = {**jwk, "kid": KID, "use": "sig", "endorsements": ["msteams"]}
                self.answer(200, {"keys": [key]})
            else:
                self.answer(404, {})

    server = ThreadedServer(Handler)
    fake.url = server.url
    JwtTokenExtractor.metadataCache.clear()
    try:
        yield fake
    finally:
        server.close()
        JwtTokenExtractor.metadataCache.clear()


@dataclass
class FakeLogin:
    """Microsoft Entra's token endpoint for one tenant, over https."""

    url: str = ""
    ca_file: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def authority(self) -> str:
        return f"{self.url}/{TENANT}"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = _rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "login.crt", folder / "login.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def fake_login(tmp_path: Path) -> Iterator[FakeLogin]:
    fake = FakeLogin()
    cert_file, key_file = _self_signed(tmp_path)
    fake.ca_file = str(cert_file)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)

    class Handler(_Quiet):
        def do_GET(self) -> None:
            if self.path.startswith(f"/{TENANT}/v2.0/.well-known/openid-configuration"):
                base = fake.authority
                self.answer(200, {"issuer": f"{base}/v2.0",
                                  "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{base}/oauth2/v2.0/token"})  # fmt: skip
            else:
                self.answer(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(
                pair.split("=", 1) for pair in self.rfile.read(length).decode().split("&") if pair
            )
            fake.token_requests.append(form)
            if form.get("client_secret") != APP_PASSWORD:
                self.answer(401, {"error": "invalid_client"})
                return
            self.answer(200, {"token_type": "Bearer", "expires_in": 3600,
                              "access_token": ACCESS_TOKEN})  # fmt: skip

    server = ThreadedServer(Handler, tls)
    fake.url = server.url
    try:
        yield fake
    finally:
        server.close()


@dataclass
class FakeConnector:
    """The Bot Connector: records every activity the bot sends, with its Authorization."""

    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    refuse_with: tuple[int, str] | None = None  # (HTTP status, error code)
    answer_first: list[int] = field(default_factory=list)  # statuses before a success
    retry_after: str = "0"  # the Retry-After those answers carry
    # (HTTP status, error code) for every message into these conversations.
    refuse_conversations: dict[str, tuple[int, str]] = field(default_factory=dict)
    attempts: list[float] = field(default_factory=list)  # when each message was tried
    delay_seconds: float = 0.0
    refuse_personal_chats: bool = False  # the app is not installed for the user
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)  # messages replaced (PUT)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(self.sent) >= count, f"{len(self.sent)} activities sent, wanted {count}"
        return self.sent

    async def nothing_sent(self, wait: float = 0.3) -> bool:
        await asyncio.sleep(wait)
        return not self.sent


@pytest.fixture
async def fake_connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()

    async def activities(request: web.Request) -> web.Response:
        await asyncio.sleep(fake.delay_seconds)
        fake.attempts.append(time.monotonic())
        if fake.answer_first:
            status = fake.answer_first.pop(0)
            error = {"error": {"code": f"Status{status}", "message": "Try again later."}}
            headers = {"Retry-After": fake.retry_after}
            return web.json_response(error, status=status, headers=headers)
        refused = fake.refuse_conversations.get(request.match_info["conversation"])
        if refused is not None:
            status, code = refused
            error = {"error": {"code": code, "message": "The bot is not part of the roster."}}
            return web.json_response(error, status=status)
        if fake.refuse_with is not None:
            status, code = fake.refuse_with
            error = {"error": {"code": code, "message": "The bot is not part of the roster."}}
            return web.json_response(error, status=status)
        body = await request.json()
        fake.sent.append({"conversation": request.match_info["conversation"],
                          "reply_to": request.match_info.get("activity"),
                          "authorization": request.headers.get("Authorization"),
                          "activity": body})  # fmt: skip
        return web.json_response({"id": f"sent-{len(fake.sent)}"})

    async def conversations(request: web.Request) -> web.Response:
        if fake.refuse_personal_chats:
            error = {"error": {"code": "BotNotInConversationRoster", "message": "Not installed."}}
            return web.json_response(error, status=403)
        fake.created.append(await request.json())
        return web.json_response({"id": CREATED_CHAT, "activityId": None})

    app = web.Application()
    app.router.add_post("/v3/conversations", conversations)
    app.router.add_post("/v3/conversations/{conversation}/activities", activities)
    app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", activities)

    async def update(request: web.Request) -> web.Response:
        fake.updated.append({"conversation": request.match_info["conversation"],
                             "activity_id": request.match_info["activity"],
                             "activity": await request.json()})  # fmt: skip
        return web.json_response({"id": request.match_info["activity"]})

    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", update)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/"))
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
def teams_env(
    monkeypatch: pytest.MonkeyPatch, fake_openid: FakeOpenId, fake_login: FakeLogin
) -> None:
    for name in ("TEAMS_ALLOWED_TENANTS", "TEAMS_ALLOW_ANONYMOUS", "MICROSOFT_APP_TYPE",
                 "SSL_CERT_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", APP_PASSWORD)
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", TENANT)
    monkeypatch.setenv("MICROSOFT_OPENID_METADATA_URL", fake_openid.metadata_url)
    monkeypatch.setenv("MICROSOFT_LOGIN_URL", fake_login.authority)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_login.ca_file)


def token(
    service_url: str,
    *,
    key: rsa.RSAPrivateKey = SIGNING_KEY,
    kid: str = KID,
    audience: str = APP_ID,
    issuer: str = ISSUER,
    expires_in: int = 600,
) -> str:
    """A Bot Framework channel token, RS256, as Microsoft signs it."""
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "serviceurl": service_url,
              "nbf": now - 60, "iat": now - 60, "exp": now + expires_in}  # fmt: skip
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@dataclass
class Teams:
    """Our server with the Teams adapter mounted, and the fakes it talks to."""

    client: TestClient[web.Request, web.Application]
    connector: FakeConnector
    login: FakeLogin

    @property
    def services(self) -> Services:
        app = self.client.app
        assert app is not None
        return app[SERVICES]

    @property
    def adapter(self) -> TeamsAdapter:
        adapter = self.services.adapters["teams"]
        assert isinstance(adapter, TeamsAdapter)
        return adapter

    def activity(self, kind: str = "message", **fields: Any) -> dict[str, Any]:
        """An activity as Teams sends it, in Rita's personal chat of TENANT."""
        tenant = fields.pop("tenant", TENANT)
        conversation_type = fields.pop("conversation_type", "personal")
        activity: dict[str, Any] = {
            "type": kind,
            "id": fields.pop("id", f"1{uuid.uuid4().hex[:12]}"),
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": USER, "name": "Rita Rep", "aadObjectId": "aad-rita"},
            "conversation": {"id": fields.pop("conversation", PERSONAL_CHAT),
                             "conversationType": conversation_type, "tenantId": tenant},
            "recipient": {"id": BOT, "name": "Voicemail Coach"},
            "entities": [{"type": "clientInfo", "locale": "en-US",
                          "timezone": "America/New_York"}],
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-US",
        }  # fmt: skip
        activity.update(fields)
        return activity

    def message(self, text: str, **fields: Any) -> dict[str, Any]:
        return self.activity("message", text=text, **fields)

    def click(self, action: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """The adaptiveCard/action invoke Teams sends when the rep clicks an Action.Execute."""
        value = {"action": {"type": "Action.Execute", "verb": action.get("verb"),
                            "data": action.get("data")}, "trigger": "manual"}  # fmt: skip
        return self.activity("invoke", name="adaptiveCard/action", value=value, **fields)

    async def post(
        self, activity: dict[str, Any] | bytes, *, authorization: str | None = "sign"
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if authorization == "sign":
            authorization = f"Bearer {token(self.connector.url)}"
        if authorization is not None:
            headers["Authorization"] = authorization
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        return await self.client.post(MESSAGES_PATH, data=body, headers=headers)

    async def stored_chat(self, tenant: str = TENANT, user: str = USER) -> str | None:
        return await self.services.store.get_document(tenant, "teams-ref", user)


async def start_teams(
    config: Config, tier: Tier = Tier.ALL
) -> TestClient[web.Request, web.Application]:
    """The server as `serve` runs it, with the Teams adapter among the installed ones (its
    entry point may not be in this venv's metadata yet)."""
    with patch("bot.server.installed_adapters", adapters_with_teams):
        app = await create_app(config, tier=tier)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def adapters_with_teams() -> list[Adapter]:
    found = installed_adapters()
    if not any(adapter.name == "teams" for adapter in found):
        found.append(TeamsAdapter())
    return found


@pytest.fixture
async def teams(
    teams_env: None, fake_connector: FakeConnector, fake_login: FakeLogin, tmp_path: Path
) -> AsyncIterator[Teams]:
    client = await start_teams(Config(db_path=str(tmp_path / "t.db")))
    try:
        yield Teams(client, fake_connector, fake_login)
    finally:
        await client.close()
