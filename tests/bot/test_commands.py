"""The /voicemail grammar: every command parses, every mistake names its part and usage."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.coach import Coach
from bot.commands import (
    MAX_REPS,
    USAGE,
    AddToTeam,
    AskDecision,
    ChangeSettings,
    Command,
    EditProfile,
    Export,
    Facts,
    Forget,
    GrammarError,
    Help,
    LogOutcome,
    ProspectRef,
    RemoveFromTeam,
    RepRef,
    ShowHistory,
    ShowMembers,
    ShowQueue,
    ShowTeam,
    needs_manager,
    parse,
    tokenize,
)
from bot.records import Outcome
from bot.store import SQLiteStore
from bot.types import Actor, Platform, Request, Role, Tone
from policy import Relationship
from policy.limits import (
    MAX_COMMAND,
    MAX_COMPANY,
    MAX_FOLLOWUP,
    MAX_ID,
    MAX_NAME,
    MAX_NOTE,
    MAX_PHONE,
    MAX_PITCH,
    MAX_TIMEZONE,
)

JANE = ProspectRef("Jane Doe", "Acme")


def ask(text: str) -> AskDecision:
    command = parse(text)
    assert isinstance(command, AskDecision), command
    return command


def facts_of(text: str) -> Facts:
    command = ask(text)
    assert command.prospect == JANE
    return command.facts


def grammar_error(text: str) -> GrammarError:
    with pytest.raises(GrammarError) as caught:
        parse(text)
    return caught.value


# --- decisions ----------------------------------------------------------------------------


def test_a_bare_prospect_asks_for_a_decision_with_no_facts() -> None:
    assert parse("Jane Doe @ Acme") == AskDecision(JANE, Facts())


@pytest.mark.parametrize(
    "text",
    [
        "Jane Doe at Acme",
        "Jane Doe AT Acme",
        "Jane Doe@Acme",
        "  Jane   Doe  @  Acme  ",
        '"Jane Doe" @ "Acme"',
        "\u201cJane Doe\u201d @ \u201cAcme\u201d",
        "'Jane Doe' @ 'Acme'",
        "\u2018Jane Doe\u2019 @ \u2018Acme\u2019",
    ],
)
def test_the_prospect_may_be_written_many_ways(text: str) -> None:
    assert ask(text).prospect == JANE


def test_a_quoted_company_may_hold_fact_words() -> None:
    command = ask('Jane Doe @ "New Known Stranger Inc" client')
    assert command.prospect == ProspectRef("Jane Doe", "New Known Stranger Inc")
    assert command.facts.relationship is Relationship.CLIENT


def test_a_company_of_several_words_ends_at_the_first_fact() -> None:
    command = ask("Jane Doe @ Acme Widgets Ltd known")
    assert command.prospect == ProspectRef("Jane Doe", "Acme Widgets Ltd")
    assert command.facts.relationship is Relationship.KNOWN


def test_referred_by_names_the_referrer() -> None:
    facts = facts_of("Jane Doe @ Acme referred by Tom Ruiz")
    assert facts.relationship is Relationship.REFERRED
    assert facts.referred_by == "Tom Ruiz"


def test_referred_by_a_quoted_name_and_more_facts_after_it() -> None:
    facts = facts_of('Jane Doe @ Acme REFERRED BY "Tom Ruiz" New In Role')
    assert facts.referred_by == "Tom Ruiz"
    assert facts.new_in_role is True


def test_referred_by_nobody_named_is_still_a_referral() -> None:
    facts = facts_of("Jane Doe @ Acme referred by")
    assert facts.relationship is Relationship.REFERRED
    assert facts.referred_by is None


@pytest.mark.parametrize("item", ["proposal", "demo", "quote", "brochure"])
def test_each_followup_item_with_a_straight_quoted_subject(item: str) -> None:
    facts = facts_of(f'Jane Doe @ Acme {item} "Q3 rollout"')
    assert facts.open_followup == f"the {item} for Q3 rollout"


@pytest.mark.parametrize("item", ["proposal", "demo", "quote", "brochure"])
def test_each_followup_item_with_a_curly_quoted_subject(item: str) -> None:
    facts = facts_of(f"Jane Doe @ Acme {item.upper()} \u201cthe Q3 rollout\u201d")
    assert facts.open_followup == f"the {item} for the Q3 rollout"


def test_a_followup_subject_may_go_unquoted_up_to_the_next_fact() -> None:
    facts = facts_of("Jane Doe @ Acme proposal Q3 rollout known")
    assert facts.open_followup == "the proposal for Q3 rollout"
    assert facts.relationship is Relationship.KNOWN


def test_a_followup_without_a_subject_names_just_the_item() -> None:
    assert facts_of("Jane Doe @ Acme demo").open_followup == "the demo"


@pytest.mark.parametrize("text", ["new in role", "New In The Role", "NEW IN ROLE"])
def test_new_in_role(text: str) -> None:
    assert facts_of(f"Jane Doe @ Acme {text}").new_in_role is True


@pytest.mark.parametrize(
    "text", ["expecting reply", "expecting response", "Expecting a Reply", "expecting answer"]
)
def test_expecting_a_reply(text: str) -> None:
    assert facts_of(f"Jane Doe @ Acme {text}").expecting_response is True


@pytest.mark.parametrize("word", ["client", "known", "stranger", "Client", "KNOWN"])
def test_each_relationship_word(word: str) -> None:
    assert facts_of(f"Jane Doe @ Acme {word}").relationship is Relationship(word.lower())


@pytest.mark.parametrize("word", ["tz", "timezone", "TZ"])
def test_a_time_zone(word: str) -> None:
    assert facts_of(f"Jane Doe @ Acme {word} America/Chicago").timezone == "America/Chicago"


@pytest.mark.parametrize(("raw", "region"), [("US-FL", "US-FL"), ("ca", "CA"), ("de-by", "DE-BY")])
def test_a_region_is_upper_cased(raw: str, region: str) -> None:
    assert facts_of(f"Jane Doe @ Acme region {raw}").region == region


@pytest.mark.parametrize("code", ["XX", "xx", "US-ZZ", "EU"])
def test_a_region_that_is_not_iso_3166_is_refused_naming_the_known_ones(code: str) -> None:
    error = grammar_error(f"Jane Doe @ Acme region {code}")
    assert (error.command, error.part) == ("decide", f"region {code}")
    assert "ISO 3166" in error.problem
    assert "known for US, US-FL, CA" in error.problem


def test_every_fact_at_once() -> None:
    facts = facts_of(
        "Jane Doe AT Acme referred by Tom proposal \u201cQ3 rollout\u201d new in role "
        "expecting response tz Europe/Paris region FR"
    )
    assert facts == Facts(
        relationship=Relationship.REFERRED,
        referred_by="Tom",
        open_followup="the proposal for Q3 rollout",
        new_in_role=True,
        expecting_response=True,
        timezone="Europe/Paris",
        region="FR",
    )


def test_the_last_relationship_word_wins() -> None:
    assert facts_of("Jane Doe @ Acme referred by Tom client").relationship is Relationship.CLIENT


# --- a leading `voicemail`, `at` inside a name, and typos of command words -----------------


@pytest.mark.parametrize(
    "text", ["voicemail Jane Doe @ Acme", "/voicemail Jane Doe @ Acme", "VOICEMAIL Jane Doe @ Acme"]
)
def test_a_leading_voicemail_word_is_dropped(text: str) -> None:
    assert parse(text) == AskDecision(JANE, Facts())


def test_a_leading_voicemail_word_is_dropped_before_any_command() -> None:
    assert parse("voicemail history Jane Doe @ Acme") == ShowHistory(JANE)
    assert parse("/voicemail") == Help()


@pytest.mark.parametrize(
    ("text", "prospect"),
    [
        ("Matt At @ Acme", ProspectRef("Matt At", "Acme")),
        ("Jane Doe @ Eat At Joes", ProspectRef("Jane Doe", "Eat At Joes")),
        ("Jane Doe at Acme", JANE),
    ],
)
def test_at_separates_only_on_a_line_without_an_at_sign(text: str, prospect: ProspectRef) -> None:
    assert ask(text).prospect == prospect


@pytest.mark.parametrize(
    ("text", "command", "corrected"),
    [
        ("histroy Jane Doe @ Acme", "history", "history Jane Doe @ Acme"),
        ("hsitory Jane Doe @ Acme", "history", "history Jane Doe @ Acme"),
        ("lgo Jane Doe @ Acme left", "log", "log Jane Doe @ Acme left"),
        ("logg Jane Doe @ Acme left", "log", "log Jane Doe @ Acme left"),
        ("forgte Jane Doe @ Acme", "forget", "forget Jane Doe @ Acme"),
        ("forgt Jane Doe @ Acme", "forget", "forget Jane Doe @ Acme"),
        ("setings playbook balanced", "settings", "settings playbook balanced"),
        ("setting final-attempt 4", "settings", "settings final-attempt 4"),
        ("em name Sam Lee", "me", "me name Sam Lee"),
        ("queeu", "queue", "queue"),
        ("tody", "queue", "today"),
        ("teams", "team", "team"),
        ("exprot", "export", "export"),
        ("hlep", "help", "help"),
        ('histroy "Jane Doe" @ Acme', "history", 'history "Jane Doe" @ Acme'),
    ],
)
def test_a_near_miss_of_a_command_word_suggests_the_corrected_line(
    text: str, command: str, corrected: str
) -> None:
    error = grammar_error(text)
    assert error.command == command
    assert error.part == text.split()[0]
    assert error.problem == f"did you mean `{corrected}`?"
    assert isinstance(parse(corrected), type(parse(USAGE[command].example)))


@pytest.mark.parametrize(
    ("text", "prospect"),
    [
        ("Lou Reed @ Acme", ProspectRef("Lou Reed", "Acme")),  # `log Reed @ Acme`: no outcome
        ("Tam Lin @ Acme", ProspectRef("Tam Lin", "Acme")),  # `team` takes nothing after it
        ("Lo Wang @ Acme left", ProspectRef("Lo Wang", "Acme left")),  # short: swaps only
        ("Lou Reed @ Acme left", ProspectRef("Lou Reed", "Acme left")),
        ("Meg Ryan @ Acme", ProspectRef("Meg Ryan", "Acme")),  # `me Ryan`: no profile field
        ("Hel Doe @ Acme", ProspectRef("Hel Doe", "Acme")),  # `help` counts only alone
        ("Logan Roy @ Acme left", ProspectRef("Logan Roy", "Acme left")),
        ("Histories Jane @ Acme", ProspectRef("Histories Jane", "Acme")),  # two edits away
        ('"Histroy" Jane @ Acme', ProspectRef("Histroy Jane", "Acme")),  # quoted: a name
    ],
)
def test_a_name_that_only_looks_like_a_command_word_still_asks_for_a_decision(
    text: str, prospect: ProspectRef
) -> None:
    assert ask(text).prospect == prospect


# --- log ----------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(Outcome))
def test_log_takes_every_outcome(outcome: Outcome) -> None:
    assert parse(f"log Jane Doe @ Acme {outcome.value}") == LogOutcome(JANE, outcome)


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("voicemail", Outcome.LEFT),
        ("vm", Outcome.LEFT),
        ("VM", Outcome.LEFT),
        ("skip", Outcome.SKIPPED),
        ("hung-up", Outcome.SKIPPED),
        ("reached", Outcome.LIVE),
        ("noanswer", Outcome.NO_ANSWER),
        ("callback", Outcome.CALLED_BACK),
        ("Left", Outcome.LEFT),
        ("NOT-INTERESTED", Outcome.NOT_INTERESTED),
    ],
)
def test_log_outcome_aliases(word: str, outcome: Outcome) -> None:
    assert parse(f"log Jane Doe @ Acme {word}") == LogOutcome(JANE, outcome)


def test_log_keeps_a_note() -> None:
    assert parse("LOG Jane Doe at Acme live asked for pricing in May") == LogOutcome(
        JANE, Outcome.LIVE, "asked for pricing in May"
    )


def test_log_with_a_quoted_company() -> None:
    assert parse('log Jane Doe @ "Left Bank Cafe" left') == LogOutcome(
        ProspectRef("Jane Doe", "Left Bank Cafe"), Outcome.LEFT
    )


# --- the other commands -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["queue", "today", "Queue", " TODAY "])
def test_queue(text: str) -> None:
    assert parse(text) == ShowQueue()


def test_history() -> None:
    assert parse("history Jane Doe @ Acme") == ShowHistory(JANE)
    assert parse("History Jane Doe at Acme") == ShowHistory(JANE)


def test_forget() -> None:
    assert parse("forget Jane Doe @ Acme") == Forget(JANE)
    assert parse("FORGET \u201cJane Doe\u201d at Acme") == Forget(JANE)


def test_me_without_a_field_shows_the_profile() -> None:
    assert parse("me") == EditProfile()


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("me name Sam Lee", "name", "Sam Lee"),
        ("me company Northwind Traders", "company", "Northwind Traders"),
        ("me phone +1 555 010 0100", "phone", "+1 555 010 0100"),
        ("me pitch we help finance teams", "pitch", "we help finance teams"),
        ("me timezone Europe/Paris", "timezone", "Europe/Paris"),
        ("me tz America/Chicago", "timezone", "America/Chicago"),
        ("ME NAME Sam", "name", "Sam"),
    ],
)  # fmt: skip
def test_me_with_each_field(text: str, field: str, value: str) -> None:
    assert parse(text) == EditProfile(field, value)


def test_team() -> None:
    assert parse("team") == ShowTeam()
    assert parse("TEAM") == ShowTeam()


@pytest.mark.parametrize(
    ("text", "nudge"),
    [("me nudge 07:30", "07:30"), ("me nudge 7:30", "07:30"), ("ME NUDGE 23:59", "23:59"),
     ("me nudge 0:00", "00:00"), ("me nudge off", "off"), ("me nudge OFF", "off")],
)  # fmt: skip
def test_me_nudge_takes_a_24_hour_time_or_off(text: str, nudge: str) -> None:
    assert parse(text) == EditProfile("nudge", nudge)


def test_team_members() -> None:
    assert parse("team members") == ShowMembers()


SAM_REF = RepRef("sam", mentioned=False)


@pytest.mark.parametrize(
    ("text", "reps"),
    [
        ("team add sam", (SAM_REF,)),
        ("team add @sam", (SAM_REF,)),
        ("team add sam, alex.kim", (SAM_REF, RepRef("alex.kim", mentioned=False))),
        ("team add sam,alex_k @lee-2", (SAM_REF, RepRef("alex_k", mentioned=False),
                                        RepRef("lee-2", mentioned=False))),
        ("team add <@U0123ABC>", (RepRef("U0123ABC"),)),
        ("team add <@U0123ABC|Dana Smith>", (RepRef("U0123ABC", "Dana Smith"),)),
        ("team add <@U1|Smith, Dana>,<@U2>", (RepRef("U1", "Smith, Dana"), RepRef("U2"))),
        ("team add <@29:1aB-_x|Lee>", (RepRef("29:1aB-_x", "Lee"),)),
        ("team add <@U1> sam <@U1> sam", (RepRef("U1"), SAM_REF)),  # each once
        ('team add "sam"', (SAM_REF,)),
    ],
)  # fmt: skip
def test_team_add_names_reps_by_mention_or_user_name(text: str, reps: tuple[RepRef, ...]) -> None:
    assert parse(text) == AddToTeam(reps)
    assert parse(text.replace("add", "remove", 1)) == RemoveFromTeam(reps)


def test_a_mention_is_one_token_and_leaves_other_lines_as_they_were() -> None:
    assert [t.text for t in tokenize("team add <@U1|Dana  Smith>x")] == [
        "team", "add", "<@U1|Dana Smith>", "x",
    ]  # fmt: skip
    # `@` splits words as it always did, quoted or not; an unclosed `<@` is plain text.
    assert [t.text for t in tokenize('Jane Doe@Acme "a@b" x<@ y')] == [
        "Jane", "Doe", "@", "Acme", "a @ b", "x<", "@", "y",
    ]  # fmt: skip


def test_team_add_takes_at_most_the_limit_of_reps() -> None:
    parse("team add " + " ".join(f"rep{i}" for i in range(MAX_REPS)))
    error = grammar_error("team add " + " ".join(f"rep{i}" for i in range(MAX_REPS + 1)))
    assert error.problem == f"names {MAX_REPS + 1} reps; at most {MAX_REPS} at a time"
    assert error.usage == USAGE["team add"]


@pytest.mark.parametrize("text", [f"team add <@{'U' * 129}>", f"team add {'u' * 129}"])
def test_a_rep_id_longer_than_the_limit_is_refused(text: str) -> None:
    error = grammar_error(text)
    assert error.problem.endswith(f"is 129 characters long; at most {MAX_ID}")
    assert len(error.part) <= 30


def test_a_mentions_display_name_is_bounded() -> None:
    error = grammar_error(f"team add <@U1|{'D' * (MAX_NAME + 1)}>")
    assert error.problem.startswith("the rep's name is 101 characters long")


@pytest.mark.parametrize(
    ("text", "corrected"),
    [("tema add @sam", "team add @sam"), ("taem members", "team members"),
     ("tem remove <@U1>", "team remove <@U1>")],
)  # fmt: skip
def test_a_near_miss_of_team_suggests_the_line_as_typed(text: str, corrected: str) -> None:
    error = grammar_error(text)
    assert error.problem == f"did you mean `{corrected}`?"
    assert error.usage == USAGE["team add"]
    parse(corrected)


def test_a_near_miss_of_me_nudge_shows_the_nudges_usage() -> None:
    error = grammar_error("em nudge 7:30")
    assert error.problem == "did you mean `me nudge 7:30`?"
    assert error.usage == USAGE["me nudge"]


@pytest.mark.parametrize("text", ["Tea Add Jo at Acme", "Tea Add Jo @ Acme", "Tam Lin @ Acme"])
def test_a_name_like_team_add_with_a_company_is_still_a_decision(text: str) -> None:
    assert isinstance(parse(text), AskDecision)


def test_settings_digest_takes_each_cadence() -> None:
    for word in ("daily", "weekly", "both", "off", "WEEKLY"):
        assert parse(f"settings digest {word}") == ChangeSettings("digest", word.casefold())


def test_settings_without_a_name_shows_them() -> None:
    assert parse("settings") == ChangeSettings()


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("settings playbook it-depends", "playbook", "it-depends"),
        ("settings playbook Rapport-Series", "playbook", "rapport-series"),
        ("settings final-attempt 4", "final_attempt", "4"),
        ("settings recycle-days 120", "recycle_days", "120"),
        ("settings min-gap 3", "min_gap", "3"),
        ("settings silence-days 30", "silence_days", "30"),
        ("settings silence-dials 6", "silence_dials", "6"),
        ("settings early-window 07:30-08:30", "early_window", "07:30-08:30"),
        ("settings late-window 17:00-18:00", "late_window", "17:00-18:00"),
        ("settings holidays-country GB", "holidays_country", "GB"),
        ("settings holidays DE-BY", "holidays_country", "DE-BY"),
        ("SETTINGS FINAL-ATTEMPT 4", "final_attempt", "4"),
        ("settings final_attempt 4", "final_attempt", "4"),
        ("settings recycle_days 120", "recycle_days", "120"),
        ("settings min_gap 3", "min_gap", "3"),
        ("settings silence_days 30", "silence_days", "30"),
        ("settings silence_dials 6", "silence_dials", "6"),
        ("settings early_window 07:30-08:30", "early_window", "07:30-08:30"),
        ("settings late_window 17:00-18:00", "late_window", "17:00-18:00"),
        ("settings holidays_country GB", "holidays_country", "GB"),
        ("SETTINGS Final_Attempt 4", "final_attempt", "4"),
    ],
)
def test_settings_with_each_setting_word(text: str, name: str, value: str) -> None:
    assert parse(text) == ChangeSettings(name, value)


def test_export() -> None:
    assert parse("export") == Export()


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "help me please"])
def test_help_and_empty_text(text: str) -> None:
    assert parse(text) == Help()


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("decide", AskDecision),
        ("log", LogOutcome),
        ("queue", ShowQueue),
        ("history", ShowHistory),
        ("me", EditProfile),
        ("me nudge", EditProfile),
        ("team", ShowTeam),
        ("team add", AddToTeam),
        ("settings", ChangeSettings),
        ("forget", Forget),
        ("export", Export),
        ("help", Help),
    ],
)
def test_every_usage_example_parses_as_its_own_command(command: str, kind: type) -> None:
    assert isinstance(parse(USAGE[command].example), kind)


def test_usage_covers_every_command() -> None:
    assert set(USAGE) == {
        "decide", "log", "queue", "history", "me", "me nudge", "team", "team add", "settings",
        "forget", "export", "help",
    }  # fmt: skip


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "part", "problem"),
    [
        ("Jane Doe from Acme", "decide", "Jane Doe from Acme", "@"),
        ("@ Acme", "decide", "@", "name"),
        ("Jane Doe @", "decide", "Jane Doe", "company"),
        ("Jane Doe at", "decide", "Jane Doe", "company"),
        ('Jane Doe @ "Acme" likes golf', "decide", "likes golf", "not a fact"),
        ("Jane Doe @ Acme known likes golf", "decide", "likes golf", "not a fact"),
        ("Jane Doe @ Acme tz Mars/Olympus", "decide", "tz Mars/Olympus", "IANA time zone"),
        ("Jane Doe @ Acme tz", "decide", "tz", "needs a value"),
        ("Jane Doe @ Acme region Florida", "decide", "region Florida", "ISO 3166"),
        ("Jane Doe @ Acme region", "decide", "region", "needs a value"),
        ("Jane Doe @ Acme referred Tom", "decide", "referred Tom", "referred by"),
        ("Jane Doe @ Acme new hire", "decide", "new hire", "new in role"),
        ("Jane Doe @ Acme expecting money", "decide", "expecting money", "expecting reply"),
        ("log Jane Doe Acme left", "log", "Jane Doe Acme left", "@"),
        ("log @ Acme left", "log", "@", "name"),
        ("log Jane Doe @", "log", "Jane Doe", "company"),
        ("log Jane Doe @ Acme", "log", "Acme", "outcome is missing"),
        ("log Jane Doe @ Acme Widgets", "log", "Widgets", "outcome is missing"),
        ('log Jane Doe @ "Acme" fabulous', "log", "fabulous", "not an outcome"),
        ("history Jane Doe", "history", "Jane Doe", "@"),
        ("history @ Acme", "history", "@", "name"),
        ("history Jane Doe @", "history", "Jane Doe", "company"),
        ("forget Jane Doe", "forget", "Jane Doe", "@"),
        ("forget", "forget", "(nothing)", "@"),
        ("me shoe size 9", "me", "shoe", "not a profile field"),
        ("me phone", "me", "phone", "give a value"),
        ("settings colour blue", "settings", "colour", "not a setting"),
        ("settings final-attempt", "settings", "final-attempt", "give a value"),
        ("settings playbook always-leave", "settings", "always-leave", "not a playbook"),
        ("queue now please", "queue", "now please", "takes nothing"),
        ("today Acme", "queue", "Acme", "takes nothing"),
        ("team all of it", "team add", "all of it", "add, remove or members"),
        ("team add", "team add", "add", "at least one rep"),
        ("team remove , ,", "team add", "remove", "at least one rep"),
        ("team members please", "team add", "please", "takes nothing"),
        ("team add sam@corp", "team add", "sam@corp", "not a rep"),
        ("team add @", "team add", "@", "not a rep"),
        ("team add <@U1 x>", "team add", "<@U1", "not a rep"),
        ("team add <!here>", "team add", "<!here>", "not a rep"),
        ("team add <@U1;drop>", "team add", "<@U1;drop>", "not a rep"),
        ("me nudge 25:00", "me nudge", "25:00", "00:00 to 23:59"),
        ("me nudge 7:60", "me nudge", "7:60", "HH:MM on the 24-hour clock"),
        ("me nudge 7am", "me nudge", "7am", "or off"),
        ("me nudge", "me nudge", "nudge", "give a time"),
        ("settings digest monthly", "settings", "monthly", "daily, weekly, both, off"),
        ("export csv", "export", "csv", "takes nothing"),
    ],
)
def test_each_mistake_names_its_part_and_the_commands_usage(
    text: str, command: str, part: str, problem: str
) -> None:
    error = grammar_error(text)
    assert error.command == command
    assert error.part == part
    assert problem in error.problem
    assert error.usage == USAGE[command]
    assert error.usage.example
    assert isinstance(parse(error.usage.example), type(parse(USAGE[command].example)))


def test_the_unknown_profile_field_error_lists_the_fields() -> None:
    error = grammar_error("me email sam@example.com")
    for name in ("name", "company", "phone", "pitch", "timezone"):
        assert name in error.problem


def test_the_unknown_setting_error_lists_the_settings() -> None:
    error = grammar_error("settings aggressiveness 11")
    for name in ("playbook", "final-attempt", "recycle-days", "early-window"):
        assert name in error.problem


def test_the_unknown_setting_error_says_either_spelling_is_accepted() -> None:
    assert "(with - or _)" in grammar_error("settings final__attempt 4").problem
    assert "(with - or _)" not in grammar_error("me shoe size 9").problem


def test_the_unknown_playbook_error_lists_the_playbooks() -> None:
    error = grammar_error("settings playbook yolo")
    for name in ("balanced", "live-only", "selective", "rapport-series", "it-depends"):
        assert name in error.problem


def test_the_missing_outcome_error_lists_the_outcomes() -> None:
    error = grammar_error("log Jane Doe @ Acme")
    for outcome in Outcome:
        assert outcome.value in error.problem


# --- properties ---------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "@", "at", "AT", '"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "log", "me",
        "settings", "history", "forget", "queue", "team", "export", "help", "referred", "by",
        "new", "in", "role", "expecting", "reply", "tz", "region", "proposal", "demo", "known",
        "stranger", "client", "left", "vm", "playbook", "final-attempt", "phone", "Jane", "Acme",
        "America/Chicago", "US-FL", "\n", "\t", " ", "add", "remove", "members", "nudge",
        "digest", "<@U1>", "<@U2|Dana Lee>", "<@", ",", "07:30", "off",
    ]
)  # fmt: skip
QUOTES = st.sampled_from([('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019")])
QUOTED = st.builds(lambda q, w: f"{q[0]}{w}{q[1]}", QUOTES, st.one_of(WORDS, st.text(max_size=6)))
PIECE = st.one_of(WORDS, QUOTED, st.text(max_size=5))
COMMAND_LIKE = st.builds(
    lambda head, name, at, company, tail: " ".join([head, *name, at, company, *tail]),
    st.sampled_from(
        ["", "log", "history", "forget", "me", "settings", "queue", "LOG", "team add", "me nudge"]
    ),
    st.lists(PIECE, max_size=3),
    st.sampled_from(["@", "at", "", "@@"]),
    st.one_of(QUOTED, WORDS, st.text(max_size=6)),
    st.lists(PIECE, max_size=5),
)
TEXT = st.one_of(
    COMMAND_LIKE,
    st.text(),
    st.text(alphabet=st.sampled_from("@\"'\u201c\u201d\u2018\u2019 abAT\n")),
    st.lists(PIECE, max_size=12).map(" ".join),
)


@given(TEXT)
@example('log Jane Doe @ "Acme" fabulous')
@example("Jane Doe @ Acme tz")
@settings(max_examples=1000)
def test_parse_raises_nothing_but_grammar_errors(text: str) -> None:
    try:
        command = parse(text)
    except GrammarError as error:
        assert error.usage == USAGE[error.command]
        return
    assert isinstance(command, Command)


REP = Actor(Platform.CONSOLE, "tenant-a", "rep-1", "Sam Lee", "America/New_York", role=Role.REP)


def _rows(path: Path) -> dict[str, int]:
    """How many rows each table holds, read through a connection of its own."""
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables
        }


async def _talk(path: Path, text: str) -> tuple[dict[str, int], Tone, list[object], dict[str, int]]:
    store = await SQLiteStore.open(path)
    try:
        before = _rows(path)
        reply = await Coach(store).handle(Request(REP, text=text))
        prospects = (await store.export_rep(REP.tenant, REP.user_id))["prospects"]
    finally:
        await store.close()
    return before, reply.tone, prospects, _rows(path)


@given(TEXT)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_text_never_breaks_the_conversation_nor_stores_what_did_not_parse(
    tmp_path: Path, text: str
) -> None:
    try:
        parse(text)
        parsed = True
    except GrammarError:
        parsed = False
    before, tone, prospects, after = asyncio.run(_talk(tmp_path / f"{uuid.uuid4().hex}.db", text))
    if not parsed:
        assert tone is Tone.ERROR
        assert prospects == []
        assert after == before
        assert after["prospects"] == 0


@pytest.mark.parametrize(
    "text", ["histroy Jane Doe @ Acme", "lgo Jane Doe @ Acme left", "forgte Jane Doe @ Acme"]
)
def test_a_typo_of_a_command_word_stores_no_prospect(tmp_path: Path, text: str) -> None:
    before, tone, prospects, after = asyncio.run(_talk(tmp_path / "coach.db", text))
    assert tone is Tone.ERROR
    assert prospects == []
    assert after == before


# --- length limits: every free-text field, and the whole line -----------------------------

LONG = "x" * 100_000


@pytest.mark.parametrize(
    ("text", "command", "what", "limit"),
    [
        (f"{'J' * 101} @ Acme", "decide", "the prospect's name is 101", MAX_NAME),
        (f"Jane Doe @ {'A' * 101}", "decide", "the company is 101", MAX_COMPANY),
        (f"history {'J' * 101} @ Acme", "history", "the prospect's name is 101", MAX_NAME),
        (f"log Jane Doe @ {'A' * 101} left", "log", "the company is 101", MAX_COMPANY),
        (f"Jane Doe @ Acme referred by {'T' * 101}", "decide", "the referrer's name", MAX_NAME),
        (f'Jane Doe @ Acme demo "{"d" * 201}"', "decide", "what the demo is for", MAX_FOLLOWUP),
        (f"Jane Doe @ Acme tz {'z' * 65}", "decide", "the time zone is 65", MAX_TIMEZONE),
        (f"log Jane Doe @ Acme live {'n' * 501}", "log", "the note is 501", MAX_NOTE),
        (f"me name {'S' * 101}", "me", "your name is 101", MAX_NAME),
        (f"me company {'N' * 101}", "me", "your company is 101", MAX_COMPANY),
        (f"me pitch {'p' * 201}", "me", "your pitch is 201", MAX_PITCH),
        (f"me phone +1 {'5' * 40}", "me", "your phone is 43", MAX_PHONE),
        (f"settings min-gap {'3' * 41}", "settings", "the value of min-gap is 41", 40),
        (f"{LONG} @ Acme", "decide", "the whole command is 100,007", MAX_COMMAND),
        (f"log {LONG}", "log", "the whole command is 100,004", MAX_COMMAND),
    ],
)
def test_an_overlong_field_names_itself_its_length_and_the_limit(
    text: str, command: str, what: str, limit: int
) -> None:
    error = grammar_error(text)
    assert error.command == command
    assert error.problem.startswith(what)
    assert error.problem.endswith(f"characters long; at most {limit:,}")
    assert len(error.part) <= 30  # quoted back cut short, never whole


@pytest.mark.parametrize(
    "text",
    [
        f"{'J' * MAX_NAME} @ {'A' * MAX_COMPANY} referred by {'T' * MAX_NAME}",
        f'Jane Doe @ Acme proposal "{"p" * MAX_FOLLOWUP}"',
        f"log Jane Doe @ Acme live {'n' * MAX_NOTE}",
        f"me pitch {'p' * MAX_PITCH}",
    ],
)
def test_fields_at_their_limit_are_accepted(text: str) -> None:
    parse(text)


def test_an_overlong_name_stores_nothing(tmp_path: Path) -> None:
    before, tone, prospects, after = asyncio.run(_talk(tmp_path / "coach.db", f"{LONG} @ Acme"))
    assert tone is Tone.ERROR
    assert prospects == []
    assert after == before


MANAGER_ONLY = [
    "team", "team add <@U2>", "team remove <@U2|Sam>", "team members",
    "settings final-attempt 4", "settings digest daily", "settings playbook it-depends",
]  # fmt: skip
FOR_EVERYONE = [
    "settings", "me", "me phone +1 555 010 0100", "queue", "history Jane Doe @ Acme",
    "log Jane Doe @ Acme left", "Jane Doe @ Acme", "forget me", "export", "help",
]  # fmt: skip


@pytest.mark.parametrize("text", MANAGER_ONLY + FOR_EVERYONE)
def test_needs_manager_names_exactly_what_the_coach_refuses_a_rep(
    tmp_path: Path, text: str
) -> None:
    """An adapter reads a manager's role fresh for these: it must not miss one."""

    async def refused() -> bool:
        store = await SQLiteStore.open(tmp_path / "coach.db")
        try:
            reply = await Coach(store).handle(Request(REP, text=text))
        finally:
            await store.close()
        return reply.heading == "Managers only"

    assert needs_manager(parse(text)) is (text in MANAGER_ONLY)
    assert asyncio.run(refused()) is (text in MANAGER_ONLY)
