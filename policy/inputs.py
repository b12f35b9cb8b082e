"""The `decide` JSON document read into policy values, naming the first field that is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from policy.errors import InvalidInput, shown
from policy.legal_hours import DEFAULT_HOURS, LEGAL_HOURS
from policy.limits import (
    MAX_COMPANY,
    MAX_FOLLOWUP,
    MAX_NAME,
    MAX_PHONE,
    MAX_PITCH,
    MAX_SETTING_VALUE,
    MAX_TIMEZONE,
    too_long,
)
from policy.model import History, Prospect, Relationship, Rep
from policy.playbooks import DEFAULT_PLAYBOOK, playbook_named
from policy.regions import COUNTRIES, SUBDIVISIONS
from policy.settings import Settings, settings_from_mapping

_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_PHONE_CHARS = re.compile(r"^[0-9+()./\-\sextEXT]+$")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
FIRST_YEAR, LAST_YEAR = 1970, 2999

TOP_FIELDS = ("playbook", "now", "rep", "prospect", "history", "settings")
REP_FIELDS = ("name", "company", "phone", "pitch", "timezone")
PROSPECT_FIELDS = (
    "name",
    "company",
    "timezone",
    "region",
    "relationship",
    "referred_by",
    "new_in_role",
    "open_followup",
    "expecting_response",
    "last_conversation",
    "recycle_on",
)
HISTORY_FIELDS = (
    "attempts",
    "voicemails_left",
    "attempts_since_voicemail",
    "dialed_zero",
    "recent_dials",
)


@dataclass(frozen=True, slots=True)
class DecideInput:
    playbook: str
    now: datetime
    rep: Rep
    prospect: Prospect
    history: History
    settings: Settings


def parse_decide_input(document: object, *, default_now: datetime) -> DecideInput:
    top = _object("input", document, TOP_FIELDS)
    playbook = (
        _text("playbook", top.get("playbook"), MAX_SETTING_VALUE, required=False)
        or DEFAULT_PLAYBOOK
    )
    playbook_named(playbook)
    rep = parse_rep(_object("rep", top.get("rep", {}), REP_FIELDS))
    prospect = parse_prospect(_object("prospect", top.get("prospect"), PROSPECT_FIELDS))
    zone_name = prospect.timezone or rep.timezone
    now = parse_now(top["now"], zone_name) if "now" in top else default_now
    history = parse_history(_object("history", top.get("history", {}), HISTORY_FIELDS), zone_name)
    raw_settings = top.get("settings", {})
    if not isinstance(raw_settings, Mapping):
        raise InvalidInput("settings", "must be an object of team settings")
    return DecideInput(
        playbook=playbook,
        now=now,
        rep=rep,
        prospect=prospect,
        history=history,
        settings=settings_from_mapping(raw_settings),
    )


def parse_rep(data: Mapping[str, Any]) -> Rep:
    return Rep(
        name=_text("rep.name", data.get("name"), MAX_NAME, required=True),
        phone=parse_phone("rep.phone", data.get("phone")),
        company=_text("rep.company", data.get("company"), MAX_COMPANY, required=False),
        pitch=_text("rep.pitch", data.get("pitch"), MAX_PITCH, required=False),
        timezone=parse_timezone("rep.timezone", data.get("timezone")),
    )


def parse_prospect(data: Mapping[str, Any]) -> Prospect:
    return Prospect(
        name=_text("prospect.name", data.get("name"), MAX_NAME, required=True),
        relationship=parse_relationship("prospect.relationship", data.get("relationship")),
        company=_text("prospect.company", data.get("company"), MAX_COMPANY, required=False),
        timezone=parse_timezone("prospect.timezone", data.get("timezone")),
        region=parse_region("prospect.region", data.get("region")),
        referred_by=_optional_text("prospect.referred_by", data.get("referred_by"), MAX_NAME),
        new_in_role=_flag("prospect.new_in_role", data.get("new_in_role")),
        open_followup=_optional_text(
            "prospect.open_followup", data.get("open_followup"), MAX_FOLLOWUP
        ),
        expecting_response=_flag("prospect.expecting_response", data.get("expecting_response")),
        last_conversation=parse_date("prospect.last_conversation", data.get("last_conversation")),
        recycle_on=parse_date("prospect.recycle_on", data.get("recycle_on")),
    )


def parse_history(data: Mapping[str, Any], zone_name: str | None) -> History:
    attempts = _count("history.attempts", data.get("attempts", 0))
    voicemails = _count("history.voicemails_left", data.get("voicemails_left", 0))
    since_raw = data.get("attempts_since_voicemail")
    since = None if since_raw is None else _count("history.attempts_since_voicemail", since_raw)
    if voicemails > attempts:
        raise InvalidInput(
            "history.voicemails_left", f"{voicemails} is more than the {attempts} earlier dials"
        )
    if since is not None and since >= attempts:
        raise InvalidInput(
            "history.attempts_since_voicemail",
            f"{since} is not accepted; a count below attempts ({attempts}), or null if none left",
        )
    dials = data.get("recent_dials", [])
    if not isinstance(dials, list):
        raise InvalidInput("history.recent_dials", "must be a list of ISO 8601 date-times")
    return History(
        attempts=attempts,
        voicemails_left=voicemails,
        attempts_since_voicemail=since,
        dialed_zero=_flag("history.dialed_zero", data.get("dialed_zero")),
        recent_dials=tuple(
            parse_moment(f"history.recent_dials[{i}]", raw, zone_name)
            for i, raw in enumerate(dials)
        ),
    )


def parse_relationship(where: str, raw: object) -> Relationship:
    accepted = ", ".join(r.value for r in Relationship)
    if raw is None:
        raise InvalidInput(where, f"is required, one of: {accepted}")
    try:
        return Relationship(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(where, f"{shown(raw)} is not one of: {accepted}") from None


def parse_timezone(where: str, raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and len(raw) > MAX_TIMEZONE:
        raise InvalidInput(where, str(too_long(raw, MAX_TIMEZONE)))
    if isinstance(raw, str):
        try:
            ZoneInfo(raw.strip())
            return raw.strip()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidInput(
        where, f"{shown(raw)} is not accepted; an IANA time zone like America/New_York"
    )


def parse_region(where: str, raw: object) -> str:
    """An ISO 3166 region, upper-cased; "" when none is given (it then follows the time zone)."""
    if raw is None or raw == "":
        return ""
    region = raw.strip().upper() if isinstance(raw, str) else ""
    if not _is_iso_3166(region):
        known = ", ".join(LEGAL_HOURS)
        raise InvalidInput(
            where,
            f"{shown(raw)} is not accepted; an ISO 3166 country, optionally -subdivision "
            f"(US-FL, DE-BY). Calling hours are known for {known}; elsewhere the default "
            f"{DEFAULT_HOURS.weekday} applies",
        )
    return region


def _is_iso_3166(region: str) -> bool:
    """A known country; its subdivision checked too where the table lists them (US, CA)."""
    if not _REGION.match(region):
        return False
    country, _, subdivision = region.partition("-")
    known = SUBDIVISIONS.get(country)
    return country in COUNTRIES and (not subdivision or known is None or subdivision in known)


def parse_phone(where: str, raw: object) -> str:
    text = _text(where, raw, MAX_PHONE, required=True)
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE_CHARS.match(text) or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise InvalidInput(
            where,
            f"{shown(raw)} is not accepted; a phone number of {MIN_PHONE_DIGITS} to "
            f"{MAX_PHONE_DIGITS} digits like +1 555 010 0100",
        )
    return " ".join(text.split())


def parse_date(where: str, raw: object) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip()).date()
        except ValueError:
            pass
    raise InvalidInput(where, f"{shown(raw)} is not accepted; an ISO 8601 date like 2026-11-23")


def parse_now(raw: object, zone_name: str | None) -> datetime:
    now = parse_moment("now", raw, zone_name)
    if not FIRST_YEAR <= now.year <= LAST_YEAR:
        accepted = f"a date-time from year {FIRST_YEAR} to {LAST_YEAR}"
        raise InvalidInput("now", f"{shown(raw)} is not accepted; {accepted}")
    return now


def parse_moment(where: str, raw: object, zone_name: str | None) -> datetime:
    accepted = "an ISO 8601 date-time like 2026-11-23T10:15:00-05:00"
    if not isinstance(raw, str):
        raise InvalidInput(where, f"{shown(raw)} is not accepted; {accepted}")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(where, f"{shown(raw)} is not accepted; {accepted}") from None
    if moment.tzinfo is None:
        if zone_name is None:
            raise InvalidInput(
                where, f"{shown(raw)} has no UTC offset and no time zone is known; {accepted}"
            )
        moment = moment.replace(tzinfo=ZoneInfo(zone_name))
    return moment


def _object(where: str, raw: object, fields: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            where, "is required as a JSON object" if raw is None else "must be a JSON object"
        )
    for key in raw:
        if key not in fields:
            name = key if where == "input" else f"{where}.{key}"
            raise InvalidInput(name, f"unknown field; accepted: {', '.join(fields)}")
    return raw


def _text(where: str, raw: object, limit: int, *, required: bool) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise InvalidInput(where, "is required: a non-empty text")
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(where, f"{shown(raw)} is not accepted; a text")
    text = " ".join(raw.split())
    problem = too_long(text, limit)
    if problem:
        raise InvalidInput(where, problem)
    return text


def _optional_text(where: str, raw: object, limit: int) -> str | None:
    return _text(where, raw, limit, required=False) or None


def _flag(where: str, raw: object) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise InvalidInput(where, f"{shown(raw)} is not accepted; true or false")
    return raw


def _count(where: str, raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise InvalidInput(where, f"{shown(raw)} is not accepted; a whole number, 0 or more")
    return raw
