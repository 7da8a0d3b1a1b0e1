"""Publication per batch: AWS calls and paper cost per publication, batch of 10, against today's
per-release path measured in the same run (moto).

Method
------
In-process moto, every resource of template.yaml (``infra.bootstrap``), the functions'
environment (``infra.lambdas.local_functions``), as ``tests/benchmarks/publication.py`` sets them
up. Approved releases are seeded with that benchmark's ``Seeder`` (intake's own record and
document factories, written with the adapters) and published in batches of ``BATCH`` (the
template's ``BatchSize``) through ``PublisherFunction``'s real handler.

Two paths, alternating batch by batch on the same growing site so that both see the same
catalogs:

* **per batch** (this design): the publisher's batch, then one batch of the site-refresh queue
  through ``SiteRefreshFunction``'s real handler (the queue read with the local stack's own
  ``SqsPoller``, whose receive and delete are not the function's calls);
* **per release** (the baseline, today's path on main): the same handler with the publication
  service's refresh applying every release's change to the shared objects at once, one release
  after the other, in the publisher (``SharedSite.apply`` per release), and the state items read
  one by one (no ``prefetch``). Main also listed the site's media prefix on a first publication
  (one ``ListObjectsV2``, which no longer happens); the baseline does not, so it flatters main.

The alternating rounds make the per-batch path pay for what a second writer costs it: the
site-refresh function remembers the catalogs between invocations and checks the front document
first, which the per-release path changed, so each of its refreshes reads every catalog again.
So the per-batch figure (the goal's) is measured after them, in as many rounds of the per-batch
path alone, as in service, where the site refresh is the only writer (its first refresh, which
reads everything again, is not counted); the alternating one is reported beside it.

A site warms up first (``WARM`` publications, new path) so that catalogs and feeds are past their
growth. AWS calls are counted on the functions' own clients (``functions.cold_start.aws_client``:
S3, DynamoDB, SQS, Scheduler; both functions share them in one process) with botocore's
``before-call``; responses are read with ``after-call`` for the item sizes DynamoDB bills by.

A burst row shows what coalescing adds: ``BATCH`` publisher batches first, then one batch of the
site-refresh queue (up to 10 requests, one rewrite).

End to end: ``E2E`` releases go through the API function's handler (``POST /releases``, as API
Gateway would call it) and ``ModerationService.decide`` (the console's approval) on the same
counted clients, then the publication paths above.

The floor rows count, in the per-batch path's own calls, what any path pays that writes the
objects the site publishes today (``_FLOOR``): each release's page, ninjs, version read and
state write, and each shared object the batch changed written once. A goal below its floor is
out of reach for every design that writes those objects per batch of ten.

Paper cost (list prices, us-east-1, on-demand; ``PRICES``): S3 PUT/COPY/POST/LIST $0.005 and
GET/HEAD $0.0004 per 1,000 requests; DynamoDB $0.625 per million write request units (1 KB
each: the table's write at the larger of the item before and after it, both read with a client
that is not counted; each index's as the item projects into it, the indexes and projections
taken from template.yaml as its default parameters render them: nothing where no projected
attribute changed or the item is in the index neither before nor after, one entry put or
deleted where it enters or leaves, both where the index's key changed, such as ``org_status``
on a status change; a failed condition bills the table only) and $0.125 per million read units
(4 KB, at least one per item asked for and per query; half for eventually consistent reads, as
every index query is); SQS $0.40 per million requests
of 64 KB chunks, the event source's receive and delete of each batch included (one each per
batch); Lambda $0.20 per million requests and
$0.0000133334 per GB-s (arm64) for the measured wall time at the template's memory (moto's time,
an overestimate); API Gateway REST $3.50 per million requests (submit only; the authorizer's
cached answer is not counted). Storage, transfer and CloudFront are left out: they do not depend
on the path.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks._core import Goal, Row, Run, benchmark, fmt, table
from tests.benchmarks._objects import ObjectCalls, breakdown

BATCH = 10
CALLS_GOAL = 6.0
COST_GOAL = 10.0  # $ per million publications
E2E_GOAL = 35.0  # $ per million releases: submit + decide + publish

PRICES = {
    "s3_class_a": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_class_b": 0.0004 / 1000,  # GET, HEAD and the rest
    "wru": 0.625 / 1e6,
    "rru": 0.125 / 1e6,
    "sqs": 0.40 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s": 0.0000133334,
    "scheduler": 1.00 / 1e6,
    "api_gateway": 3.50 / 1e6,
}
_S3_CLASS_A = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "ListObjectsV2",
    "ListObjects",
    "CreateMultipartUpload",
}
_S3_FREE = {"DeleteObject", "DeleteObjects"}

# The floor: what any path pays that writes the objects the site publishes today. Each release
# has its page and its ninjs document written, its version read and its state item updated; each
# shared object a batch changes (its lists' feeds and pages, the archive's day and month pages,
# the sitemaps, the index) is written at least once. Everything else (the catalogs, the front
# document, the batch's state read, the site-refresh request) is this design's own.
_FLOOR = {
    "release page": "PutObject",
    "release ninjs": "PutObject",
    "release version (releases bucket)": "GetObject",
    "dynamodb": "UpdateItem",
    "feeds": "PutObject",
    "category pages": "PutObject",
    "org pages": "PutObject",
    "sitemaps": "PutObject",
    "index.html": "PutObject",
    "day pages": "PutObject",
    "month pages": "PutObject",
}


def floor_calls(objects: list[dict[str, Counter[str]]]) -> Counter[str]:
    """Of the calls counted by object kind (``ObjectCalls`` takes), those the floor is made of, by
    operation (``s3:PutObject``...), for pricing."""
    calls: Counter[str] = Counter()
    for taken in objects:
        for kind, operation in _FLOOR.items():
            service = "dynamodb" if kind == "dynamodb" else "s3"
            calls[f"{service}:{operation}"] += taken.get(kind, Counter())[operation]
    return calls


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (typed JSON form)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    (kind, data), *_ = value.items()
    sizes: dict[str, Callable[[], int]] = {
        "S": lambda: len(str(data).encode()),
        "N": lambda: math.ceil(len(str(data).lstrip("-").replace(".", "")) / 2) + 1,
        "B": lambda: len(data),
        "BOOL": lambda: 1,
        "NULL": lambda: 1,
        "L": lambda: 3 + sum(1 + _value_bytes(v) for v in data),
        "M": lambda: 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in data.items()),
        "SS": lambda: sum(len(str(v).encode()) for v in data),
        "NS": lambda: sum(len(str(v)) for v in data),
    }
    size = sizes.get(kind)
    return size() if size else 0


@dataclass
class Tally:
    """Calls by operation and the billed units they add up to."""

    calls: Counter[str] = field(default_factory=Counter)
    wru: float = 0.0
    wru_by: Counter[str] = field(default_factory=Counter)  # the write units by table and index
    rru: float = 0.0
    sqs_requests: float = 0.0
    lambda_gb_s: float = 0.0
    lambda_requests: int = 0
    api_requests: int = 0

    def add(self, other: Tally) -> None:
        self.calls.update(other.calls)
        self.wru += other.wru
        self.wru_by.update(other.wru_by)
        self.rru += other.rru
        self.sqs_requests += other.sqs_requests
        self.lambda_gb_s += other.lambda_gb_s
        self.lambda_requests += other.lambda_requests
        self.api_requests += other.api_requests

    @property
    def aws_calls(self) -> int:
        return sum(self.calls.values())

    def dollars(self) -> float:
        s3_a = sum(n for op, n in self.calls.items() if op.startswith("s3:") and op[3:] in _S3_CLASS_A)
        s3_b = sum(
            n
            for op, n in self.calls.items()
            if op.startswith("s3:") and op[3:] not in _S3_CLASS_A and op[3:] not in _S3_FREE
        )
        scheduler = sum(n for op, n in self.calls.items() if op == "scheduler:CreateSchedule")
        return (
            s3_a * PRICES["s3_class_a"]
            + s3_b * PRICES["s3_class_b"]
            + self.wru * PRICES["wru"]
            + self.rru * PRICES["rru"]
            + self.sqs_requests * PRICES["sqs"]
            + self.lambda_requests * PRICES["lambda_request"]
            + self.lambda_gb_s * PRICES["lambda_gb_s"]
            + scheduler * PRICES["scheduler"]
            + self.api_requests * PRICES["api_gateway"]
        )


@dataclass(frozen=True)
class TableSchema:
    """What DynamoDB bills a table's writes by: its key and its indexes' keys and projections,
    as template.yaml declares them for the stack's parameters."""

    name: str  # the template's logical id
    key: tuple[str, ...]
    indexes: tuple[dict[str, Any], ...]

    def index_entry(self, index: dict[str, Any], item: dict[str, Any] | None) -> dict[str, Any] | None:
        """``item`` as ``index`` holds it (None: not in it, a sparse index's key missing)."""
        keys = [k["AttributeName"] for k in index["KeySchema"]]
        if item is None or not all(k in item for k in keys):
            return None
        projection = index["Projection"]
        if projection["ProjectionType"] == "ALL":
            return item
        kept = {*self.key, *keys, *projection.get("NonKeyAttributes", [])}
        return {k: v for k, v in item.items() if k in kept}


