"""The neutral Reply as Block Kit, within Slack's limits, plus a plain-text fallback."""

from __future__ import annotations

from typing import Any

from bot.types import Reply, Tone

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_TEXT = 3000
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 3000
ACTION_SEPARATOR = ":"
MARKS = {Tone.INFO: "", Tone.DECISION: "", Tone.DONE: "✓ ", Tone.ERROR: "⚠ "}


def escape(text: str) -> str:
    """Slack's control characters: a name like `<!channel>` must not ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_action_id(action_id: str, index: int) -> str:
    """Unique within one actions block; `neutral_action_id` recovers the neutral id."""
    return f"{action_id}{ACTION_SEPARATOR}{index}"


def neutral_action_id(slack_action_id: str) -> str:
    return slack_action_id.split(ACTION_SEPARATOR, 1)[0]


def render_blocks(reply: Reply) -> list[Block]:
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(MARKS[reply.tone] + reply.heading, MAX_HEADER),
                "emoji": True,
            },
        }
    ]
    if reply.script:
        quoted = "\n".join(f">{escape(line)}" for line in reply.script.text.splitlines())
        blocks.append(_section(f"*Script* ({reply.script.seconds} s to read)\n{quoted}"))
    for start in range(0, len(reply.facts), MAX_FIELDS):
        fields = [
            {
                "type": "mrkdwn",
                "text": clip(f"*{escape(fact.label)}*\n{escape(fact.value)}", MAX_FIELD_TEXT),
            }
            for fact in reply.facts[start : start + MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    for paragraph in reply.paragraphs:
        blocks += [_section(chunk) for chunk in _chunks(escape(paragraph), MAX_SECTION_TEXT)]
    if reply.footer:
        sources = "Sources: " + "; ".join(escape(source) for source in reply.footer)
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(sources, MAX_CONTEXT_TEXT)}],
            }
        )
    actions: Block | None = None
    if reply.buttons:
        actions = {"type": "actions", "elements": _buttons(reply)}
    room = MAX_BLOCKS - (1 if actions else 0)
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], _section("_…more than one message can hold._")]
    return blocks + ([actions] if actions else [])


def render_text(reply: Reply) -> str:
    """The notification and screen-reader fallback."""
    parts = [reply.heading]
    if reply.script:
        parts.append(f"Script: {reply.script.text}")
    elif reply.paragraphs:
        parts.append(reply.paragraphs[0])
    return clip(escape("\n".join(parts)), MAX_FALLBACK)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _chunks(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def _buttons(reply: Reply) -> list[Block]:
    elements: list[Block] = []
    for index, button in enumerate(reply.buttons[:MAX_BUTTONS]):
        element: Block = {
            "type": "button",
            "text": {"type": "plain_text", "text": clip(button.label, MAX_BUTTON_LABEL)},
            "action_id": button_action_id(button.action_id, index),
            "value": button.value[:MAX_BUTTON_VALUE],
        }
        if button.primary:
            element["style"] = "primary"
        elements.append(element)
    return elements
