"""`press-intake local` over real HTTP and the real CLI."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import personnel_release
from tests.integration.conftest import (
    REPO,
    RunningStack,
    cli_command,
    port_is_free,
    start_stack,
    stop_stack,
    wait_for,
)

PROBLEM = "application/problem+json"


def test_info_file_has_what_other_commands_need(local_stack: RunningStack) -> None:
    info = local_stack.info
    assert info["api_url"].startswith("http://127.0.0.1:")
    assert info["site_url"] == info["api_url"] + "/site/"
    assert info["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert info["region"] == "us-east-1"
    assert info["demo_api_key"].startswith("pik_")
    assert info["demo_org_id"] == "demo"
    assert {"ModerationQueueUrl", "KeysTableName", "ReleasesTableName"} <= set(info["resources"])


def test_submit_then_follow_the_status(local_stack: RunningStack) -> None:
    accepted = local_stack.request("POST", "/releases", json_body=personnel_release())
    assert accepted.status == 202, accepted.body
    location = accepted.headers["location"]
    assert location == f"{local_stack.api}/releases/{accepted.json()['id']}"

    status = local_stack.request("GET", location)

    assert status.status == 200
    assert status.json()["status"] == "pending_review"
    assert re.fullmatch(r'"1-[0-9a-f]{16}"', status.headers["etag"])  # version 1, and a digest of the view
    # And the claim check is on the moderation queue
    sqs = local_stack.aws("sqs")
    url = local_stack.info["resources"]["ModerationQueueUrl"]
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
    ]
    assert {"release_id": accepted.json()["id"], "version": 1} in bodies


def test_no_key_is_401_problem_json(local_stack: RunningStack) -> None:
    response = local_stack.request("GET", "/releases", key=None)
    assert response.status == 401
    assert response.content_type == PROBLEM
    assert response.json()["type"] == f"{local_stack.api}/problems/unauthenticated"
    # and the type resolves to a page describing the problem, for anyone
    page = local_stack.request("GET", "/problems/unauthenticated", key=None)
    assert (page.status, page.content_type) == (200, "text/html")


def test_invalid_release_is_422_problem_json(local_stack: RunningStack) -> None:
    response = local_stack.request("POST", "/releases", json_body=personnel_release(headline="short"))
    assert response.status == 422
    assert response.content_type == PROBLEM
    assert response.json()["errors"][0]["field"] == "headline"


def test_openapi_is_served_without_a_key(local_stack: RunningStack) -> None:
    response = local_stack.request("GET", "/openapi.json", key=None)
    assert response.status == 200
    assert response.json()["openapi"].startswith("3.1")


def test_over_api_gateways_limit_is_413_problem_json(local_stack: RunningStack) -> None:
    host, port = local_stack.api.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/releases")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.putheader("Authorization", f"Bearer {local_stack.key}")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("Content-Type") == PROBLEM
    assert json.loads(response.read())["status"] == 413
    connection.close()


def test_site_is_read_only(local_stack: RunningStack) -> None:
    response = local_stack.request("POST", "/site/index.html", data=b"x", key=None)
    assert response.status == 405
    assert response.content_type == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def _raw(local_stack: RunningStack, data: bytes) -> bytes:
    import socket

    host, port = local_stack.api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=3) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_the_http_edge_answers_every_method_and_bad_framing_with_problems(local_stack: RunningStack) -> None:
    trace = _raw(local_stack, b"TRACE /releases HTTP/1.1\r\nHost: local\r\n\r\n")
    assert trace.startswith(b"HTTP/1.1 405")
    assert b"application/problem+json" in trace
    unknown = _raw(local_stack, b"BREW /releases HTTP/1.1\r\nHost: local\r\n\r\n")
    assert unknown.startswith(b"HTTP/1.1 501")
    assert b"application/problem+json" in unknown
    # A negative Content-Length is refused at once: the body the server would wait for never comes
    negative = _raw(local_stack, b"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Length: -5\r\n\r\n")
    assert negative.startswith(b"HTTP/1.1 400")
    assert b"application/problem+json" in negative
    head = _raw(local_stack, b"HEAD /openapi.json HTTP/1.1\r\nHost: local\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert head.endswith(b"\r\n\r\n")  # headers, no body


def test_cli_commands_find_the_local_stack_by_themselves(local_stack: RunningStack) -> None:
    created = local_stack.cli("keys", "create", "--org", "rovers", "--name", "Rovers FC", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    assert local_stack.request("POST", "/releases", json_body=personnel_release(), key=key).status == 202
    listed = json.loads(local_stack.cli("keys", "list", "--org", "rovers", "--json").stdout)
    assert [row["org_name"] for row in listed] == ["Rovers FC"]


def test_a_flood_from_one_organisation_is_throttled_while_another_keeps_getting_2xx(
    local_stack: RunningStack,
) -> None:
    # Given one organisation allowed 1 request/s with bursts of 5, and another on the defaults
    created = local_stack.cli(
        "keys", "create", "--org", "flood", "--name", "Flood Inc", "--rate", "1", "--burst", "5", "--json"
    )
    assert created.returncode == 0, created.stderr
    flood_key = json.loads(created.stdout)["key"]
    calm_key = json.loads(
        local_stack.cli("keys", "create", "--org", "calm", "--name", "Calm", "--json").stdout
    )["key"]
    # When the first floods while the second sends now and then
    started = time.monotonic()
    flood, calm = [], []
    for index in range(20):
        flood.append(local_stack.request("GET", "/releases", key=flood_key))
        if index % 4 == 0:
            calm.append(local_stack.request("GET", "/releases", key=calm_key).status)
    elapsed = time.monotonic() - started
    # Then the flood gets its burst, then 429 problems with Retry-After; the other only 200s
    statuses = [r.status for r in flood]
    assert statuses[:5] == [200] * 5
    assert statuses.count(200) <= 5 + int(elapsed) + 1
    refused = next(r for r in flood if r.status == 429)
    assert refused.content_type == PROBLEM
    assert refused.json()["type"] == f"{local_stack.api}/problems/throttled"
    assert refused.headers["retry-after"] == "1"
    assert calm == [200] * 5


def test_a_due_one_time_schedule_fires_into_its_queue(local_stack: RunningStack) -> None:
    sqs, scheduler = local_stack.aws("sqs"), local_stack.aws("scheduler")
    url = sqs.create_queue(QueueName="schedule-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    when = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(
        Name="release-later",
        ScheduleExpression=f"at({when})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": '{"hello": "later"}',
        },
        ActionAfterCompletion="DELETE",
    )
    # Not before its time
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None

    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), 15)

    assert json.loads(messages[0]["Body"]) == {"hello": "later"}
    # ActionAfterCompletion: DELETE
    wait_for(
        lambda: "release-later" not in [s["Name"] for s in scheduler.list_schedules().get("Schedules", [])], 5
    )
    assert len(json.loads(messages[0]["Body"])) == 1
    time.sleep(1)  # it fires once: nothing more arrives
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_local_resources_match_the_template(local_stack: RunningStack) -> None:
    from infra.template import Resolver, load_template, resources_of_type

    template = load_template(REPO / "template.yaml")
    # The indexes as the template's parameters render them by default (the local stack's)
    defaults = Resolver(template=template, stack_name="press-intake-local", region="", account_id="")
    dynamodb, sqs = local_stack.aws("dynamodb"), local_stack.aws("sqs")
    for name, spec in resources_of_type(template, "AWS::DynamoDB::Table").items():
        table = dynamodb.describe_table(TableName=f"press-intake-local-{name}")["Table"]
        assert table["KeySchema"] == spec["Properties"]["KeySchema"]
        indexes = defaults.resolve(spec["Properties"].get("GlobalSecondaryIndexes", []))
        declared = {i["IndexName"] for i in indexes}
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == declared
    for name, spec in resources_of_type(template, "AWS::SQS::Queue").items():
        fifo = ".fifo" if spec["Properties"].get("FifoQueue") else ""
        url = sqs.get_queue_url(QueueName=f"press-intake-local-{name}{fifo}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize"):
            if key in spec["Properties"]:
                assert attributes[key] == str(spec["Properties"][key])
        assert ("RedrivePolicy" in attributes) == ("RedrivePolicy" in spec["Properties"])


def test_requests_and_batches_are_logged_one_line_each(local_stack: RunningStack) -> None:
    local_stack.request("GET", "/openapi.json", key=None)
    log = wait_for(
        lambda: "GET /openapi.json 200" in local_stack.log.read_text() and local_stack.log.read_text()
    )
    line = next(line for line in log.splitlines() if "GET /openapi.json 200" in line)
    assert line.rstrip().endswith("ms")


# -- a template with an SQS consumer: partial batch failures and the dead-letter queue -------------

TOY_RESOURCES = """
  ToyQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt ToyDeadLetterQueue.Arn
        maxReceiveCount: 3
  ToyDeadLetterQueue:
    Type: AWS::SQS::Queue
  ToyDoneQueue:
    Type: AWS::SQS::Queue
  ToyConsumerFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: tests.integration.toy_consumer.handler
      Environment:
        Variables:
          TOY_DONE_QUEUE_URL: !Ref ToyDoneQueue
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt ToyQueue.Arn
            BatchSize: 10
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
"""


@pytest.fixture(scope="module")
def toy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("toy")
    text = (REPO / "template.yaml").read_text()
    template = folder / "template.yaml"
    template.write_text(text.replace("\nOutputs:\n", TOY_RESOURCES + "\nOutputs:\n", 1))
    stack = start_stack(folder, "--template", str(template))
    yield stack
    assert stop_stack(stack) == 0, stack.log.read_text()


def test_a_failing_record_goes_to_the_dlq_while_its_siblings_are_deleted(toy_stack: RunningStack) -> None:
    sqs = toy_stack.aws("sqs")
    queue = sqs.get_queue_url(QueueName="press-intake-local-ToyQueue")["QueueUrl"]
    dead = sqs.get_queue_url(QueueName="press-intake-local-ToyDeadLetterQueue")["QueueUrl"]
    done = sqs.get_queue_url(QueueName="press-intake-local-ToyDoneQueue")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "1", "MessageBody": "good one"},
            {"Id": "2", "MessageBody": "poison pill"},
            {"Id": "3", "MessageBody": "good two"},
        ],
    )
    processed: list[str] = []

    def both_done() -> bool:
        for message in sqs.receive_message(QueueUrl=done, MaxNumberOfMessages=10).get("Messages", []):
            processed.append(message["Body"])
        return len(processed) >= 2

    wait_for(both_done, 20)
    assert sorted(processed) == ["good one", "good two"]  # siblings processed once and deleted
    dead_letters = wait_for(
        lambda: sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"),
        30,
    )
    assert [m["Body"] for m in dead_letters] == ["poison pill"]
    assert (
        int(dead_letters[0]["Attributes"]["ApproximateReceiveCount"]) >= 3
        if "Attributes" in dead_letters[0]
        else True
    )
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert "batch press-intake-local-ToyQueue -> ToyConsumerFunction" in toy_stack.log.read_text()


# -- process behaviour ------------------------------------------------------------------------------


def test_a_port_in_use_is_a_clear_error_and_exit_2(local_stack: RunningStack, tmp_path: Path) -> None:
    api_port, _ = local_stack.ports
    result = subprocess.run(  # noqa: S603
        [*cli_command(), "local", "--port", str(api_port), "--aws-port", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "in use" in result.stderr or "in use" in result.stdout
    result = subprocess.run(  # noqa: S603
        [*cli_command(), "local", "--port", "1", "--aws-port", str(local_stack.ports[1])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--aws-port" in result.stderr + result.stdout


def test_a_broken_template_is_a_clear_error_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  Queue:\n    Type: AWS::SNS::Topic\n"
    )
    result = subprocess.run(  # noqa: S603
        [*cli_command(), "local", "--template", str(broken)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Duplicate found 'Queue'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_sigterm_stops_everything_and_frees_the_ports(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    assert stack.request("GET", "/openapi.json", key=None).status == 200
    assert stop_stack(stack) == 0
    assert all(port_is_free(port) for port in stack.ports)
    assert not (tmp_path / ".press-intake" / "local.json").exists()


def test_it_runs_from_any_folder(tmp_path: Path) -> None:
    # Given a folder with no template in it, the installation's template is used
    stack = start_stack(tmp_path)
    try:
        assert Path(stack.info["template"]).resolve() == (REPO / "template.yaml").resolve()
    finally:
        assert stop_stack(stack) == 0
