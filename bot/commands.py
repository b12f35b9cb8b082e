"""The grammar of the text after /voicemail, the same on every platform.

Forgiving: case does not matter, quotes are optional (straight or curly), a leading
`voicemail` is dropped, and the company follows `@` (or `at`, on a line without `@`). Anything
not understood raises GrammarError naming the part, with the closest usage line and an
example; nothing is stored from it. A first word one typo away from a command word gets the
corrected line as a suggestion rather than becoming part of a prospect's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.records import NUDGE_OFF, DigestCadence, Outcome
from policy import PLAYBOOKS, InvalidInput, Relationship
from policy.inputs import parse_region, parse_timezone
from policy.limits import (
    MAX_COMMAND,
    MAX_COMPANY,
    MAX_FOLLOWUP,
    MAX_ID,
    MAX_NAME,
    MAX_NOTE,
    MAX_PHONE,
    MAX_PITCH,
    MAX_SETTING_VALUE,
    MAX_TIMEZONE,
    too_long,
)
from policy.settings import SETTING_NAMES


@dataclass(frozen=True, slots=True)
class Usage:
    line: str
    example: str
    meaning: str


USAGE: Mapping[str, Usage] = MappingProxyType(
    {
        "decide": Usage(
            '<name> @ <company> [referred by <name>] [proposal|demo|quote|brochure "<what>"] '
            "[new in role] [expecting reply] [client|known|stranger] [tz <zone>] [region <code>]",
            "Jane Doe @ Acme referred by Tom",
            "what to do at the beep, remembering these facts",
        ),
        "log": Usage(
            "log <name> @ <company> " + "|".join(o.value for o in Outcome) + " [note]",
            "log Jane Doe @ Acme left",
            "check in after the call",
        ),
        "queue": Usage("queue (or today)", "queue", "my call-backs due today and overdue recycles"),
        "history": Usage("history <name> @ <company>", "history Jane Doe @ Acme", "one prospect"),
        "me": Usage(
            "me [name|company|phone|pitch|timezone <value>]",
            "me phone +1 555 010 0100",
            "my profile, which scripts use",
        ),
        "me nudge": Usage(
            "me nudge <HH:MM>|off",
            "me nudge 07:30",
            "when my morning nudge comes, in my time zone (08:00 unless set), or none",
        ),
        "team": Usage(
            "team", "team", "managers: your team's digest of the last 7 days, with its chart"
        ),
        "team add": Usage(
            "team add <rep> ... | team remove <rep> ... | team members",
            "team add @sam @alex",
            "managers: build your team; name reps with @mentions (user names in the terminal)",
        ),
        "settings": Usage(
            "settings [playbook <name>|final-attempt <n>|recycle-days <n>|min-gap <n>|"
            "silence-days <n>|silence-dials <n>|early-window <HH:MM-HH:MM>|"
            "late-window <HH:MM-HH:MM>|holidays-country <code>|digest daily|weekly|both|off]",
            "settings playbook it-depends",
            "managers: the team's playbook, numbers and digests",
        ),
        "forget": Usage(
            "forget <name> @ <company> | forget me [confirm]",
            "forget Jane Doe @ Acme",
            "erase a prospect, or (forget me) all my data",
        ),
        "export": Usage("export", "export", "all my data as JSON"),
        "help": Usage("help", "help", "this list"),
    }
)


class GrammarError(ValueError):
    def __init__(self, command: str, part: str, problem: str) -> None:
        self.command = command
        self.part = part
        self.problem = problem
        self.usage = USAGE[command]
        super().__init__(f"{part!r}: {problem}")


@dataclass(frozen=True, slots=True)
class ProspectRef:
    name: str
    company: str


@dataclass(frozen=True, slots=True)
class Facts:
    relationship: Relationship | None = None
    referred_by: str | None = None
    open_followup: str | None = None
    new_in_role: bool = False
    expecting_response: bool = False
    timezone: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class AskDecision:
    prospect: ProspectRef
    facts: Facts = field(default_factory=Facts)


@dataclass(frozen=True, slots=True)
class LogOutcome:
    prospect: ProspectRef
    outcome: Outcome
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShowQueue:
    pass


@dataclass(frozen=True, slots=True)
class ShowHistory:
    prospect: ProspectRef


@dataclass(frozen=True, slots=True)
class EditProfile:
    field: str | None = None
    value: str = ""


@dataclass(frozen=True, slots=True)
class ShowTeam:
    pass


@dataclass(frozen=True, slots=True)
class RepRef:
    """A rep named in a team command: by a mention (`<@ID>` or `<@ID|display name>`, as the
    Slack and Teams adapters pass them on) or, in the terminal, by user name."""

    user_id: str
    name: str = ""  # the display name a mention carried
    mentioned: bool = True


@dataclass(frozen=True, slots=True)
class AddToTeam:
    reps: tuple[RepRef, ...]


@dataclass(frozen=True, slots=True)
class RemoveFromTeam:
    reps: tuple[RepRef, ...]


@dataclass(frozen=True, slots=True)
class ShowMembers:
    pass


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    name: str | None = None
    value: str = ""


@dataclass(frozen=True, slots=True)
class Forget:
    prospect: ProspectRef


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """Erase all of the rep's data; only once `confirmed`, so one stray word erases nothing."""

    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Export:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


