"""Warm per-request CPU of ``POST /releases`` (~5 KB Markdown): the API function vs a minimal app.

Method
------
``POST /releases`` events are built beforehand exactly as the tests build them
(``tests.helpers.ApiClient``: ``infra.apigateway.events.proxy_event`` with the resource matched against
template.yaml's routes, ``org_id`` in the authorizer context), one per request, each a fresh
submission (no ``Idempotency-Key``, a unique reference line in the body so no duplicate-content
path is taken; without a key nothing is hashed for retries, and the split below shows what the
payload hash adds to a request that sends one). Only the handler call is timed, in this single
thread, with both ``time.thread_time_ns`` (CPU time: the goal's measure, not charged while another
process holds the core, so a busy host distorts it less) and ``time.perf_counter_ns`` (wall time,
reported beside it).
GC stays enabled: collections are part of what a request costs.

AWS is replaced without monkeypatching any library: the API function's wiring
(``functions.handlers.api.wiring``, cached per execution environment) is swapped for one whose
``IntakeService`` has the function's own adapters (S3, DynamoDB, SQS) given a client that answers
every call at once with nothing (``NullClient``), and put back afterwards; ``handle`` is given the
same wiring. So the figures hold no AWS call (no botocore, no network) and all of the function's
own code, the adapters' included (the state item and its fingerprint serialized, the version
document written, the message built): what the function and its frameworks cost. (Until
2026-12-04 the service was wired to the in-memory fakes of ``tests/fakes.py``, which skipped the
adapters' work and did their own bookkeeping instead: about 0.1 ms a request less than this.)
Powertools' metric flushes (EMF lines on stdout) go to ``os.devnull`` while requests run.

Four entry points, each event going to the next one in turn (rotating order), so that drift
(other processes, frequency scaling) affects all alike and their ratios come from the same run:

* ``lambda_handler``: ``functions.handlers.api.lambda_handler``, what Lambda calls: the Powertools
  Logger and Metrics decorators and tracing **as deployed** (the environment is the template's
  Globals: ``POWERTOOLS_TRACE_DISABLED`` is ``true`` unless ``TraceAwsCalls`` is, so no X-Ray SDK);
* ``handle``: ``functions.api.app.handle``, the same request without the decorators;
* ``minimal``: ``tests/benchmarks/_minimal_app.py``'s ``lambda_handler``, a minimal Powertools
  function (one validated route, a small body model, one metric) with the same Logger and Metrics
  decorators, on the same events: the floor. The goal bounds ``lambda_handler`` / ``minimal``,
  CPU p50;
* ``minimal resolve``: that app's resolver without the decorators, the floor of ``handle``.

The X-Ray SDK variant (``TraceAwsCalls=true``) runs in a child interpreter (it patches botocore
for good, which the other benchmarks of this process must not inherit), with Lambda's
environment as the SDK reads it (``LAMBDA_TASK_ROOT``, a sampled ``_X_AMZN_TRACE_ID`` per
request, the daemon address a local UDP socket that counts what it receives): ``lambda_handler``
with the SDK and the minimal app alternate there, and their ratio is reported. With null clients the
request makes no botocore call, so it holds the handler's own subsegment only; on Lambda each S3,
DynamoDB and SQS call adds one more.

Diagnostics: a cProfile of a batch of requests (per-request figures), and p50s of the pieces
(body validation, ``IntakeService.submit`` on null clients, ``prepare()`` + prescreen, sanitising:
cmark-gfm, then nh3 or, for Markdown it would not change, the check that skips it; the prescreen
rules and their search for where the patterns may match, the body's plain words, the payload
hash), timed in rounds interleaved with whole requests, so that domain work and framework
overhead can be told apart. What a cold start pays (imports, clients, the first
request) is the ``cold_import`` benchmark's, in fresh interpreters.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import json
import os
import pstats
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, fmt, percentile, table
from tests.benchmarks._env import lambda_child_environment, template_globals

RATIO_GOAL = 3.0  # lambda_handler / minimal app (both with Logger + Metrics decorators), CPU p50
TARGET_BODY_BYTES = 5 * 1024

# Settings the API function reads (Wiring.settings); the service built here names its own.
_DUMMY_SETTINGS = {
    "RELEASES_BUCKET": "bench-releases",
    "RELEASES_TABLE": "bench-releases-table",
    "IDEMPOTENCY_TABLE": "bench-idempotency",
    "MODERATION_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-moderation",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}

# ---------------------------------------------------------------------------------------------
# The release
# ---------------------------------------------------------------------------------------------

_PARAGRAPHS = (
    "## Third-quarter highlights",
    "**ST PETERSBURG, Florida** - Acme Corporation (NYSE: ACME), a maker of industrial sensors and "
    "control systems, today reported results for the third quarter ended September 30, 2026. Revenue "
    "rose 12% to $412.6 million from $368.4 million a year earlier, and operating margin widened to "
    "18.4% from 16.9%, helped by higher volumes in the *process automation* segment and lower freight "
    "costs.",
    "- Revenue of $412.6 million, up 12% year on year\n"
    "- Operating income of $75.9 million, up 22%\n"
    "- Diluted earnings per share of $1.38, compared with $1.09\n"
    "- Free cash flow of $58.2 million; net debt reduced to $96 million",
    '> "Our teams delivered another quarter of profitable growth while we kept investing in the next '
    'generation of our sensor platform," said Maria Lopez, Acme\'s chief executive officer. "Demand '
    'from water utilities and food producers remained strong, and our order book is at a record."',
    "The process automation segment grew revenue 17% to $236.1 million. Orders rose 9%, with notable "
    "contracts from three municipal water utilities in the south-east and a food-processing group in "
    "the Midwest. The building technologies segment was flat at $176.5 million as new construction "
    "slowed, offset by retrofit demand for energy monitoring.",
    "### Outlook",
    "Acme raises its full-year revenue guidance to a range of $1.60 billion to $1.64 billion, from "
    "$1.55 billion to $1.60 billion, and expects operating margin of about 18%. The outlook assumes "
    "stable exchange rates and no significant change in component availability. Capital expenditure "
    "is expected to be around $70 million, mostly for the expansion of the Tampa plant.",
    "Acme will hold a conference call for analysts and investors on Thursday, November 5, 2026 at "
    "9:00 a.m. Eastern Time. A live audio webcast and the presentation slides will be available on "
    "the [investor relations website](https://investors.acme.example/events), where a replay will "
    "remain available for ninety days.",
    "The board of directors declared a quarterly dividend of $0.32 per share, payable on Tuesday, "
    "December 1, 2026 to shareholders of record at the close of business on November 16, 2026. The "
    "company repurchased 410,000 shares for $28.7 million during the quarter under its existing "
    "authorisation, which has $171 million remaining.",
    "### Forward-looking statements",
    "This release contains forward-looking statements within the meaning of the Private Securities "
    "Litigation Reform Act of 1995, including statements about revenue, margins, demand and capital "
    "expenditure. Such statements are based on current expectations and are subject to risks and "
    "uncertainties, including supply-chain disruption, changes in interest rates, the timing of "
    "public infrastructure spending and competitive pressure, that could cause actual results to "
    "differ materially. Acme undertakes no obligation to update any forward-looking statement.",
    "Financial tables, a reconciliation of non-GAAP measures and the full quarterly report on Form "
    "10-Q are available at [acme.example/results](https://acme.example/results). Figures are "
    "unaudited; segment data for 2025 have been restated for the transfer of the metering business "
    "from building technologies to process automation.",
)


def markdown_body(target_bytes: int = TARGET_BODY_BYTES) -> str:
    """Realistic press-release Markdown of about ``target_bytes``, whole paragraphs repeated."""
    parts: list[str] = []
    index = 0
    while len("\n\n".join(parts).encode()) < target_bytes:
        parts.append(_PARAGRAPHS[index % len(_PARAGRAPHS)])
        index += 1
    return "\n\n".join(parts)


def release(body: str, reference: int) -> dict[str, Any]:
    """A business release as a client sends it; ``reference`` makes its content unique."""
    return {
        "category": "business",
        "headline": "Acme reports third-quarter revenue up 12% and raises full-year outlook",
        "subheadline": "Process automation orders at a record; dividend of $0.32 declared",
        "summary": "Acme's third-quarter revenue rose 12% to $412.6 million; operating margin reached 18.4%.",
        "body": f"{body}\n\nReference PR-2026-{reference:06d}.",
        "body_format": "markdown",
        "dateline": "ST PETERSBURG, Florida",
        "language": "en-US",
        "release_at": (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat(),
        "contact": {"name": "Investor Relations", "email": "ir@acme.example", "phone": "+1 727 555 0142"},
        "boilerplate": "About Acme: Acme Corporation designs and makes sensors and control systems.",
        "links": [
            {"url": "https://acme.example/results", "title": "Results"},
            {"url": "https://investors.acme.example/events", "title": "Webcast"},
        ],
        "tags": ["earnings", "q3-2026", "guidance"],
        "details": {"tickers": [{"symbol": "ACME", "exchange": "NYSE"}]},
    }


# ---------------------------------------------------------------------------------------------
# Plumbing
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class NullClient:
    """A boto3 client that answers every call at once, with nothing (no item, no error)."""

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        return lambda **kwargs: {}


class NullClientWiring:
    """The API function's wiring with an IntakeService over its own adapters on ``NullClient``s."""

    def __init__(self) -> None:
        from functions.adapters.dynamodb_state import DynamoStateRepository
        from functions.adapters.s3_releases import S3ReleaseStore
        from functions.adapters.sqs_moderation import SqsModerationQueue
        from functions.domain.intake import IntakeService
        from functions.handlers.api import Wiring

        client = NullClient()
        self.current = Wiring()
        self.current.service = IntakeService(
            store=S3ReleaseStore(client, _DUMMY_SETTINGS["RELEASES_BUCKET"]),
            states=DynamoStateRepository(client, _DUMMY_SETTINGS["RELEASES_TABLE"]),
            queue=SqsModerationQueue(client, _DUMMY_SETTINGS["MODERATION_QUEUE_URL"]),
            clock=lambda: datetime.now(UTC),
        )

    @property
    def service(self) -> Any:
        return self.current.service

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """``functions.api.app.handle`` with this wiring."""
        from functions.api.app import handle

        return handle(event, context, self.current)


