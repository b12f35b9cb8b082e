"""Neutral replies for each thing the bot says. Adapters render them; nothing here knows how."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, tzinfo
from types import MappingProxyType
from typing import Any

from bot.commands import SETTING_EXAMPLES, USAGE, GrammarError
from bot.digests import Numbers, percent
from bot.records import (
    DEFAULT_TEAM,
    NUDGE_OFF,
    CheckIn,
    DigestCadence,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
)
from bot.types import Button, Fact, Reply, ScriptBlock, Tone
from policy import Action, Decision, Reason, Relationship, Window
from policy.playbooks import PLAYBOOKS
from policy.settings import SETTING_NAMES
from policy.sources import titles_of

CHECK_IN = "checkin"
ASK = "ask"  # a button that asks for the full decision on a prospect; its value: the key
CHECK_IN_BUTTONS: Sequence[tuple[str, Outcome]] = (
    ("Left it", Outcome.LEFT),
    ("Skipped", Outcome.SKIPPED),
    ("Reached them", Outcome.LIVE),
    ("Dialed 0", Outcome.ZERO),
)
HEADINGS = {
    Action.LEAVE_VOICEMAIL: "Leave a voicemail",
    Action.HANG_UP: "Hang up: no message",
    Action.DIAL_ZERO: "Dial 0, then hang up",
    Action.FINAL_VOICEMAIL: "Leave your final voicemail",
    Action.RECYCLE: "Paused: don't call",
}
# The advice in running text: "When you call in their hours: leave a voicemail."
ADVICE = {
    Action.LEAVE_VOICEMAIL: "leave a voicemail",
    Action.HANG_UP: "hang up without a message",
    Action.DIAL_ZERO: "dial 0, then hang up",
    Action.FINAL_VOICEMAIL: "leave your final voicemail",
    Action.RECYCLE: "don't call, the lead is paused",
}
# A rule that lost, in plain words: "On its own that would mean leaving a voicemail".
ADVICE_AS_NOUN = {
    Action.LEAVE_VOICEMAIL: "leaving a voicemail",
    Action.HANG_UP: "hanging up without a message",
    Action.DIAL_ZERO: "dialing 0",
    Action.FINAL_VOICEMAIL: "leaving your final voicemail",
    Action.RECYCLE: "not calling while the lead is paused",
}
ADVISED_OUTCOME = {
    Action.LEAVE_VOICEMAIL: Outcome.LEFT,
    Action.FINAL_VOICEMAIL: Outcome.LEFT,
    Action.HANG_UP: Outcome.SKIPPED,
    Action.DIAL_ZERO: Outcome.ZERO,
}
# The legal-hours warning of policy.decide ends with "Do not dial now."
DO_NOT_DIAL_HEADING = "Don't dial now: outside calling hours"
# While the store cannot be reached (bot/fallback.py): a decision from the policy alone, and
# what is refused because it would read or save something.
HISTORY_UNAVAILABLE = (
    "Your history is unavailable right now (I can't reach my records), so this is the policy "
    "alone: as for a first call, without your script. Nothing was saved."
)
STORE_DOWN_HEADING = "I can't reach my records right now"
STORE_DOWN_CLICK = "Nothing was saved. Please click the button again in a few minutes."
STORE_DOWN_COMMAND = "Nothing was saved. Please send the command again in a few minutes."
OUTCOME_WORDS = {
    Outcome.LEFT: "left a voicemail",
    Outcome.SKIPPED: "hung up without a message",
    Outcome.LIVE: "reached them",
    Outcome.GATEKEEPER: "spoke to a gatekeeper",
    Outcome.ZERO: "dialed zero",
    Outcome.NO_ANSWER: "no answer",
    Outcome.MEETING: "booked a meeting",
    Outcome.NOT_INTERESTED: "not interested",
    Outcome.CALLED_BACK: "they called back",
}
# What every script says (who calls, from where, on which number), with what to type for it.
SCRIPT_NEEDS: Mapping[str, str] = MappingProxyType(
    {"name": "<your name>", "company": "<your company>", "phone": "<your number>"}
)


def check_in_value(outcome: Outcome, record: ProspectRecord) -> str:
    """Button payload: the outcome, the advice it answers (so a double click logs once), the key."""
    advice = record.last_advice.at.isoformat() if record.last_advice else ""
    return f"{outcome.value}|{advice}|{record.key}"


def parse_check_in_value(value: str) -> tuple[Outcome, str, str] | None:
    parts = value.split("|", 2)
    if len(parts) != 3 or parts[0] not in Outcome._value2member_map_:
        return None
    return Outcome(parts[0]), parts[1], parts[2]


def script_gaps(rep: RepProfile) -> list[str]:
    """The profile fields a script speaks that this rep has not set, in the order to set them."""
    return [name for name in SCRIPT_NEEDS if not getattr(rep, name).strip()]


def profile_commands(gaps: Sequence[str]) -> list[str]:
    """The exact command that sets each missing field."""
    return [f"/voicemail me {name} {SCRIPT_NEEDS[name]}" for name in gaps]


def _script_withheld(gaps: Sequence[str]) -> list[str]:
    """What replaces a script that would speak placeholders: the fields and how to set them."""
    return [
        f"Your script needs your {and_list(gaps)}. Set {'it' if len(gaps) == 1 else 'them'}, "
        "then ask me again:",
        *profile_commands(gaps),
    ]


def and_list(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def decision_reply(
    record: ProspectRecord, decision: Decision, rep_zone: tzinfo, *, missing_profile: Sequence[str]
) -> Reply:
    """The decision; `missing_profile` is `script_gaps(rep)`: while it has any, no script."""
    held_back = _do_not_dial_now(decision)
    paragraphs = _warnings_first(decision) if held_back else []
    paragraphs += [reason.why for reason in decision.reasons]
    paragraphs += [_overridden_text(reason) for reason in decision.overridden]
    if not held_back:
        paragraphs += [f"Warning: {warning}" for warning in decision.warnings]
    script = decision.script
    if script is not None and missing_profile:
        paragraphs += _script_withheld(missing_profile)
        script = None
    heading = DO_NOT_DIAL_HEADING if held_back else HEADINGS[decision.action]
    return Reply(
        heading=f"{heading} · {record.label}",
        paragraphs=tuple(paragraphs),
        script=None if script is None else ScriptBlock(script.text, script.seconds),
        facts=_decision_facts(record, decision, rep_zone),
        buttons=() if decision.action is Action.RECYCLE else _check_in_buttons(record, decision),
        footer=sources_footer((*decision.reasons, *decision.overridden)),
        tone=Tone.DECISION,
        subject=record.label,
    )


def sources_footer(reasons: Sequence[Reason]) -> tuple[str, ...]:
    """Each source the reasons cite, by its title, once, with the rules that cite it."""
    rules_of: dict[str, list[str]] = {}
    for reason in reasons:
        for title in titles_of(reason.source):
            rules_of.setdefault(title, []).append(reason.rule)
    return tuple(f"“{title}” ({', '.join(rules)})" for title, rules in rules_of.items())


def _do_not_dial_now(decision: Decision) -> bool:
    """A warning says not to dial now (outside legal hours): it, not the advice, comes first.

    A paused lead is not to be called anyway, so its heading already says so."""
    return decision.action is not Action.RECYCLE and not decision.dial_now


def _warnings_first(decision: Decision) -> list[str]:
    return [*decision.warnings, f"When you call in their hours: {ADVICE[decision.action]}."]


def _overridden_text(reason: Reason) -> str:
    return (
        f"{reason.why} On its own that would mean {ADVICE_AS_NOUN[reason.action]}, "
        "but the reason above comes first."
    )


def _decision_facts(
    record: ProspectRecord, decision: Decision, rep_zone: tzinfo
) -> tuple[Fact, ...]:
    facts = [Fact("Call back", window_text(decision.call_back, rep_zone, record.first_name))]
    if decision.recycle_on:
        facts.append(Fact("Paused until", day_text(decision.recycle_on)))
    if decision.action is Action.RECYCLE:  # no dial: no attempt to count, no time to save
        return tuple(facts)
    facts.append(Fact("Attempt", f"{record.attempts + 1} of this cycle"))
    if decision.seconds_saved:
        facts.append(Fact("Time saved", f"{decision.seconds_saved} s"))
    return tuple(facts)


def _check_in_buttons(record: ProspectRecord, decision: Decision) -> tuple[Button, ...]:
    # Outside calling hours no outcome is the advised one: none is highlighted.
    advised = None if _do_not_dial_now(decision) else ADVISED_OUTCOME.get(decision.action)
    return tuple(
        Button(label, CHECK_IN, check_in_value(outcome, record), primary=outcome is advised)
        for label, outcome in CHECK_IN_BUTTONS
    )


def day_text(day: date) -> str:
    """A date as a rep reads it; with the year, since a pause runs into the next one."""
    return f"{day:%a %d %b %Y}"


def window_text(window: Window, rep_zone: tzinfo, who: str) -> str:
    mine = window.start.astimezone(rep_zone)
    mine_end = window.end.astimezone(rep_zone)
    text = f"{mine:%a %d %b}, {mine:%H:%M}-{mine_end:%H:%M} your time"
    if mine.utcoffset() != window.start.utcoffset():
        text += f" ({window.start:%H:%M}-{window.end:%H:%M} for {who})"
    return text


def next_step_text(record: ProspectRecord, rep_zone: tzinfo, today: date) -> str:
    if record.recycle_on and record.recycle_on > today:
        return f"Paused until {day_text(record.recycle_on)}: I'll put them in your queue then."
    if window := record.next_window:
        return f"Next call: {window_text(window, rep_zone, record.first_name)}."
    return "No call planned: ask me again when you next dial."


def check_in_reply(
    record: ProspectRecord, check_in: CheckIn, rep_zone: tzinfo, today: date
) -> Reply:
    paragraphs = [next_step_text(record, rep_zone, today)]
    if check_in.followed is not None:
        paragraphs.append(
            "You followed the advice." if check_in.followed else "Noted: you went another way."
        )
    return Reply(
        heading=f"Logged: {OUTCOME_WORDS[check_in.outcome]} · {record.label}",
        paragraphs=tuple(paragraphs),
        facts=(
            Fact("Attempts this cycle", str(record.attempts)),
            Fact("Voicemails this cycle", str(record.voicemails_left)),
        ),
        tone=Tone.DONE,
    )


def already_logged_reply(record: ProspectRecord, rep_zone: tzinfo, today: date) -> Reply:
    return Reply(
        heading=f"Already logged · {record.label}",
        paragraphs=(
            "You already checked in on this call; I kept the first check-in.",
            next_step_text(record, rep_zone, today),
        ),
        tone=Tone.DONE,
    )


def grammar_error_reply(error: GrammarError) -> Reply:
    return Reply(
        heading="I didn't understand that",
        paragraphs=(
            f"“{error.part}”: {_ending_with_a_stop(error.problem)}",
            f"Usage: /voicemail {error.usage.line}",
            f"Example: /voicemail {error.usage.example}",
        ),
        tone=Tone.ERROR,
    )


def _ending_with_a_stop(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def error_reply(heading: str, problem: str, *, example: str | None = None) -> Reply:
    paragraphs = [problem]
    if example:
        paragraphs.append(f"Example: /voicemail {example}")
    return Reply(heading=heading, paragraphs=tuple(paragraphs), tone=Tone.ERROR)


def help_reply() -> Reply:
    return Reply(
        heading="Voicemail Coach: what you can ask",
        paragraphs=tuple(
            f"/voicemail {u.line}\n    {u.meaning}. Example: /voicemail {u.example}"
            for u in USAGE.values()
        ),
    )


def queue_reply(
    due: Iterable[ProspectRecord], recycles: Iterable[ProspectRecord], rep_zone: tzinfo
) -> Reply:
    lines = queue_lines(due, recycles, rep_zone)
    return Reply(
        heading=f"Your queue: {len(lines)} to call",
        paragraphs=tuple(lines) or ("Nothing due today. Ask me when you hit a voicemail.",),
    )


def queue_lines(
    due: Iterable[ProspectRecord], recycles: Iterable[ProspectRecord], rep_zone: tzinfo
) -> list[str]:
    """One line per prospect to call: call-backs due with their windows, then overdue recycles."""
    # A recycled lead's next window falls on its recycle date: one line for it, not two.
    recycling = {record.key: record for record in recycles}
    lines: list[str] = []
    for record in due:
        if window := record.next_window:
            lines.append(
                f"{record.label}: {window_text(window, rep_zone, record.first_name)}"
                + (f" ({_pause_ended(record)})" if recycling.pop(record.key, None) else "")
            )
    lines += [
        f"{record.label}: {_pause_ended(record)}, start a new series"
        for record in recycling.values()
    ]
    return lines


def _pause_ended(record: ProspectRecord) -> str:
    return (
        "pause ended" if record.recycle_on is None else f"pause ended {day_text(record.recycle_on)}"
    )


def home_reply(
    queue: Sequence[str],
    coming_back: Iterable[ProspectRecord],
    numbers: Numbers,
    week_start: date,
) -> Reply:
    """The rep's day at a glance: what to call today, who comes back soon, this week's numbers."""
    returning = [
        f"{record.label}: back on {record.recycle_on:%a %d %b}"
        for record in coming_back
        if record.recycle_on is not None
    ]
    due = (
        f"Your queue today: {len(queue)} to call\n" + "\n".join(f"• {line}" for line in queue)
        if queue
        else "Your queue today: nothing due. Ask me when you hit a voicemail."
    )
    back = (
        "Paused leads coming back this week:\n" + "\n".join(f"• {line}" for line in returning)
        if returning
        else "Paused leads coming back this week: none."
    )
    return Reply(
        heading="Your day",
        paragraphs=(
            due,
            back,
            f"The numbers count your check-ins since Monday {week_start:%d %b}, your time.",
        ),
        facts=numbers_facts(numbers, " this week"),
    )


def form_error_reply(errors: Mapping[str, str]) -> Reply:
    """A form that was not accepted: each field's problem, and nothing was stored."""
    return Reply(
        heading="Please check the form",
        paragraphs=(*errors.values(), "Nothing was saved."),
        tone=Tone.ERROR,
        field_errors=MappingProxyType(dict(errors)),
    )


