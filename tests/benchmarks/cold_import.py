"""Cold import of the API handler module against the floor of its three big dependencies.

Method
------
Each sample is a fresh interpreter (``sys.executable -c ...``, working directory the repository
root) that reads ``time.perf_counter()`` immediately before and after one ``import`` statement and
prints the difference. Timing inside the child measures exactly the import: interpreter start-up,
``site`` and ``.pth`` processing (identical for both variants) and interpreter teardown (which
Lambda's INIT phase never waits for) are excluded, and so is the parent's ``fork``/``exec`` and
pipe overhead. The alternative, "child process wall time minus an empty interpreter", subtracts
two noisy numbers of which the import is only a part, and it counts interpreter teardown (freeing
hundreds of modules at exit), which grows with what was imported but never delays a request; it
is still reported as a cross-check, an empty interpreter (``-c pass``) being sampled in the same
rotation.

* handler: ``import functions.handlers.api`` (what Lambda's INIT phase runs for ApiFunction);
* floor: ``import boto3, pydantic, aws_lambda_powertools``, the dependencies any handler of this
  stack pays for. The ratio handler/floor is what the goal bounds.

Handler, floor and empty samples alternate (rotating order) so that drift (thermal, page cache,
other load) affects all alike; medians are reported. Children get the environment Lambda would give them
(template Globals such as ``POWERTOOLS_SERVICE_NAME``; ``PYTHONDONTWRITEBYTECODE`` removed), and one
discarded warm-up run of each variant comes first so that every ``.pyc`` exists and the page
cache is warm: the figures are import (unmarshal + module execution), not compilation.

Caveats: ``import pydantic`` alone is lazy (its ``__init__`` defers submodules), so the floor holds
less pydantic than any model-defining module needs. And the handler defers work to its first
invocation (boto3 and its clients, the Tracer with the X-Ray SDK, the Markdown parser and nh3):
that cost moves out of INIT, it does not disappear. A few extra children time each of those steps
right after the handler import (the "1st request pays" rows), with dummy settings; creating the
clients makes no network call.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, fmt, median, table
from tests.benchmarks._env import lambda_child_environment

HANDLER = "import functions.handlers.api"
FLOOR = "import boto3, pydantic, aws_lambda_powertools"
EMPTY = "pass"
RATIO_GOAL = 1.3
# Work the handler leaves to its first invocation, each step timed after the handler import.
DEFERRED = (
    ("boto3 + S3/DynamoDB/SQS clients", "from functions.handlers.api import wiring\nwiring().service"),
    ("Tracer: X-Ray SDK import + patching", "from functions.observability import tracer\ntracer()"),
    (
        "Markdown parser + nh3 cleaner",
        "from functions.domain import sanitise\nsanitise._markdown()\nsanitise._cleaner()",
    ),
)
# What the API function's settings read; dummy values (creating clients makes no call).
_SETTINGS = {
    "RELEASES_BUCKET": "bench-releases",
    "RELEASES_TABLE": "bench-releases-table",
    "IDEMPOTENCY_TABLE": "bench-idempotency",
    "MODERATION_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-moderation",
    "MEDIA_TABLE": "bench-media",
    "MEDIA_BUCKET": "bench-media-uploads",
}

# The child imports nothing before t0 beyond what the interpreter itself loads (time is built in).
# A failing step prints nan (and its error on stderr) rather than losing the sample.
_CHILD = """\
import sys, time
n0 = len(sys.modules)
t0 = time.perf_counter()
{statement}
t1 = time.perf_counter()
n1 = len(sys.modules)
steps = []
for code in {steps!r}:
    s0 = time.perf_counter()
    try:
        exec(code, {{}})
    except Exception as error:
        sys.stderr.write(f"step failed: {{error!r}}\\n")
        steps.append(float("nan"))
    else:
        steps.append(time.perf_counter() - s0)
sys.stdout.write(" ".join(map(repr, [t1 - t0, n1 - n0, *steps])) + "\\n")
"""


@dataclass(frozen=True)
class Sample:
    import_s: float
    modules: int
    steps: tuple[float, ...]
    wall_s: float
    failures: tuple[str, ...] = ()


def _child(statement: str, env: dict[str, str], steps: tuple[str, ...] = ()) -> Sample:
    code = _CHILD.format(statement=statement, steps=steps)
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({statement!r}):\n{done.stderr}")
    import_s, modules, *rest = done.stdout.split()
    failures = tuple(line for line in done.stderr.splitlines() if line.startswith("step failed"))
    return Sample(float(import_s), int(modules), tuple(float(x) for x in rest), wall, failures)


def _importtime(statement: str, env: dict[str, str]) -> list[tuple[int, int, str]]:
    """``-X importtime`` of ``statement``: (self us, cumulative us, dotted name) per module."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    entries = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        entries.append((int(own), int(cumulative), name.strip()))
    return entries


