"""``press-intake local``: launch-to-ready time, and submissions per second over HTTP vs. the floor.

Method
------
Launch. The real console script (``press-intake`` next to ``sys.executable``) is started as a
subprocess, as the integration tier starts it: a fresh temporary working directory, two free
ports, ``--sweep-interval 60`` (no outbox sweep while measuring), no ``AWS_*`` variables inherited,
``PYTHONPATH`` the checkout. The clock starts just before ``Popen`` and stops when the stack is
*ready*: ``.press-intake/local.json`` exists (polled every few ms) **and** ``GET /openapi.json``
answers 200 (the first request the gateway and the API function serve). Every launch is stopped
with SIGTERM and must exit 0. The banner's own figure (``press-intake local is ready in X s``,
which ``LocalStackRunner`` counts from its constructor, i.e. after the interpreter, the CLI and
``infra.local.stack`` with moto and boto3 are imported) is parsed from the captured stdout.

Throughput. The last launch stays up for this part; its demo organisation is given limits of
its own first (``press-intake keys limits --org demo --rate 10000 --burst 5000``), so that the
per-organisation throttle (10 requests/s by default) does not turn submissions into 429s; the
stage limit stays as the template sets it. Two ways of making one submission, in
alternating blocks (order swapped every block, so that drift affects both alike), one submission
at a time:

* gateway: ``POST /releases`` with the demo key (from the info file) and a ``personnel_release()``
  body (unique headline, no ``Idempotency-Key``) over one reused keep-alive
  ``http.client.HTTPConnection``; the response is read and must be 202;
* floor: the AWS calls the API function makes for that submission, made directly from this
  process with boto3 against the same moto endpoint, through the function's own adapters
  (``DynamoStateRepository``, ``S3ReleaseStore``, ``SqsModerationQueue``) called as
  ``IntakeService.submit`` calls them, the client configuration of
  ``functions.cold_start.aws_client`` and the real resource names from the info file. The calls
  are not listed by hand: every call the adapters make is recorded (botocore's ``before-call`` /
  ``after-call`` events on the floor's clients) and the table shows what was really called, how
  often per submission and how long it took. Records and documents are built with the domain code
  *before* the timed region, so the floor holds AWS round trips and the adapters' serialisation
  only.

The difference between the two is exactly the HTTP server and its connection handling, the
gateway (routing, throttling, authorizer with its cache), the API function (Powertools,
validation, domain) and its boto3 clients sharing one process (and one GIL) with moto. Wall time
per side gives req/s; per-request p50/p90 come from the same samples. A short warm-up of each
side comes first (authorizer cache, lazy initialisation).

State size may matter: some of moto's operations scale with what it stores, so a submission
could cost more as the releases table grows. To compare like with like, the releases table is
emptied and the moderation queue purged (untimed, through the AWS endpoint) before every block,
so both sides always run from an empty table to ``2 x block size`` items. The growth itself is
measured separately (full mode): a thousand copies of a real state item are added, then a few
submissions per side are timed.

Diagnostics: the floor's calls as made, timed one by one; CPU per submission of the stack process
(``/proc``) and of this one; a 404 from the gateway itself (no function, no AWS) over a
keep-alive connection and over a new connection per request, which isolates the HTTP hop; and one
extra child process that replays ``press-intake local`` in-process with timers around
``LocalStackRunner``'s steps (imports, moto server, ``bootstrap``, handler imports, event sources,
demo key, stop, interpreter teardown), so that the ready time can be split.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tests.benchmarks._core import ROOT, Goal, Row, Run, benchmark, fmt, median, percentile, table
from tests.helpers import free_ports

READY_GOAL_S = 3.0
RATIO_GOAL = 0.5
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
POLL_S = 0.004
INFO_FILE = Path(".press-intake") / "local.json"
_READY_LINE = re.compile(r"ready\s+in\s+([0-9.]+)\s*s")
# Variables of the benchmarking shell that would change what the child imports or does.
_SCRUB = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP", "PYTHONINSPECT")


# ---------------------------------------------------------------------------------------------
# Launching and stopping the real CLI
# ---------------------------------------------------------------------------------------------


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "press-intake"
    if not script.exists():
        raise RuntimeError(f"{script} does not exist: install the project (make venv) first")
    return [str(script)]


def child_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_")) and name not in _SCRUB
    }
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class Launch:
    process: subprocess.Popen[bytes]
    cwd: Path
    log: Path
    began: float
    info_s: float = float("nan")  # launch -> info file exists
    ready_s: float = float("nan")  # launch -> GET /openapi.json answered 200
    info: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    stop_s: float = float("nan")
    banner_s: float = float("nan")  # the runner's own "ready in X s", read once it has exited
    first_get_s: float = float("nan")  # the GET /openapi.json that answered 200 first
    second_get_s: float = float("nan")  # the same request once more, after the ready clock stopped

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def banner_ready_s(self) -> float:
        found = _READY_LINE.search(self.output())
        return float(found.group(1)) if found else float("nan")

    def tail(self, lines: int = 25) -> list[str]:
        return self.output().splitlines()[-lines:]


def launch(cwd: Path) -> Launch:
    """Start ``press-intake local`` in ``cwd`` and wait until it is ready (see module docstring)."""
    api_port, aws_port = free_ports(2)
    log = cwd / "local.log"
    command = [
        *cli_command(),
        "local",
        "--port",
        str(api_port),
        "--aws-port",
        str(aws_port),
        "--sweep-interval",
        "60",
    ]
    with log.open("wb") as output:
        began = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            command, cwd=cwd, env=child_environment(), stdout=output, stderr=subprocess.STDOUT
        )
    started = Launch(process=process, cwd=cwd, log=log, began=began)
    try:
        _wait_ready(started, api_port)
    except BaseException:
        stop(started, graceful=False)
        raise
    return started


def _wait_ready(started: Launch, api_port: int) -> None:
    info_path = started.cwd / INFO_FILE
    deadline = started.began + START_TIMEOUT_S

    def check() -> None:
        if started.process.poll() is not None:
            raise RuntimeError(
                f"press-intake local exited with {started.process.returncode} before it was ready:\n"
                + "\n".join(started.tail())
            )
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"press-intake local was not ready within {START_TIMEOUT_S:.0f} s:\n"
                + "\n".join(started.tail())
            )

    while not info_path.exists():
        check()
        time.sleep(POLL_S)
    started.info_s = time.perf_counter() - started.began
    while True:
        check()
        began = time.perf_counter()
        status = _get_openapi(api_port)
        if status == 200:
            started.first_get_s = time.perf_counter() - began
            break
        time.sleep(POLL_S)
    started.ready_s = time.perf_counter() - started.began
    started.info = json.loads(info_path.read_text(encoding="utf-8"))
    began = time.perf_counter()
    _get_openapi(api_port)  # after the clock stopped: what the same request costs once warm
    started.second_get_s = time.perf_counter() - began


def _get_openapi(api_port: int) -> int:
    """``GET /openapi.json`` on a new connection; 0 if nothing answers yet."""
    connection = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
    try:
        connection.request("GET", "/openapi.json")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def stop(started: Launch, *, graceful: bool = True) -> None:
    """SIGTERM (what Ctrl-C or a service manager sends), then wait; SIGKILL if it hangs."""
    process = started.process
    try:
        if process.poll() is not None:
            started.exit_code = process.returncode
            return
        began = time.perf_counter()
        try:
            if graceful:
                process.send_signal(signal.SIGTERM)
                started.exit_code = process.wait(timeout=STOP_TIMEOUT_S)
                started.stop_s = time.perf_counter() - began
                return
        except subprocess.TimeoutExpired:
            pass
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
        started.exit_code = None  # killed: not a clean exit
    finally:
        started.banner_s = started.banner_ready_s()  # stdout is block-buffered: complete only now


@contextlib.contextmanager
def _launched(cwd: Path, launches: list[Launch]) -> Iterator[Launch]:
    started = launch(cwd)
    launches.append(started)
    try:
        yield started
    finally:
        stop(started)


# ---------------------------------------------------------------------------------------------
# Submissions: through the gateway, and the floor
# ---------------------------------------------------------------------------------------------


def release_body(serial: int) -> dict[str, Any]:
    from tests.helpers import personnel_release

    return personnel_release(headline=f"Acme names Jane Doe chief financial officer (bench {serial:06d})")


def _raise_demo_limits(stack: Launch) -> None:
    """The demo organisation's own usage plan, far above what one client at a time sends."""
    org = str(stack.info["demo_org_id"])
    subprocess.run(  # noqa: S603 - our own CLI
        [*cli_command(), "keys", "limits", "--org", org, "--rate", "10000", "--burst", "5000"],
        cwd=stack.cwd,
        env=child_environment(),
        capture_output=True,
        check=True,
        timeout=60,
    )


