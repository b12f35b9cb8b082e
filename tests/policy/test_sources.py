"""The seeds a rule cites: file names for the `decide` contract, titles for a rep to read."""

from __future__ import annotations

import pytest

from policy.playbooks import PLAYBOOKS
from policy.rules import Rule
from policy.sources import SEED_TITLES, SEEDS, cite, titles_of

EVERY_RULE = {rule.id: rule for playbook in PLAYBOOKS.values() for rule in playbook.rules}


@pytest.mark.parametrize("rule", EVERY_RULE.values(), ids=EVERY_RULE.keys())
def test_every_rule_source_reads_back_as_the_titles_of_its_seeds(rule: Rule) -> None:
    assert titles_of(rule.source) == tuple(SEED_TITLES[number] for number in rule.seeds)


def test_a_source_citing_three_seeds_has_three_titles_in_order() -> None:
    source = cite(("000", "001", "004"))
    assert source == "000_184dd2ee0c5ff35b.txt, 001_ccbf0b249bdf9e27.txt, 004_2bf98609b3b3d331.txt"
    assert titles_of(source) == (SEED_TITLES["000"], SEED_TITLES["001"], SEED_TITLES["004"])


def test_titles_are_short_distinct_and_never_a_file_name() -> None:
    titles = list(SEED_TITLES.values())
    assert SEED_TITLES.keys() == SEEDS.keys()
    assert len(set(titles)) == len(titles)
    for title in titles:
        assert len(title) <= 75
        assert ".txt" not in title
        assert ";" not in title  # the separator when a reason cites several
