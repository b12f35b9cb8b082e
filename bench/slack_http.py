"""The `/voicemail` slash command over HTTP: our service against a bare slack-bolt ack, on loopback.

    .venv/bin/python bench/slack_http.py [--rate 200 --seconds 10 --max-rate 2000 ...]

Starts these subprocesses, all on 127.0.0.1:
  - a fake Slack (aiohttp): the Web API methods answer ok:true (users.info with a profile),
    and POST /respond/<id> is the response_url, which records when each answer arrived;
  - the service's web tier, `voicemail-coach serve --no-worker`, on Redis under a key prefix of
    its own (deleted at the end), its Slack Web API pointed at the fake: it verifies each
    request, puts its job on the Redis stream and acks;
  - --workers `voicemail-coach worker` processes, which take the jobs, ask the coach and
    post the answers to the response_url (as a deployment runs them, apart from the web tier);
  - the floor: a slack_bolt AsyncApp with the same signing secret and one `/voicemail` listener
    that only acks, behind the same bolt aiohttp adapter (to_bolt_request, async_dispatch,
    to_aiohttp_response), with bolt's options as the service sets them
    (process_before_response=True: bolt answers once the listener returns).

This process is the load generator: signed, form-encoded `/voicemail <name> @ <company> referred
by <someone>` slash commands, as Slack sends them, over keep-alive HTTP/1.1 connections
written with a bare asyncio protocol (cheaper than an HTTP client library on a small machine),
with its garbage collector off while it times. Bodies and signatures are made before each run,
outside the timed path. Teams, users and prospect names vary, so the store sees distinct keys;
each user is seen once in a warm-up first (as reps who use the bot daily would be: the service
caches users.info for an hour).

1. Fixed rate, open loop: request i is due at start + i/rate and is sent then, whether or not
   earlier ones have been answered. Latency is from the moment a request was due to its HTTP
   answer (the ack), so a server or load generator falling behind shows up in it (no
   coordinated omission); "lag" is how late the load generator sent. End to end (service only)
   is from the moment a request was due to the moment its response_url answer reached the fake
   Slack; both processes read the same system-wide monotonic clock. --repeats runs a target,
   the two taking turns; the summary takes each target's run with the median p99.
2. Highest sustained rate, open loop: steps of --step-seconds, the rate multiplied by
   --step-factor from --rate up to --max-rate, stopping at the first step that fails, then
   bisecting --refine times between the last step that passed and the first that failed. A
   step passes when every request got a 200, p99 <= --p99-bound ms, the achieved rate (answers
   over the step's duration) is at least 95% of the offered rate, and, for the service, every
   response_url answer arrives in the end and none is an apology. The service's workers are
   paused (SIGSTOP) during its steps and resumed after the last ack: this measures the web tier
   alone on its CPU, as the floor is (in a deployment the workers run elsewhere); the jobs wait
   in Redis meanwhile, and how fast the resumed workers post that backlog is drain/s.
3. Capacity, closed loop: --clients connections each send their next request as soon as the
   last is answered, for --closed-seconds: acks a second of each target (the service's workers
   paused, as in 2), then answers a second as its workers post the backlog.
4. Worker: --worker-jobs slash commands acked by the web tier with the workers stopped, then
   drained, timed from resuming them to the last answer: once by the service's workers, once
   (after those have stopped) by a bare worker, a subprocess of this bench that takes the same
   jobs from the same stream and consumer group with the project's own Jobs and posts a fixed
   answer to each response_url. Answers a second per core is answers over the worker's CPU
   seconds; the target is the service's worker at >= 0.5x the bare worker's.

--parts runs some of them (fixed,highest,capacity,worker; all by default), in that order.

Each row shows the CPU used (percent of one CPU) by the server under test, its workers, this
process, the fake Slack and Redis (INFO cpu). By default the server under test (the service's
web tier, or the floor) is pinned to the last CPU, and this process, the fake Slack and the
service's workers to the others (apart from the web tier, as in a deployment; Redis is not ours
to pin); --no-pin leaves placement to the kernel.

With process_before_response=False (bolt's default) bolt would look for a listener's ack()
only every 10 ms (slack_bolt/listener/asyncio_runner.py); both targets answer as soon as their
listener returns, so the comparison is of the work each does, not of that wait.
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
import json
import math
import os
import random
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bench._http import (
    HOST,
    Child,
    Cpu,
    Fired,
    Shots,
    acks,
    api_arguments,
    check_redis,
    complaints,
    cpu_column,
    cpu_share,
    exit_with_parent,
    fire,
    free_port,
    hammer,
    highest_rate,
    median_run,
    ms,
    percentile,
    placement,
    run_floor,
    run_timed,
    spawn,
    stop,
    wait_ready,
)
from bench._redis import delete_prefix

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
COMMAND = "/voicemail"
EVENTS_PATH = "/slack/events"
TARGET_P99_MS = 50.0
TARGET_SHARE = 0.70  # of the floor's highest sustained rate
TARGET_WORKER_SHARE = 0.5  # of the bare worker's answers a second per core
PARTS = ("fixed", "highest", "capacity", "worker")
ACHIEVED_SHARE = 0.95  # of the offered rate, for a step to pass
SEED = 2026

TEAMS = 10
USERS_PER_TEAM = 20
FIRST_NAMES = ("Jane", "Zoë", "Ana María", "Li", "Oluwaseun", "Jean-Luc", "Siobhán", "Raj")
LAST_NAMES = ("Doe", "Ñúñez", "de la Cruz", "Wang", "Adeyemi", "Picard", "O'Brien", "Patel")
COMPANIES = ("Acme", "Globex Corporation", "Initech", "Umbrella Holdings", "Hooli", "Soylent")
REFERRERS = ("Tom", "Tom", "Tom Ruiz", "Priya Raman", "Sam")


# The fake Slack (a subprocess)


@dataclass
class FakeSlack:
    """Web API calls by method; response_url arrivals by run tag, with apologies apart."""

    apology: str
    calls: Counter[str] = field(default_factory=Counter)
    arrivals: dict[str, dict[int, float]] = field(default_factory=dict)
    apologies: dict[str, list[int]] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)


def fake_answer(method: str, args: dict[str, Any]) -> dict[str, Any]:
    if method == "auth.test":
        return {"ok": True, "team_id": "TBENCH", "user_id": "UBOT", "bot_id": "BBOT", "team": "b"}
    if method == "users.info":
        user = str(args.get("user") or "")
        return {
            "ok": True,
            "user": {
                "id": user,
                "name": "rep",
                "real_name": f"Rep {user}",
                "tz": "America/New_York",
                "is_admin": False,
                "is_owner": False,
                "profile": {"real_name": f"Rep {user}", "phone": "+1 555 010 0199"},
            },
        }
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": "D1"}}
    if method in ("chat.postMessage", "chat.postEphemeral"):
        return {"ok": True, "channel": "D1", "ts": "1.000001"}
    return {"ok": True}


def fake_slack_app(state: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await api_arguments(request)
        state.calls[method] += 1
        return web.json_response(fake_answer(method, args))

    async def respond(request: web.Request) -> web.Response:
        arrived = time.monotonic()
        tag, _, number = request.match_info["id"].rpartition(".")
        body = await request.json()
        state.arrivals.setdefault(tag, {})[int(number)] = arrived
        text = str(body.get("text") or "")
        if text == state.apology:
            state.apologies.setdefault(tag, []).append(int(number))
        else:
            state.samples.setdefault(tag, text)
        return web.Response(text="ok")

    async def count(request: web.Request) -> web.Response:
        return web.json_response(len(state.arrivals.get(request.query["tag"], {})))

    async def stats(request: web.Request) -> web.Response:
        tag = request.query["tag"]
        arrivals = state.arrivals.pop(tag, {})
        return web.json_response(
            {
                "arrivals": [[number, at] for number, at in arrivals.items()],
                "apologies": state.apologies.pop(tag, []),
                "sample": state.samples.pop(tag, ""),
                "calls": dict(state.calls),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/respond/{id}", respond)
    app.router.add_get("/_bench/count", count)
    app.router.add_get("/_bench/stats", stats)
    app.on_startup.append(exit_with_parent)
    return app


def serve_fake_slack(port: int) -> None:
    from bot.adapters import APOLOGY

    web.run_app(fake_slack_app(FakeSlack(APOLOGY)), host=HOST, port=port, print=None)


# The floor (a subprocess)


def serve_floor(port: int, api_url: str) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        process_before_response=True,
    )

    async def on_command(ack: Any) -> None:
        await ack()

    bolt.command(COMMAND)(on_command)

    async def events(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        response: web.StreamResponse = await to_aiohttp_response(bolt_response)
        return response

    run_floor(port, EVENTS_PATH, events)


# The bare worker (a subprocess)


# What the bare worker posts to every job's response_url: a decision's size, made once.
BARE_ANSWER = json.dumps(
    {
        "response_type": "ephemeral",
        "text": "Leave a voicemail · a prospect @ a company",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Leave a voicemail"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "A fixed answer. " * 20}},
        ],
    }
).encode()


def serve_bare_worker(port: int) -> None:
    asyncio.run(bare_worker(port))


async def bare_worker(port: int) -> None:
    """Takes the Slack jobs as `voicemail-coach worker` does (the project's Jobs on the same
    stream, consumer group and key) and posts BARE_ANSWER to each one's response_url: no
    coach, no store, no Slack SDK. /readyz answers 200 once it reads the stream."""
    from adapters.slack.app import JOB_NAME
    from bot.config import Config
    from bot.jobs import Jobs

    jobs = Jobs.open(Config.from_env())
    session = aiohttp.ClientSession()
    headers = {"Content-Type": "application/json; charset=utf-8"}

    async def post_fixed_answer(payload: dict[str, Any]) -> None:
        url = str(payload["response_url"])
        async with session.post(url, data=BARE_ANSWER, headers=headers) as response:
            await response.read()

    jobs.register(JOB_NAME, post_fixed_answer)

    async def readyz(_: web.Request) -> web.Response:
        return web.Response(status=200 if jobs.consuming and jobs.ready else 503)

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    app.on_startup.append(exit_with_parent)  # it SIGTERMs us: `stop` below
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    site_runner = web.AppRunner(app)
    await site_runner.setup()
    await web.TCPSite(site_runner, HOST, port).start()
    await jobs.start()
    try:
        await jobs.consume(stop)
    finally:
        await jobs.close()
        await session.close()
        await site_runner.cleanup()


class Generator:
    """Signed slash commands for one target, with distinct teams, users and prospects."""

    def __init__(self, port: int, respond_url: str) -> None:
        self.port = port
        self.respond_url = respond_url
        self.verifier = SignatureVerifier(SECRET)
        self.rng = random.Random(SEED)
        self.users = [(team, user) for team in range(TEAMS) for user in range(USERS_PER_TEAM)]

    def shots(self, tag: str, count: int, *, every_user: bool = False) -> Shots:
        stamp = str(int(time.time()))
        raw = []
        for number in range(count):
            if every_user:
                team, user = self.users[number % len(self.users)]
            else:
                team, user = self.rng.choice(self.users)
            body = self.body(tag, number, team, user)
            signature = str(self.verifier.generate_signature(timestamp=stamp, body=body))
            encoded = body.encode()
            head = (
                f"POST {EVENTS_PATH} HTTP/1.1\r\n"
                f"Host: {HOST}:{self.port}\r\n"
                "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
                "Accept: application/json,*/*\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(encoded)}\r\n"
                f"X-Slack-Request-Timestamp: {stamp}\r\n"
                f"X-Slack-Signature: {signature}\r\n"
                "\r\n"
            )
            raw.append(head.encode() + encoded)
        return Shots(tag, raw)

    def body(self, tag: str, number: int, team: int, user: int) -> str:
        rng = self.rng
        text = (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} @ {rng.choice(COMPANIES)} "
            f"referred by {rng.choice(REFERRERS)}"
        )
        return urlencode(
            {
                "token": "bench-verification-token",
                "team_id": f"TBENCH{team:02d}",
                "team_domain": f"bench{team:02d}",
                "channel_id": f"DBENCH{team:02d}{user:03d}",
                "channel_name": "directmessage",
                "user_id": f"UBENCH{team:02d}{user:03d}",
                "user_name": f"rep{team:02d}{user:03d}",
                "command": COMMAND,
                "text": text,
                "api_app_id": "ABENCH",
                "is_enterprise_install": "false",
                "response_url": f"{self.respond_url}/{tag}.{number}",
                "trigger_id": f"{number}.{team}{user:03d}.{tag}",
            }
        )


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
    answers: int | None = None
    answered_in_grace: int | None = None
    apologies: int = 0
    e2e_p50_ms: float = math.nan
    e2e_p99_ms: float = math.nan
    workers_paused: bool = False
    drained_per_second: float = math.nan  # answers a second once paused workers resumed
    sample: str = ""
    cpu: dict[str, float] = field(default_factory=dict)
    why_failed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.why_failed


@dataclass
class Capacity:
    target: str
    clients: int
    seconds: float
    requests: int
    ok: int
    errors: int
    acks_per_second: float
    p50_ms: float
    p99_ms: float
    ran_out: bool
    cpu: dict[str, float]
    answers: int | None = None
    answers_per_second: float = math.nan
    apologies: int = 0

    @property
    def throughput(self) -> float:
        """Requests taken a second: acks, each with its job in Redis for the service."""
        return self.acks_per_second

    HEADER = (
        f"  {'target':<8}{'clients':>8}{'window s':>9}{'acks/s':>9}{'answers/s':>10}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'answers':>14}{'apologies':>10}"
        f"  {'cpu% srv/wrk/gen/fake/redis':>27}"
    )

    def row(self) -> str:
        answered = "" if self.answers is None else f"{self.answers}/{self.requests}"
        apologies = "" if self.answers is None else f"{self.apologies}"
        note = "  (ran out of prepared requests: raise --closed-requests)" if self.ran_out else ""
        return (
            f"  {self.target:<8}{self.clients:>8}{self.seconds:>9.2f}{self.acks_per_second:>9.1f}"
            f"{ms(self.answers_per_second):>10}{ms(self.p50_ms):>8}{ms(self.p99_ms):>8}"
            f"{self.errors:>7}{answered:>14}{apologies:>10}"
            f"  {cpu_column(self.cpu, self.target):>27}{note}"
        )


@dataclass
class Drain:
    """A backlog of jobs queued with the worker paused, then drained: how fast, at what CPU."""

    worker: str
    jobs: int  # acked, each with its job in Redis
    answers: int
    apologies: int
    seconds: float  # from resuming the worker to the backlog's last answer
    cpu_seconds: float  # the worker's, meanwhile
    sample: str = ""

    @property
    def answers_per_second(self) -> float:
        return self.answers / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_share(self) -> float:
        """Of one CPU, while it drained."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else math.nan

    @property
    def per_core(self) -> float:
        """Answers a second of CPU: what one core busy with nothing else would post."""
        return self.answers / self.cpu_seconds if self.cpu_seconds > 0 else math.nan

    HEADER = (
        f"  {'worker':<26}{'jobs':>7}{'answers':>9}{'apologies':>10}{'drain s':>9}"
        f"{'answers/s':>11}{'cpu %':>7}{'answers/s per core':>20}"
    )

    def row(self) -> str:
        return (
            f"  {self.worker:<26}{self.jobs:>7}{self.answers:>9}{self.apologies:>10}"
            f"{self.seconds:>9.2f}{self.answers_per_second:>11.1f}{100 * self.cpu_share:>7.0f}"
            f"{self.per_core:>20.1f}"
        )


