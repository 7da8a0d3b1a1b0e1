"""EventBridge Scheduler: one-time schedules that put a due release on the publish queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.domain.messages import PublishMessage


class EventBridgeSchedules:
    def __init__(
        self, client: Any, *, group: str, target_arn: str | None = None, role_arn: str | None = None
    ) -> None:
        self._scheduler = client
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn

    def ensure(self, name: str, *, at: datetime, zone: str, message: PublishMessage) -> None:
        if not self._target_arn or not self._role_arn:
            raise RuntimeError("creating schedules needs the target queue and the scheduler's role")
        local = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            self._scheduler.create_schedule(
                Name=name,
                GroupName=self._group,
                Description=f"Publish release {message.release_id} at its release time",
                ScheduleExpression=f"at({local})",
                ScheduleExpressionTimezone=zone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": self._target_arn, "RoleArn": self._role_arn, "Input": message.body()},
                ActionAfterCompletion="DELETE",
                State="ENABLED",
            )
        except ClientError as error:
            if error_code(error) != "ConflictException":
                raise
            # Already scheduled: the name is per release version, so it is the same schedule.

    def delete(self, name: str) -> None:
        try:
            self._scheduler.delete_schedule(Name=name, GroupName=self._group)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
