"""What the service counts, for Prometheus: one registry a process, served at /metrics.

Every label takes values from a small fixed set (a channel, a route's pattern, a status code,
a job's name, an outcome): never a user id, a tenant, a prospect or anything a client sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from bot.records import SendKind, SendOutcome

log = logging.getLogger("voicemail_coach.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)
NAMESPACE = "voicemail_coach"
# process_start_time_seconds and the like: a restart shows as a new start time.
ProcessCollector(registry=REGISTRY)

# Web tier
REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by channel (slack, teams, health, other), route pattern and status.",
    ["channel", "route", "status"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "ack_seconds",
    "Time from a chat platform's request arriving to its HTTP answer (the acknowledgement).",
    ["channel"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
)

# Jobs (the work after an acknowledgement, and scheduled sends)
JOBS_QUEUED = Counter(
    "jobs_queued", "Jobs queued, by job name.", ["job"], namespace=NAMESPACE, registry=REGISTRY
)
JOBS_RUNNING = Gauge(
    "jobs_running",
    "Jobs running in this process now, by job name.",
    ["job"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
JOBS_DONE = Counter(
    "jobs_done", "Jobs finished, by job name.", ["job"], namespace=NAMESPACE, registry=REGISTRY
)
JOBS_FAILED = Counter(
    "jobs_failed",
    "Jobs that raised (their work was not done), by job name.",
    ["job"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
JOBS_RETRIED = Counter(
    "jobs_retried",
    "Jobs taken up again after a worker died or failed holding them.",
    ["job"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "job_seconds",
    "Time a job ran in a worker, by job name.",
    ["job"],
    namespace=NAMESPACE,
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
QUEUE_BACKLOG = Gauge(
    "queue_backlog",
    "Entries in the shared job stream (state=length) and handed out but not done (pending).",
    ["state"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)

# Answers delivered to a platform after the acknowledgement (response_url, Bot Connector)
DELIVERIES_RETRIED = Counter(
    "deliveries_retried",
    "Deliveries tried again after a timeout or a 5xx, by channel.",
    ["channel"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
DELIVERIES_GIVEN_UP = Counter(
    "deliveries_given_up",
    "Deliveries abandoned once the platform's window had passed, by channel.",
    ["channel"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)

# Nudges and digests
SCHEDULED_SENDS = Counter(
    "scheduled_sends",
    "Nudges and digests settled, by kind (rep_nudge, daily_digest, weekly_digest) and outcome "
    "(sent, empty, skipped, missed).",
    ["kind", "outcome"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)

# The store
STORE_ERRORS = Counter(
    "store_errors",
    "Store operations that failed (the store was unreachable or answered an error), by store "
    "(redis, sqlite).",
    ["store"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)


# Requests: the hot path. One child of each metric per (route, status), found in nested dicts.

CHAT_CHANNELS = frozenset({"slack", "teams"})
HEALTH_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED = "unmatched"


def channel_of(route: str) -> str:
    """slack, teams, health or other, from a route's pattern (never from the path sent)."""
    if route == "/slack" or route.startswith("/slack/"):
        return "slack"
    if route == "/api/messages" or route.startswith("/api/messages/"):
        return "teams"
    if route in HEALTH_ROUTES:
        return "health"
    return "other"


class _RouteMetrics:
    """The children of one route: its counter by status, and its ack histogram if a chat's."""

    __slots__ = ("ack", "by_status", "channel", "route")

    def __init__(self, route: str) -> None:
        self.route = route
        self.channel = channel_of(route)
        self.by_status: dict[int, Counter] = {}
        self.ack: Histogram | None = (
            ACK_SECONDS.labels(self.channel) if self.channel in CHAT_CHANNELS else None
        )

    def counter(self, status: int) -> Counter:
        child = self.by_status.get(status)
        if child is None:
            child = self.by_status[status] = REQUESTS.labels(self.channel, self.route, str(status))
        return child


_ROUTES: dict[str, _RouteMetrics] = {}


def observe_request(route: str, status: int, seconds: float) -> None:
    """Count one answered request; `route` is a route's pattern or UNMATCHED, `seconds` the
    time from its arrival to its answer (observed as an acknowledgement for chat channels)."""
    metrics = _ROUTES.get(route)
    if metrics is None:
        metrics = _ROUTES[route] = _RouteMetrics(route)
    metrics.counter(status).inc()
    if metrics.ack is not None:
        metrics.ack.observe(seconds)


# Jobs

UNKNOWN_JOB = "unknown"
_JOB_NAMES: set[str] = set()


def job_registered(name: str) -> None:
    """A job name this process knows: its series start at 0, and only known names label."""
    _JOB_NAMES.add(name)
    for metric in (JOBS_QUEUED, JOBS_DONE, JOBS_FAILED, JOBS_RETRIED, JOBS_RUNNING, JOB_SECONDS):
        metric.labels(name)


class _Named(msgspec.Struct):
    task_name: str = UNKNOWN_JOB


_NAMED = msgspec.json.Decoder(_Named)


def count_delivery(data: bytes, deliveries: int) -> None:
    """A stream entry handed out for the `deliveries`th time: from the second on, a retry."""
    if deliveries <= 1:
        return
    try:
        name = _NAMED.decode(data).task_name
    except msgspec.DecodeError:
        name = UNKNOWN_JOB
    JOBS_RETRIED.labels(name if name in _JOB_NAMES else UNKNOWN_JOB).inc()


# Scheduled sends

for _kind in SendKind:
    for _outcome in SendOutcome:
        SCHEDULED_SENDS.labels(_kind.value, _outcome.value)


def count_scheduled(kind: SendKind, outcome: SendOutcome) -> None:
    SCHEDULED_SENDS.labels(kind.value, outcome.value).inc()


# The store

for _store in ("redis", "sqlite"):
    STORE_ERRORS.labels(_store)


def count_store_error(store: str) -> None:
    """`store` is a Config.store_name (redis or sqlite)."""
    STORE_ERRORS.labels(store).inc()


def store_name_of(store: object) -> str:
    """redis or sqlite, for a Store object (bot.store.redis or bot.store.sqlite)."""
    return "redis" if type(store).__module__.endswith(".redis") else "sqlite"


# The scrape

BACKLOG_SECONDS = 1.0  # how long a scrape waits for Redis before answering without the backlog
Backlog = Callable[[], Awaitable[tuple[int, int] | None]]


async def refresh_backlog(backlog: Backlog) -> None:
    """Set the backlog gauges from Redis (length, pending). Without Redis (None) they are
    absent; while Redis does not answer they are absent too, and a store error is counted."""
    try:
        async with asyncio.timeout(BACKLOG_SECONDS):
            found = await backlog()
    except Exception as error:  # Redis is down or slow: the rest of the scrape still answers
        QUEUE_BACKLOG.clear()
        count_store_error("redis")
        log.warning("metrics_backlog_unavailable", extra={"error": type(error).__name__})
        return
    if found is None:
        QUEUE_BACKLOG.clear()
        return
    length, pending = found
    QUEUE_BACKLOG.labels("length").set(length)
    QUEUE_BACKLOG.labels("pending").set(pending)


async def scrape(backlog: Backlog, accept: str) -> tuple[bytes, str]:
    """The registry rendered for a scraper's Accept header: the body and its content type."""
    await refresh_backlog(backlog)
    encoder, content_type = choose_encoder(accept)
    return encoder(REGISTRY), content_type
