"""The store contract: every test here runs on SQLite and on Redis through the `store` fixture."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import timedelta
from typing import Any

import pytest

from bot.records import DigestCadence, Outcome, ProspectRecord, TeamConfig
from bot.store import Store, export_document
from bot.store.base import Change
from bot.types import Role
from policy import ScriptKind
from tests.bot.store.conftest import (
    MINUS_FIVE,
    NOW,
    OTHER_REP,
    OTHER_TENANT,
    REP,
    TEAM,
    TENANT,
    TODAY,
    checked_in,
    due_at,
    full_prospect,
    prospect,
    rep_profile,
    team_config,
)

HOUR = timedelta(hours=1)

# Rep profiles and teams


async def test_rep_profile_round_trip(store: Store) -> None:
    rep = rep_profile(role=Role.MANAGER, timezone="Europe/London")
    await store.save_rep(rep)
    assert await store.get_rep(TENANT, REP) == rep
    assert await store.get_rep(TENANT, OTHER_REP) is None


async def test_rep_profile_keeps_an_unset_time_zone_apart_from_an_empty_one(store: Store) -> None:
    await store.save_rep(rep_profile(timezone=None))
    await store.save_rep(rep_profile(OTHER_REP, timezone=""))
    assert (await store.get_rep(TENANT, REP)) == rep_profile(timezone=None)
    assert (await store.get_rep(TENANT, OTHER_REP)) == rep_profile(OTHER_REP, timezone="")


async def test_reps_in_team_lists_the_team_by_user_id(store: Store) -> None:
    for user_id, team in (("U-c", TEAM), ("U-a", TEAM), ("U-b", "west")):
        await store.save_rep(rep_profile(user_id, team=team))
    assert [rep.user_id for rep in await store.reps_in_team(TENANT, TEAM)] == ["U-a", "U-c"]
    assert await store.reps_in_team(TENANT, "west") == [rep_profile("U-b", team="west")]
    assert await store.reps_in_team(TENANT, "north") == []


async def test_a_rep_who_changes_team_leaves_the_old_one(store: Store) -> None:
    await store.save_rep(rep_profile(team=TEAM))
    await store.save_rep(rep_profile(team="west"))
    assert await store.reps_in_team(TENANT, TEAM) == []
    assert await store.reps_in_team(TENANT, "west") == [rep_profile(team="west")]


async def test_an_unknown_team_has_the_default_config(store: Store) -> None:
    assert await store.get_team(TENANT, TEAM) == TeamConfig(TENANT, TEAM)


async def test_team_config_round_trip(store: Store) -> None:
    config = team_config()
    await store.save_team(config)
    got = await store.get_team(TENANT, TEAM)
    assert got == config
    assert got.playbook == "rapport-series"
    assert got.settings.final_attempt == 4
    assert got.settings.scripts[ScriptKind.FINAL].startswith("Hi $prospect, $rep here")


async def test_a_reps_nudge_time_and_platform_round_trip(store: Store) -> None:
    rep = rep_profile(nudge="07:30", platform="teams")
    await store.save_rep(rep)
    assert await store.get_rep(TENANT, REP) == rep
    await store.change_rep(TENANT, REP, lambda stored: dataclasses.replace(rep, nudge="off"))
    assert await store.get_rep(TENANT, REP) == dataclasses.replace(rep, nudge="off")
    assert (await store.export_rep(TENANT, REP))["profile"]["nudge"] == "off"
    await store.save_rep(rep_profile(OTHER_REP))
    assert await store.get_rep(TENANT, OTHER_REP) == rep_profile(OTHER_REP, nudge="08:00")


async def test_a_teams_managers_digest_and_label_round_trip(store: Store) -> None:
    config = dataclasses.replace(
        team_config(), managers=("U-dana", "U-eli"), digest=DigestCadence.BOTH, label="Dana's"
    )
    await store.save_team(config)
    assert await store.get_team(TENANT, TEAM) == config
    changed = await store.change_team(
        TENANT, TEAM, lambda team: dataclasses.replace(team, digest=DigestCadence.OFF)
    )
    assert await store.get_team(TENANT, TEAM) == changed
    assert changed.managers == ("U-dana", "U-eli") and changed.label == "Dana's"


async def test_teams_managed_by_lists_the_users_teams_by_id(store: Store) -> None:
    def managed(*managers: str) -> Any:
        return lambda team: dataclasses.replace(team, managers=managers)

    await store.save_team(dataclasses.replace(team_config(team="west"), managers=(REP,)))
    await store.change_team(TENANT, "east", managed(OTHER_REP, REP))
    await store.change_team(TENANT, "north", managed(OTHER_REP))
    await store.change_team(TENANT, "south", managed(f"{REP}-2", f"x{REP}"))  # no prefix matches
    await store.change_team(OTHER_TENANT, "globex", managed(REP))
    assert [team.team for team in await store.teams_managed_by(TENANT, REP)] == ["east", "west"]
    assert [team.team for team in await store.teams_managed_by(TENANT, OTHER_REP)] == [
        "east",
        "north",
    ]
    assert [team.team for team in await store.teams_managed_by(OTHER_TENANT, REP)] == ["globex"]
    assert await store.teams_managed_by(TENANT, "U-nobody") == []
    await store.change_team(TENANT, "west", managed())
    assert await store.teams_managed_by(TENANT, REP) == [await store.get_team(TENANT, "east")]


# Prospects


async def test_prospect_round_trip_keeps_every_field(store: Store) -> None:
    record = full_prospect()
    await store.save_prospect(record)
    got = await store.get_prospect(TENANT, REP, record.key)
    assert got == record
    assert got is not None and got.next_call_start is not None
    assert got.next_call_start.utcoffset() == timedelta(hours=2)
    assert [dial.utcoffset() for dial in got.recent_dials] == [
        timedelta(hours=2),
        timedelta(hours=-5),
    ]


def test_the_full_prospect_builder_sets_every_field() -> None:
    """Guards the round trip above: a field added later must be added to the builder too."""
    record = full_prospect()
    for field in dataclasses.fields(ProspectRecord):
        if field.default is not dataclasses.MISSING:
            assert getattr(record, field.name) != field.default, field.name


async def test_an_unknown_prospect_is_none(store: Store) -> None:
    assert await store.get_prospect(TENANT, REP, "nobody@nowhere") is None


async def test_saving_a_prospect_again_replaces_it(store: Store) -> None:
    await store.save_prospect(prospect(attempts=1))
    await store.save_prospect(prospect(attempts=2))
    got = await store.get_prospect(TENANT, REP, prospect().key)
    assert got is not None and got.attempts == 2


# Check-ins


async def test_a_check_in_writes_the_log_and_the_prospect_together(store: Store) -> None:
    updated, check_in = checked_in(prospect(), Outcome.LEFT, key="k-1")
    assert await store.record_check_in(updated, check_in) is True
    assert await store.get_prospect(TENANT, REP, updated.key) == updated
    assert await store.prospect_log(TENANT, REP, updated.key) == [check_in]
    assert updated.voicemails_left == 1


async def test_the_same_key_twice_is_stored_once(store: Store) -> None:
    first, first_check_in = checked_in(prospect(), Outcome.LEFT, key="k-1")
    second, second_check_in = checked_in(first, Outcome.NO_ANSWER, NOW + HOUR, key="k-1")
    assert await store.record_check_in(first, first_check_in) is True
    assert await store.record_check_in(second, second_check_in) is False
    assert await store.prospect_log(TENANT, REP, first.key) == [first_check_in]
    assert await store.get_prospect(TENANT, REP, first.key) == first


async def test_an_empty_key_always_writes(store: Store) -> None:
    updated, check_in = checked_in(prospect(), key="")
    assert await store.record_check_in(updated, check_in) is True
    assert await store.record_check_in(updated, check_in) is True
    assert await store.prospect_log(TENANT, REP, updated.key) == [check_in, check_in]


async def test_idempotency_keys_are_per_tenant(store: Store) -> None:
    ours, our_check_in = checked_in(prospect(), key="k-1")
    theirs, their_check_in = checked_in(prospect(tenant=OTHER_TENANT), key="k-1")
    assert await store.record_check_in(ours, our_check_in) is True
    assert await store.record_check_in(theirs, their_check_in) is True
    assert await store.prospect_log(OTHER_TENANT, REP, theirs.key) == [their_check_in]


async def test_the_log_is_newest_first_and_limited(store: Store) -> None:
    record = prospect()
    check_ins = [checked_in(record, at=NOW + timedelta(hours=hour))[1] for hour in range(5)]
    for check_in in random.Random(7).sample(check_ins, len(check_ins)):
        await store.record_check_in(record, check_in)
    assert await store.prospect_log(TENANT, REP, record.key, limit=3) == check_ins[:1:-1]
    assert await store.prospect_log(TENANT, REP, record.key) == check_ins[::-1]


async def test_the_log_orders_check_ins_at_the_same_moment_newest_recorded_first(
    store: Store,
) -> None:
    record = prospect()
    first = checked_in(record, Outcome.NO_ANSWER)[1]
    second = checked_in(record, Outcome.LEFT)[1]
    await store.record_check_in(record, first)
    await store.record_check_in(record, second)
    assert await store.prospect_log(TENANT, REP, record.key) == [second, first]


# Due call-backs and recycles


async def test_callbacks_due_by_a_moment_earliest_first(store: Store) -> None:
    late = due_at(prospect("Late Lou", "Acme"), NOW + timedelta(hours=2))
    overdue = due_at(prospect("Old Olga", "Acme"), NOW - timedelta(days=1))
    exactly = due_at(prospect("Edge Ed", "Acme"), NOW + timedelta(days=1))
    later = due_at(prospect("Next Ned", "Acme"), NOW + timedelta(days=1, seconds=1))
    never = due_at(prospect("No Nora", "Acme"), None)
    for record in (late, overdue, exactly, later, never):
        await store.save_prospect(record)
    assert await store.callbacks_due(TENANT, REP, NOW + timedelta(days=1)) == [
        overdue,
        late,
        exactly,
    ]


async def test_callbacks_due_compares_moments_across_zone_offsets(store: Store) -> None:
    berlin = due_at(prospect("Berlin Bo", "Acme"), full_prospect().next_call_start)
    await store.save_prospect(berlin)
    assert berlin.next_call_start is not None
    assert await store.callbacks_due(TENANT, REP, berlin.next_call_start) == [berlin]
    before = berlin.next_call_start - timedelta(microseconds=1)
    assert await store.callbacks_due(TENANT, REP, before.astimezone(MINUS_FIVE)) == []


async def test_a_prospect_leaves_the_callbacks_when_resaved_without_one(store: Store) -> None:
    record = due_at(prospect(), NOW - timedelta(hours=1))
    await store.save_prospect(record)
    await store.save_prospect(due_at(record, None))
    assert await store.callbacks_due(TENANT, REP, NOW) == []


async def test_a_moved_call_back_is_due_at_its_new_time(store: Store) -> None:
    record = due_at(prospect(), NOW - timedelta(hours=1))
    await store.save_prospect(record)
    moved = due_at(record, NOW + timedelta(days=2))
    await store.save_prospect(moved)
    assert await store.callbacks_due(TENANT, REP, NOW) == []
    assert await store.callbacks_due(TENANT, REP, NOW + timedelta(days=3)) == [moved]


async def test_a_check_in_updates_the_callbacks(store: Store) -> None:
    updated, check_in = checked_in(prospect(), Outcome.NO_ANSWER, key="k-1")
    await store.record_check_in(updated, check_in)
    assert updated.next_call_start is not None
    assert await store.callbacks_due(TENANT, REP, updated.next_call_start) == [updated]
    met, meeting = checked_in(updated, Outcome.MEETING, NOW + timedelta(days=1), key="k-2")
    await store.record_check_in(met, meeting)
    assert met.next_call_start is None
    assert await store.callbacks_due(TENANT, REP, NOW + timedelta(days=30)) == []


async def test_recycles_due_by_a_date_earliest_first(store: Store) -> None:
    on_the_day = prospect("Day Dan", "Acme", recycle_on=TODAY)
    overdue = prospect("Old Olga", "Acme", recycle_on=TODAY - timedelta(days=3))
    tomorrow = prospect("Tom Tim", "Acme", recycle_on=TODAY + timedelta(days=1))
    active = prospect("Live Liv", "Acme", recycle_on=None)
    for record in (on_the_day, overdue, tomorrow, active):
        await store.save_prospect(record)
    assert await store.recycles_due(TENANT, REP, TODAY) == [overdue, on_the_day]


async def test_a_prospect_leaves_the_recycles_when_resaved_without_a_date(store: Store) -> None:
    record = prospect(recycle_on=TODAY)
    await store.save_prospect(record)
    await store.save_prospect(dataclasses.replace(record, recycle_on=None))
    assert await store.recycles_due(TENANT, REP, TODAY + timedelta(days=365)) == []


async def test_a_not_interested_check_in_schedules_a_recycle(store: Store) -> None:
    updated, check_in = checked_in(prospect(), Outcome.NOT_INTERESTED, key="k-1")
    await store.record_check_in(updated, check_in)
    assert updated.recycle_on is not None
    assert await store.recycles_due(TENANT, REP, updated.recycle_on - timedelta(days=1)) == []
    assert await store.recycles_due(TENANT, REP, updated.recycle_on) == [updated]


# Team check-ins


async def test_team_check_ins_by_time_range_and_team_oldest_first(store: Store) -> None:
    ann = prospect("Dana Lee", "Initech")
    bob = prospect("Eve Park", "Hooli", rep_id=OTHER_REP)
    at = NOW - timedelta(hours=2)
    inside = [
        checked_in(ann, at=at)[1],
        checked_in(bob, at=at + timedelta(minutes=30))[1],
        checked_in(ann, at=NOW - timedelta(seconds=1))[1],
    ]
    outside = [
        checked_in(ann, at=at - timedelta(seconds=1))[1],
        checked_in(bob, at=NOW)[1],
        checked_in(bob, at=NOW - timedelta(hours=1), team="west")[1],
    ]
    for check_in in [*outside, *inside][::-1]:
        await store.record_check_in(ann if check_in.rep_id == REP else bob, check_in)
    assert await store.team_check_ins(TENANT, TEAM, at, NOW) == inside
    assert await store.team_check_ins(TENANT, "west", at, NOW) == [outside[2]]


async def test_rep_check_ins_by_time_range_and_rep_oldest_first(store: Store) -> None:
    dana, eve = prospect("Dana Lee", "Initech"), prospect("Eve Park", "Hooli")
    bobs = prospect("Dana Lee", "Initech", rep_id=OTHER_REP)
    theirs = prospect("Dana Lee", "Initech", tenant=OTHER_TENANT)
    at = NOW - timedelta(hours=2)
    inside = [
        (dana, checked_in(dana, at=at)[1]),
        (eve, checked_in(eve, at=at + timedelta(minutes=30), team="west")[1]),
        (dana, checked_in(dana, Outcome.LEFT, at=NOW - timedelta(seconds=1))[1]),
    ]
    outside = [
        (dana, checked_in(dana, at=at - timedelta(seconds=1))[1]),
        (eve, checked_in(eve, at=NOW)[1]),
        (bobs, checked_in(bobs, at=NOW - timedelta(hours=1))[1]),
        (theirs, checked_in(theirs, at=NOW - timedelta(hours=1))[1]),
    ]
    for record, check_in in random.Random(3).sample([*inside, *outside], 7):
        await store.record_check_in(record, check_in)
    assert await store.rep_check_ins(TENANT, REP, at, NOW) == [c for _, c in inside]
    assert await store.rep_check_ins(TENANT, OTHER_REP, at, NOW) == [outside[2][1]]
    assert await store.rep_check_ins(OTHER_TENANT, REP, at, NOW) == [outside[3][1]]
    await store.forget_prospect(TENANT, REP, eve.key)
    assert await store.rep_check_ins(TENANT, REP, at, NOW) == [inside[0][1], inside[2][1]]


async def test_rep_check_ins_include_changes_with_a_check_in(store: Store) -> None:
    record, check_in = checked_in(prospect(), Outcome.LEFT, key="k-1")
    await store.change_prospect(TENANT, REP, record.key, lambda _: Change(record, None, check_in))
    assert await store.rep_check_ins(TENANT, REP, NOW, NOW + HOUR) == [check_in]


# Isolation


async def _write_everything(store: Store, tenant: str = TENANT) -> ProspectRecord:
    """A rep with a profile, a team, a prospect due today and paused, and a logged call."""
    await store.save_rep(rep_profile(tenant=tenant))
    await store.save_team(team_config(tenant))
    record = prospect(tenant=tenant)
    updated, check_in = checked_in(record, Outcome.LEFT, NOW - timedelta(days=3), key="k-1")
    updated = dataclasses.replace(updated, recycle_on=TODAY - timedelta(days=1))
    assert await store.record_check_in(updated, check_in)
    return updated


async def test_another_tenant_with_the_same_ids_sees_nothing(store: Store) -> None:
    ours = await _write_everything(store)
    assert await store.get_rep(OTHER_TENANT, REP) is None
    assert await store.reps_in_team(OTHER_TENANT, TEAM) == []
    assert await store.get_team(OTHER_TENANT, TEAM) == TeamConfig(OTHER_TENANT, TEAM)
    assert await store.get_prospect(OTHER_TENANT, REP, ours.key) is None
    assert await store.prospect_log(OTHER_TENANT, REP, ours.key) == []
    assert await store.callbacks_due(OTHER_TENANT, REP, NOW + timedelta(days=365)) == []
    assert await store.recycles_due(OTHER_TENANT, REP, TODAY) == []
    assert await store.team_check_ins(OTHER_TENANT, TEAM, NOW - timedelta(days=30), NOW) == []
    assert await store.rep_check_ins(OTHER_TENANT, REP, NOW - timedelta(days=30), NOW) == []
    assert await store.export_rep(OTHER_TENANT, REP) == export_document(None, [], [])
    assert await store.forget_prospect(OTHER_TENANT, REP, ours.key) is False
    assert await store.get_prospect(TENANT, REP, ours.key) == ours


async def test_two_tenants_with_the_same_ids_keep_their_own_data(store: Store) -> None:
    ours = await _write_everything(store)
    theirs = await _write_everything(store, OTHER_TENANT)
    assert await store.get_prospect(TENANT, REP, ours.key) == ours
    assert await store.get_prospect(OTHER_TENANT, REP, ours.key) == theirs
    assert len(await store.prospect_log(TENANT, REP, ours.key)) == 1
    assert len(await store.prospect_log(OTHER_TENANT, REP, ours.key)) == 1
    assert await store.callbacks_due(TENANT, REP, NOW + timedelta(days=365)) == [ours]


async def test_another_rep_in_the_same_tenant_sees_none_of_the_first_reps_data(
    store: Store,
) -> None:
    ours = await _write_everything(store)
    assert await store.get_prospect(TENANT, OTHER_REP, ours.key) is None
    assert await store.prospect_log(TENANT, OTHER_REP, ours.key) == []
    assert await store.callbacks_due(TENANT, OTHER_REP, NOW + timedelta(days=365)) == []
    assert await store.recycles_due(TENANT, OTHER_REP, TODAY) == []
    assert await store.export_rep(TENANT, OTHER_REP) == export_document(None, [], [])
    assert await store.forget_prospect(TENANT, OTHER_REP, ours.key) is False
    assert await store.get_prospect(TENANT, REP, ours.key) == ours


async def test_ids_containing_colons_do_not_run_into_each_other(store: Store) -> None:
    """Teams user ids look like "29:1a..."; prospect keys may hold a colon from a company."""
    first = prospect("A", "B", tenant="T:1", rep_id="29:x", key="y")
    second = prospect("C", "D", tenant="T:1", rep_id="29", key="x:y")
    third = prospect("E", "F", tenant="T", rep_id="1:29:x", key="y")
    for record in (first, second, third):
        await store.save_prospect(due_at(record, NOW))
    assert await store.get_prospect("T:1", "29:x", "y") == due_at(first, NOW)
    assert await store.get_prospect("T:1", "29", "x:y") == due_at(second, NOW)
    assert await store.get_prospect("T", "1:29:x", "y") == due_at(third, NOW)
    assert await store.callbacks_due("T:1", "29", NOW) == [due_at(second, NOW)]


# Erasure and export


async def test_forget_erases_the_prospect_its_log_and_its_index_entries(store: Store) -> None:
    gone = await _write_everything(store)
    kept, kept_check_in = checked_in(prospect("Eve Park", "Hooli"), key="k-2")
    await store.record_check_in(kept, kept_check_in)
    assert await store.forget_prospect(TENANT, REP, gone.key) is True
    assert await store.get_prospect(TENANT, REP, gone.key) is None
    assert await store.prospect_log(TENANT, REP, gone.key) == []
    assert await store.callbacks_due(TENANT, REP, NOW + timedelta(days=365)) == [kept]
    assert await store.recycles_due(TENANT, REP, TODAY + timedelta(days=365)) == []
    month = await store.team_check_ins(TENANT, TEAM, NOW - timedelta(days=30), NOW + HOUR)
    assert month == [kept_check_in]
    assert await store.export_rep(TENANT, REP) == export_document(
        rep_profile(), [kept], [kept_check_in]
    )


async def test_forgetting_an_unknown_prospect_is_false(store: Store) -> None:
    assert await store.forget_prospect(TENANT, REP, "nobody@nowhere") is False


async def test_export_holds_the_profile_prospects_and_check_ins_of_that_rep_only(
    store: Store,
) -> None:
    ann = rep_profile()
    await store.save_rep(ann)
    await store.save_rep(rep_profile(OTHER_REP, name="Bob Jones"))
    first, call = checked_in(prospect("Zed Zane", "Acme"), at=NOW - timedelta(days=2), key="a")
    second, again = checked_in(first, Outcome.LEFT, NOW - timedelta(days=1), key="b")
    other, other_call = checked_in(prospect("Amy Ash", "Acme"), at=NOW - timedelta(hours=1))
    bobs, bobs_call = checked_in(prospect(rep_id=OTHER_REP), at=NOW - timedelta(days=3))
    # Recorded out of time order: the export still lists check-ins oldest first, and the
    # prospect is as last written (`first`), prospects in key order.
    for record, check_in in ((other, other_call), (second, again), (first, call)):
        await store.record_check_in(record, check_in)
    await store.record_check_in(bobs, bobs_call)
    document = await store.export_rep(TENANT, REP)
    assert document == export_document(ann, [other, first], [call, again, other_call])


# Concurrency


async def test_concurrent_check_ins_with_distinct_keys_all_land(store: Store) -> None:
    record = prospect()
    pairs = [checked_in(record, at=NOW + timedelta(seconds=i), key=f"k-{i}") for i in range(50)]
    written = await asyncio.gather(*(store.record_check_in(*pair) for pair in pairs))
    assert written == [True] * 50
    log = await store.prospect_log(TENANT, REP, record.key, limit=100)
    assert log == [check_in for _, check_in in reversed(pairs)]
    team = await store.team_check_ins(TENANT, TEAM, NOW, NOW + timedelta(minutes=1))
    assert len(team) == 50


async def test_concurrent_check_ins_with_the_same_key_land_once(store: Store) -> None:
    record = prospect()
    pairs = [checked_in(record, at=NOW + timedelta(seconds=i), key="same") for i in range(20)]
    written = await asyncio.gather(*(store.record_check_in(*pair) for pair in pairs))
    assert sorted(written) == [False] * 19 + [True]
    winner = pairs[written.index(True)]
    assert await store.prospect_log(TENANT, REP, record.key, limit=100) == [winner[1]]
    assert await store.get_prospect(TENANT, REP, record.key) == winner[0]


# Documents (adapters' own data: Slack installations and OAuth states, Teams references)

DOC = "slack-installation"


async def test_a_document_round_trips_and_a_put_replaces_it(store: Store) -> None:
    assert await store.get_document(TENANT, DOC, "latest") is None
    await store.put_document(TENANT, DOC, "latest", '{"v": 1}')
    assert await store.get_document(TENANT, DOC, "latest") == '{"v": 1}'
    await store.put_document(TENANT, DOC, "latest", '{"v": 2, "name": "Zoë ☎"}')
    assert await store.get_document(TENANT, DOC, "latest") == '{"v": 2, "name": "Zoë ☎"}'
    await store.put_document(TENANT, DOC, "empty", "")
    assert await store.get_document(TENANT, DOC, "empty") == ""


async def test_documents_are_kept_apart_by_tenant_kind_and_key(store: Store) -> None:
    await store.put_document(TENANT, DOC, "latest", "acme")
    await store.put_document(OTHER_TENANT, DOC, "latest", "globex")
    await store.put_document(TENANT, "slack-bot", "latest", "acme bot")
    # Parts with colons must not run into each other's documents.
    await store.put_document("T:1", "a:b", "c", "one")
    await store.put_document("T", "1:a", "b:c", "two")
    await store.put_document("T:1", "a", "b:c", "three")
    assert await store.get_document(TENANT, DOC, "latest") == "acme"
    assert await store.get_document(OTHER_TENANT, DOC, "latest") == "globex"
    assert await store.get_document(TENANT, "slack-bot", "latest") == "acme bot"
    assert await store.get_document(OTHER_TENANT, "slack-bot", "latest") is None
    assert [
        await store.get_document("T:1", "a:b", "c"),
        await store.get_document("T", "1:a", "b:c"),
        await store.get_document("T:1", "a", "b:c"),
    ] == ["one", "two", "three"]
    await store.delete_documents(OTHER_TENANT, DOC, ["latest"])
    assert await store.get_document(TENANT, DOC, "latest") == "acme"
    assert await store.take_document(OTHER_TENANT, "slack-bot", "latest") is None
    assert await store.get_document(TENANT, "slack-bot", "latest") == "acme bot"


async def test_delete_documents_removes_those_keys_and_ignores_missing_ones(store: Store) -> None:
    for key in ("a", "b", "c"):
        await store.put_document(TENANT, DOC, key, key.upper())
    await store.delete_documents(TENANT, DOC, ["a", "c", "never-written"])
    await store.delete_documents(TENANT, DOC, [])
    assert [await store.get_document(TENANT, DOC, key) for key in "abc"] == [None, "B", None]


async def test_take_returns_the_document_once(store: Store) -> None:
    await store.put_document(TENANT, "state", "s-1", "1", ttl_seconds=600)
    assert await store.take_document(TENANT, "state", "s-1") == "1"
    assert await store.take_document(TENANT, "state", "s-1") is None
    assert await store.get_document(TENANT, "state", "s-1") is None
    assert await store.take_document(TENANT, "state", "never-issued") is None


async def test_concurrent_takes_give_the_document_to_exactly_one(store: Store) -> None:
    await store.put_document(TENANT, "state", "s-1", "1", ttl_seconds=600)
    taken = await asyncio.gather(*(store.take_document(TENANT, "state", "s-1") for _ in range(20)))
    assert sorted(taken, key=str) == ["1"] + [None] * 19


async def test_a_document_with_a_ttl_expires_and_one_without_stays(store: Store) -> None:
    await store.put_document(TENANT, "state", "short", "1", ttl_seconds=1)
    await store.put_document(TENANT, "state", "taken-late", "1", ttl_seconds=1)
    await store.put_document(TENANT, "state", "long", "1", ttl_seconds=600)
    await store.put_document(TENANT, DOC, "latest", "kept")
    assert await store.get_document(TENANT, "state", "short") == "1"
    await asyncio.sleep(1.1)
    assert await store.get_document(TENANT, "state", "short") is None
    assert await store.take_document(TENANT, "state", "taken-late") is None
    assert await store.get_document(TENANT, "state", "long") == "1"
    assert await store.get_document(TENANT, DOC, "latest") == "kept"
    # Writing again after expiry starts afresh.
    await store.put_document(TENANT, "state", "short", "2")
    assert await store.get_document(TENANT, "state", "short") == "2"


@pytest.mark.parametrize("ttl", [0, -5, 1.5, True])
async def test_a_ttl_must_be_whole_seconds_of_at_least_one(store: Store, ttl: Any) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.put_document(TENANT, "state", "s", "1", ttl_seconds=ttl)
    assert await store.get_document(TENANT, "state", "s") is None
