"""The rules of the spec, one value each: id, sources, when, what to do and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from policy.model import Action, History, Prospect, Relationship, Rep, ScriptKind
from policy.settings import Settings
from policy.sources import cite

CALLBACK_RATE_OF_STRANGERS = "1-2%"


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a rule may look at for one dial."""

    rep: Rep
    prospect: Prospect
    history: History
    settings: Settings
    min_gap: int
    today: date

    @property
    def attempt(self) -> int:
        return self.history.attempts + 1

    @property
    def first_name(self) -> str:
        return self.prospect.name.split()[0] if self.prospect.name.split() else "They"

    @property
    def days_since_conversation(self) -> int | None:
        last = self.prospect.last_conversation
        return None if last is None else (self.today - last).days


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    seeds: tuple[str, ...]
    when: str
    then: str
    applies: Callable[[Context], bool]
    action: Callable[[Context], Action]
    why: Callable[[Context], str]
    script: ScriptKind | None = None
    catch_all: bool = False

    @property
    def source(self) -> str:
        return cite(self.seeds)


def _sentence(why: Callable[[Context], str]) -> Callable[[Context], str]:
    """A reason that opens with what the rep typed ("the demo for ...", "tom") starts with a
    capital all the same."""

    def capitalized(ctx: Context) -> str:
        text = why(ctx)
        return text[:1].upper() + text[1:]

    return capitalized


def _always(_: Context) -> bool:
    return True


def _constant(action: Action) -> Callable[[Context], Action]:
    return lambda _: action


def _is_paused(ctx: Context) -> bool:
    return ctx.prospect.recycle_on is not None and ctx.prospect.recycle_on > ctx.today


def _is_too_soon(ctx: Context) -> bool:
    since = ctx.history.attempts_since_voicemail
    return since is not None and since < ctx.min_gap


def _dials_ago(ctx: Context) -> str:
    ago = (ctx.history.attempts_since_voicemail or 0) + 1
    return "on your last dial" if ago == 1 else f"{ago} dials ago"


def _is_long_silence(ctx: Context) -> bool:
    days = ctx.days_since_conversation
    quiet_days = days is not None and days >= ctx.settings.silence_days
    return quiet_days or ctx.history.dials_without_message >= ctx.settings.silence_dials


def _silence_why(ctx: Context) -> str:
    days = ctx.days_since_conversation
    if days is not None and days >= ctx.settings.silence_days:
        gap = f"{days} days since you last spoke"
    else:
        gap = f"{ctx.history.dials_without_message} dials without a message"
    return f"{gap}: remind {ctx.first_name} you exist before they buy at the wrong moment."


def _cold_action(ctx: Context) -> Action:
    return Action.HANG_UP if ctx.history.dialed_zero else Action.DIAL_ZERO


def _cold_why(ctx: Context) -> str:
    odds = f"only {CALLBACK_RATE_OF_STRANGERS} of strangers call back"
    if ctx.history.dialed_zero:
        return f"A stranger, and you dialed zero already this cycle: {odds}, so hang up."
    return f"A stranger: {odds}. Dial zero to learn where they are and what they care about."


PAUSED = Rule(
    id="paused",
    seeds=("002",),
    when="the lead has a recycle date after today",
    then="recycle: do not call now",
    applies=_is_paused,
    action=_constant(Action.RECYCLE),
    why=lambda ctx: (
        f"Paused after the final voicemail until {ctx.prospect.recycle_on}: "
        "the lead rests before a new series."
    ),
)

EXPECTED_REPLY = Rule(
    id="expected-reply",
    seeds=("001",),
    when="the prospect expects a response or has a pressing issue that depends on you",
    then="leave a voicemail (specific answer)",
    applies=lambda ctx: ctx.prospect.expecting_response,
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.EXPECTED_REPLY,
    why=_sentence(
        lambda ctx: f"{ctx.first_name} is waiting for your answer: a reply is as sure as it gets."
    ),
)

FINAL_ATTEMPT = Rule(
    id="final-attempt",
    seeds=("002",),
    when="attempt >= final_attempt with no conversation this cycle",
    then="final voicemail, recycle after recycle_days",
    applies=lambda ctx: ctx.attempt >= ctx.settings.final_attempt,
    action=_constant(Action.FINAL_VOICEMAIL),
    script=ScriptKind.FINAL,
    why=lambda ctx: (
        f"Attempt {ctx.attempt} with no conversation: leave the last voicemail and "
        f"recycle the lead for {ctx.settings.recycle_days} days."
    ),
)