class Bench:
    def __init__(
        self, args: argparse.Namespace, fake_url: str, cpu: Cpu, workers: list[Child]
    ) -> None:
        self.args = args
        self.fake_url = fake_url
        self.cpu = cpu
        self.workers = workers
        self.session: aiohttp.ClientSession | None = None
        self.calls: dict[str, int] = {}
        self.last_arrival = math.nan
        self.start_bare_worker: Callable[[], Awaitable[Child]] | None = None

    @contextlib.contextmanager
    def web_tier_alone(self, target: str, pause: bool) -> Iterator[None]:
        """The service's workers stopped (SIGSTOP) while the load runs, resumed afterwards."""
        pause = pause and target == "service"
        for worker in self.workers if pause else ():
            worker.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for worker in self.workers if pause else ():
                worker.process.send_signal(signal.SIGCONT)

    async def run(
        self,
        target: str,
        generator: Generator,
        rate: float,
        seconds: float,
        tag: str,
        *,
        pause_workers: bool = False,
    ) -> Run:
        """One open-loop run; for the service, also wait for (and time) the response_url posts."""
        count = max(1, round(rate * seconds))
        shots = generator.shots(tag, count)
        cpu_before = await self.cpu.read()
        with self.web_tier_alone(target, pause_workers):
            fired = await fire(generator.port, shots, rate, self.args.connections, seconds + 10)
        resumed = time.monotonic()
        answered = acks(fired)
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
        )
        if target == "service":
            last_ack = answered.last_ack or time.monotonic()
            await self.collect_answers(run, tag, fired, set(answered.ok), last_ack)
            if pause_workers:
                run.workers_paused = True
                run.drained_per_second = (run.answers or 0) / (self.last_arrival - resumed)
                run.e2e_p50_ms = run.e2e_p99_ms = math.nan  # they measure the pause, not us
        else:
            await asyncio.sleep(max(0.0, (answered.last_ack or 0.0) - time.monotonic()))
        run.cpu = cpu_share(cpu_before, await self.cpu.read())
        self.judge(run)
        return run

    async def collect_answers(
        self, run: Run, tag: str, fired: Fired, ok: set[int], last_ack: float
    ) -> None:
        await asyncio.sleep(max(0.0, last_ack + self.args.grace - time.monotonic()))
        run.answered_in_grace = await self.count(tag)
        arrivals, apologies, run.sample = await self.drain(tag, len(ok))
        run.apologies = len(apologies)
        run.answers = sum(1 for number in arrivals if number in ok)
        self.last_arrival = max(arrivals.values(), default=math.nan)
        e2e = sorted(1000 * (at - fired.due[number]) for number, at in arrivals.items())
        run.e2e_p50_ms = percentile(e2e, 50)
        run.e2e_p99_ms = percentile(e2e, 99)

    async def drain(self, tag: str, expected: int) -> tuple[dict[int, float], set[int], str]:
        """Wait for a run's answers (all of them, or 3 s without progress), then take them."""
        seen, since = await self.count(tag), time.monotonic()
        deadline = time.monotonic() + 120
        while seen < expected and time.monotonic() - since < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            now_seen = await self.count(tag)
            if now_seen != seen:
                seen, since = now_seen, time.monotonic()
        stats = await self.get(f"/_bench/stats?tag={tag}")
        self.calls = {str(k): int(v) for k, v in stats["calls"].items()}
        arrivals = {int(number): float(at) for number, at in stats["arrivals"]}
        return arrivals, {int(number) for number in stats["apologies"]}, str(stats["sample"])

    async def drained(
        self, name: str, workers: list[Child], generator: Generator, tag: str
    ) -> Drain:
        """--worker-jobs slash commands acked by the web tier with `workers` stopped (SIGSTOP),
        their jobs left in Redis; then the workers resumed and timed until the last answer."""
        shots = generator.shots(tag, self.args.worker_jobs)
        for worker in workers:
            worker.process.send_signal(signal.SIGSTOP)
        try:
            fired, _ = await hammer(generator.port, shots, self.args.clients, 600.0)
            ok = {n for n, status in enumerate(fired.status) if status == 200}
            await asyncio.sleep(0.5)  # the last XADDs settle; nothing is read meanwhile
            before = sum(self.cpu.process(worker.process.pid) for worker in workers)
            resumed = time.monotonic()
        finally:
            for worker in workers:
                worker.process.send_signal(signal.SIGCONT)
        arrivals, apologies, sample = await self.drain(tag, len(ok))
        after = sum(self.cpu.process(worker.process.pid) for worker in workers)
        answered = [at for number, at in arrivals.items() if number in ok]
        return Drain(
            worker=name,
            jobs=len(ok),
            answers=len(answered),
            apologies=len(apologies),
            seconds=max(answered, default=resumed) - resumed,
            cpu_seconds=after - before,
            sample=sample,
        )

    async def capacity(self, target: str, generator: Generator, tag: str) -> Capacity:
        """Closed loop: what `--clients` back-to-back clients get through in --closed-seconds."""
        args = self.args
        shots = generator.shots(tag, args.closed_requests)
        cpu_before = await self.cpu.read()
        with self.web_tier_alone(target, pause=True):
            fired, end = await hammer(generator.port, shots, args.clients, args.closed_seconds)
        resumed = time.monotonic()
        cpu = cpu_share(cpu_before, await self.cpu.read())
        start = fired.due[0]
        window = end - start
        sent = [n for n in range(len(shots.raw)) if not math.isnan(fired.due[n])]
        ok = [n for n in sent if fired.status[n] == 200 and fired.done[n] <= end]
        latencies = sorted(1000 * (fired.done[n] - fired.sent[n]) for n in ok)
        capacity = Capacity(
            target=target,
            clients=args.clients,
            seconds=window,
            requests=len(sent),
            ok=len(ok),
            errors=sum(1 for n in sent if fired.status[n] != 200),
            acks_per_second=len(ok) / window,
            p50_ms=percentile(latencies, 50),
            p99_ms=percentile(latencies, 99),
            ran_out=len(sent) == len(shots.raw),
            cpu=cpu,
        )
        if target == "service":
            arrivals, apologies, _ = await self.drain(tag, len(sent))
            drained = max(arrivals.values(), default=resumed) - resumed
            answered = sum(1 for n in arrivals if n not in apologies)
            capacity.answers_per_second = answered / drained if drained > 0 else math.nan
            capacity.answers = len(arrivals)
            capacity.apologies = len(apologies)
        print(capacity.row(), flush=True)
        await asyncio.sleep(1.0)
        return capacity

    def judge(self, run: Run) -> None:
        why = run.why_failed
        if run.errors:
            why.append(f"{run.errors} errors")
        if not run.p99_ms <= self.args.p99_bound:
            why.append(f"p99 > {self.args.p99_bound:g} ms")
        if run.achieved < ACHIEVED_SHARE * run.offered:
            why.append(f"achieved < {ACHIEVED_SHARE:.0%} of offered")
        if run.answers is not None and run.answers < run.ok:
            why.append(f"{run.ok - run.answers} answers never posted")
        late = run.ok - (run.answered_in_grace or 0)
        if run.answers is not None and not run.workers_paused and late > 0:
            why.append(f"{late} answers pending {self.args.grace:g} s after the last ack")
        if run.apologies:
            why.append(f"{run.apologies} apologies")

    async def count(self, tag: str) -> int:
        return int(await self.get(f"/_bench/count?tag={tag}"))

    async def get(self, path: str) -> Any:
        assert self.session is not None
        async with self.session.get(self.fake_url + path) as response:
            response.raise_for_status()
            return await response.json()

    async def warm_up(self, target: str, generator: Generator, tag: str) -> None:
        """Every user once at a gentle rate: auth.test, users.info, connections, code paths."""
        users = len(generator.users)
        shots = generator.shots(tag, users, every_user=True)
        await fire(generator.port, shots, 100.0, self.args.connections, users / 100 + 10)
        if target == "service":
            deadline = time.monotonic() + 10
            while await self.count(tag) < users and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await self.get(f"/_bench/stats?tag={tag}")
        await asyncio.sleep(0.5)

    async def highest(self, target: str, generator: Generator) -> tuple[float | None, list[Run]]:
        """Step the rate up until a step fails, then bisect between the last pass and that."""
        args = self.args

        async def step(rate: float, name: str) -> Run:
            return await self.step(target, generator, rate, f"{target[0]}{name}")

        return await highest_rate(step, args.rate, args.step_factor, args.max_rate, args.refine)

    async def step(self, target: str, generator: Generator, rate: float, tag: str) -> Run:
        run = await self.run(
            target, generator, rate, self.args.step_seconds, tag, pause_workers=True
        )
        print(row(run), flush=True)
        await asyncio.sleep(1.0)  # let the server settle (and finish what it had queued)
        return run


