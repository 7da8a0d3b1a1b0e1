"""SQS's own CloudWatch metrics: the age of a queue's oldest message.

``ApproximateAgeOfOldestMessage`` is not a queue attribute (``GetQueueAttributes`` has only
counts); SQS publishes it to CloudWatch (namespace ``AWS/SQS``, dimension ``QueueName``) once a
minute, so the figure read here is up to a few minutes old: ``QueueAge.as_of`` says when it was
measured. The local stack publishes the same metric from its emulated queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

NAMESPACE = "AWS/SQS"
OLDEST_AGE = "ApproximateAgeOfOldestMessage"
LOOK_BACK = timedelta(minutes=15)


@dataclass(frozen=True)
class QueueAge:
    seconds: int
    as_of: datetime  # when CloudWatch measured it


def queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


class SqsMetrics:
    def __init__(self, client: Any) -> None:
        self._cloudwatch = client

    def oldest_age(self, queue_url: str, *, now: datetime) -> QueueAge | None:
        """The latest figure of the last 15 minutes, or ``None`` when there is none (an empty
        queue publishes none on AWS after a while, and moto alone publishes nothing)."""
        response = self._cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "oldest",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": OLDEST_AGE,
                            "Dimensions": [{"Name": "QueueName", "Value": queue_name(queue_url)}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=now - LOOK_BACK,
            EndTime=now + timedelta(minutes=1),
            ScanBy="TimestampDescending",
        )
        for result in response.get("MetricDataResults", []):
            points = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
            if points:
                moment, value = points[-1]
                return QueueAge(seconds=max(0, int(value)), as_of=moment)
        return None
