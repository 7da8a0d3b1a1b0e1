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
    # As the stack's parameters (their defaults) make them: the indexes a new stack gets
    declared = stack.resolver.resolve(_tables()[logical_id]["Properties"])
    table = dynamodb.describe_table(TableName=stack.ref(logical_id))["Table"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        a["AttributeName"]: a["AttributeType"] for a in declared["AttributeDefinitions"]
    }
    local_indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table.get("GlobalSecondaryIndexes", [])
    }
    declared_indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in declared.get("GlobalSecondaryIndexes", [])
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


def _statements(statements: list[Any]) -> list[dict[str, Any]]:
    """The statements of a policy, both branches of a conditional one (``Fn::If``) included."""
    found = []
    for statement in statements:
        if set(statement) == {"Fn::If"}:
            _, when_true, when_false = statement["Fn::If"]
            found += _statements([s for s in (when_true, when_false) if s != {"Ref": "AWS::NoValue"}])
        else:
            found.append(statement)
    return found


def test_functions_have_least_privilege() -> None:
    functions = resources_of_type(template(), "AWS::Serverless::Function")
    for name, spec in functions.items():
        for policy in spec["Properties"].get("Policies", []):
            assert not isinstance(policy, str), f"{name}: managed policy {policy} is too broad"
            for statement in _statements(policy.get("Statement", [])) if isinstance(policy, dict) else []:
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


# CloudWatch's GetMetricData has no resource-level permissions: "*" is the only resource it takes.
NO_RESOURCE_LEVEL = "cloudwatch:GetMetricData"


def test_the_moderator_policy_grants_exactly_what_the_console_needs() -> None:
    policy = template()["Resources"]["ModeratorPolicy"]["Properties"]["PolicyDocument"]
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)
        if statement["Resource"] == "*":  # only what IAM authorises on no resource at all
            assert actions == [NO_RESOURCE_LEVEL], statement
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
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "cloudwatch:GetMetricData",  # the queue's oldest age (moderate --status)
    }
    assert "ModeratorPolicyArn" in template()["Outputs"]


# -- logging, headers, TLS, concurrency -------------------------------------------------------------


def test_buckets_log_access_into_the_private_logs_bucket(stack: LocalStack, s3: Any) -> None:
    logs = stack.ref("AccessLogsBucket")
    logged = (
        ("ReleasesBucket", "s3/releases/"),
        ("SiteBucket", "s3/site/"),
        ("MediaUploadsBucket", "s3/media/"),
    )
    for logical_id, prefix in logged:
        enabled = s3.get_bucket_logging(Bucket=stack.ref(logical_id))["LoggingEnabled"]
        assert (enabled["TargetBucket"], enabled["TargetPrefix"]) == (logs, prefix), logical_id
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=logs)  # no log of the log
    # only the logging service may write, only under each bucket's prefix, only for its source
    policy = stack.resolver.resolve(template()["Resources"]["AccessLogsBucketPolicy"]["Properties"])
    writers = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert {(s["Principal"]["Service"], s["Action"]) for s in writers} == {
        ("logging.s3.amazonaws.com", "s3:PutObject")
    }
    assert {(s["Resource"], s["Condition"]["ArnLike"]["aws:SourceArn"]) for s in writers} == {
        (f"arn:aws:s3:::{logs}/s3/releases/*", stack.attribute("ReleasesBucket", "Arn")),
        (f"arn:aws:s3:::{logs}/s3/site/*", stack.attribute("SiteBucket", "Arn")),
        (f"arn:aws:s3:::{logs}/s3/media/*", stack.attribute("MediaUploadsBucket", "Arn")),
    }
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012" for s in writers)
    # and the logs expire
    rules = s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]
    expiry = [r["Expiration"]["Days"] for r in rules if "Expiration" in r]
    assert expiry == [int(stack.resolver.parameters["AccessLogRetentionDays"])]


def test_every_bucket_but_the_logs_bucket_logs_its_access() -> None:
    logged = {
        name
        for name, spec in _buckets().items()
        if spec["Properties"].get("LoggingConfiguration", {}).get("DestinationBucketName")
        == {"Ref": "AccessLogsBucket"}
    }
    assert logged == set(_buckets()) - {"AccessLogsBucket"}