# Printing


HEADER = (
    f"  {'target':<8}{'offered':>8}{'achieved':>9}{'ok/sent':>13}{'p50 ms':>8}{'p99 ms':>8}"
    f"{'lag p99':>8}{'answers':>13}{'e2e p50':>8}{'e2e p99':>8}{'drain/s':>8}"
    f"  {'cpu% srv/wrk/gen/fake/redis':>27}  verdict"
)


def row(run: Run) -> str:
    answers = "" if run.answers is None else f"{run.answers}"
    verdict = "pass" if run.passed else "FAIL: " + "; ".join(run.why_failed)
    cpu = cpu_column(run.cpu, run.target)
    return (
        f"  {run.target:<8}{run.offered:>8.0f}{run.achieved:>9.1f}"
        f"{f'{run.ok}/{run.requests}':>13}{ms(run.p50_ms):>8}{ms(run.p99_ms):>8}"
        f"{ms(run.lag_p99_ms):>8}{answers:>13}{ms(run.e2e_p50_ms):>8}{ms(run.e2e_p99_ms):>8}"
        f"{ms(run.drained_per_second):>8}"
        f"  {cpu:>27}  {verdict}"
    )


def _rate(value: float | None, runs: list[Run], max_rate: float) -> str:
    if value is None:
        return f"< {runs[0].offered:.0f} req/s (the first step failed)" if runs else "n/a"
    return f">= {value:.0f} req/s (the cap)" if value >= max_rate else f"{value:.0f} req/s"


