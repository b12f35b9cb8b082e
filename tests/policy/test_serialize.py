"""The `decide` document: each reason cites its seed by file name and, beside it, by title."""

from __future__ import annotations

from policy import Relationship
from policy.serialize import decision_to_json
from policy.sources import SEED_TITLES
from tests.policy.conftest import decide_for


def test_a_reason_keeps_the_seed_file_name_and_adds_its_title() -> None:
    document = decision_to_json(
        decide_for(relationship=Relationship.REFERRED, referred_by="Tom Ruiz")
    )
    (reason,) = document["reasons"]
    assert reason["source"] == "003_b2ca0156507fd887.txt"
    assert reason["title"] == SEED_TITLES["003"]


def test_a_reason_citing_several_seeds_joins_their_titles() -> None:
    document = decision_to_json(
        decide_for(relationship=Relationship.KNOWN)
    )  # nothing to say: default
    (reason,) = document["reasons"]
    assert reason["rule"] == "default"
    assert reason["title"].split("; ") == [SEED_TITLES[n] for n in ("000", "001", "004")]


def test_an_overridden_reason_has_a_title_too() -> None:
    document = decision_to_json(
        decide_for(
            relationship=Relationship.REFERRED, referred_by="Tom", attempts=1, voicemails_left=1,
            attempts_since_voicemail=0,
        )
    )  # fmt: skip
    (lost,) = document["overridden"]
    assert (lost["rule"], lost["title"]) == ("referral", SEED_TITLES["003"])