@contextlib.contextmanager
def _null_aws(wiring: NullClientWiring) -> Iterator[None]:
    from functions.handlers import api

    original = api.wiring
    api.wiring = lambda: wiring.current
    try:
        yield
    finally:
        api.wiring = original


def _events(count: int, body: str, start: int) -> list[dict[str, Any]]:
    """``count`` POST /releases events, built as tests.helpers.ApiClient builds them."""
    from infra.apigateway.routes import api_routes
    from infra.template import load_template
    from tests.helpers import ApiClient

    built: list[dict[str, Any]] = []

    def capture(event: dict[str, Any], _: Any) -> dict[str, Any]:
        built.append(event)
        return {"statusCode": 0}

    client = ApiClient(capture, api_routes(load_template()), org_id="org-acme", org_name="Acme Corporation")
    for reference in range(start, start + count):
        client.post("/releases", json_body=release(body, reference))
    return built


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Timings:
    """Per-request CPU time (this thread) and wall time, in ms."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def timed(self, fn: Callable[[], object]) -> object:
        cpu, wall = time.thread_time_ns, time.perf_counter_ns
        c0, w0 = cpu(), wall()
        result = fn()
        w1, c1 = wall(), cpu()
        self.cpu.append((c1 - c0) / 1e6)
        self.wall.append((w1 - w0) / 1e6)
        return result


def _serve_alternately(
    handlers: dict[str, Handler],
    events: list[dict[str, Any]],
    context: Any,
    before: Callable[[], None] | None = None,
) -> dict[str, Timings]:
    """Each event goes to the next handler in turn (rotating order), so drift hits all alike;
    ``before`` runs before each call, outside the timed region."""
    timings = {name: Timings() for name in handlers}
    order = list(handlers.items())
    rounds = [events[i : i + len(order)] for i in range(0, len(events) - len(order) + 1, len(order))]
    for index, batch in enumerate(rounds):
        shift = index % len(order)
        for (name, handler), event in zip(order[shift:] + order[:shift], batch, strict=True):
            if before is not None:
                before()
            response: Any = timings[name].timed(partial(handler, event, context))
            if response["statusCode"] != 202:
                raise RuntimeError(f"expected 202, got {response['statusCode']}: {response.get('body')}")
    return timings


def _where(path: str) -> str:
    marker = "site-packages" + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    root = str(ROOT) + os.sep
    return path.removeprefix(root)


def _label(key: tuple[str, int, str]) -> str:
    path, line, name = key
    if path == "~":
        return name  # a built-in: "<method 'validate_python' of ...>"
    return f"{_where(path)}:{line}({name})"


def _ours_or_framework(key: tuple[str, int, str]) -> bool:
    path, _, name = key
    if path == "~":
        return "pydantic" in name
    return path.startswith(str(ROOT / "functions")) or "aws_lambda_powertools" in path or "pydantic" in path


def _profile(handler: Handler, events: list[dict[str, Any]], context: Any, run: Run) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for event in events:
        handler(event, context)
    profiler.disable()
    Key = tuple[str, int, str]  # (file, line, function)
    # pstats' documented-by-example table: key -> (primitive calls, calls, self s, cumulative s, callers)
    stats: dict[Key, tuple[int, int, float, float, Any]] = getattr(pstats.Stats(profiler), "stats")  # noqa: B009
    n = len(events)

    def per_request_calls(calls: int) -> str:
        return f"{calls // n}" if calls % n == 0 else f"{calls / n:.1f}"

    def rows(keys: list[Key]) -> list[tuple[str, ...]]:
        return [
            (
                fmt(stats[k][3] / n * 1e6),
                fmt(stats[k][2] / n * 1e6),
                per_request_calls(stats[k][1]),
                _label(k),
            )
            for k in keys
        ]

    headers = ("cum us", "self us", "calls", "function")
    framework = sorted((k for k in stats if _ours_or_framework(k)), key=lambda k: stats[k][3], reverse=True)
    run.diagnostic(
        f"cProfile of handle(): top 15 by cumulative time, functions/ + Powertools + pydantic "
        f"(per request, mean of {n}; cProfile inflates call-heavy Python code)",
        table(headers, rows(framework[:15]), right=(True, True, True)),
    )
    leaves = sorted(stats, key=lambda k: stats[k][2], reverse=True)
    run.diagnostic(
        "cProfile of handle(): top 12 by self time, all code (same run)",
        table(headers, rows(leaves[:12]), right=(True, True, True)),
    )


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


@benchmark("warm_request", "warm POST /releases (~5 KB Markdown): lambda_handler vs a minimal Powertools app")
def warm_request(run: Run) -> list[Row]:
    warmup = run.reps(full=200, quick=50)
    count = run.reps(full=2000, quick=400)
    profiled = run.reps(full=150, quick=30)
    split_count = run.reps(full=500, quick=100)
    body = markdown_body()

    with _environment({**template_globals(), **_DUMMY_SETTINGS}):
        from functions.cold_start import reset_all
        from functions.handlers.api import lambda_handler
        from functions.observability import metrics, tracing_disabled
        from infra.lambda_context import LocalLambdaContext
        from tests.benchmarks import _minimal_app

        reset_all()  # this process's execution environment starts now, with the template's Globals
        context = LocalLambdaContext(function_name="ApiFunction")
        wiring = NullClientWiring()
        handle = wiring.handle
        sample_event = _events(1, body, start=0)[0]
        event_bytes = len(json.dumps(sample_event).encode())
        entry_points: dict[str, Handler] = {
            "lambda_handler": lambda_handler,
            "handle": handle,
            "minimal": _minimal_app.lambda_handler,
            "minimal resolve": _minimal_app.resolve,
        }
        with (
            _null_aws(wiring),
            open(os.devnull, "w") as devnull,
            contextlib.redirect_stdout(devnull),
        ):
            rounds = len(entry_points)
            _serve_alternately(entry_points, _events(rounds * warmup, body, start=10_000), context)
            events = _events(rounds * count, body, start=100_000)
            gc.collect()
            results = _serve_alternately(entry_points, events, context)
            del events
            _profile(handle, _events(profiled, body, start=200_000), context, run)
            split_events = _events(split_count, body, start=300_000)
            rows = _rows(results)
            rows += _split(run, body, split_events, handle, context)
            metrics.clear_metrics()
        deployed_tracing = "off (no X-Ray SDK)" if tracing_disabled() else "on (X-Ray SDK)"

    rows += _traced_rows(run, run.reps(full=600, quick=150), warmup)
    run.diagnostic(
        "workload",
        [
            f"Markdown body {len(body.encode()):,} bytes (+ a unique reference line); request body "
            f"{len(sample_event['body'].encode()):,} bytes; whole proxy event {event_bytes:,} bytes.",
            f"{warmup} warm-up + {count} measured requests per entry point, the four entry points "
            "alternating. CPU = time.thread_time (not "
            "charged while another process runs); wall = time.perf_counter.",
            f"Tracing as the template's Globals deploy it: X-Ray SDK {deployed_tracing}.",
        ],
    )
    return rows


def _rows(results: dict[str, Timings]) -> list[Row]:
    rows: list[Row] = []
    for name, timings in results.items():
        rows += [
            Row(f"{name}: CPU p50", percentile(timings.cpu, 50), "ms"),
            Row(f"{name}: CPU p90", percentile(timings.cpu, 90), "ms"),
            Row(f"{name}: CPU p99", percentile(timings.cpu, 99), "ms"),
            Row(f"{name}: wall p50", percentile(timings.wall, 50), "ms"),
        ]
    p50 = {name: percentile(t.cpu, 50) for name, t in results.items()}
    rows += [
        Row(
            "Logger + Metrics decorators (lambda_handler - handle, CPU p50)",
            p50["lambda_handler"] - p50["handle"],
            "ms",
        ),
        Row(
            "ratio handle / minimal resolve (no decorators, CPU p50)",
            p50["handle"] / p50["minimal resolve"],
            "x",
        ),
        Row(
            "ratio lambda_handler / minimal app (both decorated, CPU p50)",
            p50["lambda_handler"] / p50["minimal"],
            "x",
            Goal(RATIO_GOAL),
        ),
        *_spread_rows(results),
    ]
    return rows


def _spread_rows(results: dict[str, Timings], blocks: int = 5) -> list[Row]:
    """The ratio's spread within this run: the measured requests cut into ``blocks`` consecutive
    blocks, the ratio of CPU p50s taken per block; its smallest and largest."""
    ours, floor = results["lambda_handler"].cpu, results["minimal"].cpu
    size = min(len(ours), len(floor)) // blocks
    if size < 20:
        return []
    ratios = [
        percentile(ours[i * size : (i + 1) * size], 50) / percentile(floor[i * size : (i + 1) * size], 50)
        for i in range(blocks)
    ]
    return [
        Row(f"  spread: lowest of {blocks} blocks", min(ratios), "x"),
        Row(f"  spread: highest of {blocks} blocks", max(ratios), "x"),
    ]


# ---------------------------------------------------------------------------------------------
# With the X-Ray SDK (TraceAwsCalls=true), in a child interpreter
# ---------------------------------------------------------------------------------------------


def _traced_rows(run: Run, count: int, warmup: int) -> list[Row]:
    """lambda_handler with the X-Ray SDK vs the minimal app, alternating in a child interpreter."""
    env = {
        **lambda_child_environment(),
        **_DUMMY_SETTINGS,
        "POWERTOOLS_TRACE_DISABLED": "false",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }
    code = f"from tests.benchmarks.warm_request import traced_child; traced_child({count}, {warmup})"
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    marker = next((line for line in done.stdout.splitlines() if line.startswith(_RESULT)), None)
    if done.returncode != 0 or marker is None:
        raise RuntimeError(f"the X-Ray SDK child failed:\n{done.stderr[-4000:]}")
    result = json.loads(marker.removeprefix(_RESULT))
    traced, floor = result["lambda_handler"], result["minimal"]
    p50_traced, p50_floor = percentile(traced, 50), percentile(floor, 50)
    run.diagnostic(
        "X-Ray SDK variant (TraceAwsCalls=true, child interpreter)",
        [
            f"{count} requests per entry point after {warmup} warm-up ones, alternating; "
            f"{result['datagrams']} segment datagrams reached the stand-in daemon "
            f"({result['datagrams_per_request']:.1f} per traced request).",
        ],
    )
    return [
        Row("with the X-Ray SDK: lambda_handler CPU p50", p50_traced, "ms"),
        Row("with the X-Ray SDK: minimal app CPU p50 (same child)", p50_floor, "ms"),
        Row("with the X-Ray SDK: ratio lambda_handler / minimal app", p50_traced / p50_floor, "x"),
    ]


_RESULT = "RESULT "


def traced_child(count: int, warmup: int) -> None:
    """Run in a child interpreter whose environment turns the X-Ray SDK on; prints one RESULT line."""
    from functions.handlers.api import lambda_handler
    from infra.lambda_context import LocalLambdaContext
    from tests.benchmarks import _minimal_app

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    os.environ["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{sink.getsockname()[1]}"
    received = 0

    def new_trace() -> None:
        nonlocal received
        os.environ["_X_AMZN_TRACE_ID"] = (
            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
        )
        with contextlib.suppress(BlockingIOError):
            while True:
                sink.recv(65536)
                received += 1

    body = markdown_body()
    context = LocalLambdaContext(function_name="ApiFunction")
    wiring = NullClientWiring()
    handlers: dict[str, Handler] = {"lambda_handler": lambda_handler, "minimal": _minimal_app.lambda_handler}
    with _null_aws(wiring), open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        _serve_alternately(handlers, _events(2 * warmup, body, start=10_000), context, new_trace)
        received = 0
        gc.collect()
        results = _serve_alternately(handlers, _events(2 * count, body, start=100_000), context, new_trace)
        new_trace()
    summary = {
        "lambda_handler": results["lambda_handler"].cpu,
        "minimal": results["minimal"].cpu,
        "datagrams": received,
        "datagrams_per_request": received / max(1, len(results["lambda_handler"].cpu)),
    }
    print(_RESULT + json.dumps(summary))


def _split(run: Run, body: str, events: list[dict[str, Any]], handle: Handler, context: Any) -> list[Row]:
    """CPU p50 of the parts of a request, interleaved with whole requests so that drift hits all alike."""
    from pydantic import TypeAdapter

    from functions.domain import sanitise as sanitising
    from functions.domain.intake import flags_for, prepare
    from functions.domain.models import ReleaseSubmission
    from functions.domain.prescreen import _scans
    from functions.domain.records import Caller, payload_hash
    from functions.domain.sanitise import plain_words, sanitise_body

    adapter: TypeAdapter[Any] = TypeAdapter(ReleaseSubmission)
    texts = [event["body"] for event in events]
    submissions = [adapter.validate_python(json.loads(text)) for text in texts]
    caller = Caller(org_id="org-acme", org_name="Acme Corporation", key_id="key-bench")
    now = datetime.now(UTC)
    direct = NullClientWiring()

    def validate(text: str) -> object:
        return adapter.validate_json(text)  # as the request does (functions.api.app._valid_submission)

    def submit(submission: Any) -> object:
        return direct.service.submit(caller, submission, release_id=None)  # no Idempotency-Key, as sent

    def domain(submission: Any) -> object:
        return flags_for(submission, prepare(submission, now=now, hash_payload=False), None)

    def sanitise(submission: Any) -> object:
        return sanitise_body(submission.body, submission.body_format)

    def rules(submission: Any, prepared: Any) -> object:
        return flags_for(submission, prepared, None)

    def render(submission: Any) -> object:  # the first step of sanitise_body for Markdown
        return sanitising._markdown()(submission.body)

    def allow_list(rendered: str) -> object:  # what sanitise_body does after rendering this body
        if (kept := sanitising.kept_markdown(body, rendered)) is not None:
            return kept  # no raw HTML, only tags the allow-list keeps: nh3 is not needed
        return sanitising._cleaner().clean(sanitising._RENAME.sub(sanitising._renamed, rendered))

    def places(submission: Any, prepared: Any) -> object:  # where the two pattern rules may match
        texts = (submission.headline, submission.subheadline, submission.summary, prepared.body_text)
        return _scans([text for text in texts if text])

    def words(prepared: Any) -> object:
        return plain_words(prepared.body_html)

    def hashed(submission: Any) -> object:  # what a request with an Idempotency-Key adds
        return payload_hash(submission.model_dump(mode="json"))

    names = (
        "request", "validate", "submit", "domain", "sanitise", "prescreen",
        "render", "allow_list", "places", "words", "hash",
    )  # fmt: skip
    parts = {name: Timings() for name in names}
    for event, text, submission in zip(events, texts, submissions, strict=True):
        parts["request"].timed(partial(handle, event, context))
        parts["validate"].timed(partial(validate, text))
        parts["submit"].timed(partial(submit, submission))
        parts["domain"].timed(partial(domain, submission))
        parts["sanitise"].timed(partial(sanitise, submission))
        prepared = prepare(submission, now=now, hash_payload=False)
        parts["prescreen"].timed(partial(rules, submission, prepared))
        parts["render"].timed(partial(render, submission))
        parts["allow_list"].timed(partial(allow_list, render(submission)))
        parts["places"].timed(partial(places, submission, prepared))
        parts["words"].timed(partial(words, prepared))
        parts["hash"].timed(partial(hashed, submission))

    p50 = {name: percentile(t.cpu, 50) for name, t in parts.items()}
    first = submissions[0].body
    skips_nh3 = sanitising.kept_markdown(first, sanitising._markdown()(first)) is not None
    allow_list_label = "the allow-list check (nh3 skipped)" if skips_nh3 else "nh3's allow-list"
    total = p50["request"]
    rest = total - p50["validate"] - p50["submit"]
    plain = p50["domain"] - p50["sanitise"] - p50["prescreen"]
    lines = [
        ("handle() whole request", p50["request"]),
        ("  pydantic validation of the body (from its JSON text)", p50["validate"]),
        ("  IntakeService.submit (domain + adapters on null clients)", p50["submit"]),
        ("    prepare() + prescreen", p50["domain"]),
        ("      of which sanitise_body (cmark-gfm + the allow-list)", p50["sanitise"]),
        ("        cmark-gfm's rendering", p50["render"]),
        (f"        {allow_list_label}", p50["allow_list"]),
        ("      of which the prescreen rules", p50["prescreen"]),
        ("        where the hype and weekday patterns may match (_scans)", p50["places"]),
        ("      the rest: plain words, content digest", plain),
        ("        plain words of the body", p50["words"]),
        ("    (not made: payload hash, with an Idempotency-Key only)", p50["hash"]),
        ("    record, version document, adapters", p50["submit"] - p50["domain"]),
        ("  the rest: Powertools resolver, precheck, response", rest),
    ]
    run.diagnostic(
        f"split of a request, CPU p50 of {len(events)} interleaved rounds (p50s add only roughly)",
        table(
            ("part", "p50 ms", "share"),
            [(label, fmt(value), f"{value / total:.0%}") for label, value in lines],
            right=(False, True, True),
        ),
    )
    return [
        Row("split: prepare() + prescreen, CPU p50", p50["domain"], "ms"),
        Row("split: sanitise_body, CPU p50", p50["sanitise"], "ms"),
        Row("split: prescreen rules, CPU p50", p50["prescreen"], "ms"),
        Row("split: cmark-gfm rendering, CPU p50", p50["render"], "ms"),
        Row(f"split: {allow_list_label}, CPU p50", p50["allow_list"], "ms"),
        Row("split: prescreen's search for match places, CPU p50", p50["places"], "ms"),
        Row("split: plain words of the body, CPU p50", p50["words"], "ms"),
        Row("split: payload hash (with an Idempotency-Key only), CPU p50", p50["hash"], "ms"),
        Row("split: body validation from its JSON text, CPU p50", p50["validate"], "ms"),
        Row("split: IntakeService.submit, adapters on null clients, CPU p50", p50["submit"], "ms"),
        Row("split: framework + glue (request - validation - submit)", rest, "ms"),
    ]