# Running


async def bench(args: argparse.Namespace) -> int:
    await check_redis(args.redis_url)
    prefix = f"vcbench-http:{uuid4().hex}"
    server_cpus, driver_cpus, where = placement(
        args.pin, "load generator, fake Slack and the service's workers"
    )
    if driver_cpus is not None:
        os.sched_setaffinity(0, driver_cpus)
    fake_port, service_port, floor_port = free_port(), free_port(), free_port()
    fake_url = f"http://{HOST}:{fake_port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN")
    }
    env |= {
        "REDIS_URL": args.redis_url,
        "VOICEMAIL_COACH_REDIS_PREFIX": prefix,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": f"{fake_url}/api/",
    }
    me = [sys.executable, str(Path(__file__).resolve())]
    serve = Path(sys.executable).with_name("voicemail-coach")
    web_tier = [str(serve), "serve", "--no-worker", "--host", HOST, "--port", str(service_port)]
    children: list[Child] = []
    worker_ports: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vc-bench-http-") as directory:
        logs = Path(directory)
        try:
            children.append(
                spawn(
                    "fake-slack",
                    [*me, "--role", "fake-slack", "--port", str(fake_port)],
                    env,
                    driver_cpus,
                    logs,
                )
            )
            children.append(
                spawn(
                    "service",
                    web_tier,
                    env,
                    server_cpus,
                    logs,
                )
            )
            for number in range(args.workers):
                port = str(free_port())
                worker_ports.append(port)
                children.append(
                    spawn(
                        f"worker{number}",
                        [str(serve), "worker", "--host", HOST, "--port", port],
                        env,
                        driver_cpus,
                        logs,
                    )
                )
            children.append(
                spawn(
                    "floor",
                    [
                        *me,
                        "--role",
                        "floor",
                        "--port",
                        str(floor_port),
                        "--api-url",
                        env["SLACK_API_URL"],
                    ],
                    env,
                    server_cpus,
                    logs,
                )
            )
            async with aiohttp.ClientSession() as session:
                fake, service, *workers, floor = children
                await wait_ready(session, fake, f"{fake_url}/_bench/count?tag=ready")
                await wait_ready(session, service, f"http://{HOST}:{service_port}/readyz")
                for worker, port in zip(workers, worker_ports, strict=True):
                    await wait_ready(session, worker, f"http://{HOST}:{port}/readyz")
                await wait_ready(session, floor, f"http://{HOST}:{floor_port}/healthz")
                pids = {child.name: child.process.pid for child in children}
                cpu = Cpu({"fake": pids["fake-slack"], **pids}, args.redis_url)

                async def start_bare_worker() -> Child:
                    port = free_port()
                    bare = spawn(
                        "bare-worker",
                        [*me, "--role", "bare-worker", "--port", str(port)],
                        env,
                        driver_cpus,
                        logs,
                    )
                    children.append(bare)
                    await wait_ready(session, bare, f"http://{HOST}:{port}/readyz")
                    return bare

                try:
                    runner = Bench(args, fake_url, cpu, workers)
                    runner.session = session
                    runner.start_bare_worker = start_bare_worker
                    return await measure(args, runner, service_port, floor_port, fake_url, where)
                finally:
                    await cpu.close()
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
                if child.name in ("service", "bare-worker") or child.name.startswith("worker"):
                    complained = complaints(child.log) or "none"
                    print(f"{child.name} log, warnings and errors: {complained}")


