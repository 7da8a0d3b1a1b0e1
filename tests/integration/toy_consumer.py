"""A test-only SQS consumer for the local stack: records whose body says "poison" fail."""

from __future__ import annotations

import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sqs = boto3.client("sqs")
    failures = []
    for record in event["Records"]:
        if "poison" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            sqs.send_message(QueueUrl=os.environ["TOY_DONE_QUEUE_URL"], MessageBody=record["body"])
    return {"batchItemFailures": failures}