TOO_SOON = Rule(
    id="too-soon",
    seeds=("004",),
    when="a voicemail was left fewer than min_gap dials ago this cycle",
    then="hang up",
    applies=_is_too_soon,
    action=_constant(Action.HANG_UP),
    why=lambda ctx: (
        f"You left a voicemail {_dials_ago(ctx)}: more messages sound desperate "
        "and remove the reason to call back."
    ),
)

OPEN_FOLLOWUP = Rule(
    id="open-followup",
    seeds=("004",),
    when="a proposal, demo, quote or brochure waits for an answer",
    then="leave a voicemail (follow-up naming the item)",
    applies=lambda ctx: bool(ctx.prospect.open_followup),
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.FOLLOWUP,
    why=_sentence(
        lambda ctx: (
            f"{ctx.prospect.open_followup} waits for an answer: you have a right to expect "
            "a response, so leave a specific message."
        )
    ),
)

REFERRAL = Rule(
    id="referral",
    seeds=("003",),
    when="relationship is referred",
    then="leave a voicemail (naming who referred you)",
    applies=lambda ctx: ctx.prospect.relationship is Relationship.REFERRED,
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.REFERRAL,
    why=_sentence(
        lambda ctx: (
            f"{ctx.prospect.referred_by or 'Someone'} referred you: "
            "a referred prospect is the one stranger who calls back."
        )
    ),
)

NEW_IN_ROLE = Rule(
    id="new-in-role",
    seeds=("004",),
    when="the prospect is new in the role and no voicemail was left this cycle",
    then="leave a voicemail (introduction)",
    applies=lambda ctx: ctx.prospect.new_in_role and ctx.history.voicemails_left == 0,
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.INTRODUCTION,
    why=_sentence(
        lambda ctx: (
            f"{ctx.first_name} is new in the role: newcomers look for new ways of doing things, "
            "so tell them what you do."
        )
    ),
)

LONG_SILENCE = Rule(
    id="long-silence",
    seeds=("004",),
    when="known or client, and silence_days since you spoke or silence_dials without a message",
    then="leave a voicemail (reconnect)",
    applies=lambda ctx: (
        ctx.prospect.relationship in (Relationship.KNOWN, Relationship.CLIENT)
        and _is_long_silence(ctx)
    ),
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.RECONNECT,
    why=_silence_why,
)

LONG_SILENCE_ANYONE = Rule(
    id="long-silence",
    seeds=("004",),
    when="silence_days since you spoke or silence_dials without a message",
    then="leave a voicemail (reconnect)",
    applies=_is_long_silence,
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.RECONNECT,
    why=_silence_why,
)

COLD = Rule(
    id="cold",
    seeds=("003",),
    when="relationship is stranger",
    then="dial zero if not yet this cycle, else hang up",
    applies=lambda ctx: ctx.prospect.relationship is Relationship.STRANGER,
    action=_cold_action,
    why=_cold_why,
)

NEW_PROSPECT = Rule(
    id="new-prospect",
    seeds=("004",),
    when="first dial of a stranger cycle with no voicemail yet",
    then="leave a voicemail (introduction)",
    applies=lambda ctx: (
        ctx.prospect.relationship is Relationship.STRANGER
        and ctx.history.attempts == 0
        and ctx.history.voicemails_left == 0
    ),
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.INTRODUCTION,
    why=lambda ctx: (
        f"A first dial to someone new: if {ctx.first_name} doesn't know about you, "
        "they don't know about you. Say what you do."
    ),
)

SERIES = Rule(
    id="series",
    seeds=("002",),
    when="any other dial",
    then="leave a voicemail (next message of the series)",
    applies=_always,
    action=_constant(Action.LEAVE_VOICEMAIL),
    script=ScriptKind.SERIES,
    catch_all=True,
    why=lambda _: "Each message of the series builds rapport and shows competence.",
)

LIVE_ONLY = Rule(
    id="live-only",
    seeds=("000",),
    when="any dial",
    then="hang up",
    applies=_always,
    action=_constant(Action.HANG_UP),
    catch_all=True,
    why=lambda _: "Voicemail is white noise: spend the time on live conversations instead.",
)

DEFAULT = Rule(
    id="default",
    seeds=("000", "001", "004"),
    when="anything else",
    then="hang up",
    applies=_always,
    action=_constant(Action.HANG_UP),
    catch_all=True,
    why=lambda _: (
        "No reason strong enough for a message: most are never returned, "
        "and each costs about 45 seconds."
    ),
)