Command = (
    AskDecision
    | LogOutcome
    | ShowQueue
    | ShowHistory
    | EditProfile
    | ShowTeam
    | AddToTeam
    | RemoveFromTeam
    | ShowMembers
    | ChangeSettings
    | Forget
    | ForgetMe
    | Export
    | Help
)

OUTCOME_WORDS: Mapping[str, Outcome] = MappingProxyType(
    {
        **{outcome.value: outcome for outcome in Outcome},
        "voicemail": Outcome.LEFT,
        "vm": Outcome.LEFT,
        "skip": Outcome.SKIPPED,
        "hung-up": Outcome.SKIPPED,
        "reached": Outcome.LIVE,
        "noanswer": Outcome.NO_ANSWER,
        "callback": Outcome.CALLED_BACK,
    }
)
PROFILE_FIELDS: Mapping[str, str] = MappingProxyType(
    {"name": "name", "company": "company", "phone": "phone", "pitch": "pitch",
     "timezone": "timezone", "tz": "timezone", "nudge": "nudge"}
)  # fmt: skip
PROFILE_LIMITS: Mapping[str, int] = MappingProxyType(
    {"name": MAX_NAME, "company": MAX_COMPANY, "phone": MAX_PHONE, "pitch": MAX_PITCH,
     "timezone": MAX_TIMEZONE}
)  # fmt: skip
SETTING_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "playbook": "playbook",
        "holidays": "holidays_country",
        **{name.replace("_", "-"): name for name in SETTING_NAMES if name != "scripts"},
        "digest": "digest",
    }
)
SETTING_EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "playbook": "settings playbook it-depends",
        "final_attempt": "settings final-attempt 4",
        "recycle_days": "settings recycle-days 120",
        "min_gap": "settings min-gap 3",
        "silence_days": "settings silence-days 60",
        "silence_dials": "settings silence-dials 6",
        "early_window": "settings early-window 07:30-08:30",
        "late_window": "settings late-window 17:00-18:00",
        "holidays_country": "settings holidays-country GB",
        "digest": "settings digest daily",
    }
)
# Each word that starts a command, and the usage line its near misses are pointed to.
COMMAND_USAGE: Mapping[str, str] = MappingProxyType(
    {"history": "history", "log": "log", "queue": "queue", "today": "queue", "me": "me",
     "team": "team", "settings": "settings", "forget": "forget", "export": "export",
     "help": "help"}
)  # fmt: skip
COMMAND_WORDS = tuple(COMMAND_USAGE)
_SHORT_WORD = 3
# The command words one edit can reach from a word of each length (one letter more or less).
_WORDS_BY_LENGTH = {
    length: tuple(word for word in COMMAND_WORDS if abs(len(word) - length) <= 1)
    for length in range(max(map(len, COMMAND_WORDS)) + 2)
}
_VOICEMAIL_WORDS = frozenset({"voicemail", "/voicemail"})
_EITHER_SPELLING = " (with - or _)"
_PREVIEW = 30  # characters of an overlong value quoted back: enough to recognise it
FOLLOWUP_ITEMS = ("proposal", "demo", "quote", "brochure")
FACT_WORDS = frozenset(
    {"referred", "new", "expecting", "tz", "timezone", "region", *FOLLOWUP_ITEMS,
     *(r.value for r in Relationship if r is not Relationship.REFERRED)}
)  # fmt: skip

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_MENTION = r"<@[^<>|\s]+(?:\|[^<>]*)?>"
# A mention, `@`, a quoted phrase, or a run of other characters up to a space, `@` or mention.
_TOKEN = re.compile(
    rf'(?P<mention>{_MENTION})|(?P<at>@)|"(?P<double>[^"]*)"|\'(?P<single>[^\']*)\''
    rf"|(?P<bare>(?:(?!{_MENTION})[^\s@])+)"
)
MAX_REPS = 50
"""Reps named in one `team add` or `team remove`."""
_MENTION_PARTS = re.compile(r"<@(?P<id>[^<>|\s]+)(?:\|(?P<name>[^<>]*))?>")
_REP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]*")
_USER_NAME = re.compile(r"@?(?P<id>[A-Za-z0-9._-]+)")
_NUDGE_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
NUDGE_ACCEPTED = "HH:MM on the 24-hour clock, 00:00 to 23:59 (07:30 or 7:30), or off"
TEAM_WORDS = ("add", "remove", "members")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    quoted: bool
    glued: bool = False  # no space between it and the token before (`@sam`, `Doe@Acme`)
    word: str = field(init=False, compare=False)  # as a keyword matches it; "" when quoted

    def __post_init__(self) -> None:  # read a score of times a command: worked out once
        object.__setattr__(self, "word", "" if self.quoted else self.text.casefold())

    @property
    def is_mention(self) -> bool:
        return not self.quoted and self.text.startswith("<@") and self.text.endswith(">")


