"""The decision as the JSON document of the `decide` contract."""

from __future__ import annotations

from typing import Any

from policy.model import Decision, Reason
from policy.sources import titles_of


def decision_to_json(decision: Decision) -> dict[str, Any]:
    script = decision.script
    return {
        "action": decision.action.value,
        "playbook": decision.playbook,
        "reasons": [_reason(reason) for reason in decision.reasons],
        "overridden": [_reason(reason) for reason in decision.overridden],
        "script": (
            None
            if script is None
            else {"kind": script.kind.value, "text": script.text, "seconds": script.seconds}
        ),
        "call_back": {
            "start": decision.call_back.start.isoformat(),
            "end": decision.call_back.end.isoformat(),
        },
        "recycle_on": decision.recycle_on.isoformat() if decision.recycle_on else None,
        "seconds_saved": decision.seconds_saved,
        "warnings": list(decision.warnings),
    }


def _reason(reason: Reason) -> dict[str, str]:
    return {
        "rule": reason.rule,
        "source": reason.source,
        "title": "; ".join(titles_of(reason.source)),
        "why": reason.why,
        "action": reason.action.value,
    }
