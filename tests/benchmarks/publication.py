"""The cost of one publication as the site grows: the 1,000th against the 10th (goal: within 1.2x).

Goals
-----
The goal as stated compares the ~1,000th publication with the ~10th. But a publication rewrites
feeds and the newsroom index, and those legitimately grow until their bounds are reached: the site
catalog is full (FEED_SIZE 50 entries) from publication #50, each category catalog from about #250
(five categories in rotation). So the benchmark also reports, as a second goal row with the same
1.2x target, the ~1,000th against the ~300th: "flat once the bounds are reached". Both rows are in
the summary; the first says what growing to the bounds costs, the second whether anything grows
after them.

Method
------
In-process moto (``mock_aws``, with ``infra.moto_atomic.make_conditional_writes_atomic()`` applied
as the functional tests and the local stack apply it); every resource of template.yaml created with
``infra.bootstrap.bootstrap``; the function environment from ``infra.lambdas.local_functions`` (plus
``POWERTOOLS_TRACE_DISABLED=true``, as in the tests). Each publication is a real
``PublisherFunction`` invocation: ``local_functions(...).invoke("PublisherFunction",
sqs_event([...]))``, i.e. ``functions.handlers.publisher.lambda_handler`` with its Powertools
decorators and batch processor, its wiring in the same module and its boto3 clients
(``functions.cold_start.aws_client``), all cached across invocations as in one warm execution
environment (the caches are cleared once at the start, so the clients are made under the mock).

Releases. Approved releases are seeded, one just before it is published, so that the releases
table, the releases bucket and the site grow together, as they would in service: the submission
(a realistic release of one of the five categories in rotation, from one of four organisations,
with a unique headline) is validated with the API's pydantic model, turned into its version
document and state record with the intake's own ``prepare()``, ``version_record()`` (the record
factory of submissions and revisions) and ``version_document()``, and written with the
function adapters: ``S3ReleaseStore.put_version`` and ``DynamoStateRepository.create`` (state
item with status ``approved``, the moderator's decision, no outbox mark; plus its content
fingerprint item). The seeding clients are not the publisher's, and seeding is never timed.

Timing. Three windows of 20 publications, each invoked one record per event and timed alone
(wall ``time.perf_counter``, CPU ``time.process_time``): #1-20, #291-310 and #991-1010 (with
``--quick``: #91-110 and #191-210, N = 200, so the middle window stays before the late one; at
~100th the category catalogs are not yet full, so the quick ~200th / ~100th ratio only
approximates the full one). The figure for a point k is the median of #(k-4)-(k+5): "around the
10th" is #6-15, "around the 300th" #296-305, "around the 1,000th" #996-1005. The publications in
between go in events of 10 records (the template's ``BatchSize``) through the same handler,
untimed. GC stays enabled (one ``gc.collect()`` before each window). Log lines and metric flushes
go to ``os.devnull`` (file descriptor 1 is redirected: the Powertools logger holds the original
stream). As bursts of load on the host only slow publications down, the fastest publication of
each window is reported too (a robust view: minima drift less than medians).

Counts and sizes. AWS calls are counted with a ``before-call`` handler on the publisher's own
clients (``functions.cold_start.aws_client("s3" | "dynamodb" | "scheduler")``), per operation, for
every timed publication. ``index.html``, ``feeds/all.xml`` and the site catalog (``catalogs/all.json``
in the releases bucket, gzip-compressed; its entries carry the sanitised bodies) are measured after
publications #10, #100, the middle point and N.

Where growth comes from. moto keeps the whole "cloud" in this process, and some of its operations
may scale with what it stores. Three publications after each window are profiled with cProfile and
split into: our code and its libraries (rendering, Powertools), the botocore client side
(serialising, parsing, events) and moto's backend (everything under
``moto.core.botocore_stubber.BotocoreStubber.__call__``); the functions whose own time grew most
between the points are listed.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import json
import os
import pstats
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, fmt, median, table
from tests.benchmarks._objects import ObjectCalls, breakdown

RATIO_GOAL = 1.2
SCALE_FULL = 1000
SCALE_QUICK = 200
WINDOW_BEFORE, WINDOW_AFTER = 9, 10  # timed: #(k-9)...#(k+10) around k = 10, 300 and N
CORE_BEFORE, CORE_AFTER = 4, 5  # the median: #(k-4)...#(k+5)
BATCH = 10  # PublisherFunction's SQS BatchSize in template.yaml
PROFILED = 3
PLATEAU_FULL, PLATEAU_QUICK = 300, 100  # full: every catalog (5 categories x FEED_SIZE 50) is full
SITE_KEYS = ("index.html", "feeds/all.xml")

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
_AWS_UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE")

# ---------------------------------------------------------------------------------------------
# The releases
# ---------------------------------------------------------------------------------------------

_ORGS = (
    ("org-acme", "Acme Corporation"),
    ("org-harbour", "Harbour City Council"),
    ("org-rovers", "Riverside Rovers FC"),
    ("org-lumen", "Lumen Arts Trust"),
)
_COMMON = (
    "The announcement follows a year of steady growth in which the organisation expanded its team, "
    "opened a second office and strengthened its partnerships across the region. Further details, "
    "including photographs and biographies, are available from the press office on request.",
    "Journalists who would like to arrange an interview should contact the press office by e-mail "
    "or telephone. Embargoed copies of the annual report can be provided to accredited media.",
    "This release may contain forward-looking statements. They reflect current expectations and "
    "are subject to risks and uncertainties that could cause actual outcomes to differ materially.",
)


def _category_part(category: str, n: int) -> tuple[str, str, str, dict[str, Any]]:
    """(headline, lead paragraph, extra paragraph, details) of release ``n`` in ``category``."""
    today = datetime.now(UTC).date()
    if category == "business":
        return (
            f"Acme opens sensor plant number {n} and hires 120 engineers",
            f"**TAMPA, Florida** - Acme Corporation today opened plant {n}, a $48 million facility that "
            "will build the next generation of its industrial sensors for water utilities and food "
            "producers. The plant adds capacity of two million units a year.",
            "- Investment of $48 million\n- 120 engineering and production jobs\n"
            "- Full production expected within nine months",
            {"tickers": [{"symbol": "ACME", "exchange": "NYSE"}]},
        )
    if category == "sports":
        return (
            f"Riverside Rovers win derby {n} with late goal at home",
            f"Riverside Rovers beat Harbour United 2-1 in derby number {n} on Saturday, a header in the "
            "ninetieth minute settling a match played in front of a sell-out crowd of 18,400.",
            "The win lifts the Rovers to third in the table, two points behind the leaders with "
            "eleven matches left. The coach praised the squad's fitness and the supporters' patience.",
            {"sport": "football", "teams": ["Riverside Rovers", "Harbour United"], "result": "2-1"},
        )
    if category == "personnel":
        return (
            f"Harbour City Council appoints director of services {n}",
            f"Harbour City Council has appointed Sam Patel as director of services (post {n}). Patel "
            "joins from the neighbouring county, where he led the transport and waste departments for "
            "six years.",
            '> "Sam brings a record of delivering better services on tight budgets," said the '
            "council's chief executive.",
            {
                "person": "Sam Patel",
                "role": "Director of Services",
                "effective_date": (today + timedelta(days=30)).isoformat(),
                "previous_role": "Head of Transport",
            },
        )
    if category == "community":
        return (
            f"Lumen Arts Trust funds mural project {n} in the old town",
            f"The Lumen Arts Trust will fund mural project {n}, in which local schools and artists "
            "paint the walls of the old town's market hall over the summer holidays.",
            "Residents are invited to suggest themes at the library until the end of the month; the "
            "trust will publish the chosen designs in its newsletter.",
            {"group": "Lumen Arts Trust", "area": "Old Town"},
        )
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40, hours=n % 24)
    return (
        f"Harbour festival night {n} announced with free concerts",
        f"The harbour festival returns for night {n} with free concerts on three stages, a food "
        "market and fireworks over the water at ten o'clock.",
        "Roads around the quay will close from four in the afternoon; extra buses will run from the "
        "station until one in the morning.",
        {
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=6)).isoformat(),
            "venue": "Harbour Quay",
            "timezone": "UTC",
        },
    )


def release(n: int) -> tuple[tuple[str, str], dict[str, Any]]:
    """Organisation and submission body of release ``n`` (~1.5 KB of Markdown, unique headline)."""
    from functions.domain.models import CATEGORIES

    category = CATEGORIES[n % len(CATEGORIES)]
    org = _ORGS[n % len(_ORGS)]
    headline, lead, extra, details = _category_part(category, n)
    body = "\n\n".join([lead, extra, *_COMMON, f"Reference PR-{n:06d}."])
    submission = {
        "category": category,
        "headline": headline,
        "subheadline": f"Release {n} of the benchmark newsroom",
        "summary": lead.replace("**", "")[:300],
        "body": body,
        "body_format": "markdown",
        "dateline": "HARBOUR CITY",
        "language": "en",
        "contact": {"name": "Press Office", "email": "press@example.org", "phone": "+1 555 0100"},
        "boilerplate": f"About {org[1]}: serving the Harbour City region since 1987.",
        "links": [{"url": "https://example.org/news", "title": "Newsroom"}],
        "tags": [category, "benchmark"],
        "details": details,
    }
    return org, submission


class Seeder:
    """Writes an approved release as intake + moderation would leave it, with the adapters."""

    def __init__(self, states: Any, store: Any) -> None:
        from pydantic import TypeAdapter

        from functions.domain.models import ReleaseSubmission

        self._states, self._store = states, store
        self._adapter: TypeAdapter[Any] = TypeAdapter(ReleaseSubmission)
        self.seconds = 0.0  # spent seeding, for the report

    def seed(self, n: int) -> str:
        began = time.perf_counter()
        try:
            return self._seed(n)
        finally:
            self.seconds += time.perf_counter() - began

    def _seed(self, n: int) -> str:
        from dataclasses import replace

        from functions.domain.intake import flags_for, prepare, version_document, version_record
        from functions.domain.moderation import Decision, DecisionAction
        from functions.domain.records import Caller, new_release_id
        from functions.domain.states import Action, next_status

        (org_id, org_name), body = release(n)
        submission = self._adapter.validate_python(body)
        caller = Caller(org_id=org_id, org_name=org_name, key_id="key-bench")
        now = datetime.now(UTC)
        prepared = prepare(submission, now=now)
        release_id = new_release_id()
        submitted = version_record(
            caller,
            submission,
            prepared,
            release_id=release_id,
            now=now,
            flags=flags_for(submission, prepared, None),
        )
        # As moderation leaves it: approved, its publish message sent (no outbox mark).
        record = replace(
            submitted,
            status=next_status(Action.APPROVE, submitted.status),
            decision=Decision(DecisionAction.APPROVE, moderator="bench").as_item(decided_at=now, version=1),
            outbox=None,
            outbox_at=None,
        )
        document = version_document(record, prepared, submission.body_format, caller)
        record.object_key = self._store.put_version(
            org_id=org_id,
            release_id=release_id,
            version=1,
            document=document,
            payload_hash=prepared.payload_hash,
        )
        self._states.create(record, actor=caller.actor)
        return release_id


def message(release_id: str) -> str:
    """The publish message ``ModerationService`` sends on approval (``SqsPublishQueue``'s body)."""
    return json.dumps({"release_id": release_id, "version": 1, "action": "publish"})


# ---------------------------------------------------------------------------------------------
# Plumbing
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _environment(values: dict[str, str], unset: Sequence[str] = ()) -> Iterator[None]:
    names = [*values, *unset]
    saved = {name: os.environ.get(name) for name in names}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Send file descriptor 1 (and ``sys.stdout``) to /dev/null: log lines and EMF metric flushes."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            with contextlib.redirect_stdout(devnull):
                yield
        finally:
            sys.stdout.flush()
            with contextlib.suppress(Exception):
                devnull.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _reset_function_caches() -> None:
    """A fresh execution environment (as tests/functional/conftest.py's reset_function_caches)."""
    from functions import cold_start

    cold_start.reset_all()


@dataclass
class CallCounter:
    """Counts API calls on the publisher's boto3 clients (``before-call``: once per call, not per retry)."""

    clients: dict[str, Any]
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for service, client in self.clients.items():
            client.meta.events.register(f"before-call.{service}", self._count, unique_id=self._uid(service))

    @staticmethod
    def _uid(service: str) -> str:
        return f"bench-publication-count-{service}"

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken

    def close(self) -> None:
        for service, client in self.clients.items():
            client.meta.events.unregister(f"before-call.{service}", unique_id=self._uid(service))


@dataclass
class Sample:
    n: int
    wall_ms: float
    cpu_ms: float
    calls: Counter[str]
    objects: dict[str, Counter[str]] = field(default_factory=dict)  # calls by object kind

    def by_service(self, service: str) -> int:
        return sum(count for name, count in self.calls.items() if name.startswith(f"{service}:"))


@dataclass(frozen=True)
class Window:
    """Publications timed one by one around publication ``at``; the median is of the core ten."""

    label: str
    at: int

    @property
    def numbers(self) -> list[int]:
        return list(range(self.at - WINDOW_BEFORE, self.at + WINDOW_AFTER + 1))

    @property
    def core(self) -> list[int]:
        return list(range(self.at - CORE_BEFORE, self.at + CORE_AFTER + 1))

    @property
    def core_text(self) -> str:
        return f"#{self.core[0]}-{self.core[-1]}"


@dataclass
class World:
    refresher: Any  # the site-refresh queue into SiteRefreshFunction (the local stack's SqsPoller)
    functions: Any
    seeder: Seeder
    counter: CallCounter
    objects: ObjectCalls
    site: Any
    site_bucket: str
    catalogs: Any
    catalog_bucket: str
    states: Any
    samples: dict[int, Sample] = field(default_factory=dict)
    sizes: dict[int, dict[str, int]] = field(default_factory=dict)
    profiles: dict[str, list[cProfile.Profile]] = field(default_factory=dict)
    published: int = 0
    refreshes: int = 0  # site refreshes (one per publisher batch): one change of each catalog each

    def invoke(self, release_ids: list[str]) -> None:
        from tests.helpers import sqs_event

        result = self.functions.invoke("PublisherFunction", sqs_event([message(r) for r in release_ids]))
        if result != {"batchItemFailures": []}:
            raise RuntimeError(f"publisher reported failures: {result}")
        self.refresh()
        self.published += len(release_ids)

    def refresh(self) -> None:
        """The site refresh the publisher asked for (its batch: one request)."""
        before = self.refresher.batches
        self.refresher.run_once()
        if self.refresher.batches != before + 1:
            raise RuntimeError("the publisher's batch left no site-refresh request")
        self.refreshes += 1

    def timed(self, n: int) -> None:
        from tests.helpers import sqs_event

        release_id = self.seeder.seed(n)
        event = sqs_event([message(release_id)])
        self.counter.take()
        self.objects.take()
        c0, w0 = time.process_time(), time.perf_counter()
        result = self.functions.invoke("PublisherFunction", event)
        self.refresh()
        w1, c1 = time.perf_counter(), time.process_time()
        calls = self.counter.take()
        objects = self.objects.take()
        if result != {"batchItemFailures": []}:
            raise RuntimeError(f"publisher reported failures: {result}")
        record = self.states.get(release_id)
        if record is None or record.status != "published":
            raise RuntimeError(f"publication #{n} did not publish: {record and record.status}")
        self.published += 1
        self.samples[n] = Sample(n, (w1 - w0) * 1e3, (c1 - c0) * 1e3, calls, objects)

    def profiled(self, n: int, label: str) -> None:
        release_id = self.seeder.seed(n)
        profiler = cProfile.Profile()
        profiler.enable()
        self.invoke([release_id])
        profiler.disable()
        self.profiles.setdefault(label, []).append(profiler)

    def batch(self, numbers: Sequence[int]) -> None:
        self.invoke([self.seeder.seed(n) for n in numbers])
        self.counter.take()

    def measure_sizes(self, n: int) -> None:
        self.sizes[n] = {
            key: int(self.site.head_object(Bucket=self.site_bucket, Key=key)["ContentLength"])
            for key in SITE_KEYS
        }
        entries, _ = self.catalogs.get("all")
        self.sizes[n]["catalog all (entries)"] = len(entries)
        stored = [entry.to_json() for entry in entries]
        self.sizes[n]["catalog all (bytes)"] = len(json.dumps(stored, separators=(",", ":")))
        self.sizes[n]["catalog all (gzip bytes)"] = int(
            self.site.head_object(Bucket=self.catalog_bucket, Key="catalogs/all.json")["ContentLength"]
        )


def _windows(scale: int) -> tuple[Window, Window, Window]:
    plateau = PLATEAU_FULL if scale == SCALE_FULL else PLATEAU_QUICK
    return Window("early", 10), Window("plateau", plateau), Window("late", scale)


def _plan(windows: Sequence[Window], checkpoints: set[int]) -> list[tuple[str, list[int]]]:
    """Steps in order: ("timed" | "batch" | "profile-<label>", numbers). The windows must be in
    increasing order and apart (each after the previous one's profiled publications); batches of
    untimed publications never straddle a size checkpoint."""
    steps: list[tuple[str, list[int]]] = []
    n = 1
    for window in windows:
        if window.numbers[0] < n:
            raise ValueError(f"window around #{window.at} starts before #{n}: windows overlap")
        chunk: list[int] = []
        while n < window.numbers[0]:
            chunk.append(n)
            if len(chunk) == BATCH or n in checkpoints:
                steps.append(("batch", chunk))
                chunk = []
            n += 1
        if chunk:
            steps.append(("batch", chunk))
        profiled = list(range(window.numbers[-1] + 1, window.numbers[-1] + 1 + PROFILED))
        steps += [("timed", window.numbers), (f"profile-{window.label}", profiled)]
        n = profiled[-1] + 1
    return steps


def _run(world: World, windows: Sequence[Window], checkpoints: set[int]) -> None:
    for kind, numbers in _plan(windows, checkpoints):
        if kind == "timed":
            gc.collect()
            for n in numbers:
                world.timed(n)
                if n in checkpoints:
                    world.measure_sizes(n)
        elif kind.startswith("profile-"):
            for n in numbers:
                world.profiled(n, kind.removeprefix("profile-"))
        else:
            world.batch(numbers)
            if numbers[-1] in checkpoints:
                world.measure_sizes(numbers[-1])


# ---------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------

Key = tuple[str, int, str]
StatsTable = dict[Key, tuple[int, int, float, float, Any]]
_NONE = (0, 0, 0.0, 0.0, None)
MOTO = "moto backend (BotocoreStubber.__call__)"
WHOLE = "whole invocation"


def _stats(profiles: list[cProfile.Profile]) -> StatsTable:
    merged = pstats.Stats(profiles[0])
    merged.add(*profiles[1:])
    table_: StatsTable = getattr(merged, "stats")  # noqa: B009 - pstats' table, documented by example
    return table_


def _cumulative(stats: StatsTable, path_part: str, name: str) -> float:
    return sum(v[3] for k, v in stats.items() if path_part in k[0] and k[2] == name)


def _split(stats: StatsTable, n: int) -> dict[str, float]:
    """Per-publication ms: whole invocation, moto backend, botocore client side, the rest."""
    total = sum(v[2] for v in stats.values())
    api = _cumulative(stats, os.path.join("botocore", "client.py"), "_make_api_call")
    moto = _cumulative(stats, os.path.join("moto", "core", "botocore_stubber.py"), "__call__")
    return {
        WHOLE: total / n * 1e3,
        MOTO: moto / n * 1e3,
        "botocore client side (_make_api_call - moto)": (api - moto) / n * 1e3,
        "our code + libraries (rendering, Powertools)": (total - api) / n * 1e3,
    }


def _where(path: str) -> str:
    marker = "site-packages" + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    if "python3." in path and os.sep + "lib" + os.sep in path:
        return "stdlib/" + path.rsplit(os.sep, 1)[1]
    return path.removeprefix(str(ROOT) + os.sep)


def _label(key: Key) -> str:
    path, line, name = key
    return name if path == "~" else f"{_where(path)}:{line}({name})"


def _growth(run: Run, title: str, before: StatsTable, n_before: int, after: StatsTable, n_after: int) -> None:
    def self_ms(stats: StatsTable, key: Key, n: int) -> float:
        return stats.get(key, _NONE)[2] / n * 1e3

    def calls(stats: StatsTable, key: Key, n: int) -> str:
        return f"{stats.get(key, _NONE)[1] / n:g}"

    keys = sorted(
        set(before) | set(after),
        key=lambda k: self_ms(after, k, n_after) - self_ms(before, k, n_before),
        reverse=True,
    )
    rows = [
        (
            fmt(self_ms(before, k, n_before)),
            fmt(self_ms(after, k, n_after)),
            f"{self_ms(after, k, n_after) - self_ms(before, k, n_before):+.2f}",
            f"{calls(before, k, n_before)} -> {calls(after, k, n_after)}",
            _label(k),
        )
        for k in keys[:10]
    ]
    run.diagnostic(
        title,
        table(
            ("self ms before", "after", "delta", "calls", "function"), rows, right=(True, True, True, True)
        ),
    )


def _profile_diagnostics(run: Run, world: World, windows: Sequence[Window]) -> dict[str, dict[str, float]]:
    """Diagnostics from the profiles; returns the split (ms per publication) per window label."""
    stats = {w.label: _stats(world.profiles[w.label]) for w in windows}
    counts = {w.label: len(world.profiles[w.label]) for w in windows}
    splits = {w.label: _split(stats[w.label], counts[w.label]) for w in windows}
    first = {w.label: w.numbers[-1] + 1 for w in windows}
    early, late = windows[0].label, windows[-1].label
    rows = [
        (
            part,
            *(fmt(splits[w.label][part]) for w in windows),
            f"{splits[late][part] - splits[early][part]:+.2f}",
        )
        for part in splits[early]
    ]
    run.diagnostic(
        f"cProfile split of one publication, ms (mean of {PROFILED} publications at each point; "
        "cProfile inflates call-heavy Python code)",
        table(
            (
                "part",
                *(f"#{first[w.label]}-{first[w.label] + PROFILED - 1}" for w in windows),
                "late - early",
            ),
            rows,
            right=(False, *(True for _ in windows), True),
        ),
    )
    for window in (windows[0], windows[-1]):
        data, n = stats[window.label], counts[window.label]
        keys = sorted(data, key=lambda k: data[k][3], reverse=True)
        ours = [k for k in keys if k[0] != "~" and ("functions" + os.sep in k[0] or "moto" in k[0])]
        run.diagnostic(
            f"cProfile at #{first[window.label]}-{first[window.label] + PROFILED - 1}: top 12 by cumulative "
            "time in functions/ and moto/ (per publication)",
            table(
                ("cum ms", "self ms", "calls", "function"),
                [
                    (fmt(data[k][3] / n * 1e3), fmt(data[k][2] / n * 1e3), f"{data[k][1] / n:g}", _label(k))
                    for k in ours[:12]
                ],
                right=(True, True, True),
            ),
        )
    for before, after in ((windows[0], windows[-1]), (windows[1], windows[-1])):
        _growth(
            run,
            f"cProfile: functions whose own time per publication grew most, #{first[before.label]}.. -> "
            f"#{first[after.label]}..",
            stats[before.label],
            counts[before.label],
            stats[after.label],
            counts[after.label],
        )
    return splits


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


@benchmark(
    "publication", "one publication through PublisherFunction: the 1,000th vs the 10th and the 300th (moto)"
)
def publication(run: Run) -> list[Row]:
    import boto3
    from moto import mock_aws

    from infra.moto_atomic import make_conditional_writes_atomic

    make_conditional_writes_atomic()
    scale = run.reps(full=SCALE_FULL, quick=SCALE_QUICK)
    windows = _windows(scale)
    checkpoints = {10, 100, windows[1].at, scale}
    began = time.perf_counter()
    with _environment(_AWS_ENV, _AWS_UNSET), mock_aws():
        from functions.adapters.dynamodb_state import DynamoStateRepository
        from functions.adapters.s3_catalog import S3Catalogs
        from functions.adapters.s3_releases import S3ReleaseStore
        from infra.bootstrap import bootstrap
        from infra.lambdas import local_functions
        from infra.template import load_template

        stack = bootstrap(boto3.client, template=load_template())  # type: ignore[arg-type]
        functions = local_functions(stack)
        with _environment(functions.environment):
            _reset_function_caches()
            try:
                from functions.cold_start import aws_client
                from functions.handlers import publisher

                feed_size = publisher.settings().feed_size
                counter = CallCounter({s: aws_client(s) for s in ("s3", "dynamodb", "scheduler")})
                objects = ObjectCalls({s: aws_client(s) for s in ("s3", "dynamodb", "scheduler")})
                ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
                from tests.functional.pipeline import site_refresher

                refresher = site_refresher(stack, functions)
                world = World(
                    refresher=refresher,
                    functions=functions,
                    seeder=Seeder(
                        DynamoStateRepository(ddb, stack.ref("ReleasesTable")),
                        S3ReleaseStore(s3, stack.ref("ReleasesBucket")),
                    ),
                    counter=counter,
                    objects=objects,
                    site=s3,
                    site_bucket=stack.ref("SiteBucket"),
                    catalog_bucket=stack.ref("ReleasesBucket"),
                    catalogs=S3Catalogs(s3, stack.ref("ReleasesBucket")),
                    states=DynamoStateRepository(ddb, stack.ref("ReleasesTable")),
                )
                with _quiet():
                    _run(world, windows, checkpoints)
                    from functions.observability import metrics

                    metrics.clear_metrics()
                counter.close()
                objects.close()
                _, seq = world.catalogs.get("all")
                table_items = ddb.describe_table(TableName=stack.ref("ReleasesTable"))["Table"]["ItemCount"]
            finally:
                _reset_function_caches()
    elapsed = time.perf_counter() - began
    if seq != world.refreshes:
        raise RuntimeError(f"catalog 'all' is at seq {seq} after {world.refreshes} site refreshes")
    splits = _profile_diagnostics(run, world, windows)
    rows = _rows(world, windows, scale)
    _diagnostics(run, world, windows, splits, feed_size, elapsed, table_items)
    return rows


def _medians(world: World, numbers: Sequence[int]) -> tuple[float, float]:
    samples = [world.samples[n] for n in numbers]
    return median([s.wall_ms for s in samples]), median([s.cpu_ms for s in samples])


def _rows(world: World, windows: Sequence[Window], scale: int) -> list[Row]:
    tag = "" if scale == SCALE_FULL else f" [--quick: {scale} not {SCALE_FULL:,}]"
    early, plateau, late = windows
    medians = {w.label: _medians(world, w.core) for w in windows}
    rows: list[Row] = []
    for index, measure in enumerate(("wall", "CPU")):
        early_ms, plateau_ms, late_ms = (medians[w.label][index] for w in windows)
        rows += [
            Row(f"{measure}, median of {early.core_text} (~10th)", early_ms, "ms"),
            Row(f"{measure}, median of {plateau.core_text} (~{plateau.at}th)", plateau_ms, "ms"),
            Row(f"{measure}, median of {late.core_text} (~{late.at:,}th){tag}", late_ms, "ms"),
            Row(f"{measure} ratio ~{late.at:,}th / ~10th{tag}", late_ms / early_ms, "x", Goal(RATIO_GOAL)),
            Row(
                f"{measure} ratio ~{late.at:,}th / ~{plateau.at}th (flat once the bounds are reached){tag}",
                late_ms / plateau_ms,
                "x",
                Goal(RATIO_GOAL),
            ),
        ]
    for service in ("s3", "dynamodb", "scheduler"):
        for window in (early, late):
            counts = sorted({world.samples[n].by_service(service) for n in window.core})
            if service == "scheduler" and counts == [0]:
                continue
            value = counts[0] if len(counts) == 1 else median(counts)
            rows.append(Row(f"{service} calls per publication (~{window.at:,}th)", value, "calls"))
    rows += [
        Row(f"{key} after publication #{n:,}", world.sizes[n][key], "bytes")
        for key in SITE_KEYS
        for n in sorted(world.sizes)
    ]
    return rows


def _diagnostics(
    run: Run,
    world: World,
    windows: Sequence[Window],
    splits: dict[str, dict[str, float]],
    feed_size: int,
    elapsed: float,
    table_items: int,
) -> None:
    from functions.domain.models import CATEGORIES

    lines = []
    for label, numbers in ((w.label, w.numbers) for w in windows):
        texts = [f"#{n}: {world.samples[n].wall_ms:.1f}/{world.samples[n].cpu_ms:.1f}" for n in numbers]
        lines.append(f"{label} (wall/CPU ms):")
        lines += ["  " + "  ".join(texts[i : i + 5]) for i in range(0, len(texts), 5)]
    run.diagnostic("every timed publication", lines)

    groups = [(f"#{w.numbers[0]}-{w.numbers[-1]}", w.numbers) for w in windows]
    fastest = {label: min(world.samples[n].wall_ms for n in numbers) for label, numbers in groups}
    first_cpu = {label: min(world.samples[n].cpu_ms for n in numbers) for label, numbers in groups}
    base = groups[0][0]
    run.diagnostic(
        "robust view: the fastest publication of each window (bursts of load on the host only slow "
        "publications down, so minima drift less than medians)",
        table(
            ("window", "min wall ms", "min CPU ms", "wall vs first window", "wall vs middle window"),
            [
                (
                    label,
                    fmt(fastest[label]),
                    fmt(first_cpu[label]),
                    f"{fastest[label] / fastest[base]:.2f}x",
                    f"{fastest[label] / fastest[groups[1][0]]:.2f}x",
                )
                for label, _ in groups
            ],
            right=(False, True, True, True, True),
        ),
    )

    early, late = windows[0], windows[-1]
    operations = sorted({name for w in (early, late) for n in w.core for name in world.samples[n].calls})

    def counts(window: Window, name: str) -> str:
        return "/".join(str(v) for v in sorted({world.samples[n].calls.get(name, 0) for n in window.core}))

    run.diagnostic(
        "AWS calls per publication by operation (distinct values over the 10 publications of each median)",
        table(
            ("operation", f"~{early.at}th", f"~{late.at:,}th"),
            [(name, counts(early, name), counts(late, name)) for name in operations],
            right=(False, True, True),
        ),
    )
    for window in (early, windows[1], late):
        run.diagnostic(
            f"AWS calls per publication by object kind, ~{window.at:,}th (mean of {window.core_text})",
            table(
                ("object kind", "calls", "by operation"),
                breakdown([world.samples[n].objects for n in window.core], len(window.core)),
                right=(False, True, False),
            ),
        )
    size_keys = list(next(iter(world.sizes.values())))
    run.diagnostic(
        "site and catalog sizes (bytes unless stated)",
        table(
            ("after #", *size_keys),
            [(f"{n:,}", *(f"{world.sizes[n][k]:,}" for k in size_keys)) for n in sorted(world.sizes)],
            right=(True,) * (len(size_keys) + 1),
        ),
    )
    moto_growth = splits[late.label][MOTO] - splits[early.label][MOTO]
    rest_growth = splits[late.label][WHOLE] - splits[early.label][WHOLE] - moto_growth
    plateau_moto = splits[late.label][MOTO] - splits[windows[1].label][MOTO]
    plateau_rest = splits[late.label][WHOLE] - splits[windows[1].label][WHOLE] - plateau_moto
    run.diagnostic(
        "workload and reading aids",
        [
            f"{world.published:,} publications through PublisherFunction, each of a release seeded just "
            f"before it; the releases table holds ~{table_items:,} items at the end (state and fingerprint "
            "items; the catalogs are gzip-compressed objects in the releases bucket). Whole benchmark "
            f"{elapsed:.1f} s, of which seeding "
            f"{world.seeder.seconds:.1f} s.",
            f"Timed one record per event: {', '.join(f'#{w.numbers[0]}-{w.numbers[-1]}' for w in windows)}"
            f"; the rest in events of {BATCH}, untimed.",
            f"Bounds: FEED_SIZE {feed_size}; the site catalog is full from publication #{feed_size}, "
            f"every category catalog from about #{feed_size * len(CATEGORIES)} ({len(CATEGORIES)} "
            "categories in rotation): up to there feeds and index legitimately grow.",
            f"Profiled growth per publication (cProfile ms), ~10th -> ~{late.at:,}th: moto backend "
            f"{moto_growth:+.2f}, everything else (our code, libraries, botocore client) {rest_growth:+.2f}; "
            f"~{windows[1].at}th -> ~{late.at:,}th: moto {plateau_moto:+.2f}, everything else "
            f"{plateau_rest:+.2f}.",
        ],
    )
