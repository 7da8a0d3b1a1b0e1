"""The benchmark registry, result rows, goals, statistics and table formatting."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (where ``functions/`` and ``template.yaml`` live)."""


@dataclass(frozen=True)
class Goal:
    """A target for one row: ``value <= target`` (``at_most``) or ``value >= target``."""

    target: float
    at_most: bool = True

    def met(self, value: float) -> bool:
        return value <= self.target if self.at_most else value >= self.target

    def describe(self, unit: str) -> str:
        return f"{'<=' if self.at_most else '>='} {fmt(self.target)} {unit}".rstrip()


@dataclass(frozen=True)
class Row:
    """One measured figure; ``goal`` makes it part of the summary."""

    name: str
    value: float
    unit: str = ""
    goal: Goal | None = None


@dataclass
class Run:
    """What a benchmark gets: the repetition mode, and a place for diagnostics."""

    quick: bool = False
    diagnostics: list[tuple[str, list[str]]] = field(default_factory=list)

    def reps(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def diagnostic(self, title: str, lines: Sequence[str]) -> None:
        self.diagnostics.append((title, list(lines)))


BenchmarkFn = Callable[[Run], list[Row]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    fn: BenchmarkFn


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, description: str) -> Callable[[BenchmarkFn], BenchmarkFn]:
    """Register ``fn`` under ``name`` (run in registration order)."""

    def register(fn: BenchmarkFn) -> BenchmarkFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = Benchmark(name, description, fn)
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def fmt(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] = ()) -> list[str]:
    """A plain-text table; columns flagged in ``right`` are right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    align = list(right) + [False] * (len(headers) - len(right))

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if a else str(c).ljust(w) for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def rows_table(rows: Sequence[Row]) -> list[str]:
    body = [
        (row.name, fmt(row.value), row.unit, row.goal.describe(row.unit) if row.goal else "") for row in rows
    ]
    return table(("name", "value", "unit", "goal"), body, right=(False, True))