def test_api_access_logs_are_json_lines_with_caller_and_outcome(stack: LocalStack) -> None:
    api = template()["Resources"]["ReleasesApi"]
    setting = api["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "org": "$context.authorizer.org_id",
        "status": "$context.status",
        "latency": "$context.responseLatency",
    }.items() <= fields.items()
    assert all(isinstance(value, str) for value in fields.values())  # "-" for missing values stays JSON
    group = stack.resolver.resolve(template()["Resources"]["ApiAccessLogGroup"]["Properties"])
    assert group["RetentionInDays"] == stack.resolver.parameters["AccessLogRetentionDays"]
    # API Gateway needs the account's CloudWatch role before a stage can log
    assert api["DependsOn"] == "ApiGatewayAccount"
    account = template()["Resources"]["ApiGatewayAccount"]["Properties"]
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}


def _header_policy() -> dict[str, Any]:
    resource = template()["Resources"]["SiteResponseHeadersPolicy"]
    assert resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    return dict(resource["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"])


def test_the_site_sends_security_headers() -> None:
    behaviour = template()["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SiteResponseHeadersPolicy"}
    headers = _header_policy()
    assert all(header["Override"] is True for header in headers.values())
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in (
            d.strip() for d in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"].split(";")
        )
    }
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'none'"]
    assert set(headers) == {
        "ContentSecurityPolicy",
        "ContentTypeOptions",
        "FrameOptions",
        "ReferrerPolicy",
        "StrictTransportSecurity",
    }
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 63072000  # two years
    assert hsts["IncludeSubdomains"] is True


@pytest.fixture
def custom_domain_stack(aws: None) -> LocalStack:
    import boto3

    from infra.bootstrap import bootstrap

    return bootstrap(
        boto3.client,
        template=template(),
        stack_name="press-intake-custom",
        parameters={
            "SiteDomainName": "news.example.org",
            "SiteCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "ApiReservedConcurrency": "20",
            "OutboxSweepReservedConcurrency": "1",
        },
    )


def _distribution(stack: LocalStack) -> dict[str, Any]:
    spec = template()["Resources"]["SiteDistribution"]["Properties"]
    return dict(stack.resolver.resolve(spec)["DistributionConfig"])


def test_tls_1_2_at_least_where_a_custom_domain_is_set(
    stack: LocalStack, custom_domain_stack: LocalStack
) -> None:
    custom = _distribution(custom_domain_stack)
    assert custom["Aliases"] == ["news.example.org"]
    assert custom["ViewerCertificate"] == {
        "AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert custom_domain_stack.outputs()["SiteUrl"] == "https://news.example.org/"
    assert (
        custom_domain_stack.function_environment("PublisherFunction")["SITE_URL"]
        == "https://news.example.org/"
    )
    # without a domain: CloudFront's own certificate and name
    default = _distribution(stack)
    assert "Aliases" not in default
    assert "ViewerCertificate" not in default
    assert stack.outputs()["SiteUrl"] == "https://site.local.invalid/"


def _reserved(stack: LocalStack) -> dict[str, Any]:
    functions = resources_of_type(template(), "AWS::Serverless::Function")
    return {
        name: stack.resolver.resolve(spec["Properties"]).get("ReservedConcurrentExecutions")
        for name, spec in functions.items()
    }


def test_reserved_concurrency_is_off_by_default_and_a_parameter_per_function(
    stack: LocalStack, custom_domain_stack: LocalStack
) -> None:
    # a new account (10 concurrent executions, all unreservable) can deploy the defaults
    assert set(_reserved(stack).values()) == {None}
    assert _reserved(custom_domain_stack) == {
        "ApiFunction": "20",
        "AuthorizerFunction": None,
        "PublisherFunction": None,
        "SiteRefreshFunction": None,  # one message group: one batch at a time, nothing to reserve
        "OutboxSweepFunction": "1",
        "DeskFilesFunction": None,  # runs once per deploy: nothing to reserve
        "SiteFilesFunction": None,  # runs once per deploy
        "EventsFunction": None,
        "DeliveryFunction": None,
        "MediaVerifyFunction": None,  # its queue's MaximumConcurrency bounds it
    }


def test_every_checkov_skip_says_why() -> None:
    skips = {
        (name, skip["id"]): skip.get("comment", "")
        for name, spec in template()["Resources"].items()
        for skip in ((spec.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    }
    assert skips  # make lint runs checkov: what it does not pass is skipped here, with a reason
    for (name, check), comment in skips.items():
        assert check.startswith("CKV_"), (name, check)
        assert len(comment.split()) >= 8, f"{name} skips {check} without a real justification"