def tokenize(text: str) -> list[Token]:
    """Words, quoted phrases, `@` on its own and mentions whole.

    `@` is a token of its own wherever it stands (`Jane Doe@Acme`), and inside quotes it is
    spaced the same way, as the names stored before mentions existed were.
    """
    tokens: list[Token] = []
    end = 0
    for match in _TOKEN.finditer(text.translate(_QUOTES)):
        quoted = match["double"] is not None or match["single"] is not None
        raw = match["double"] if match["double"] is not None else match["single"]
        if raw is None:
            raw = match[0]
        elif "@" in raw:
            raw = raw.replace("@", " @ ")
        value = " ".join(raw.split())
        if value:
            tokens.append(Token(value, quoted, glued=bool(tokens) and match.start() == end))
        end = match.end()
    return tokens


def parse(text: str) -> Command:
    _check_length_of_whole(text)
    tokens = _without_leading_voicemail(tokenize(text))
    try:
        return _parse_tokens(tokens)
    except _NotACommand:
        pass
    suggestion = _suggestion(tokens)
    if suggestion is not None:
        command, corrected = suggestion
        raise GrammarError(command, tokens[0].text, f"did you mean `{corrected}`?")
    prospect, extra = _prospect("decide", tokens, stop=FACT_WORDS)
    return AskDecision(prospect, _facts(extra))


def needs_manager(command: Command) -> bool:
    """Whether the coach answers `command` for managers only (the team's digest, its members,
    a change of its settings): an adapter reads such a sender's role fresh, not from a cache."""
    if isinstance(command, ChangeSettings):
        return command.name is not None
    return isinstance(command, ShowTeam | AddToTeam | RemoveFromTeam | ShowMembers)


def _check_length_of_whole(text: str) -> None:
    problem = too_long(text, MAX_COMMAND)
    if problem:
        first = text[:_PREVIEW].split()[0].casefold() if text[:_PREVIEW].split() else ""
        command = COMMAND_USAGE.get(first, "decide")
        raise GrammarError(command, _preview(text), f"the whole command {problem}")