class GatewayClient:
    """POST /releases over one keep-alive connection, as an API client would send it."""

    def __init__(self, info: dict[str, Any]) -> None:
        url = info["api_url"].removeprefix("http://")
        host, _, port = url.partition(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self._headers = {
            "Authorization": f"Bearer {info['demo_api_key']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.statuses: dict[int, int] = {}

    @staticmethod
    def body(serial: int) -> bytes:
        return json.dumps(release_body(serial)).encode()

    def prepare(self, serial: int) -> bytes:
        return self.body(serial)

    def submit(self, body: bytes) -> None:
        self._connection.request("POST", "/releases", body=body, headers=self._headers)
        response = self._connection.getresponse()
        answer = response.read()
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.status != 202:
            raise RuntimeError(f"POST /releases answered {response.status}: {answer[:300]!r}")

    def close(self) -> None:
        self._connection.close()


class CallTimer:
    """Wall time of every API call made through the watched clients, per (phase, operation), as
    botocore reports it (``before-call`` to ``after-call``: one per call, retries included in it);
    the operations in the order they were first called."""

    def __init__(self) -> None:
        self.phase = "warm-up"
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.operations: list[str] = []
        self._started: dict[str, float] = {}

    def watch(self, client: Any) -> Any:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)
        return client

    @staticmethod
    def _name(model: Any) -> str:
        return f"{model.service_model.service_id} {model.name}"

    def _before(self, model: Any, **_: Any) -> None:
        self._started[self._name(model)] = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        name = self._name(model)
        elapsed = (time.perf_counter() - self._started.pop(name)) * 1000
        if name not in self.operations:
            self.operations.append(name)
        self.samples.setdefault((self.phase, name), []).append(elapsed)


@dataclass
class Direct:
    """One submission's worth of the floor: what the adapters are called with."""

    record: Any
    document: dict[str, Any]


class FloorClient:
    """The API function's AWS calls for one submission, made directly with the function's adapters."""

    def __init__(self, info: dict[str, Any]) -> None:
        import boto3
        from botocore.config import Config
        from pydantic import TypeAdapter

        from functions.adapters.dynamodb_state import DynamoStateRepository
        from functions.adapters.s3_releases import S3ReleaseStore
        from functions.adapters.sqs_moderation import SqsModerationQueue
        from functions.domain.models import ReleaseSubmission
        from functions.domain.records import Caller

        # The same client configuration as functions.cold_start.aws_client, pointed at moto.
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=info["region"]
        )

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=info["aws_endpoint_url"], config=config)  # type: ignore[call-overload]

        resources = info["resources"]
        self.table = resources["ReleasesTableName"]
        self.queue_url = resources["ModerationQueueUrl"]
        self.calls = CallTimer()
        timed = {service: self.calls.watch(client(service)) for service in ("dynamodb", "s3", "sqs")}
        self.states = DynamoStateRepository(timed["dynamodb"], self.table)
        self.store = S3ReleaseStore(timed["s3"], resources["ReleasesBucketName"])
        self.queue = SqsModerationQueue(timed["sqs"], self.queue_url)
        # Untimed clients for housekeeping (resetting and filling the table).
        self.ddb, self.sqs = client("dynamodb"), client("sqs")
        self.caller = Caller(org_id=info["demo_org_id"], org_name="Demo Organisation", key_id="bench")
        self._adapter: TypeAdapter[Any] = TypeAdapter(ReleaseSubmission)

    def prepare(self, serial: int) -> Direct:
        """What IntakeService.submit builds before its first AWS call (outside the timed region)."""
        from functions.domain.intake import flags_for, prepare, version_document, version_record
        from functions.domain.records import new_release_id

        submission = self._adapter.validate_python(release_body(serial))
        now = datetime.now(UTC)
        prepared = prepare(submission, now=now)
        flags = flags_for(submission, prepared, None)
        record = version_record(
            self.caller, submission, prepared, release_id=new_release_id(), now=now, flags=flags
        )
        document = version_document(record, prepared, submission.body_format, self.caller)
        return Direct(record=record, document=document)

    def submit(self, direct: Direct) -> None:
        """The calls of IntakeService.submit without an Idempotency-Key, in its order."""
        from functions.domain.messages import ModerationMessage

        record = direct.record
        if self.states.find_digest(record.org_id, record.content_digest) is not None:
            raise RuntimeError("unexpected duplicate digest: headlines are meant to be unique")
        record.object_key = self.store.put_version(
            org_id=record.org_id,
            release_id=record.release_id,
            version=record.version,
            document=direct.document,
            payload_hash=record.payload_hash,
        )
        self.states.create(record, actor=self.caller.actor)
        self.queue.send(
            ModerationMessage(release_id=record.release_id, version=record.version),
            org_id=record.org_id,
            category=record.category,
        )
        self.states.clear_outbox(record.release_id, record.version)

    # -- housekeeping, never timed ----------------------------------------------------------------

    def _keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table, ProjectionExpression="pk"):
            keys.extend(page.get("Items", []))
        return keys

    def _batch(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start : start + 25]}
            while pending:
                pending = self.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    def reset(self) -> int:
        """Empty the releases table and the moderation queue; returns how many items were deleted."""
        keys = self._keys()
        self._batch([{"DeleteRequest": {"Key": key}} for key in keys])
        from botocore.exceptions import ClientError

        with contextlib.suppress(ClientError):  # moto may enforce SQS's one purge per minute
            self.sqs.purge_queue(QueueUrl=self.queue_url)
        return len(keys)

    def fill(self, count: int) -> None:
        """``count`` more state items, copies of a real one (history, prescreen...) under new keys."""
        sample = next(
            (item for item in self._scan_items() if item["pk"]["S"].startswith("release#")),
            None,
        )
        if sample is None:
            raise RuntimeError("no state item to copy: submit something first")
        self._batch(
            [{"PutRequest": {"Item": {**sample, "pk": {"S": f"filler#{i:06d}"}}}} for i in range(count)]
        )

    def _scan_items(self) -> list[dict[str, Any]]:
        return list(self.ddb.scan(TableName=self.table, Limit=50).get("Items", []))


