"""Builders shared by the policy tests: one dial, described by what differs from a plain one.

`make_request(**overrides)` starts from Sam Lee (Northwind) dialing Jane Doe (Acme, New York),
a stranger, first dial of the cycle, on Monday 2026-11-23 at 10:15 New York time, with the
`balanced` playbook and default settings. Overrides name:

- a field of `Prospect` or `History` by its own name (`relationship`, `attempts`, ...);
- a field of `Rep` with a `rep_` prefix (`rep_name`, `rep_timezone`, ...);
- `now`, `playbook` or `settings` (a mapping of raw team settings, validated as a team's are).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from policy import Decision, History, Prospect, Relationship, Rep, Settings, decide
from policy.settings import settings_from_mapping

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TORONTO = ZoneInfo("America/Toronto")
NEW_YORK_TZ_NAME = "America/New_York"

# Monday 2026-11-23, 10:15 in New York: the spec's example.
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=NEW_YORK)
TODAY = date(2026, 11, 23)

REP_NAME = "Sam Lee"
REP_COMPANY = "Northwind"
REP_PHONE = "+1 555 010 0100"
REP_PITCH = "we help finance teams close the books in half the time"

SECONDS_PER_VOICEMAIL = 45
MAX_WORDS = 75

_REP_FIELDS = {f.name for f in dataclasses.fields(Rep)}
_PROSPECT_FIELDS = {f.name for f in dataclasses.fields(Prospect)}
_HISTORY_FIELDS = {f.name for f in dataclasses.fields(History)}


@dataclass(frozen=True, slots=True)
class Request:
    """Everything `decide` reads for one dial."""

    rep: Rep
    prospect: Prospect
    history: History
    now: datetime
    playbook: str
    settings: Settings

    def decide(self) -> Decision:
        return decide(
            rep=self.rep,
            prospect=self.prospect,
            history=self.history,
            now=self.now,
            playbook=self.playbook,
            settings=self.settings,
        )


def make_settings(**raw: object) -> Settings:
    """Team settings from raw values, validated the way a team's settings are."""
    return settings_from_mapping(raw)


def make_request(**overrides: Any) -> Request:
    rep: dict[str, Any] = {
        "name": REP_NAME,
        "company": REP_COMPANY,
        "phone": REP_PHONE,
        "pitch": REP_PITCH,
    }
    prospect: dict[str, Any] = {
        "name": "Jane Doe",
        "company": "Acme",
        "timezone": NEW_YORK_TZ_NAME,
        "region": "US-NY",
        "relationship": Relationship.STRANGER,
    }
    history: dict[str, Any] = {}
    top: dict[str, Any] = {"now": NOW, "playbook": "balanced", "settings": {}}
    for key, value in overrides.items():
        if key in top:
            top[key] = value
        elif key.startswith("rep_") and key[4:] in _REP_FIELDS:
            rep[key[4:]] = value
        elif key in _PROSPECT_FIELDS:
            prospect[key] = value
        elif key in _HISTORY_FIELDS:
            history[key] = value
        else:
            raise TypeError(f"make_request: unknown override {key!r}")
    settings = top["settings"]
    return Request(
        rep=Rep(**rep),
        prospect=Prospect(**prospect),
        history=History(**history),
        now=top["now"],
        playbook=top["playbook"],
        settings=settings if isinstance(settings, Settings) else make_settings(**settings),
    )


def decide_for(**overrides: Any) -> Decision:
    """The decision for a plain dial changed by `overrides` (see `make_request`)."""
    return make_request(**overrides).decide()


def read_seconds(words: int) -> int:
    """The spec's reading time: 150 words a minute, rounded up (0.4 seconds a word)."""
    return math.ceil(words * 2 / 5)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def spec_example() -> dict[str, Any]:
    """A fresh copy of the input document in the spec's `decide` contract."""
    return copy.deepcopy(_SPEC_EXAMPLE)


_SPEC_EXAMPLE: dict[str, Any] = {
    "playbook": "balanced",
    "now": "2026-11-23T10:15:00-05:00",
    "rep": {
        "name": "Sam Lee",
        "company": "Northwind",
        "phone": "+1 555 010 0100",
        "pitch": "we help finance teams close the books in half the time",
    },
    "prospect": {
        "name": "Jane Doe",
        "company": "Acme",
        "timezone": "America/New_York",
        "region": "US-NY",
        "relationship": "stranger",
        "referred_by": None,
        "new_in_role": False,
        "open_followup": None,
        "expecting_response": False,
        "last_conversation": None,
        "recycle_on": None,
    },
    "history": {
        "attempts": 0,
        "voicemails_left": 0,
        "attempts_since_voicemail": None,
        "dialed_zero": False,
    },
}

DELETE = object()
"""In `BAD_INPUTS`, a value that removes the key instead of setting it."""


