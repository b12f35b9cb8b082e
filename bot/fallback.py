"""What the bot can still say while its store (Redis: records and the job queue) is down.

A decision needs only the policy: it is answered from what the rep typed, as for a first call
(no history, no saved profile, so no script), saying that history is unavailable, and saves
nothing. Help and a command the grammar refuses need nothing either. Anything that reads or
saves records (a check-in, the queue, settings...) is refused, saying what failed, that nothing
was saved and to try again later, so nothing is half-written.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from bot import replies
from bot.commands import AskDecision, GrammarError, Help, parse
from bot.forms import FormErrors, parse_decision_form
from bot.nudges import decision_for
from bot.records import ProspectRecord, RepProfile, TeamConfig, prospect_key
from bot.types import Actor, Reply, Request, Tone

log = logging.getLogger("voicemail_coach.fallback")


def reply_without_store(request: Request, now: datetime | None = None) -> Reply:
    """The reply to `request` that needs no store: the policy-only decision, help, the
    grammar's error, or the refusal."""
    if request.button is not None:
        return store_down_reply(clicked=True)
    try:
        command = (
            parse_decision_form(request.form) if request.form is not None
            else parse(request.text or "")
        )  # fmt: skip
    except GrammarError as error:
        return replies.grammar_error_reply(error)
    except FormErrors as error:
        return replies.form_error_reply(error.errors)
    if isinstance(command, Help):
        return replies.help_reply()
    if isinstance(command, AskDecision):
        return policy_only_decision(request.actor, command, now or datetime.now(UTC))
    return store_down_reply(clicked=False)


def policy_only_decision(actor: Actor, command: AskDecision, now: datetime) -> Reply:
    """The policy's decision for a prospect as if it were new, with the facts typed now; no
    check-in buttons (a check-in cannot be saved) and no script (the profile cannot be read)."""
    who = command.prospect
    record = _with_facts(
        ProspectRecord(
            actor.tenant, actor.user_id, prospect_key(who.name, who.company), who.name,
            who.company,
        ),
        command,
    )  # fmt: skip
    rep = RepProfile(
        actor.tenant,
        actor.user_id,
        name=actor.display_name,
        timezone=actor.timezone or "",
        platform=actor.platform.value,
    )
    decision = decision_for(record, rep, TeamConfig(actor.tenant), now)
    log.info(
        "decision_without_store",
        extra={"tenant": actor.tenant, "action": decision.action.value, "rule": decision.rule},
    )
    reply = replies.decision_reply(record, decision, _zone(actor), missing_profile=())
    return replace(
        reply,
        paragraphs=(replies.HISTORY_UNAVAILABLE, *reply.paragraphs),
        script=None,
        buttons=(),
    )


def store_down_reply(*, clicked: bool) -> Reply:
    """What failed, that nothing was saved, and to try again later."""
    detail = replies.STORE_DOWN_CLICK if clicked else replies.STORE_DOWN_COMMAND
    return Reply(heading=replies.STORE_DOWN_HEADING, paragraphs=(detail,), tone=Tone.ERROR)


def _with_facts(record: ProspectRecord, command: AskDecision) -> ProspectRecord:
    facts = command.facts
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("relationship", facts.relationship),
            ("referred_by", facts.referred_by),
            ("open_followup", facts.open_followup),
            ("timezone", facts.timezone),
            ("region", facts.region),
        )
        if value is not None
    }
    if facts.new_in_role:
        changes["new_in_role"] = True
    if facts.expecting_response:
        changes["expecting_response"] = True
    return replace(record, **changes)  # type: ignore[arg-type]


def _zone(actor: Actor) -> tzinfo:
    try:
        return ZoneInfo(actor.timezone) if actor.timezone else UTC
    except (ValueError, KeyError):
        return UTC
