"""What the rep says after the beep: safe templates whose length is bounded whatever the names.

Every placeholder has a word budget and values are cut to it, so a template's worst case
(its own words plus every budget it uses) is known when it is written, not when it is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from string import Template
from types import MappingProxyType

from policy.errors import InvalidInput
from policy.model import Prospect, Rep, Script, ScriptKind

MAX_WORDS = 75
WORDS_PER_MINUTE = 150
PHONE_PLACEHOLDERS = ("phone", "phone_slow")


@dataclass(frozen=True, slots=True)
class Placeholder:
    max_words: int
    meaning: str


PLACEHOLDERS: Mapping[str, Placeholder] = MappingProxyType(
    {
        "prospect": Placeholder(1, "the prospect's first name"),
        "prospect_company": Placeholder(4, "the prospect's company"),
        "rep": Placeholder(3, "the rep's name"),
        "company": Placeholder(4, "the rep's company"),
        "phone": Placeholder(6, "the rep's phone number"),
        "phone_slow": Placeholder(6, "the rep's phone number again, in slow groups"),
        "pitch": Placeholder(15, "one line on what the rep's company does"),
        "referrer": Placeholder(3, "who referred the rep"),
        "item": Placeholder(8, "the proposal, demo or quote being followed up"),
        "since": Placeholder(3, "how long since the last conversation"),
        "back_on": Placeholder(3, "when the rep will be back in touch"),
    }
)

NEUTRAL_PITCH = "I'd like to share how we help teams like yours"

DEFAULT_TEMPLATES: Mapping[ScriptKind, str] = MappingProxyType(
    {
        ScriptKind.REFERRAL: (
            "Hi $prospect, it's $rep from $company. $referrer suggested I give you a call, "
            "so I wanted to introduce myself: $pitch. I'd value ten minutes with you. "
            "You can reach me on $phone. Again, that's $phone_slow. Thanks, $prospect."
        ),
        ScriptKind.FOLLOWUP: (
            "Hi $prospect, it's $rep from $company. I'm following up on $item "
            "and wondered whether you've had any more thoughts on it. "
            "Call me on $phone. Again, that's $phone_slow. Speak soon."
        ),
        ScriptKind.INTRODUCTION: (
            "Hi $prospect, it's $rep from $company. I'm calling to introduce myself "
            "and tell you what we do: $pitch. If that could help you, call me on $phone. "
            "Again, that's $phone_slow. Thanks, $prospect."
        ),
        ScriptKind.RECONNECT: (
            "Hi $prospect, it's $rep from $company. It's been $since since we last spoke "
            "and I wanted to hear how things are going at $prospect_company. "
            "Call me on $phone. Again, that's $phone_slow. Speak soon."
        ),
        ScriptKind.EXPECTED_REPLY: (
            "Hi $prospect, it's $rep from $company, with the answer you were waiting for "
            "on $item. Please call me back on $phone. Again, that's $phone_slow. Thanks."
        ),
        ScriptKind.SERIES: (
            "Hi $prospect, it's $rep from $company. A quick idea for $prospect_company: "
            "$pitch. No need to call back, I'll try you again soon. If it's useful now, "
            "I'm on $phone. Again, that's $phone_slow."
        ),
        ScriptKind.FINAL: (
            "Hi $prospect, it's $rep from $company. I've tried you a few times, so this is "
            "my last message for a while. I'll be back in touch $back_on. If it matters "
            "before then, call me on $phone. Again, that's $phone_slow. Thanks, $prospect."
        ),
    }
)


def read_seconds(words: int) -> int:
    return math.ceil(words * 60 / WORDS_PER_MINUTE)


def worst_case_words(template: Template) -> int:
    fixed = template.safe_substitute({name: "" for name in PLACEHOLDERS})
    budget = sum(PLACEHOLDERS[name].max_words for name in set(template.get_identifiers()))
    return len(fixed.split()) + budget


def validate_template(where: str, text: str) -> Template:
    """Accept a team's wording only if it can be filled safely and always fits 30 seconds."""
    template = Template(text)
    if not template.is_valid():
        raise InvalidInput(
            where, "has a stray $; write $$ for a dollar sign and $name for a placeholder"
        )
    unknown = sorted(set(template.get_identifiers()) - PLACEHOLDERS.keys())
    if unknown:
        accepted = ", ".join(f"${name}" for name in PLACEHOLDERS)
        raise InvalidInput(where, f"unknown placeholder ${unknown[0]}; accepted: {accepted}")
    missing = [name for name in PHONE_PLACEHOLDERS if name not in template.get_identifiers()]
    if missing:
        raise InvalidInput(where, f"must give the number twice: add ${missing[0]}")
    words = worst_case_words(template)
    if words > MAX_WORDS:
        raise InvalidInput(
            where,
            f"can reach {words} words with long names; at most {MAX_WORDS} "
            f"(30 seconds at {WORDS_PER_MINUTE} words a minute)",
        )
    return template


_DEFAULTS_COMPILED = {
    kind: validate_template(kind.value, text) for kind, text in DEFAULT_TEMPLATES.items()
}


def render_script(
    kind: ScriptKind,
    *,
    rep: Rep,
    prospect: Prospect,
    today: date,
    back_on: date | None = None,
    custom: Mapping[ScriptKind, str] | None = None,
) -> Script:
    template = Template(custom[kind]) if custom and kind in custom else _DEFAULTS_COMPILED[kind]
    values = _Values(rep, prospect, today, back_on)
    text = " ".join(template.substitute(values).split())
    words = len(text.split())
    return Script(kind=kind, text=text, seconds=read_seconds(words))


@dataclass(frozen=True, slots=True)
class _Values(Mapping[str, str]):
    """The placeholders' values, each worked out only if the template asks for it."""

    rep: Rep
    prospect: Prospect
    today: date
    back_on: date | None

    def __getitem__(self, name: str) -> str:
        rep, prospect = self.rep, self.prospect
        match name:
            case "prospect":
                return _cut(prospect.name, "prospect")
            case "prospect_company":
                return _cut(prospect.company, "prospect_company") or "your team"
            case "rep":
                return _cut(rep.name, "rep")
            case "company":
                return _cut(rep.company, "company") or "my company"
            case "phone":
                return _squeeze(rep.phone, "phone")
            case "phone_slow":
                return ", ".join(self["phone"].split())
            case "pitch":
                return _cut(rep.pitch.rstrip(" .!"), "pitch") or NEUTRAL_PITCH
            case "referrer":
                return _cut(prospect.referred_by or "", "referrer") or "a mutual contact"
            case "item":
                return _cut(prospect.open_followup or "", "item") or "what we discussed"
            case "since":
                return _time_since(prospect.last_conversation, self.today)
            case "back_on":
                back_on = self.back_on
                return f"around {back_on:%B} {back_on.day}" if back_on else "soon"
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(PLACEHOLDERS)

    def __len__(self) -> int:
        return len(PLACEHOLDERS)


def _cut(value: str, placeholder: str) -> str:
    return " ".join(value.split()[: PLACEHOLDERS[placeholder].max_words])


def _squeeze(value: str, placeholder: str) -> str:
    """Fit the word budget without losing characters: the groups past it join the last one."""
    words = value.split()
    budget = PLACEHOLDERS[placeholder].max_words
    if len(words) > budget:
        words = [*words[: budget - 1], "".join(words[budget - 1 :])]
    return " ".join(words)


def _time_since(last: date | None, today: date) -> str:
    if last is None:
        return "a while"
    days = (today - last).days
    if days < 14:
        return "a few days"
    if days < 63:
        return f"{days // 7} weeks"
    return f"{days // 30} months"
