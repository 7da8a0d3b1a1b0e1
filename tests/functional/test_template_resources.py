"""The resources created locally are the ones template.yaml declares, with the same settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.bootstrap import LocalStack
from infra.template import resources_of_type
from tests.functional.conftest import template


def _tables() -> dict[str, dict[str, Any]]:
    return resources_of_type(template(), "AWS::DynamoDB::Table")


def _queues() -> dict[str, dict[str, Any]]:
    return resources_of_type(template(), "AWS::SQS::Queue")


def _buckets() -> dict[str, dict[str, Any]]:
    return resources_of_type(template(), "AWS::S3::Bucket")


@pytest.mark.parametrize("logical_id", sorted(_tables()))
def test_tables_match_the_template(stack: LocalStack, dynamodb: Any, logical_id: str) -> None:
    declared = _tables()[logical_id]["Properties"]
    table = dynamodb.describe_table(TableName=stack.ref(logical_id))["Table"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        a["AttributeName"]: a["AttributeType"] for a in declared["AttributeDefinitions"]
    }
    local_indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"])
        for i in table.get("GlobalSecondaryIndexes", [])
    }
    declared_indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"])
        for i in declared.get("GlobalSecondaryIndexes", [])
    }
    assert local_indexes == declared_indexes
    ttl = dynamodb.describe_time_to_live(TableName=stack.ref(logical_id))["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in declared:
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"
    backups = dynamodb.describe_continuous_backups(TableName=stack.ref(logical_id))[
        "ContinuousBackupsDescription"
    ]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert pitr == (
        "ENABLED"
        if declared["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        else "DISABLED"
    )


@pytest.mark.parametrize("logical_id", sorted(_queues()))
def test_queues_match_the_template(stack: LocalStack, sqs: Any, logical_id: str) -> None:
    declared = _queues()[logical_id]["Properties"]
    attributes = sqs.get_queue_attributes(QueueUrl=stack.ref(logical_id), AttributeNames=["All"])[
        "Attributes"
    ]
    for name in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize"):
        if name in declared:
            assert attributes[name] == str(declared[name]), name
    assert attributes.get("SqsManagedSseEnabled") == "true"
    if "RedrivePolicy" in declared:
        redrive = json.loads(attributes["RedrivePolicy"])
        target = declared["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert redrive["deadLetterTargetArn"] == stack.attribute(target, "Arn")
        assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]


def test_every_queue_with_consumers_has_a_dead_letter_queue() -> None:
    queues = _queues()
    targets = {
        spec["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for spec in queues.values()
        if "RedrivePolicy" in spec["Properties"]
    }
    work_queues = set(queues) - targets
    for name in work_queues:
        assert "RedrivePolicy" in queues[name]["Properties"], f"{name} has no dead-letter queue"
        assert queues[name]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    for name in targets:
        assert queues[name]["Properties"]["MessageRetentionPeriod"] == 1209600  # 14 days


@pytest.mark.parametrize("logical_id", sorted(_buckets()))
def test_buckets_are_private_and_encrypted_and_releases_are_versioned(
    stack: LocalStack, s3: Any, logical_id: str
) -> None:
    bucket = stack.ref(logical_id)
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert len(block) == 4
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    declared = _buckets()[logical_id]["Properties"].get("VersioningConfiguration", {}).get("Status")
    assert versioning == declared
    if logical_id == "ReleasesBucket":  # the submitted content; the site is derived from it
        assert versioning == "Enabled"


def test_buckets_deny_plain_http_in_the_template() -> None:
    policies = resources_of_type(template(), "AWS::S3::BucketPolicy")
    protected = {p["Properties"]["Bucket"]["Ref"] for p in policies.values() if _denies_insecure(p)}
    assert protected == set(_buckets())


def _denies_insecure(policy: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_function_environments_resolve_to_created_resources(stack: LocalStack, sqs: Any) -> None:
    env = stack.function_environment("ApiFunction")
    assert env["RELEASES_BUCKET"] == stack.ref("ReleasesBucket")
    assert env["MODERATION_QUEUE_URL"] == stack.ref("ModerationQueue")
    assert env["POWERTOOLS_SERVICE_NAME"] == "press-intake"
    sqs.get_queue_attributes(QueueUrl=env["MODERATION_QUEUE_URL"], AttributeNames=["QueueArn"])


def test_functions_have_least_privilege() -> None:
    functions = resources_of_type(template(), "AWS::Serverless::Function")
    for name, spec in functions.items():
        for policy in spec["Properties"].get("Policies", []):
            assert not isinstance(policy, str), f"{name}: managed policy {policy} is too broad"
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert all("*" not in action for action in actions), f"{name}: wildcard action"
                resources = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                assert "*" not in resources, f"{name}: wildcard resource"


def test_outputs_resolve_locally(stack: LocalStack) -> None:
    outputs = stack.outputs()
    assert outputs["ModerationQueueUrl"] == stack.ref("ModerationQueue")
    assert outputs["ReleasesTableName"] == stack.ref("ReleasesTable")
    assert outputs["ApiUrl"].startswith("https://")


def test_the_moderator_policy_grants_exactly_what_the_console_needs() -> None:
    policy = template()["Resources"]["ModeratorPolicy"]["Properties"]["PolicyDocument"]
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)
        assert statement["Resource"] != "*"
        granted.update(actions)
    assert granted == {
        "cloudformation:DescribeStacks",
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "s3:GetObject",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    }
    assert "ModeratorPolicyArn" in template()["Outputs"]