def table_schemas(
    template: dict[str, Any], resolver: Any, ref: Callable[[str], str]
) -> dict[str, TableSchema]:
    """Every table of the template by its name in the stack (``ref``), its properties as
    ``resolver`` renders them (the parameters decide which indexes exist)."""
    from infra.template import resources_of_type

    schemas = {}
    for logical_id, spec in resources_of_type(template, "AWS::DynamoDB::Table").items():
        properties = resolver.resolve(spec["Properties"])
        schemas[ref(logical_id)] = TableSchema(
            name=logical_id,
            key=tuple(k["AttributeName"] for k in properties["KeySchema"]),
            indexes=tuple(properties.get("GlobalSecondaryIndexes") or ()),
        )
    return schemas


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def index_write_units(
    schema: TableSchema, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, int]:
    """Write units a change of an item from ``before`` to ``after`` (None: no item) costs in the
    table's indexes: an entry put where the item enters an index, deleted where it leaves one,
    both where the index's key changed, one put where only projected attributes changed, and
    nothing where no projected attribute changed or the item is in the index neither before nor
    after (a sparse index). Each at the entry's size (the index's key, the table's and what the
    index projects), by KB; by index name."""
    units: dict[str, int] = {}
    for index in schema.indexes:
        old, new = schema.index_entry(index, before), schema.index_entry(index, after)
        if old == new:
            continue
        keys = [k["AttributeName"] for k in index["KeySchema"]]
        if old is not None and new is not None and all(old[k] == new[k] for k in keys):
            units[index["IndexName"]] = _units(max(item_bytes(old), item_bytes(new)), 1024)  # updated
            continue
        deleted = _units(item_bytes(old), 1024) if old is not None else 0
        units[index["IndexName"]] = deleted + (_units(item_bytes(new), 1024) if new is not None else 0)
    return units


