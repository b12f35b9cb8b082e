"""Run every benchmark, even after one misses its target, and sum them up at the end.

Run: .venv/bin/python bench/run_all.py [--policy=ARGS] [--store=ARGS] [--slack-http=ARGS]
    [--teams-http=ARGS]

Each benchmark runs in turn with its own arguments (one string each, split as a shell would) and
prints its figures as it goes. A benchmark missed when it exits non-zero or prints a line with
NOT MET; the summary names each one's verdict and the lines that missed, and the exit status is
1 if any benchmark missed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("policy", "store", "slack_http", "teams_http", "nudges")
NOT_MET = "NOT MET"


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    returncode: int
    missed_lines: tuple[str, ...]
    seconds: float

    @property
    def met(self) -> bool:
        return self.returncode == 0 and not self.missed_lines

    def line(self, width: int) -> str:
        verdict = "met" if self.met else NOT_MET
        exit_note = f", exit status {self.returncode}" if self.returncode else ""
        return f"  {self.name:<{width}}  {verdict:<7}  ({self.seconds:.1f} s{exit_note})"


def run_one(name: str, command: Sequence[str], out: TextIO) -> Outcome:
    """Run one benchmark, copying its output to `out` line by line as it comes."""
    print(f"==> {name}: {shlex.join(command)}", file=out, flush=True)
    started = time.perf_counter()
    missed: list[str] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            out.flush()
            if NOT_MET in line:
                missed.append(line.strip())
    print(file=out, flush=True)
    return Outcome(name, process.returncode, tuple(missed), time.perf_counter() - started)


def run_all(commands: Sequence[tuple[str, Sequence[str]]], out: TextIO) -> int:
    """Run every command whatever the others did; print the summary; 1 if any missed."""
    outcomes = [run_one(name, command, out) for name, command in commands]
    met = sum(outcome.met for outcome in outcomes)
    width = max((len(outcome.name) for outcome in outcomes), default=0)
    print(f"summary: {met} of {len(outcomes)} benchmarks met their targets", file=out)
    for outcome in outcomes:
        print(outcome.line(width), file=out)
        for missed in outcome.missed_lines:
            print(f"      {missed}", file=out)
    out.flush()
    return 0 if met == len(outcomes) else 1


def benchmark_commands(arguments: dict[str, str]) -> list[tuple[str, list[str]]]:
    return [
        (name, [sys.executable, str(HERE / f"{name}.py"), *shlex.split(arguments.get(name, ""))])
        for name in BENCHMARKS
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    for name in BENCHMARKS:
        option = name.replace("_", "-")
        parser.add_argument(
            f"--{option}",
            dest=name,
            default="",
            metavar="ARGS",
            help=f"arguments for bench/{name}.py, e.g. --{option}='--help'",
        )
    args = parser.parse_args(argv)
    commands = benchmark_commands({name: getattr(args, name) for name in BENCHMARKS})
    return run_all(commands, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
