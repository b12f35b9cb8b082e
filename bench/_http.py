"""What the HTTP benchmarks share: subprocesses (spawned, pinned, stopped), the open-loop and
closed-loop load generators over bare keep-alive HTTP/1.1, percentiles, the search for the
highest sustained rate, and CPU accounting from /proc and Redis.

bench/slack_http.py and bench/teams_http.py each bring their own requests, fakes and floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import aiohttp
import redis.asyncio
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


async def exit_with_parent(app: web.Application) -> None:
    """Stop (SIGTERM to ourselves) if the bench that started us goes away without saying so."""
    parent = os.getppid()

    async def watch() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    task = asyncio.get_running_loop().create_task(watch())
    app[WATCHER] = task


WATCHER = web.AppKey("bench_parent_watcher", asyncio.Task[None])


# Subprocesses


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text[-lines:])


def run_timed(
    bench: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
) -> int:
    """Check the rate options every HTTP bench has, run `bench`, print how long it took; its
    exit status."""
    if args.rate <= 0 or args.max_rate < args.rate or args.step_factor <= 1 or args.repeats < 1:
        parser.error("need 0 < --rate <= --max-rate, --step-factor > 1 and --repeats >= 1")
    started = time.perf_counter()
    code: int = asyncio.run(bench(args))
    print(f"total {time.perf_counter() - started:.1f} s")
    return code


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def api_arguments(request: web.Request) -> dict[str, Any]:
    """A Web API call's arguments, as a fake Slack reads them: the query, then a JSON or form
    body."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        args |= await request.json()
    elif request.method == "POST":
        args |= dict(await request.post())
    return args


def run_floor(port: int, path: str, handle: Handler) -> None:
    """A floor's web app: its one POST route, /healthz, and an end when the parent goes."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    app = web.Application()
    app.router.add_post(path, handle)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(exit_with_parent)
    web.run_app(app, host=HOST, port=port, print=None)


@contextlib.contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Children started inside inherit this CPU set; ours is put back afterwards."""
    if cpus is None:
        yield
        return
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, mine)


def spawn(
    name: str, argv: list[str], env: dict[str, str], cpus: set[int] | None, logs: Path
) -> Child:
    log = logs / f"{name}.log"
    with log.open("wb") as out, pinned(cpus):
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )
    return Child(name, process, log)


def complaints(log: Path) -> str:
    """Warning and error events in a JSON-lines log, counted by event and error type."""
    counts: Counter[str] = Counter()
    with log.open(errors="replace") as lines:
        for line in lines:
            if '"level":"warning"' not in line and '"level":"error"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            error = record.get("error")
            counts[f"{record.get('event')}" + (f" ({error})" if error else "")] += 1
    return ", ".join(f"{event} x{count}" for event, count in counts.most_common())


def stop(child: Child) -> None:
    if child.process.poll() is not None:
        return
    child.process.send_signal(signal.SIGTERM)
    try:
        child.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.process.kill()
        child.process.wait()


