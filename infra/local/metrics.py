"""SQS's CloudWatch metric ``ApproximateAgeOfOldestMessage``, emulated for the local stack.

SQS publishes the age of each queue's oldest message to CloudWatch once a minute; moto does not.
This worker reads moto's queues in this process (without receiving anything, so no receive
count changes) and puts the same metric into moto's CloudWatch, where ``press-intake moderate
--status`` reads it as it does on AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.adapters.cloudwatch_sqs import NAMESPACE, OLDEST_AGE
from infra.local.sources import _Worker

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 15.0  # seconds; SQS itself publishes every 60 s


def oldest_ages(account_id: str, region: str, *, now: datetime) -> dict[str, int]:
    """Queue name -> seconds since its oldest non-deleted message was sent; 0 for an empty queue
    (as SQS reports it, so that an emptied queue's last age does not linger)."""
    from moto.sqs.models import sqs_backends

    ages: dict[str, int] = {}
    for name, queue in list(sqs_backends[account_id][region].queues.items()):
        stamps: list[Any] = [m.sent_timestamp for m in list(queue._messages)]
        sent = [int(stamp) for stamp in stamps if stamp is not None]
        ages[name] = max(0, int(now.timestamp() - min(sent) / 1000)) if sent else 0
    return ages


def publish_queue_ages(cloudwatch: Any, account_id: str, region: str, *, now: datetime) -> dict[str, int]:
    ages = oldest_ages(account_id, region, now=now)
    data = [
        {
            "MetricName": OLDEST_AGE,
            "Dimensions": [{"Name": "QueueName", "Value": name}],
            "Timestamp": now,
            "Value": float(age),
            "Unit": "Seconds",
        }
        for name, age in ages.items()
    ]
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + 20])
    return ages


class QueueAgeMetrics(_Worker):
    name = "queue-age-metrics"

    def __init__(
        self,
        cloudwatch: Any,
        *,
        account_id: str,
        region: str,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self._cloudwatch = cloudwatch
        self._account_id = account_id
        self._region = region
        self._interval = interval
        self._clock = clock

    def run_once(self) -> None:
        publish_queue_ages(self._cloudwatch, self._account_id, self._region, now=self._clock())
        self._stop.wait(self._interval)
