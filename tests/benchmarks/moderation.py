"""Scripted moderation on the local stack: decisions per second of ``moderate --once --max 50``
against a copy of the one-at-a-time loop it replaced, in the same run.

Method
------
One ``press-intake local`` is launched as the ``local_stack`` benchmark launches it (fresh
folder, free ports, SIGTERM at the end); its demo organisation gets limits of its own so that
submitting is never throttled. Each round submits 50 releases over HTTP (untimed), waits until
the stack is idle again (what the submissions set off handled: under a quarter of a CPU), then
one side decides all 50; then 50 more for the other side. The order of the sides swaps every
round so that drift affects both alike. Each side is a fresh interpreter started in the stack's
folder (it finds the stack from the info file, as a moderator's shell does):

* current: ``cli.main.app`` with ``moderate --once --decision reject --reason duplicate --max 50
  --wait 0 --json --moderator bench`` (the real command: up to ten messages per receive, one
  state read per decision, the batch decided in parallel, one batch delete);
* baseline: ``_BASELINE`` below, a copy of the scripted loop as it was before the moderators'
  desk (issue 14): one message per receive, the state read by triage and again by the decision,
  the release document fetched from S3, one delete per message. It is kept here, unchanged, so
  that every run measures today's code against the same yardstick.

A rejection is used rather than an approval so that the stack's publisher does no work while a
side runs (both sides write the same decision). Each child reads ``time.perf_counter()`` after
its imports and after its loop, and prints the decisions it made: "loop" figures exclude the
interpreter start and imports, "process" figures are the child's whole wall time as the parent
sees it (what a script calling the command waits for). The goal bounds the median of the
rounds' ratios of loop time (baseline / current, >= 3x): a round in which another process took
the CPU from one side only moves the median less than the sums (shown too, with the lowest and
the highest round). Five rounds (one with ``--quick``).

On a busy machine wall time mostly measures how much CPU each process gets: the CPU per decision
of the stack process (from ``/proc``) and of the side's own process are shown too, and their
ratio is the work each decision costs, which scheduling does not change. What bounds that ratio
on moto: both sides write the same decision (moto spends most of a decision's CPU checking and
applying the conditional update), and the stack's own functions then handle the same change (the stream of
the releases table, the events queue, the submitter's mail); the baseline adds a second state
read, an S3 read, a receive and a delete per message. So when both processes compete for the
CPU (a loaded machine) the wall-time ratio tends to the CPU ratio; with a CPU to spare the
current side overlaps its calls (parallel decisions, the next batch received meanwhile).
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks._core import Goal, Row, Run, benchmark, fmt, median, table
from tests.benchmarks.local_stack import (
    _fresh,
    _launched,
    _raise_demo_limits,
    child_environment,
    release_body,
)

RATIO_GOAL = 3.0
ITEMS = 50

_CURRENT = """\
import json, sys, time
import cli.main, cli.moderate
t0 = time.perf_counter()
try:
    cli.main.app(sys.argv[1:], prog_name="press-intake")
except SystemExit as stop:
    code = stop.code
t1 = time.perf_counter()
sys.stderr.write(json.dumps({"loop_s": t1 - t0, "exit": code}) + "\\n")
"""
_CURRENT_ARGS = (
    "moderate", "--once", "--decision", "reject", "--reason", "duplicate", "--max", str(ITEMS),
    "--wait", "0", "--json", "--moderator", "bench",
)  # fmt: skip

# The scripted loop before issue 14 (cli/moderate.py: open_desk, next_item, apply, _run_once),
# reduced to what --once --json runs. Do not "improve" it: it is the yardstick.
_BASELINE = """\
import json, sys, time
from datetime import UTC, datetime
import cli.main, cli.moderate
from cli.common import Options, target_from
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.s3_releases import S3ReleaseStore
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import ModerationMessage
from functions.domain.moderation import Decision, DecisionAction, ModerationService, Outcome, Result

t0 = time.perf_counter()
target = target_from(Options(local=True))
sqs = target.client("sqs")
queue_url = target.output("ModerationQueueUrl")
states = DynamoStateRepository(target.client("dynamodb"), target.output("ReleasesTableName"))
publish = SqsPublishQueue(sqs, target.output("PublishQueueUrl"))
store = S3ReleaseStore(target.client("s3"), target.output("ReleasesBucketName"))
service = ModerationService(states=states, publish=publish, clock=lambda: datetime.now(UTC))
decision = Decision(DecisionAction.REJECT, "bench", ("duplicate",), None)


def next_item():
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0, VisibilityTimeout=120,
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return None
        message = messages[0]
        try:
            claim = ModerationMessage.model_validate_json(message["Body"])
        except ValueError:
            continue
        record, skip = service.triage(claim.release_id, claim.version)
        if skip is not None or record is None:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            continue
        document = store.get_document(record.object_key)
        previous = None
        if claim.version > 1:
            key = store.version_key(
                org_id=record.org_id, release_id=claim.release_id, version=claim.version - 1
            )
            previous = store.get_document(key)
        return message["ReceiptHandle"], claim, record, document, previous


decided = 0
for _ in range(int(sys.argv[1])):
    item = next_item()
    if item is None:
        break
    receipt, claim, record, document, previous = item
    result = service.decide(claim.release_id, claim.version, decision)
    if result.done_with_message:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
    if result.outcome in (Outcome.DECIDED, Outcome.PUBLISH_DEFERRED):
        decided += 1
    print(json.dumps({"release_id": result.release_id, "outcome": result.outcome.value}))