def history_reply(record: ProspectRecord, log: Sequence[CheckIn], rep_zone: tzinfo) -> Reply:
    facts = [
        Fact("Relationship", _relationship_text(record)),
        Fact(
            "This cycle",
            f"{_count(record.attempts, 'dial')}, {_count(record.voicemails_left, 'voicemail')}",
        ),
    ]
    if record.open_followup:
        facts.append(Fact("Waiting on", record.open_followup))
    if record.last_conversation:
        facts.append(Fact("Last spoke", day_text(record.last_conversation)))
    if record.recycle_on:
        facts.append(Fact("Paused until", day_text(record.recycle_on)))
    return Reply(
        heading=f"History · {record.label}",
        facts=tuple(facts),
        paragraphs=tuple(_log_line(c, rep_zone) for c in log) or ("No calls logged yet.",),
    )


def _relationship_text(record: ProspectRecord) -> str:
    if record.relationship is Relationship.REFERRED and record.referred_by:
        return f"referred by {record.referred_by}"
    return record.relationship.value


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _log_line(check_in: CheckIn, rep_zone: tzinfo) -> str:
    """One call: when, what happened, how it compares with the advice, and the rep's note."""
    line = (
        f"{check_in.at.astimezone(rep_zone):%a %d %b %Y %H:%M}: {OUTCOME_WORDS[check_in.outcome]}"
    )
    if check_in.followed:
        line += ", as advised"
    elif check_in.followed is False and check_in.advice is not None:
        line += f", though the advice was: {ADVICE[check_in.advice.action]}"
    return line + (f". Note: {check_in.note}" if check_in.note else "")


