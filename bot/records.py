"""What the store keeps: rep profiles, team settings, prospects with their cycle, call outcomes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import msgspec

from bot.types import Role
from policy import Action, History, Prospect, Relationship, Rep, Settings, Window
from policy.settings import settings_from_mapping

DEFAULT_TEAM = "default"
DEFAULT_NUDGE = "08:00"  # a rep's nudge time, in their time zone ("off": no nudges)
NUDGE_OFF = "off"
RECENT_DIALS_KEPT = 3


class Outcome(StrEnum):
    LEFT = "left"
    SKIPPED = "skipped"
    LIVE = "live"
    GATEKEEPER = "gatekeeper"
    ZERO = "zero"
    NO_ANSWER = "no-answer"
    MEETING = "meeting"
    NOT_INTERESTED = "not-interested"
    CALLED_BACK = "called-back"

    @property
    def is_conversation(self) -> bool:
        return self in (Outcome.LIVE, Outcome.MEETING, Outcome.NOT_INTERESTED, Outcome.CALLED_BACK)

    @property
    def is_dial(self) -> bool:
        return self is not Outcome.CALLED_BACK


@dataclass(frozen=True, slots=True)
class RepProfile:
    tenant: str
    user_id: str
    name: str = ""
    company: str = ""
    phone: str = ""
    pitch: str = ""
    timezone: str | None = None
    role: Role = Role.REP
    team: str = DEFAULT_TEAM
    nudge: str = DEFAULT_NUDGE  # "HH:MM" in the rep's time zone, or NUDGE_OFF
    platform: str = ""  # the adapter the rep last used: where their nudges go

    def as_policy_rep(self) -> Rep:
        return Rep(
            name=self.name or "your name",
            phone=self.phone or "your number",
            company=self.company,
            pitch=self.pitch,
            timezone=self.timezone,
        )


class DigestCadence(StrEnum):
    """Which digests a team's managers get: daily (business days, the previous business day),
    weekly (Monday morning, the last 7 days), both, or none."""

    DAILY = "daily"
    WEEKLY = "weekly"
    BOTH = "both"
    OFF = "off"

    @property
    def daily(self) -> bool:
        return self in (DigestCadence.DAILY, DigestCadence.BOTH)

    @property
    def weekly(self) -> bool:
        return self in (DigestCadence.WEEKLY, DigestCadence.BOTH)


@dataclass(frozen=True, slots=True)
class TeamConfig:
    tenant: str
    team: str = DEFAULT_TEAM
    playbook: str = "balanced"
    settings: Settings = field(default_factory=Settings)
    managers: tuple[str, ...] = ()  # user ids of the managers who see it and get its digests
    digest: DigestCadence = DigestCadence.WEEKLY
    label: str = ""  # how the team is named to people ("Dana's team"); the id if empty

    @property
    def title(self) -> str:
        return self.label or self.team

    def to_json(self) -> str:
        return json.dumps(
            {
                "playbook": self.playbook,
                "settings": self.settings.as_mapping(),
                "managers": list(self.managers),
                "digest": self.digest.value,
                "label": self.label,
            }
        )

    @classmethod
    def from_json(cls, tenant: str, team: str, text: str) -> TeamConfig:
        data = json.loads(text)
        raw = {k: v for k, v in data["settings"].items() if v is not None or k == "min_gap"}
        return cls(
            tenant,
            team,
            data["playbook"],
            settings_from_mapping(raw),
            managers=tuple(str(user) for user in data.get("managers", ())),
            digest=DigestCadence(data.get("digest", DigestCadence.WEEKLY.value)),
            label=str(data.get("label", "")),
        )


@dataclass(frozen=True, slots=True)
class Advice:
    """The decision that preceded a check-in, kept so "advice followed" can be counted."""

    action: Action
    rule: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ProspectRecord:
    tenant: str
    rep_id: str
    key: str
    name: str
    company: str
    relationship: Relationship = Relationship.STRANGER
    referred_by: str | None = None
    new_in_role: bool = False
    open_followup: str | None = None
    expecting_response: bool = False
    timezone: str | None = None
    region: str = ""  # "": the country of the time zone where the table knows it
    last_conversation: date | None = None
    recycle_on: date | None = None
    attempts: int = 0
    voicemails_left: int = 0
    attempts_since_voicemail: int | None = None
    dialed_zero: bool = False
    recent_dials: tuple[datetime, ...] = ()
    next_call_start: datetime | None = None
    next_call_end: datetime | None = None
    last_advice: Advice | None = None

    @property
    def label(self) -> str:
        return f"{self.name} @ {self.company}"

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def next_window(self) -> Window | None:
        if self.next_call_start is None or self.next_call_end is None:
            return None
        return Window(self.next_call_start, self.next_call_end)

    def as_policy_prospect(self) -> Prospect:
        return Prospect(
            name=self.name,
            relationship=self.relationship,
            company=self.company,
            timezone=self.timezone,
            region=self.region,
            referred_by=self.referred_by,
            new_in_role=self.new_in_role,
            open_followup=self.open_followup,
            expecting_response=self.expecting_response,
            last_conversation=self.last_conversation,
            recycle_on=self.recycle_on,
        )

    def as_policy_history(self) -> History:
        return History(
            attempts=self.attempts,
            voicemails_left=self.voicemails_left,
            attempts_since_voicemail=self.attempts_since_voicemail,
            dialed_zero=self.dialed_zero,
            recent_dials=self.recent_dials,
        )

    def to_json(self) -> str:
        return _ENCODER.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> ProspectRecord:
        return _PROSPECT_DECODER.decode(text)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One logged call outcome, with the advice that preceded it (None if none was asked)."""

    tenant: str
    rep_id: str
    team: str
    prospect_key: str
    outcome: Outcome
    at: datetime
    note: str = ""
    advice: Advice | None = None
    followed: bool | None = None
    key: str = ""

    def to_json(self) -> str:
        return _ENCODER.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> CheckIn:
        return _CHECK_IN_DECODER.decode(text)


