"""Teams messages over HTTP: our service against a bare botbuilder CloudAdapter bot, on loopback.

    .venv/bin/python bench/teams_http.py [--rate 100 --seconds 10 --max-rate 3000 --floor auth ...]

Starts these subprocesses, all on 127.0.0.1:
  - a fake Microsoft (aiohttp): Bot Framework's OpenID metadata and its signing keys (JWKS, the
    key endorsing msteams), from a key pair this process makes for the run; Entra's token
    endpoint for the bot's tenant, over https with a certificate made for the run (msal
    insists on https; REQUESTS_CA_BUNDLE names the certificate); and the Bot Connector (the
    activities' serviceUrl), which records each reply by the message it answers;
  - the service's web tier, `voicemail-coach serve --no-worker`, on Redis under a key prefix of
    its own (deleted at the end), its Teams settings pointed at the fake: it checks each
    request's token with botbuilder's own validation, checks the tenant, stores the rep's
    personal chat, puts the job on the Redis stream and acks;
  - one `voicemail-coach worker`. Only acks are timed: it is paused (SIGSTOP) while any
    requests go, so the web tier has its CPU alone as the floor does (in a deployment workers
    run elsewhere). After the warm-up and each fixed-rate run it resumes and must post a reply
    to the fake Bot Connector for every message acked (drain/s: how fast it posted that
    backlog); it stays paused through the steps of 2 and is stopped after them, their jobs
    left waiting. At the end the stream must hold one job for every message the service acked;
  - the floor: a bare botbuilder bot, CloudAdapter with ConfigurationBotFrameworkAuthentication
    built from the same settings (app id and password, tenant, metadata URL, issuer) and the
    same keys, whose bot does nothing. With --floor auth (the default) each request is read
    into an Activity, authenticated by the adapter's BotFrameworkAuthentication and answered
    200: the least any botbuilder bot does to authenticate and ack, and what our service does
    before its own work (it never runs a botbuilder turn for a message). With --floor turn it
    also runs a turn, CloudAdapter.process_activity through an ActivityHandler that does
    nothing, as a stock bot would; that turn builds a connector client and a user-token client
    for every request, and each of them an msrest retry policy whose list of status codes
    takes msrest about 3 ms of CPU to build (a quadratic comprehension in
    msrest/universal_http/requests.py): some 7 ms a request, ten times the authentication.

This process is the load generator (the shared one of bench/_http.py): personal-chat messages
as Teams sends them (channelId msteams, a serviceUrl, the conversation, `from` with an
aadObjectId, channelData.tenant.id in the allowed tenant, text such as `Jane Doe @ Acme referred
by Tom`), each with `Authorization: Bearer` and an RS256 token signed as Bot Framework signs
them (iss, aud = the app id, serviceurl, nbf, exp an hour on; made once a run and reused, as
Teams reuses its tokens). Users and prospects vary; each user is seen once in a warm-up first.

1. Fixed rate, open loop: request i is due at start + i/rate and is sent then, whether or not
   earlier ones have been answered; latency is from the moment it was due to its HTTP answer
   (the ack), so falling behind shows (no coordinated omission). --repeats runs a target, the
   two taking turns; the summary takes each target's run with the median p99.
2. Highest sustained rate, open loop: steps of --step-seconds, the rate multiplied by
   --step-factor from --rate up to --max-rate, stopping at the first step that fails, then
   bisecting --refine times. A step passes when every request got a 200, p99 <= --p99-bound ms
   and the achieved rate is at least 95% of the offered rate.

Each row shows the CPU used (percent of one CPU) by the server under test, the worker, this
process, the fake Microsoft and Redis. By default the server under test is pinned to the last
CPU and this process, the fake and the worker to the others; --no-pin leaves placement to the
kernel.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and bench/policy.py would shadow
# the `policy` package; put the project root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import math
import os
import random
import signal
import ssl
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import redis.asyncio
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from bench._http import (
    HOST,
    Child,
    Cpu,
    Shots,
    acks,
    check_redis,
    complaints,
    cpu_column,
    cpu_share,
    exit_with_parent,
    fire,
    free_port,
    highest_rate,
    median_run,
    ms,
    placement,
    run_floor,
    run_timed,
    spawn,
    stop,
    wait_ready,
)
from bench._redis import delete_prefix
from bot.adapters import APOLOGY

APP_ID = "00000000-bec4-4000-8000-0000000000a1"
APP_PASSWORD = "bench-app-password"
TENANT = "11111111-bec4-4000-8000-0000000000b1"
ISSUER = "https://api.botframework.com"
KID = "bench-signing-key"
MESSAGES_PATH = "/api/messages"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
JOB_NAME = "teams.answer"
TARGET_RATE = 100.0
TARGET_P99_MS = 50.0
TARGET_SHARE = 0.70  # of the floor's highest sustained rate
ACHIEVED_SHARE = 0.95  # of the offered rate, for a step to pass
TOKEN_SECONDS = 3600
SEED = 2026
ACCESS_TOKEN = "bench-outbound-token"
JWKS_FILE, CERT_FILE, KEY_FILE = "jwks.json", "login.crt", "login.key"
FLOOR_MODES = ("auth", "turn")

USERS = 200
FIRST_NAMES = ("Jane", "Zoë", "Ana María", "Li", "Oluwaseun", "Jean-Luc", "Siobhán", "Raj")
LAST_NAMES = ("Doe", "Ñúñez", "de la Cruz", "Wang", "Adeyemi", "Picard", "O'Brien", "Patel")
COMPANIES = ("Acme", "Globex Corporation", "Initech", "Umbrella Holdings", "Hooli", "Soylent")
REFERRERS = ("Tom", "Tom", "Tom Ruiz", "Priya Raman", "Sam")
ZONES = ("America/New_York", "America/Chicago", "Europe/London", "Asia/Kolkata")


# The fake Microsoft (a subprocess)


def fake_microsoft_app(jwks: dict[str, Any], login_url: str = "") -> web.Application:
    """Bot Framework's OpenID metadata and signing keys; Entra's token endpoint for the bot's
    tenant (served over https too: msal insists); and the Bot Connector, the activities'
    serviceUrl, which records the replies by the activity they answer (nothing the bench sends
    ever leaves loopback)."""
    seen: dict[str, int] = {"metadata": 0, "keys": 0, "connector": 0, "tokens": 0}
    arrivals: dict[str, dict[int, float]] = {}
    apologies: dict[str, int] = {}
    refused: dict[str, int] = {}
    apology = APOLOGY.split(" and ", 1)[0]

    async def metadata(request: web.Request) -> web.Response:
        seen["metadata"] += 1
        base = f"http://{request.host}"
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{base}/v1/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def keys(_: web.Request) -> web.Response:
        seen["keys"] += 1
        return web.json_response(jwks)

    async def login_metadata(_: web.Request) -> web.Response:
        base = f"{login_url}/{TENANT}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    async def login_token(request: web.Request) -> web.Response:
        seen["tokens"] += 1
        form = await request.post()
        if form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        answer = {"token_type": "Bearer", "expires_in": 3600, "access_token": ACCESS_TOKEN}
        return web.json_response(answer)

    async def connector(request: web.Request) -> web.Response:
        arrived = time.monotonic()
        seen["connector"] += 1
        body = await request.text()
        # .../v3/conversations/<chat>/activities/1<tag><number>: the message answered
        answered = request.match_info["tail"].rpartition("/")[2]
        tag, number = answered[1:-7], answered[-7:]
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            refused[tag] = refused.get(tag, 0) + 1
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if number.isdigit():
            arrivals.setdefault(tag, {})[int(number)] = arrived
        if apology in body:
            apologies[tag] = apologies.get(tag, 0) + 1
        return web.json_response({"id": f"bench-sent-{seen['connector']}"})

    async def count(request: web.Request) -> web.Response:
        return web.json_response(len(arrivals.get(request.query["tag"], {})))

    async def stats(request: web.Request) -> web.Response:
        tag = request.query.get("tag")
        if tag is None:
            return web.json_response(seen)
        return web.json_response(
            {
                "arrivals": [[n, at] for n, at in arrivals.pop(tag, {}).items()],
                "apologies": apologies.pop(tag, 0),
                "refused": refused.pop(tag, 0),
            }
        )

    app = web.Application()
    app.router.add_get(METADATA_PATH, metadata)
    app.router.add_get("/v1/keys", keys)
    app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", login_metadata)
    app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", login_token)
    app.router.add_post("/connector/{tail:.*}", connector)
    app.router.add_get("/_bench/count", count)
    app.router.add_get("/_bench/stats", stats)
    app.on_startup.append(exit_with_parent)
    return app


def serve_fake_microsoft(port: int, login_port: int, folder: str) -> None:
    """Plain http on `port`, https (the certificate bench made) on `login_port`."""
    files = Path(folder)
    jwks = json.loads((files / JWKS_FILE).read_text())
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(files / CERT_FILE, files / KEY_FILE)
    app = fake_microsoft_app(jwks, f"https://{HOST}:{login_port}")

    async def serve() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, HOST, port).start()
        await web.TCPSite(runner, HOST, login_port, ssl_context=tls).start()
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()
        await runner.cleanup()

    asyncio.run(serve())


def write_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1, for the fake login endpoint (and its key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / CERT_FILE).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / KEY_FILE).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# The floor (a subprocess)


def serve_floor(port: int, mode: str) -> None:
    from botbuilder.core import ActivityHandler
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )
    from botbuilder.schema import Activity

    from adapters.teams.auth import bot_settings
    from adapters.teams.config import TeamsConfig

    # The very settings the service builds from the same environment: only the work differs.
    settings = bot_settings(TeamsConfig.from_env())
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(settings))
    bot = ActivityHandler()  # every activity handler does nothing

    auth = adapter.bot_framework_authentication

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        header = request.headers.get("Authorization", "")
        # CloudAdapter.process would answer 500 for most bad tokens: authenticate here and
        # answer 401 for any failure, as a careful bare bot does.
        try:
            if mode == "auth":
                await auth.authenticate_request(activity, header)
                return web.Response(status=200)
            invoke = await adapter.process_activity(header, activity, bot.on_turn)
        except Exception:
            return web.Response(status=401)
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    run_floor(port, MESSAGES_PATH, messages)


# Tokens and activities


class Signer:
    """Bot Framework channel tokens: RS256 with a key of this run's, served as a JWKS."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "endorsements": ["msteams"]}]}

    def token(self, service_url: str, seconds: int = TOKEN_SECONDS) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + seconds,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})