def changed(document: dict[str, Any], changes: Mapping[tuple[str, ...], object]) -> dict[str, Any]:
    """The document with each path set to its value (or removed, for DELETE)."""
    for path, value in changes.items():
        parent = document
        for key in path[:-1]:
            parent = parent.setdefault(key, {})
        if value is DELETE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return document


@dataclass(frozen=True, slots=True)
class BadInput:
    changes: Mapping[tuple[str, ...], object]
    field: str

    def document(self) -> dict[str, Any]:
        return changed(spec_example(), self.changes)


def _bad(field: str, value: object, *, path: tuple[str, ...] | None = None) -> BadInput:
    return BadInput({path or tuple(field.split(".")): value}, field)


# (test id, bad input): every field of the contract, each wrong in the ways a caller gets it wrong.
BAD_INPUTS: tuple[tuple[str, BadInput], ...] = (
    ("playbook-unknown", _bad("playbook", "aggressive")),
    ("playbook-not-text", _bad("playbook", 5)),
    ("now-words", _bad("now", "yesterday")),
    ("now-month-13", _bad("now", "2026-13-01T10:00:00-05:00")),
    ("now-hour-25", _bad("now", "2026-11-23T25:00:00-05:00")),
    ("now-number", _bad("now", 1795446900)),
    ("now-year-9999", _bad("now", "9999-12-31T10:00:00-05:00")),
    (
        "now-no-offset-no-zone",
        BadInput(
            {("now",): "2026-11-23T10:15:00", ("prospect", "timezone"): DELETE},
            "now",
        ),
    ),
    ("rep-not-object", _bad("rep", "Sam Lee")),
    ("rep-null", _bad("rep", None)),
    ("rep-name-missing", _bad("rep.name", DELETE)),
    ("rep-name-blank", _bad("rep.name", "   ")),
    ("rep-name-list", _bad("rep.name", ["Sam"])),
    ("rep-phone-missing", _bad("rep.phone", DELETE)),
    ("rep-phone-words", _bad("rep.phone", "call me maybe")),
    ("rep-phone-too-short", _bad("rep.phone", "555 01")),
    ("rep-phone-too-long", _bad("rep.phone", "+1 555 010 0100 0100 0100")),
    ("rep-phone-number", _bad("rep.phone", 5550100100)),
    ("rep-company-number", _bad("rep.company", 42)),
    ("rep-company-too-long", _bad("rep.company", "Northwind " * 30)),
    ("rep-pitch-number", _bad("rep.pitch", 42)),
    ("rep-timezone-unknown", _bad("rep.timezone", "Eastern")),
    ("rep-unknown-field", _bad("rep.email", "sam@example.com")),
    ("prospect-missing", _bad("prospect", DELETE)),
    ("prospect-list", _bad("prospect", [])),
    ("prospect-name-missing", _bad("prospect.name", DELETE)),
    ("prospect-name-blank", _bad("prospect.name", "")),
    ("relationship-unknown", _bad("prospect.relationship", "friend")),
    ("relationship-missing", _bad("prospect.relationship", DELETE)),
    ("relationship-null", _bad("prospect.relationship", None)),
    ("relationship-number", _bad("prospect.relationship", 1)),
    ("timezone-unknown", _bad("prospect.timezone", "Mars/Olympus")),
    ("timezone-path", _bad("prospect.timezone", "../../etc/passwd")),
    ("timezone-folder", _bad("prospect.timezone", "America")),
    ("timezone-number", _bad("prospect.timezone", -5)),
    ("region-name", _bad("prospect.region", "Florida")),
    ("region-one-letter", _bad("prospect.region", "U")),
    ("region-underscore", _bad("prospect.region", "US_FL")),
    ("region-long-subdivision", _bad("prospect.region", "US-FLOR")),
    ("region-number", _bad("prospect.region", 12)),
    ("referred-by-number", _bad("prospect.referred_by", 7)),
    ("open-followup-list", _bad("prospect.open_followup", ["the proposal"])),
    ("company-object", _bad("prospect.company", {})),
    ("new-in-role-string", _bad("prospect.new_in_role", "true")),
    ("expecting-response-string", _bad("prospect.expecting_response", "yes")),
    ("expecting-response-number", _bad("prospect.expecting_response", 1)),
    ("last-conversation-words", _bad("prospect.last_conversation", "last week")),
    ("last-conversation-feb-30", _bad("prospect.last_conversation", "2026-02-30")),
    ("last-conversation-trailing", _bad("prospect.last_conversation", "2026-11-20 or so")),
    ("last-conversation-number", _bad("prospect.last_conversation", 20261120)),
    ("recycle-on-words", _bad("prospect.recycle_on", "soon")),
    ("recycle-on-month-13", _bad("prospect.recycle_on", "2027-13-01")),
    ("prospect-unknown-field", _bad("prospect.email", "jane@example.com")),
    ("history-not-object", _bad("history", "none")),
    ("attempts-negative", _bad("history.attempts", -1)),
    ("attempts-string", _bad("history.attempts", "3")),
    ("attempts-fraction", _bad("history.attempts", 1.5)),
    ("attempts-boolean", _bad("history.attempts", True)),
    ("attempts-null", _bad("history.attempts", None)),
    ("voicemails-negative", _bad("history.voicemails_left", -1)),
    (
        "voicemails-more-than-dials",
        BadInput(
            {("history", "attempts"): 2, ("history", "voicemails_left"): 3},
            "history.voicemails_left",
        ),
    ),
    (
        "since-negative",
        BadInput(
            {("history", "attempts"): 2, ("history", "attempts_since_voicemail"): -1},
            "history.attempts_since_voicemail",
        ),
    ),
    (
        "since-not-below-attempts",
        BadInput(
            {
                ("history", "attempts"): 2,
                ("history", "voicemails_left"): 1,
                ("history", "attempts_since_voicemail"): 2,
            },
            "history.attempts_since_voicemail",
        ),
    ),
    (
        "since-string",
        BadInput(
            {("history", "attempts"): 2, ("history", "attempts_since_voicemail"): "0"},
            "history.attempts_since_voicemail",
        ),
    ),
    ("dialed-zero-string", _bad("history.dialed_zero", "false")),
    ("dialed-zero-number", _bad("history.dialed_zero", 0)),
    ("recent-dials-not-list", _bad("history.recent_dials", "2026-11-20T08:30:00-05:00")),
    (
        "recent-dials-words",
        _bad("history.recent_dials[0]", ["last friday"], path=("history", "recent_dials")),
    ),
    (
        "recent-dials-number",
        _bad(
            "history.recent_dials[1]",
            ["2026-11-20T08:30:00-05:00", 1],
            path=("history", "recent_dials"),
        ),
    ),
    ("history-unknown-field", _bad("history.callbacks", 1)),
    ("top-unknown-field", _bad("priority", "high")),
    ("settings-not-object", _bad("settings", "strict")),
    ("settings-list", _bad("settings", [])),
    ("final-attempt-too-high", _bad("settings.final_attempt", 9)),
    ("final-attempt-too-low", _bad("settings.final_attempt", 2)),
    ("final-attempt-words", _bad("settings.final_attempt", "five")),
    ("final-attempt-boolean", _bad("settings.final_attempt", True)),
    ("recycle-days-too-few", _bad("settings.recycle_days", 30)),
    ("recycle-days-too-many", _bad("settings.recycle_days", 365)),
    ("min-gap-zero", _bad("settings.min_gap", 0)),
    ("min-gap-five", _bad("settings.min_gap", 5)),
    ("silence-days-week", _bad("settings.silence_days", 7)),
    ("silence-dials-twenty", _bad("settings.silence_dials", 20)),
    ("early-window-afternoon", _bad("settings.early_window", "13:00-14:00")),
    ("early-window-hours-only", _bad("settings.early_window", "8-9")),
    ("early-window-too-short", _bad("settings.early_window", "08:00-08:15")),
    ("early-window-not-a-time", _bad("settings.early_window", "08:00-08:75")),
    ("late-window-morning", _bad("settings.late_window", "09:00-10:00")),
    ("late-window-number", _bad("settings.late_window", 5)),
    ("holidays-unknown-country", _bad("settings.holidays_country", "XX")),
    ("holidays-country-name", _bad("settings.holidays_country", "Narnia")),
    ("holidays-unknown-subdivision", _bad("settings.holidays_country", "US-ZZ")),
    ("scripts-not-object", _bad("settings.scripts", "short ones")),
    (
        "scripts-unknown-kind",
        _bad("settings.scripts.voicemail", "Hi $prospect, $phone $phone_slow"),
    ),
    (
        "scripts-unknown-placeholder",
        _bad("settings.scripts.referral", "Hi $name, $phone $phone_slow"),
    ),
    ("scripts-not-text", _bad("settings.scripts.final", 42)),
    ("settings-unknown", _bad("settings.colour", "blue")),
)


# The rule order of each playbook, as the spec's tables give it.
SPEC_RULE_ORDER = {
    "balanced": [
        "paused",
        "expected-reply",
        "final-attempt",
        "too-soon",
        "open-followup",
        "referral",
        "new-in-role",
        "long-silence",
        "cold",
        "default",
    ],
    "selective": ["paused", "expected-reply", "default"],
    "referral-only": ["paused", "expected-reply", "referral", "cold", "default"],
    "it-depends": [
        "paused",
        "expected-reply",
        "too-soon",
        "open-followup",
        "new-prospect",
        "long-silence",
        "default",
    ],
}