def _check_length(command: str, what: str, value: str, limit: int) -> str:
    """`value`, or GrammarError naming `what`, its length and the limit (quoting it cut short)."""
    problem = too_long(value, limit)
    if problem:
        raise GrammarError(command, _preview(value), f"{what} {problem}")
    return value


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else f"{text[: _PREVIEW - 1]}…"


class _NotACommand(Exception):
    """The first word is no command word: the line is a decision request (or a typo of one)."""


def _without_leading_voicemail(tokens: list[Token]) -> list[Token]:
    """`voicemail Jane Doe @ Acme` (or `/voicemail ...`, pasted whole) asks about Jane Doe."""
    if tokens and tokens[0].word in _VOICEMAIL_WORDS:
        return tokens[1:]
    return tokens


def _parse_tokens(tokens: list[Token]) -> Command:
    if not tokens or tokens[0].word == "help":
        return Help()
    head, rest = tokens[0].word, tokens[1:]
    if head in ("queue", "today"):
        _no_more("queue", rest)
        return ShowQueue()
    if head == "team":
        return _team(rest)
    if head == "export":
        _no_more("export", rest)
        return Export()
    if head == "forget" and rest and rest[0].word == "me" and not _has_at(rest):
        return _forget_me(rest[1:])
    if head in ("history", "forget"):
        prospect, extra = _prospect(head, rest, stop=frozenset())
        _no_more(head, extra)
        return ShowHistory(prospect) if head == "history" else Forget(prospect)
    if head == "log":
        return _log(rest)
    if head == "me":
        return _profile(rest)
    if head == "settings":
        return _settings(rest)
    raise _NotACommand


def _suggestion(tokens: list[Token]) -> tuple[str, str] | None:
    """(usage key, corrected line) if the first word is a near miss of a command word.

    Only when the corrected line parses as that command: `Lou Reed @ Acme` stays a decision,
    since `log Reed @ Acme` names no outcome. `help` takes anything after it, so a near miss
    of it counts only alone (`Hel Doe @ Acme` is someone's name).
    """
    if not tokens or tokens[0].quoted:
        return None
    first, rest = tokens[0].word, tokens[1:]
    for word in _WORDS_BY_LENGTH.get(len(first), ()):
        if not _is_near_miss(first, word) or (word == "help" and rest):
            continue
        if word == "team" and _names_a_prospect(rest):  # `Tea Add Jo at Acme` is a person
            continue
        corrected = [Token(word, quoted=False), *rest]
        try:
            command = _parse_tokens(corrected)
        except (GrammarError, _NotACommand):
            continue
        return _usage_of(command, COMMAND_USAGE[word]), _line(corrected)
    return None


def _usage_of(command: Command, usage: str) -> str:
    """The usage line a command has of its own (`team add`, `me nudge`), else `usage`."""
    if isinstance(command, AddToTeam | RemoveFromTeam | ShowMembers):
        return "team add"
    if isinstance(command, EditProfile) and command.field == "nudge":
        return "me nudge"
    return usage


def _is_near_miss(typed: str, word: str) -> bool:
    """One edit away (a swap of neighbours counts as one).

    A short word (`me`, `log`) only by a swap or one extra letter (`lgo`, `logg`): a changed or
    missing letter turns too many names into it (Lou, Lo, Mo).
    """
    if typed == word or not _damerau_levenshtein_is_one(typed, word):
        return False
    return len(word) > _SHORT_WORD or len(typed) > len(word) or _is_one_swap(typed, word)


def _is_one_swap(typed: str, word: str) -> bool:
    if len(typed) != len(word):
        return False
    diffs = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and typed[diffs[0]] == word[diffs[1]]
        and typed[diffs[1]] == word[diffs[0]]
    )


