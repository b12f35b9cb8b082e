"""Immutable values the policy reads and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum


class Relationship(StrEnum):
    STRANGER = "stranger"
    REFERRED = "referred"
    KNOWN = "known"
    CLIENT = "client"


class Action(StrEnum):
    LEAVE_VOICEMAIL = "leave_voicemail"
    HANG_UP = "hang_up"
    DIAL_ZERO = "dial_zero"
    FINAL_VOICEMAIL = "final_voicemail"
    RECYCLE = "recycle"

    @property
    def leaves_message(self) -> bool:
        return self in (Action.LEAVE_VOICEMAIL, Action.FINAL_VOICEMAIL)


class ScriptKind(StrEnum):
    REFERRAL = "referral"
    FOLLOWUP = "followup"
    INTRODUCTION = "introduction"
    RECONNECT = "reconnect"
    EXPECTED_REPLY = "expected_reply"
    SERIES = "series"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class Rep:
    name: str
    phone: str
    company: str = ""
    pitch: str = ""
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Prospect:
    name: str
    relationship: Relationship
    company: str = ""
    timezone: str | None = None
    region: str = ""  # "": the country of the time zone where the table knows it
    referred_by: str | None = None
    new_in_role: bool = False
    open_followup: str | None = None
    expecting_response: bool = False
    last_conversation: date | None = None
    recycle_on: date | None = None


@dataclass(frozen=True, slots=True)
class History:
    """The current cycle: dials since the last live conversation."""

    attempts: int = 0
    voicemails_left: int = 0
    attempts_since_voicemail: int | None = None
    dialed_zero: bool = False
    recent_dials: tuple[datetime, ...] = ()

    @property
    def dials_without_message(self) -> int:
        if self.attempts_since_voicemail is None:
            return self.attempts
        return self.attempts_since_voicemail


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    source: str
    why: str
    action: Action


@dataclass(frozen=True, slots=True)
class Script:
    kind: ScriptKind
    text: str
    seconds: int

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    playbook: str
    reasons: tuple[Reason, ...]
    overridden: tuple[Reason, ...]
    script: Script | None
    call_back: Window
    recycle_on: date | None
    seconds_saved: int
    warnings: tuple[str, ...]
    dial_now: bool = True  # False outside the prospect's calling hours: the warnings say why

    @property
    def rule(self) -> str:
        return self.reasons[0].rule
