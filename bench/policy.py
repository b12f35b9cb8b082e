"""Time one `decide()` call on one core: median, p99 and decisions a second, against a baseline.

Run: .venv/bin/python bench/policy.py [--rounds N] [--inputs N]

The inputs mix every playbook and relationship, cycles from the first dial to past the final
voicemail, paused leads, several time zones and legal-hours regions, team settings and holiday
calendars; more than a third of the decisions come with a script. Each call is timed on its own with
`time.perf_counter_ns`. Two baselines run in the same process on the same inputs:

- harness: the same loop calling a no-op with the same arguments (the cost of the timing itself);
- no script: the decisions of the mix that leave no message (so no script is rendered).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# `policy` package; put the project root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import os
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import perf_counter_ns

from policy import PLAYBOOKS, Decision, History, Prospect, Relationship, Rep, Settings, decide
from policy.settings import settings_from_mapping

TARGET_MEDIAN_US = 50.0
SEED = 2026

PLACES = (  # (prospect time zone, legal-hours region)
    ("America/New_York", "US-NY"),
    ("America/New_York", "US-FL"),
    ("America/Chicago", "US"),
    ("America/Los_Angeles", "US-CA"),
    ("America/Toronto", "CA-ON"),
    ("America/Vancouver", "CA"),
    ("Europe/London", "GB"),
    ("Europe/Berlin", "DE"),
)
TEAM_SETTINGS: tuple[dict[str, object], ...] = (
    {},
    {"final_attempt": 4, "recycle_days": 120},
    {"min_gap": 3, "silence_days": 28, "silence_dials": 6},
    {"early_window": "07:30-08:30", "late_window": "17:00-19:00"},
    {"holidays_country": "GB"},
    {"holidays_country": "CA", "final_attempt": 6},
)
FIRST_NAMES = ("Jane", "Zoë", "Ana María", "Li", "Oluwaseun", "Jean-Luc", "Siobhán")
LAST_NAMES = ("Doe", "Ñúñez", "de la Cruz", "Wang", "Adeyemi", "Picard", "O'Brien")
COMPANIES = ("Acme", "Globex Corporation", "Initech", "Umbrella Holdings Group Ltd")
ITEMS = ("the proposal for the Q3 rollout", "the demo recording", "the quote", None, None)


@dataclass(frozen=True, slots=True)
class Call:
    rep: Rep
    prospect: Prospect
    history: History
    now: datetime
    playbook: str
    settings: Settings


def build_calls(count: int, rng: random.Random) -> list[Call]:
    reps = [
        Rep(name="Sam Lee", company="Northwind", phone="+1 555 010 0100"),
        Rep(
            name="Priya Raman",
            company="Contoso Analytics",
            phone="+44 20 7946 0958",
            pitch="we help finance teams close the books in half the time",
            timezone="Europe/London",
        ),
    ]
    settings = [settings_from_mapping(raw) for raw in TEAM_SETTINGS]
    playbooks = sorted(PLAYBOOKS)
    base = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    calls: list[Call] = []
    for _ in range(count):
        zone, region = rng.choice(PLACES)
        now = base + timedelta(minutes=rng.randrange(60 * 24 * 70))
        today = now.date()
        attempts = rng.randrange(0, 9)
        voicemails = rng.randrange(0, attempts + 1)
        since = None if voicemails == 0 else rng.randrange(0, attempts - voicemails + 1)
        relationship = rng.choice(list(Relationship))
        prospect = Prospect(
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            relationship=relationship,
            company=rng.choice(COMPANIES),
            timezone=zone,
            region=region,
            referred_by="Tom Ruiz" if relationship is Relationship.REFERRED else None,
            new_in_role=rng.random() < 0.2,
            open_followup=rng.choice(ITEMS),
            expecting_response=rng.random() < 0.1,
            last_conversation=(
                None
                if relationship is Relationship.STRANGER
                else today - timedelta(days=rng.randrange(1, 120))
            ),
            recycle_on=today + timedelta(days=rng.randrange(1, 60))
            if rng.random() < 0.05
            else None,
        )
        history = History(
            attempts=attempts,
            voicemails_left=voicemails,
            attempts_since_voicemail=since,
            dialed_zero=rng.random() < 0.5,
            recent_dials=tuple(
                now - timedelta(hours=rng.randrange(20, 24 * 10)) for _ in range(min(attempts, 3))
            ),
        )
        calls.append(
            Call(
                rng.choice(reps),
                prospect,
                history,
                now,
                rng.choice(playbooks),
                rng.choice(settings),
            )
        )
    return calls


def run_decide(call: Call) -> Decision:
    return decide(
        rep=call.rep,
        prospect=call.prospect,
        history=call.history,
        now=call.now,
        playbook=call.playbook,
        settings=call.settings,
    )


def no_op(
    *,
    rep: Rep,
    prospect: Prospect,
    history: History,
    now: datetime,
    playbook: str,
    settings: Settings,
) -> None:
    return None


def run_no_op(call: Call) -> None:
    no_op(
        rep=call.rep,
        prospect=call.prospect,
        history=call.history,
        now=call.now,
        playbook=call.playbook,
        settings=call.settings,
    )


def time_each(calls: Sequence[Call], rounds: int, run: Callable[[Call], object]) -> list[int]:
    """Nanoseconds of each call, every call `rounds` times, in a shuffled order per round."""
    samples: list[int] = []
    order = list(calls)
    shuffle = random.Random(SEED).shuffle
    for _ in range(rounds):
        shuffle(order)
        for call in order:
            start = perf_counter_ns()
            run(call)
            samples.append(perf_counter_ns() - start)
    return samples


@dataclass(frozen=True, slots=True)
class Figures:
    label: str
    calls: int
    median_us: float
    p99_us: float
    per_second: float

    def line(self) -> str:
        return (
            f"  {self.label:<34} {self.calls:>8}  {self.median_us:>9.2f}  {self.p99_us:>9.2f}"
            f"  {self.per_second:>12,.0f}"
        )


def figures(label: str, samples: Sequence[int]) -> Figures:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Figures(
        label=label,
        calls=len(ordered),
        median_us=statistics.median(ordered) / 1000,
        p99_us=p99 / 1000,
        per_second=1e9 / statistics.fmean(ordered),
    )


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=1000, help="distinct inputs (1000)")
    parser.add_argument("--rounds", type=int, default=30, help="times each input is decided (30)")
    args = parser.parse_args(argv)

    core = pin_to_one_core()
    calls = build_calls(args.inputs, random.Random(SEED))
    for _ in range(3):  # warm up: zone, holiday-calendar and template caches, the interpreter
        for call in calls:
            run_decide(call)

    decisions = [run_decide(call) for call in calls]
    with_script = [call for call, d in zip(calls, decisions, strict=True) if d.script is not None]
    without_script = [call for call, d in zip(calls, decisions, strict=True) if d.script is None]
    playbooks = sorted({call.playbook for call in calls})
    actions = sorted({d.action.value for d in decisions})

    harness = figures("harness: no-op, same arguments", time_each(calls, args.rounds, run_no_op))
    mixed = figures("decide(): the whole mix", time_each(calls, args.rounds, run_decide))
    plain = figures(
        "decide(): no script (baseline)", time_each(without_script, args.rounds, run_decide)
    )
    scripted = figures("decide(): with a script", time_each(with_script, args.rounds, run_decide))

    print(f"voicemail-coach policy benchmark: Python {sys.version.split()[0]}, {core}")
    print(
        f"{len(calls)} inputs x {args.rounds} rounds; {len(with_script)} with a script "
        f"({100 * len(with_script) / len(calls):.0f}%); playbooks: {', '.join(playbooks)}; "
        f"actions: {', '.join(actions)}"
    )
    print()
    print(f"  {'':<34} {'calls':>8}  {'median us':>9}  {'p99 us':>9}  {'decisions/s':>12}")
    for row in (harness, plain, scripted, mixed):
        print(row.line())
    print()
    print(
        f"decide() over the mix: median {mixed.median_us:.2f} us, p99 {mixed.p99_us:.2f} us, "
        f"{mixed.per_second:,.0f} decisions/s; the harness alone takes {harness.median_us:.2f} us."
    )
    print(
        f"a script adds {scripted.median_us - plain.median_us:+.2f} us at the median "
        f"(no script {plain.median_us:.2f} us, with a script {scripted.median_us:.2f} us)."
    )
    met = mixed.median_us <= TARGET_MEDIAN_US
    print(
        f"target: median <= {TARGET_MEDIAN_US:.0f} us per decision: "
        f"{'met' if met else 'NOT MET'} ({mixed.median_us:.2f} us)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
