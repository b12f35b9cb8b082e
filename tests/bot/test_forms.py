"""The decision form: the same decision as the text, or every bad field named and nothing stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.coach import Coach
from bot.forms import DECISION_FORM_FIELDS, FieldKind, FormErrors, parse_decision_form
from bot.records import prospect_key
from bot.store import Store
from bot.types import Actor, Platform, Reply, Request, Role, Tone
from policy.limits import MAX_COMPANY, MAX_FOLLOWUP, MAX_NAME, MAX_REGION, MAX_TIMEZONE

MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=ZoneInfo("America/New_York"))
BY_TEXT = Actor(Platform.SLACK, "T1", "U1", "Sam Lee", "America/New_York", role=Role.REP)
BY_FORM = replace(BY_TEXT, tenant="T2")
JANE_KEY = prospect_key("Jane Doe", "Acme")
VALID = {"name": "Jane Doe", "company": "Acme"}


@pytest.fixture
def coach(store: Store) -> Coach:
    return Coach(store, clock=lambda: MONDAY)


async def submit(coach: Coach, form: dict[str, str], actor: Actor = BY_FORM) -> Reply:
    return await coach.handle(Request(actor, form=form, idempotency_key="view-1"))


def test_the_fields_are_the_documented_keys_with_labels_and_hints() -> None:
    keys = [field.key for field in DECISION_FORM_FIELDS]
    assert keys == [
        "name", "company", "relationship", "referred_by", "followup",
        "new_in_role", "expecting_reply", "timezone", "region",
    ]  # fmt: skip
    assert all(field.label and field.hint for field in DECISION_FORM_FIELDS)
    required = {field.key for field in DECISION_FORM_FIELDS if field.required}
    assert required == {"name", "company"}
    relationship = next(f for f in DECISION_FORM_FIELDS if f.key == "relationship")
    assert relationship.kind is FieldKind.CHOICE
    assert [c.value for c in relationship.choices] == ["stranger", "referred", "known", "client"]
    flags = {f.key for f in DECISION_FORM_FIELDS if f.kind is FieldKind.FLAG}
    assert flags == {"new_in_role", "expecting_reply"}


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Jane Doe @ Acme referred by Tom", {"referred_by": "Tom"}),
        ("Jane Doe @ Acme referred by Tom", {"relationship": "referred", "referred_by": "Tom"}),
        ("Jane Doe @ Acme", {"relationship": "", "new_in_role": "", "expecting_reply": ""}),
        ("Jane Doe @ Acme client new in role", {"relationship": "client", "new_in_role": "true"}),
        (
            'Jane Doe @ Acme known proposal "Q3" expecting reply tz America/Chicago region US-FL',
            {
                "relationship": "Known",
                "followup": "the proposal for Q3",
                "expecting_reply": "true",
                "timezone": "America/Chicago",
                "region": "us-fl",
            },
        ),
        ("Jane Doe @ Acme stranger demo", {"relationship": "stranger", "followup": "demo"}),
    ],
)
async def test_a_valid_form_decides_and_remembers_exactly_as_the_text_does(
    coach: Coach, store: Store, text: str, form: dict[str, str]
) -> None:
    by_text = await coach.handle(Request(BY_TEXT, text=text))
    by_form = await submit(coach, {**VALID, **form})
    assert by_text.tone is Tone.DECISION
    assert by_form == by_text
    assert by_form.field_errors == {}
    from_text = await store.get_prospect("T1", "U1", JANE_KEY)
    from_form = await store.get_prospect("T2", "U1", JANE_KEY)
    assert from_text is not None and from_form is not None
    assert replace(from_form, tenant="T1") == from_text
    rep_text, rep_form = await store.get_rep("T1", "U1"), await store.get_rep("T2", "U1")
    assert rep_text is not None and rep_form is not None
    assert replace(rep_form, tenant="T1") == rep_text


async def test_a_referral_by_form_is_told_to_leave_a_voicemail(coach: Coach) -> None:
    for line in ("me company Northwind", "me phone +1 555 010 0100"):
        await coach.handle(Request(BY_FORM, text=line))
    reply = await submit(coach, {**VALID, "referred_by": "Tom"})
    assert reply.heading.startswith("Leave a voicemail")
    assert reply.script is not None and "Tom" in reply.script.text


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("name", "", "required"),
        ("company", "   ", "required"),
        ("name", "J" * 101, "Prospect's name is 101 characters long; at most 100"),
        ("company", "A" * 101, "Company is 101 characters long; at most 100"),
        ("referred_by", "T" * 101, "Referred by is 101 characters long; at most 100"),
        ("followup", "x" * 201, "Waiting on you is 201 characters long; at most 200"),
        ("name", "J" * 100_000, "is 100,000 characters long; at most 100"),
        ("timezone", "America/" + "x" * 60, "is 68 characters long; at most 64"),
        ("relationship", "friend", "stranger, referred, known, client"),
        ("new_in_role", "maybe", "true"),
        ("expecting_reply", "perhaps", "true"),
        ("timezone", "Mars/Base", "America/New_York"),
        ("region", "Florida", "US-FL"),
        ("region", "XX", "known for US, US-FL, CA"),
    ],
)
async def test_each_invalid_field_is_named_with_what_it_accepts_and_nothing_is_stored(
    coach: Coach, store: Store, field: str, value: str, accepted: str
) -> None:
    reply = await submit(coach, {**VALID, field: value})
    assert reply.tone is Tone.ERROR
    assert set(reply.field_errors) == {field}
    assert accepted in reply.field_errors[field]
    assert reply.field_errors[field] in reply.paragraphs
    assert coach.check_form({**VALID, field: value}) == reply
    await nothing_stored(store)


async def test_referred_by_with_another_relationship_is_refused(coach: Coach, store: Store) -> None:
    reply = await submit(coach, {**VALID, "relationship": "known", "referred_by": "Tom"})
    assert set(reply.field_errors) == {"referred_by"}
    assert "referred" in reply.field_errors["referred_by"]
    await nothing_stored(store)


async def test_every_bad_field_is_named_at_once(coach: Coach, store: Store) -> None:
    reply = await submit(coach, {"name": "", "company": "", "timezone": "nowhere"})
    assert set(reply.field_errors) == {"name", "company", "timezone"}
    await nothing_stored(store)


async def test_unknown_keys_are_ignored_and_check_form_passes_a_valid_form(
    coach: Coach,
) -> None:
    form = {**VALID, "platform_extra": "x"}
    assert coach.check_form(form) is None
    assert (await submit(coach, form)).tone is Tone.DECISION


def test_an_overlong_field_is_not_quoted_back_whole() -> None:
    with pytest.raises(FormErrors) as caught:
        parse_decision_form({**VALID, "name": "J" * 100_000, "timezone": "x" * 100_000})
    assert all(len(problem) < 100 for problem in caught.value.errors.values())


def test_each_text_field_tells_the_platform_the_limit_the_form_enforces() -> None:
    limits = {f.key: f.max_length for f in DECISION_FORM_FIELDS if f.kind is FieldKind.TEXT}
    assert limits == {
        "name": MAX_NAME, "company": MAX_COMPANY, "referred_by": MAX_NAME,
        "followup": MAX_FOLLOWUP, "timezone": MAX_TIMEZONE, "region": MAX_REGION,
    }  # fmt: skip
    for key, limit in limits.items():
        if key not in ("timezone", "region"):
            parse_decision_form({**VALID, key: "x" * limit})  # at the limit: accepted


def test_followup_words_read_like_the_grammar() -> None:
    facts = parse_decision_form({**VALID, "followup": "Proposal for Q3"}).facts
    assert facts.open_followup == "the proposal for Q3"
    facts = parse_decision_form({**VALID, "followup": "the signed contract"}).facts
    assert facts.open_followup == "the signed contract"


async def nothing_stored(store: Store) -> None:
    assert await store.get_rep("T2", "U1") is None
    assert await store.get_prospect("T2", "U1", JANE_KEY) is None
    assert await store.get_prospect("T2", "U1", prospect_key("J" * 101, "Acme")) is None