class Generator:
    """Signed personal-chat messages for one target, from distinct reps about distinct
    prospects; one token for the run, as Teams reuses its tokens until they near expiry."""

    def __init__(self, port: int, service_url: str, token: str) -> None:
        self.port = port
        self.service_url = service_url
        self.token = token
        self.rng = random.Random(SEED)

    def shots(self, tag: str, count: int, *, every_user: bool = False) -> Shots:
        raw = []
        for number in range(count):
            user = number % USERS if every_user else self.rng.randrange(USERS)
            body = json.dumps(self.activity(tag, number, user)).encode()
            head = (
                f"POST {MESSAGES_PATH} HTTP/1.1\r\n"
                f"Host: {HOST}:{self.port}\r\n"
                "User-Agent: Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)\r\n"
                f"Authorization: Bearer {self.token}\r\n"
                "Content-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n"
                "\r\n"
            )
            raw.append(head.encode() + body)
        return Shots(tag, raw)

    def activity(self, tag: str, number: int, user: int) -> dict[str, Any]:
        rng = self.rng
        text = (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} @ {rng.choice(COMPANIES)} "
            f"referred by {rng.choice(REFERRERS)}"
        )
        now = dt.datetime.now(dt.UTC)
        zone = ZONES[user % len(ZONES)]
        return {
            "text": text,
            "textFormat": "plain",
            "type": "message",
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "localTimestamp": now.isoformat(),
            "id": f"1{tag}{number:07d}",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {
                "id": f"29:1bench-rep-{user:04d}",
                "name": f"Rep {user:04d}",
                "aadObjectId": str(uuid.UUID(int=user + 1)),
            },
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT,
                "id": f"a:1bench-personal-chat-{user:04d}",
            },
            "recipient": {"id": f"28:{APP_ID}", "name": "Voicemail Coach"},
            "entities": [
                {
                    "locale": "en-US",
                    "country": "US",
                    "platform": "Web",
                    "timezone": zone,
                    "type": "clientInfo",
                }
            ],
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
            "localTimezone": zone,
        }


