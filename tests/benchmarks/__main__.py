"""``python -m tests.benchmarks [--quick] [--list] [name ...]``: run benchmarks, print figures and goals.

The exit code is 0 whatever the goals say (benchmarks inform; CI's gate stays deterministic); it
is 1 only when a benchmark itself crashed, and 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from datetime import UTC, datetime

from tests import benchmarks as package
from tests.benchmarks._core import REGISTRY, Row, Run, fmt, rows_table, table


def discover() -> None:
    """Import every benchmark module of the package (those without a leading underscore)."""
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Run the benchmarks (all, or those named) and report figures and goals.",
    )
    parser.add_argument("names", nargs="*", metavar="name", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (noisier, ~15 s)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return args


def banner(quick: bool) -> None:
    print("press-intake benchmarks")
    print(
        f"  {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}  Python {platform.python_version()} "
        f"({platform.python_implementation()}) on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs{'  [--quick]' if quick else ''}"
    )
    load = os.getloadavg()[0]
    note = "  (other processes are busy: expect noisier figures)" if load > 0.5 else ""
    print(f"  load average (1 min) before starting: {load:.2f}{note}")


def main(argv: list[str] | None = None) -> int:
    discover()
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.list:
        for item in REGISTRY.values():
            print(f"{item.name:16} {item.description}")
        return 0
    selected = [REGISTRY[n] for n in (args.names or REGISTRY)]
    banner(args.quick)
    goals: list[tuple[str, Row]] = []
    crashed: list[str] = []
    started = time.perf_counter()
    for item in selected:
        print(f"\n=== {item.name}: {item.description}")
        run = Run(quick=args.quick)
        began = time.perf_counter()
        try:
            rows = item.fn(run)
        except Exception:
            crashed.append(item.name)
            traceback.print_exc()
            continue
        print()
        print("\n".join(rows_table(rows)))
        for title, lines in run.diagnostics:
            print(f"\n--- {title}")
            print("\n".join(lines))
        print(f"\n({item.name} took {time.perf_counter() - began:.1f} s)")
        goals.extend((item.name, row) for row in rows if row.goal)

    print("\n=== Summary")
    body = []
    for name, row in goals:
        assert row.goal is not None
        verdict = "MET" if row.goal.met(row.value) else "NOT MET"
        body.append(
            (name, row.name, f"{fmt(row.value)} {row.unit}".strip(), row.goal.describe(row.unit), verdict)
        )
    body.extend((name, "(benchmark crashed)", "-", "-", "ERROR") for name in crashed)
    print("\n".join(table(("benchmark", "goal", "measured", "target", "status"), body)))
    print(f"\nTotal time {time.perf_counter() - started:.1f} s. Goals inform only: exit status ignores them.")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