def profile_reply(rep: RepProfile, changed: str | None = None) -> Reply:
    shown = (
        ("Name", rep.name),
        ("Company", rep.company),
        ("Phone", rep.phone),
        ("Pitch", rep.pitch),
        ("Time zone", rep.timezone or "(not set: times are in UTC)"),
        ("Morning nudge", nudge_text(rep.nudge)),
        ("Role", rep.role.value),
    )
    advice = _profile_advice(script_gaps(rep))
    if changed == "nudge":
        advice = (_nudge_advice(rep.nudge),)
    return Reply(
        heading="Your profile" if changed is None else f"Saved your {_field_words(changed)}",
        facts=tuple(Fact(label, value or "(not set)") for label, value in shown),
        paragraphs=advice,
        tone=Tone.INFO if changed is None else Tone.DONE,
    )


def nudge_text(nudge: str) -> str:
    if nudge == NUDGE_OFF:
        return "off"
    return f"{nudge} your time, on business days with something due"


def _nudge_advice(nudge: str) -> str:
    if nudge == NUDGE_OFF:
        return "No more morning nudges. Turn them back on with /voicemail me nudge 08:00"
    return (
        f"Each business morning at {nudge} your time I'll send what is due, "
        "when something is. Stop them with /voicemail me nudge off"
    )


