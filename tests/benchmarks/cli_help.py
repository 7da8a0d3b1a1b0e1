"""``press-intake --help``: CPU of the whole process against ``python -c "import typer"``.

Method
------
Each sample is a fresh process started from this one; its CPU (user + system) comes from
``resource.getrusage(RUSAGE_CHILDREN)`` before and after ``subprocess.run``, so interpreter
start-up and teardown count on both sides, as they do for a person typing the command. The two
commands alternate (order swapped every pair) so that drift affects both alike; one discarded
warm-up run of each comes first so that every ``.pyc`` exists. The command is the installed
console script (``press-intake`` next to ``sys.executable``) with the checkout on ``PYTHONPATH``.
The goal bounds the ratio of the medians (``--help`` / ``import typer``, <= 3x): the top-level
help lists the subcommands from a table and imports none of them (``cli/main.py``).
"""

from __future__ import annotations

import resource
import subprocess
import sys

from tests.benchmarks._core import Goal, Row, Run, benchmark, median
from tests.benchmarks.local_stack import child_environment, cli_command

RATIO_GOAL = 3.0


def _cpu_s(command: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(  # noqa: S603 - our own interpreter and CLI
        command, env=child_environment(), stdout=subprocess.DEVNULL, check=True, timeout=60
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@benchmark("cli_help", "press-intake --help: CPU of the process vs. python -c 'import typer'")
def cli_help(run: Run) -> list[Row]:
    pairs = run.reps(full=15, quick=5)
    help_command = [*cli_command(), "--help"]
    typer_command = [sys.executable, "-c", "import typer"]
    _cpu_s(help_command), _cpu_s(typer_command)  # warm-up: .pyc files, page cache
    helps: list[float] = []
    typers: list[float] = []
    for index in range(pairs):
        if index % 2:
            typers.append(_cpu_s(typer_command))
            helps.append(_cpu_s(help_command))
        else:
            helps.append(_cpu_s(help_command))
            typers.append(_cpu_s(typer_command))
    return [
        Row(f"press-intake --help, CPU, median of {pairs}", 1000 * median(helps), "ms"),
        Row(f"python -c 'import typer', CPU, median of {pairs}", 1000 * median(typers), "ms"),
        Row("ratio --help / import typer", median(helps) / median(typers), "x", Goal(RATIO_GOAL)),
    ]
