"""What the service counts, for Prometheus: one registry a process, served at /metrics.

Every label takes values from a small fixed set (a channel, a route's pattern, a status code,
a job's name, an outcome): never a user id, a tenant, a prospect or anything a client sent.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
NAMESPACE = "voicemail_coach"

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
    "Nudges and digests settled, by kind (nudge, digest) and outcome (sent, empty, skipped, "
    "missed).",
    ["kind", "outcome"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)

# The store
STORE_ERRORS = Counter(
    "store_errors",
    "Store operations that failed (the store was unreachable or answered an error).",
    ["store"],
    namespace=NAMESPACE,
    registry=REGISTRY,
)