def prospect_key(name: str, company: str) -> str:
    """The same prospect however it is typed: case and spacing do not matter."""
    return f"{' '.join(name.casefold().split())}@{' '.join(company.casefold().split())}"


# msgspec encodes and decodes these dataclasses in C, typed: about fifteen times faster
# than json + asdict, which matters when a queue decodes a hundred prospects.
_ENCODER = msgspec.json.Encoder()
_PROSPECT_DECODER = msgspec.json.Decoder(ProspectRecord)
_CHECK_IN_DECODER = msgspec.json.Decoder(CheckIn)


class SendKind(StrEnum):
    """What the bot sends on its own."""

    REP_NUDGE = "rep_nudge"
    DAILY_DIGEST = "daily_digest"
    WEEKLY_DIGEST = "weekly_digest"


@dataclass(frozen=True, slots=True)
class ScheduledSend:
    """One recipient's next scheduled send of one kind: the schedule index holds one per
    (tenant, user_id, kind), ordered by `due_at` (UTC), so finding who is due costs O(due)."""

    tenant: str
    user_id: str
    kind: SendKind
    due_at: datetime
    adapter: str


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """One send that must happen at most once: this recipient's `kind` for this local date."""

    tenant: str
    user_id: str
    kind: SendKind
    local_date: date

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.local_date.isoformat()}"


class Claim(StrEnum):
    """The answer to claiming a ledger entry before sending."""

    FRESH = "fresh"  # nobody has tried it: send
    RECOVER = "recover"  # a holder's lease ran out mid-send: it may have arrived; check, then send
    BUSY = "busy"  # another holder's lease is still running: leave it
    DONE = "done"  # sent (or settled as empty, skipped or missed) already


class SendOutcome(StrEnum):
    """How a ledger entry was settled."""

    SENT = "sent"
    EMPTY = "empty"  # nothing was due: nothing sent
    SKIPPED = "skipped"  # the recipient cannot be reached (uninstalled, chat gone)
    MISSED = "missed"  # kept failing until the recipient's day ended
