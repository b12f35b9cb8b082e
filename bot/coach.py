"""The coach: a neutral Request in, a neutral Reply out, the store and the policy between."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot import replies
from bot.checkins import apply_check_in
from bot.commands import (
    SETTING_EXAMPLES,
    AskDecision,
    ChangeSettings,
    Command,
    EditProfile,
    Export,
    Facts,
    Forget,
    ForgetMe,
    GrammarError,
    Help,
    LogOutcome,
    ProspectRef,
    ShowHistory,
    ShowQueue,
    ShowTeam,
    parse,
)
from bot.digests import count
from bot.forms import FormErrors, parse_decision_form
from bot.records import (
    Advice,
    CheckIn,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
    prospect_key,
)
from bot.store import Store
from bot.store.base import Change
from bot.types import Actor, Reply, Request
from policy import Decision, InvalidInput, decide
from policy.inputs import parse_phone, parse_timezone

log = logging.getLogger("voicemail_coach.coach")

Clock = Callable[[], datetime]
DIGEST_DAYS = 7
COMING_BACK_DAYS = 7


def utc_now() -> datetime:
    return datetime.now(UTC)


# Erases what one adapter keeps about a rep (tenant, user id), when the rep asks to be forgotten.
Eraser = Callable[[str, str], Awaitable[None]]


class Coach:
    def __init__(
        self, store: Store, clock: Clock = utc_now, erasers: Sequence[Eraser] = ()
    ) -> None:
        self.store = store
        self.clock = clock
        self.erasers = tuple(erasers)

    async def handle(self, request: Request) -> Reply:
        if request.button is not None:
            return await self._press(request)
        if request.form is not None:
            return await self.submit_form(request)
        try:
            command = parse(request.text or "")
        except GrammarError as error:
            log.info(
                "grammar_error", extra={"command": error.command, "tenant": request.actor.tenant}
            )
            return replies.grammar_error_reply(error)
        log.info(
            "command", extra={"command": type(command).__name__, "tenant": request.actor.tenant}
        )
        return await self.run(command, request)

    def check_form(self, form: Mapping[str, str]) -> Reply | None:
        """The error reply (with field_errors) if the decision form is not acceptable, else None.

        Pure and quick: an adapter that must answer within a deadline can check first.
        """
        try:
            parse_decision_form(form)
        except FormErrors as error:
            return replies.form_error_reply(error.errors)
        return None

    async def submit_form(self, request: Request) -> Reply:
        """The decision form: the same path as the text command, or field errors and no writes."""
        assert request.form is not None
        try:
            command = parse_decision_form(request.form)
        except FormErrors as error:
            log.info(
                "form_error",
                extra={"tenant": request.actor.tenant, "fields": ",".join(sorted(error.errors))},
            )
            return replies.form_error_reply(error.errors)
        log.info("command", extra={"command": "AskDecisionForm", "tenant": request.actor.tenant})
        return await self.run(command, request)

    async def run(self, command: Command, request: Request) -> Reply:
        actor = request.actor
        match command:
            case AskDecision():
                return await self.ask(actor, command.prospect, command.facts)
            case LogOutcome():
                key = request.idempotency_key or uuid.uuid4().hex
                return await self.log_outcome(
                    actor, command.prospect, command.outcome, command.note, key
                )
            case ShowQueue():
                return await self.queue(actor)
            case ShowHistory():
                return await self.history(actor, command.prospect)
            case EditProfile():
                return await self.edit_profile(actor, command)
            case ShowTeam():
                return await self.team(actor)
            case ChangeSettings():
                return await self.change_settings(actor, command)
            case Forget():
                return await self.forget(actor, command.prospect)
            case ForgetMe():
                return await self.forget_me(actor, confirmed=command.confirmed)
            case Export():
                return replies.export_reply(
                    await self.store.export_rep(actor.tenant, actor.user_id)
                )
            case Help():
                return replies.help_reply()

    async def profile(self, actor: Actor) -> RepProfile:
        """The stored profile, with gaps filled from the chat platform's profile."""
        return _merged_profile(actor, await self.store.get_rep(actor.tenant, actor.user_id))

    async def _saved_profile(self, actor: Actor) -> RepProfile:
        """The profile as `profile` gives it, stored when the platform added something."""
        return await self.store.change_rep(
            actor.tenant, actor.user_id, lambda stored: _merged_profile(actor, stored)
        )

    async def ask(self, actor: Actor, who: ProspectRef, facts: Facts) -> Reply:
        now = self.clock()
        key = prospect_key(who.name, who.company)
        rep, known = await asyncio.gather(  # one round trip to the store, not two
            self._saved_profile(actor), self.store.get_prospect(actor.tenant, actor.user_id, key)
        )
        team = await self.store.get_team(actor.tenant, rep.team)

        def advise(found: ProspectRecord | None) -> Change[Decision]:
            record = _with_facts(found or _new_prospect(actor, who), facts)
            decision = decide(
                rep=rep.as_policy_rep(),
                prospect=record.as_policy_prospect(),
                history=record.as_policy_history(),
                now=now,
                playbook=team.playbook,
                settings=team.settings,
            )
            advice = Advice(decision.action, decision.rule, now)
            return Change(replace(record, last_advice=advice), decision)

        changed = await self.store.change_prospect(
            actor.tenant, actor.user_id, key, advise, known=known
        )
        assert changed is not None, "a change without a check-in is always written"
        decision = changed.result
        log.info(
            "decision",
            extra={"tenant": actor.tenant, "action": decision.action.value, "rule": decision.rule},
        )
        missing = replies.script_gaps(rep)
        return replies.decision_reply(changed.record, decision, _zone(rep), missing_profile=missing)

    async def log_outcome(
        self, actor: Actor, who: ProspectRef, outcome: Outcome, note: str, key: str
    ) -> Reply:
        key_of_prospect = prospect_key(who.name, who.company)
        return await self._check_in(actor, key_of_prospect, outcome, note, key, new=who)

    async def _press(self, request: Request) -> Reply:
        assert request.button is not None
        parsed = replies.parse_check_in_value(request.button.value)
        if request.button.action_id != replies.CHECK_IN or parsed is None:
            return replies.error_reply("Unknown button", "That button is not one I know.")
        outcome, advice_at, key = parsed
        actor = request.actor
        once_key = f"{actor.user_id}:{key}:{advice_at}" if advice_at else request.idempotency_key
        return await self._check_in(actor, key, outcome, "", once_key or uuid.uuid4().hex)

    async def _check_in(
        self,
        actor: Actor,
        prospect: str,
        outcome: Outcome,
        note: str,
        key: str,
        *,
        new: ProspectRef | None = None,
    ) -> Reply:
        """Log the outcome on the prospect keyed `prospect`; a `new` one is made if it is not
        stored yet, else an unknown prospect is an error (a button on a forgotten one)."""
        now = self.clock()
        rep, known = await asyncio.gather(  # one round trip to the store, not two
            self._saved_profile(actor),
            self.store.get_prospect(actor.tenant, actor.user_id, prospect),
        )
        team = await self.store.get_team(actor.tenant, rep.team)

        def log_call(found: ProspectRecord | None) -> Change[CheckIn]:
            if found is not None:
                record = found
            elif new is not None:
                record = _new_prospect(actor, new)
            else:
                raise _ProspectGone
            updated, check_in = apply_check_in(
                record, outcome, now, rep=rep, team=team, note=note, key=key
            )
            return Change(updated, check_in, check_in)

        zone = _zone(rep)
        today = now.astimezone(zone).date()
        try:
            changed = await self.store.change_prospect(
                actor.tenant, actor.user_id, prospect, log_call, known=known
            )
        except _ProspectGone:
            return replies.error_reply(
                "Prospect not found",
                "I have no such prospect of yours; it may have been forgotten.",
            )
        if changed is None:
            current = await self.store.get_prospect(actor.tenant, actor.user_id, prospect)
            if current is None:
                return replies.error_reply("Prospect not found", "That prospect was forgotten.")
            return replies.already_logged_reply(current, zone, today)
        log.info("check_in", extra={"tenant": actor.tenant, "outcome": outcome.value})
        return replies.check_in_reply(changed.record, changed.result, zone, today)

    async def queue(self, actor: Actor) -> Reply:
        zone = _zone(await self.profile(actor))
        due, recycles = await self._due(actor, zone, recycles_ahead=0)
        return replies.queue_reply(due, recycles, zone)

    async def _due(
        self, actor: Actor, zone: tzinfo, *, recycles_ahead: int
    ) -> tuple[list[ProspectRecord], list[ProspectRecord]]:
        """Call-backs due by the end of the rep's today, and recycles due up to `recycles_ahead`
        days after it."""
        today = self.clock().astimezone(zone).date()
        end_of_day = datetime.combine(today, time.max, tzinfo=zone)
        due = await self.store.callbacks_due(actor.tenant, actor.user_id, end_of_day)
        until = today + timedelta(days=recycles_ahead)
        return due, await self.store.recycles_due(actor.tenant, actor.user_id, until)

    async def home(self, actor: Actor) -> Reply:
        """The rep's day: today's queue, paused leads coming back this week, this week's numbers."""
        rep = await self.profile(actor)
        zone = _zone(rep)
        today = self.clock().astimezone(zone).date()
        due, recycles = await self._due(actor, zone, recycles_ahead=COMING_BACK_DAYS)
        overdue = [r for r in recycles if r.recycle_on is not None and r.recycle_on <= today]
        coming_back = [r for r in recycles if r.recycle_on is not None and r.recycle_on > today]
        monday = today - timedelta(days=today.weekday())
        since = datetime.combine(monday, time.min, tzinfo=zone)
        team_week = await self.store.team_check_ins(
            actor.tenant, rep.team, since, since + timedelta(days=7)
        )
        mine = (check_in for check_in in team_week if check_in.rep_id == actor.user_id)
        return replies.home_reply(
            replies.queue_lines(due, overdue, zone), coming_back, count(mine), monday
        )

    async def history(self, actor: Actor, who: ProspectRef) -> Reply:
        key = prospect_key(who.name, who.company)
        record = await self.store.get_prospect(actor.tenant, actor.user_id, key)
        if record is None:
            return _unknown_prospect(who)
        entries = await self.store.prospect_log(actor.tenant, actor.user_id, key)
        return replies.history_reply(record, entries, _zone(await self.profile(actor)))

    async def edit_profile(self, actor: Actor, command: EditProfile) -> Reply:
        rep = await self.profile(actor)
        if command.field is None:
            return replies.profile_reply(rep)
        try:
            value = _profile_value(command.field, command.value)
        except InvalidInput as error:
            return replies.error_reply(
                f"Your {command.field} was not saved",
                error.problem,
                example=f"me {command.field} ...",
            )
        changes: dict[str, Any] = {command.field: value}
        rep = await self.store.change_rep(
            actor.tenant,
            actor.user_id,
            lambda stored: replace(_merged_profile(actor, stored), **changes),
        )
        return replies.profile_reply(rep, changed=command.field)

    async def team(self, actor: Actor) -> Reply:
        if not actor.role.sees_team:
            return _managers_only("team")
        rep = await self.profile(actor)
        until = self.clock()
        check_ins = await self.store.team_check_ins(
            actor.tenant, rep.team, until - timedelta(days=DIGEST_DAYS), until
        )
        reps = await self.store.reps_in_team(actor.tenant, rep.team)
        return replies.team_reply(count(check_ins), len(reps), DIGEST_DAYS)

    async def change_settings(self, actor: Actor, command: ChangeSettings) -> Reply:
        rep = await self.profile(actor)
        team = await self.store.get_team(actor.tenant, rep.team)
        if command.name is None:
            return replies.settings_reply(team)
        if not actor.role.sees_team:
            return _managers_only("settings")
        name, value = command.name, command.value
        try:
            team = await self.store.change_team(
                actor.tenant, rep.team, lambda stored: _with_setting(stored, name, value)
            )
        except InvalidInput as error:
            return replies.error_reply(
                "Setting not saved", error.problem, example=SETTING_EXAMPLES[command.name]
            )
        log.info("settings_changed", extra={"tenant": actor.tenant, "setting": command.name})
        return replies.settings_reply(team, changed=command.name)

    async def forget(self, actor: Actor, who: ProspectRef) -> Reply:
        key = prospect_key(who.name, who.company)
        if not await self.store.forget_prospect(actor.tenant, actor.user_id, key):
            return _unknown_prospect(who)
        return Reply(heading=f"Forgotten: {who.name} @ {who.company}", paragraphs=(
            "The prospect and its call log are erased.",))  # fmt: skip

    async def forget_me(self, actor: Actor, *, confirmed: bool) -> Reply:
        if not confirmed:
            return replies.forget_me_question()
        await self.store.forget_rep(actor.tenant, actor.user_id)
        for erase in self.erasers:
            await erase(actor.tenant, actor.user_id)
        log.info("rep_forgotten", extra={"tenant": actor.tenant})
        return replies.forget_me_done()


