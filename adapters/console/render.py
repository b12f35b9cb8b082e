"""The neutral Reply as terminal text."""

from __future__ import annotations

from bot.replies import ASK, parse_check_in_value
from bot.types import Button, Reply, Tone

CHART_LABEL = "Chart: "
MARKS = {Tone.INFO: "", Tone.DECISION: "» ", Tone.DONE: "✓ ", Tone.ERROR: "✗ "}


def render(reply: Reply, *, numbered_buttons: bool = False) -> str:
    lines = [f"{MARKS[reply.tone]}{reply.heading}"]
    if reply.script:
        lines += ["", f"  Script ({reply.script.seconds} s):", f"  “{reply.script.text}”"]
    if reply.facts:
        width = max(len(fact.label) for fact in reply.facts)
        lines += [""] + [f"  {fact.label.ljust(width)}  {fact.value}" for fact in reply.facts]
    if reply.paragraphs:
        lines += [""] + [f"  {paragraph}" for paragraph in reply.paragraphs]
    if reply.footer:
        lines += ["", "  Sources: " + "; ".join(reply.footer)]
    if reply.buttons:
        lines += ["", _buttons(reply, numbered_buttons)]
    if reply.image is not None:  # the terminal adapter names it by the file it saved
        lines += ["", f"  {CHART_LABEL}{reply.image.name}"]
    return "\n".join(lines)


def _buttons(reply: Reply, numbered: bool) -> str:
    if any(button.action_id == ASK for button in reply.buttons):
        return "\n".join(_ask_line(button) for button in reply.buttons if button.action_id == ASK)
    if numbered:
        choices = "  ".join(f"[{i}] {button.label}" for i, button in enumerate(reply.buttons, 1))
        return f"  Check in: {choices}  (type the number)"
    outcomes = [parsed[0].value for b in reply.buttons if (parsed := parse_check_in_value(b.value))]
    return f"  Check in: /voicemail log {reply.subject} {'|'.join(outcomes)}"


def _ask_line(button: Button) -> str:
    """A button asking for a prospect's full decision, as the line that asks for it: its value
    is the prospect's key, `name@company`, and a name holds no @."""
    name, _, company = button.value.partition("@")
    return f"  {button.label}: /voicemail {name} @ {company}"
