"""The six playbooks: ordered rules, first match wins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from policy import rules as r
from policy.errors import InvalidInput
from policy.rules import Rule


@dataclass(frozen=True, slots=True)
class Playbook:
    name: str
    seeds: tuple[str, ...]
    summary: str
    rules: tuple[Rule, ...]
    min_gap: int = 2


PLAYBOOKS: Mapping[str, Playbook] = MappingProxyType(
    {
        playbook.name: playbook
        for playbook in (
            Playbook(
                name="balanced",
                seeds=("000", "001", "002", "003", "004"),
                summary="The default: a message only on a signal, a final voicemail at attempt 5.",
                rules=(
                    r.PAUSED,
                    r.EXPECTED_REPLY,
                    r.FINAL_ATTEMPT,
                    r.TOO_SOON,
                    r.OPEN_FOLLOWUP,
                    r.REFERRAL,
                    r.NEW_IN_ROLE,
                    r.LONG_SILENCE,
                    r.COLD,
                    r.DEFAULT,
                ),
            ),
            Playbook(
                name="live-only",
                seeds=("000",),
                summary="Never a message, never a final voicemail: live conversations only.",
                rules=(r.PAUSED, r.LIVE_ONLY),
            ),
            Playbook(
                name="selective",
                seeds=("001",),
                summary="A message only when a reply is as sure as it gets.",
                rules=(r.PAUSED, r.EXPECTED_REPLY, r.DEFAULT),
            ),
            Playbook(
                name="rapport-series",
                seeds=("002",),
                summary="A message every other dial builds rapport; the last one at attempt 5.",
                rules=(r.PAUSED, r.EXPECTED_REPLY, r.FINAL_ATTEMPT, r.TOO_SOON, r.SERIES),
                min_gap=1,
            ),
            Playbook(
                name="referral-only",
                seeds=("003",),
                summary="Messages for referrals only; strangers: dial zero first, never a message.",
                rules=(r.PAUSED, r.EXPECTED_REPLY, r.REFERRAL, r.COLD, r.DEFAULT),
            ),
            Playbook(
                name="it-depends",
                seeds=("004",),
                summary="No message by default, except new prospects, follow-ups, long silences.",
                rules=(
                    r.PAUSED,
                    r.EXPECTED_REPLY,
                    r.TOO_SOON,
                    r.OPEN_FOLLOWUP,
                    r.NEW_PROSPECT,
                    r.LONG_SILENCE_ANYONE,
                    r.DEFAULT,
                ),
            ),
        )
    }
)

DEFAULT_PLAYBOOK = "balanced"


def playbook_named(name: str) -> Playbook:
    if name not in PLAYBOOKS:
        raise InvalidInput(
            "playbook", f"{name!r} is not a playbook; accepted: {', '.join(PLAYBOOKS)}"
        )
    return PLAYBOOKS[name]
