"""The neutral types that cross the adapter boundary: Actor in, Request in, Reply out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def sees_team(self) -> bool:
        return self in (Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking. Every store key starts with `tenant`, so tenants never meet."""

    platform: Platform
    tenant: str
    user_id: str
    display_name: str = ""
    timezone: str | None = None
    phone: str | None = None
    role: Role = Role.REP


@dataclass(frozen=True, slots=True)
class ButtonPress:
    action_id: str
    value: str


@dataclass(frozen=True, slots=True)
class Request:
    """The actor plus one of: the text after /voicemail, a pressed button, a submitted form."""

    actor: Actor
    text: str | None = None
    button: ButtonPress | None = None
    form: Mapping[str, str] | None = None
    idempotency_key: str | None = None
    received_at: datetime | None = None


class Tone(StrEnum):
    INFO = "info"
    DECISION = "decision"
    DONE = "done"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ScriptBlock:
    text: str
    seconds: int


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action_id: str
    value: str
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Image:
    """A picture that goes with a reply (a digest's chart): PNG bytes, what it shows in words
    (alt text, and the text a platform without images shows), and a file name for it."""

    png: bytes
    alt: str
    name: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A small document every adapter renders in its own format."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    script: ScriptBlock | None = None
    facts: tuple[Fact, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: tuple[str, ...] = ()
    tone: Tone = Tone.INFO
    subject: str | None = None
    field_errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    image: Image | None = None
    # A scheduled send's ledger key, which the adapter stores with the message where the
    # platform allows, so that a retry after a crash can ask whether it already arrived.
    ref: str | None = None