# Measuring


@dataclass
class Run:
    target: str
    offered: float
    requests: int
    ok: int
    errors: int
    statuses: str
    achieved: float
    p50_ms: float
    p99_ms: float
    lag_p99_ms: float
    answers: int | None = None  # replies that reached the fake Bot Connector
    apologies: int = 0
    drained_per_second: float = math.nan  # replies a second once the paused worker resumed
    cpu: dict[str, float] = field(default_factory=dict)
    why_failed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.why_failed


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        cpu: Cpu,
        session: aiohttp.ClientSession,
        fake_url: str,
        worker: Child,
    ) -> None:
        self.args = args
        self.cpu = cpu
        self.session = session
        self.fake_url = fake_url
        self.worker = worker
        self.acked: dict[str, int] = {}  # 200s a target gave, all runs

    async def run(
        self,
        target: str,
        generator: Generator,
        rate: float,
        seconds: float,
        tag: str,
        *,
        answers: bool = False,
    ) -> Run:
        """One open-loop run; with `answers`, for the service, the worker is paused while the
        requests go (only the acks are timed: the web tier alone on its CPU, as the floor is)
        and resumed after the last ack; then its replies are awaited and counted."""
        count = max(1, round(rate * seconds))
        shots = generator.shots(tag, count)
        cpu_before = await self.cpu.read()
        answers = answers and target == "service"
        with self.worker_paused() if answers else contextlib.nullcontext():
            fired = await fire(generator.port, shots, rate, self.args.connections, seconds + 10)
            answered = acks(fired)
            await asyncio.sleep(max(0.0, (answered.last_ack or 0.0) - time.monotonic()))
            cpu = cpu_share(cpu_before, await self.cpu.read())
        resumed = time.monotonic()
        self.acked[target] = self.acked.get(target, 0) + len(answered.ok)
        run = Run(
            target=target,
            offered=rate,
            requests=count,
            ok=len(answered.ok),
            errors=answered.errors,
            statuses=answered.statuses,
            achieved=answered.achieved,
            p50_ms=answered.p50_ms,
            p99_ms=answered.p99_ms,
            lag_p99_ms=answered.lag_p99_ms,
            cpu=cpu,
        )
        if answers:
            arrivals, run.apologies = await self.replies(tag, len(answered.ok))
            ok = set(answered.ok)
            run.answers = sum(1 for number in arrivals if number in ok)
            last = max(arrivals.values(), default=math.nan)
            run.drained_per_second = run.answers / (last - resumed) if last > resumed else math.nan
        self.judge(run)
        return run

    async def replies(self, tag: str, expected: int) -> tuple[dict[int, float], int]:
        """A run's replies at the fake Bot Connector: all of them, or none new for 3 s."""
        seen, since = await self.get_json(f"/_bench/count?tag={tag}"), time.monotonic()
        deadline = time.monotonic() + 60
        while seen < expected and time.monotonic() - since < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now_seen = await self.get_json(f"/_bench/count?tag={tag}")
            if now_seen != seen:
                seen, since = now_seen, time.monotonic()
        stats = await self.get_json(f"/_bench/stats?tag={tag}")
        arrivals = {int(number): float(at) for number, at in stats["arrivals"]}
        return arrivals, int(stats["apologies"]) + int(stats["refused"])

    async def get_json(self, path: str) -> Any:
        async with self.session.get(self.fake_url + path) as response:
            response.raise_for_status()
            return await response.json()

    @contextlib.contextmanager
    def worker_paused(self) -> Iterator[None]:
        """The worker stopped (SIGSTOP) meanwhile: the web tier alone on its CPU."""
        self.worker.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.worker.process.send_signal(signal.SIGCONT)

    def judge(self, run: Run) -> None:
        why = run.why_failed
        if run.errors:
            why.append(f"{run.errors} errors ({run.statuses})")
        if not run.p99_ms <= self.args.p99_bound:
            why.append(f"p99 > {self.args.p99_bound:g} ms")
        if run.achieved < ACHIEVED_SHARE * run.offered:
            why.append(f"achieved < {ACHIEVED_SHARE:.0%} of offered")
        if run.answers is not None and run.answers < run.ok:
            why.append(f"{run.ok - run.answers} acked messages never answered")
        if run.apologies:
            why.append(f"{run.apologies} apologies or refused replies")

    async def warm_up(self, target: str, generator: Generator, tag: str) -> Run:
        """Every rep once at a gentle rate: the signing keys fetched, chats stored, code paths."""
        return await self.run(target, generator, 50.0, USERS / 50.0, tag, answers=True)

    async def highest(self, target: str, generator: Generator) -> tuple[float | None, list[Run]]:
        args = self.args

        async def step(rate: float, name: str) -> Run:
            run = await self.run(target, generator, rate, args.step_seconds, f"{target[0]}{name}")
            print(row(run), flush=True)
            await asyncio.sleep(1.0)  # let the server settle (and finish what it had queued)
            return run

        return await highest_rate(step, args.rate, args.step_factor, args.max_rate, args.refine)


