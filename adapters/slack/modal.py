"""The decision form as a Slack modal, and a submitted modal read back into the neutral form.

The fields come from bot.forms.DECISION_FORM_FIELDS; nothing here knows what they mean. Each
field is one input block whose block_id is `block_id(key)` and whose action_id is the key, so
the coach's field_errors map straight onto Slack's `response_action: errors`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.slack.blocks import Block, clip
from bot.forms import DECISION_FORM_FIELDS, TRUE, FieldKind, FormField

CALLBACK_ID = "voicemail_decision"
BLOCK_PREFIX = "vm_"
TITLE = "Voicemail advice"  # Slack: at most 24 characters
SUBMIT = "Get advice"
CLOSE = "Cancel"
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_ERROR = 150
MAX_METADATA = 3000


def block_id(key: str) -> str:
    return f"{BLOCK_PREFIX}{key}"


def decision_modal(channel_id: str | None) -> dict[str, Any]:
    """The modal `views.open` shows; private_metadata remembers where the command was typed."""
    metadata = json.dumps({"channel_id": channel_id} if channel_id else {})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(TITLE),
        "submit": _plain(SUBMIT),
        "close": _plain(CLOSE),
        "private_metadata": metadata[:MAX_METADATA],
        "blocks": [_input(field) for field in DECISION_FORM_FIELDS],
    }


def channel_of(private_metadata: str | None) -> str | None:
    """The channel the modal was opened from, or None if it is missing or unreadable."""
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        return None
    channel = data.get("channel_id") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and channel else None


def form_values(state_values: Mapping[str, Any]) -> dict[str, str]:
    """`view.state.values` as the neutral form: every field's text ("" when left empty)."""
    form: dict[str, str] = {}
    for field in DECISION_FORM_FIELDS:
        element = (state_values.get(block_id(field.key)) or {}).get(field.key) or {}
        form[field.key] = _value(field, element)
    return form


def slack_errors(field_errors: Mapping[str, str]) -> dict[str, str]:
    """The coach's field errors keyed by this modal's block ids, within Slack's limits."""
    known = {field.key for field in DECISION_FORM_FIELDS}
    first = DECISION_FORM_FIELDS[0].key
    errors: dict[str, str] = {}
    for key, message in field_errors.items():
        target = block_id(key if key in known else first)
        joined = f"{errors[target]} {message}" if target in errors else message
        errors[target] = clip(joined, MAX_ERROR)
    return errors


def _value(field: FormField, element: Mapping[str, Any]) -> str:
    if field.kind is FieldKind.CHOICE:
        selected = element.get("selected_option") or {}
        return str(selected.get("value") or "")
    if field.kind is FieldKind.FLAG:
        ticked = element.get("selected_options") or []
        return TRUE if any(option.get("value") == TRUE for option in ticked) else ""
    return str(element.get("value") or "")


def _input(field: FormField) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id(field.key),
        "label": _plain(clip(field.label, MAX_LABEL)),
        "optional": not field.required,
        "element": _element(field),
    }
    if field.kind is not FieldKind.FLAG:
        block["hint"] = _plain(clip(field.hint, MAX_HINT))
    return block


def _element(field: FormField) -> Block:
    if field.kind is FieldKind.CHOICE:
        element: Block = {
            "type": "static_select",
            "action_id": field.key,
            "options": [
                {"text": _plain(clip(choice.label, MAX_OPTION_TEXT)), "value": choice.value}
                for choice in field.choices
            ],
        }
    elif field.kind is FieldKind.FLAG:
        return {
            "type": "checkboxes",
            "action_id": field.key,
            "options": [{"text": _plain(clip(field.hint, MAX_OPTION_TEXT)), "value": TRUE}],
        }
    else:
        element = {"type": "plain_text_input", "action_id": field.key}
        element["max_length"] = field.max_length
    if field.placeholder:
        element["placeholder"] = _plain(clip(field.placeholder, MAX_PLACEHOLDER))
    return element


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}