async def wait_ready(session: aiohttp.ClientSession, child: Child, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited ({child.process.returncode}):\n{child.tail()}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(url) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{child.name} not ready at {url} after 30 s:\n{child.tail()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# The load generator: bare HTTP/1.1 over asyncio


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time; answers need a Content-Length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # asyncio sets TCP_NODELAY

    def send(self, raw: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length: int | None = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                self.reusable = False
        if length is None:
            self._fail(ConnectionError("an answer without Content-Length"))
            return
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(int(lines[0].split(" ", 2)[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("closed by the server"))

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Idle connections are reused; new ones are opened up to `limit`, then requests queue."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.limit = limit
        self.idle: list[Connection] = []
        self.opened = 0
        self.queue: deque[asyncio.Future[Connection | None]] = deque()

    async def open(self) -> Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(Connection, HOST, self.port)
        return connection

    async def prime(self, count: int) -> None:
        count = min(count, self.limit)
        self.idle.extend(await asyncio.gather(*(self.open() for _ in range(count))))
        self.opened += count

    async def acquire(self) -> Connection:
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection
            self.opened -= 1
        if self.opened >= self.limit:
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self.queue.append(waiter)
            handed = await waiter
            if handed is not None:
                return handed
        else:
            self.opened += 1
        try:
            return await self.open()
        except BaseException:
            self.opened -= 1
            raise

    def release(self, connection: Connection, reuse: bool) -> None:
        if reuse and connection.reusable and not connection.closed:
            while self.queue:
                waiter = self.queue.popleft()
                if not waiter.done():
                    waiter.set_result(connection)
                    return
            self.idle.append(connection)
            return
        connection.close()
        self.opened -= 1
        while self.queue:
            waiter = self.queue.popleft()
            if not waiter.done():
                self.opened += 1  # the waiter opens its own
                waiter.set_result(None)
                return

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


@dataclass
class Shots:
    """Ready-to-send requests of one run: raw HTTP bytes, each with its response_url number."""

    tag: str
    raw: list[bytes]


@dataclass
class Fired:
    """What came back from one open-loop run, per request, on the monotonic clock."""

    due: list[float]
    sent: list[float]
    done: list[float]
    status: list[int]  # 0: no answer in time; -1: connection error


async def fire(port: int, shots: Shots, rate: float, connections: int, wait: float) -> Fired:
    count = len(shots.raw)
    fired = Fired([math.nan] * count, [math.nan] * count, [math.nan] * count, [0] * count)
    pool = Pool(port, connections)
    await pool.prime(16)

    async def one(number: int) -> None:
        try:
            connection = await pool.acquire()
        except OSError:
            fired.status[number] = -1
            return
        fired.sent[number] = time.monotonic()
        try:
            status = await connection.send(shots.raw[number])
        except asyncio.CancelledError:
            pool.release(connection, reuse=False)
            raise
        except (OSError, ValueError):
            fired.done[number] = time.monotonic()
            fired.status[number] = -1
            pool.release(connection, reuse=False)
            return
        fired.done[number] = time.monotonic()
        fired.status[number] = status
        pool.release(connection, reuse=True)

    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    with collector_off():
        start = time.monotonic() + 0.05
        tasks = []
        for number in range(count):
            due = start + number * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            fired.due[number] = due
            tasks.append(loop.create_task(one(number)))
        _, pending = await asyncio.wait(tasks, timeout=wait)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    pool.close()
    return fired


async def hammer(port: int, shots: Shots, clients: int, seconds: float) -> tuple[Fired, float]:
    """Closed loop: `clients` connections, each sending its next request when the last is
    answered, for `seconds` or until the shots run out. Returns what came back and the end."""
    count = len(shots.raw)
    fired = Fired([math.nan] * count, [math.nan] * count, [math.nan] * count, [0] * count)
    pool = Pool(port, clients)
    await pool.prime(clients)
    connections = list(pool.idle)
    taken = 0

    async def client(connection: Connection) -> None:
        nonlocal taken
        while taken < count and time.monotonic() < end:
            number, taken = taken, taken + 1
            fired.due[number] = fired.sent[number] = time.monotonic()
            try:
                fired.status[number] = await connection.send(shots.raw[number])
            except (OSError, ValueError):
                fired.status[number] = -1
            fired.done[number] = time.monotonic()
            if connection.closed or not connection.reusable:
                connection.close()
                connection = await pool.open()
        connection.close()

    with collector_off():
        end = time.monotonic() + seconds
        await asyncio.wait_for(asyncio.gather(*(client(c) for c in connections)), seconds + 30)
    return fired, min(end, max(d for d in fired.done if not math.isnan(d)))


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """No garbage collection in the load generator while it times requests."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cpu_column(cpu: dict[str, float], target: str) -> str:
    workers = "workers" if target == "service" else ""
    return "/".join(
        "-" if math.isnan(share) else f"{share:.0f}"
        for share in (
            cpu.get(name, math.nan) for name in (target, workers, "load", "fake", "redis")
        )
    )


class Timed(Protocol):
    errors: int
    p99_ms: float


T = TypeVar("T", bound=Timed)


def median_run(runs: Sequence[T]) -> T:
    """The run with the median p99 (the lower middle one of an even number)."""
    ordered = sorted(runs, key=lambda run: (run.errors, run.p99_ms))
    return ordered[(len(ordered) - 1) // 2]


def percentile(values: Sequence[float], q: int) -> float:
    if not values:
        return math.nan
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Cpu:
    """CPU seconds used so far by our subprocesses, this process and Redis (INFO cpu)."""

    def __init__(self, pids: dict[str, int], redis_url: str) -> None:
        self.pids = pids
        self.redis = redis.asyncio.Redis.from_url(redis_url)
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    async def read(self) -> dict[str, float]:
        used = {name: self.process(pid) for name, pid in self.pids.items()}
        times = os.times()
        used["load"] = times.user + times.system
        try:
            info = await self.redis.info("cpu")
            used["redis"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        except (redis.RedisError, KeyError, ValueError):
            used["redis"] = math.nan
        used["wall"] = time.monotonic()
        return used

    def process(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / self.tick

    async def close(self) -> None:
        await self.redis.aclose()


def cpu_share(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Percent of one CPU each used between two readings."""
    wall = after["wall"] - before["wall"]
    shares = {name: 100 * (after[name] - before[name]) / wall for name in before if name != "wall"}
    shares["workers"] = sum(share for name, share in shares.items() if name.startswith("worker"))
    return shares


def status_name(status: int) -> str:
    return {0: "timeout", -1: "connection error"}.get(status, f"HTTP {status}")


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


async def check_redis(url: str) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


def placement(pin: bool, others: str) -> tuple[set[int] | None, set[int] | None, str]:
    """CPUs for the server under test and for everything else of ours (`others`, in words)."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None, "not pinned"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"not pinned (one CPU: {cpus})"
    server, rest = {cpus[-1]}, set(cpus[:-1])
    return (
        server,
        rest,
        f"server under test on CPU {cpus[-1]}; {others} on CPU "
        f"{','.join(map(str, sorted(rest)))}, Redis unpinned",
    )


# Open-loop runs: the acks, and the search for the highest sustained rate


@dataclass
class Acks:
    """The HTTP answers of one open-loop run, on the monotonic clock."""

    ok: list[int]  # the requests answered 200, by number
    errors: int
    statuses: str  # the other answers, counted ("HTTP 401 x3, timeout x1")
    achieved: float  # answers a second over the run's span
    p50_ms: float
    p99_ms: float
    lag_p99_ms: float  # how late the load generator sent
    last_ack: float | None


def acks(fired: Fired) -> Acks:
    """Latency is from the moment each request was due to its answer (no coordinated
    omission); the achieved rate is the 200s over the span from the first due to the last."""
    count = len(fired.status)
    ok = [n for n in range(count) if fired.status[n] == 200]
    latencies = sorted(1000 * (fired.done[n] - fired.due[n]) for n in ok)
    lags = sorted(
        1000 * (s - d) for s, d in zip(fired.sent, fired.due, strict=True) if not math.isnan(s)
    )
    finished = [fired.done[n] for n in ok]
    span = (max(finished) - fired.due[0]) if finished else math.inf
    statuses = Counter(fired.status)
    return Acks(
        ok=ok,
        errors=count - len(ok),
        statuses=", ".join(
            f"{status_name(s)} x{n}" for s, n in sorted(statuses.items()) if s != 200
        ),
        achieved=len(ok) / span,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        lag_p99_ms=percentile(lags, 99),
        last_ack=max(finished) if finished else None,
    )


class Judged(Protocol):
    @property
    def passed(self) -> bool: ...


Step = TypeVar("Step", bound=Judged)


async def highest_rate(
    step: Callable[[float, str], Awaitable[Step]],
    start: float,
    factor: float,
    cap: float,
    refine: int,
) -> tuple[float | None, list[Step]]:
    """Step the rate up from `start` (times `factor`, up to `cap`) until a step fails, then
    bisect `refine` times between the last pass and that. `step(rate, name)` runs one, named
    s0, s1... going up and r0, r1... bisecting. Returns the highest rate that passed (None if
    the first step failed) and every step."""
    runs: list[Step] = []
    rates: list[float] = []
    rate = float(start)
    while rate < cap:
        rates.append(rate)
        rate *= factor
    rates.append(float(cap))
    passed: float | None = None
    failed: float | None = None
    for number, rate in enumerate(rates):
        run = await step(rate, f"s{number}")
        runs.append(run)
        if not run.passed:
            failed = rate
            break
        passed = rate
    if failed is not None and passed is not None:
        for number in range(refine):
            rate = round((passed + failed) / 2)
            if rate in (passed, failed):
                break
            run = await step(rate, f"r{number}")
            runs.append(run)
            if run.passed:
                passed = rate
            else:
                failed = rate
    return passed, runs