# Printing


HEADER = (
    f"  {'target':<8}{'offered':>8}{'achieved':>9}{'ok/sent':>13}{'p50 ms':>8}{'p99 ms':>8}"
    f"{'lag p99':>8}{'answers':>9}{'drain/s':>8}"
    f"  {'cpu% srv/wrk/gen/fake/redis':>27}  verdict"
)


def row(run: Run) -> str:
    verdict = "pass" if run.passed else "FAIL: " + "; ".join(run.why_failed)
    answers = "" if run.answers is None else str(run.answers)
    return (
        f"  {run.target:<8}{run.offered:>8.0f}{run.achieved:>9.1f}"
        f"{f'{run.ok}/{run.requests}':>13}{ms(run.p50_ms):>8}{ms(run.p99_ms):>8}"
        f"{ms(run.lag_p99_ms):>8}{answers:>9}{ms(run.drained_per_second):>8}"
        f"  {cpu_column(run.cpu, run.target):>27}  {verdict}"
    )


def _rate(value: float | None, runs: list[Run], max_rate: float) -> str:
    if value is None:
        return f"< {runs[0].offered:.0f} req/s (the first step failed)" if runs else "n/a"
    return f">= {value:.0f} req/s (the cap)" if value >= max_rate else f"{value:.0f} req/s"


