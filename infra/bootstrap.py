"""Create the resources ``template.yaml`` declares, against moto (in-process or its server).

Only what the pipeline needs locally is created for real (buckets, tables with their streams,
queues, topics, schedule groups, their policies, API usage plans, KMS keys, the SES
configuration set and sender identity); functions, APIs, roles and alarms are given names and ARNs
so that intrinsics referring to them resolve. Properties are translated from CloudFormation's
shape to the service API's shape, never re-declared here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from infra.template import Physical, Resolver, load_template

LOCAL_ACCOUNT = "123456789012"
ClientFactory = Callable[[str], Any]


def default_clients(service: str) -> Any:
    """boto3 clients from the environment (``AWS_ENDPOINT_URL`` points them at moto's server)."""
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]


@dataclass
class LocalStack:
    """The created stack: the resolver (names, ARNs, URLs) plus handy accessors."""

    resolver: Resolver

    @property
    def template(self) -> Mapping[str, Any]:
        return self.resolver.template

    def ref(self, logical_id: str) -> str:
        return str(self.resolver.ref(logical_id))

    def attribute(self, logical_id: str, attribute: str) -> str:
        return self.resolver.get_att(logical_id, attribute)

    def function_environment(self, logical_id: str) -> dict[str, str]:
        return self.resolver.function_environment(logical_id)

    def outputs(self) -> dict[str, str]:
        return self.resolver.outputs()

    def resources(self) -> dict[str, str]:
        """Logical id -> physical id of everything created or named."""
        return {name: physical.ref for name, physical in self.resolver.physical.items()}

    def adopt(self, renamed: Mapping[str, str]) -> None:
        """Name the resources a restore moved (an id or ARN -> the one it took) by their new ids."""
        for name, physical in list(self.resolver.physical.items()):
            self.resolver.physical[name] = Physical(
                ref=renamed.get(physical.ref, physical.ref),
                attributes={k: renamed.get(v, v) for k, v in physical.attributes.items()},
            )


def _sub_references(arg: Any) -> set[str]:
    """What ``Fn::Sub`` names: the ``${...}`` of its text, and references in its variables."""
    text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, None)
    named = {m.split(".", 1)[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text))}
    return named | _references(variables)


def _reference(key: str, arg: Any) -> set[str]:
    if key == "Ref" and isinstance(arg, str):
        return {arg.split(".", 1)[0]}  # SAM's !Ref MyApi.Stage depends on MyApi
    if key == "Fn::GetAtt":
        return {arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]}
    if key == "Fn::Sub":
        return _sub_references(arg)
    return _references(arg)


