"""The one web server: health and readiness here, each chat platform mounted by its adapter.

One process can be the whole service (`serve`), only its web tier (`serve --no-worker`: it
answers the platforms and queues their jobs), or only a worker (`worker`: it takes the jobs).
Every tier mounts every adapter: an adapter registers its jobs in all of them and its routes
only where the web is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiohttp import hdrs, web, web_response
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from bot import metrics
from bot.adapters import Adapter, AdapterStatus, installed_adapters
from bot.coach import Clock, Coach, utc_now
from bot.config import Config
from bot.jobs import Jobs, job_key_problem
from bot.logs import AccessLogger
from bot.scheduler import Scheduler
from bot.store import Store, connect_store

log = logging.getLogger("voicemail_coach.server")


class Tier(Enum):
    ALL = "all"  # the chat routes, and a worker for their jobs
    WEB = "web"  # the chat routes; other processes do the jobs
    WORKER = "worker"  # only the jobs (and health checks)
    COMMAND = "command"  # a command line tool's: sends, but serves, takes and schedules nothing

    @property
    def serves_chat(self) -> bool:
        return self in (Tier.ALL, Tier.WEB)

    @property
    def runs_jobs(self) -> bool:
        return self in (Tier.ALL, Tier.WORKER)

    @property
    def schedules(self) -> bool:
        """Every serving process looks for due nudges and digests: no process of its own."""
        return self is not Tier.COMMAND


class TierError(Exception):
    """A tier this configuration cannot run; the message says why and what to do."""


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    store: Store
    coach: Coach
    jobs: Jobs
    scheduler: Scheduler
    tier: Tier = Tier.ALL
    adapters: Mapping[str, Adapter] = field(default_factory=dict)  # by name


SERVICES = web.AppKey("services", Services)

MAX_BODY_BYTES = 256 * 1024  # what Slack and Teams send is far smaller
SLOW_BODY_TEXT = "The request body did not arrive in time."
SERVER_NAME = "voicemail-coach"  # never aiohttp's and Python's versions
EVERY_RESPONSE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_HEADERS = {  # the install and OAuth result pages: no frames, no scripts, no requests
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https://platform.slack-edge.com;"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}
BUSY_TEXT = "Too many requests are sending their bodies; try again shortly."


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client may hold of the server. A reverse proxy in front should be at least as
    strict (docs/deploy-proxy.md); these hold when it is not."""

    header_seconds: float = 10.0  # also how long an idle keep-alive connection stays open
    body_seconds: float = 10.0
    max_body_bytes: int = MAX_BODY_BYTES
    max_bodies_reading: int = 256  # requests whose body is still arriving, at once
    max_connections: int = 512  # open at once, idle keep-alives included; below `ulimit -n`
    lingering_seconds: float = 1.0  # how long a refused request's unread body is drained


@dataclass(slots=True)
class BodyReads:
    limits: Limits
    in_progress: int = 0


BODY_READS = web.AppKey("body_reads", BodyReads)


CONNECTION_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)
REFUSALS_LOGGED_EVERY_SECONDS = 60.0


class ConnectionCap:
    """The protocol factory of a listening socket: aiohttp's Server while fewer than `limit`
    of its connections are open, else a protocol that answers 503 and closes at once, so
    connections that are slow to send leave sockets for /healthz. Connections accepted in the
    same turn of the loop are counted once the server registers them: the cap may be passed by
    one accept batch."""

    def __init__(self, server: web.Server, limit: int) -> None:
        self.server = server
        self.limit = limit
        self._refused = 0
        self._logged_at = float("-inf")

    def __call__(self) -> asyncio.BaseProtocol:
        if len(self.server.connections) < self.limit:
            return self.server()
        self._log_refusal()
        return _Refuse()

    def _log_refusal(self) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at >= REFUSALS_LOGGED_EVERY_SECONDS:
            log.warning(
                "connections_refused", extra={"refused": self._refused, "limit": self.limit}
            )
            self._logged_at, self._refused = now, 0


