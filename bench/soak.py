"""Soak: the service on Redis under sustained mixed Slack and Teams traffic, with figures.

    .venv/bin/python bench/soak.py [--seconds 300 --reps 1000 --tenants 20 --rate 60 --json F]

Starts these subprocesses, all on 127.0.0.1:
  - one fake of Slack and Microsoft (aiohttp): Slack's Web API (bench/slack_http.py's answers)
    and the response_url (POST /respond/<id>); Bot Framework's OpenID metadata and keys and
    Entra's token endpoint (bench/teams_http.py's, https for msal); and a Bot Connector at
    /soak/connector/. It keeps every answer's body, which this process collects;
  - the service's web tier, `voicemail-coach serve --no-worker`, and two `voicemail-coach
    worker` processes, on Redis under a key prefix of the soak's own (deleted at the end),
    with Slack (one bot token, any workspace id) and Teams (the soak's tenants allowed) on.

--reps reps are spread round-robin over --tenants tenants: the first half (rounded up) Slack
workspaces, the rest Teams tenants. Each rep has three prospects whose names carry the rep's
marker, `Qz<tenant>k<rep>q`. A warm-up sends each rep one decision, then the mix for --warm-up
seconds; then the mix goes on for --seconds. Open loop at --rate requests a second, at most
--connections in flight (a request waiting for one is late: the progress line every 30 s shows
that lag, failures, answer latency and RSS). Each request is, by weight:
  - a valid command (a decision, the queue, a history or a logged outcome): Slack's signed
    `/voicemail` slash command, Teams' personal-chat message with a Bot Framework token;
  - a check-in click on a button of an earlier answer to the same rep: Slack's block_actions
    payload, Teams' adaptiveCard/action invoke (Action.Execute, answered inline);
  - a retry: an earlier request sent again (Slack: re-signed, with X-Slack-Retry-Num 1, 2...
    and X-Slack-Retry-Reason; Teams: the same activity, as a redelivery);
  - fuzzed text: random unicode (control characters, combining marks, RTL, emoji), empty,
    whitespace, a text just within MAX_COMMAND, injection-looking strings.

Judged at the end (after the answers have drained: all in, or none new for 10 s): no 5xx, no
timeout (30 s from the send) and no failed connection; no
apology anywhere (acks, answers, inline cards); every request acked 200 has its answer (a bare
Slack `/voicemail` opens the form with views.open and has none); no answer carries another
rep's marker; each service process's RSS grows < 10% from just after the warm-up to the end.
Redis memory per rep (INFO used_memory's growth from before the warm-up, over --reps) is a
figure with no target, as is the answer latency (first send to first answer); the keys under
the prefix are listed by kind, with their MEMORY USAGE. Exit status 0 only if every target is
met and no key is left under the prefix.

The default rate, 60 requests a second, is what the two workers keep up with on a 2-core
machine that also runs the web tier, the fake and this process (answer p99 about a second);
at 100 a second they fall behind and the answers wait in Redis for tens of seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and bench/policy.py would shadow
# the `policy` package; put the project root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import math
import os
import random
import signal
import ssl
import tempfile
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import aiohttp
import redis.asyncio
from aiohttp import web

from bench._http import (
    HOST,
    Child,
    api_arguments,
    check_redis,
    complaints,
    free_port,
    percentile,
    spawn,
    stop,
    wait_ready,
)
from bench._redis import delete_prefix
from bench._soak_traffic import (
    SLACK,
    TEAMS,
    Rep,
    Shot,
    Traffic,
    fuzzed_text,
    make_reps,
    markers_in,
    pick,
    slack_buttons,
    teams_buttons,
    valid_text,
)
from bench.slack_http import SECRET, TOKEN, fake_answer
from bench.teams_http import (
    CERT_FILE,
    JWKS_FILE,
    KEY_FILE,
    Signer,
    fake_microsoft_app,
    teams_env,
    write_certificate,
)
from bot.adapters import APOLOGY_HEADING

SEED = 2026
RSS_GROWTH = 0.10
WEIGHTS = (("command", 0.55), ("click", 0.20), ("retry", 0.10), ("fuzz", 0.15))
CONNECTOR_PATH = "/soak/connector/"
RECENT = 2_000  # requests a retry may pick from
PROGRESS_SECONDS = 30.0
REQUEST_TIMEOUT = 30.0  # s from a request's send (Slack gives up after 3 s and retries)


# The fake (a subprocess)


def soak_fake_app(jwks: dict[str, Any], login_url: str) -> web.Application:
    """bench/teams_http.py's fake Microsoft, with Slack's Web API, the response_url and a Bot
    Connector that keep each answer: GET /_soak/answers hands over (and forgets) those kept."""
    app = fake_microsoft_app(jwks, login_url)
    kept: list[list[Any]] = []  # [platform, id answered, body, arrived (monotonic)]
    calls: Counter[str] = Counter()

    async def slack_api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await api_arguments(request)
        calls[method] += 1
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            kept.append([SLACK, "", json.dumps(args), time.monotonic()])
        return web.json_response(fake_answer(method, args))

    async def respond(request: web.Request) -> web.Response:
        kept.append([SLACK, request.match_info["id"], await request.text(), time.monotonic()])
        return web.Response(text="ok")

    async def connector(request: web.Request) -> web.Response:
        # .../v3/conversations/<chat>/activities[/<the activity answered>]
        tail = request.match_info["tail"]
        answered = tail.rpartition("/activities/")[2] if "/activities/" in tail else ""
        calls["connector"] += 1
        kept.append([TEAMS, answered, await request.text(), time.monotonic()])
        return web.json_response({"id": f"soak-sent-{calls['connector']}"})

    async def answers(_: web.Request) -> web.Response:
        handed = list(kept)
        kept.clear()
        return web.json_response({"answers": handed, "calls": dict(calls)})

    app.router.add_route("*", "/api/{method}", slack_api)
    app.router.add_post("/respond/{id}", respond)
    app.router.add_post(CONNECTOR_PATH + "{tail:.*}", connector)
    app.router.add_get("/_soak/answers", answers)
    return app


def serve_fake(port: int, login_port: int, folder: str) -> None:
    files = Path(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(files / CERT_FILE, files / KEY_FILE)
    jwks = json.loads((files / JWKS_FILE).read_text())
    app = soak_fake_app(jwks, f"https://{HOST}:{login_port}")

    async def until_terminated() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        for site_port, context in ((port, None), (login_port, tls)):
            await web.TCPSite(runner, HOST, site_port, ssl_context=context).start()
        done = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
        await done.wait()
        await runner.cleanup()

    asyncio.run(until_terminated())


# What the soak saw


@dataclass
class Sent:
    shot: Shot
    status: int = 0  # 0: not answered yet; -1: connection failed
    answers: int = 0
    sent_at: float = 0.0  # first sent, on the system-wide monotonic clock


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)  # by kind and platform
    statuses: Counter[str] = field(default_factory=Counter)
    apologies: int = 0
    foreign_markers: int = 0
    own_markers: int = 0  # answers quoting their own rep's marker: the check has teeth
    answers: int = 0
    unattributed: int = 0
    duplicates: int = 0
    clicks_offered: int = 0
    examples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # s, a request's first answer

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(
            n for status, n in self.statuses.items() if not status.isdigit() or status >= "500"
        )


class Soak:
    def __init__(self, args: argparse.Namespace, web_url: str, fake_url: str, token: str) -> None:
        self.args = args
        self.web_url = web_url
        self.fake_url = fake_url
        self.rng = random.Random(SEED)
        self.reps = make_reps(args.reps, args.tenants, SEED)
        self.traffic = Traffic(f"{fake_url}/respond", f"{fake_url}{CONNECTOR_PATH}", token)
        self.sent: dict[str, Sent] = {}
        self.recent: deque[Shot] = deque(maxlen=RECENT)
        self.buttons: dict[int, list[dict[str, Any]]] = {}  # by rep
        self.clickable: deque[int] = deque(maxlen=RECENT)  # reps with buttons
        self.tally = Tally()
        self.calls: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.session: aiohttp.ClientSession | None = None
        # At most --connections requests in flight: the others wait for a slot (the load
        # generator's lag: the service falling behind), and their timeout starts once sent.
        self.slots = asyncio.Semaphore(args.connections)
        self.window = Window()
        self.pids: dict[str, int] = {}  # the service's processes, for RSS

    # Sending

    def next_shot(self) -> Shot:
        kind = pick(self.rng, WEIGHTS)
        if kind == "click" and self.clickable:
            rep = self.reps[self.clickable.popleft()]
            shelf = self.buttons.get(rep.number) or []
            if shelf:
                return self.traffic.click(rep, shelf.pop(self.rng.randrange(len(shelf))))
        if kind == "retry" and self.recent:
            shot = self.rng.choice(self.recent)
            shot.retries += 1
            return shot
        rep = self.rng.choice(self.reps)
        if kind == "fuzz":
            return self.traffic.command(rep, fuzzed_text(self.rng, rep), "fuzz")
        return self.traffic.command(rep, valid_text(self.rng, rep), "command")

    async def send(self, shot: Shot) -> None:
        assert self.session is not None
        retry = shot.retries > 0
        self.tally.sent[f"{'retry' if retry else shot.kind} {shot.rep.platform}"] += 1
        record = self.sent.setdefault(shot.rid, Sent(shot, sent_at=time.monotonic()))
        if not retry:
            self.recent.append(shot)
        due = time.monotonic()
        try:
            async with self.slots:
                self.window.lags.append(time.monotonic() - due)
                async with self.session.post(
                    self.web_url + shot.path, data=shot.body, headers=shot.signed_headers()
                ) as response:
                    status, body = response.status, await response.text()
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            self.tally.statuses[type(error).__name__] += 1
            self.window.failed += 1
            record.status = record.status or -1
            return
        self.tally.statuses[str(status)] += 1
        self.window.failed += status >= 500
        record.status = status if record.status in (0, 200) else record.status
        if body:
            self.judge(record, body, inline=shot.answer_inline)

    def launch(self, shot: Shot) -> None:
        task = asyncio.get_running_loop().create_task(self.send(shot))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run_open_loop(self, seconds: float, rate: float, shots: Any = None) -> int:
        """Request i goes at start + i/rate (or as soon as the loop can): `shots`, an iterator
        of requests, until it ends; else the mix, for `seconds`."""
        start = time.monotonic()
        number = 0
        collected = start
        self.window = Window(start, len(self.tally.latencies))
        while True:
            due = start + number / rate
            if shots is None and due - start >= seconds:
                break
            shot = next(shots, None) if shots is not None else self.next_shot()
            if shot is None:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.launch(shot)
            number += 1
            if time.monotonic() - collected >= 0.5:
                collected = time.monotonic()
                await self.collect()
            if time.monotonic() - self.window.start >= PROGRESS_SECONDS:
                self.progress(number, time.monotonic() - start)
        return number

    def progress(self, number: int, elapsed: float) -> None:
        """A line for the window just ended: what went, how late, what failed, how fast the
        answers came; then a new window."""
        window, now = self.window, time.monotonic()
        lags = sorted(1000 * lag for lag in window.lags)
        answers = sorted(1000 * x for x in self.tally.latencies[window.first_latency :])
        rss = ", ".join(f"{name} {rss_bytes(pid) / 2**20:.0f}" for name, pid in self.pids.items())
        print(
            f"  {elapsed:5.0f} s: {number} sent, {len(window.lags) / (now - window.start):.0f}/s"
            f" in the last {now - window.start:.0f} s, send lag p99 {percentile(lags, 99):.0f} "
            f"ms, {window.failed} failed, answer p50/p99 {percentile(answers, 50):.0f}/"
            f"{percentile(answers, 99):.0f} ms; RSS MiB {rss}",
            flush=True,
        )
        self.window = Window(now, len(self.tally.latencies))

    # Answers

    async def collect(self) -> int:
        """Take the answers the fake kept and judge each; how many there were."""
        assert self.session is not None
        async with self.session.get(f"{self.fake_url}/_soak/answers") as response:
            document = await response.json()
        self.calls = document["calls"]
        for platform, rid, body, arrived in document["answers"]:
            record = self.sent.get(rid)
            if record is None or record.shot.rep.platform != platform:
                self.tally.unattributed += 1
                self.judge_unattributed(body)
                continue
            self.answered(record, arrived)
            self.judge(record, body, inline=False)
        return len(document["answers"])

    def judge(self, record: Sent, body: str, *, inline: bool) -> None:
        """An ack's body, an answer or an inline card: no apology, no other rep's marker; an
        answer's check-in buttons are kept for later clicks by the same rep."""
        rep = record.shot.rep
        if APOLOGY_HEADING in body:
            self.tally.apologies += 1
            self.example(f"apology for a {record.shot.kind} ({rep.platform})")
        found = markers_in(body)
        self.tally.own_markers += (rep.tenant, rep.number) in found
        foreign = found - {(rep.tenant, rep.number)}
        if foreign:
            self.tally.foreign_markers += len(foreign)
            self.example(f"{rep.platform} rep {rep.number} got markers of {sorted(foreign)}")
        if inline:
            self.answered(record, time.monotonic())
        self.keep_buttons(rep, body)

    def answered(self, record: Sent, arrived: float) -> None:
        record.answers += 1
        self.tally.answers += 1
        if record.answers == 1:
            self.tally.latencies.append(arrived - record.sent_at)
        else:
            self.tally.duplicates += 1

    def judge_unattributed(self, body: str) -> None:
        """A message no request of ours asked for (a nudge, a pointer): only apologies count."""
        if APOLOGY_HEADING in body:
            self.tally.apologies += 1
            self.example("apology in an unasked-for message")

    def keep_buttons(self, rep: Rep, body: str) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        if not isinstance(document, dict):
            return
        found = slack_buttons(document) if rep.platform == SLACK else teams_buttons(document)
        if found:
            self.buttons[rep.number] = found
            self.clickable.append(rep.number)
            self.tally.clicks_offered += 1

    def example(self, text: str) -> None:
        if len(self.tally.examples) < 10:
            self.tally.examples.append(text)

    def missing(self) -> list[Sent]:
        return [
            record
            for record in self.sent.values()
            if record.status == 200
            and record.answers == 0
            and (record.shot.answer_at_fake or record.shot.answer_inline)
        ]

    async def drain(self, quiet: float = 10.0, most: float = 600.0) -> None:
        """Wait for the requests in flight, then for the answers: all of them, or none new for
        `quiet` seconds (at most `most`)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=30)
        since = started = time.monotonic()
        while (
            self.missing()
            and time.monotonic() - since < quiet
            and time.monotonic() - started < most
        ):
            await asyncio.sleep(0.25)
            if await self.collect():
                since = time.monotonic()
        await self.collect()


@dataclass
class Window:
    """The load of the last PROGRESS_SECONDS, for a progress line."""

    start: float = field(default_factory=time.monotonic)
    first_latency: int = 0  # where this window's answer latencies begin in the tally's list
    lags: list[float] = field(default_factory=list)  # s each request waited for a connection
    failed: int = 0


# Process figures


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def used_memory(client: redis.asyncio.Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


async def prefix_memory(
    client: redis.asyncio.Redis, prefix: str, tenants: set[str]
) -> dict[str, tuple[int, int]]:
    """Keys under `prefix` by kind, with their count and MEMORY USAGE bytes: a tenant's keys
    (`<prefix>:<tenant>:<kind>:...`) by the kind after the tenant, the others by their first
    part."""
    kinds: dict[str, tuple[int, int]] = {}
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        parts = key.decode(errors="replace")[len(prefix) + 1 :].split(":")
        kind = parts[1] if len(parts) > 1 and parts[0] in tenants else parts[0]
        size = int(await client.memory_usage(key) or 0)
        count, total = kinds.get(kind, (0, 0))
        kinds[kind] = (count + 1, total + size)
    return kinds


# Running


def service_env(
    args: argparse.Namespace,
    prefix: str,
    fake_url: str,
    login_url: str,
    files: Path,
    tenants: Sequence[str],
) -> dict[str, str]:
    env = teams_env(dict(os.environ), fake_url, login_url)
    env = {
        k: v
        for k, v in env.items()
        if k not in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN")
    }
    return env | {
        "REDIS_URL": args.redis_url,
        "VOICEMAIL_COACH_REDIS_PREFIX": prefix,
        "REQUESTS_CA_BUNDLE": str(files / CERT_FILE),
        "TEAMS_ALLOWED_TENANTS": ",".join(tenants),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": f"{fake_url}/api/",
    }


@dataclass
class Ports:
    fake: int = field(default_factory=free_port)
    login: int = field(default_factory=free_port)
    web: int = field(default_factory=free_port)
    workers: list[int] = field(default_factory=list)


def start_processes(ports: Ports, env: dict[str, str], files: Path) -> list[Child]:
    """The fake, the web tier and the workers, in that order, each logging to `files`."""
    fake = [sys.executable, str(Path(__file__).resolve()), "--role", "fake"]
    fake += ["--port", str(ports.fake), "--login-port", str(ports.login), "--files", str(files)]
    serve = str(Path(sys.executable).with_name("voicemail-coach"))
    at = ["--host", HOST, "--port"]
    children = [spawn("fake", fake, env, None, files)]
    children.append(
        spawn("web", [serve, "serve", "--no-worker", *at, str(ports.web)], env, None, files)
    )
    for number, port in enumerate(ports.workers):
        children.append(
            spawn(f"worker{number}", [serve, "worker", *at, str(port)], env, None, files)
        )
    return children


async def wait_all_ready(
    session: aiohttp.ClientSession, children: list[Child], ports: Ports
) -> None:
    fake, web_tier, *workers = children
    await wait_ready(session, fake, f"http://{HOST}:{ports.fake}/_bench/stats")
    await wait_ready(session, web_tier, f"http://{HOST}:{ports.web}/readyz")
    for worker, port in zip(workers, ports.workers, strict=True):
        await wait_ready(session, worker, f"http://{HOST}:{port}/readyz")


async def keys_left(url: str, prefix: str) -> int:
    client = redis.asyncio.Redis.from_url(url)
    try:
        return len([key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)])
    finally:
        await client.aclose()


async def soak(args: argparse.Namespace) -> int:
    await check_redis(args.redis_url)
    prefix = args.prefix or f"vcsoak:{uuid4().hex}"
    ports = Ports(workers=[free_port() for _ in range(args.workers)])
    fake_url = f"http://{HOST}:{ports.fake}"
    signer = Signer()
    children: list[Child] = []
    client = redis.asyncio.Redis.from_url(args.redis_url)
    with tempfile.TemporaryDirectory(prefix="vc-soak-") as directory:
        files = Path(directory)
        (files / JWKS_FILE).write_text(json.dumps(signer.jwks()))
        write_certificate(files)
        reps = make_reps(args.reps, args.tenants, SEED)
        tenants = sorted({rep.tenant_id for rep in reps if rep.platform == TEAMS}) or ["none"]
        env = service_env(args, prefix, fake_url, f"https://{HOST}:{ports.login}", files, tenants)
        try:
            children = start_processes(ports, env, files)
            connector = aiohttp.TCPConnector(limit=args.connections)
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                await wait_all_ready(session, children, ports)
                token = signer.token(f"{fake_url}{CONNECTOR_PATH}", int(args.seconds) + 3600)
                runner = Soak(args, f"http://{HOST}:{ports.web}", fake_url, token)
                runner.session = session
                runner.pids = {child.name: child.process.pid for child in children[1:]}
                report = await measure(args, runner, children[1:], client, prefix)
        except Exception:
            for child in children:
                print(f"\n{child.name} log (last lines):\n{child.tail()}", file=sys.stderr)
            raise
        finally:
            await client.aclose()
            for child in reversed(children):
                stop(child)
            deleted = await delete_prefix(args.redis_url, prefix)
            left = await keys_left(args.redis_url, prefix)
            print(f"\nstopped {len(children)} subprocesses; deleted {deleted:,} Redis keys")
            for child in children[1:]:
                print(f"{child.name} log, warnings and errors: {complaints(child.log) or 'none'}")
    print(
        f"target: no key left under the soak's prefix: {'met' if not left else 'NOT MET'} ({left})"
    )
    report["prefix_keys_left"] = left
    report["all_met"] = report["all_met"] and not left
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["all_met"] else 1


async def measure(
    args: argparse.Namespace,
    runner: Soak,
    service: list[Child],
    client: redis.asyncio.Redis,
    prefix: str,
) -> dict[str, Any]:
    slack_tenants = (args.tenants + 1) // 2
    print(
        f"voicemail-coach soak: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; the web "
        f"tier and {args.workers} workers on Redis; {args.reps} reps in {args.tenants} tenants "
        f"({slack_tenants} Slack workspaces, {args.tenants - slack_tenants} Teams tenants); "
        f"{args.rate:g} req/s for {args.seconds:g} s; mix "
        + ", ".join(f"{name} {weight:.0%}" for name, weight in WEIGHTS)
    )
    memory_before = await used_memory(client)
    warm_up = (
        runner.traffic.command(rep, valid_text(runner.rng, rep), "command") for rep in runner.reps
    )
    started = time.monotonic()
    warmed = await runner.run_open_loop(0, args.rate, warm_up)
    # Then the mix for a while: caches, pools and the allocator's arenas fill up in the first
    # minute of traffic, which is no leak.
    warmed += await runner.run_open_loop(args.warm_up, args.rate)
    await runner.drain()
    await asyncio.sleep(2.0)
    rss_start = {child.name: rss_bytes(child.process.pid) for child in service}
    print(
        f"warm-up: {warmed} requests (a decision for each rep, then the mix for "
        f"{args.warm_up:g} s), in {time.monotonic() - started:.1f} s; RSS "
        + ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in rss_start.items())
    )
    started = time.monotonic()
    sent = await runner.run_open_loop(args.seconds, args.rate)
    elapsed = time.monotonic() - started
    await runner.drain()
    rss_end = {child.name: rss_bytes(child.process.pid) for child in service}
    memory_after = await used_memory(client)
    tenants = {rep.team_id if rep.platform == SLACK else rep.tenant_id for rep in runner.reps}
    kinds = await prefix_memory(client, prefix, tenants)
    delta = memory_after - memory_before
    return report(args, runner, Figures(warmed, sent, elapsed, rss_start, rss_end, delta, kinds))


@dataclass
class Figures:
    """What `measure` read besides the tally: counts, RSS and Redis memory."""

    warmed: int
    sent: int
    elapsed: float
    rss_start: dict[str, int]
    rss_end: dict[str, int]
    memory_delta: int
    kinds: dict[str, tuple[int, int]]

    def growth(self) -> dict[str, float]:
        return {
            name: (self.rss_end[name] - start) / start for name, start in self.rss_start.items()
        }


def report(args: argparse.Namespace, runner: Soak, figures: Figures) -> dict[str, Any]:
    """Print the figures and a target line for each; the same as a JSON document."""
    tally, missing, growth = runner.tally, runner.missing(), figures.growth()
    per_rep = figures.memory_delta / args.reps
    print_counts(runner, figures)
    print_memory(args, figures)
    for line in tally.examples:
        print(f"  e.g. {line}")
    for record in missing[:5]:
        shot = record.shot
        print(f"  missing: {shot.kind} {shot.rid} ({shot.rep.platform}, retries {shot.retries})")
    targets: dict[str, tuple[str, bool]] = {
        "5xx and failed connections = 0": (f"{tally.server_errors}", tally.server_errors == 0),
        "apologies = 0": (f"{tally.apologies}", tally.apologies == 0),
        "answers missing = 0": (f"{len(missing)}", not missing),
        "answers with another tenant's or rep's marker = 0": (
            f"{tally.foreign_markers}",
            tally.foreign_markers == 0,
        ),
    }
    for name, share in growth.items():
        targets[f"RSS growth of {name} < {RSS_GROWTH:.0%}"] = (f"{share:+.1%}", share < RSS_GROWTH)
    for name, (shown, met) in targets.items():
        print(f"target: {name}: {'met' if met else 'NOT MET'} ({shown})")
    print(f"figure: Redis memory a rep: {per_rep / 1024:.2f} KiB (no target)")
    return {
        "seconds": figures.elapsed,
        "requests": figures.sent,
        "warm_up_requests": figures.warmed,
        "sent": dict(tally.sent),
        "statuses": dict(tally.statuses),
        "server_errors": tally.server_errors,
        "apologies": tally.apologies,
        "answers": tally.answers,
        "answers_missing": len(missing),
        "answer_latency_ms": {
            q: percentile(sorted(1000 * x for x in tally.latencies), q) for q in (50, 99)
        },
        "answers_with_own_marker": tally.own_markers,
        "duplicate_answers": tally.duplicates,
        "unattributed_answers": tally.unattributed,
        "foreign_markers": tally.foreign_markers,
        "rss_start": figures.rss_start,
        "rss_end": figures.rss_end,
        "rss_growth": growth,
        "redis_used_memory_delta": figures.memory_delta,
        "redis_bytes_per_rep": per_rep,
        "redis_keys": {kind: {"keys": c, "bytes": s} for kind, (c, s) in figures.kinds.items()},
        "targets": {name: met for name, (_, met) in targets.items()},
        "all_met": all(met for _, met in targets.values()),
    }


def print_counts(runner: Soak, figures: Figures) -> None:
    tally, rate = runner.tally, figures.sent / figures.elapsed
    print(
        f"\nsoak: {figures.sent} requests in {figures.elapsed:.1f} s ({rate:.1f} req/s), "
        f"after {figures.warmed} warm-up requests (counted below too)"
    )
    print("  sent: " + ", ".join(f"{name} {n}" for name, n in sorted(tally.sent.items())))
    print("  HTTP answers: " + ", ".join(f"{s} x{n}" for s, n in sorted(tally.statuses.items())))
    print(
        f"  answers: {tally.answers}, {tally.own_markers} of them carrying their rep's marker; "
        f"{tally.duplicates} more than one for the same request (retries), "
        f"{tally.unattributed} asked for by no request; {tally.clicks_offered} offered "
        f"check-in buttons"
    )
    latencies = sorted(1000 * latency for latency in tally.latencies)
    print(
        f"  answer latency, from a request's first send to its first answer (figures, no "
        f"target): p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} "
        f"ms, max {max(latencies, default=math.nan):.0f} ms"
    )
    print(f"  the fake's calls: {runner.calls}")


def print_memory(args: argparse.Namespace, figures: Figures) -> None:
    for name, start in figures.rss_start.items():
        end = figures.rss_end[name]
        print(
            f"  RSS {name}: {start / 2**20:.1f} MiB after the warm-up, {end / 2**20:.1f} MiB at "
            f"the end ({(end - start) / start:+.1%})"
        )
    print(
        f"  Redis used_memory grew {figures.memory_delta / 2**20:.2f} MiB from before the "
        f"warm-up: {figures.memory_delta / args.reps / 1024:.2f} KiB a rep (the server's "
        f"figure: other clients of the same Redis count too); under the soak's prefix:"
    )
    for kind, (count, size) in sorted(figures.kinds.items(), key=lambda item: -item[1][1]):
        print(
            f"    {kind}: {count:,} keys, {size / 2**20:.2f} MiB, "
            f"{size / args.reps / 1024:.2f} KiB a rep"
        )


OPTIONS: tuple[tuple[str, type, float, str], ...] = (
    ("--seconds", float, 300.0, "soak length after the warm-up, s"),
    ("--reps", int, 1000, "reps"),
    ("--tenants", int, 20, "tenants: the first half Slack workspaces, the rest Teams tenants"),
    ("--rate", float, 60.0, "requests a second, all kinds"),
    ("--warm-up", float, 30.0, "s of the mix after one decision a rep, before RSS is first read"),
    ("--workers", int, 2, "`voicemail-coach worker` processes"),
    ("--connections", int, 64, "most requests in flight"),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    for flag, kind, default, meaning in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=f"{meaning} ({default})")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--prefix", help="the Redis key prefix (default: a new one), deleted")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--role", choices=("fake",), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--login-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "fake":
        serve_fake(args.port, args.login_port, args.files)
        return 0
    if args.rate <= 0 or args.seconds <= 0 or args.reps < 1 or not 2 <= args.tenants <= 99:
        parser.error("need --rate > 0, --seconds > 0, --reps >= 1 and 2 <= --tenants <= 99")
    started = time.perf_counter()
    code = asyncio.run(soak(args))
    print(f"total {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