def http_hop_ms(info: dict[str, Any], count: int, *, keep_alive: bool) -> list[float]:
    """``GET`` of a path no route matches: the gateway answers 404 itself (no function, no AWS)."""
    host, _, port = info["api_url"].removeprefix("http://").partition(":")
    latencies: list[float] = []
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        for _ in range(count):
            began = time.perf_counter()
            if not keep_alive:
                connection.close()  # the next request opens a new connection
            connection.request("GET", "/no-such-route")
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status != 404:
                raise RuntimeError(f"GET /no-such-route answered {response.status}, expected 404")
    finally:
        connection.close()
    return latencies[2:]  # the first requests of a connection are acknowledged at once


def _process_cpu_s(pid: int) -> float:
    """user + system CPU seconds of another process (Linux /proc); nan elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms
    stack_cpu_s: float = 0.0  # CPU of the press-intake local process during this side's blocks
    own_cpu_s: float = 0.0  # CPU of this process (the client) during them
    blocks: list[float] = field(default_factory=list)  # req/s of each block

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def per_request_ms(self, seconds: float) -> float:
        return seconds / len(self.latencies) * 1000 if self.latencies else float("nan")


class Submitter(Protocol):
    def prepare(self, serial: int) -> Any: ...

    def submit(self, payload: Any) -> None: ...


def _block(side: Side, client: Submitter, first: int, count: int, stack_pid: int) -> None:
    """``count`` submissions, one at a time; payloads are built before the clock starts."""
    payloads = [client.prepare(serial) for serial in range(first, first + count)]
    clock, submit, latencies = time.perf_counter, client.submit, side.latencies
    stack0, own0 = _process_cpu_s(stack_pid), time.process_time()
    began = clock()
    for payload in payloads:
        t0 = clock()
        submit(payload)
        latencies.append((clock() - t0) * 1000)
    elapsed = clock() - began
    side.stack_cpu_s += _process_cpu_s(stack_pid) - stack0
    side.own_cpu_s += time.process_time() - own0
    side.seconds += elapsed
    side.blocks.append(count / elapsed)


@dataclass
class Workload:
    warmup: int
    blocks: int
    per_block: int
    filler: int  # 0: no growth probe
    probe: int
    hops: int


def _throughput(
    web: GatewayClient, direct: FloorClient, gateway: Side, floor: Side, work: Workload, stack_pid: int
) -> tuple[Side, Side]:
    """Warm-up, alternating blocks from an empty table each, then the growth probe."""
    serial = 0
    direct.calls.phase = "warm-up"
    warming: list[Submitter] = [web, direct]
    for each in warming:
        _block(Side("warm-up"), each, serial, work.warmup, stack_pid)
        serial += work.warmup
    direct.reset()
    direct.calls.phase = "blocks"
    pairs: list[tuple[Side, Submitter]] = [(gateway, web), (floor, direct)]
    for index in range(work.blocks):
        for side, client in pairs if index % 2 == 0 else pairs[::-1]:
            _block(side, client, serial, work.per_block, stack_pid)
            serial += work.per_block
            direct.reset()  # every block starts from the same (empty) table: see the module docstring
    big_gateway, big_floor = Side("gateway, bigger table"), Side("floor, bigger table")
    if work.filler:
        direct.calls.phase = "seed"
        _block(Side("seed"), direct, serial, 1, stack_pid)
        serial += 1
        direct.fill(work.filler)
        direct.calls.phase = "bigger table"
        for index in range(work.probe):  # one by one, alternating
            for side, client in pairs if index % 2 == 0 else pairs[::-1]:
                big = big_gateway if side is gateway else big_floor
                _block(big, client, serial, 1, stack_pid)
                serial += 1
        direct.reset()
    return big_gateway, big_floor


# ---------------------------------------------------------------------------------------------
# Diagnostics: where the ready time goes
# ---------------------------------------------------------------------------------------------

# Replays cli/local.py's start in-process with a timer around each step of LocalStackRunner.
_PHASES_CHILD = """\
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import cli.main
t1 = time.perf_counter()
import infra.local.stack as stack
import infra.lambdas as lambdas
t2 = time.perf_counter()
marks = {}
def timed(owner, name, label):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            marks[label] = marks.get(label, 0.0) + time.perf_counter() - began
    setattr(owner, name, wrapper)