def _references(value: Any) -> set[str]:
    """The logical ids (and parameters) a template value refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            found |= _reference(key, arg)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class Bootstrapper:
    def __init__(self, clients: ClientFactory, resolver: Resolver) -> None:
        self._client_factory = clients
        self._client_cache: dict[str, Any] = {}
        self.resolver = resolver
        self._finishing: list[Callable[[], None]] = []  # steps that need every resource in place
        self._creators: dict[str, Callable[[str, dict[str, Any]], Physical]] = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::ApiGateway::UsagePlan": self._usage_plan,
            "AWS::KMS::Key": self._kms_key,
            "AWS::SES::ConfigurationSet": self._ses_configuration_set,
            "AWS::SES::EmailIdentity": self._ses_identity,
        }

    def _clients(self, service: str) -> Any:
        if service not in self._client_cache:
            self._client_cache[service] = self._client_factory(service)
        return self._client_cache[service]

    @property
    def _region(self) -> str:
        return self.resolver.region

    def _name(self, logical_id: str, limit: int = 63) -> str:
        return f"{self.resolver.stack_name}-{logical_id}"[:limit]

    def create_all(self) -> None:
        resources: dict[str, Any] = self.resolver.template["Resources"]
        graph = {
            name: {ref for ref in _references(spec) if ref in resources} for name, spec in resources.items()
        }
        for logical_id in TopologicalSorter(graph).static_order():
            spec = resources[logical_id]
            if "Condition" in spec and not self.resolver.condition(spec["Condition"]):
                continue
            creator = self._creators.get(spec["Type"], self._named_only)
            properties = self.resolver.resolve(spec.get("Properties") or {})
            self.resolver.physical[logical_id] = creator(logical_id, properties)
        for step in self._finishing:
            step()

    # -- resources that exist locally ---------------------------------------------------------------

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:
        s3 = self._clients("s3")
        name = props.get("BucketName") or self._name(logical_id).lower()
        if self._region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self._region})
        if versioning := props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        if encryption := props.get("BucketEncryption"):
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                }
                for rule in encryption["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if block := props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        if ownership := props.get("OwnershipControls"):
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=ownership)
        if lifecycle := props.get("LifecycleConfiguration"):
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]},
            )
        if cors := props.get("CorsConfiguration"):
            s3.put_bucket_cors(
                Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in cors["CorsRules"]]}
            )
        if notifications := props.get("NotificationConfiguration"):
            # moto delivers S3 event notifications to SQS queues as S3 does, so an upload triggers
            # its queue's consumer locally too.
            converted = _notification_configuration(notifications)
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=converted)
            self._drop_test_events(converted)
        if logging := props.get("LoggingConfiguration"):
            # Switched on once every resource exists: moto (unlike S3) checks that the target's
            # bucket policy lets the logging service write, and that policy names this bucket.
            # moto records the setting but delivers no logs.
            enabled = {
                "TargetBucket": logging.get("DestinationBucketName") or name,
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            }
            self._finishing.append(
                lambda: s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": enabled})
            )
        return Physical(
            ref=name,
            attributes={
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self._region}.amazonaws.com",
            },
        )

    def _drop_test_events(self, notifications: dict[str, Any]) -> None:
        """S3 (and moto) sends an ``s3:TestEvent`` to a queue when a bucket is configured to notify
        it; consumers ignore it, but a new stack's queues start empty (and a restored snapshot is
        exactly what was saved), so it is removed here."""
        sqs = self._clients("sqs")
        for entry in notifications.get("QueueConfigurations") or []:
            url = sqs.get_queue_url(QueueName=str(entry["QueueArn"]).rsplit(":", 1)[-1])["QueueUrl"]
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for message in received.get("Messages", []):
                if '"s3:TestEvent"' in message.get("Body", ""):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> Physical:
        policy = _local_policy(props["PolicyDocument"])
        if policy["Statement"]:
            self._clients("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(policy))
        return Physical(ref=self._name(logical_id))

    def _table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        ddb = self._clients("dynamodb")
        name = props.get("TableName") or self._name(logical_id, 255)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        if indexes := props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = indexes
        if stream := props.get("StreamSpecification"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if sse := props.get("SSESpecification"):
            request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
        description = ddb.create_table(**request)["TableDescription"]
        if ttl := props.get("TimeToLiveSpecification"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"],
                    "Enabled": bool(ttl["Enabled"]),
                },
            )
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Physical(ref=name, attributes=attributes)

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sqs = self._clients("sqs")
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or (self._name(logical_id, 75) + (".fifo" if fifo else ""))
        attributes = {
            key: _stringify(value) for key, value in props.items() if key not in ("QueueName", "Tags")
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sqs = self._clients("sqs")
        for url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        return Physical(ref=self._name(logical_id))

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("TopicName") or self._name(logical_id, 256)
        attributes = {}
        if key := props.get("KmsMasterKeyId"):
            attributes["KmsMasterKeyId"] = str(key)
        arn = self._clients("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return Physical(ref=arn, attributes={"TopicName": name, "TopicArn": arn})

    def _schedule_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self._name(logical_id)
        arn = self._clients("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(ref=name, attributes={"Arn": arn})

    def _usage_plan(self, logical_id: str, props: dict[str, Any]) -> Physical:
        request: dict[str, Any] = {"name": props.get("UsagePlanName") or self._name(logical_id)}
        if description := props.get("Description"):
            request["description"] = description
        request["apiStages"] = [
            {"apiId": s["ApiId"], "stage": s["Stage"]} for s in props.get("ApiStages") or []
        ]
        if throttle := props.get("Throttle"):
            request["throttle"] = {
                **({"rateLimit": float(throttle["RateLimit"])} if "RateLimit" in throttle else {}),
                **({"burstLimit": int(throttle["BurstLimit"])} if "BurstLimit" in throttle else {}),
            }
        if quota := props.get("Quota"):
            request["quota"] = {
                "limit": int(quota["Limit"]),
                "period": quota["Period"],
                **({"offset": int(quota["Offset"])} if "Offset" in quota else {}),
            }
        plan_id = self._clients("apigateway").create_usage_plan(**request)["id"]
        return Physical(ref=plan_id, attributes={"Id": plan_id})

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> Physical:
        kms = self._clients("kms")
        request: dict[str, Any] = {"Description": str(props.get("Description") or self._name(logical_id))}
        if policy := props.get("KeyPolicy"):
            request["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        if spec := props.get("KeySpec"):
            request["KeySpec"] = spec
        if usage := props.get("KeyUsage"):
            request["KeyUsage"] = usage
        metadata = kms.create_key(**request)["KeyMetadata"]
        if props.get("EnableKeyRotation") in (True, "true"):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        return Physical(
            ref=metadata["KeyId"], attributes={"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
        )

    def _ses_configuration_set(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = str(props.get("Name") or self._name(logical_id, 64))
        request: dict[str, Any] = {"ConfigurationSetName": name}
        for option in ("DeliveryOptions", "ReputationOptions", "SendingOptions", "SuppressionOptions"):
            if option in props:
                request[option] = props[option]
        self._clients("sesv2").create_configuration_set(**request)
        return Physical(ref=name)

    def _ses_identity(self, logical_id: str, props: dict[str, Any]) -> Physical:
        identity = str(props["EmailIdentity"])
        request: dict[str, Any] = {"EmailIdentity": identity}
        configuration = (props.get("ConfigurationSetAttributes") or {}).get("ConfigurationSetName")
        if configuration:
            request["ConfigurationSetName"] = configuration
        self._clients("sesv2").create_email_identity(**request)
        return Physical(ref=identity)

    # -- resources that only need a name locally ---------------------------------------------------

    def _named_only(self, logical_id: str, props: dict[str, Any]) -> Physical:  # noqa: PLR0911 - one per type
        kind = self.resolver.template["Resources"][logical_id]["Type"]
        name = str(props.get("FunctionName") or props.get("Name") or self._name(logical_id))
        prefix = f"arn:aws:{{}}:{self._region}:{LOCAL_ACCOUNT}:"
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            arn = prefix.format("lambda") + f"function:{name}"
            return Physical(ref=name, attributes={"Arn": arn})
        if kind == "AWS::Serverless::LayerVersion":
            return Physical(ref=prefix.format("lambda") + f"layer:{name}:1")
        if kind in ("AWS::IAM::Role",):
            arn = f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{name}"
            return Physical(ref=name, attributes={"Arn": arn, "RoleId": name})
        if kind == "AWS::IAM::ManagedPolicy":
            arn = f"arn:aws:iam::{LOCAL_ACCOUNT}:policy/{name}"
            return Physical(ref=arn, attributes={"PolicyArn": arn})
        if kind == "AWS::CloudFront::Distribution":
            # Not emulated: the local stack serves the site bucket itself at /site/.
            return Physical(
                ref="ELOCALSITE", attributes={"DomainName": "site.local.invalid", "Id": "ELOCALSITE"}
            )
        if kind == "AWS::CloudFront::OriginAccessControl":
            return Physical(ref="OACLOCAL", attributes={"Id": "OACLOCAL"})
        if kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            # Not emulated in moto: the local gateway (infra.apigateway) serves it. SAM's
            # generated stage is what !Ref MyApi.Stage names (usage plans refer to it).
            stage = str(props.get("StageName", "Prod"))
            return Physical(
                ref="local", attributes={"RootResourceId": "root", "Stage": stage, "Deployment": "local"}
            )
        return Physical(ref=name, attributes={"Arn": prefix.format("local") + name})


def _local_policy(document: dict[str, Any]) -> dict[str, Any]:
    """The policy minus TLS-only statements: the local endpoint is plain HTTP on loopback, and
    moto evaluates bucket policies without their conditions, so such a Deny would deny everything."""
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if "aws:SecureTransport" not in json.dumps(s.get("Condition") or {})]
    return {**document, "Statement": kept}


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's CORS rule shape -> S3 API's (``Id``/``MaxAge`` are ``ID``/``MaxAgeSeconds``)."""
    renamed = {"Id": "ID", "MaxAge": "MaxAgeSeconds"}
    converted = {renamed.get(key, key): value for key, value in rule.items()}
    if "MaxAgeSeconds" in converted:
        converted["MaxAgeSeconds"] = int(converted["MaxAgeSeconds"])
    return converted


