"""The voicemail policy: pure decisions over immutable values, no I/O, no framework."""

from policy.decide import decide
from policy.errors import InvalidInput
from policy.model import (
    Action,
    Decision,
    History,
    Prospect,
    Reason,
    Relationship,
    Rep,
    Script,
    ScriptKind,
    TimeRange,
    Window,
)
from policy.playbooks import DEFAULT_PLAYBOOK, PLAYBOOKS, Playbook
from policy.settings import Settings

__all__ = [
    "DEFAULT_PLAYBOOK",
    "PLAYBOOKS",
    "Action",
    "Decision",
    "History",
    "InvalidInput",
    "Playbook",
    "Prospect",
    "Reason",
    "Relationship",
    "Rep",
    "Script",
    "ScriptKind",
    "Settings",
    "TimeRange",
    "Window",
    "decide",
]
