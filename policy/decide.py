"""The decision: the playbook's first matching rule, its script, call-back window and warnings."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from policy.legal_hours import RegionHours, legal_hours_for
from policy.model import Action, Decision, History, Prospect, Reason, Rep, Script, Window
from policy.playbooks import DEFAULT_PLAYBOOK, playbook_named
from policy.regions import region_of_zone
from policy.rules import Context, Rule
from policy.scripts import render_script
from policy.settings import Settings
from policy.timing import (
    add_business_days,
    call_back_window,
    first_business_day_from,
    prefers_late_window,
)

SECONDS_PER_VOICEMAIL = 45
DAYS_AFTER_MESSAGE = 2
DAYS_AFTER_DIAL = 1


def decide(
    *,
    rep: Rep,
    prospect: Prospect,
    history: History,
    now: datetime,
    playbook: str = DEFAULT_PLAYBOOK,
    settings: Settings | None = None,
) -> Decision:
    """Decide what to do at the beep. `now` must carry a UTC offset."""
    if now.tzinfo is None:
        raise ValueError("now must carry a UTC offset")
    book = playbook_named(playbook)
    settings = settings or Settings()
    zone = prospect_zone(prospect, rep, now)
    local_now = now.astimezone(zone)
    ctx = Context(
        rep=rep,
        prospect=prospect,
        history=history,
        settings=settings,
        min_gap=settings.min_gap if settings.min_gap is not None else book.min_gap,
        today=local_now.date(),
    )
    winner, overridden = _first_match(book.rules, ctx)
    action = winner.action(ctx)
    recycle_on = _recycle_date(action, ctx)
    region = prospect_region(prospect, rep)
    legal = legal_hours_for(region)
    return Decision(
        action=action,
        playbook=book.name,
        reasons=(_reason(winner, ctx),),
        overridden=tuple(_reason(rule, ctx) for rule in overridden),
        script=_script(winner, action, ctx, recycle_on),
        call_back=_call_back(action, ctx, recycle_on, legal, zone, now),
        recycle_on=recycle_on,
        seconds_saved=0 if action.leaves_message else SECONDS_PER_VOICEMAIL,
        warnings=_legal_warnings(local_now, legal, region, zone),
        dial_now=legal.allows(local_now),
    )


def prospect_zone(prospect: Prospect, rep: Rep, now: datetime) -> tzinfo:
    """The prospect's zone, else the rep's, else the offset `now` was given in."""
    name = prospect.timezone or rep.timezone
    if name:
        return _zone(name)
    assert now.tzinfo is not None
    return now.tzinfo


def prospect_region(prospect: Prospect, rep: Rep) -> str:
    """The region given, else the one the prospect's zone lies in; "" where neither is known.

    America/Toronto is CA, America/Chicago US; Europe/Prague is not in the table, so the
    default hours apply there rather than a law of some other country.
    """
    return prospect.region or region_of_zone(prospect.timezone or rep.timezone) or ""


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _first_match(rules: tuple[Rule, ...], ctx: Context) -> tuple[Rule, tuple[Rule, ...]]:
    """The deciding rule, and the later rules that matched too (the conflicts it settled)."""
    matched = [rule for rule in rules if rule.applies(ctx)]
    winner = matched[0]
    overridden = tuple(rule for rule in matched[1:] if not rule.catch_all)
    return winner, overridden


def _reason(rule: Rule, ctx: Context) -> Reason:
    return Reason(rule=rule.id, source=rule.source, why=rule.why(ctx), action=rule.action(ctx))


def _recycle_date(action: Action, ctx: Context) -> date | None:
    if action is Action.RECYCLE:
        return ctx.prospect.recycle_on
    if action is Action.FINAL_VOICEMAIL:
        return ctx.today + timedelta(days=ctx.settings.recycle_days)
    return None


def _script(rule: Rule, action: Action, ctx: Context, recycle_on: date | None) -> Script | None:
    if not action.leaves_message or rule.script is None:
        return None
    return render_script(
        rule.script,
        rep=ctx.rep,
        prospect=ctx.prospect,
        today=ctx.today,
        back_on=recycle_on,
        custom=ctx.settings.scripts,
    )


def _call_back(
    action: Action,
    ctx: Context,
    recycle_on: date | None,
    legal: RegionHours,
    zone: tzinfo,
    now: datetime,
) -> Window:
    return _window_after(
        now=now,
        zone=zone,
        message_left=action.leaves_message,
        recycle_on=recycle_on,
        recent_dials=ctx.history.recent_dials,
        settings=ctx.settings,
        legal=legal,
    )


def next_call_back(
    *,
    rep: Rep,
    prospect: Prospect,
    history: History,
    now: datetime,
    message_left: bool,
    settings: Settings | None = None,
) -> Window:
    """The window for the next dial after one that just happened at `now`.

    `history.recent_dials` should already include that dial; a paused prospect
    (`recycle_on` after today) gets the first window on or after its recycle date.
    """
    zone = prospect_zone(prospect, rep, now)
    today = now.astimezone(zone).date()
    paused = prospect.recycle_on is not None and prospect.recycle_on > today
    return _window_after(
        now=now,
        zone=zone,
        message_left=message_left,
        recycle_on=prospect.recycle_on if paused else None,
        recent_dials=history.recent_dials,
        settings=settings or Settings(),
        legal=legal_hours_for(prospect_region(prospect, rep)),
    )


def _window_after(
    *,
    now: datetime,
    zone: tzinfo,
    message_left: bool,
    recycle_on: date | None,
    recent_dials: tuple[datetime, ...],
    settings: Settings,
    legal: RegionHours,
) -> Window:
    calendar = settings.holidays_country
    today = now.astimezone(zone).date()
    if recycle_on is not None:
        day = first_business_day_from(max(recycle_on, today + timedelta(days=1)), calendar)
        slot = settings.early_window
    else:
        gap = DAYS_AFTER_MESSAGE if message_left else DAYS_AFTER_DIAL
        day = add_business_days(today, gap, calendar)
        late = prefers_late_window((*recent_dials, now), zone)
        slot = settings.late_window if late else settings.early_window
    return call_back_window(day, slot, legal, zone)


def _legal_warnings(
    local_now: datetime, legal: RegionHours, region: str, zone: tzinfo
) -> tuple[str, ...]:
    if legal.allows(local_now):
        return ()
    hours = legal.on(local_now.date())
    when = f"It is {local_now:%H:%M} on {local_now:%A} for the prospect ({zone})"
    if legal.law is None:
        where = region or "their region"
        return (
            f"{when}: outside the default calling hours ({hours}), used because no "
            f"calling-hours law for {where} is in the table. Do not dial now.",
        )
    return (
        f"{when}: outside the legal calling hours for {region} ({hours}, {legal.law}). "
        "Do not dial now.",
    )