timed(stack, "load_template", "load template.yaml")
timed(stack, "_AwsServer", "moto server: import + bind")
timed(stack.LocalStackRunner, "_configure_environment", "environment")
timed(stack, "bootstrap", "bootstrap: create the template's resources in moto")
timed(stack, "local_functions", "functions' environment")
timed(stack, "ApiGateway", "ApiGateway (routes, authorizer config)")
handler = lambdas.LocalFunction.handler.fget
def handler_timed(self):
    began = time.perf_counter()
    try:
        return handler(self)
    finally:
        label = "handler imports (all functions)"
        marks[label] = marks.get(label, 0.0) + time.perf_counter() - began
lambdas.LocalFunction.handler = property(handler_timed)
timed(stack, "LocalHttpServer", "HTTP server bind")
timed(stack.LocalStackRunner, "_start_event_sources", "event sources (boto3 clients, threads)")
timed(stack.LocalStackRunner, "_seed_demo_key", "demo organisation and key")
timed(stack.LocalStackRunner, "_write_info", "write the info file")
options = stack.LocalOptions(
    port=int(sys.argv[1]), aws_port=int(sys.argv[2]), sweep_interval=60.0, info_path=Path(sys.argv[3])
)
t3 = time.perf_counter()
runner = stack.LocalStackRunner(options)
runner.start()
t4 = time.perf_counter()
runner.stop()
t5 = time.perf_counter()
sys.stdout.write(json.dumps({
    "import cli.main": t1 - t0,
    "import infra.local.stack": t2 - t1,
    "start": t4 - t3,
    "stop": t5 - t4,
    "steps": marks,
    "exiting_at": time.time(),
}) + "\\n")
sys.stdout.flush()
"""


def _phases(cwd: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", _PHASES_CHILD, *map(str, free_ports(2)), str(cwd / INFO_FILE)],
        cwd=cwd,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    exited = time.time()
    if done.returncode != 0:
        raise RuntimeError(f"phase timing child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["teardown"] = exited - float(result["exiting_at"])
    return result


def _empty_interpreter_s() -> float:
    samples = []
    for _ in range(3):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=child_environment())
        samples.append(time.perf_counter() - began)
    return min(samples)


def _ms(seconds: float) -> str:
    return fmt(seconds * 1000)


def _ready_diagnostics(run: Run, launches: list[Launch], phases: dict[str, Any], empty_s: float) -> None:
    ready = median([s.ready_s for s in launches])
    info = median([s.info_s for s in launches])
    banner = median([s.banner_s for s in launches])
    first_request = median([s.ready_s - s.info_s for s in launches])
    first_get = median([s.first_get_s for s in launches])
    second_get = median([s.second_get_s for s in launches])
    rows: list[tuple[str, str, str]] = [
        ("launch -> GET /openapi.json 200 (the ready time)", _ms(ready), "100%"),
        ("  launch -> info file written", _ms(info), f"{info / ready:.0%}"),
        (
            "    runner's own 'ready in X s' (LocalStackRunner() -> info file)",
            _ms(banner),
            f"{banner / ready:.0%}",
        ),
        (
            "    before it: exec, interpreter, imports (CLI, moto, boto3...)",
            _ms(info - banner),
            f"{(info - banner) / ready:.0%}",
        ),
        (
            "  info file -> first GET /openapi.json answered",
            _ms(first_request),
            f"{first_request / ready:.0%}",
        ),
        (
            "    of which that GET's round trip (the 1st request served)",
            _ms(first_get),
            f"{first_get / ready:.0%}",
        ),
        ("    (the same GET once more, warm, after the clock stopped)", _ms(second_get), ""),
    ]
    run.diagnostic(
        f"ready time of the real CLI, medians of {len(launches)} launches (ms; the banner has 0.1 s steps)",
        table(("span", "ms", "share"), rows, right=(False, True, True)),
    )
    steps: dict[str, float] = phases["steps"]
    start = float(phases["start"])
    body: list[tuple[str, str]] = [
        ("interpreter start-up + exit (python -c pass, min of 3)", _ms(empty_s)),
        ("import cli.main (typer, rich)", _ms(phases["import cli.main"])),
        ("import infra.local.stack", _ms(phases["import infra.local.stack"])),
        ("LocalStackRunner(...).start()", _ms(start)),
    ]
    body += [(f"  {name}", _ms(seconds)) for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1])]
    body += [
        ("  (rest of start(): boto3 S3 client for the site, ...)", _ms(start - sum(steps.values()))),
        ("LocalStackRunner.stop()", _ms(phases["stop"])),
        ("interpreter teardown after stop() (until the process is gone)", _ms(phases["teardown"])),
    ]
    run.diagnostic(
        "one in-process replay of the CLI's start, a timer around each step (ms; one run, noisy; "
        "the indented steps are part of start())",
        table(("step", "ms"), body, right=(False, True)),
    )


def _throughput_diagnostics(
    run: Run,
    gateway: Side,
    floor: Side,
    big: tuple[Side, Side],
    direct: FloorClient,
    work: Workload,
    statuses: dict[int, int],
) -> None:
    calls = direct.calls.samples
    submissions = max(1, len(floor.latencies))
    rows = []
    for operation in direct.calls.operations:
        small = calls.get(("blocks", operation), [])
        large = calls.get(("bigger table", operation), [])
        rows.append(
            (
                operation,
                f"{len(small) / submissions:g}",
                fmt(percentile(small, 50)),
                fmt(percentile(small, 90)),
                fmt(percentile(large, 50)),
            )
        )
    whole = sum(sum(calls.get(("blocks", op), [])) for op in direct.calls.operations) / submissions
    rows.append(("(all of them: one submission)", "", fmt(whole), "", ""))
    big_label = f"p50, +{work.filler:,} items" if work.filler else "(no probe)"
    run.diagnostic(
        "the floor's AWS calls as made (recorded, not listed by hand), client-side wall time per call (ms)",
        table(
            ("call", "per submission", "p50", "p90", big_label), rows, right=(False, True, True, True, True)
        ),
    )
    cpu_rows = [
        (
            side.name,
            fmt(side.per_request_ms(side.seconds)),
            fmt(side.per_request_ms(side.stack_cpu_s)),
            fmt(side.per_request_ms(side.own_cpu_s)),
        )
        for side in (gateway, floor)
    ]
    run.diagnostic(
        "where a submission's time goes: wall vs. CPU of each process, per submission "
        "(ms; /proc, 10 ms ticks summed over the blocks)",
        table(
            ("side", "wall", "CPU of press-intake local", "CPU of this process (client)"),
            cpu_rows,
            right=(False, True, True, True),
        ),
    )
    blocks = [
        (str(index + 1), fmt(g), fmt(f), fmt(g / f))
        for index, (g, f) in enumerate(zip(gateway.blocks, floor.blocks, strict=True))
    ]
    run.diagnostic(
        "req/s per block (each block starts from an empty releases table)",
        table(("block", "gateway", "floor", "ratio"), blocks, right=(True, True, True, True)),
    )
    from functions.domain.records import document_json

    document = document_json(direct.prepare(0).document)
    lines = [
        f"{work.warmup} warm-up submissions per side, then {work.blocks} blocks of {work.per_block} "
        "per side, alternating (order swapped every block), one request at a time. Before every block "
        "the releases table is emptied and the moderation queue purged (untimed), so both sides see "
        f"the same table sizes (0 to {2 * work.per_block} items).",
        f"gateway statuses: {statuses}. Request body: personnel_release() with a unique headline, "
        f"{len(GatewayClient.body(0)):,} bytes of JSON; the version document put to S3: "
        f"{len(document):,} bytes.",
        "HTTP hop rows: GET /no-such-route, which the gateway answers 404 itself (no function, no AWS), "
        f"{work.hops - 2} timed requests each, over one keep-alive connection, then over a new connection "
        "per request.",
    ]
    if work.filler:
        g, f = big
        lines.append(
            f"growth probe: {work.filler:,} copies of a real state item added to the table, then "
            f"{work.probe} submissions per side, alternating one by one: p50 gateway "
            f"{fmt(percentile(g.latencies, 50))} ms, floor {fmt(percentile(f.latencies, 50))} ms."
        )
    run.diagnostic("throughput workload", lines)


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


@benchmark(
    "local_stack", "press-intake local: launch-to-ready, POST /releases per second vs. direct AWS calls"
)
def local_stack(run: Run) -> list[Row]:
    starts = run.reps(full=5, quick=2)
    blocks = run.reps(full=4, quick=2)
    work = Workload(
        warmup=run.reps(full=16, quick=6),
        blocks=blocks,
        per_block=run.reps(full=160, quick=40) // blocks,
        filler=run.reps(full=1000, quick=0),
        probe=run.reps(full=5, quick=0),
        hops=run.reps(full=22, quick=12),
    )
    launches: list[Launch] = []
    gateway, floor = Side("gateway"), Side("floor")

    with tempfile.TemporaryDirectory(prefix="bench-local-") as scratch:
        root = Path(scratch)
        for index in range(starts - 1):
            with _launched(_fresh(root / f"launch-{index}"), launches):
                pass
        with _launched(_fresh(root / f"launch-{starts - 1}"), launches) as stack:
            _raise_demo_limits(stack)
            web = GatewayClient(stack.info)
            direct = FloorClient(stack.info)
            try:
                hop = {
                    keep_alive: http_hop_ms(stack.info, work.hops, keep_alive=keep_alive)
                    for keep_alive in (True, False)
                }
                big = _throughput(web, direct, gateway, floor, work, stack.process.pid)
            finally:
                web.close()
        phases = _phases(_fresh(root / "phases"))
        empty_s = _empty_interpreter_s()
        for bad in launches:
            if bad.exit_code != 0:
                run.diagnostic(
                    f"WARNING: a launch did not exit 0 on SIGTERM (exit {bad.exit_code}); end of its output",
                    bad.tail(),
                )
            if math.isnan(bad.banner_s):
                run.diagnostic("WARNING: no 'ready in X s' line in the output of a launch", bad.tail())

    _ready_diagnostics(run, launches, phases, empty_s)
    _throughput_diagnostics(run, gateway, floor, big, direct, work, web.statuses)
    ready = [s.ready_s for s in launches]
    p50 = {side.name: percentile(side.latencies, 50) for side in (gateway, floor, *big)}
    rows = [
        Row(f"launch -> ready, median of {starts}", median(ready), "s", Goal(READY_GOAL_S)),
        Row("launch -> ready, min", min(ready), "s"),
        Row("launch -> info file, median", median([s.info_s for s in launches]), "s"),
        Row("runner's own 'ready in X s', median", median([s.banner_s for s in launches]), "s"),
        Row("SIGTERM -> process gone, median", median([s.stop_s for s in launches]), "s"),
        Row("launches that exited 0 on SIGTERM", sum(s.exit_code == 0 for s in launches), f"of {starts}"),
        Row("gateway: submissions/s", gateway.per_second, "req/s"),
        Row("floor (same AWS calls, direct boto3): submissions/s", floor.per_second, "req/s"),
        Row(
            "ratio gateway / floor",
            gateway.per_second / floor.per_second,
            "x",
            Goal(RATIO_GOAL, at_most=False),
        ),
        Row("gateway: latency p50", p50["gateway"], "ms"),
        Row("gateway: latency p90", percentile(gateway.latencies, 90), "ms"),
        Row("floor: latency p50", p50["floor"], "ms"),
        Row("floor: latency p90", percentile(floor.latencies, 90), "ms"),
        Row("gateway - floor, p50", p50["gateway"] - p50["floor"], "ms"),
        Row("HTTP hop alone (GET -> gateway 404), keep-alive, p50", percentile(hop[True], 50), "ms"),
        Row("HTTP hop alone, new connection per request, p50", percentile(hop[False], 50), "ms"),
    ]
    if work.filler:
        per_thousand = 1000 / work.filler
        rows += [
            Row(
                f"floor p50 growth per 1,000 table items (+{work.filler:,} probe)",
                (p50["floor, bigger table"] - p50["floor"]) * per_thousand,
                "ms",
            ),
            Row(
                "gateway p50 growth per 1,000 table items",
                (p50["gateway, bigger table"] - p50["gateway"]) * per_thousand,
                "ms",
            ),
        ]
    return rows


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True)
    return path
