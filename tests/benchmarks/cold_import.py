"""Cold start of the API function, to the end of its first request, against a minimal app's.

Method
------
Each sample is a fresh interpreter (``sys.executable -c ...``, working directory the repository
root, the environment Lambda would give it: the template's Globals, the runtime's variables,
dummy resource names; ``PYTHONDONTWRITEBYTECODE`` removed) that reads ``time.perf_counter()``
before its first import and after each step, and prints the step times, with the process's CPU
time over the whole span (``time.process_time``: a cross-check that other processes on a busy
host move less than the wall time the goal is measured in). Timing inside the child
measures what Lambda's INIT phase and first invocation run: interpreter start-up and teardown
(identical for every variant, and teardown never delays a request) are excluded, and so is the
parent's ``fork``/``exec``. The event (a ``POST /releases`` of ~5 KB Markdown, built as the
``warm_request`` benchmark builds it) is read from a file before the clock starts.

Two variants, alternating in rotating order so that drift affects both alike; medians reported:

* **handler**: ``import functions.handlers.api`` (INIT), then the first request's set-up as the
  function builds it (``Wiring.service``: boto3, the S3, DynamoDB and SQS clients, the adapters),
  then ``lambda_handler(event, context)``: its first ``POST /releases`` (Powertools' first
  resolve, the first validation, the Markdown parser and nh3 built on first use, the Logger and
  Metrics decorators). The adapters are given clients that answer at once (``_NullClient``): the
  request makes no AWS call, so botocore's per-call work (serialising, signing, parsing, the
  network) is in neither variant;
* **floor**: ``tests/benchmarks/_minimal_app.py`` (a minimal Powertools function: one validated
  route, the same Logger and Metrics decorators) imported, boto3 imported and the same three
  clients created with the same ``Config``, then its ``lambda_handler`` on the same event: what
  any function of this stack that talks to S3, DynamoDB and SQS pays.

Three more run as ``sam build`` packages the function, each from a folder of its own: the
function's code built by ``functions/Makefile``'s own target (this interpreter standing in for
Lambda's Python) and, beside it as the layer would be, a copy of the third-party packages the
handler and the floor load (found by discarded runs). None can write bytecode
(``PYTHONDONTWRITEBYTECODE``, as on Lambda's read-only file system), and ``-S`` keeps the
virtualenv off the path:

* **packaged handler**: as the build ships it now (its unchecked-hash ``.pyc`` files; the copied
  libraries compiled with the command line the layer's target uses);
* **packaged floor**: the minimal app, compiled the same way, with the same libraries;
* **packaged handler without bytecode**: the handler's trees with every ``__pycache__`` removed,
  as the build shipped them before it compiled them: every module compiled at every cold start.

The ratio handler/floor of those totals is what the goal bounds. The import alone (handler
module vs the minimal app's module, boto3 in neither: the handler defers it) is reported too,
and so is the handler with the X-Ray SDK (``TraceAwsCalls=true``: the Tracer created on the first
invocation, patching botocore). ``-X importtime`` diagnostics show where the import time goes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, fmt, median, table
from tests.benchmarks._env import lambda_child_environment
from tests.helpers import build_function

HANDLER = "import functions.handlers.api"
FLOOR = "import tests.benchmarks._minimal_app"
RATIO_GOAL = 1.1  # handler / floor, import + first request (both with boto3 and the same clients)
# What the API function's settings read; dummy values (creating clients makes no call).
_SETTINGS = {
    "RELEASES_BUCKET": "bench-releases",
    "RELEASES_TABLE": "bench-releases-table",
    "IDEMPOTENCY_TABLE": "bench-idempotency",
    "MODERATION_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-moderation",
    "MEDIA_TABLE": "bench-media",
    "MEDIA_BUCKET": "bench-media-uploads",
    "WEBHOOKS_TABLE": "bench-webhooks",
    "WEBHOOK_SECRETS_KEY": "alias/bench-webhook-secrets",
    "EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events",
}
_CLIENTS = ("s3", "dynamodb", "sqs")  # what ApiFunction's first submission creates

# A step that fails prints nan (and its error on stderr) rather than losing the sample.
_PRELUDE = """\
import json, sys, time
event = json.loads(open({event_path!r}).read())
class Context:
    function_name = "press-intake-ApiFunction"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:press-intake-ApiFunction"
    aws_request_id = "cold-0001"; log_group_name = "/aws/lambda/x"; log_stream_name = "x"
    function_version = "$LATEST"
    def get_remaining_time_in_millis(self): return 30000
