"""The neutral Reply and the decision form as Adaptive Cards 1.5, within Teams' limits.

Plain dicts, ready for an attachment of type `application/vnd.microsoft.card.adaptive` or an
`adaptiveCard/action` invoke response; nothing here knows botbuilder.

Every button is an `Action.Execute` (Universal Actions): Teams sends an `adaptiveCard/action`
invoke whose `action.verb` is the button's action_id (`checkin` for the check-in buttons) and
whose `action.data` is `{"action_id": ..., "value": ...}`, the value exactly as the Reply had it
(the check-in dedupe reads the advice's timestamp out of it). The decision form submits with
the verb `decision_form`; its `action.data` then also holds every input, keyed by the
`FormField.key` of bot.forms, all as text ("true" or "" for a flag), which is `Request.form`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from adapters.teams.images import fitted_data_uri
from bot.forms import DECISION_FORM_FIELDS, FIELDS_BY_KEY, TRUE, FieldKind, FormField
from bot.types import Button, Image, Reply, Tone

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ACTION_ID = "action_id"
VALUE = "value"
DECISION_FORM = "decision_form"  # the verb (and action_id) of the form's submit
FORM_TITLE = "Voicemail advice"
FORM_SUBMIT = "Get advice"
FORM_INTRO = "Tell me about the prospect and I'll say whether to leave a voicemail."

# Teams takes a message of about 28 KB in all, card included: the card keeps well within it.
MAX_CARD_BYTES = 24_000
MAX_HEADING = 200
MAX_TEXT = 3_000  # one paragraph, the script, the sources
MAX_FACT_TITLE = 100
MAX_FACT_VALUE = 500
MAX_FACTS = 20
MAX_ACTIONS = 6  # what Teams shows in a card's action bar
MAX_ACTION_TITLE = 50
MAX_FIELD_ERROR = 300
MAX_FALLBACK = 1_000
MAX_ALT_TEXT = 1_000
CHART_ID = "chart"
MORE = "…more than one card can hold."

HEADING_COLORS = {
    Tone.INFO: "default",
    Tone.DECISION: "accent",
    Tone.DONE: "good",
    Tone.ERROR: "attention",
}
MARKS = {Tone.INFO: "", Tone.DECISION: "", Tone.DONE: "✓ ", Tone.ERROR: "⚠ "}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_card(reply: Reply) -> Card:
    """The Reply as one card: heading, field errors, script, facts, paragraphs, sources, buttons."""
    head: list[Element] = [_heading(MARKS[reply.tone] + reply.heading, reply.tone)]
    if reply.field_errors:
        head.append(_field_errors(reply.field_errors))
    if reply.script:
        head.append(_script(reply.script.text, reply.script.seconds))
    if reply.facts:
        head.append(
            {
                "type": "FactSet",
                "facts": [
                    {
                        "title": clip(fact.label, MAX_FACT_TITLE),
                        "value": clip(fact.value, MAX_FACT_VALUE),
                    }
                    for fact in reply.facts[:MAX_FACTS]
                ],
            }
        )
    paragraphs = [_paragraph(text) for text in reply.paragraphs]
    tail: list[Element] = []
    if reply.footer:
        sources = "Sources: " + "; ".join(reply.footer)
        tail.append(_text(clip(sources, MAX_TEXT), isSubtle=True, size="small", separator=True))
    card = _card(head + paragraphs + tail, _fallback(reply))
    if reply.buttons:
        card["actions"] = [_execute(button) for button in reply.buttons[:MAX_ACTIONS]]
    card = _within_budget(card, head, paragraphs, tail)
    if reply.image is not None:
        _add_picture(card, reply.image, before=len(tail))
    return card


def _add_picture(card: Card, image: Image, before: int) -> None:
    """The picture after the paragraphs (before the sources), as small as the card's room
    needs; its alt text in words where even the smallest does not fit."""
    body: list[Element] = card["body"]
    at = len(body) - before if before and len(body) > before else len(body)
    alt = clip(image.alt, MAX_ALT_TEXT)
    placeholder = {"type": "Image", "id": CHART_ID, "url": "", "altText": alt, "size": "stretch"}
    body.insert(at, placeholder)
    uri = fitted_data_uri(image.png, MAX_CARD_BYTES - _size(card))
    if uri is not None:
        placeholder["url"] = uri
        return
    body[at] = _text(clip(f"Chart: {image.alt}", MAX_TEXT), id=CHART_ID, isSubtle=True)


def decision_form_card(
    values: Mapping[str, str] = MappingProxyType({}),
    errors: Mapping[str, str] = MappingProxyType({}),
) -> Card:
    """The decision form: bot.forms' fields, filled with `values`, each field's error under it.

    An error for a key the form does not have is shown at the top."""
    body: list[Element] = [_heading(FORM_TITLE, Tone.INFO)]
    stray = [message for key, message in errors.items() if key not in FIELDS_BY_KEY]
    if errors:
        body.append(_text("Please check the form: nothing was saved.", color="attention"))
    body += [_error(message) for message in stray]
    if not errors:
        body.append(_text(FORM_INTRO))
    for field in DECISION_FORM_FIELDS:
        body += _input(field, values.get(field.key, ""), errors.get(field.key))
    card = _card(body, FORM_TITLE)
    card["actions"] = [
        {
            "type": "Action.Execute",
            "title": FORM_SUBMIT,
            "verb": DECISION_FORM,
            "data": {ACTION_ID: DECISION_FORM},
            "associatedInputs": "auto",
            "style": "positive",
        }
    ]
    return card


def card_attachment(card: Card) -> dict[str, Any]:
    """A card as a message attachment (the JSON of botbuilder's `Attachment`)."""
    return {"contentType": CONTENT_TYPE, "content": card}


# --- pieces -------------------------------------------------------------------------------


def _card(body: list[Element], fallback: str) -> Card:
    return {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "fallbackText": clip(fallback, MAX_FALLBACK),
        "body": body,
    }


def _text(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _heading(text: str, tone: Tone) -> Element:
    return _text(
        clip(text, MAX_HEADING),
        style="heading",
        size="large",
        weight="bolder",
        color=HEADING_COLORS[tone],
    )


def _paragraph(text: str) -> Element:
    """One paragraph; its lines stay lines (a TextBlock's markdown would join them)."""
    lines = clip(text, MAX_TEXT).splitlines() or [""]
    if len(lines) == 1:
        return _text(lines[0])
    return {
        "type": "Container",
        "items": [
            _text(line, **({} if index == 0 else {"spacing": "none"}))
            for index, line in enumerate(lines)
        ],
    }


def _script(text: str, seconds: int) -> Element:
    """The words to say, set apart, with how long they take to read."""
    return {
        "type": "Container",
        "id": "script",
        "style": "emphasis",
        "items": [
            _text(f"Script ({seconds} s to read)", weight="bolder"),
            _text(clip(text, MAX_TEXT), spacing="small"),
        ],
    }


def _field_label(key: str) -> str:
    field = FIELDS_BY_KEY.get(key)
    return field.label if field else key


def _field_errors(errors: Mapping[str, str]) -> Element:
    return {
        "type": "Container",
        "id": "field_errors",
        "style": "attention",
        "items": [
            _text(clip(f"{_field_label(key)}: {message}", MAX_FIELD_ERROR), color="attention")
            for key, message in errors.items()
        ],
    }


def _execute(button: Button) -> Element:
    action: Element = {
        "type": "Action.Execute",
        "title": clip(button.label, MAX_ACTION_TITLE),
        "verb": button.action_id,
        "data": {ACTION_ID: button.action_id, VALUE: button.value},
    }
    if button.primary:
        action["style"] = "positive"
    return action


def _fallback(reply: Reply) -> str:
    """What a client that cannot show the card shows, and what notifications read."""
    parts = [reply.heading]
    if reply.script:
        parts.append(f"Script: {reply.script.text}")
    elif reply.paragraphs:
        parts.append(reply.paragraphs[0])
    return "\n".join(parts)


def _within_budget(
    card: Card, head: list[Element], paragraphs: list[Element], tail: list[Element]
) -> Card:
    """Paragraphs from the end make way for a note until the card fits in one message."""
    if _size(card) <= MAX_CARD_BYTES:
        return card
    kept = list(paragraphs)
    while kept:
        kept.pop()
        card["body"] = [*head, *kept, _text(MORE, isSubtle=True), *tail]
        if _size(card) <= MAX_CARD_BYTES:
            return card
    card["body"] = [*head[:1], _text(MORE, isSubtle=True)]
    return card


def _size(card: Card) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def _error(message: str) -> Element:
    return _text(clip(message, MAX_FIELD_ERROR), color="attention", spacing="none")


def _input(field: FormField, value: str, error: str | None) -> list[Element]:
    """The input, its hint under it, and its error (if any) under that."""
    element: Element = {"id": field.key, "label": field.label}
    if field.kind is FieldKind.CHOICE:
        element |= {
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": [{"title": choice.label, "value": choice.value} for choice in field.choices],
        }
        if value in {choice.value for choice in field.choices}:
            element["value"] = value
    elif field.kind is FieldKind.FLAG:
        element |= {
            "type": "Input.Toggle",
            "title": field.hint,
            "valueOn": TRUE,
            "valueOff": "",
            "value": TRUE if value.strip().casefold() == TRUE else "",
            "wrap": True,
        }
    else:
        element |= {"type": "Input.Text", "maxLength": field.max_length}
        if value:  # as typed, even too long (its error says so), but not without end
            element["value"] = value[: 2 * field.max_length]
    if field.placeholder and field.kind is not FieldKind.FLAG:
        element["placeholder"] = field.placeholder
    if field.required:
        element |= {"isRequired": True, "errorMessage": f"{field.label} is required."}
    elements = [element]
    if field.kind is not FieldKind.FLAG:
        elements.append(_text(field.hint, isSubtle=True, size="small", spacing="none"))
    if error:
        elements.append(_error(error))
    return elements