def _notification_filter(spec: dict[str, Any] | None) -> dict[str, Any]:
    rules = ((spec or {}).get("S3Key") or {}).get("Rules") or []
    return (
        {"Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}}
        if rules
        else {}
    )


def _notification_configuration(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's bucket ``NotificationConfiguration`` -> S3 API's (queues, topics, functions)."""
    converted: dict[str, Any] = {}
    shapes = (
        ("QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "Topic", "TopicArn"),
        ("LambdaConfigurations", "Function", "LambdaFunctionArn"),
    )
    for section, target, arn_name in shapes:
        entries = config.get(section) or []
        if entries:
            converted[section] = [
                {
                    arn_name: entry[target],
                    "Events": [entry["Event"]],
                    **_notification_filter(entry.get("Filter")),
                }
                for entry in entries
            ]
    if config.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        converted["EventBridgeConfiguration"] = {}
    return converted


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> S3 API's."""
    converted: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"], "Filter": {}}
    if prefix := rule.get("Prefix"):
        converted["Filter"] = {"Prefix": prefix}
    if abort := rule.get("AbortIncompleteMultipartUpload"):
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
        }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if noncurrent := rule.get("NoncurrentVersionExpiration"):
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    if "NoncurrentVersionExpirationInDays" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])
        }
    return converted


def bootstrap(
    clients: ClientFactory,
    *,
    template: Mapping[str, Any] | None = None,
    template_path: Path | str | None = None,
    stack_name: str = "press-intake-local",
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
) -> LocalStack:
    """Create every resource of the template through ``clients`` (a boto3 client factory)."""
    resolver = Resolver(
        template=template if template is not None else load_template(template_path),
        stack_name=stack_name,
        region=region,
        account_id=LOCAL_ACCOUNT,
        parameters=dict(parameters or {}),
    )
    Bootstrapper(clients, resolver).create_all()
    return LocalStack(resolver)