class _NullClient:  # answers every AWS call at once, with nothing
    def __getattr__(self, name):
        return lambda **kwargs: {{}}
n0 = len(sys.modules)
cpu0 = time.process_time()
marks = [time.perf_counter()]
"""
_HANDLER_STEPS = """\
import functions.handlers.api as api
marks.append(time.perf_counter())
wiring = api.wiring()
service = wiring.service
marks.append(time.perf_counter())
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.s3_releases import S3ReleaseStore
from functions.adapters.sqs_moderation import SqsModerationQueue
null = _NullClient()
service._store = S3ReleaseStore(null, "bench-releases")
service._states = DynamoStateRepository(null, "bench-releases-table")
service._queue = SqsModerationQueue(null, "https://sqs.us-east-1.amazonaws.com/123456789012/q")
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    response = api.lambda_handler(event, Context())
marks.append(time.perf_counter())
assert response["statusCode"] == 202, response
"""
_FLOOR_STEPS = """\
import tests.benchmarks._minimal_app as app
marks.append(time.perf_counter())
import boto3
from botocore.config import Config
config = Config(retries={{"mode": "standard", "max_attempts": 3}}, connect_timeout=3, read_timeout=10)
clients = [boto3.client(name, config=config) for name in {clients!r}]
marks.append(time.perf_counter())
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    response = app.lambda_handler(event, Context())
marks.append(time.perf_counter())
assert response["statusCode"] == 202, response
"""
_REPORT = """\
steps = [b - a for a, b in zip(marks, marks[1:])]
cpu = time.process_time() - cpu0
sys.stdout.write(" ".join(map(repr, [*steps, len(sys.modules) - n0, cpu])) + "\\n")
"""


@dataclass(frozen=True)
class Sample:
    """One fresh interpreter: import, clients, first request (seconds), modules loaded."""

    import_s: float
    clients_s: float
    request_s: float
    modules: int
    cpu_s: float  # CPU time of the process over the same span (time.process_time)

    @property
    def total_s(self) -> float:
        return self.import_s + self.clients_s + self.request_s


@dataclass(frozen=True)
class Place:
    """Where a child runs: its working directory and interpreter flags (``-S``: no site-packages)."""

    cwd: Path = ROOT
    flags: tuple[str, ...] = ()


def _python(
    args: list[str], env: dict[str, str], place: Place = Place(), *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """This interpreter run with ``args`` in ``place`` (its flags first), output captured."""
    return subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, *place.flags, *args],
        cwd=place.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def _child(steps: str, env: dict[str, str], event_path: str, place: Place = Place()) -> Sample:
    code = _PRELUDE.format(event_path=event_path) + steps.format(clients=_CLIENTS) + _REPORT
    done = _python(["-c", code], env, place, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold child failed:\n{done.stderr[-4000:]}")
    import_s, clients_s, request_s, modules, cpu_s = done.stdout.split()
    return Sample(float(import_s), float(clients_s), float(request_s), int(modules), float(cpu_s))


def _importtime(statement: str, env: dict[str, str]) -> list[tuple[int, int, str]]:
    """``-X importtime`` of ``statement``: (self us, cumulative us, dotted name) per module."""
    entries = []
    for line in _python(["-X", "importtime", "-c", statement], env).stderr.splitlines():
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


# Printed after a variant's steps: the top-level entries of site-packages it loaded.
_LOADED = """\
import sysconfig
roots = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
loaded = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    for root in roots:
        if path.startswith(root + "/"):
            loaded.add(path[len(root) + 1 :].split("/")[0])