async def measure(
    args: argparse.Namespace,
    runner: Bench,
    service_port: int,
    floor_port: int,
    fake_url: str,
    where: str,
) -> int:
    generators = {
        "floor": Generator(floor_port, f"{fake_url}/respond"),
        "service": Generator(service_port, f"{fake_url}/respond"),
    }
    print(
        f"voicemail-coach Slack HTTP benchmark: Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, {where}; parts: {', '.join(args.parts)}"
    )
    print(
        f"{TEAMS} teams x {USERS_PER_TEAM} users, a warm-up of one command per user per target; "
        f"open loop, latency from when each request was due to its HTTP answer"
    )
    for target, generator in generators.items():
        await runner.warm_up(target, generator, f"{target[0]}w")
    fixed = await fixed_part(args, runner, generators) if "fixed" in args.parts else None
    highest = await highest_part(args, runner, generators) if "highest" in args.parts else None
    capacity = await capacity_part(args, runner, generators) if "capacity" in args.parts else None
    # Last: it stops the service's workers to let the bare worker have the stream to itself.
    drains = (
        await worker_part(args, runner, generators["service"]) if "worker" in args.parts else None
    )
    print()
    met = [
        *([] if fixed is None else fixed_summary(args, runner, *fixed)),
        *([] if highest is None else highest_summary(args, highest)),
        *([] if capacity is None else capacity_summary(args, *capacity)),
        *([] if drains is None else worker_summary(drains)),
    ]
    return 0 if all(met) else 1


