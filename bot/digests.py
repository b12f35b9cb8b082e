"""Team numbers from the check-in log: dials, connects, voicemails and their minutes, callbacks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.records import CheckIn, Outcome
from policy.decide import SECONDS_PER_VOICEMAIL


@dataclass(frozen=True, slots=True)
class Numbers:
    dials: int = 0
    connects: int = 0
    voicemails: int = 0
    callbacks: int = 0
    advice_given: int = 0
    advice_followed: int = 0

    @property
    def voicemail_minutes(self) -> float:
        return self.voicemails * SECONDS_PER_VOICEMAIL / 60

    @property
    def callback_rate(self) -> float | None:
        return None if self.voicemails == 0 else self.callbacks / self.voicemails

    @property
    def followed_rate(self) -> float | None:
        return None if self.advice_given == 0 else self.advice_followed / self.advice_given


def count(check_ins: Iterable[CheckIn]) -> Numbers:
    dials = connects = voicemails = callbacks = given = followed = 0
    for check_in in check_ins:
        outcome = check_in.outcome
        dials += outcome.is_dial
        connects += outcome.is_conversation and outcome is not Outcome.CALLED_BACK
        voicemails += outcome is Outcome.LEFT
        callbacks += outcome is Outcome.CALLED_BACK
        given += check_in.followed is not None
        followed += check_in.followed is True
    return Numbers(dials, connects, voicemails, callbacks, given, followed)


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"