def _field_words(field: str) -> str:
    return {"timezone": "time zone", "nudge": "nudge time"}.get(field, field)


def _profile_advice(gaps: Sequence[str]) -> tuple[str, ...]:
    if gaps:
        return (f"Your scripts still need your {and_list(gaps)}:", *profile_commands(gaps))
    return (
        "Your scripts use these. Change one with /voicemail me <field> <value>, "
        "for example /voicemail me phone +1 555 010 0100",
    )


def settings_reply(team: TeamConfig, changed: str | None = None) -> Reply:
    """Every setting with the value in force, each under the name `settings <name>` takes."""
    heading = "Team settings" if changed is None else f"Saved: {changed.replace('_', '-')}"
    return Reply(
        heading=heading if team.team == DEFAULT_TEAM else f"{heading} · {team.title}",
        facts=(
            Fact("playbook", team.playbook),
            *_setting_facts(team),
            Fact("digest", DIGEST_WORDS[team.digest]),
        ),
        paragraphs=(
            f"Managers change one with /voicemail settings <name> <value>, "
            f"for example /voicemail {SETTING_EXAMPLES['min_gap']}",
            "Script wordings are not set in chat: they are the `settings.scripts` "
            "of the `decide` JSON.",
        ),
        tone=Tone.INFO if changed is None else Tone.DONE,
    )


