"""Team settings over a playbook: the numbers a sales leader may tune, within what the seeds say."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from functools import cache
from types import MappingProxyType
from typing import Any

import holidays

from policy.errors import InvalidInput, shown
from policy.model import ScriptKind, TimeRange
from policy.scripts import validate_template


@dataclass(frozen=True, slots=True)
class Limit:
    low: int
    high: int
    why: str


NUMBER_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "final_attempt": Limit(
            3, 6, "002 leaves the last voicemail at the fourth or fifth attempt"
        ),
        "recycle_days": Limit(90, 120, "002 recycles a lead after 90 to 120 days"),
        "min_gap": Limit(1, 4, "004: frequent messages sound desperate"),
        "silence_days": Limit(28, 90, "004 speaks of about six weeks of silence"),
        "silence_dials": Limit(4, 12, "004 speaks of eight dials without a message"),
    }
)

DEFAULT_EARLY = TimeRange(time(8, 0), time(9, 0))
DEFAULT_LATE = TimeRange(time(16, 30), time(18, 0))
EARLY_BOUNDS = TimeRange(time(6, 0), time(12, 0))
LATE_BOUNDS = TimeRange(time(12, 0), time(21, 30))
MIN_WINDOW_MINUTES = 30
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_COUNTRY = re.compile(r"^([A-Za-z]{2})(?:-([A-Za-z0-9]{1,3}))?$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective numbers for a team. `min_gap` None means "the playbook's own"."""

    final_attempt: int = 5
    recycle_days: int = 90
    min_gap: int | None = None
    silence_days: int = 42
    silence_dials: int = 8
    early_window: TimeRange = DEFAULT_EARLY
    late_window: TimeRange = DEFAULT_LATE
    holidays_country: str = "US"
    scripts: Mapping[ScriptKind, str] = field(default_factory=lambda: MappingProxyType({}))

    def changed(self, name: str, value: object) -> Settings:
        """This settings with one field changed and validated, as a chat command asks."""
        key = name.strip().lower().replace("-", "_")
        return settings_from_mapping({key: value}, base=self)

    def as_mapping(self) -> dict[str, object]:
        return {
            "final_attempt": self.final_attempt,
            "recycle_days": self.recycle_days,
            "min_gap": self.min_gap,
            "silence_days": self.silence_days,
            "silence_dials": self.silence_dials,
            "early_window": str(self.early_window),
            "late_window": str(self.late_window),
            "holidays_country": self.holidays_country,
            "scripts": {str(kind): text for kind, text in self.scripts.items()},
        }


SETTING_NAMES = (
    "final_attempt",
    "recycle_days",
    "min_gap",
    "silence_days",
    "silence_dials",
    "early_window",
    "late_window",
    "holidays_country",
    "scripts",
)


def settings_from_mapping(
    data: Mapping[str, object], *, base: Settings | None = None, prefix: str = "settings"
) -> Settings:
    """Validate raw values (JSON or chat text) into Settings, naming the first bad field."""
    base = base or Settings()
    changes: dict[str, Any] = {}
    for key, raw in data.items():
        changes[key] = _parse_setting(f"{prefix}.{key}", key, raw, base)
    return replace(base, **changes)


def _parse_setting(where: str, key: str, raw: object, base: Settings) -> object:
    if key == "min_gap" and raw is None:
        return None
    if key in NUMBER_LIMITS:
        return _bounded_int(where, raw, NUMBER_LIMITS[key])
    if key == "early_window":
        return parse_window(where, raw, EARLY_BOUNDS)
    if key == "late_window":
        return parse_window(where, raw, LATE_BOUNDS)
    if key == "holidays_country":
        return parse_holidays_country(where, raw)
    if key == "scripts":
        return _parse_scripts(where, raw, base.scripts)
    raise InvalidInput(where, f"unknown setting; accepted: {', '.join(SETTING_NAMES)}")


MAX_DIGITS = 6  # more is out of every range, and int() refuses a few thousand digits anyway


def _bounded_int(where: str, raw: object, limit: Limit) -> int:
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= MAX_DIGITS:
        value = int(raw.strip())
    if value is None or not limit.low <= value <= limit.high:
        raise InvalidInput(
            where,
            f"{shown(raw)} is not accepted; a whole number from {limit.low} to {limit.high} "
            f"({limit.why})",
        )
    return value


def parse_window(where: str, raw: object, bounds: TimeRange) -> TimeRange:
    accepted = f'a window like "{bounds.start:%H:%M}-{bounds.end:%H:%M}" lying within {bounds}'
    match = _WINDOW.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise InvalidInput(where, f"{shown(raw)} is not accepted; {accepted}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidInput(where, f"{shown(raw)} is not a time of day; {accepted}")
    window = TimeRange(time(h1, m1), time(h2, m2))
    minutes = (h2 * 60 + m2) - (h1 * 60 + m1)
    if window.start < bounds.start or window.end > bounds.end or minutes < MIN_WINDOW_MINUTES:
        raise InvalidInput(
            where,
            f"{shown(raw)} is not accepted; {accepted}, at least {MIN_WINDOW_MINUTES} minutes long",
        )
    return window


def parse_holidays_country(where: str, raw: object) -> str:
    match = _COUNTRY.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise InvalidInput(
            where, f"{shown(raw)} is not accepted; an ISO 3166 country code like US or DE-BY"
        )
    country, subdivision = match.group(1).upper(), match.group(2)
    supported = _supported_countries()
    if country not in supported:
        raise InvalidInput(
            where, f"{shown(country)} has no holiday calendar; try a code like US, GB, CA, DE"
        )
    if subdivision is None:
        return country
    subdivision = subdivision.upper()
    if subdivision not in supported[country]:
        raise InvalidInput(
            where,
            f"{shown(subdivision)} is not a subdivision of {country} the holiday calendar knows",
        )
    return f"{country}-{subdivision}"


@cache
def _supported_countries() -> Mapping[str, frozenset[str]]:
    return {
        code: frozenset(subdivisions)
        for code, subdivisions in holidays.list_supported_countries().items()
    }


def _parse_scripts(
    where: str, raw: object, current: Mapping[ScriptKind, str]
) -> Mapping[ScriptKind, str]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "must be an object of script kind to wording")
    merged = dict(current)
    kinds = ", ".join(kind.value for kind in ScriptKind)
    for name, text in raw.items():
        try:
            kind = ScriptKind(str(name).strip().lower().replace("-", "_"))
        except ValueError:
            raise InvalidInput(
                f"{where}.{name}", f"unknown script kind; accepted: {kinds}"
            ) from None
        if text is None:
            merged.pop(kind, None)
            continue
        if not isinstance(text, str):
            raise InvalidInput(f"{where}.{name}", "must be the wording as text")
        validate_template(f"{where}.{kind.value}", text)
        merged[kind] = text
    return MappingProxyType(merged)