def _damerau_levenshtein_is_one(typed: str, word: str) -> bool:
    if abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        mismatches = sum(a != b for a, b in zip(typed, word, strict=True))
        return mismatches == 1 or _is_one_swap(typed, word)
    shorter, longer = sorted((typed, word), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _line(tokens: list[Token]) -> str:
    """The tokens as typed: glued ones stay glued, so the line reads back (`team add @sam`)."""
    line = ""
    for token in tokens:
        text = f'"{token.text}"' if token.quoted else token.text
        line += text if token.glued or not line else f" {text}"
    return line


def _names_a_prospect(tokens: list[Token]) -> bool:
    """`at`, or an `@` standing between words (`Jo @ Acme`), not one that starts `@sam`."""
    for i, token in enumerate(tokens):
        if token.word == "at":
            return True
        if token.word == "@" and not (i + 1 < len(tokens) and tokens[i + 1].glued):
            return True
    return False


def _has_at(tokens: list[Token]) -> bool:
    return any(token.word in ("@", "at") for token in tokens)


def _forget_me(rest: list[Token]) -> ForgetMe:
    if not rest:
        return ForgetMe(confirmed=False)
    if len(rest) == 1 and rest[0].word == "confirm":
        return ForgetMe(confirmed=True)
    raise GrammarError("forget", _join(rest), "`forget me` takes only `confirm` after it")


def _no_more(command: str, rest: list[Token], what: str | None = None) -> None:
    if rest:
        said = what or f"`{command}`"
        raise GrammarError(command, _join(rest), f"{said} takes nothing after it")


def _prospect(
    command: str, tokens: list[Token], *, stop: frozenset[str]
) -> tuple[ProspectRef, list[Token]]:
    """`<name> @|at <company>` at the start of tokens; the company ends at a word in `stop`."""
    at = _separator(tokens)
    if at is None:
        raise GrammarError(
            command, _join(tokens) or "(nothing)", "name the prospect and their company with @"
        )
    name = _check_length(command, "the prospect's name", _join(tokens[:at]), MAX_NAME)
    if not name:
        raise GrammarError(command, "@", "the prospect's name goes before @")
    end = at + 1
    if end < len(tokens) and tokens[end].quoted:
        end += 1
    else:
        while end < len(tokens) and tokens[end].word not in stop:
            end += 1
    company = _check_length(command, "the company", _join(tokens[at + 1 : end]), MAX_COMPANY)
    if not company:
        raise GrammarError(command, name, "the company goes after @")
    return ProspectRef(name, company), tokens[end:]


def _separator(tokens: list[Token]) -> int | None:
    """Where `@` is; `at` separates only on a line without one, so `Matt At @ Acme` is Matt At."""
    words = [token.word for token in tokens]
    if "@" in words:
        return words.index("@")
    return words.index("at") if "at" in words else None


def _facts(tokens: list[Token]) -> Facts:
    facts: dict[str, object] = {}
    i = 0
    while i < len(tokens):
        word = tokens[i].word
        if word == "referred":
            i = _expect(tokens, i + 1, "by")
            referrer, i = _phrase(tokens, i)
            _check_length("decide", "the referrer's name", referrer, MAX_NAME)
            facts |= {"relationship": Relationship.REFERRED, "referred_by": referrer or None}
        elif word in FOLLOWUP_ITEMS:
            what, i = _phrase(tokens, i + 1)
            _check_length("decide", f"what the {word} is for", what, MAX_FOLLOWUP)
            facts["open_followup"] = f"the {word} for {what}" if what else f"the {word}"
        elif word == "new":
            i = _expect_words(tokens, i + 1, ("in", "role"), skip="the")
            facts["new_in_role"] = True
        elif word == "expecting":
            i = _expect_one_of(tokens, i + 1, ("reply", "response", "answer"), skip="a")
            facts["expecting_response"] = True
        elif word in ("client", "known", "stranger"):
            facts["relationship"] = Relationship(word)
            i += 1
        elif word in ("tz", "timezone", "region"):
            value = tokens[i + 1].text if i + 1 < len(tokens) else ""
            facts |= _place(word, value)
            i += 2
        else:
            raise GrammarError("decide", _join(tokens[i:]), "this is not a fact I know")
    return Facts(**facts)  # type: ignore[arg-type]


def _place(word: str, value: str) -> dict[str, object]:
    if not value:
        _missing(word)
    if word != "region":  # a region too long is simply not ISO 3166, and says so
        _check_length("decide", "the time zone", value, MAX_TIMEZONE)
    try:
        if word == "region":
            return {"region": parse_region("region", value)}
        return {"timezone": parse_timezone("tz", value) or _missing(word)}
    except InvalidInput as error:
        raise GrammarError("decide", _preview(f"{word} {value}"), error.problem) from None


def _missing(word: str) -> str:
    example = "region US-FL" if word == "region" else f"{word} America/Chicago"
    raise GrammarError("decide", word, f"needs a value, like {example}")


def _phrase(tokens: list[Token], i: int) -> tuple[str, int]:
    """A quoted token, or the words up to the next fact word."""
    if i < len(tokens) and tokens[i].quoted:
        return tokens[i].text, i + 1
    start = i
    while i < len(tokens) and tokens[i].word not in FACT_WORDS:
        i += 1
    return _join(tokens[start:i]), i


def _expect(tokens: list[Token], i: int, word: str) -> int:
    if i >= len(tokens) or tokens[i].word != word:
        raise GrammarError(
            "decide", _join(tokens[i - 1 : i + 1]), f"did you mean `referred {word}`?"
        )
    return i + 1


def _expect_words(tokens: list[Token], i: int, words: tuple[str, ...], skip: str) -> int:
    for word in words:
        if i < len(tokens) and tokens[i].word == skip:
            i += 1
        if i >= len(tokens) or tokens[i].word != word:
            raise GrammarError(
                "decide", _join(tokens[max(0, i - 1) : i + 1]), "did you mean `new in role`?"
            )
        i += 1
    return i


def _expect_one_of(tokens: list[Token], i: int, words: tuple[str, ...], skip: str) -> int:
    if i < len(tokens) and tokens[i].word == skip:
        i += 1
    if i >= len(tokens) or tokens[i].word not in words:
        raise GrammarError(
            "decide", _join(tokens[i - 1 : i + 1]), "did you mean `expecting reply`?"
        )
    return i + 1


def _log(tokens: list[Token]) -> LogOutcome:
    prospect, rest = _prospect("log", tokens, stop=frozenset(OUTCOME_WORDS))
    if not rest:
        last = prospect.company.split()[-1]
        outcomes = ", ".join(o.value for o in Outcome)
        raise GrammarError("log", last, f"the outcome is missing; end with one of {outcomes}")
    outcome = OUTCOME_WORDS.get(rest[0].word)
    if outcome is None:
        outcomes = ", ".join(o.value for o in Outcome)
        raise GrammarError("log", rest[0].text, f"not an outcome; one of {outcomes}")
    note = _check_length("log", "the note", _join(rest[1:]), MAX_NOTE)
    return LogOutcome(prospect, outcome, note)


def _profile(tokens: list[Token]) -> EditProfile:
    if not tokens:
        return EditProfile()
    if tokens[0].word == "nudge":
        return EditProfile("nudge", _nudge_time(_join(tokens[1:])))
    name, value = _name_and_value("me", tokens, PROFILE_FIELDS, "profile field")
    _check_length("me", f"your {name}", value, PROFILE_LIMITS[name])
    return EditProfile(name, value)


def _nudge_time(value: str) -> str:
    """`07:30` (from 7:30 or 07:30) or `off`; a GrammarError saying what is accepted if not."""
    if value.casefold() == NUDGE_OFF:
        return NUDGE_OFF
    clock = _NUDGE_TIME.fullmatch(value)
    if clock and int(clock[1]) < 24 and int(clock[2]) < 60:
        return f"{int(clock[1]):02d}:{clock[2]}"
    if not value:
        raise GrammarError("me nudge", "nudge", f"give a time: {NUDGE_ACCEPTED}")
    raise GrammarError("me nudge", _preview(value), f"not a nudge time; give {NUDGE_ACCEPTED}")


def _team(rest: list[Token]) -> Command:
    if not rest:
        return ShowTeam()
    word, reps = rest[0].word, rest[1:]
    if word == "members":
        _no_more("team add", reps, "`team members`")
        return ShowMembers()
    if word in ("add", "remove"):
        refs = _rep_refs(word, reps)
        return AddToTeam(refs) if word == "add" else RemoveFromTeam(refs)
    raise GrammarError(
        "team add",
        _preview(_join(rest)),
        "`team` takes nothing after it, or add, remove or members",
    )


def _rep_refs(word: str, tokens: list[Token]) -> tuple[RepRef, ...]:
    """The reps named after `team add|remove`: mentions and user names, commas allowed,
    each once, at least one and at most MAX_REPS."""
    refs: dict[str, RepRef] = {}
    for piece in _rep_pieces(tokens):
        ref = _rep_ref(piece)
        refs.setdefault(ref.user_id, ref)
    if not refs:
        raise GrammarError(
            "team add", word, f"name at least one rep after {word}, like team {word} @sam"
        )
    if len(refs) > MAX_REPS:
        raise GrammarError(
            "team add",
            _preview(_join(tokens)),
            f"names {len(refs)} reps; at most {MAX_REPS} at a time",
        )
    return tuple(refs.values())


def _rep_pieces(tokens: list[Token]) -> list[str]:
    """Each mention whole; the other words as typed (glued tokens rejoined), split at commas."""
    pieces: list[str] = []
    word = ""
    for token in tokens:
        if token.is_mention:
            pieces += [*word.split(","), token.text]
            word = ""
        elif token.glued:
            word += token.text
        else:
            pieces += word.split(",")
            word = token.text
    pieces += word.split(",")
    return [piece for piece in pieces if piece]


def _rep_ref(piece: str) -> RepRef:
    mention = _MENTION_PARTS.fullmatch(piece)
    if mention:
        user_id, name = mention["id"], " ".join((mention["name"] or "").split())
        _check_length("team add", "the rep's id", user_id, MAX_ID)
        _check_length("team add", "the rep's name", name, MAX_NAME)
        if _REP_ID.fullmatch(user_id):
            return RepRef(user_id, name)
    user = _USER_NAME.fullmatch(piece)
    if user and not mention:
        _check_length("team add", "the user name", user["id"], MAX_ID)
        return RepRef(user["id"], mentioned=False)
    raise GrammarError(
        "team add",
        _preview(piece),
        "not a rep; name each with an @mention (in the terminal: a user name of letters, "
        "digits, . _ or -)",
    )


def _settings(tokens: list[Token]) -> ChangeSettings:
    if not tokens:
        return ChangeSettings()
    name, value = _name_and_value("settings", tokens, SETTING_WORDS, "setting")
    _check_length("settings", f"the value of {tokens[0].text}", value, MAX_SETTING_VALUE)
    if name == "playbook" and value.casefold() not in PLAYBOOKS:
        raise GrammarError("settings", value, f"not a playbook; one of {', '.join(PLAYBOOKS)}")
    cadences = [cadence.value for cadence in DigestCadence]
    if name == "digest" and value.casefold() not in cadences:
        raise GrammarError("settings", value, f"not a digest setting; one of {', '.join(cadences)}")
    return ChangeSettings(name, value.casefold() if name in ("playbook", "digest") else value)


def _name_and_value(
    command: str, tokens: list[Token], names: Mapping[str, str], what: str
) -> tuple[str, str]:
    """`<name> <value ...>` where name is one of `names`' words, and a value must follow.

    `final_attempt` reads as `final-attempt`: the README and the decide JSON spell settings
    with underscores, the chat with hyphens, and a rep may copy either.
    """
    name = names.get(tokens[0].word.replace("_", "-"))
    if name is None:
        spelling = _EITHER_SPELLING if any("-" in word for word in names) else ""
        accepted = f"one of {', '.join(names)}{spelling}"
        raise GrammarError(command, tokens[0].text, f"not a {what}; {accepted}")
    value = _join(tokens[1:])
    if not value:
        raise GrammarError(command, tokens[0].text, f"give a value after the {what}")
    return name, value


def _join(tokens: list[Token]) -> str:
    return " ".join(token.text for token in tokens)