def _setting_facts(team: TeamConfig) -> list[Fact]:
    values = team.settings.as_mapping()
    facts = []
    for name in SETTING_NAMES:
        if name == "min_gap" and values[name] is None:
            own = PLAYBOOKS[team.playbook].min_gap
            text = f"{own} (the {team.playbook} playbook's own)"
        elif name == "scripts":
            custom = ", ".join(kind.value for kind in team.settings.scripts)
            text = f"your team's for {custom}, built in for the rest" if custom else "built in"
        else:
            text = str(values[name])
        facts.append(Fact(name.replace("_", "-"), text))
    return facts


DIGEST_WORDS: Mapping[DigestCadence, str] = MappingProxyType(
    {
        DigestCadence.DAILY: "daily: each business morning, the business day before",
        DigestCadence.WEEKLY: "weekly: Monday mornings, the last 7 days",
        DigestCadence.BOTH: "daily and weekly: each business morning, and the week on Mondays",
        DigestCadence.OFF: "off: no digests are sent",
    }
)


def team_added_reply(
    team: TeamConfig,
    added: Sequence[str],
    moved: Sequence[tuple[str, str]],
    already: Sequence[str],
) -> Reply:
    """What `team add` did: who joined, who came from another manager's team, who was there."""
    paragraphs = []
    if added:
        paragraphs.append(f"Added: {', '.join(added)}.")
    paragraphs += [f"{name}: moved from {title}." for name, title in moved]
    if already:
        paragraphs.append(f"Already on {team.title}: {', '.join(already)}.")
    paragraphs.append(
        "Their numbers count in your digests from now on. See the team with /voicemail team members"
    )
    return Reply(
        heading=f"{team.title}: {_count(len(added), 'rep')} added",
        paragraphs=tuple(paragraphs),
        tone=Tone.DONE,
    )