class _ProspectGone(Exception):
    """A check-in's prospect is not stored (forgotten since its buttons were sent)."""


def _new_prospect(actor: Actor, who: ProspectRef) -> ProspectRecord:
    key = prospect_key(who.name, who.company)
    return ProspectRecord(actor.tenant, actor.user_id, key, who.name, who.company)


def _merged_profile(actor: Actor, stored: RepProfile | None) -> RepProfile:
    """The stored profile with its gaps filled from the chat platform's profile."""
    rep = stored or RepProfile(actor.tenant, actor.user_id)
    return replace(
        rep,
        name=rep.name or actor.display_name,
        timezone=rep.timezone or actor.timezone,
        phone=rep.phone or actor.phone or "",
        role=actor.role,
    )


def _with_setting(team: TeamConfig, name: str, value: str) -> TeamConfig:
    """The team with one setting changed; InvalidInput if the value is not accepted."""
    if name == "playbook":
        return replace(team, playbook=value)
    return replace(team, settings=team.settings.changed(name, value))


def _with_facts(record: ProspectRecord, facts: Facts) -> ProspectRecord:
    """Remember what the rep just told us; what they did not mention stays as it was."""
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


def _profile_value(field: str, raw: str) -> str:
    if field == "phone":
        return parse_phone("phone", raw)
    if field == "timezone":
        return parse_timezone("timezone", raw) or ""
    return raw  # the grammar has bounded its length


def _zone(rep: RepProfile) -> tzinfo:
    return ZoneInfo(rep.timezone) if rep.timezone else UTC


def _unknown_prospect(who: ProspectRef) -> Reply:
    return replies.error_reply(
        "Prospect not found",
        f"You have no prospect {who.name} @ {who.company}. Ask for advice on it first.",
        example=f"{who.name} @ {who.company}",
    )


def _managers_only(command: str) -> Reply:
    return replies.error_reply(
        "Managers only", f"`{command}` is for managers and admins; ask yours to run it."
    )
