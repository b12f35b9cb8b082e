"""What the Slack listeners leave for a worker once Slack has its acknowledgement.

A job carries what the worker needs to answer and nothing secret: the ids of the workspace and
user, what the rep typed, clicked or submitted, and where the answer goes. The worker finds the
bot token itself (the environment, or the installation in the store).
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

import msgspec

from adapters.slack.config import Origin, SlackConfig, is_response_url
from adapters.slack.installations import installation_tenant

# Slack accepts answers on a response_url for 30 minutes; a job older than that is dropped.
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60


class Kind(Enum):
    COMMAND = "command"  # `/voicemail <text>`: answer on the response_url, ephemeral
    CHECK_IN = "check_in"  # a check-in button: replace the message on the response_url
    ASK = "ask"  # a button asking for a prospect's decision: answer on the response_url
    FORM = "form"  # the decision modal, submitted: post the decision privately
    HOME = "home"  # App Home opened: publish the rep's day


class SlackJob(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    team_id: str | None
    enterprise_id: str | None
    enterprise_install: bool
    user_id: str
    received_at: float  # Unix time Slack's request reached us
    response_url: str | None = None
    idempotency_key: str | None = None
    text: str = ""
    action_id: str = ""
    value: str = ""
    form: dict[str, str] = {}
    channel: str | None = None

    @property
    def tenant(self) -> str:
        return installation_tenant(self.enterprise_id, self.team_id)

    def payload(self) -> dict[str, Any]:
        answer: dict[str, Any] = msgspec.to_builtins(self)
        return answer

    @classmethod
    def from_payload(cls, payload: object, origins: frozenset[Origin] | None = None) -> SlackJob:
        """Raises msgspec.ValidationError for anything that is not a job of ours, such as one
        whose response_url is not on Slack's hosts (`origins`; SlackConfig's by default): a
        worker would post a rep's answer, or their whole export, wherever it points."""
        job = msgspec.convert(payload, cls)
        if origins is None:
            origins = SlackConfig.from_env().response_url_origins
        if job.response_url is not None and not is_response_url(job.response_url, origins):
            raise msgspec.ValidationError("not a Slack response_url - at `$.response_url`")
        return job

    def expired(self, now: float | None = None) -> bool:
        age = (time.time() if now is None else now) - self.received_at
        return self.response_url is not None and age > RESPONSE_URL_LIFETIME_SECONDS


def job_from_context(context: Any, kind: Kind, **details: Any) -> SlackJob:
    """A job for the workspace and user bolt's context names, received now."""
    return SlackJob(
        kind=kind,
        team_id=context.team_id,
        enterprise_id=context.enterprise_id,
        enterprise_install=bool(context.is_enterprise_install),
        user_id=str(details.pop("user_id", None) or context.user_id or ""),
        received_at=time.time(),
        **details,
    )