def team_removed_reply(removed: Sequence[str], not_on: Sequence[str]) -> Reply:
    paragraphs = []
    if removed:
        paragraphs.append(f"Removed: {', '.join(removed)}. They are on no team now.")
    if not_on:
        paragraphs.append(f"Not on your team, so left as they are: {', '.join(not_on)}.")
    return Reply(
        heading=f"{_count(len(removed), 'rep')} removed from your team",
        paragraphs=tuple(paragraphs),
        tone=Tone.DONE if removed else Tone.INFO,
    )


def no_team_reply() -> Reply:
    return Reply(
        heading="You have no team yet",
        paragraphs=(
            "Until you add reps, /voicemail team shows everyone not on a team.",
            f"Add reps with /voicemail {USAGE['team add'].example}",
        ),
    )


def members_reply(teams: Sequence[tuple[TeamConfig, Sequence[RepProfile]]]) -> Reply:
    """Each team the manager manages: its reps by name (or id), and when its digest comes."""
    paragraphs = []
    facts = []
    for team, reps in teams:
        names = sorted((rep.name or rep.user_id for rep in reps), key=str.casefold)
        listed = "\n".join(f"• {name}" for name in names) if names else "no reps yet"
        paragraphs.append(f"{team.title}, {_count(len(names), 'rep')}:\n{listed}")
        facts.append(Fact(f"Digest of {team.title}", DIGEST_WORDS[team.digest]))
    paragraphs.append(
        "Change it with /voicemail team add <rep> or team remove <rep>; "
        "the digest with /voicemail settings digest daily|weekly|both|off"
    )
    first = teams[0][0]
    return Reply(
        heading=first.title if len(teams) == 1 else "Your teams",
        paragraphs=tuple(paragraphs),
        facts=tuple(facts),
    )


def numbers_facts(numbers: Numbers, suffix: str = "") -> tuple[Fact, ...]:
    """The counts, each with its share; a share of nothing is left out, not shown as n/a."""
    voicemails = str(numbers.voicemails)
    if numbers.voicemails:
        voicemails += f" (about {max(1, round(numbers.voicemail_minutes))} min spent)"
    callbacks = str(numbers.callbacks)
    if numbers.callback_rate is not None:
        callbacks += f" ({percent(numbers.callback_rate)} of voicemails)"
    followed = "no advice checked in yet"
    if numbers.followed_rate is not None:
        followed = (
            f"{numbers.advice_followed} of {numbers.advice_given} "
            f"({percent(numbers.followed_rate)})"
        )
    return (
        Fact(f"Dials{suffix}", str(numbers.dials)),
        Fact(f"Connects{suffix}", str(numbers.connects)),
        Fact(f"Voicemails{suffix}", voicemails),
        Fact(f"Callbacks{suffix}", callbacks),
        Fact(f"Advice followed{suffix}", followed),
    )


def export_reply(document: dict[str, Any]) -> Reply:
    return Reply(
        heading="Your data",
        paragraphs=(json.dumps(document, indent=2, ensure_ascii=False),),
    )


def forget_me_question() -> Reply:
    return Reply(
        heading="Erase all your data?",
        paragraphs=(
            "This erases your profile, every prospect and every check-in you logged. "
            "It cannot be undone.",
            "To go ahead, send `/voicemail forget me confirm`.",
        ),
        tone=Tone.ERROR,
    )


def forget_me_done() -> Reply:
    return Reply(
        heading="Your data is erased",
        paragraphs=("Your profile, prospects and check-ins are gone from this service.",),
        tone=Tone.DONE,
    )