async def fixed_part(
    args: argparse.Namespace, runner: Bench, generators: dict[str, Generator]
) -> tuple[dict[str, Run], dict[str, list[Run]]]:
    print(
        f"\nfixed rate: {args.rate:g} req/s for {args.seconds:g} s, {args.repeats} times each, "
        f"taking turns"
    )
    print(HEADER)
    repeats: dict[str, list[Run]] = {target: [] for target in generators}
    for number in range(args.repeats):
        for target, generator in generators.items():
            run = await runner.run(
                target, generator, args.rate, args.seconds, f"{target[0]}f{number}"
            )
            repeats[target].append(run)
            print(row(run), flush=True)
            await asyncio.sleep(1.0)
    return {target: median_run(runs) for target, runs in repeats.items()}, repeats


async def highest_part(
    args: argparse.Namespace, runner: Bench, generators: dict[str, Generator]
) -> dict[str, tuple[float | None, list[Run]]]:
    print(
        f"\nhighest sustained rate: steps of {args.step_seconds:g} s from {args.rate:g} req/s "
        f"x{args.step_factor:g} up to {args.max_rate:g}, then {args.refine} bisections; a step "
        f"passes with no errors, p99 <= {args.p99_bound:g} ms, achieved >= "
        f"{ACHIEVED_SHARE:.0%} of offered and (service) every answer posted once its workers, "
        f"paused during the step, resume (drain/s: how fast they posted the backlog)"
    )
    print(HEADER)
    highest: dict[str, tuple[float | None, list[Run]]] = {}
    for target, generator in generators.items():
        highest[target] = await runner.highest(target, generator)
    return highest


