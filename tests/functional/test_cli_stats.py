"""`press-intake stats`: the dashboard's figures, from the local stack (moto queues and table
created from template.yaml) and from a deployed stack's CloudWatch metrics (moto)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from typer.testing import CliRunner

from cli import stats
from cli.main import app
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.domain.records import ReleaseRecord
from functions.domain.states import Status
from infra.bootstrap import LocalStack
from infra.template import load_template

runner = CliRunner()


def _record(release_id: str, created: datetime, **changes: Any) -> ReleaseRecord:
    base = ReleaseRecord(
        release_id=release_id,
        org_id="org-acme",
        org_name="Acme",
        status=Status.PENDING_REVIEW,
        version=1,
        category="business",
        headline="Acme reports results",
        language="en",
        created_at=created,
        updated_at=created,
        object_key=f"orgs/org-acme/releases/{release_id}/v0001.json",
        payload_hash="h",
        content_digest=f"d-{release_id}",
    )
    return replace(base, **changes)


def _decision(at: datetime) -> dict[str, Any]:
    return {"action": "approve", "decided_at": at.isoformat(), "version": 1, "moderator": "alice"}


def test_local_stats_count_the_window_from_the_table_and_the_queues(
    local_info: Path, stack: LocalStack, dynamodb: Any, sqs: Any
) -> None:
    # Given, in the last hour: three submissions (one still waiting 20 minutes), two decisions
    # and one publication 90 s after its release_at; and one release from yesterday
    now = datetime.now(UTC)
    states = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable"))
    waiting = _record("r-wait", now - timedelta(minutes=20))
    approved = _record(
        "r-approved",
        now - timedelta(minutes=30),
        status=Status.APPROVED,
        decision=_decision(now - timedelta(minutes=5)),
        updated_at=now - timedelta(minutes=5),
    )
    release_at = now - timedelta(minutes=10)
    published = _record(
        "r-published",
        now - timedelta(minutes=40),
        status=Status.PUBLISHED,
        release_at=release_at,
        decision=_decision(now - timedelta(minutes=35)),
        published_at=release_at + timedelta(seconds=90),
        updated_at=release_at + timedelta(seconds=90),
    )
    old = _record(
        "r-old",
        now - timedelta(days=1),
        status=Status.REJECTED,
        decision=_decision(now - timedelta(hours=23)),
    )
    for record in (waiting, approved, published, old):
        states.create(record, actor="test")
    # And messages: two waiting for moderators, one dead letter on the publish side
    for _ in range(2):
        sqs.send_message(QueueUrl=stack.ref("ModerationQueue"), MessageBody="{}")
    sqs.send_message(QueueUrl=stack.ref("PublishDeadLetterQueue"), MessageBody="{}")
    # and uploads: one waiting for verification, one dead-lettered
    sqs.send_message(QueueUrl=stack.ref("MediaVerificationQueue"), MessageBody="{}")
    sqs.send_message(QueueUrl=stack.ref("MediaDeadLetterQueue"), MessageBody="{}")
    # and one site-refresh request dead-lettered (the newsroom's index waits for its redrive)
    sqs.send_message(
        QueueUrl=stack.ref("SiteRefreshDeadLetterQueue"),
        MessageBody="{}",
        MessageGroupId="site",
        MessageDeduplicationId="stats-test",
    )

    # When an operator asks for the figures of the last hour
    result = runner.invoke(app, ["stats", "--json", "--minutes", "60"])

    # Then they are what the table and the queues hold
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["window_minutes"] == 60
    assert figures["submissions_per_minute"] == round(3 / 60, 3)
    assert figures["decisions_per_minute"] == round(2 / 60, 3)
    assert figures["publications_per_minute"] == round(1 / 60, 3)
    assert figures["publication_lag_seconds"] == {"p50": 90.0, "p99": 90.0, "max": 90.0}
    moderation, publish = figures["queues"]["moderation"], figures["queues"]["publish"]
    assert (moderation["depth"], moderation["in_flight"], moderation["dead_letters"]) == (2, 0, 0)
    assert (publish["depth"], publish["dead_letters"]) == (0, 1)
    assert 20 * 60 - 5 <= moderation["oldest_seconds"] <= 20 * 60 + 60  # the waiting release
    assert 5 * 60 - 5 <= publish["oldest_seconds"] <= 5 * 60 + 60  # approved, not yet published
    media = figures["queues"]["media"]  # the media verification queue, as on the dashboard
    assert (media["depth"], media["in_flight"], media["dead_letters"]) == (1, 0, 1)
    assert media["oldest_seconds"] is None  # nothing in the state table ages an upload
    refresh = figures["queues"]["site-refresh"]  # the site refresh, as on the dashboard
    assert (refresh["depth"], refresh["in_flight"], refresh["dead_letters"]) == (0, 0, 1)
    # And what the local stack cannot count is null, and said so
    assert figures["api_5xx_per_minute"] is None
    assert any("API figures are not counted" in note for note in figures["notes"])

    # And the table form shows the same
    table = runner.invoke(app, ["stats"])
    assert table.exit_code == 0, table.output
    assert "publication lag p50 / p99 / max" in table.stdout
    assert "90 s / 90 s / 90 s" in table.stdout
    assert "media queue: waiting / in flight" in table.stdout
    assert "media dead-letter queue" in table.stdout
    assert "site-refresh dead-letter queue" in table.stdout


def test_an_empty_local_stack_has_zero_rates_and_no_lag(local_info: Path, stack: LocalStack) -> None:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["submissions_per_minute"] == 0
    assert figures["publication_lag_seconds"] == {"p50": None, "p99": None, "max": None}
    assert figures["queues"]["moderation"]["oldest_seconds"] is None


def test_deployed_stats_read_the_dashboard_metrics_from_cloudwatch(aws: None) -> None:
    # Given a deployed stack (its outputs) and metrics as the functions and AWS publish them
    region = "us-east-1"
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/demo-{}"
    outputs = {
        "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/v1",
        "ModerationQueueUrl": queue.format("ModerationQueue-AAA"),
        "ModerationDeadLetterQueueUrl": queue.format("ModerationDeadLetterQueue-BBB"),
        "PublishQueueUrl": queue.format("PublishQueue-CCC"),
        "PublishDeadLetterQueueUrl": queue.format("PublishDeadLetterQueue-DDD"),
        "EventsQueueUrl": queue.format("EventsQueue-EEE"),
        "EventsDeadLetterQueueUrl": queue.format("EventsDeadLetterQueue-FFF"),
        "MediaVerificationQueueUrl": queue.format("MediaVerificationQueue-GGG"),
        "MediaDeadLetterQueueUrl": queue.format("MediaDeadLetterQueue-HHH"),
        "SiteRefreshQueueUrl": queue.format("SiteRefreshQueue-III.fifo"),
        "SiteRefreshDeadLetterQueueUrl": queue.format("SiteRefreshDeadLetterQueue-JJJ.fifo"),
    }
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName="demo",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()},
            }
        ),
    )
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    now = datetime.now(UTC)

    def put(namespace: str, metric: str, dimensions: dict[str, str], values: list[float]) -> None:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    "Value": value,
                    "Timestamp": now - timedelta(minutes=3),
                }
                for value in values
            ],
        )

    own = {"service": "press-intake"}
    put("PressIntake", "ReleaseSubmitted", own, [1.0] * 30)
    put("PressIntake", "ReleasePublished", own, [1.0] * 6)
    put("AWS/SQS", "NumberOfMessagesDeleted", {"QueueName": "demo-ModerationQueue-AAA"}, [12.0])
    put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "demo-ModerationQueue-AAA"}, [4.0])
    put("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "demo-ModerationQueue-AAA"}, [310.0])
    put(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": "demo-PublishDeadLetterQueue-DDD"},
        [2.0],
    )
    put("AWS/ApiGateway", "5XXError", {"ApiName": "demo-api", "Stage": "v1"}, [3.0])
    media_queue, media_dead = "demo-MediaVerificationQueue-GGG", "demo-MediaDeadLetterQueue-HHH"
    put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": media_queue}, [7.0])
    put("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": media_queue}, [45.0])
    put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": media_dead}, [1.0])
    refresh_queue = "demo-SiteRefreshQueue-III.fifo"
    put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": refresh_queue}, [2.0])

    # When an operator asks the deployed stack for the last hour
    result = runner.invoke(app, ["--stack", "demo", "--region", region, "stats", "--json"])

    # Then the figures are CloudWatch's, per minute where they are rates
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["source"] == "CloudWatch, stack 'demo'"
    assert figures["submissions_per_minute"] == 0.5
    assert figures["publications_per_minute"] == 0.1
    assert figures["decisions_per_minute"] == 0.2
    assert figures["api_5xx_per_minute"] == 0.05
    assert figures["queues"]["moderation"]["depth"] == 4
    assert figures["queues"]["moderation"]["oldest_seconds"] == 310.0
    assert figures["queues"]["publish"]["dead_letters"] == 2
    assert figures["queues"]["publish"]["depth"] is None  # no datapoint: n/a, not 0
    media = figures["queues"]["media"]
    assert (media["depth"], media["oldest_seconds"], media["dead_letters"]) == (7, 45.0, 1)
    refresh = figures["queues"]["site-refresh"]
    assert (refresh["depth"], refresh["dead_letters"]) == (2, None)
    assert figures["publication_lag_seconds"]["max"] is None


def test_the_metric_names_are_those_the_template_deploys() -> None:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == stats.NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == stats.SERVICE
