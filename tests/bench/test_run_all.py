"""`make bench` (bench/run_all.py): every benchmark runs, and the summary says which missed."""

from __future__ import annotations

import io
import sys

from bench.run_all import benchmark_commands, run_all


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_every_benchmark_runs_after_one_misses_and_the_summary_names_each() -> None:
    out = io.StringIO()
    status = run_all(
        [
            ("first", python("print('target: fast: NOT MET (9 ms)'); raise SystemExit(1)")),
            ("second", python("print('target: fast: met (1 ms)')")),
            ("third", python("print('some rows: NOT MET (80%)')")),
            ("fourth", python("raise SystemExit(3)")),
        ],
        out,
    )
    text = out.getvalue()
    assert status == 1
    assert "target: fast: met (1 ms)" in text, "the benchmark after a miss still ran"
    summary = text[text.index("summary:") :]
    assert "summary: 1 of 4 benchmarks met their targets" in summary
    assert "first   NOT MET" in summary and "exit status 1" in summary
    assert "second  met" in summary
    assert "third   NOT MET" in summary and "some rows: NOT MET (80%)" in summary
    assert "fourth  NOT MET" in summary and "exit status 3" in summary


def test_all_met_exits_zero() -> None:
    out = io.StringIO()
    assert run_all([("only", python("print('target: met')"))], out) == 0
    assert "summary: 1 of 1 benchmarks met their targets" in out.getvalue()


def test_each_benchmark_gets_its_own_arguments() -> None:
    commands = dict(
        benchmark_commands({"store": "--reps 2 --prospects 10", "teams_http": "--seconds 2"})
    )
    assert list(commands) == ["policy", "store", "slack_http", "teams_http", "nudges"]
    assert commands["store"][-4:] == ["--reps", "2", "--prospects", "10"]
    assert commands["teams_http"][-3].endswith("bench/teams_http.py")
    assert commands["teams_http"][-2:] == ["--seconds", "2"]
    assert commands["policy"][-1].endswith("bench/policy.py")
