"""The coach: a neutral Request in, a neutral Reply out, the store and the policy between."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot import replies
from bot.charts import digest_chart_async
from bot.checkins import apply_check_in
from bot.commands import (
    SETTING_EXAMPLES,
    AddToTeam,
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
    RemoveFromTeam,
    RepRef,
    ShowHistory,
    ShowMembers,
    ShowQueue,
    ShowTeam,
    parse,
)
from bot.digests import Digest, count, digest_reply, gather_team_digest
from bot.forms import FormErrors, parse_decision_form
from bot.nudges import decision_for
from bot.records import (
    DEFAULT_TEAM,
    Advice,
    CheckIn,
    DigestCadence,
    Outcome,
    ProspectRecord,
    RepProfile,
    TeamConfig,
    prospect_key,
)
from bot.store import Store
from bot.store.base import Change, Decided, DecisionChange, RepChange, T
from bot.types import Actor, Image, Platform, Reply, Request
from policy import Decision, InvalidInput
from policy.inputs import parse_phone, parse_timezone
from policy.limits import MAX_COMPANY, MAX_NAME

log = logging.getLogger("voicemail_coach.coach")

Clock = Callable[[], datetime]
DIGEST_DAYS = 7
WEEKLY = "weekly"  # the period `team` shows: the weekly digest's
COMING_BACK_DAYS = 7


def utc_now() -> datetime:
    return datetime.now(UTC)


# Erases what one adapter keeps about a rep (tenant, user id), when the rep asks to be forgotten.
Eraser = Callable[[str, str], Awaitable[None]]
# Told (tenant, user id) when something that decides when that user's scheduled sends fall due
# has changed: their profile's nudge time, time zone, team, platform or role (or it was
# created), or their team's digest cadence, holidays or managers.
ScheduleChange = Callable[[str, str], Awaitable[None]]
# The profile fields that decide when, and through which adapter, a user's sends go.
SCHEDULE_FIELDS = ("timezone", "nudge", "team", "platform", "role")
# The team settings that decide when its digests and its reps' nudges go.
SCHEDULE_SETTINGS = frozenset({"digest", "holidays_country"})
# A prospect key is `name@company`, casefolded, and casefolding can make a letter three.
MAX_PROSPECT_KEY = 3 * (MAX_NAME + MAX_COMPANY) + 1


class Coach:
    def __init__(
        self,
        store: Store,
        clock: Clock = utc_now,
        erasers: Sequence[Eraser] = (),
        on_schedule_change: ScheduleChange | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.erasers = tuple(erasers)
        self.on_schedule_change = on_schedule_change

    async def handle(self, request: Request, parsed: Command | None = None) -> Reply:
        """The reply to `request`. `parsed` is its text as `parse` reads it, where the adapter
        has already read it (to know whether a manager asks)."""
        if request.button is not None:
            return await self._press(request)
        if request.form is not None:
            return await self.submit_form(request)
        try:
            command = parsed if parsed is not None else parse(request.text or "")
        except GrammarError as error:
            log.info(
                "grammar_error", extra={"command": error.command, "tenant": request.actor.tenant}
            )
            return replies.grammar_error_reply(error)
        if not isinstance(command, AskDecision):  # a decision's own line says it was asked
            log.info(
                "command",
                extra={"command": type(command).__name__, "tenant": request.actor.tenant},
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
            case AddToTeam():
                return await self.add_to_team(actor, command.reps)
            case RemoveFromTeam():
                return await self.remove_from_team(actor, command.reps)
            case ShowMembers():
                return await self.members(actor)
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
        return await self._change_rep(
            actor.tenant, actor.user_id, lambda stored: _merged_profile(actor, stored)
        )

    async def _change_rep(self, tenant: str, user_id: str, change: RepChange) -> RepProfile:
        """store.change_rep, telling the schedule when the change moves the user's sends."""
        before: list[RepProfile | None] = [None]

        def noting_before(stored: RepProfile | None) -> RepProfile:
            before[0] = stored  # the last run's: the one written
            return change(stored)

        after = await self.store.change_rep(tenant, user_id, noting_before)
        if _moves_schedule(before[0], after):
            await self._schedule_changed(tenant, (user_id,))
        return after

    async def _schedule_changed(self, tenant: str, users: Iterable[str]) -> None:
        """Tell the scheduler, once per user. The change is already stored: a hook that fails
        is logged and the reply still says what was saved."""
        if self.on_schedule_change is None:
            return
        for user_id in dict.fromkeys(users):
            try:
                await self.on_schedule_change(tenant, user_id)
            except Exception as error:  # the change is stored: say so, log the failure
                log.warning(
                    "schedule_change_failed",
                    extra={"tenant": tenant, "error": type(error).__name__},
                )

    async def _team_schedule_changed(self, team: TeamConfig) -> None:
        members = await self.store.reps_in_team(team.tenant, team.team)
        await self._schedule_changed(
            team.tenant, (*team.managers, *(rep.user_id for rep in members))
        )

    async def _decide(self, actor: Actor, prospect: str, change: DecisionChange[T]) -> Decided[T]:
        """store.change_decision with the profile as `profile` gives it (stored when the
        platform added something), telling the schedule when that moves the user's sends."""
        decided = await self.store.change_decision(
            actor.tenant,
            actor.user_id,
            prospect,
            lambda stored: _merged_profile(actor, stored),
            change,
        )
        if _moves_schedule(decided.rep_before, decided.rep):
            await self._schedule_changed(actor.tenant, (actor.user_id,))
        return decided

    async def ask(self, actor: Actor, who: ProspectRef, facts: Facts) -> Reply:
        now = self.clock()
        key = prospect_key(who.name, who.company)

        def advise(
            rep: RepProfile, team: TeamConfig, found: ProspectRecord | None
        ) -> Change[Decision]:
            record = _with_facts(found or _new_prospect(actor, who), facts)
            decision = decision_for(record, rep, team, now)
            advice = Advice(decision.action, decision.rule, now)
            return Change(replace(record, last_advice=advice), decision)

        decided = await self._decide(actor, key, advise)
        rep, changed = decided.rep, decided.change
        assert changed is not None, "a change without a check-in is always written"
        decision = changed.result
        log.info(
            "decision",
            extra={
                "tenant": actor.tenant,
                "command": "AskDecision",
                "action": decision.action.value,
                "rule": decision.rule,
            },
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
        if request.button.action_id == replies.ASK:
            return await self._ask_button(request.actor, request.button.value)
        parsed = replies.parse_check_in_value(request.button.value)
        if request.button.action_id != replies.CHECK_IN or parsed is None:
            return replies.error_reply("Unknown button", "That button is not one I know.")
        outcome, advice_at, key = parsed
        actor = request.actor
        once_key = f"{actor.user_id}:{key}:{advice_at}" if advice_at else request.idempotency_key
        return await self._check_in(actor, key, outcome, "", once_key or uuid.uuid4().hex)

    async def _ask_button(self, actor: Actor, key: str) -> Reply:
        """A nudge's button: the full decision on one of the rep's prospects, as `ask` gives
        it, with no new facts."""
        if not _is_prospect_key(key):
            log.info("button_refused", extra={"tenant": actor.tenant, "action": replies.ASK})
            return replies.error_reply("Unknown button", "That button names no prospect I know.")
        record = await self.store.get_prospect(actor.tenant, actor.user_id, key)
        if record is None:
            return replies.error_reply(
                "Prospect not found",
                "I have no such prospect of yours; it may have been forgotten.",
            )
        return await self.ask(actor, ProspectRef(record.name, record.company), Facts())

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

        def log_call(
            rep: RepProfile, team: TeamConfig, found: ProspectRecord | None
        ) -> Change[CheckIn]:
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

        try:
            decided = await self._decide(actor, prospect, log_call)
        except _ProspectGone:
            return replies.error_reply(
                "Prospect not found",
                "I have no such prospect of yours; it may have been forgotten.",
            )
        changed, zone = decided.change, _zone(decided.rep)
        today = now.astimezone(zone).date()
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
        # By rep, not team: a rep moved to another team this week keeps the week's numbers.
        mine = await self.store.rep_check_ins(
            actor.tenant, actor.user_id, since, since + timedelta(days=7)
        )
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
        rep = await self._change_rep(
            actor.tenant,
            actor.user_id,
            lambda stored: replace(_merged_profile(actor, stored), **changes),
        )
        return replies.profile_reply(rep, changed=command.field)

    async def team(self, actor: Actor) -> Reply:
        """The weekly digest of the last 7 days, with its chart, of the team the manager
        manages (the others they manage are named), else of the tenant's default team
        (everyone not on a team)."""
        if not actor.role.sees_team:
            return _managers_only("team")
        teams = await self.store.teams_managed_by(actor.tenant, actor.user_id)
        shown = teams or [await self.store.get_team(actor.tenant, DEFAULT_TEAM)]
        until = self.clock().astimezone(_zone(await self.profile(actor)))
        since = until - timedelta(days=DIGEST_DAYS)
        digest = await gather_team_digest(self.store, shown[0], since, until, WEEKLY)
        reply = digest_reply(digest, await self._chart(actor, digest))
        if len(shown) > 1:
            others = replies.and_list([team.title for team in shown[1:]])
            reply = replace(reply, paragraphs=(*reply.paragraphs, f"You also manage {others}."))
        return reply

    async def _chart(self, actor: Actor, digest: Digest) -> Image | None:
        """The digest's chart; without one if drawing fails: the numbers still go out."""
        try:
            return await digest_chart_async(digest)
        except Exception as error:  # a chart is a picture of the numbers the reply states
            log.warning(
                "chart_failed", extra={"tenant": actor.tenant, "error": type(error).__name__}
            )
            return None

    async def add_to_team(self, actor: Actor, reps: Sequence[RepRef]) -> Reply:
        """Put each rep on the manager's own team (id: the manager's user id), moving them
        off any other; the manager becomes one of its managers. A manager may add themselves:
        one who also dials is counted and nudged like the reps."""
        refused = _refused_reps(actor, reps, "add")
        if refused is not None:
            return refused
        manager = await self._saved_profile(actor)
        team = await self._own_team(actor, manager)
        moves = await asyncio.gather(*(self._move(actor.tenant, ref, team.team) for ref in reps))
        titles = await self._titles(actor.tenant, {old for _, old in moves} - {team.team})
        added = [name for name, old in moves if old != team.team]
        moved = [
            (name, title)
            for name, old in moves
            if old is not None and (title := titles.get(old)) is not None
        ]
        already = [name for name, old in moves if old == team.team]
        log.info(
            "team_changed",
            extra={"tenant": actor.tenant, "added": len(added), "already": len(already)},
        )
        return replies.team_added_reply(team, added, moved, already)

    async def _own_team(self, actor: Actor, manager: RepProfile) -> TeamConfig:
        """The manager's own team with them among its managers, made if it is new: it starts
        with the tenant's default team's playbook, settings and digest."""
        template = await self.store.get_team(actor.tenant, DEFAULT_TEAM)
        label = f"{manager.name}'s team" if manager.name else ""
        added: list[bool] = [False]

        def with_manager(stored: TeamConfig) -> TeamConfig:
            team = stored
            if not stored.managers:  # never set up by `team add`: a new team
                team = replace(
                    stored,
                    playbook=template.playbook,
                    settings=template.settings,
                    digest=template.digest,
                )
            added[0] = actor.user_id not in team.managers
            managers = team.managers if not added[0] else (*team.managers, actor.user_id)
            return replace(team, managers=managers, label=team.label or label)

        team = await self.store.change_team(actor.tenant, actor.user_id, with_manager)
        if added[0]:
            await self._team_schedule_changed(team)
        return team

    async def _move(self, tenant: str, ref: RepRef, team: str) -> tuple[str, str | None]:
        """Put the rep on `team` (making their profile if there is none): their name as the
        manager knows it, and the team they were on (None: they had no profile)."""
        was: list[str | None] = [None]

        def onto_team(stored: RepProfile | None) -> RepProfile:
            was[0] = None if stored is None else stored.team
            return replace(stored or RepProfile(tenant, ref.user_id), team=team)

        rep = await self._change_rep(tenant, ref.user_id, onto_team)
        return rep.name or ref.name or ref.user_id, was[0]

    async def _titles(self, tenant: str, teams: Iterable[str | None]) -> dict[str, str | None]:
        """How each team is named to people; None for the default team (no team at all)."""
        ids = [team for team in teams if team is not None and team != DEFAULT_TEAM]
        configs = await asyncio.gather(*(self.store.get_team(tenant, team) for team in ids))
        return {DEFAULT_TEAM: None} | {config.team: config.title for config in configs}

    async def remove_from_team(self, actor: Actor, reps: Sequence[RepRef]) -> Reply:
        """Move reps on a team the manager manages back to the default team; others are
        left as they are."""
        refused = _refused_reps(actor, reps, "remove")
        if refused is not None:
            return refused
        managed = await self.store.teams_managed_by(actor.tenant, actor.user_id)
        mine = {team.team for team in managed}
        results = await asyncio.gather(*(self._remove(actor.tenant, ref, mine) for ref in reps))
        removed = [name for name, done in results if done]
        not_on = [name for name, done in results if not done]
        log.info("team_changed", extra={"tenant": actor.tenant, "removed": len(removed)})
        return replies.team_removed_reply(removed, not_on)

    async def _remove(self, tenant: str, ref: RepRef, teams: set[str]) -> tuple[str, bool]:
        def off_team(stored: RepProfile | None) -> RepProfile:
            if stored is None or stored.team not in teams:
                raise _NotOnTeam
            return replace(stored, team=DEFAULT_TEAM)

        try:
            rep = await self._change_rep(tenant, ref.user_id, off_team)
        except _NotOnTeam:
            return ref.name or ref.user_id, False
        return rep.name or ref.name or ref.user_id, True

    async def members(self, actor: Actor) -> Reply:
        if not actor.role.sees_team:
            return _managers_only("team members")
        teams = await self.store.teams_managed_by(actor.tenant, actor.user_id)
        if not teams:
            return replies.no_team_reply()
        reps = await asyncio.gather(
            *(self.store.reps_in_team(actor.tenant, team.team) for team in teams)
        )
        return replies.members_reply(list(zip(teams, reps, strict=True)))

    async def _settings_team(self, actor: Actor) -> TeamConfig:
        """The team whose settings the actor sees and (a manager) changes: a manager's own team
        if they have one, else another they manage, else the team they are on."""
        if actor.role.sees_team:
            managed = await self.store.teams_managed_by(actor.tenant, actor.user_id)
            own = [team for team in managed if team.team == actor.user_id]
            if own or managed:
                return (own or managed)[0]
        rep = await self.profile(actor)
        return await self.store.get_team(actor.tenant, rep.team)

    async def change_settings(self, actor: Actor, command: ChangeSettings) -> Reply:
        team = await self._settings_team(actor)
        if command.name is None:
            return replies.settings_reply(team)
        if not actor.role.sees_team:
            return _managers_only("settings")
        name, value = command.name, command.value
        try:
            team = await self.store.change_team(
                actor.tenant, team.team, lambda stored: _with_setting(stored, name, value)
            )
        except InvalidInput as error:
            return replies.error_reply(
                "Setting not saved", error.problem, example=SETTING_EXAMPLES[command.name]
            )
        log.info("settings_changed", extra={"tenant": actor.tenant, "setting": command.name})
        if name in SCHEDULE_SETTINGS:
            await self._team_schedule_changed(team)
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


class _NotOnTeam(Exception):
    """`team remove` named a rep who is on none of the manager's teams: nothing is written."""


def _refused_reps(actor: Actor, reps: Sequence[RepRef], word: str) -> Reply | None:
    """Managers only; and in Slack and Teams reps are named by mention, since a typed name
    is no user id there."""
    if not actor.role.sees_team:
        return _managers_only(f"team {word}")
    typed = [ref.user_id for ref in reps if not ref.mentioned]
    if typed and actor.platform is not Platform.CONSOLE:
        return replies.error_reply(
            "Name reps with @mentions",
            f"“{typed[0]}” is not a mention. Type @ and pick each rep from the list.",
            example=f"team {word} @Sam Lee",
        )
    return None


def _moves_schedule(before: RepProfile | None, after: RepProfile) -> bool:
    """The profile is new, or a field that decides when its sends go has changed."""
    return before is None or any(
        getattr(before, name) != getattr(after, name) for name in SCHEDULE_FIELDS
    )


def _is_prospect_key(key: str) -> bool:
    """A key as prospect_key makes it (`name@company`, folded), of a bounded length: a
    button's value is typed by nobody, so anything else is refused, not looked up."""
    if not key or len(key) > MAX_PROSPECT_KEY or not key.isprintable():
        return False
    name, at, company = key.partition("@")
    return bool(at and name and company) and prospect_key(name, company) == key


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
        platform=actor.platform.value,
    )


def _with_setting(team: TeamConfig, name: str, value: str) -> TeamConfig:
    """The team with one setting changed; InvalidInput if the value is not accepted."""
    if name == "playbook":
        return replace(team, playbook=value)
    if name == "digest":
        return replace(team, digest=DigestCadence(value))
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
