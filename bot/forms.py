"""The neutral form for asking a decision: its fields, and the form read into an AskDecision.

Adapters render DECISION_FORM_FIELDS as their own inputs (a Slack modal, an Adaptive Card)
and send the values back as `Request.form`, keyed by `FormField.key`, all as text: a flag
is "true" when ticked and "" when not. The form leads to the same AskDecision as the text
`/voicemail Jane Doe @ Acme referred by Tom ...`, so the decision and what is remembered
are the same whichever way the rep asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.commands import FOLLOWUP_ITEMS, AskDecision, Facts, ProspectRef
from policy import InvalidInput, Relationship
from policy.inputs import parse_region, parse_timezone
from policy.limits import MAX_COMPANY, MAX_FOLLOWUP, MAX_NAME, MAX_REGION, MAX_TIMEZONE, too_long

NAME = "name"
COMPANY = "company"
RELATIONSHIP = "relationship"
REFERRED_BY = "referred_by"
FOLLOWUP = "followup"
NEW_IN_ROLE = "new_in_role"
EXPECTING_REPLY = "expecting_reply"
TIMEZONE = "timezone"
REGION = "region"

TRUE = "true"
_TRUE_WORDS = frozenset({"true", "yes", "on", "1", "y"})
_FALSE_WORDS = frozenset({"", "false", "no", "off", "0", "n"})


class FieldKind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FormField:
    """One input: its key in `Request.form`, what to call it, and what it accepts."""

    key: str
    label: str
    kind: FieldKind
    hint: str
    required: bool = False
    placeholder: str = ""
    choices: tuple[Choice, ...] = ()
    max_length: int = MAX_FOLLOWUP


DECISION_FORM_FIELDS: tuple[FormField, ...] = (
    FormField(NAME, "Prospect's name", FieldKind.TEXT, "Their full name.",
              required=True, placeholder="Jane Doe", max_length=MAX_NAME),
    FormField(COMPANY, "Company", FieldKind.TEXT, "Where they work.",
              required=True, placeholder="Acme", max_length=MAX_COMPANY),
    FormField(
        RELATIONSHIP, "Relationship", FieldKind.CHOICE,
        "How you know them. Leave empty to keep what I already know (a stranger at first).",
        placeholder="Choose one",
        choices=(
            Choice(Relationship.STRANGER.value, "Stranger (cold)"),
            Choice(Relationship.REFERRED.value, "Referred to you"),
            Choice(Relationship.KNOWN.value, "Known (we have spoken)"),
            Choice(Relationship.CLIENT.value, "Client"),
        ),
    ),
    FormField(REFERRED_BY, "Referred by", FieldKind.TEXT,
              "Who referred you, if anyone; this makes them a referral.", placeholder="Tom",
              max_length=MAX_NAME),
    FormField(FOLLOWUP, "Waiting on you", FieldKind.TEXT,
              "Something they expect from you, like: the proposal for Q3.",
              placeholder="the proposal for Q3", max_length=MAX_FOLLOWUP),
    FormField(NEW_IN_ROLE, "New in role", FieldKind.FLAG, "They started this job recently."),
    FormField(EXPECTING_REPLY, "Expecting a reply", FieldKind.FLAG,
              "They are waiting for an answer from you."),
    FormField(TIMEZONE, "Their time zone", FieldKind.TEXT,
              "An IANA time zone like America/Chicago. Leave empty to keep what I know.",
              placeholder="America/Chicago", max_length=MAX_TIMEZONE),
    FormField(REGION, "Their region", FieldKind.TEXT,
              "A country, optionally with a state, like US or US-FL (for holidays and calling "
              "hours). Leave empty to keep what I know.", placeholder="US-FL",
              max_length=MAX_REGION),
)  # fmt: skip
FIELDS_BY_KEY: Mapping[str, FormField] = MappingProxyType(
    {field.key: field for field in DECISION_FORM_FIELDS}
)


class FormErrors(ValueError):
    """Every field that was wrong, keyed by its form key, each saying what is accepted."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = MappingProxyType(dict(errors))
        super().__init__(", ".join(self.errors))


def parse_decision_form(form: Mapping[str, str]) -> AskDecision:
    """The form as the same AskDecision the text grammar gives; FormErrors names every bad field.

    Keys the form does not know are ignored (a platform may send more than we asked for).
    """
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        raw = " ".join(str(form.get(key) or "").split())
        field = FIELDS_BY_KEY[key]
        if field.required and not raw:
            errors[key] = f"{field.label} is required: {field.hint.rstrip('.').lower()}."
        elif problem := too_long(raw, field.max_length):
            errors[key] = f"{field.label} {problem}."
        return raw

    name, company = text(NAME), text(COMPANY)
    referred_by, followup = text(REFERRED_BY), text(FOLLOWUP)
    relationship = _relationship(form.get(RELATIONSHIP), errors)
    new_in_role = _flag(NEW_IN_ROLE, form.get(NEW_IN_ROLE), errors)
    expecting = _flag(EXPECTING_REPLY, form.get(EXPECTING_REPLY), errors)
    timezone = _place(TIMEZONE, form.get(TIMEZONE), errors)
    region = _place(REGION, form.get(REGION), errors)
    if referred_by and relationship not in (None, Relationship.REFERRED):
        errors.setdefault(
            REFERRED_BY,
            f"Referred by goes with the relationship “referred”, not “{relationship}”: "
            "change the relationship or leave this empty.",
        )
    if referred_by:
        relationship = Relationship.REFERRED
    if errors:
        raise FormErrors(errors)
    facts = Facts(
        relationship=relationship,
        referred_by=referred_by or None,
        open_followup=followup_text(followup) or None,
        new_in_role=new_in_role,
        expecting_response=expecting,
        timezone=timezone,
        region=region,
    )
    return AskDecision(ProspectRef(name, company), facts)


def followup_text(raw: str) -> str:
    """`proposal Q3` reads as the grammar's `proposal "Q3"`: the proposal for Q3."""
    words = raw.split()
    if not words or words[0].casefold() not in FOLLOWUP_ITEMS:
        return raw
    item, rest = words[0].casefold(), words[1:]
    if rest and rest[0].casefold() == "for":
        rest = rest[1:]
    return f"the {item} for {' '.join(rest)}" if rest else f"the {item}"


def _relationship(raw: str | None, errors: dict[str, str]) -> Relationship | None:
    value = (raw or "").strip().casefold()
    if not value:
        return None
    try:
        return Relationship(value)
    except ValueError:
        accepted = ", ".join(choice.value for choice in FIELDS_BY_KEY[RELATIONSHIP].choices)
        errors[RELATIONSHIP] = f"Relationship must be one of: {accepted}."
        return None


def _flag(key: str, raw: str | None, errors: dict[str, str]) -> bool:
    value = (raw or "").strip().casefold()
    if value in _TRUE_WORDS:
        return True
    if value not in _FALSE_WORDS:
        errors[key] = f"{FIELDS_BY_KEY[key].label} is ticked or not: “true” or empty."
    return False


def _place(key: str, raw: str | None, errors: dict[str, str]) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    # A region too long is simply not ISO 3166, and its own message says what is.
    if key == TIMEZONE and (problem := too_long(value, FIELDS_BY_KEY[key].max_length)):
        errors[key] = f"{FIELDS_BY_KEY[key].label} {problem}."
        return None
    try:
        if key == REGION:
            return parse_region(key, value)
        return parse_timezone(key, value)
    except InvalidInput as error:
        errors[key] = f"{FIELDS_BY_KEY[key].label}: {error.problem}."
        return None
