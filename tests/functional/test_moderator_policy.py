"""ModeratorPolicy grants what `press-intake moderate` does and nothing more.

The policy is read from template.yaml and evaluated (tests/iam.py) against the calls the
console really makes, recorded at the boto3 boundary while it works through moto, and against
calls a moderator's credentials must not be able to make: touching a catalog, or any attribute
of a release that a decision does not write.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

import cli.moderate
from cli.main import app
from cli.target import resolve
from functions.adapters.cloudwatch_sqs import SqsMetrics
from functions.adapters.dynamodb_state import HISTORY_LIMIT, DynamoStateRepository
from functions.adapters.s3_releases import S3ReleaseStore
from functions.adapters.sqs_moderation import SqsModerationQueue
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.records import OutboxTarget
from functions.domain.states import Action
from infra.bootstrap import LocalStack
from tests.functional.conftest import template
from tests.helpers import ApiClient, personnel_release
from tests.iam import Request, allowed, dynamodb_context

runner = CliRunner()
SERVICES = ("sqs", "dynamodb", "s3", "sts", "cloudformation", "cloudwatch")
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}  # always allowed (who am I?)


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def permission(self) -> str:
        """The IAM action that authorises the call (SQS's batch calls need their single form's)."""
        return permission(self.action)


def permission(action: str) -> str:
    return action.removesuffix("Batch") if action.startswith("sqs:") else action


@pytest.fixture
def calls(local_info: Path) -> Iterator[list[Call]]:
    """Every AWS call the CLI's own clients make (the API's clients are not recorded)."""
    recorded: list[Call] = []
    target = resolve(None, True, None)
    registered = []
    for service in SERVICES:
        client = target.client(service)  # the very clients the CLI gets (cached per target)

        def record(params: dict[str, Any], model: Any, _service: str = service, **_: Any) -> None:
            recorded.append(Call(_service, model.name, copy.deepcopy(params)))

        event = f"before-parameter-build.{client.meta.service_model.service_name}"
        client.meta.events.register(event, record)
        registered.append((client, event, record))
    yield recorded
    for client, event, handler in registered:
        client.meta.events.unregister(event, handler)


def _policy(stack: LocalStack) -> dict[str, Any]:
    """The template's ModeratorPolicy with its intrinsics resolved to the created resources."""
    properties = stack.resolver.resolve(template()["Resources"]["ModeratorPolicy"]["Properties"])
    return dict(properties["PolicyDocument"])


def _arns(stack: LocalStack) -> dict[str, str]:
    """Physical name or URL -> ARN, for every created table, queue and bucket."""
    arns = {}
    for physical in stack.resolver.physical.values():
        if "Arn" in physical.attributes:
            arns[physical.ref] = physical.attributes["Arn"]
    return arns