class Meter:
    """Counts the functions' AWS calls and the DynamoDB and SQS units they are billed.

    DynamoDB writes: the item is read before and after the write with a client that is not
    counted (``reader``); the table bills the larger image by KB, every index what
    ``index_write_units`` says (``tables``: ``table_schemas``). A write whose condition fails
    bills the table only. Reads: by 4 KB of what was read, at least one unit per item asked for
    (found or not) and per query, half of it when eventually consistent (a Query of an index
    always is).
    """

    def __init__(self, clients: dict[str, Any], tables: dict[str, TableSchema], reader: Any) -> None:
        self.tally = Tally()
        self._clients = clients
        self._tables = tables
        self._reader = reader  # an uncounted DynamoDB client: reads an item around its write
        self._request: dict[str, Any] = {}
        self._before_image: dict[str, Any] | None = None
        for service, client in clients.items():
            client.meta.events.register(
                f"before-call.{service}", self._before, unique_id=f"meter-b-{service}"
            )
            client.meta.events.register(f"after-call.{service}", self._after, unique_id=f"meter-a-{service}")

    def take(self) -> Tally:
        taken, self.tally = self.tally, Tally()
        return taken

    def close(self) -> None:
        for service, client in self._clients.items():
            client.meta.events.unregister(f"before-call.{service}", unique_id=f"meter-b-{service}")
            client.meta.events.unregister(f"after-call.{service}", unique_id=f"meter-a-{service}")

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        self.tally.calls[name] += 1
        body = params.get("body") or b""
        if name in ("sqs:SendMessage", "sqs:SendMessageBatch"):
            self.tally.sqs_requests += max(1, math.ceil(len(body) / 65536))
        if model.service_model.service_name != "dynamodb":
            return
        self._request = json.loads(body) if body else {}
        if model.name in ("UpdateItem", "PutItem", "DeleteItem"):
            self._before_image = self._item_now()

    def _written_key(self) -> dict[str, Any]:
        request = self._request
        if "Key" in request:
            return dict(request["Key"])
        return {k: request["Item"][k] for k in self._tables[request["TableName"]].key}

    def _item_now(self) -> dict[str, Any] | None:
        found = self._reader.get_item(
            TableName=self._request["TableName"], Key=self._written_key(), ConsistentRead=True
        )
        return found.get("Item")

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name != "dynamodb":
            return
        name, request = model.name, self._request
        if name in ("UpdateItem", "PutItem", "DeleteItem"):
            before, self._before_image = self._before_image, None
            schema = self._tables[request["TableName"]]
            if "Error" in parsed:  # a condition that failed: the table's write, no index's
                self._bill(schema.name, _units(item_bytes(before) if before else 0, 1024))
                return
            after = self._item_now()
            larger = max(item_bytes(before) if before else 0, item_bytes(after) if after else 0)
            self._bill(schema.name, _units(larger, 1024))
            for index, units in index_write_units(schema, before, after).items():
                self._bill(f"{schema.name}/{index}", units)
        elif "Error" in parsed:
            return
        elif name == "GetItem":
            item = parsed.get("Item")
            self.tally.rru += _read_factor(request) * _units(item_bytes(item) if item else 0, 4096)
        elif name == "BatchGetItem":
            for table, asked in (request.get("RequestItems") or {}).items():
                found = (parsed.get("Responses") or {}).get(table) or []
                unprocessed = len(((parsed.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys") or [])
                missing = len(asked["Keys"]) - len(found) - unprocessed
                units = sum(_units(item_bytes(i), 4096) for i in found) + max(0, missing)
                self.tally.rru += _read_factor(asked) * units
        elif name in ("Query", "Scan"):
            size = sum(item_bytes(i) for i in parsed.get("Items") or [])
            self.tally.rru += _read_factor(request) * _units(size, 4096)

    def _bill(self, where: str, units: int) -> None:
        self.tally.wru += units
        self.tally.wru_by[where] += units


def _read_factor(request: dict[str, Any]) -> float:
    """Strongly consistent reads bill whole units, eventually consistent ones half."""
    return 1.0 if request.get("ConsistentRead") else 0.5


@dataclass
class PathResult:
    name: str
    publications: int = 0
    tally: Tally = field(default_factory=Tally)
    batches: int = 0
    refresh_batches: int = 0
    objects: list[dict[str, Counter[str]]] = field(default_factory=list)  # calls by object kind

    def per_publication(self) -> Tally:
        return self.tally


def _memory(template: dict[str, Any], function: str) -> int:
    defaults = (template.get("Globals") or {}).get("Function") or {}
    props = template["Resources"][function]["Properties"]
    return int(props.get("MemorySize", defaults.get("MemorySize", 128)))


@benchmark(
    "publication-batch",
    "AWS calls and paper cost per publication at batch 10, vs today's per-release path (moto)",
)
def publication_batch(run: Run) -> list[Row]:
    import boto3
    from moto import mock_aws

    from infra.moto_atomic import make_conditional_writes_atomic
    from tests.benchmarks.publication import _AWS_ENV, _AWS_UNSET, Seeder, _environment, _quiet, message

    make_conditional_writes_atomic()
    warm = run.reps(full=300, quick=60)
    rounds = run.reps(full=10, quick=3)
    e2e = run.reps(full=20, quick=5)
    with _environment(_AWS_ENV, _AWS_UNSET), mock_aws():
        from functions.adapters.dynamodb_state import DynamoStateRepository
        from functions.adapters.s3_releases import S3ReleaseStore
        from infra.bootstrap import bootstrap
        from infra.lambdas import local_functions
        from infra.template import load_template
        from tests.functional.pipeline import site_refresher

        template = load_template()
        stack = bootstrap(boto3.client, template=template)  # type: ignore[arg-type]
        functions = local_functions(stack)
        with _environment(functions.environment):
            from functions import cold_start

            cold_start.reset_all()
            try:
                from functions.cold_start import aws_client
                from functions.domain.publish.shared import ApplyNow
                from functions.handlers import publisher
                from tests.helpers import sqs_event

                ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
                seeder = Seeder(
                    DynamoStateRepository(ddb, stack.ref("ReleasesTable")),
                    S3ReleaseStore(s3, stack.ref("ReleasesBucket")),
                )
                meter = Meter(
                    {s: aws_client(s) for s in ("s3", "dynamodb", "sqs", "scheduler")},
                    table_schemas(template, stack.resolver, stack.ref),
                    boto3.client("dynamodb"),
                )
                objects = ObjectCalls({s: aws_client(s) for s in ("s3", "dynamodb", "sqs", "scheduler")})
                memory = {
                    f: _memory(template, f)
                    for f in ("PublisherFunction", "SiteRefreshFunction", "ApiFunction")
                }
                refresher = site_refresher(
                    stack,
                    functions,
                    lambda event: _timed_invoke(functions, "SiteRefreshFunction", event, meter, memory),
                )
                serial = iter(range(1, 10**9))

                def publish_batch() -> None:
                    ids = [seeder.seed(next(serial)) for _ in range(BATCH)]  # its own clients: not counted
                    event = sqs_event([message(r) for r in ids])
                    result = _timed_invoke(functions, "PublisherFunction", event, meter, memory)
                    if result != {"batchItemFailures": []}:
                        raise RuntimeError(f"publisher reported failures: {result}")
                    meter.tally.sqs_requests += 2  # the event source's receive and delete of the batch

                def refresh() -> int:
                    before = refresher.batches
                    while True:
                        done = refresher.batches
                        refresher.run_once()
                        if refresher.batches == done:
                            break
                        meter.tally.sqs_requests += 2
                    return refresher.batches - before

                service = publisher.service()
                per_batch_sink = service._refresh

                class PerRelease:
                    """Today's path: every release's change applied to the shared objects at once."""

                    def request(self, changes: Any) -> None:
                        for change in changes:
                            ApplyNow(service.shared).request([change])

                def measured(result: PathResult) -> None:
                    """One batch of the per-batch path, its calls counted to ``result``."""
                    publish_batch()
                    refresh()
                    result.tally.add(meter.take())
                    result.objects.append(objects.take())
                    result.publications += BATCH

                def forget_counts() -> None:
                    meter.take()
                    objects.take()

                prefetch = service.prefetch
                alternating = PathResult("per batch, alternating with per release")
                new, old, burst = PathResult("per batch"), PathResult("per release"), PathResult("burst")
                with _quiet():
                    for _ in range(warm // BATCH):
                        publish_batch()
                        refresh()
                    forget_counts()
                    for _ in range(rounds):
                        measured(alternating)
                        service._refresh = PerRelease()
                        service.prefetch = lambda release_ids: None  # type: ignore[method-assign]
                        try:
                            publish_batch()
                            old.tally.add(meter.take())
                            old.objects.append(objects.take())
                            old.publications += BATCH
                        finally:
                            service._refresh = per_batch_sink
                            service.prefetch = prefetch  # type: ignore[method-assign]
                    # The site refresh alone writing the site, as in service: its memory of the
                    # catalogs holds from one refresh to the next (the first one re-reads them:
                    # the per-release path changed them last)
                    publish_batch()
                    refresh()
                    forget_counts()
                    for _ in range(rounds):
                        measured(new)
                    forget_counts()
                    for _ in range(BATCH):
                        publish_batch()
                    burst.refresh_batches = refresh()
                    burst.tally.add(meter.take())
                    burst.objects.append(objects.take())
                    burst.publications += BATCH * BATCH
                    intake = _end_to_end(stack, functions, meter, memory, e2e)
                    from functions.observability import metrics

                    metrics.clear_metrics()
                meter.close()
                objects.close()
            finally:
                cold_start.reset_all()
    return _rows(run, new, old, burst, intake, alternating)


def _timed_invoke(functions: Any, name: str, event: Any, meter: Meter, memory: dict[str, int]) -> Any:
    began = time.perf_counter()
    try:
        return functions.invoke(name, event)
    finally:
        meter.tally.lambda_requests += 1
        meter.tally.lambda_gb_s += (time.perf_counter() - began) * memory[name] / 1024


@dataclass
class Intake:
    releases: int
    submit: Tally
    decide: Tally


def _end_to_end(stack: Any, functions: Any, meter: Meter, memory: dict[str, int], count: int) -> Intake:
    """Submit (the API function's handler, as API Gateway calls it) and decide (the console's
    ModerationService) ``count`` releases on the counted clients."""
    from datetime import UTC, datetime

    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.sqs_publish import SqsPublishQueue
    from functions.cold_start import aws_client
    from functions.domain.moderation import Decision, DecisionAction, ModerationService
    from functions.handlers.api import lambda_handler
    from infra.apigateway.routes import api_routes
    from tests.helpers import ApiClient, personnel_release

    api = ApiClient(lambda_handler, api_routes(stack.template))
    moderation = ModerationService(
        states=DynamoStateRepository(aws_client("dynamodb"), stack.ref("ReleasesTable")),
        publish=SqsPublishQueue(aws_client("sqs"), stack.ref("PublishQueue")),
        clock=lambda: datetime.now(UTC),
    )
    submit, decide = Tally(), Tally()
    ids = []
    for n in range(count):
        meter.take()
        began = time.perf_counter()
        response = api.post("/releases", personnel_release(headline=f"End to end release number {n:04d}"))
        if response.status != 202:
            raise RuntimeError(f"POST /releases answered {response.status}: {response.body[:200]!r}")
        tally = meter.take()
        tally.lambda_requests += 1
        tally.lambda_gb_s += (time.perf_counter() - began) * memory["ApiFunction"] / 1024
        tally.api_requests += 1
        submit.add(tally)
        ids.append(str(response.json()["id"]))
    for release_id in ids:
        meter.take()
        moderation.decide(release_id, 1, Decision(DecisionAction.APPROVE, moderator="bench"))
        tally = meter.take()
        tally.sqs_requests += (
            2  # the console's receive and delete of the moderation message, at worst one each
        )
        decide.add(tally)
    return Intake(count, submit, decide)


def _rows(
    run: Run, new: PathResult, old: PathResult, burst: PathResult, intake: Intake, alternating: PathResult
) -> list[Row]:
    def per(result: PathResult) -> tuple[float, float]:
        return (
            result.tally.aws_calls / result.publications,
            result.tally.dollars() / result.publications * 1e6,
        )

    new_calls, new_cost = per(new)
    alternating_calls, alternating_cost = per(alternating)
    old_calls, old_cost = per(old)
    burst_calls, burst_cost = per(burst)
    intake_cost = (intake.submit.dollars() + intake.decide.dollars()) / intake.releases * 1e6
    floor = floor_calls(new.objects)
    floor_n = sum(floor.values()) / new.publications
    # Priced as the rest: its S3 requests, and the state write at the write units it was billed
    # (the table and its indexes: every unit of the per-batch path is that write's but the batch
    # read's, which bills read units).
    floor_cost = (Tally(calls=floor, wru=new.tally.wru).dollars()) / new.publications * 1e6
    rows = [
        Row(
            "AWS calls per publication, per batch of 10 (publisher + site refresh)",
            new_calls,
            "calls",
            Goal(CALLS_GOAL),
        ),
        Row(
            "AWS calls per publication, per batch alternating with per release (re-reads catalogs)",
            alternating_calls,
            "calls",
        ),
        Row("AWS calls per publication, per release (today's path, same run)", old_calls, "calls"),
        Row("calls ratio: per batch / per release", new_calls / old_calls, "x"),
        Row(f"AWS calls per publication, burst: {BATCH} batches then one refresh", burst_calls, "calls"),
        Row(
            "floor: calls any path makes that writes the objects the site publishes (see the notes)",
            floor_n,
            "calls",
        ),
        Row("paper cost per million publications, per batch of 10", new_cost, "$", Goal(COST_GOAL)),
        Row("paper cost per million publications, per batch, alternating", alternating_cost, "$"),
        Row("paper cost per million publications, per release (today's path)", old_cost, "$"),
        Row("cost ratio: per batch / per release", new_cost / old_cost, "x"),
        Row("paper cost per million publications, burst", burst_cost, "$"),
        Row("floor: paper cost per million publications (its S3 requests and state write)", floor_cost, "$"),
        Row("paper cost per million releases, submit + decide", intake_cost, "$"),
        Row(
            "end to end per million releases (submit + decide + publish, per batch)",
            intake_cost + new_cost,
            "$",
            Goal(E2E_GOAL),
        ),
        Row("end to end per million releases (today's path)", intake_cost + old_cost, "$"),
        Row(
            "floor: end to end per million releases (submit + decide + the floor)",
            intake_cost + floor_cost,
            "$",
        ),
        Row("end to end ratio: per batch / today", (intake_cost + new_cost) / (intake_cost + old_cost), "x"),
    ]
    operations = sorted(
        set(new.tally.calls) | set(old.tally.calls) | set(intake.submit.calls) | set(intake.decide.calls)
    )
    run.diagnostic(
        "AWS calls per publication (or release, for submit and decide) by operation",
        table(
            ("operation", "per batch", "per release (today)", "burst", "submit", "decide"),
            [
                (
                    op,
                    f"{new.tally.calls[op] / new.publications:.2f}",
                    f"{old.tally.calls[op] / old.publications:.2f}",
                    f"{burst.tally.calls[op] / burst.publications:.2f}",
                    f"{intake.submit.calls[op] / intake.releases:.2f}",
                    f"{intake.decide.calls[op] / intake.releases:.2f}",
                )
                for op in operations
            ],
            right=(False, True, True, True, True, True),
        ),
    )

    for result in (new, alternating, old, burst):
        run.diagnostic(
            f"AWS calls per publication by object kind, {result.name}",
            table(
                ("object kind", "calls", "by operation"),
                breakdown(result.objects, result.publications),
                right=(False, True, False),
            ),
        )

    def parts(tally: Tally, n: int) -> list[str]:
        return [
            fmt(tally.wru / n),
            fmt(tally.rru / n),
            fmt(tally.sqs_requests / n),
            fmt(tally.lambda_requests / n),
            fmt(tally.lambda_gb_s / n * 1000),
            fmt(tally.dollars() / n * 1e6),
        ]

    run.diagnostic(
        "billed units per publication (per release for submit/decide); $ per million",
        table(
            ("path", "WRU", "RRU", "SQS requests", "Lambda requests", "Lambda GB-ms", "$ per million"),
            [
                ("per batch", *parts(new.tally, new.publications)),
                ("per release (today)", *parts(old.tally, old.publications)),
                ("burst", *parts(burst.tally, burst.publications)),
                ("submit", *parts(intake.submit, intake.releases)),
                ("decide", *parts(intake.decide, intake.releases)),
            ],
            right=(False, True, True, True, True, True, True),
        ),
    )
    places = sorted(
        set(new.tally.wru_by) | set(intake.submit.wru_by) | set(intake.decide.wru_by),
        key=lambda where: (where.split("/")[0], "/" in where, where),
    )
    run.diagnostic(
        "DynamoDB write units per publication (per release for submit/decide), by table and index",
        table(
            ("table or index", "per batch", "submit", "decide"),
            [
                (
                    where,
                    fmt(new.tally.wru_by[where] / new.publications),
                    fmt(intake.submit.wru_by[where] / intake.releases),
                    fmt(intake.decide.wru_by[where] / intake.releases),
                )
                for where in places
            ],
            right=(False, True, True, True),
        ),
    )
    run.diagnostic(
        "workload",
        [
            f"{new.publications} publications per path, in batches of {BATCH} (per release alternating "
            "with per batch, then per batch alone); burst: "
            f"{burst.publications} publications, {burst.refresh_batches} site-refresh batch(es); "
            f"end to end: {intake.releases} releases submitted and approved.",
            "Two S3 PUTs per release (its page and its ninjs document) alone cost $10 per million at "
            "$0.005 per 1,000: no path that writes them can come under $10.",
            "The floor rows: what any path pays that writes the objects the site publishes today, "
            "counted in this run's per-batch path: each release's page, ninjs, version read and state "
            "write, and each shared object the batch changed (its lists' feeds and pages, the day and "
            f"month pages, the sitemaps, the index) written once: {floor_n:.2f} calls "
            f"(goal {CALLS_GOAL:g}), ${floor_cost:.2f} (goal ${COST_GOAL:g}), end to end "
            f"${intake_cost + floor_cost:.2f} (goal ${E2E_GOAL:g}). A goal below its floor is out of "
            "reach for any design that keeps writing those objects per batch; only fewer objects "
            "written per publication (coalescing more releases per refresh, as the burst does, or "
            "lists rendered on request) gets under it.",
        ],
    )
    return rows