async def capacity_part(
    args: argparse.Namespace, runner: Bench, generators: dict[str, Generator]
) -> tuple[dict[str, Capacity], str]:
    print(
        f"\ncapacity, closed loop, {args.repeats} rounds: {args.clients} clients on keep-alive "
        f"connections, each sending its next request as soon as the last is answered, for "
        f"{args.closed_seconds:g} s; "
        f"acks/s (the service's workers paused meanwhile), then answers/s as the service's "
        f"{args.workers} worker(s) post the backlog; latency here is from send to ack"
    )
    print(Capacity.HEADER)
    rounds = []
    for number in range(args.repeats):
        rounds.append(
            {
                target: await runner.capacity(target, g, f"{target[0]}c{number}")
                for target, g in generators.items()
            }
        )
    # Each round's ratio compares two runs a few seconds apart, which a noisy machine affects
    # alike; the summary takes the round with the median ratio.
    rounds.sort(key=lambda pair: pair["service"].throughput / pair["floor"].throughput)
    ratios = " / ".join(
        f"{pair['service'].throughput / pair['floor'].throughput:.0%}" for pair in rounds
    )
    return rounds[(len(rounds) - 1) // 2], ratios


async def worker_part(
    args: argparse.Namespace, runner: Bench, generator: Generator
) -> tuple[Drain, Drain]:
    print(
        f"\nworker: {args.worker_jobs} slash commands acked by the web tier with the workers "
        f"stopped, then drained: once by the service's {args.workers} `voicemail-coach worker`"
        f"(s), once (after those stopped) by a bare worker that takes the same jobs with the "
        f"project's Jobs and posts a fixed answer; answers/s per core = answers / the worker's "
        f"CPU seconds"
    )
    print(Drain.HEADER)
    ours = await runner.drained(
        f"voicemail-coach worker x{args.workers}", runner.workers, generator, "kw"
    )
    print(ours.row(), flush=True)
    for worker in runner.workers:  # a stopped reader would still be handed jobs: end them
        stop(worker)
    assert runner.start_bare_worker is not None
    bare_child = await runner.start_bare_worker()
    bare = await runner.drained("bare worker (fixed answer)", [bare_child], generator, "kb")
    print(bare.row(), flush=True)
    stop(bare_child)
    return ours, bare


def worker_summary(drains: tuple[Drain, Drain]) -> list[bool]:
    ours, bare = drains
    ratio = ours.per_core / bare.per_core if bare.per_core > 0 else math.nan
    for drain in drains:
        print(
            f"{drain.worker}: {drain.answers} answers of {drain.jobs} jobs "
            f"({drain.apologies} apologies) in {drain.seconds:.2f} s: "
            f"{drain.answers_per_second:.0f} answers/s at {drain.cpu_share:.0%} of a CPU, "
            f"{drain.per_core:.0f} answers/s per core"
        )
    if ours.sample:
        print(f"  a sample answer: {ours.sample.splitlines()[0][:100]!r}")
    complete = ours.answers == ours.jobs and bare.answers == bare.jobs and not ours.apologies
    met = complete and ratio >= TARGET_WORKER_SHARE
    print(
        f"target: worker >= {TARGET_WORKER_SHARE:g}x the bare worker's answers/s per core: "
        f"{'met' if met else 'NOT MET'} ({ratio:.2f}x"
        + ("" if complete else "; some jobs went unanswered or were apologised for")
        + ")"
    )
    return [met]


def fixed_summary(
    args: argparse.Namespace, runner: Bench, fixed: dict[str, Run], repeats: dict[str, list[Run]]
) -> list[bool]:
    service, floor = fixed["service"], fixed["floor"]
    for run in (service, floor):
        p99s = " / ".join(f"{r.p99_ms:.1f}" for r in repeats[run.target])
        print(
            f"{run.target} at {run.offered:g} req/s (the run with the median p99 of "
            f"{args.repeats}): p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, achieved "
            f"{run.achieved:.1f} req/s, {run.errors} errors"
            + (f" ({run.statuses})" if run.statuses else "")
            + f"; p99 of each run: {p99s} ms"
        )
    print(
        f"service response_url answers: {service.answers} of {service.ok} acked requests "
        f"({service.apologies} apologies); end to end p50 {service.e2e_p50_ms:.2f} ms, "
        f"p99 {service.e2e_p99_ms:.2f} ms"
    )
    runs = repeats["service"]
    print(
        f"  over all {len(runs)} service runs at {args.rate:g} req/s: "
        f"{sum(r.answers or 0 for r in runs)} answers of {sum(r.ok for r in runs)} acked "
        f"requests, {sum(r.apologies for r in runs)} apologies; end-to-end p99 of each run: "
        + " / ".join(f"{r.e2e_p99_ms:.1f}" for r in runs)
        + " ms"
    )
    if service.sample:
        print(f"  a sample answer: {service.sample.splitlines()[0][:100]!r}")
    print(f"  fake Slack Web API calls: {runner.calls}")
    fast = service.p99_ms < TARGET_P99_MS and service.errors == 0
    print(
        f"target: service p99 < {TARGET_P99_MS:g} ms at {args.rate:g} req/s: "
        f"{'met' if fast else 'NOT MET'} ({service.p99_ms:.2f} ms, {service.errors} errors)"
    )
    return [fast]


def highest_summary(
    args: argparse.Namespace, highest: dict[str, tuple[float | None, list[Run]]]
) -> list[bool]:
    (service_max, service_runs), (floor_max, floor_runs) = highest["service"], highest["floor"]
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
    sustained = share >= TARGET_SHARE
    print(
        f"target: service >= {TARGET_SHARE:.0%} of the floor's throughput, highest rate with "
        f"p99 <= {args.p99_bound:g} ms: {'met' if sustained else 'NOT MET'} ({share:.0%})"
    )
    return [sustained]


def capacity_summary(
    args: argparse.Namespace, capacity: dict[str, Capacity], ratios: str
) -> list[bool]:
    service_work, floor_work = capacity["service"].throughput, capacity["floor"].throughput
    work_share = service_work / floor_work if floor_work else math.nan
    print(
        f"capacity (closed loop, {args.clients} clients): service web tier {service_work:.0f} "
        f"acks/s, floor {floor_work:.0f} acks/s; service/floor = {work_share:.0%}; "
        f"{args.workers} worker(s) then posted {capacity['service'].answers_per_second:.0f} "
        f"answers/s (the round with the median ratio of {args.repeats}: {ratios})"
    )
    enough = work_share >= TARGET_SHARE
    print(
        f"target: service >= {TARGET_SHARE:.0%} of the floor's throughput, closed-loop capacity: "
        f"{'met' if enough else 'NOT MET'} ({work_share:.0%})"
    )
    return [enough]


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are some of {','.join(PARTS)}, not {text!r}")
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=200.0, help="fixed rate, req/s (200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="fixed-rate run length (10)")
    parser.add_argument("--repeats", type=int, default=3, help="fixed-rate runs a target (3)")
    parser.add_argument("--max-rate", type=float, default=2000.0, help="highest step (2000)")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="step length (10)")
    parser.add_argument("--step-factor", type=float, default=1.5, help="rate growth a step (1.5)")
    parser.add_argument("--refine", type=int, default=3, help="bisections after a failure (3)")
    parser.add_argument("--p99-bound", type=float, default=TARGET_P99_MS, help="ms, a step")
    parser.add_argument("--grace", type=float, default=2.0, help="s for answers after the acks")
    parser.add_argument("--connections", type=int, default=256, help="most open connections")
    parser.add_argument(
        "--workers", type=int, default=1, help="`voicemail-coach worker` processes (1)"
    )
    parser.add_argument("--clients", type=int, default=64, help="closed-loop clients (64)")
    parser.add_argument("--closed-seconds", type=float, default=5.0, help="closed-loop run (5)")
    parser.add_argument(
        "--closed-requests", type=int, default=30_000, help="most closed-loop requests a target"
    )
    parser.add_argument(
        "--worker-jobs", type=int, default=3000, help="jobs each worker drains, part worker (3000)"
    )
    parser.add_argument(
        "--parts",
        type=_parts,
        default=PARTS,
        help=f"comma list of the parts to run, of {','.join(PARTS)} (all)",
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin CPUs")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument(
        "--role", choices=("fake-slack", "floor", "bare-worker"), help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "fake-slack":
        serve_fake_slack(args.port)
        return 0
    if args.role == "floor":
        serve_floor(args.port, args.api_url)
        return 0
    if args.role == "bare-worker":
        serve_bare_worker(args.port)
        return 0
    return run_timed(bench, parser, args)


if __name__ == "__main__":
    sys.exit(main())