class _Refuse(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(CONNECTION_REFUSED)
        transport.close()


class CappingEventLoop(asyncio.SelectorEventLoop):
    """The loop `serve` runs on: web.run_app starts its sites with loop.create_server, and
    offers no other place to cap connections (no request exists before the headers)."""

    def __init__(self, max_connections: int) -> None:
        super().__init__()
        self.max_connections = max_connections

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        if isinstance(protocol_factory, web.Server):
            protocol_factory = ConnectionCap(protocol_factory, self.max_connections)
        return await super().create_server(protocol_factory, *args, **kwargs)


def runner_options(limits: Limits) -> dict[str, Any]:
    """For web.run_app or web.AppRunner. aiohttp closes a connection whose request has not
    arrived whole within keepalive_timeout of its opening, so it is the header deadline."""
    return {"keepalive_timeout": limits.header_seconds, "lingering_time": limits.lingering_seconds}


async def create_app(
    config: Config,
    store: Store | None = None,
    tier: Tier = Tier.ALL,
    *,
    adapters: list[Adapter] | None = None,
    clock: Clock = utc_now,
    limits: Limits = Limits(),
) -> web.Application:
    """The application with every adapter (the installed ones by default) mounted; the store
    closes with it. Redis may be down: /readyz answers 503 until it answers."""
    check_tier(config, tier)
    store = store or await connect_store(config)
    chosen = installed_adapters() if adapters is None else adapters
    services = build_services(config, store, tier, chosen, clock)
    app = web.Application(
        client_max_size=limits.max_body_bytes,
        middlewares=[count_requests, read_body_within_deadline],
    )
    app[SERVICES] = services
    app[BODY_READS] = BodyReads(limits)
    app.on_response_prepare.append(_add_safety_headers)
    _name_no_versions()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    # Before the adapters mount: cleanup contexts unwind in reverse, so the worker drains its
    # jobs after the adapters stop taking requests and before their HTTP sessions close.
    app.cleanup_ctx.append(_run_jobs)
    for status in mount_adapters(app, services):
        log.info(
            "adapter", extra={"adapter": status.name, "enabled": status.enabled, "why": status.why}
        )
    app.on_startup.append(_freeze_startup_objects)
    app.on_cleanup.append(_close_store)
    log.info("store", extra={"store": config.store_name, "tier": tier.value})
    return app


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer the application gives, by route pattern and status, and how long it took
    (the outermost middleware: a refused body counts too). A request aiohttp cannot parse is
    answered before any application sees it, and is not counted."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as answer:
        status = answer.status
        raise
    finally:
        metrics.observe_request(_route(request), status, time.perf_counter() - started)


@web.middleware
async def read_body_within_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every body arrives whole within the deadline before any handler runs, and only so many
    at once: a client trickling one byte a second holds a request for seconds, not forever.
    Handlers read the body with request.read() (or text(), json()), which keep it: its stream
    is drained by then."""
    if not request.body_exists:
        return await handler(request)
    reads = request.app[BODY_READS]
    if reads.in_progress >= reads.limits.max_bodies_reading:
        return _refused(request, 503, "busy", BUSY_TEXT)
    reads.in_progress += 1
    try:
        await _read_body(request, reads.limits.body_seconds)
    except TimeoutError:
        return _refused(request, 408, "slow_body", SLOW_BODY_TEXT)
    except web.HTTPRequestEntityTooLarge as too_large:
        return _refused(request, 413, "too_large", too_large.text or "")
    except (ConnectionError, HttpProcessingError):  # the client went away mid-body
        return _refused(request, 400, "body_unreadable", "")
    finally:
        reads.in_progress -= 1
    return await handler(request)


async def _read_body(request: web.Request, seconds: float) -> None:
    """request.read() within `seconds`; a body that came whole with its headers (as nearly
    every one does) is read at once, with no timer to arm and cancel."""
    if request.content.is_eof():
        await request.read()
        return
    async with asyncio.timeout(seconds):
        await request.read()


def _refused(request: web.Request, status: int, reason: str, text: str) -> web.Response:
    log.warning(
        "request_refused", extra={"status": status, "reason": reason, "route": _route(request)}
    )
    response = web.Response(status=status, text=text)
    response.force_close()
    return response


def _route(request: web.Request) -> str:
    """The route's pattern, never the path a client sent (it could be anything)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def _add_safety_headers(_: web.Request, response: web.StreamResponse) -> None:
    response.headers[hdrs.SERVER] = SERVER_NAME
    response.headers.update(EVERY_RESPONSE_HEADERS)
    if response.content_type == "text/html":
        response.headers.update(PAGE_HEADERS)


def _name_no_versions() -> None:
    """aiohttp answers a request it cannot parse (400) before any application, or its
    on_response_prepare, sees it; the Server value it then sends is this module global."""
    setattr(web_response, "SERVER_SOFTWARE", SERVER_NAME)  # noqa: B010 (not exported)


def build_services(
    config: Config, store: Store, tier: Tier, adapters: list[Adapter], clock: Clock = utc_now
) -> Services:
    jobs = Jobs.open(config)
    by_name = {adapter.name: adapter for adapter in adapters}
    scheduler = Scheduler(
        store, jobs, by_name, clock=clock, lease_seconds=float(config.reclaim_seconds)
    )
    scheduler.register()
    coach = Coach(
        store,
        clock=clock,
        erasers=[*(adapter.forget_rep for adapter in adapters), jobs.forget_rep],
        on_schedule_change=scheduler.reschedule_user,
    )
    return Services(config, store, coach, jobs, scheduler, tier, by_name)


def check_tier(config: Config, tier: Tier) -> None:
    if tier in (Tier.WEB, Tier.WORKER) and not config.redis_url:
        raise TierError(
            f"a {tier.value}-only process needs REDIS_URL: without Redis the jobs stay in the "
            "process that queued them, so run `voicemail-coach serve` alone"
        )
    problem = job_key_problem(config) if tier in (Tier.WEB, Tier.WORKER) else None
    if problem is not None:
        raise TierError(problem)


async def _run_jobs(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    await services.jobs.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    background = []
    if services.tier.runs_jobs:
        background.append(loop.create_task(services.jobs.consume(stop)))
    if services.tier.schedules:
        background.append(loop.create_task(services.scheduler.run(stop)))
    yield
    stop.set()
    for task in background:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await services.jobs.close()


def mount_adapters(app: web.Application, services: Services) -> list[AdapterStatus]:
    return [adapter.mount(app, services) for adapter in services.adapters.values()]


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus' text format (or OpenMetrics, if the scraper asks for it): this process's
    counters, and the shared job stream's backlog read from Redis now."""
    body, content_type = await metrics.scrape(
        request.app[SERVICES].jobs.backlog, request.headers.get(hdrs.ACCEPT, "")
    )
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})