# Running


def teams_env(base: dict[str, str], fake_url: str, login_url: str) -> dict[str, str]:
    """The environment of the service and the floor: Teams on, pointed at the fake Microsoft;
    Slack's settings and any Teams settings of the caller's left out."""
    env = {
        name: value
        for name, value in base.items()
        if not name.startswith(("SLACK_", "MICROSOFT_", "TEAMS_"))
        and name not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
    }
    return env | {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "TEAMS_ALLOWED_TENANTS": TENANT,
        "MICROSOFT_OPENID_METADATA_URL": f"{fake_url}{METADATA_PATH}",
        "MICROSOFT_TOKEN_ISSUER": ISSUER,
        "MICROSOFT_LOGIN_URL": f"{login_url}/{TENANT}",
    }


async def queued_jobs(url: str, prefix: str) -> tuple[int, bytes]:
    """The length of the service's job stream, and its first entry."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        stream = f"{prefix}:jobs"
        length = int(await client.xlen(stream))
        first: Any = await client.xrange(stream, count=1)  # [(id, {field: value})]
        return length, bytes(first[0][1].get(b"data", b"")) if first else b""
    finally:
        await client.aclose()


async def bench(args: argparse.Namespace) -> int:
    await check_redis(args.redis_url)
    prefix = f"vcbench-teams:{uuid.uuid4().hex}"
    server_cpus, driver_cpus, where = placement(
        args.pin, "load generator, fake Microsoft and the service's worker"
    )
    if driver_cpus is not None:
        os.sched_setaffinity(0, driver_cpus)
    fake_port, login_port = free_port(), free_port()
    service_port, worker_port, floor_port = free_port(), free_port(), free_port()
    fake_url = f"http://{HOST}:{fake_port}"
    signer = Signer()
    me = [sys.executable, str(Path(__file__).resolve())]
    serve = Path(sys.executable).with_name("voicemail-coach")
    web_tier = [str(serve), "serve", "--no-worker", "--host", HOST, "--port", str(service_port)]
    worker_argv = [str(serve), "worker", "--host", HOST, "--port", str(worker_port)]
    children: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="vc-bench-teams-") as directory:
        files = Path(directory)
        (files / JWKS_FILE).write_text(json.dumps(signer.jwks()))
        write_certificate(files)
        env = teams_env(dict(os.environ), fake_url, f"https://{HOST}:{login_port}") | {
            "REDIS_URL": args.redis_url,
            "VOICEMAIL_COACH_REDIS_PREFIX": prefix,
            "REQUESTS_CA_BUNDLE": str(files / CERT_FILE),
        }
        try:
            fake_argv = [*me, "--role", "fake-microsoft", "--port", str(fake_port)]
            fake_argv += ["--login-port", str(login_port), "--files", directory]
            children.append(spawn("fake-microsoft", fake_argv, env, driver_cpus, files))
            children.append(spawn("service", web_tier, env, server_cpus, files))
            children.append(spawn("worker", worker_argv, env, driver_cpus, files))
            floor_argv = [*me, "--role", "floor", "--port", str(floor_port)]
            floor_argv += ["--floor", args.floor]
            children.append(spawn("floor", floor_argv, env, server_cpus, files))
            async with aiohttp.ClientSession() as session:
                fake, service, worker, floor = children
                await wait_ready(session, fake, f"{fake_url}/_bench/stats")
                await wait_ready(session, service, f"http://{HOST}:{service_port}/readyz")
                await wait_ready(session, worker, f"http://{HOST}:{worker_port}/readyz")
                await wait_ready(session, floor, f"http://{HOST}:{floor_port}/healthz")
                pids = {child.name: child.process.pid for child in children}
                cpu = Cpu({"fake": pids.pop("fake-microsoft"), **pids}, args.redis_url)
                try:
                    runner = Bench(args, cpu, session, fake_url, worker)
                    service_url = f"{fake_url}/connector/amer/"
                    token = signer.token(service_url)
                    generators = {
                        "floor": Generator(floor_port, service_url, token),
                        "service": Generator(service_port, service_url, token),
                    }
                    code = await measure(args, runner, generators, where)
                    fetched = await runner.get_json("/_bench/stats")
                finally:
                    await cpu.close()
            code = max(code, await check_jobs(args, prefix, runner, fetched))
            return code
        except Exception:
            for child in children:
                print(f"\n{child.name} log (last lines):\n{child.tail()}", file=sys.stderr)
            raise
        finally:
            for child in reversed(children):
                stop(child)
            deleted = await delete_prefix(args.redis_url, prefix)
            print(f"\nstopped {len(children)} subprocesses; cleaned up {deleted:,} Redis keys")
            for child in children:
                if child.name in ("service", "worker", "floor"):
                    complained = complaints(child.log) or "none"
                    print(f"{child.name} log, warnings and errors: {complained}")


async def check_jobs(
    args: argparse.Namespace, prefix: str, runner: Bench, fetched: dict[str, int]
) -> int:
    """Every message the service acked left its job on the stream (a worker's XACK leaves the
    entry there; the stream is trimmed far beyond a run's count)."""
    length, first = await queued_jobs(args.redis_url, prefix)
    acked = runner.acked.get("service", 0)
    print(
        f"fake Microsoft: OpenID metadata fetched {fetched.get('metadata')} times, keys "
        f"{fetched.get('keys')} times, {fetched.get('tokens')} outbound token requests, "
        f"{fetched.get('connector')} Bot Connector calls"
    )
    print(
        f"queued jobs: {length:,} on the Redis stream for {acked:,} messages the service acked"
        + (f"; the first is a {JOB_NAME} job" if JOB_NAME.encode() in first else "")
    )
    queued = length == acked and JOB_NAME.encode() in first
    print(
        f"check: every acked message queued its job: {'met' if queued else 'NOT MET'} "
        f"({length:,} jobs, {acked:,} acks)"
    )
    return 0 if queued else 1


async def measure(
    args: argparse.Namespace, runner: Bench, generators: dict[str, Generator], where: str
) -> int:
    print(
        f"voicemail-coach Teams HTTP benchmark: Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, {where}"
    )
    print(
        f"the floor: a bare CloudAdapter bot, --floor {args.floor} ("
        + (
            "botbuilder's JWT check, then 200"
            if args.floor == "auth"
            else "botbuilder's JWT check and a turn through a do-nothing ActivityHandler"
        )
        + ")"
    )
    print(
        f"{USERS} reps in one tenant, personal-chat messages signed RS256 (botbuilder's JWT "
        f"validation in both targets), a warm-up of one message per rep per target; open loop, "
        f"latency from when each request was due to its HTTP answer (the ack). Only acks are "
        f"timed: the service's one `voicemail-coach worker` is paused (SIGSTOP) during every "
        f"run, the web tier alone on its CPU as the floor is; after each warm-up and fixed-rate "
        f"run it resumes and must post every reply to the fake Bot Connector (answers; "
        f"drain/s: how fast it posted that backlog); it stays paused through the steps and "
        f"is stopped after them, their jobs left on the stream"
    )
    print(f"\nwarm-up: each of the {USERS} reps once at 50 req/s (first requests fetch the keys)")
    print(HEADER)
    warm_ups = {}
    for target, generator in generators.items():
        warm_ups[target] = await runner.warm_up(target, generator, f"{target[0]}w")
        print(row(warm_ups[target]), flush=True)
    warm_up = warm_ups["service"]

    print(
        f"\nfixed rate: {args.rate:g} req/s for {args.seconds:g} s, {args.repeats} times each, "
        f"taking turns"
    )
    print(HEADER)
    repeats: dict[str, list[Run]] = {target: [] for target in generators}
    for number in range(args.repeats):
        for target, generator in generators.items():
            tag = f"{target[0]}f{number}"
            run = await runner.run(target, generator, args.rate, args.seconds, tag, answers=True)
            repeats[target].append(run)
            print(row(run), flush=True)
            await asyncio.sleep(1.0)
    fixed = {target: median_run(runs) for target, runs in repeats.items()}

    print(
        f"\nhighest sustained rate: steps of {args.step_seconds:g} s from {args.rate:g} req/s "
        f"x{args.step_factor:g} up to {args.max_rate:g}, then {args.refine} bisections; a step "
        f"passes with no errors, p99 <= {args.p99_bound:g} ms and achieved >= "
        f"{ACHIEVED_SHARE:.0%} of offered"
    )
    print(HEADER)
    with runner.worker_paused():
        highest = {target: await runner.highest(target, g) for target, g in generators.items()}
        runner.worker.process.kill()  # its backlog (the steps' jobs) stays on the stream
        runner.worker.process.wait()

    service, floor = fixed["service"], fixed["floor"]
    (service_max, service_runs), (floor_max, floor_runs) = highest["service"], highest["floor"]
    print()
    for run in (service, floor):
        p99s = " / ".join(f"{r.p99_ms:.1f}" for r in repeats[run.target])
        print(
            f"{run.target} at {run.offered:g} req/s (the run with the median p99 of "
            f"{args.repeats}): p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, achieved "
            f"{run.achieved:.1f} req/s, {run.errors} errors"
            + (f" ({run.statuses})" if run.statuses else "")
            + f"; p99 of each run: {p99s} ms"
        )
    runs = [*repeats["service"], warm_up]
    answered = sum(r.answers or 0 for r in runs)
    acked = sum(r.ok for r in runs)
    apologies = sum(r.apologies for r in runs)
    print(
        f"service replies through the fake Bot Connector (the warm-up and {args.repeats} runs at "
        f"{args.rate:g} req/s): {answered} of {acked} acked messages, {apologies} apologies or "
        f"refused; the worker posted each backlog at "
        + " / ".join(f"{r.drained_per_second:.0f}" for r in runs)
        + " replies/s"
    )
    replied = answered == acked and not apologies
    print(
        f"check: every message the service acked was answered once its worker resumed: "
        f"{'met' if replied else 'NOT MET'} ({answered} of {acked}, {apologies} apologies)"
    )
    print(
        f"highest sustained: service {_rate(service_max, service_runs, args.max_rate)}, "
        f"floor {_rate(floor_max, floor_runs, args.max_rate)}"
    )
    share = (service_max or 0.0) / floor_max if floor_max else math.nan
    capped = floor_max is not None and floor_max >= args.max_rate
    if capped and service_max is not None and service_max >= args.max_rate:
        print("  service/floor: both reached --max-rate, raise it to tell them apart")
    else:
        print(
            f"  service/floor = {share:.0%}"
            + (" (the floor reached the cap, so this is an upper bound)" if capped else "")
        )
    fast = service.p99_ms < TARGET_P99_MS and service.errors == 0
    sustained = share >= TARGET_SHARE
    at_target = " (--rate is not the target's)" if args.rate != TARGET_RATE else ""
    print(
        f"target: service p99 < {TARGET_P99_MS:g} ms at {args.rate:g} req/s{at_target}: "
        f"{'met' if fast else 'NOT MET'} ({service.p99_ms:.2f} ms, {service.errors} errors)"
    )
    print(
        f"target: service >= {TARGET_SHARE:.0%} of the bare bot's highest sustained rate: "
        f"{'met' if sustained else 'NOT MET'} ({share:.0%}: "
        f"{_rate(service_max, service_runs, args.max_rate)} against "
        f"{_rate(floor_max, floor_runs, args.max_rate)})"
    )
    return 0 if fast and sustained and replied else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="fixed rate, req/s (100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="fixed-rate run length (10)")
    parser.add_argument("--repeats", type=int, default=3, help="fixed-rate runs a target (3)")
    parser.add_argument("--max-rate", type=float, default=3000.0, help="highest step (3000)")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="step length (5)")
    parser.add_argument("--step-factor", type=float, default=1.5, help="rate growth a step (1.5)")
    parser.add_argument("--refine", type=int, default=3, help="bisections after a failure (3)")
    parser.add_argument("--p99-bound", type=float, default=TARGET_P99_MS, help="ms, a step")
    parser.add_argument("--connections", type=int, default=256, help="most open connections")
    parser.add_argument(
        "--floor",
        choices=FLOOR_MODES,
        default="auth",
        help="the bare bot: auth, botbuilder's JWT check then 200 (the default); turn, also a "
        "CloudAdapter turn through a do-nothing ActivityHandler (process_activity)",
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin CPUs")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--role", choices=("fake-microsoft", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--login-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "fake-microsoft":
        serve_fake_microsoft(args.port, args.login_port, args.files)
        return 0
    if args.role == "floor":
        serve_floor(args.port, args.floor)
        return 0
    return run_timed(bench, parser, args)


if __name__ == "__main__":
    sys.exit(main())