def _by_package(entries: list[tuple[int, int, str]]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for own, _, name in entries:
        totals[name.split(".")[0]] += own
    return totals


def _stale_pycs(entries: list[tuple[int, int, str]]) -> list[str]:
    """First-party modules of the import whose ``.pyc`` is missing or older than the source."""
    stale = []
    for _, _, name in entries:
        if name.split(".")[0] not in ("functions", "infra"):
            continue
        base = ROOT.joinpath(*name.split("."))
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if not source.is_file():
            continue
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file() or cached.stat().st_mtime < source.stat().st_mtime:
            stale.append(name)
    return stale


def _diagnostics(run: Run, handler: list[tuple[int, int, str]], floor: list[tuple[int, int, str]]) -> None:
    top = sorted(handler, reverse=True)[:10]
    run.diagnostic(
        "top 10 modules by self time, `-X importtime` of the handler import (one run, ms; "
        "-X importtime itself adds overhead)",
        table(
            ("self", "cumulative", "module"),
            [(fmt(own / 1000), fmt(cum / 1000), name) for own, cum, name in top],
            right=(True, True),
        ),
    )
    mine, base = _by_package(handler), _by_package(floor)
    total_mine, total_base = sum(mine.values()), sum(base.values())
    ranked = sorted(mine.items(), key=lambda kv: kv[1], reverse=True)[:12]
    body = [
        (
            package,
            fmt(own / 1000),
            f"{100 * own / total_mine:.0f}%",
            fmt(base.get(package, 0) / 1000),
            f"{(own - base.get(package, 0)) / 1000:+.1f}",
        )
        for package, own in ranked
    ]
    body.append(
        (
            "(all)",
            fmt(total_mine / 1000),
            "100%",
            fmt(total_base / 1000),
            f"{(total_mine - total_base) / 1000:+.1f}",
        )
    )
    run.diagnostic(
        "self time summed by top-level package (ms), handler import vs floor import, same -X importtime runs",
        table(
            ("package", "handler", "share", "floor", "handler-floor"),
            body,
            right=(False, True, True, True, True),
        ),
    )
    only_floor = sorted(
        ((own, package) for package, own in base.items() if package not in mine and own >= 1000), reverse=True
    )
    if only_floor:
        run.diagnostic(
            "in the floor but not imported by the handler (ms)",
            [f"{package}: {own / 1000:.1f}" for own, package in only_floor[:8]],
        )


@benchmark("cold_import", "cold import of functions.handlers.api vs. boto3+pydantic+powertools")
def cold_import(run: Run) -> list[Row]:
    rounds = run.reps(full=15, quick=5)
    env = lambda_child_environment()

    # Warm-up, discarded: writes any missing .pyc and fills the page cache.
    _child(HANDLER, env)
    _child(FLOOR, env)

    variants: list[tuple[str, list[Sample]]] = [(HANDLER, []), (FLOOR, []), (EMPTY, [])]
    for index in range(rounds):
        shift = index % len(variants)  # rotate the order so drift spreads over all variants
        for statement, samples in variants[shift:] + variants[:shift]:
            samples.append(_child(statement, env))
    handler, floor, empty = (samples for _, samples in variants)
    steps = tuple(code for _, code in DEFERRED)
    deferred = [_child(HANDLER, {**env, **_SETTINGS}, steps) for _ in range(max(3, rounds // 3))]
    deferred_ms = [median([s.steps[i] for s in deferred]) * 1000 for i in range(len(DEFERRED))]
    failures = sorted({line for s in deferred for line in s.failures})
    if failures:
        run.diagnostic("WARNING: first-request steps that failed (reported as n/a)", failures)

    handler_ms = median([s.import_s for s in handler]) * 1000
    floor_ms = median([s.import_s for s in floor]) * 1000
    ratio = handler_ms / floor_ms
    min_ratio = min(s.import_s for s in handler) / min(s.import_s for s in floor)
    wall_empty = median([s.wall_s for s in empty]) * 1000
    wall_handler = median([s.wall_s for s in handler]) * 1000 - wall_empty
    wall_floor = median([s.wall_s for s in floor]) * 1000 - wall_empty

    handler_times = _importtime(HANDLER, env)
    floor_times = _importtime(FLOOR, env)
    _diagnostics(run, handler_times, floor_times)
    stale = _stale_pycs(handler_times)
    if stale:
        run.diagnostic(
            "WARNING: first-party modules without a fresh .pyc (is the source tree read-only?)", stale
        )

    return [
        Row(f"handler import, median of {rounds}", handler_ms, "ms"),
        Row("handler import, min", min(s.import_s for s in handler) * 1000, "ms"),
        Row(f"floor import, median of {rounds}", floor_ms, "ms"),
        Row("floor import, min", min(s.import_s for s in floor) * 1000, "ms"),
        Row("ratio handler / floor (medians)", ratio, "x", Goal(RATIO_GOAL)),
        Row("cross-check: ratio of the minimums (noise-robust)", min_ratio, "x"),
        Row("modules loaded by handler import", max(s.modules for s in handler), "modules"),
        Row("modules loaded by floor import", max(s.modules for s in floor), "modules"),
        *(
            Row(f"1st request pays: {label}", ms, "ms")
            for (label, _), ms in zip(DEFERRED, deferred_ms, strict=True)
        ),
        Row("handler import + 1st-request setup (sum of medians)", handler_ms + sum(deferred_ms), "ms"),
        Row("cross-check: handler wall - empty interpreter", wall_handler, "ms"),
        Row("cross-check: floor wall - empty interpreter", wall_floor, "ms"),
        Row("cross-check: ratio of the two", wall_handler / wall_floor, "x"),
        Row("empty interpreter wall (median)", wall_empty, "ms"),
        Row("first-party modules without fresh .pyc", len(stale), "modules"),
    ]