async def readyz(request: web.Request) -> web.Response:
    """200 while the store answers and, in a process that takes jobs, its worker reads them;
    else 503 naming what it waits for, so a load balancer sends nothing here meanwhile."""
    services = request.app[SERVICES]
    store = services.config.store_name
    waiting_for = await _waiting_for(services)
    if waiting_for is not None:
        return web.json_response(
            {"status": "unavailable", "store": store, "waiting_for": waiting_for}, status=503
        )
    return web.json_response({"status": "ready", "store": store})


async def _waiting_for(services: Services) -> str | None:
    try:
        await services.store.ping()
    except Exception as error:  # any failure to reach the store means "not ready"
        metrics.count_store_error(services.config.store_name)
        log.warning(
            "not_ready", extra={"store": services.config.store_name, "error": type(error).__name__}
        )
        return "store"
    if not services.jobs.ready:
        log.warning("not_ready", extra={"store": services.config.store_name, "error": "jobs"})
        return "jobs"
    return None


async def _freeze_startup_objects(_: web.Application) -> None:
    """Keep the SDKs' long-lived objects out of the collector's full passes (~50 ms each)."""
    gc.collect()
    gc.freeze()


async def _close_store(app: web.Application) -> None:
    await app[SERVICES].store.close()
    log.info("stopped", extra={"store": app[SERVICES].config.store_name})


def serve(
    config: Config, host: str, port: int, tier: Tier = Tier.ALL, limits: Limits = Limits()
) -> None:
    """Run until SIGINT or SIGTERM; aiohttp then stops accepting, drains and runs cleanup.
    ListenError if the address cannot be bound."""
    bound = False

    def log_serving(_banner: str) -> None:
        # aiohttp calls its `print` once every site has bound its socket: only then is the
        # service reachable, so only then does it say so.
        nonlocal bound
        bound = True
        log.info("serving", extra={"host": host, "port": port, "tier": tier.value})

    try:
        web.run_app(
            create_app(config, tier=tier),
            host=host,
            port=port,
            print=log_serving,
            handle_signals=True,
            access_log_class=AccessLogger,
            loop=CappingEventLoop(limits.max_connections),
            **runner_options(limits),
        )
    except OSError as error:
        if bound:
            raise
        raise ListenError(listen_problem(host, port, error)) from None


def listen_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {host}: stop the process that holds it, or "
            "choose another port with --port (or PORT)"
        )
    if error.errno == errno.EACCES:
        return (
            f"this user may not listen on port {port}: choose a port above 1023 with --port "
            "(or PORT)"
        )
    return f"cannot listen on {host}:{port} ({error.strerror}): check --host and --port"