def _request(stack: LocalStack, call: Call) -> Request:
    arns = _arns(stack)
    params = call.params
    if call.service == "dynamodb" and call.operation == "BatchGetItem":
        ((table, request),) = params["RequestItems"].items()
        keys = [key["pk"]["S"] for key in request["Keys"]]
        return Request(call.permission, arns[table], {"dynamodb:LeadingKeys": keys})
    if call.service == "dynamodb":
        return Request(call.permission, arns[params["TableName"]], dynamodb_context(params, "pk"))
    if call.service == "sqs":
        return Request(call.permission, arns[params["QueueUrl"]])
    if call.service == "s3":
        return Request(call.permission, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")
    if call.service == "cloudformation":
        return Request(call.permission, stack.resolver.ref("AWS::StackId"))
    if call.service == "cloudwatch":  # GetMetricData takes no resource but "*"
        return Request(call.permission, "*")
    raise AssertionError(f"unexpected call {call.action}")


def _submit(api: ApiClient, headline: str) -> str:
    response = api.post("/releases", personnel_release(headline=headline))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def _cli(*args: str, **kwargs: Any) -> Any:
    result = runner.invoke(app, list(args), **kwargs)
    assert result.exit_code == 0, result.output
    return result


def _moderate_everything(stack: LocalStack, api: ApiClient, dynamodb: Any) -> dict[str, str]:
    """Drive the console through every kind of work it does; returns the release ids."""
    ids = {name: _submit(api, f"Release {name} for the policy test") for name in "ABCD"}
    # approve A, reject B, send C back, skip D (re-sent; it comes back after the others), quit
    _cli("moderate", "--moderator", "dave", "--wait", "0", input="a\nr\n1\n\nc\nAdd quotes.\ns\nq\n")
    _cli("moderate", "--status", "--json")
    # C is revised: its version 1 message is stale (dropped), version 2 is decided by a script
    assert api.put(f"/releases/{ids['C']}", personnel_release(summary="Revised.")).status == 200
    stale = json.dumps({"release_id": ids["C"], "version": 1})  # delivered again, at least once
    boto3.client("sqs").send_message(QueueUrl=stack.ref("ModerationQueue"), MessageBody=stale)
    _cli("moderate", "--once", "--decision", "approve", "--max", "3", "--wait", "0", "--json")
    # A is published (by the publisher, not the moderator), then killed from the console
    repo = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable"))
    record = repo.get(ids["A"])
    assert record is not None
    repo.transition(
        ids["A"],
        Action.PUBLISH,
        org_id=record.org_id,
        expected_version=record.version,
        actor="publisher",
        now=datetime.now(UTC),
    )
    _cli("moderate", "kill", ids["A"], "--reason", "inappropriate")
    return ids


def test_every_call_the_console_makes_is_allowed(
    stack: LocalStack, api: ApiClient, dynamodb: Any, calls: list[Call]
) -> None:
    _moderate_everything(stack, api, dynamodb)
    policy = _policy(stack)
    made = {call.action for call in calls}
    # the scenario exercised every kind of work (so this test keeps its meaning)
    assert made >= {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessageBatch",
        "sqs:SendMessageBatch",  # a skip's fresh copy
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "cloudwatch:GetMetricData",
        "dynamodb:GetItem",  # a kill reads one release
        "dynamodb:BatchGetItem",  # the states of a received batch
        "dynamodb:UpdateItem",
        "s3:GetObject",
    }
    counted = {c.params["QueueUrl"] for c in calls if c.operation == "GetQueueAttributes"}
    assert counted == {stack.ref("ModerationQueue"), stack.ref("ModerationDeadLetterQueue")}
    for call in calls:
        if call.action in NEEDS_NO_PERMISSION:
            continue
        request = _request(stack, call)
        assert allowed(policy, request), f"{call.action} {call.params} is refused by ModeratorPolicy"
    decisions = [c for c in calls if c.operation == "UpdateItem" and "decision" in str(c.params)]
    assert decisions
    assert {c.params.get("ReturnValues") for c in decisions} == {"NONE"}


def test_a_decision_that_trims_a_full_history_is_allowed(
    stack: LocalStack, api: ApiClient, calls: list[Call]
) -> None:
    # Given a release whose state item holds the most history entries it keeps
    release_id = _submit(api, "A release revised many times")
    for n in range(2, HISTORY_LIMIT + 1):
        revised = personnel_release(headline=f"A release revised, take {n:02d}")
        assert api.put(f"/releases/{release_id}", revised).status == 200
    # When the console approves it (the write drops the oldest entry, on the history read)
    _cli("moderate", "--once", "--decision", "approve", "--wait", "0")
    decision = next(c for c in calls if c.operation == "UpdateItem" and ":decision" in str(c.params))
    assert "size(#history)" in decision.params["ConditionExpression"]
    # Then the moderators' policy allows that write
    assert allowed(_policy(stack), _request(stack, decision))


def _decision_call(stack: LocalStack, api: ApiClient, calls: list[Call]) -> Call:
    _submit(api, "A release to decide")
    _cli("moderate", "--once", "--decision", "approve", "--wait", "0")
    return next(c for c in calls if c.operation == "UpdateItem" and ":decision" in str(c.params))


def _with(call: Call, **changes: Any) -> Call:
    params = copy.deepcopy(call.params)
    params.update(changes)
    return Call(call.service, call.operation, params)


def test_a_moderator_may_record_decisions_on_release_state_items_only(
    stack: LocalStack, api: ApiClient, calls: list[Call]
) -> None:
    policy = _policy(stack)
    decision = _decision_call(stack, api, calls)
    assert decision.params["Key"]["pk"]["S"].startswith("release#")
    assert allowed(policy, _request(stack, decision))

    # Given the same write aimed at a catalog item: refused
    on_catalog = _with(decision, Key={"pk": {"S": "catalog#all"}})
    assert not allowed(policy, _request(stack, on_catalog))
    # Writing any attribute a decision does not write: refused
    for attribute in ("org_id", "object_key", "headline", "public_url", "published_at", "release_at"):
        names = {**decision.params["ExpressionAttributeNames"], "#x": attribute}
        values = {**decision.params["ExpressionAttributeValues"], ":x": {"S": "changed"}}
        tampered = _with(
            decision,
            UpdateExpression=decision.params["UpdateExpression"].replace("SET ", "SET #x = :x, ", 1),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        assert not allowed(policy, _request(stack, tampered)), attribute
    # Reading the whole item back: refused (it would return attributes outside the list)
    for everything in ("ALL_NEW", "ALL_OLD"):
        assert not allowed(policy, _request(stack, _with(decision, ReturnValues=everything)))
    # The old form of the write (conditioned on org_id, ALL_NEW) is refused too
    old = _with(
        decision,
        ConditionExpression="#version = :expected AND org_id = :org AND #status IN (:s0)",
    )
    assert not allowed(policy, _request(stack, old))


def test_a_moderator_cannot_read_catalogs_or_write_other_ways(
    stack: LocalStack, api: ApiClient, calls: list[Call]
) -> None:
    policy = _policy(stack)
    table = stack.attribute("ReleasesTable", "Arn")
    catalog = {"pk": {"S": "catalog#all"}}
    release = {"pk": {"S": "release#7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10"}}

    def request(action: str, **params: Any) -> Request:
        return Request(f"dynamodb:{action}", table, dynamodb_context(params, "pk"))

    assert allowed(policy, request("GetItem", Key=release))
    assert not allowed(policy, request("GetItem", Key=catalog))
    assert not allowed(policy, request("GetItem", Key={"pk": {"S": "digest#org-acme#abc"}}))
    assert not allowed(policy, request("PutItem", Item=release))
    assert not allowed(policy, request("DeleteItem", Key=release))
    for index in ("by_org_v2", "by_org_status_v2", "by_org"):
        assert not allowed(policy, Request("dynamodb:Query", f"{table}/index/{index}"))
    assert not allowed(policy, Request("dynamodb:Scan", table))
    assert not allowed(policy, Request("s3:PutObject", f"{stack.attribute('ReleasesBucket', 'Arn')}/orgs/x"))
    assert not allowed(policy, Request("s3:GetObject", f"{stack.attribute('SiteBucket', 'Arn')}/index.html"))
    # A skip re-sends a claim check to the moderation queue; nothing else is written to a queue
    assert allowed(policy, Request("sqs:SendMessage", stack.attribute("ModerationQueue", "Arn")))
    for queue in ("ModerationDeadLetterQueue", "PublishDeadLetterQueue"):
        for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"):
            assert not allowed(policy, Request(action, stack.attribute(queue, "Arn"))), (queue, action)
    assert not allowed(policy, Request("sqs:PurgeQueue", stack.attribute("ModerationQueue", "Arn")))
    assert not allowed(policy, Request("sqs:ReceiveMessage", stack.attribute("PublishQueue", "Arn")))
    assert not allowed(policy, Request("cloudwatch:PutMetricData", "*"))


# Where the console's AWS calls are written: cli/moderate.py and the adapter methods it uses.
_CONSOLE_CODE = {
    "sqs": [
        cli.moderate,
        SqsPublishQueue.send,
        SqsModerationQueue.receive,
        SqsModerationQueue.delete,
        SqsModerationQueue.hand_back,
        SqsModerationQueue.extend,
        SqsModerationQueue.counts,
    ],
    "cloudwatch": [SqsMetrics.oldest_age],
    "dynamodb": [
        DynamoStateRepository.get,
        DynamoStateRepository.transition,
        DynamoStateRepository._update,  # transition's one write
        DynamoStateRepository.clear_outbox,
    ],
    "s3": [S3ReleaseStore.get_document],
}
_CALL = {
    "sqs": re.compile(r"(?:desk\.sqs|self\._sqs)\.(\w+)\("),
    "dynamodb": re.compile(r"self\._ddb\.(\w+)\("),
    "s3": re.compile(r"self\._s3\.(\w+)\("),
    "cloudwatch": re.compile(r"self\._cloudwatch\.(\w+)\("),
}


def test_every_call_written_in_the_console_code_has_a_statement(stack: LocalStack) -> None:
    statements = _policy(stack)["Statement"]
    granted = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        granted.update(actions)
    found = set()
    for service, code in _CONSOLE_CODE.items():
        for obj in code:
            for operation in _CALL[service].findall(inspect.getsource(obj)):
                found.add(f"{service}:{''.join(part.title() for part in operation.split('_'))}")
    assert found == {
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibilityBatch",
        "sqs:DeleteMessageBatch",
        "sqs:SendMessageBatch",
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "cloudwatch:GetMetricData",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "s3:GetObject",
    }
    assert {permission(action) for action in found} <= granted


@pytest.mark.parametrize(
    ("action", "to_status", "outbox", "decision"),
    [
        (Action.APPROVE, "approved", "publish", {"action": "approve", "reason_codes": [], "version": 1}),
        (
            Action.REJECT,
            "rejected",
            None,
            {"action": "reject", "reason_codes": ["duplicate"], "note": "Seen.", "version": 1},
        ),
    ],
)
def test_a_write_without_all_new_returns_the_record_as_stored(
    stack: LocalStack,
    api: ApiClient,
    dynamodb: Any,
    action: Action,
    to_status: str,
    outbox: str | None,
    decision: Any,
) -> None:
    from datetime import UTC, datetime

    repo = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable"))
    release_id = _submit(api, "A release to decide")
    current = repo.get(release_id)
    assert current is not None

    changes: dict[str, Any] = {"decision": decision}
    if outbox is not None:
        changes["outbox"] = OutboxTarget(outbox)
    returned = repo.transition(
        release_id,
        action,
        org_id=current.org_id,
        expected_version=current.version,
        actor="moderator:alice",
        now=datetime.now(UTC),
        current=current,
        **changes,
    )

    assert returned == repo.get(release_id)
    assert (returned.status, returned.outbox, returned.decision) == (to_status, outbox, decision)


def test_each_decision_reads_the_release_state_once(
    stack: LocalStack, api: ApiClient, calls: list[Call]
) -> None:
    # Given three releases waiting
    for name in "ABC":
        _submit(api, f"Release {name} for the state reads test")
    # When a script approves them
    result = _cli("moderate", "--once", "--decision", "approve", "--max", "3", "--wait", "0", "--json")
    # Then each was decided with one read of its state item (the write is conditional anyway)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["outcome"] for line in result.stdout.splitlines()] == ["decided"] * 3
    read = [c.params["Key"]["pk"]["S"] for c in calls if c.operation == "GetItem"]
    for batch in (c.params["RequestItems"] for c in calls if c.operation == "BatchGetItem"):
        read += [key["pk"]["S"] for request in batch.values() for key in request["Keys"]]
    assert len(read) == 3
    assert len(set(read)) == 3