sys.stdout.write(json.dumps(sorted(loaded)) + "\\n")
"""


def _loaded_libraries(env: dict[str, str], event_path: str) -> tuple[Path, set[str]]:
    """The site-packages folder and the entries of it the handler's and the floor's steps load."""
    import sysconfig

    loaded: set[str] = set()
    for steps in (_HANDLER_STEPS, _FLOOR_STEPS):
        code = _PRELUDE.format(event_path=event_path) + steps.format(clients=_CLIENTS) + _LOADED
        loaded.update(json.loads(_python(["-c", code], env).stdout.splitlines()[-1]))
    return Path(sysconfig.get_paths()["purelib"]), loaded


def _package(into: Path, env: dict[str, str], event_path: str) -> tuple[Path, Path]:
    """The API function as sam build packages it (``task``) and the minimal app beside it
    (``floor``), with the libraries they load as the layer holds them (``python``): (the folder
    with the build's bytecode, the same without any)."""
    import shutil

    packaged, bare = into / "packaged", into / "bare"
    task, layer = packaged / "task", packaged / "python"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    built = build_function("ApiFunction", task, LAMBDA_PYTHON=version, LAMBDA_PYTHON_BIN=sys.executable)
    if built.returncode != 0:
        raise RuntimeError(f"make build-ApiFunction failed:\n{built.stderr[-4000:]}")
    site, loaded = _loaded_libraries(env, event_path)
    keep = {name for name in loaded if name not in ("functions", "tests")}
    keep |= {p.name for p in site.iterdir() if p.name.endswith((".dist-info", ".libs"))}
    layer.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__")
    for name in sorted(keep):
        source = site / name
        if source.is_dir():
            shutil.copytree(source, layer / name, ignore=skip, symlinks=True)
        elif source.is_file():
            shutil.copy2(source, layer / name)
    floor = packaged / "floor" / "tests" / "benchmarks"
    floor.mkdir(parents=True)
    for package in (floor, floor.parent):
        (package / "__init__.py").write_text("")
    shutil.copy2(ROOT / "tests" / "benchmarks" / "_minimal_app.py", floor)
    # As the build's targets compile their trees (functions/Makefile)
    for tree in (layer, packaged / "floor"):
        _python(
            ["-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(tree)], env
        )
    shutil.copytree(packaged, bare, ignore=skip, symlinks=True)
    return packaged, bare


def _packaged(env: dict[str, str], folder: Path, code: str = "task") -> tuple[dict[str, str], Place]:
    """The environment and place of a child that runs ``folder``'s ``code`` with its ``python``
    (the layer) alone, as Lambda does (no site-packages), and cannot write bytecode."""
    path = f"{folder / code}{os.pathsep}{folder / 'python'}"
    return {**env, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}, Place(folder / code, ("-S",))


def _event_file() -> str:
    """A POST /releases event as warm_request builds it, in a file the children read."""
    from tests.benchmarks.warm_request import _events, markdown_body

    (event,) = _events(1, markdown_body(), start=0)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(event, handle)
    return handle.name


@benchmark(
    "cold_import", "cold start to the end of the first POST /releases vs a minimal app + the same clients"
)
def cold_import(run: Run) -> list[Row]:
    rounds = run.reps(full=15, quick=5)
    env = {**lambda_child_environment(), **_SETTINGS}
    traced_env = {
        **env,
        "POWERTOOLS_TRACE_DISABLED": "false",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # loopback: segments go nowhere
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    event_path = _event_file()
    scratch = tempfile.TemporaryDirectory(prefix="cold-import-")
    try:
        # Warm-up, discarded: writes any missing .pyc and fills the page cache.
        _child(_HANDLER_STEPS, env, event_path)
        _child(_FLOOR_STEPS, env, event_path)
        packaged, bare = _package(Path(scratch.name), env, event_path)
        for steps, code in ((_HANDLER_STEPS, "task"), (_FLOOR_STEPS, "floor")):
            packaged_env, place = _packaged(env, packaged, code)
            _child(steps, packaged_env, event_path, place)  # discarded too: the page cache
        variants: list[tuple[str, dict[str, str], Place, list[Sample]]] = [
            (_HANDLER_STEPS, env, Place(), []),
            (_FLOOR_STEPS, env, Place(), []),
            (_HANDLER_STEPS, traced_env, Place(), []),
            (_HANDLER_STEPS, *_packaged(env, packaged), []),
            (_FLOOR_STEPS, *_packaged(env, packaged, "floor"), []),
            (_HANDLER_STEPS, *_packaged(env, bare), []),
        ]
        for index in range(rounds):
            shift = index % len(variants)  # rotate the order so drift spreads over all variants
            for steps, variant_env, place, samples in variants[shift:] + variants[:shift]:
                samples.append(_child(steps, variant_env, event_path, place))
        if list(bare.rglob("*.pyc")):
            raise RuntimeError("the variant without bytecode wrote some")
    finally:
        Path(event_path).unlink(missing_ok=True)
        scratch.cleanup()
    handler, floor, traced, with_pyc, floor_packaged, without_pyc = (samples for *_, samples in variants)

    def ms(samples: list[Sample], attribute: str) -> float:
        return median([getattr(s, attribute) for s in samples]) * 1000

    def paired(numerators: list[Sample], denominators: list[Sample]) -> float:
        """The median of the rounds' ratios: both variants of a round run one after the other, so
        a machine that speeds up or slows down over the run moves both alike."""
        return median([a.total_s / b.total_s for a, b in zip(numerators, denominators, strict=True)])

    handler_total, floor_total = ms(handler, "total_s"), ms(floor, "total_s")
    handler_import, floor_import = ms(handler, "import_s"), ms(floor, "import_s")

    handler_times = _importtime(HANDLER, env)
    floor_times = _importtime(FLOOR, env)
    _diagnostics(run, handler_times, floor_times)
    stale = _stale_pycs(handler_times)
    if stale:
        run.diagnostic(
            "WARNING: first-party modules without a fresh .pyc (is the source tree read-only?)", stale
        )
    run.diagnostic(
        "workload",
        [
            f"{rounds} fresh interpreters per variant (rotating order) after one discarded warm-up each; "
            "medians. Times are perf_counter inside the child, from before its first import to the end "
            "of its first request; no AWS call is made (the handler's adapters get null clients).",
            f"Tracing as the template deploys it by default: X-Ray SDK off ({HANDLER} never imports it).",
        ],
    )
    return [
        Row("handler: import functions.handlers.api", handler_import, "ms"),
        Row("handler: boto3 + S3/DynamoDB/SQS clients + adapters", ms(handler, "clients_s"), "ms"),
        Row("handler: first POST /releases", ms(handler, "request_s"), "ms"),
        Row(f"handler: to the end of the first request, median of {rounds}", handler_total, "ms"),
        Row("floor: import the minimal app", floor_import, "ms"),
        Row("floor: boto3 + the same three clients", ms(floor, "clients_s"), "ms"),
        Row("floor: first POST /releases", ms(floor, "request_s"), "ms"),
        Row(f"floor: to the end of the first request, median of {rounds}", floor_total, "ms"),
        Row(
            "ratio handler / floor, to the end of the first request",
            handler_total / floor_total,
            "x",
            Goal(RATIO_GOAL),
        ),
        Row(
            "  cross-check: ratio of the minimums",
            min(s.total_s for s in handler) / min(s.total_s for s in floor),
            "x",
        ),
        Row(
            "  cross-check: median of each round's own ratio (the two run seconds apart)",
            paired(handler, floor),
            "x",
        ),
        Row("ratio handler / floor, import alone (boto3 in neither)", handler_import / floor_import, "x"),
        Row("handler: CPU time to the end of the first request (process_time)", ms(handler, "cpu_s"), "ms"),
        Row("floor: CPU time to the end of the first request (process_time)", ms(floor, "cpu_s"), "ms"),
        Row(
            "  cross-check: ratio of the CPU times (less moved by other processes than the wall time)",
            ms(handler, "cpu_s") / ms(floor, "cpu_s"),
            "x",
        ),
        Row(
            "with the X-Ray SDK (TraceAwsCalls=true): handler to the end of the first request",
            ms(traced, "total_s"),
            "ms",
        ),
        Row(
            "with the X-Ray SDK: its first request (Tracer built, botocore patched)",
            ms(traced, "request_s"),
            "ms",
        ),
        Row("with the X-Ray SDK: ratio handler / floor", ms(traced, "total_s") / floor_total, "x"),
        Row(
            "as sam build packages it, with its bytecode: handler to the end of the first request",
            ms(with_pyc, "total_s"),
            "ms",
        ),
        Row(
            "as packaged, the floor (the minimal app in a folder of its own, the same layer)",
            ms(floor_packaged, "total_s"),
            "ms",
        ),
        Row(
            "as packaged: ratio handler / floor, to the end of the first request",
            ms(with_pyc, "total_s") / ms(floor_packaged, "total_s"),
            "x",
        ),
        Row("  cross-check: median of each round's own ratio", paired(with_pyc, floor_packaged), "x"),
        Row(
            "as packaged before the build compiled it (no .pyc): the handler to the end of its first request",
            ms(without_pyc, "total_s"),
            "ms",
        ),
        Row(
            "ratio without / with bytecode (what a package without .pyc adds to every cold start)",
            ms(without_pyc, "total_s") / ms(with_pyc, "total_s"),
            "x",
        ),
        Row("modules loaded: handler (import + first request)", max(s.modules for s in handler), "modules"),
        Row(
            "modules loaded: floor (import + clients + first request)",
            max(s.modules for s in floor),
            "modules",
        ),
        Row("first-party modules without fresh .pyc", len(stale), "modules"),
    ]