t1 = time.perf_counter()
sys.stderr.write(json.dumps({"loop_s": t1 - t0, "exit": 0 if decided else 3}) + "\\n")
"""


@dataclass
class Side:
    name: str
    loop_s: list[float] = field(default_factory=list)
    process_s: list[float] = field(default_factory=list)
    decided: list[int] = field(default_factory=list)
    stack_cpu_s: float = 0.0  # CPU of press-intake local while this side ran (its moto server)
    own_cpu_s: float = 0.0  # CPU of the side's own process

    def cpu_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(1, sum(self.decided))

    def per_second(self, seconds: list[float]) -> float:
        return sum(self.decided) / sum(seconds) if sum(seconds) else float("nan")


def _submit(info: dict[str, Any], count: int, serial: int) -> int:
    url = info["api_url"].removeprefix("http://")
    host, _, port = url.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {info['demo_api_key']}", "Content-Type": "application/json"}
    try:
        for offset in range(count):
            body = json.dumps(release_body(serial + offset)).encode()
            connection.request("POST", "/releases", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 202:
                raise RuntimeError(f"POST /releases answered {response.status}: {answer[:300]!r}")
    finally:
        connection.close()
    return serial + count


def _stack_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _settle(
    stack_pid: int, *, idle_share: float = 0.25, window_s: float = 0.25, limit_s: float = 5.0
) -> None:
    """Wait (at least one window) until the stack uses less than ``idle_share`` of a CPU: its
    pollers have handled what the submissions set off. Idle, it uses about a tenth (its pollers'
    long polls and timers)."""
    deadline = time.perf_counter() + limit_s
    before = _stack_cpu_s(stack_pid)
    while True:
        time.sleep(window_s)
        now = _stack_cpu_s(stack_pid)
        if now - before < idle_share * window_s or time.perf_counter() > deadline:
            return
        before = now


def _run_side(side: Side, cwd: Path, stack_pid: int) -> None:
    if side.name == "current":
        command = [sys.executable, "-c", _CURRENT, *_CURRENT_ARGS]
    else:
        command = [sys.executable, "-c", _BASELINE, str(ITEMS)]
    stack_before, own_before = _stack_cpu_s(stack_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        command, cwd=cwd, env=child_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    side.process_s.append(time.perf_counter() - began)
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    side.stack_cpu_s += _stack_cpu_s(stack_pid) - stack_before
    side.own_cpu_s += (own.ru_utime - own_before.ru_utime) + (own.ru_stime - own_before.ru_stime)
    try:
        timing = json.loads(done.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError) as error:
        raise RuntimeError(f"{side.name} child failed:\n{done.stderr[-3000:]}") from error
    outcomes = [json.loads(line).get("outcome") for line in done.stdout.splitlines() if line.startswith("{")]
    side.loop_s.append(float(timing["loop_s"]))
    side.decided.append(sum(outcome == "decided" for outcome in outcomes))
    if side.decided[-1] != ITEMS:
        raise RuntimeError(f"{side.name} decided {side.decided[-1]} of {ITEMS}:\n{done.stderr[-3000:]}")


@benchmark(
    "moderation", "moderate --once --max 50: decisions per second vs. the one-at-a-time loop it replaced"
)
def moderation(run: Run) -> list[Row]:
    rounds = run.reps(full=5, quick=1)
    current, baseline = Side("current"), Side("baseline")
    launches: list[Any] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-moderation-") as scratch,
        _launched(_fresh(Path(scratch) / "stack"), launches) as stack,
    ):
        _raise_demo_limits(stack)
        serial = 0
        for index in range(rounds):
            for side in (current, baseline) if index % 2 == 0 else (baseline, current):
                serial = _submit(stack.info, ITEMS, serial)
                _settle(stack.process.pid)  # the submissions' own events handled before either side
                _run_side(side, stack.cwd, stack.process.pid)
    per_round = [
        (str(i + 1), fmt(ITEMS / c), fmt(ITEMS / b), fmt(b / c))
        for i, (c, b) in enumerate(zip(current.loop_s, baseline.loop_s, strict=True))
    ]
    run.diagnostic(
        f"decisions/s per round (loops only; {ITEMS} releases per side and round)",
        table(("round", "current", "baseline", "ratio"), per_round, right=(True, True, True, True)),
    )
    run.diagnostic(
        "CPU per decision (ms): the stack's moto server and the side's own process (imports included)",
        table(
            ("side", "stack (server)", "own process"),
            [(s.name, fmt(s.cpu_ms(s.stack_cpu_s)), fmt(s.cpu_ms(s.own_cpu_s))) for s in (current, baseline)],
            right=(False, True, True),
        ),
    )
    loop_ratio = current.per_second(current.loop_s) / baseline.per_second(baseline.loop_s)
    ratios = [b / c for c, b in zip(current.loop_s, baseline.loop_s, strict=True)]
    return [
        Row("current: decisions/s (loop)", current.per_second(current.loop_s), "1/s"),
        Row("baseline: decisions/s (loop)", baseline.per_second(baseline.loop_s), "1/s"),
        Row(
            f"ratio current / baseline, median of {rounds} rounds",
            median(ratios),
            "x",
            Goal(RATIO_GOAL, at_most=False),
        ),
        Row("ratio current / baseline, lowest round", min(ratios), "x"),
        Row("ratio current / baseline, highest round", max(ratios), "x"),
        Row("ratio current / baseline, all rounds' sums", loop_ratio, "x"),
        Row(
            "stack CPU per decision, baseline / current",
            baseline.cpu_ms(baseline.stack_cpu_s) / current.cpu_ms(current.stack_cpu_s),
            "x",
        ),
        Row("current: decisions/s (whole process)", current.per_second(current.process_s), "1/s"),
        Row("baseline: decisions/s (whole process)", baseline.per_second(baseline.process_s), "1/s"),
        Row("current: process wall time, median", median(current.process_s), "s"),
        Row("baseline: process wall time, median", median(baseline.process_s), "s"),
    ]
